#include "model/int_eval.hpp"

#include <algorithm>
#include <cmath>

namespace mixprec::model {

const char* to_string(AccumulatorOverflow o) {
  return o == AccumulatorOverflow::Wrap ? "wrap" : "saturate";
}

int ceil_log2(std::int64_t k) {
  int b = 0;
  while ((std::int64_t(1) << b) < k) ++b;
  return b;
}

int accumulator_bits(int explicit_bits, int weight_bits, int activation_bits, std::int64_t k) {
  if (explicit_bits > 0) return explicit_bits;
  return weight_bits + activation_bits + ceil_log2(k);
}

std::int64_t apply_accumulator(std::int64_t exact, int bits, AccumulatorOverflow o) {
  if (bits >= 64) return exact;
  MIXPREC_CHECK(bits >= 2, "accumulator narrower than 2 bits");
  const std::int64_t hi = (std::int64_t(1) << (bits - 1)) - 1, lo = -hi - 1;
  if (o == AccumulatorOverflow::Saturate) return std::min(std::max(exact, lo), hi);
  // Two's-complement wrap: keep the low `bits` bits, sign-extend.
  const std::uint64_t mask = (std::uint64_t(1) << bits) - 1;
  std::uint64_t u = std::uint64_t(exact) & mask;
  if (u & (std::uint64_t(1) << (bits - 1))) u |= ~mask;
  return std::int64_t(u);
}

namespace {

using IntMat32 = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using IntMat64 = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Exact bits any sum of k products needs (the derived width).
int exact_bits(const IntGemmSpec& s, std::int64_t k) {
  return s.weight_bits + s.activation_bits + ceil_log2(k);
}

// out (m x n) = a (m x k) * b (k x n), exact, then the overflow policy.
template <class Mat>
void gemm_exact(const float* a, const float* b, std::int64_t m, std::int64_t k, std::int64_t n,
                const IntGemmSpec& s, std::int64_t* out) {
  using Scalar = typename Mat::Scalar;
  const Mat A = Eigen::Map<const RowMatrix>(a, m, k).cast<Scalar>();
  const Mat B = Eigen::Map<const RowMatrix>(b, k, n).cast<Scalar>();
  const Mat C = A * B;
  for (std::int64_t i = 0; i < m * n; ++i)
    out[i] = apply_accumulator(std::int64_t(C.data()[i]), s.acc_bits, s.overflow);
}

// Integer GEMMs on the floating-point units: every product and every partial sum of integers
// below 2^24 (float) or 2^53 (double) in magnitude is exact, so the result is the integer
// result bit for bit, at vectorized floating-point speed (Eigen's integer GEMM is scalar on
// baseline x86-64). Bound: k products of |w| <= 2^(wb-1) and |x| <= 2^xb (signed weights;
// activations signed or unsigned).
void gemm(const float* a, const float* b, std::int64_t m, std::int64_t k, std::int64_t n,
          const IntGemmSpec& s, std::int64_t* out) {
  const double bound = double(k) * std::ldexp(1.0, s.weight_bits - 1) * std::ldexp(1.0, s.activation_bits);
  if (bound <= std::ldexp(1.0, 24))
    gemm_exact<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a, b, m, k, n, s, out);
  else if (bound <= std::ldexp(1.0, 53))
    gemm_exact<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a, b, m, k, n, s, out);
  else if (exact_bits(s, k) <= 31)
    gemm_exact<IntMat32>(a, b, m, k, n, s, out);
  else
    gemm_exact<IntMat64>(a, b, m, k, n, s, out);
}

}  // namespace

