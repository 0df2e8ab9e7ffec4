#include "model/reference.hpp"

#include <cmath>
#include <vector>

namespace mixprec::model::reference {

void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dOptions& o,
            Tensor& y) {
  const Dims in = x.dims();
  const int ho = (in.h + 2 * o.padding - o.kernel_h) / o.stride + 1;
  const int wo = (in.w + 2 * o.padding - o.kernel_w) / o.stride + 1;
  const int cin_g = o.in_channels / o.groups, cout_g = o.out_channels / o.groups;
  y.resize(in.n, o.out_channels, ho, wo);
  for (int n = 0; n < in.n; ++n)
    for (int co = 0; co < o.out_channels; ++co) {
      const int grp = co / cout_g;
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) {
          double acc = bias ? (*bias)[co] : 0.0;
          for (int ci = 0; ci < cin_g; ++ci)
            for (int ky = 0; ky < o.kernel_h; ++ky)
              for (int kx = 0; kx < o.kernel_w; ++kx) {
                const int iy = oy * o.stride - o.padding + ky;
                const int ix = ox * o.stride - o.padding + kx;
                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                acc += double(w.at(co, ci, ky, kx)) * x.at(n, grp * cin_g + ci, iy, ix);
              }
          y.at(n, co, oy, ox) = float(acc);
        }
    }
}

void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const int out = w.n(), in = w.c();
  const std::int64_t rows = x.size() / in;
  if (x.dims().per_sample() == in)
    y.resize(x.n(), out, 1, 1);
  else
    y.resize(x.n(), x.c(), out, 1);
  for (std::int64_t r = 0; r < rows; ++r)
    for (int o = 0; o < out; ++o) {
      double acc = bias ? (*bias)[o] : 0.0;
      for (int i = 0; i < in; ++i) acc += double(w[std::int64_t(o) * in + i]) * x[r * in + i];
      y[r * out + o] = float(acc);
    }
}

void lstm_cell(const float* x, const float* h_prev, const float* c_prev, const Tensor& w_ih,
               const Tensor& w_hh, const Tensor* bias, int input_size, int hidden, float* h,
               float* c) {
  const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  std::vector<double> a(size_t(4 * hidden));
  for (int r = 0; r < 4 * hidden; ++r) {
    double acc = bias ? (*bias)[r] : 0.0;
    for (int k = 0; k < input_size; ++k)
      acc += double(w_ih[std::int64_t(r) * input_size + k]) * x[k];
    for (int k = 0; k < hidden; ++k) acc += double(w_hh[std::int64_t(r) * hidden + k]) * h_prev[k];
    a[size_t(r)] = acc;
  }
  for (int j = 0; j < hidden; ++j) {
    const double i = sigmoid(a[size_t(j)]);
    const double f = sigmoid(a[size_t(hidden + j)]);
    const double g = std::tanh(a[size_t(2 * hidden + j)]);
    const double o = sigmoid(a[size_t(3 * hidden + j)]);
    const double cn = f * c_prev[j] + i * g;
    c[j] = float(cn);
    h[j] = float(o * std::tanh(cn));
  }
}

void lstm(const Tensor& x, const LstmOptions& o, const LstmWeights& forward,
          const LstmWeights* reverse, Tensor& y) {
  const int B = x.n(), F = o.input_size, H = o.hidden;
  const int T = int(x.dims().per_sample() / F);
  const int D = reverse ? 2 : 1;
  if (o.return_sequences)
    y.resize(B, T, D * H, 1);
  else
    y.resize(B, D * H, 1, 1);
  for (int d = 0; d < D; ++d) {
    const LstmWeights& wt = d == 0 ? forward : *reverse;
    for (int b = 0; b < B; ++b) {
      std::vector<float> h(size_t(H), 0.0f), c(size_t(H), 0.0f), hn(size_t(H), 0.0f),
          cn(size_t(H), 0.0f);
      for (int k = 0; k < T; ++k) {
        const int t = d == 0 ? k : T - 1 - k;
        lstm_cell(x.data() + (std::int64_t(b) * T + t) * F, h.data(), c.data(), *wt.w_ih, *wt.w_hh,
                  wt.bias, F, H, hn.data(), cn.data());
        h.swap(hn);
        c.swap(cn);
        if (o.return_sequences)
          for (int j = 0; j < H; ++j)
            y[(std::int64_t(b) * T + t) * D * H + d * H + j] = h[size_t(j)];
      }
      if (!o.return_sequences)
        for (int j = 0; j < H; ++j) y[std::int64_t(b) * D * H + d * H + j] = h[size_t(j)];
    }
  }
}

}  // namespace mixprec::model::reference
