// Fused layers for the graph's hot pairs, one pass over the activation instead of two:
//   BatchNormReLU = BatchNorm2d followed by ReLU (a conv's batchnorm + relu flags)
//   AddReLU       = Add followed by ReLU (a residual add with relu)
// Same parameters, buffers, names and results as the pairs (tests hold them to it exactly):
// BatchNormReLU's parameters are "<name>.gamma", "<name>.beta", buffers "<name>.running_mean",
// "<name>.running_var", as BatchNorm2d. Backward recomputes the ReLU mask (gamma * xhat + beta
// > 0, resp. the cached output > 0) instead of materializing the ReLU's gradient.
#pragma once
#include "model/batchnorm2d.hpp"
#include "model/layer.hpp"

namespace mixprec::model {

class BatchNormReLU final : public UnaryLayer {
 public:
  BatchNormReLU(std::string name, const BatchNorm2dOptions& opt);
  const char* kind() const override { return "batchnorm2d_relu"; }
  Dims output_dims(const Dims& in) const override;
  std::vector<Param*> params() override { return {&gamma_, &beta_}; }
  std::vector<Buffer*> buffers() override { return {&running_mean_, &running_var_}; }
  void init(std::mt19937_64& rng) override;  // as BatchNorm2d
  Param& gamma() { return gamma_; }
  Param& beta() { return beta_; }
  Tensor& running_mean() { return running_mean_.value; }
  Tensor& running_var() { return running_var_.value; }
  const BatchNorm2dOptions& options() const { return opt_; }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  BatchNorm2dOptions opt_;
  Param gamma_, beta_;
  Buffer running_mean_, running_var_;
  Tensor xhat_;
  std::vector<float> inv_std_;
  bool cached_training_ = true;
};

class AddReLU final : public Layer {
 public:
  explicit AddReLU(std::string name) : Layer(std::move(name)) {}
  const char* kind() const override { return "add_relu"; }
  int arity() const override { return 2; }
  Dims output_dims(const Dims& in) const override { return in; }
  void forward(const Inputs& x, Tensor& y) override;
  void backward(const Tensor& dy, const InputGrads& dx) override;

 private:
  Tensor y_;  // cached output: the mask is y > 0
};

}  // namespace mixprec::model
