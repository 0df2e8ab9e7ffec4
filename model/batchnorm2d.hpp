// Batch normalization over (n, h, w) per channel (Ioffe & Szegedy, ICML 2015).
// Training: batch statistics (biased variance) normalize; running mean/var (unbiased variance)
// follow an exponential moving average with weight `momentum` (PyTorch's convention).
// Evaluation: running statistics normalize.
#pragma once
#include "model/layer.hpp"

namespace mixprec::model {

struct BatchNorm2dOptions {
  int channels = 0;
  double eps = 1e-5;
  double momentum = 0.1;
};

class BatchNorm2d final : public UnaryLayer {
 public:
  BatchNorm2d(std::string name, const BatchNorm2dOptions& opt);
  const char* kind() const override { return "batchnorm2d"; }
  Dims output_dims(const Dims& in) const override;
  std::vector<Param*> params() override { return {&gamma_, &beta_}; }
  std::vector<Buffer*> buffers() override { return {&running_mean_, &running_var_}; }
  // gamma = 1, beta = 0, running mean 0, running var 1.
  void init(std::mt19937_64& rng) override;

  const BatchNorm2dOptions& options() const { return opt_; }
  Param& gamma() { return gamma_; }
  Param& beta() { return beta_; }
  Tensor& running_mean() { return running_mean_.value; }
  Tensor& running_var() { return running_var_.value; }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  BatchNorm2dOptions opt_;
  Param gamma_, beta_;
  Buffer running_mean_, running_var_;
  Tensor xhat_;                  // cached normalized input
  std::vector<float> inv_std_;   // per channel, of the statistics used in forward
  bool cached_training_ = true;  // mode of the cached forward
};

}  // namespace mixprec::model
