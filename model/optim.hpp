// Optimizers over a fixed list of parameters, and global-norm gradient clipping.
// The parameter list (pointers into layers) must outlive the optimizer; its order defines the
// order of the optimizer state.
#pragma once
#include <vector>

#include "model/layer.hpp"

namespace mixprec::model {

class Optimizer {
 public:
  Optimizer(std::vector<Param*> params, double lr);
  virtual ~Optimizer() = default;
  virtual const char* kind() const = 0;
  // One update from the current grads (which step() leaves untouched).
  virtual void step() = 0;
  void zero_grad();
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }
  long long steps() const { return steps_; }
  const std::vector<Param*>& params() const { return params_; }
  // Internal state in a fixed order (momentum buffers, moments), for checkpoints; restoring it
  // and steps() resumes the optimizer exactly.
  virtual std::vector<Eigen::VectorXf*> state() = 0;
  void set_steps(long long s) { steps_ = s; }

 protected:
  std::vector<Param*> params_;
  double lr_;
  long long steps_ = 0;
};

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 0.0;  // L2 penalty added to the gradient (coupled), decay params only
  bool nesterov = false;
};

// Stochastic gradient descent with heavy-ball momentum (Polyak, "Some methods of speeding up
// the convergence of iteration methods", 1964), in the form Sutskever, Martens, Dahl & Hinton
// ("On the importance of initialization and momentum in deep learning", ICML 2013) use for
// deep networks, written with the learning rate outside the velocity as PyTorch does:
//   g = grad + weight_decay * w;   v = momentum * v + g;   w -= lr * v
// Nesterov (Sutskever et al. 2013, eq. 3-4, in the reformulation of Bengio et al. 2013):
//   w -= lr * (g + momentum * v).
class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<Param*> params, const SgdOptions& opt);
  const char* kind() const override { return "sgd"; }
  void step() override;
  std::vector<Eigen::VectorXf*> state() override;
  const SgdOptions& options() const { return opt_; }

 private:
  SgdOptions opt_;
  std::vector<Eigen::VectorXf> velocity_;
};

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // decoupled; applied to params with Param::decay only
};

// AdamW: Adam (Kingma & Ba, ICLR 2015) with decoupled weight decay (Loshchilov & Hutter,
// "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2). Per step t (from 1):
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   m_hat = m / (1 - beta1^t);     v_hat = v / (1 - beta2^t)
//   w = w - lr * weight_decay * w - lr * m_hat / (sqrt(v_hat) + eps)
// The decay is not part of g, so Adam's per-coordinate scaling does not touch it. As in
// PyTorch, the decay is scaled by the current lr (the paper's schedule multiplier eta_t times
// its lambda; with a schedule, lr carries eta_t).
class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<Param*> params, const AdamWOptions& opt);
  const char* kind() const override { return "adamw"; }
  void step() override;
  std::vector<Eigen::VectorXf*> state() override;
  const AdamWOptions& options() const { return opt_; }

 private:
  AdamWOptions opt_;
  std::vector<Eigen::VectorXf> m_, v_;
};

// L2 norm of all gradients together.
double global_grad_norm(const std::vector<Param*>& params);
// Scales all gradients by max_norm / norm when their global norm exceeds max_norm (Pascanu,
// Mikolov & Bengio, "On the difficulty of training recurrent neural networks", ICML 2013).
// Returns the norm before clipping.
double clip_grad_norm(const std::vector<Param*>& params, double max_norm);

}  // namespace mixprec::model
