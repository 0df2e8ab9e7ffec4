// Vectorized float reductions with double totals, shared by the normalization layers.
//
// Each chunk of at most kChunk values is summed in 8 float lanes (two 4-lane vectors of the
// GCC/Clang vector extension: SSE2 on baseline x86-64), the lanes are combined pairwise and the
// chunk's sum added into a double: a plain float loop would not vectorize (reassociation), and
// short chunks keep the float partial sums accurate. Element i goes to lane i mod 8, so results
// do not depend on the instruction set.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace mixprec::model::reduce {

inline constexpr std::int64_t kChunk = 1024;

typedef float v4f __attribute__((vector_size(16)));

inline v4f load4(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline float lanes(v4f a, v4f b) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
}

inline double sum_of(const float* p, std::int64_t n) {
  double total = 0;
  for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::int64_t m = std::min(kChunk, n - c0);
    const float* q = p + c0;
    v4f a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    std::int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
      a += load4(q + i);
      b += load4(q + i + 4);
    }
    float rest = 0;
    for (; i < m; ++i) rest += q[i];
    total += double(lanes(a, b)) + rest;
  }
  return total;
}

// sum((p - mean)^2)
inline double sq_dev_of(const float* p, std::int64_t n, float mean) {
  double total = 0;
  for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::int64_t m = std::min(kChunk, n - c0);
    const float* q = p + c0;
    v4f a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    std::int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
      const v4f d0 = load4(q + i) - mean, d1 = load4(q + i + 4) - mean;
      a += d0 * d0;
      b += d1 * d1;
    }
    float rest = 0;
    for (; i < m; ++i) rest += (q[i] - mean) * (q[i] - mean);
    total += double(lanes(a, b)) + rest;
  }
  return total;
}

// sum(g) and sum(g * xh); with relu, g is replaced by (gamma xh + beta > 0 ? g : 0), the
// gradient behind a ReLU that followed the normalization.
inline void sums_of(const float* g, const float* xh, std::int64_t n, double& s_g, double& s_gx,
                    bool relu = false, float gamma = 1, float beta = 0) {
  const v4f zero = {0, 0, 0, 0};
  for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::int64_t m = std::min(kChunk, n - c0);
    const float* gq = g + c0;
    const float* xq = xh + c0;
    v4f a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    std::int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
      const v4f x0 = load4(xq + i), x1 = load4(xq + i + 4);
      v4f g0 = load4(gq + i), g1 = load4(gq + i + 4);
      if (relu) {
        g0 = gamma * x0 + beta > 0 ? g0 : zero;
        g1 = gamma * x1 + beta > 0 ? g1 : zero;
      }
      a0 += g0;
      a1 += g1;
      b0 += g0 * x0;
      b1 += g1 * x1;
    }
    float ra = 0, rb = 0;
    for (; i < m; ++i) {
      const float gv = g[c0 + i];
      const float v = !relu || gamma * xq[i] + beta > 0.0f ? gv : 0.0f;
      ra += v;
      rb += v * xq[i];
    }
    s_g += double(lanes(a0, a1)) + ra;
    s_gx += double(lanes(b0, b1)) + rb;
  }
}

}  // namespace mixprec::model::reduce
