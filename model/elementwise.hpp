// Element-wise layers an imported graph needs beside the fused ones: ReLU, sigmoid, tanh of
// one input, the product of two (core LayerKind::Elementwise), and the concatenation of two
// inputs along their features (LayerKind::Concat).
#pragma once
#include "core/network.hpp"
#include "model/layer.hpp"

namespace mixprec::model {

class Elementwise final : public Layer {
 public:
  Elementwise(std::string name, ElementwiseOp op) : Layer(std::move(name)), op_(op) {}
  const char* kind() const override { return "elementwise"; }
  int arity() const override { return op_ == ElementwiseOp::Mul ? 2 : 1; }
  Dims output_dims(const Dims& in) const override { return in; }
  void forward(const Inputs& x, Tensor& y) override;
  void backward(const Tensor& dy, const InputGrads& dx) override;

 private:
  ElementwiseOp op_;
  Tensor a_, b_, y_;  // inputs (Mul) and output (sigmoid/tanh/relu) for backward
};

// Joins two inputs row by row: each has `rows_per_sample` rows per sample (the steps of a
// sequence, 1 for images and vectors) and its features (c*h*w / rows) per row; the output's
// per-sample dims are `out_per_sample` (n replaced by the batch).
class Concat final : public Layer {
 public:
  Concat(std::string name, int rows_per_sample, Dims out_per_sample)
      : Layer(std::move(name)), rows_(rows_per_sample), out_(out_per_sample) {}
  const char* kind() const override { return "concat"; }
  int arity() const override { return 2; }
  Dims output_dims(const Dims& in) const override { return Dims{in.n, out_.c, out_.h, out_.w}; }
  void forward(const Inputs& x, Tensor& y) override;
  void backward(const Tensor& dy, const InputGrads& dx) override;

 private:
  int rows_;
  Dims out_;
  Dims da_, db_;
};

}  // namespace mixprec::model
