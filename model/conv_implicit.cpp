#include "model/conv_implicit.hpp"

#include <algorithm>

#include "model/gemm.hpp"

namespace mixprec::model {

namespace {

// Padded-grid positions per sample may exceed the valid outputs by at most this factor.
constexpr double kMaxGridWaste = 1.6;  // 16 x 16 maps: 1.27, 8 x 8: 1.56, 4 x 4: 2.25 (im2col)

// Copies x (S, C, H, W) into C rows of ld floats: sample s at s * plane, interior offset
// (pad, pad), zeros around and in the margin. Every float is written once; rows are short, so
// plain loops (no memcpy call per row).
void pad_into(const float* x, int channels, int samples, int h, int w, int pad, int wp,
              std::int64_t plane, std::int64_t ld, std::vector<float>& out) {
  out.resize(size_t(std::int64_t(channels) * ld));
  const int hp = h + 2 * pad;
  for (int c = 0; c < channels; ++c) {
    float* row = out.data() + c * ld;
    for (int s = 0; s < samples; ++s) {
      const float* src = x + (std::int64_t(s) * channels + c) * h * w;
      float* dst = row + s * plane;
      for (std::int64_t i = 0; i < std::int64_t(pad) * wp; ++i) dst[i] = 0.0f;
      for (int y = 0; y < h; ++y) {
        float* __restrict d = dst + std::int64_t(y + pad) * wp;
        const float* __restrict sr = src + std::int64_t(y) * w;
        for (int i = 0; i < pad; ++i) d[i] = 0.0f;
        for (int i = 0; i < w; ++i) d[pad + i] = sr[i];
        for (int i = pad + w; i < wp; ++i) d[i] = 0.0f;
      }
      for (std::int64_t i = std::int64_t(pad + h) * wp; i < std::int64_t(hp) * wp; ++i) dst[i] = 0.0f;
    }
    for (std::int64_t i = plane * samples; i < ld; ++i) row[i] = 0.0f;
  }
}

// Rows of w floats between a grid (row stride wp) and a dense (S, C, H, W) tensor.
void grid_to_dense(const float* grid, std::int64_t n, int channels, int samples, int h, int w,
                   int wp, std::int64_t plane, float* dense) {
  for (int s = 0; s < samples; ++s)
    for (int c = 0; c < channels; ++c) {
      const float* src = grid + c * n + s * plane;
      float* dst = dense + (std::int64_t(s) * channels + c) * h * w;
      for (int y = 0; y < h; ++y) {
        const float* __restrict sr = src + std::int64_t(y) * wp;
        float* __restrict d = dst + std::int64_t(y) * w;
        for (int i = 0; i < w; ++i) d[i] = sr[i];
      }
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
  grid_to_dense(grid_.data(), g_.n, cout, g_.samples, g_.h, g_.w, g_.wp, g_.plane, y.data());
}

void ImplicitConv::backward(const Conv2dOptions& o, const Tensor& dy, const float* w, float* dw,
                            Tensor* dx) {
  const int cin = o.in_channels, cout = o.out_channels, k = g_.k;
  MIXPREC_CHECK(dy.dims() == (Dims{in_.n, cout, g_.h, g_.w}), "implicit conv: dy dims");
  const std::int64_t kdim = std::int64_t(cin) * k * k;
  // dY on the grid, top-left aligned with the forward's output positions; zeros elsewhere (the
  // padded layout shifted back by (pad, pad): build it by padding into the tail of a buffer
  // and pointing pad rows + pad columns into it).
  pad_into(dy.data(), cout, g_.samples, g_.h, g_.w, g_.pad, g_.wp, g_.plane, g_.ld, dypad_);
  const std::int64_t shift = std::int64_t(g_.pad) * g_.wp + g_.pad;
  // dW (cout x cin k k) += dY_grid * rows(X_grid)^T
  // dW[co][q] = sum_j dYgrid[co][j] Xrow_q[j], with dYgrid[co][j] = dYpad[co][j + shift]:
  // grid positions past the valid outputs read the zero padding, as they must. Rows of dYpad
  // are ld long, so j + shift < n + shift <= ld stays inside.
  make_rows(xpad_.data(), cin, rows_);
  sgemm_nt_rows(cout, kdim, g_.n, dypad_.data() + shift, g_.ld, rows_.data(), 1.0f, dw, kdim);
  if (!dx) return;
  // dX = conv(dY padded, W'), W'[ci][co, ky', kx'] = W[co][ci][k-1-ky'][k-1-kx'].
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
  grid_to_dense(grid_.data(), g_.n, cin, g_.samples, g_.h, g_.w, g_.wp, g_.plane, dx->data());
}

}  // namespace mixprec::model
