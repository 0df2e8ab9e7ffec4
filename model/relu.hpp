// Rectified linear unit, y = max(x, 0). The derivative at 0 is taken as 0.
#pragma once
#include "model/layer.hpp"

namespace mixprec::model {

class ReLU final : public UnaryLayer {
 public:
  explicit ReLU(std::string name) : UnaryLayer(std::move(name)) {}
  const char* kind() const override { return "relu"; }
  Dims output_dims(const Dims& in) const override { return in; }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  Tensor y_;  // cached output: y > 0 exactly where x > 0
};

}  // namespace mixprec::model
