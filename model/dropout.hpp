// Inverted dropout (Srivastava et al., JMLR 2014): in training each element is zeroed with
// probability p and the survivors scaled by 1 / (1 - p); evaluation is the identity. The mask
// comes from the layer's own std::mt19937_64, so a seed fixes every mask of a run.
#pragma once
#include <random>

#include "model/layer.hpp"

namespace mixprec::model {

class Dropout final : public UnaryLayer {
 public:
  Dropout(std::string name, double p, std::uint64_t seed);
  const char* kind() const override { return "dropout"; }
  Dims output_dims(const Dims& in) const override { return in; }
  double p() const { return p_; }
  // Restarts the mask sequence (e.g. when resuming, or to repeat a mask in a gradient check).
  void reseed(std::uint64_t seed) { rng_.seed(seed); }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  double p_;
  std::mt19937_64 rng_;
  Tensor mask_;          // 0 or 1 / (1 - p) per element of the cached training forward
  bool masked_ = false;  // the cached forward applied mask_
};

}  // namespace mixprec::model
