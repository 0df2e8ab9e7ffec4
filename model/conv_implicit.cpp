#include "model/conv_implicit.hpp"

#include <algorithm>

#include "model/gemm.hpp"

namespace mixprec::model {

namespace {

// Padded-grid positions per sample may exceed the valid outputs by at most this factor.
constexpr double kMaxGridWaste = 1.6;  // 16 x 16 maps: 1.27, 8 x 8: 1.56, 4 x 4: 2.25 (im2col)

// Copies x (S, C, H, W) into C rows of ld floats: sample s at s * plane, interior offset
// (pad, pad), zeros around and in the margin.
void pad_into(const float* x, int channels, int samples, int h, int w, int pad, int wp,
              std::int64_t plane, std::int64_t ld, std::vector<float>& out) {
  out.assign(size_t(std::int64_t(channels) * ld), 0.0f);
  for (int s = 0; s < samples; ++s)
    for (int c = 0; c < channels; ++c) {
      const float* src = x + (std::int64_t(s) * channels + c) * h * w;
      float* dst = out.data() + c * ld + s * plane + std::int64_t(pad) * wp + pad;
      for (int y = 0; y < h; ++y) std::copy_n(src + std::int64_t(y) * w, w, dst + std::int64_t(y) * wp);
    }
}

}  // namespace

bool ImplicitConv::applies(const Conv2dOptions& o, const Dims& in) {
  if (o.stride != 1 || o.groups != 1 || o.kernel_h != o.kernel_w || o.kernel_h != 2 * o.padding + 1)
    return false;
  const double grid = double(in.h + 2 * o.padding) * (in.w + 2 * o.padding);
  return grid <= kMaxGridWaste * double(in.h) * in.w;
}

ImplicitConv::Grid ImplicitConv::grid_of(const Conv2dOptions& o, const Dims& in) {
  Grid g;
  g.h = in.h;
  g.w = in.w;
  g.pad = o.padding;
  g.k = o.kernel_h;
  g.hp = in.h + 2 * o.padding;
  g.wp = in.w + 2 * o.padding;
  g.samples = in.n;
  g.plane = std::int64_t(g.hp) * g.wp;
  g.n = g.plane * in.n;
  // The largest tap offset read past the last position.
  g.ld = g.n + std::int64_t(g.k - 1) * g.wp + (g.k - 1);
  return g;
}

void ImplicitConv::make_rows(const float* base, int channels, std::vector<const float*>& rows) const {
  rows.clear();
  for (int c = 0; c < channels; ++c)
    for (int ky = 0; ky < g_.k; ++ky)
      for (int kx = 0; kx < g_.k; ++kx)
        rows.push_back(base + c * g_.ld + std::int64_t(ky) * g_.wp + kx);
}

void ImplicitConv::forward(const Conv2dOptions& o, const Tensor& x, const float* w, Tensor& y) {
  in_ = x.dims();
  g_ = grid_of(o, in_);
  const int cin = o.in_channels, cout = o.out_channels;
  pad_into(x.data(), cin, g_.samples, g_.h, g_.w, g_.pad, g_.wp, g_.plane, g_.ld, xpad_);
  make_rows(xpad_.data(), cin, rows_);
  const std::int64_t kdim = std::int64_t(cin) * g_.k * g_.k;
  grid_.resize(size_t(std::int64_t(cout) * g_.n));
  sgemm_rows(cout, g_.n, kdim, w, kdim, rows_.data(), 0.0f, grid_.data(), g_.n);
  // Valid outputs: grid position s P + oy wp + ox, oy < h, ox < w.
  y.resize(Dims{in_.n, cout, g_.h, g_.w});
  for (int s = 0; s < g_.samples; ++s)
    for (int co = 0; co < cout; ++co) {
      const float* src = grid_.data() + co * g_.n + s * g_.plane;
      float* dst = y.data() + (std::int64_t(s) * cout + co) * g_.h * g_.w;
      for (int oy = 0; oy < g_.h; ++oy)
        std::copy_n(src + std::int64_t(oy) * g_.wp, g_.w, dst + std::int64_t(oy) * g_.w);
    }
}

void ImplicitConv::backward(const Conv2dOptions& o, const Tensor& dy, const float* w, float* dw,
                            Tensor* dx) {
  const int cin = o.in_channels, cout = o.out_channels, k = g_.k;
  MIXPREC_CHECK(dy.dims() == (Dims{in_.n, cout, g_.h, g_.w}), "implicit conv: dy dims");
  const std::int64_t kdim = std::int64_t(cin) * k * k;
  // dY on the grid, top-left aligned with the forward's output positions; zeros elsewhere.
  dygrid_.assign(size_t(std::int64_t(cout) * g_.n), 0.0f);
  for (int s = 0; s < g_.samples; ++s)
    for (int co = 0; co < cout; ++co) {
      const float* src = dy.data() + (std::int64_t(s) * cout + co) * g_.h * g_.w;
      float* dst = dygrid_.data() + co * g_.n + s * g_.plane;
      for (int oy = 0; oy < g_.h; ++oy)
        std::copy_n(src + std::int64_t(oy) * g_.w, g_.w, dst + std::int64_t(oy) * g_.wp);
    }
  // dW (cout x cin k k) += dY_grid * rows(X_grid)^T
  make_rows(xpad_.data(), cin, rows_);
  sgemm_nt_rows(cout, kdim, g_.n, dygrid_.data(), g_.n, rows_.data(), 1.0f, dw, kdim);
  if (!dx) return;
  // dX = conv(dY padded, W'), W'[ci][co, ky', kx'] = W[co][ci][k-1-ky'][k-1-kx'].
  pad_into(dy.data(), cout, g_.samples, g_.h, g_.w, g_.pad, g_.wp, g_.plane, g_.ld, dypad_);
  const std::int64_t kt = std::int64_t(cout) * k * k;
  wt_.resize(size_t(std::int64_t(cin) * kt));
  for (int co = 0; co < cout; ++co)
    for (int ci = 0; ci < cin; ++ci)
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx)
          wt_[size_t(ci * kt + (std::int64_t(co) * k + (k - 1 - ky)) * k + (k - 1 - kx))] =
              w[((std::int64_t(co) * cin + ci) * k + ky) * k + kx];
  make_rows(dypad_.data(), cout, rows_);
  grid_.resize(size_t(std::int64_t(cin) * g_.n));
  sgemm_rows(cin, g_.n, kt, wt_.data(), kt, rows_.data(), 0.0f, grid_.data(), g_.n);
  dx->resize(in_);
  for (int s = 0; s < g_.samples; ++s)
    for (int ci = 0; ci < cin; ++ci) {
      const float* src = grid_.data() + ci * g_.n + s * g_.plane;
      float* dst = dx->data() + (std::int64_t(s) * cin + ci) * g_.h * g_.w;
      for (int y = 0; y < g_.h; ++y)
        std::copy_n(src + std::int64_t(y) * g_.wp, g_.w, dst + std::int64_t(y) * g_.w);
    }
}

}  // namespace mixprec::model
