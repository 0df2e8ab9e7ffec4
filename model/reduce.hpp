// Vectorizable float reductions with double totals, shared by the normalization layers.
#pragma once
#include <algorithm>
#include <cstdint>

namespace mixprec::model::reduce {

// Sums in 8 float lanes over chunks of at most 1024 values, each chunk added into a double:
// the lanes vectorize (a plain float reduction would not, without -ffast-math), and a chunk is
// short enough for float partial sums to stay accurate.
inline constexpr std::int64_t kChunk = 1024;

inline double sum_of(const float* p, std::int64_t n) {
  double total = 0;
  for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::int64_t m = std::min(kChunk, n - c0);
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::int64_t i = 0;
    for (; i + 8 <= m; i += 8)
      for (int l = 0; l < 8; ++l) lane[l] += p[c0 + i + l];
    float rest = 0;
    for (; i < m; ++i) rest += p[c0 + i];
    total += double(((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                    ((lane[4] + lane[5]) + (lane[6] + lane[7]))) + rest;
  }
  return total;
}

// sum((p - mean)^2)
inline double sq_dev_of(const float* p, std::int64_t n, float mean) {
  double total = 0;
  for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::int64_t m = std::min(kChunk, n - c0);
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::int64_t i = 0;
    for (; i + 8 <= m; i += 8)
      for (int l = 0; l < 8; ++l) {
        const float d = p[c0 + i + l] - mean;
        lane[l] += d * d;
      }
    float rest = 0;
    for (; i < m; ++i) rest += (p[c0 + i] - mean) * (p[c0 + i] - mean);
    total += double(((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                    ((lane[4] + lane[5]) + (lane[6] + lane[7]))) + rest;
  }
  return total;
}

// sum(g) and sum(g * xh)
inline void sums_of(const float* g, const float* xh, std::int64_t n, double& s_g, double& s_gx) {
  for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::int64_t m = std::min(kChunk, n - c0);
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::int64_t i = 0;
    for (; i + 8 <= m; i += 8)
      for (int l = 0; l < 8; ++l) {
        a[l] += g[c0 + i + l];
        b[l] += g[c0 + i + l] * xh[c0 + i + l];
      }
    float ra = 0, rb = 0;
    for (; i < m; ++i) {
      ra += g[c0 + i];
      rb += g[c0 + i] * xh[c0 + i];
    }
    s_g += double(((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))) + ra;
    s_gx += double(((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]))) + rb;
  }
}


}  // namespace mixprec::model::reduce
