#include "model/optim.hpp"

#include <cmath>

namespace mixprec::model {

Optimizer::Optimizer(std::vector<Param*> params, double lr) : params_(std::move(params)), lr_(lr) {
  for (const Param* p : params_) {
    MIXPREC_CHECK(p != nullptr, "optimizer: null parameter");
    MIXPREC_CHECK(p->grad.dims() == p->value.dims(), "optimizer: " + p->name + " grad dims");
  }
  MIXPREC_CHECK(lr >= 0, "optimizer: negative learning rate");
}

void Optimizer::zero_grad() {
  for (Param* p : params_) p->grad.set_zero();
}

Sgd::Sgd(std::vector<Param*> params, const SgdOptions& opt)
    : Optimizer(std::move(params), opt.lr), opt_(opt) {
  MIXPREC_CHECK(opt.momentum >= 0 && opt.weight_decay >= 0, "sgd: momentum/weight_decay");
  velocity_.reserve(params_.size());
  for (const Param* p : params_) velocity_.push_back(Eigen::VectorXf::Zero(p->value.size()));
}

void Sgd::step() {
  const float lr = float(lr_), mu = float(opt_.momentum);
  for (size_t k = 0; k < params_.size(); ++k) {
    Param& p = *params_[k];
    auto w = p.value.vec();
    Eigen::VectorXf& v = velocity_[k];
    const float wd = p.decay ? float(opt_.weight_decay) : 0.0f;
    if (mu == 0.0f) {
      w -= lr * (p.grad.vec() + wd * w);
      continue;
    }
    v = mu * v + p.grad.vec() + wd * w;
    if (opt_.nesterov)
      w -= lr * (p.grad.vec() + wd * w + mu * v);
    else
      w -= lr * v;
  }
  ++steps_;
}

AdamW::AdamW(std::vector<Param*> params, const AdamWOptions& opt)
    : Optimizer(std::move(params), opt.lr), opt_(opt) {
  MIXPREC_CHECK(opt.beta1 >= 0 && opt.beta1 < 1 && opt.beta2 >= 0 && opt.beta2 < 1,
                "adamw: betas must be in [0, 1)");
  MIXPREC_CHECK(opt.eps > 0 && opt.weight_decay >= 0, "adamw: eps/weight_decay");
  for (const Param* p : params_) {
    m_.push_back(Eigen::VectorXf::Zero(p->value.size()));
    v_.push_back(Eigen::VectorXf::Zero(p->value.size()));
  }
}

void AdamW::step() {
  ++steps_;
  const double t = double(steps_);
  const double bc1 = 1.0 - std::pow(opt_.beta1, t);
  const double bc2 = 1.0 - std::pow(opt_.beta2, t);
  // 1 - beta in double first: float(0.999) is off by 5e-8, which 1 - beta2 would turn into a
  // 5e-5 relative error.
  const float b1 = float(opt_.beta1), b2 = float(opt_.beta2);
  const float one_minus_b1 = float(1.0 - opt_.beta1), one_minus_b2 = float(1.0 - opt_.beta2);
  // w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)  ==  lr * m_hat / (sqrt(v_hat) + eps)
  const float step_size = float(lr_ / bc1);
  const float inv_sqrt_bc2 = float(1.0 / std::sqrt(bc2));
  const float eps = float(opt_.eps);
  for (size_t k = 0; k < params_.size(); ++k) {
    Param& p = *params_[k];
    auto w = p.value.vec();
    const auto g = p.grad.vec();
    m_[k] = b1 * m_[k] + one_minus_b1 * g;
    v_[k] = b2 * v_[k] + one_minus_b2 * g.cwiseProduct(g);
    if (p.decay && opt_.weight_decay > 0) w *= float(1.0 - lr_ * opt_.weight_decay);
    w.array() -= step_size * m_[k].array() / (v_[k].array().sqrt() * inv_sqrt_bc2 + eps);
  }
}

std::vector<Eigen::VectorXf*> Sgd::state() {
  std::vector<Eigen::VectorXf*> out;
  for (auto& v : velocity_) out.push_back(&v);
  return out;
}

std::vector<Eigen::VectorXf*> AdamW::state() {
  std::vector<Eigen::VectorXf*> out;
  for (auto& m : m_) out.push_back(&m);
  for (auto& v : v_) out.push_back(&v);
  return out;
}

double global_grad_norm(const std::vector<Param*>& params) {
  double sq = 0;
  for (const Param* p : params) {
    const float* g = p->grad.data();
    for (std::int64_t i = 0; i < p->grad.size(); ++i) sq += double(g[i]) * g[i];
  }
  return std::sqrt(sq);
}

double clip_grad_norm(const std::vector<Param*>& params, double max_norm) {
  MIXPREC_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive");
  const double norm = global_grad_norm(params);
  if (norm > max_norm) {
    const float scale = float(max_norm / norm);
    for (Param* p : params) p->grad.vec() *= scale;
  }
  return norm;
}

}  // namespace mixprec::model