void int_conv2d(const Tensor& qx, const Tensor& qw, const Conv2dOptions& o, const IntGemmSpec& s,
                std::vector<std::int64_t>& acc, Dims& out_dims) {
  const Dims in = qx.dims();
  MIXPREC_CHECK(in.c == o.in_channels, "int_conv2d: channels");
  const int ho = (in.h + 2 * o.padding - o.kernel_h) / o.stride + 1;
  const int wo = (in.w + 2 * o.padding - o.kernel_w) / o.stride + 1;
  out_dims = Dims{in.n, o.out_channels, ho, wo};
  const int cin_g = o.in_channels / o.groups, cout_g = o.out_channels / o.groups;
  const std::int64_t k = std::int64_t(cin_g) * o.kernel_h * o.kernel_w;
  const std::int64_t hw = std::int64_t(ho) * wo;
  acc.assign(size_t(out_dims.count()), 0);
  std::vector<float> col(size_t(k * hw));
  std::vector<std::int64_t> part(size_t(cout_g * hw));
  for (int n = 0; n < in.n; ++n) {
    for (int g = 0; g < o.groups; ++g) {
      // im2col of this sample and group: rows (c, ky, kx), columns output pixels; zero padding.
      std::int64_t row = 0;
      for (int c = g * cin_g; c < (g + 1) * cin_g; ++c)
        for (int ky = 0; ky < o.kernel_h; ++ky)
          for (int kx = 0; kx < o.kernel_w; ++kx, ++row)
            for (int oy = 0; oy < ho; ++oy)
              for (int ox = 0; ox < wo; ++ox) {
                const int iy = oy * o.stride - o.padding + ky, ix = ox * o.stride - o.padding + kx;
                const bool inside = iy >= 0 && iy < in.h && ix >= 0 && ix < in.w;
                col[size_t(row * hw + oy * wo + ox)] = inside ? qx.at(n, c, iy, ix) : 0.0f;
              }
      gemm(qw.data() + std::int64_t(g) * cout_g * k, col.data(), cout_g, k, hw, s, part.data());
      std::copy(part.begin(), part.end(),
                acc.begin() + (std::int64_t(n) * o.out_channels + g * cout_g) * hw);
    }
  }
}

void int_linear(const Tensor& qx, const Tensor& qw, const IntGemmSpec& s,
                std::vector<std::int64_t>& acc) {
  const std::int64_t out = qw.n(), in = qw.dims().per_sample();
  MIXPREC_CHECK(in > 0 && qx.size() % in == 0, "int_linear: input size");
  const std::int64_t rows = qx.size() / in;
  // acc^T (out x rows) = W (out x in) * X^T: transpose X into a (in x rows) buffer.
  std::vector<float> xt(size_t(in * rows));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < in; ++i) xt[size_t(i * rows + r)] = qx[r * in + i];
  std::vector<std::int64_t> t(size_t(out * rows));
  gemm(qw.data(), xt.data(), out, in, rows, s, t.data());
  acc.resize(size_t(rows * out));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < out; ++o) acc[size_t(r * out + o)] = t[size_t(o * rows + r)];
}

namespace reference {

void int_conv2d(const Tensor& qx, const Tensor& qw, const Conv2dOptions& o, const IntGemmSpec& s,
                std::vector<std::int64_t>& acc) {
  const Dims in = qx.dims();
  const int ho = (in.h + 2 * o.padding - o.kernel_h) / o.stride + 1;
  const int wo = (in.w + 2 * o.padding - o.kernel_w) / o.stride + 1;
  const int cin_g = o.in_channels / o.groups, cout_g = o.out_channels / o.groups;
  acc.assign(size_t(std::int64_t(in.n) * o.out_channels * ho * wo), 0);
  std::size_t idx = 0;
  for (int n = 0; n < in.n; ++n)
    for (int co = 0; co < o.out_channels; ++co)
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox, ++idx) {
          const int g = co / cout_g;
          std::int64_t sum = 0;
          for (int ci = 0; ci < cin_g; ++ci)
            for (int ky = 0; ky < o.kernel_h; ++ky)
              for (int kx = 0; kx < o.kernel_w; ++kx) {
                const int iy = oy * o.stride - o.padding + ky, ix = ox * o.stride - o.padding + kx;
                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                sum += std::int64_t(qw.at(co, ci, ky, kx)) *
                       std::int64_t(qx.at(n, g * cin_g + ci, iy, ix));
              }
          acc[idx] = apply_accumulator(sum, s.acc_bits, s.overflow);
        }
}

}  // namespace reference

}  // namespace mixprec::model
