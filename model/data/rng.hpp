// A small deterministic random source for the data sets: xoshiro256** seeded through
// splitmix64 (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021).
// The standard library's distributions are implementation-defined, so uniform, normal and
// shuffle are written out here: the same seed gives the same data on every compiler.
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace mixprec::data {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t z = seed;
    for (auto& s : s_) s = splitmix64(z);
  }

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n); n > 0. The modulo bias is below 2^-40 for the sizes used here.
  int below(int n) { return int(next_u64() % std::uint64_t(n)); }
  bool chance(double p) { return uniform() < p; }
  // Standard normal (Box-Muller, one value per call: simpler to keep streams reproducible).
  double normal() {
    double u1 = uniform();
    double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Fisher-Yates shuffle.
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      std::size_t j = std::size_t(next_u64() % i);
      std::swap(v[i - 1], v[j]);
    }
  }

  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Mixes two values into one seed (for per-epoch or per-stream seeds).
  static std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    std::uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ULL);
    splitmix64(x);
    return splitmix64(x);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace mixprec::data
