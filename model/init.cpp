#include "model/init.hpp"

#include <cmath>

namespace mixprec::model {

double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

double standard_normal(std::mt19937_64& rng) {
  const double u1 = double((rng() >> 11) + 1) * 0x1.0p-53;  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  constexpr double kTwoPi = 6.283185307179586;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

Fans fans_of(const Dims& d) {
  MIXPREC_CHECK(d.n > 0 && d.c > 0, "fans of " + d.str());
  const double receptive = double(d.h) * d.w;
  return Fans{double(d.c) * receptive, double(d.n) * receptive};
}

void fill_uniform(Tensor& t, double lo, double hi, std::mt19937_64& rng) {
  float* p = t.data();
  for (std::int64_t i = 0; i < t.size(); ++i) p[i] = float(lo + (hi - lo) * uniform01(rng));
}

void fill_normal(Tensor& t, double mean, double stddev, std::mt19937_64& rng) {
  float* p = t.data();
  for (std::int64_t i = 0; i < t.size(); ++i) p[i] = float(mean + stddev * standard_normal(rng));
}

static double fan(const Dims& d, FanMode mode) {
  const Fans f = fans_of(d);
  return mode == FanMode::FanIn ? f.fan_in : f.fan_out;
}

void kaiming_normal(Tensor& w, std::mt19937_64& rng, FanMode mode, double gain) {
  fill_normal(w, 0.0, gain / std::sqrt(fan(w.dims(), mode)), rng);
}

void kaiming_uniform(Tensor& w, std::mt19937_64& rng, FanMode mode, double gain) {
  const double b = gain * std::sqrt(3.0 / fan(w.dims(), mode));
  fill_uniform(w, -b, b, rng);
}

void xavier_uniform(Tensor& w, std::mt19937_64& rng, double gain) {
  const Fans f = fans_of(w.dims());
  const double b = gain * std::sqrt(6.0 / (f.fan_in + f.fan_out));
  fill_uniform(w, -b, b, rng);
}

void xavier_normal(Tensor& w, std::mt19937_64& rng, double gain) {
  const Fans f = fans_of(w.dims());
  fill_normal(w, 0.0, gain * std::sqrt(2.0 / (f.fan_in + f.fan_out)), rng);
}

}  // namespace mixprec::model
