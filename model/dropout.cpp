#include "model/dropout.hpp"

#include <cmath>

namespace mixprec::model {

Dropout::Dropout(std::string name, double p, std::uint64_t seed)
    : UnaryLayer(std::move(name)), p_(p), rng_(seed) {
  MIXPREC_CHECK(p >= 0.0 && p < 1.0, this->name() + ": p must be in [0, 1)");
}

void Dropout::forward_one(const Tensor& x, Tensor& y) {
  y.resize(x.dims());
  masked_ = training() && p_ > 0.0;
  if (!masked_) {
    std::copy_n(x.data(), x.size(), y.data());
    return;
  }
  mask_.resize(x.dims());
  // Keep an element when a 64-bit engine output is >= p * 2^64: one engine call per element.
  const auto threshold = static_cast<std::uint64_t>(std::ldexp(p_, 64));
  const float keep_scale = float(1.0 / (1.0 - p_));
  float* m = mask_.data();
  float* o = y.data();
  const float* in = x.data();
  for (std::int64_t i = 0; i < x.size(); ++i) {
    m[i] = rng_() >= threshold ? keep_scale : 0.0f;
    o[i] = in[i] * m[i];
  }
}

void Dropout::backward_one(const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(dy.dims());
  if (!masked_) {
    std::copy_n(dy.data(), dy.size(), dx->data());
    return;
  }
  MIXPREC_CHECK(dy.dims() == mask_.dims(),
                name() + ": dy " + dy.dims().str() + " != " + mask_.dims().str());
  dx->vec() = dy.vec().cwiseProduct(mask_.vec());
}

}  // namespace mixprec::model
