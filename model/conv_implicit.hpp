// Implicit-GEMM convolution for the common case of Conv2d: square kernel k = 2p + 1 with
// "same" padding p, stride 1, one group. No im2col matrix is built.
//
// The input is copied once into a zero-padded grid: channel c is one row of n = S * P floats
// (S samples, P = (H + 2p)(W + 2p) per sample, plus a zero margin). Output position
// j = s P + oy (W + 2p) + ox reads input j + ky (W + 2p) + kx for tap (ky, kx), so row
// (c, ky, kx) of the implicit im2col matrix is the grid row c shifted by a constant: GEMM
// operands given by row pointers (sgemm_rows / sgemm_nt_rows). The output is computed on the
// whole grid (the outputs at padding positions, a fraction 1 - HW/P, are discarded), so the
// path is used only where that waste is small (P <= 1.6 HW: 3 x 3 kernels on maps of 8 x 8 and
// up; measured against im2col on the benchmark network).
//
//   forward:        Y_grid  = W (cout x cin k k) * rows(X_grid)
//   weight grad:    dW     += dY_grid * rows(X_grid)^T       (dY on the grid, zeros elsewhere:
//                                                              the padded dY shifted by (p, p))
//   input grad:     dX_grid = W' * rows(dY_padded)           (W' = W transposed per tap and
//                                                              flipped: the backward pass of a
//                                                              same-padded stride-1 convolution
//                                                              is the same kind of convolution)
#pragma once
#include <cstdint>
#include <vector>

#include "model/conv2d.hpp"

namespace mixprec::model {

class ImplicitConv {
 public:
  static bool applies(const Conv2dOptions& o, const Dims& in);
  // y = conv(x, w), no bias; caches the padded input for backward.
  void forward(const Conv2dOptions& o, const Tensor& x, const float* w, Tensor& y);
  // dw += dW; dx (if not null) = dX. Uses the cache of the last forward.
  void backward(const Conv2dOptions& o, const Tensor& dy, const float* w, float* dw, Tensor* dx);

 private:
  struct Grid {
    int h = 0, w = 0, pad = 0, k = 0, hp = 0, wp = 0, samples = 0;
    std::int64_t plane = 0, n = 0, ld = 0;
  };
  static Grid grid_of(const Conv2dOptions& o, const Dims& in);
  // Rows (c, ky, kx) of the implicit im2col matrix over a padded array of `channels` rows.
  void make_rows(const float* base, int channels, std::vector<const float*>& rows) const;

  Dims in_;
  Grid g_;
  std::vector<float> xpad_;   // cin rows of ld floats
  std::vector<float> grid_;   // cout (forward) / cin (backward) rows of n floats
  std::vector<float> dypad_, wt_;
  std::vector<const float*> rows_;
};

}  // namespace mixprec::model
