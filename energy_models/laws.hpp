// Scaling laws shared by the energy model and its tests: plain functions of table data, no
// state. Every law cites where it comes from; energy_models/README.md collects them.
#pragma once
#include <cstdint>
#include <vector>

namespace mixprec::energy::laws {

// ceil(log2(n)) for n >= 1 (log2(1) = 0).
int ceil_log2(std::int64_t n);

// ceil(a / b) for a >= 0, b >= 1.
inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// One anchor of a proportional law: energy `pj` at size `size` (bits, or bits_w x bits_a).
struct Anchor {
  double size = 0;
  double pj = 0;
};

// Energy proportional to `size`, anchored at the nearest anchor (linear distance; a tie goes
// to the smaller anchor). Anchors sorted by size, non-empty.
//  - Multipliers: size = bits_w x bits_a. Accelergy's library plug-in and Timeloop's fallback
//    model scale multiplier energy with the product of the operand widths ((a/16)(b/16));
//    Horowitz's 8 -> 32 bit ratio is 15.5x (~16x).
//  - Adders and accumulators: size = width (Horowitz 8 -> 32 bit: 3.3x, ~4x).
double proportional_to_nearest(const std::vector<Anchor>& anchors, double size);

// Log-log interpolation through points (x, y) sorted by x with x, y > 0. Outside the points
// the curve continues from the end point with y ~ x^exponent_outside.
struct Point {
  double x = 0;
  double y = 0;
};
double loglog_interpolate(const std::vector<Point>& points, double x, double exponent_outside);

// Energy of a `word_bits` access to a memory whose row (the bits read at once) is `row_bits`
// and costs `row_pj`: row_pj x word_bits / row_bits when the word fits in a row (Timeloop:
// vector access energy / block size), else ceil(word_bits / row_bits) row accesses.
double word_access_pj(double row_pj, int row_bits, int word_bits);

// Composable (Bit Fusion) width: `bits` rounded up to a multiple of `brick_bits`.
inline int round_up_to_brick(int bits, int brick_bits) {
  return static_cast<int>(ceil_div(bits, brick_bits) * brick_bits);
}

}  // namespace mixprec::energy::laws
