// Fully connected layer, y = x W^T + b, W (out_features, in_features).
// Input: (n, c, h, w) with c*h*w = in_features (flattened) -> (n, out, 1, 1); or a sequence
// (n, steps, in_features, 1), applied to every step -> (n, steps, out, 1).
#pragma once
#include "model/layer.hpp"

namespace mixprec::model {

struct LinearOptions {
  int in_features = 0, out_features = 0;
  bool bias = true;
};

class Linear final : public UnaryLayer {
 public:
  Linear(std::string name, const LinearOptions& opt);
  const char* kind() const override { return "linear"; }
  Dims output_dims(const Dims& in) const override;
  std::vector<Param*> params() override;
  // Xavier uniform, zero bias.
  void init(std::mt19937_64& rng) override;

  const LinearOptions& options() const { return opt_; }
  Param& weight() { return weight_; }
  Param& bias() { return bias_; }  // dims (0) when options().bias is false

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  LinearOptions opt_;
  Param weight_, bias_;
  Tensor x_;  // cached input
};

}  // namespace mixprec::model
