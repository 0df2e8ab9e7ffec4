// The layer interface of the training engine.
//
// Contract:
// - forward(x, y) resizes y, writes it, and caches what backward needs (behaviour depends on
//   training(): BatchNorm statistics, Dropout masks).
// - backward(dy, dx) uses the cache of the most recent forward. It OVERWRITES each input
//   gradient dx[i] (a null entry means "not needed" and skips that work) and ACCUMULATES (+=)
//   into every parameter's grad, so micro-batches add up until zero_grad().
// - Parameters are exposed uniformly as Param {name, role, value, grad}; names are
//   "<layer name>.<local name>", e.g. "cnn.stage1.block0.conv1.weight".
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "model/tensor.hpp"

namespace mixprec::model {

// What a parameter is, so quantizers pick the right bitwidth (LayerPrecision::weight_bits,
// recurrent_weight_bits, ...) and optimizers skip decay on biases and norm parameters.
// QuantStep: a learned quantizer step size (LSQ, model/quant.hpp).
enum class ParamRole { Weight, RecurrentWeight, Bias, NormScale, NormShift, QuantStep };
const char* to_string(ParamRole r);

struct Param {
  Param(std::string name_, ParamRole role_, Dims dims, bool decay_)
      : name(std::move(name_)), role(role_), value(dims), grad(dims), decay(decay_) {}
  std::string name;
  ParamRole role;
  Tensor value;
  Tensor grad;  // same dims as value; accumulated by backward, reset by zero_grad
  bool decay;   // weight decay applies (weights yes; biases and norm parameters no)
};

// Non-trainable state that belongs to a model (BatchNorm running statistics).
struct Buffer {
  Buffer(std::string name_, Dims dims) : name(std::move(name_)), value(dims) {}
  std::string name;
  Tensor value;
};

// Up to kMaxInputs tensors by pointer; converts implicitly from one tensor so unary layers are
// called as layer.forward(x, y). No allocation.
inline constexpr int kMaxInputs = 4;

class Inputs {
 public:
  Inputs(const Tensor& x) : n_(1) { p_[0] = &x; }  // NOLINT(implicit)
  Inputs(std::initializer_list<const Tensor*> xs);
  Inputs(const std::vector<const Tensor*>& xs);  // NOLINT(implicit)
  int size() const { return n_; }
  const Tensor& operator[](int i) const { return *p_[size_t(i)]; }

 private:
  std::array<const Tensor*, kMaxInputs> p_{};
  int n_ = 0;
};

// Input-gradient outputs of backward; entries may be null (gradient not needed).
class InputGrads {
 public:
  InputGrads(Tensor& dx) : n_(1) { p_[0] = &dx; }  // NOLINT(implicit)
  InputGrads(Tensor* dx) : n_(1) { p_[0] = dx; }   // NOLINT(implicit); null: not needed
  InputGrads(std::initializer_list<Tensor*> dxs);
  InputGrads(const std::vector<Tensor*>& dxs);  // NOLINT(implicit)
  int size() const { return n_; }
  Tensor* operator[](int i) const { return p_[size_t(i)]; }

 private:
  std::array<Tensor*, kMaxInputs> p_{};
  int n_ = 0;
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  virtual const char* kind() const = 0;
  virtual int arity() const { return 1; }  // number of input tensors
  // Output dims for the given dims of input 0 (throws InternalError when incompatible).
  virtual Dims output_dims(const Dims& in) const = 0;

  virtual void forward(const Inputs& x, Tensor& y) = 0;
  virtual void backward(const Tensor& dy, const InputGrads& dx) = 0;

  virtual std::vector<Param*> params() { return {}; }
  virtual std::vector<Buffer*> buffers() { return {}; }
  // Default initialization of every parameter from rng (deterministic for a given seed and
  // call order).
  virtual void init(std::mt19937_64& rng) { (void)rng; }
  virtual void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }
  void zero_grad();

 protected:
  std::string param_name(const char* local) const { return name_ + "." + local; }

 private:
  std::string name_;
  bool training_ = true;
};

// Base of single-input layers: unpacks Inputs/InputGrads.
class UnaryLayer : public Layer {
 public:
  using Layer::Layer;
  void forward(const Inputs& x, Tensor& y) final;
  void backward(const Tensor& dy, const InputGrads& dx) final;

 protected:
  virtual void forward_one(const Tensor& x, Tensor& y) = 0;
  virtual void backward_one(const Tensor& dy, Tensor* dx) = 0;  // dx may be null
};

}  // namespace mixprec::model
