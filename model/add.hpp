// Element-wise sum of two same-shaped tensors (the residual connection).
#pragma once
#include "model/layer.hpp"

namespace mixprec::model {

class Add final : public Layer {
 public:
  explicit Add(std::string name) : Layer(std::move(name)) {}
  const char* kind() const override { return "add"; }
  int arity() const override { return 2; }
  Dims output_dims(const Dims& in) const override { return in; }
  // forward({&a, &b}, y); backward(dy, {&da, &db}) (either may be null).
  void forward(const Inputs& x, Tensor& y) override;
  void backward(const Tensor& dy, const InputGrads& dx) override;

 private:
  Dims dims_;
};

}  // namespace mixprec::model
