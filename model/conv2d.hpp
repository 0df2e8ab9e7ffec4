// 2-D convolution, NCHW, weight (out, in/groups, kh, kw), by im2col + GEMM.
#pragma once
#include <memory>

#include "model/layer.hpp"

namespace mixprec::model {

struct Conv2dOptions {
  int in_channels = 0, out_channels = 0;
  int kernel_h = 3, kernel_w = 3;
  int stride = 1, padding = 0, groups = 1;
  bool bias = true;
};

class ImplicitConv;

class Conv2d final : public UnaryLayer {
 public:
  Conv2d(std::string name, const Conv2dOptions& opt);
  ~Conv2d() override;
  const char* kind() const override { return "conv2d"; }
  Dims output_dims(const Dims& in) const override;
  std::vector<Param*> params() override;
  // Kaiming normal (fan_in, ReLU gain), zero bias.
  void init(std::mt19937_64& rng) override;

  const Conv2dOptions& options() const { return opt_; }
  // Samples are batched into one GEMM while their im2col buffer stays within this many floats
  // (default 2^17, 512 KiB: it stays in L2 between im2col and the GEMM), so small late-stage
  // feature maps still give the GEMM wide operands.
  // At least one sample per GEMM; results do not depend on it beyond float rounding.
  static constexpr std::int64_t kDefaultColBudgetFloats = std::int64_t(1) << 17;
  void set_col_budget_floats(std::int64_t floats) { col_budget_floats_ = floats; }
  Param& weight() { return weight_; }
  Param& bias() { return bias_; }  // dims (0) when options().bias is false

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  int samples_per_gemm(const Dims& in) const;
  void add_bias(Tensor& y) const;
  static constexpr std::int64_t kTableMaxOutputs = 64;
  const std::vector<std::int32_t>& tap_table(const Dims& in) const;
  void im2col(const float* x, const Dims& in, float* col, std::int64_t ld) const;
  void col2im(const float* col, std::int64_t ld, const Dims& in, float* dx) const;

  Conv2dOptions opt_;
  std::int64_t col_budget_floats_ = kDefaultColBudgetFloats;
  Param weight_, bias_;
  // Same-padded stride-1 convolutions on large maps use the implicit GEMM (conv_implicit.hpp),
  // which caches its own padded copy of the input; everything else im2col + GEMM.
  std::unique_ptr<ImplicitConv> implicit_;
  bool implicit_used_ = false;
  Dims in_dims_;
  Tensor x_;                // cached input (im2col path)
  std::vector<float> col_;  // im2col of a group of samples: (cin*kh*kw) x (samples*ho*wo)
  std::vector<float> out_;  // GEMM result / gathered dy: cout x (samples*ho*wo)
  // im2col gather table for small maps (a cache, hence mutable) and a plane + zero slot.
  mutable std::vector<std::int32_t> table_;
  mutable Dims table_dims_;
  mutable std::vector<float> plane_;
};

}  // namespace mixprec::model
