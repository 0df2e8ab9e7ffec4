// Seeded parameter initializers. Only std::mt19937_64 (whose output sequence the C++ standard
// fixes) is used; uniform and normal variates are derived here rather than with <random>'s
// distributions, whose algorithms differ between standard libraries, so a seed gives the same
// weights on every run and toolchain.
#pragma once
#include <random>

#include "model/tensor.hpp"

namespace mixprec::model {

// Uniform in [0, 1) with 53 random bits.
double uniform01(std::mt19937_64& rng);
// Standard normal variate (Box-Muller, cosine branch only: each call consumes exactly two engine
// outputs, so a variate depends on the engine state alone, never on earlier calls).
double standard_normal(std::mt19937_64& rng);

// Fan-in / fan-out of a weight tensor laid out (out, in, kh, kw) or (out, in): fan_in =
// in * kh * kw, fan_out = out * kh * kw (PyTorch's convention; for grouped convolutions `in` is
// already in_channels / groups).
struct Fans {
  double fan_in = 1, fan_out = 1;
};
Fans fans_of(const Dims& weight_dims);

enum class FanMode { FanIn, FanOut };

void fill_uniform(Tensor& t, double lo, double hi, std::mt19937_64& rng);
void fill_normal(Tensor& t, double mean, double stddev, std::mt19937_64& rng);

// Gain for ReLU layers, sqrt(2): He et al., "Delving Deep into Rectifiers", ICCV 2015, eq. (10).
inline constexpr double kReluGain = 1.4142135623730951;

// Kaiming/He initialization (He et al., ICCV 2015): N(0, gain^2 / fan), fan per `mode`.
void kaiming_normal(Tensor& w, std::mt19937_64& rng, FanMode mode = FanMode::FanIn,
                    double gain = kReluGain);
// The uniform variant with the same variance: U(-b, b), b = gain * sqrt(3 / fan).
void kaiming_uniform(Tensor& w, std::mt19937_64& rng, FanMode mode = FanMode::FanIn,
                     double gain = kReluGain);
// Xavier/Glorot initialization (Glorot & Bengio, AISTATS 2010, eq. (16)):
// U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform(Tensor& w, std::mt19937_64& rng, double gain = 1.0);
// The normal variant with the same variance: N(0, gain^2 * 2 / (fan_in + fan_out)).
void xavier_normal(Tensor& w, std::mt19937_64& rng, double gain = 1.0);

}  // namespace mixprec::model
