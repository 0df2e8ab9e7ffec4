// Scalar reference kernels: plain loops with double accumulation, written for obviousness, not
// speed. Tests hold the fast layers (Conv2d, Linear, Lstm) to these.
#pragma once
#include "model/conv2d.hpp"
#include "model/lstm.hpp"
#include "model/tensor.hpp"

namespace mixprec::model::reference {

// y = conv(x, w) + b; w (out, in/groups, kh, kw); bias may be null.
void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dOptions& o,
            Tensor& y);

// y[r] = W x[r] + b for each row r of in_features values; w (out, in); bias may be null.
// Output dims follow Linear::output_dims.
void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y);

// One LSTM step for one sample: gates [i f g o] = W_ih x + W_hh h_prev + b (bias may be null);
// c = f c_prev + i g; h = o tanh(c).
void lstm_cell(const float* x, const float* h_prev, const float* c_prev, const Tensor& w_ih,
               const Tensor& w_hh, const Tensor* bias, int input_size, int hidden, float* h,
               float* c);

struct LstmWeights {
  const Tensor* w_ih;
  const Tensor* w_hh;
  const Tensor* bias;  // may be null
};

// A whole (bi)directional LSTM layer by repeated lstm_cell; same output layout as Lstm.
void lstm(const Tensor& x, const LstmOptions& o, const LstmWeights& forward,
          const LstmWeights* reverse, Tensor& y);

}  // namespace mixprec::model::reference
