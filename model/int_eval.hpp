// Integer evaluation: convolution and linear layers as true integer GEMMs on quantized
// operands, with the accumulator width the hardware model (sim/) assumes.
//
// Accumulator width: LayerPrecision::accumulator_bits when set, else
//   bits_w + bits_a + ceil(log2(K))        (K: the reduction length, in_c/groups * kh * kw or
//                                           in_features)
// which holds any sum of K products of a bits_w-bit signed weight and a bits_a-bit activation
// (unsigned activations included: |q_w q_a| < 2^(bits_w - 1 + bits_a)), so the derived width
// never overflows. A narrower explicit width overflows by policy:
//   * Wrap: two's-complement wrap-around at the width. Modular addition is associative, so
//     wrapping every partial sum equals wrapping the exact sum, which is what is computed.
//   * Saturate (default): the exact sum clamped to [-2^(w-1), 2^(w-1) - 1], i.e. a saturating
//     write-back of the accumulator. (A saturating adder that clamps partial sums can differ
//     when a partial sum leaves the range and comes back; we model the write-back.)
// Sums are computed exactly in int32 when bits_w + bits_a + ceil(log2 K) <= 31, else in int64.
//
// Operands are integer-valued floats (the output of quantize_to_grid), converted exactly.
#pragma once
#include <cstdint>
#include <vector>

#include "core/precision.hpp"
#include "model/conv2d.hpp"
#include "model/tensor.hpp"

namespace mixprec::model {

enum class AccumulatorOverflow { Saturate, Wrap };
const char* to_string(AccumulatorOverflow o);

struct IntEvalOptions {
  AccumulatorOverflow overflow = AccumulatorOverflow::Saturate;
};

int ceil_log2(std::int64_t k);  // ceil(log2(k)), 0 for k <= 1
// The accumulator width described above (explicit_bits > 0 wins).
int accumulator_bits(int explicit_bits, int weight_bits, int activation_bits, std::int64_t k);
// Applies the overflow policy to an exact sum at `bits` (bits >= 64: unchanged).
std::int64_t apply_accumulator(std::int64_t exact, int bits, AccumulatorOverflow o);

// Integer convolution: acc (out dims of the conv, int64) from integer-valued qx and qw.
struct IntGemmSpec {
  int weight_bits = 8, activation_bits = 8;
  int acc_bits = 32;  // from accumulator_bits()
  AccumulatorOverflow overflow = AccumulatorOverflow::Saturate;
};
void int_conv2d(const Tensor& qx, const Tensor& qw, const Conv2dOptions& o, const IntGemmSpec& s,
                std::vector<std::int64_t>& acc, Dims& out_dims);
// Integer linear: rows of in_features, w (out, in): acc (rows x out).
void int_linear(const Tensor& qx, const Tensor& qw, const IntGemmSpec& s,
                std::vector<std::int64_t>& acc);

namespace reference {
// Scalar loops with int64 sums, then apply_accumulator: what the fast integer path must equal.
void int_conv2d(const Tensor& qx, const Tensor& qw, const Conv2dOptions& o, const IntGemmSpec& s,
                std::vector<std::int64_t>& acc);
}  // namespace reference

}  // namespace mixprec::model
