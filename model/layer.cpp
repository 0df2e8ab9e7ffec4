#include "model/layer.hpp"

namespace mixprec::model {

const char* to_string(ParamRole r) {
  switch (r) {
    case ParamRole::Weight: return "weight";
    case ParamRole::RecurrentWeight: return "recurrent_weight";
    case ParamRole::Bias: return "bias";
    case ParamRole::NormScale: return "norm_scale";
    case ParamRole::NormShift: return "norm_shift";
    case ParamRole::QuantStep: return "quant_step";
  }
  return "?";
}

Inputs::Inputs(std::initializer_list<const Tensor*> xs) {
  MIXPREC_CHECK(xs.size() >= 1 && xs.size() <= size_t(kMaxInputs), "1..4 inputs");
  for (const Tensor* x : xs) {
    MIXPREC_CHECK(x != nullptr, "null input tensor");
    p_[size_t(n_++)] = x;
  }
}

Inputs::Inputs(const std::vector<const Tensor*>& xs) {
  MIXPREC_CHECK(xs.size() >= 1 && xs.size() <= size_t(kMaxInputs), "1..4 inputs");
  for (const Tensor* x : xs) {
    MIXPREC_CHECK(x != nullptr, "null input tensor");
    p_[size_t(n_++)] = x;
  }
}

InputGrads::InputGrads(std::initializer_list<Tensor*> dxs) {
  MIXPREC_CHECK(dxs.size() >= 1 && dxs.size() <= size_t(kMaxInputs), "1..4 input grads");
  for (Tensor* dx : dxs) p_[size_t(n_++)] = dx;
}

InputGrads::InputGrads(const std::vector<Tensor*>& dxs) {
  MIXPREC_CHECK(dxs.size() >= 1 && dxs.size() <= size_t(kMaxInputs), "1..4 input grads");
  for (Tensor* dx : dxs) p_[size_t(n_++)] = dx;
}

void Layer::zero_grad() {
  for (Param* p : params()) p->grad.set_zero();
}

void UnaryLayer::forward(const Inputs& x, Tensor& y) {
  MIXPREC_CHECK(x.size() == 1, name() + ": expects one input");
  MIXPREC_CHECK(&x[0] != &y, name() + ": output must not alias the input");
  forward_one(x[0], y);
}

void UnaryLayer::backward(const Tensor& dy, const InputGrads& dx) {
  MIXPREC_CHECK(dx.size() == 1, name() + ": expects one input gradient");
  MIXPREC_CHECK(dx[0] != &dy, name() + ": input gradient must not alias dy");
  backward_one(dy, dx[0]);
}

}  // namespace mixprec::model
