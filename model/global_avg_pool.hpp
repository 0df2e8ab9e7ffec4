// Global average pooling: (n, c, h, w) -> (n, c, 1, 1).
#pragma once
#include "model/layer.hpp"

namespace mixprec::model {

class GlobalAvgPool final : public UnaryLayer {
 public:
  explicit GlobalAvgPool(std::string name) : UnaryLayer(std::move(name)) {}
  const char* kind() const override { return "global_avg_pool"; }
  Dims output_dims(const Dims& in) const override { return Dims{in.n, in.c, 1, 1}; }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  Dims in_dims_;
};

}  // namespace mixprec::model
