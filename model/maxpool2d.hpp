// Max pooling; padding counts as -infinity. Backward routes each output gradient to the first
// maximal input of its window.
#pragma once
#include "model/layer.hpp"
#include "model/pool_options.hpp"

namespace mixprec::model {

class MaxPool2d final : public UnaryLayer {
 public:
  MaxPool2d(std::string name, const Pool2dOptions& opt) : UnaryLayer(std::move(name)), opt_(opt) {}
  const char* kind() const override { return "maxpool2d"; }
  Dims output_dims(const Dims& in) const override { return pool_output_dims(name(), opt_, in); }
  const Pool2dOptions& options() const { return opt_; }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  Pool2dOptions opt_;
  Dims in_dims_;
  std::vector<std::int32_t> argmax_;  // per output: index within its input plane
};

}  // namespace mixprec::model
