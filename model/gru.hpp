// One GRU layer (Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder",
// EMNLP 2014), uni- or bidirectional, trained by backpropagation through time.
//
//   r = sigmoid(x W_ir^T + b_r + h W_hr^T),   z = sigmoid(x W_iz^T + b_z + h W_hz^T)
//   linear_before_reset (PyTorch; ONNX linear_before_reset = 1):
//     n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
//   otherwise (ONNX's default):
//     n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)
//   h' = (1 - z) * n + z * h,   h_{-1} = 0
//
// Gate order r, z, n as PyTorch; b_r and b_z hold the input- and hidden-side biases summed.
// Input, output and the directions' layout are the LSTM's (model/lstm.hpp): (batch, steps,
// input_size, 1) in, (batch, steps, D*hidden, 1) or the final states (batch, D*hidden, 1, 1)
// out, the reverse direction in features [hidden, 2*hidden).
//
// Quantization-aware training: with int/float weight specs the layer computes with Q(W_ih) and
// Q(W_hh) (per output row, straight-through gradients to the fp32 masters it keeps as its
// parameters), like QuantLstm's weights; the input is quantized by the graph's input quantizer.
#pragma once
#include <memory>

#include "model/layer.hpp"
#include "model/quant.hpp"

namespace mixprec::model {

struct GruOptions {
  int input_size = 0, hidden = 0;
  bool bidirectional = false;
  bool return_sequences = false;
  bool linear_before_reset = true;
  bool reverse = false;  // one direction reading the steps last to first (as LstmOptions)
  QuantSpec weight, recurrent_weight;  // identity (fp32) unless quantization-aware
  RangeMethod range = RangeMethod::RunningMinMax;
};

class Gru final : public UnaryLayer {
 public:
  Gru(std::string name, const GruOptions& opt);
  ~Gru() override;
  const char* kind() const override { return "gru"; }
  Dims output_dims(const Dims& in) const override;
  // Per direction: weight_ih (3H, F), weight_hh (3H, H), bias (3H), bias_hn (H); the reverse
  // direction's names end in "_reverse" (+ quantizer steps with LSQ).
  std::vector<Param*> params() override;
  // Xavier uniform for W_ih and W_hh, biases 0.
  void init(std::mt19937_64& rng) override;

  const GruOptions& options() const { return opt_; }
  int directions() const { return opt_.bidirectional ? 2 : 1; }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  struct Direction;
  int steps_of(const Dims& in) const;
  void forward_direction(Direction& d, bool reverse);
  void backward_direction(Direction& d, bool reverse, const Tensor& dy, bool need_dx);

  GruOptions opt_;
  std::unique_ptr<Direction> dir_[2];
  Dims in_dims_;
  int batch_ = 0, steps_ = 0;
  RowMatrix xt_, dxt_;  // input and its gradient, time-major (row t*batch + b)
};

}  // namespace mixprec::model
