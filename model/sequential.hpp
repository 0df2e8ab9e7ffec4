// A chain of single-input layers, itself a layer. Intermediate activations and gradients live
// in buffers owned here and are reused across calls.
#pragma once
#include <memory>
#include <utility>

#include "model/layer.hpp"

namespace mixprec::model {

class Sequential final : public UnaryLayer {
 public:
  explicit Sequential(std::string name) : UnaryLayer(std::move(name)) {}
  const char* kind() const override { return "sequential"; }

  Layer& add(std::unique_ptr<Layer> layer);
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    auto p = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *p;
    add(std::move(p));
    return ref;
  }
  std::size_t size() const { return layers_.size(); }
  Layer& operator[](std::size_t i) { return *layers_[i]; }

  Dims output_dims(const Dims& in) const override;
  std::vector<Param*> params() override;
  std::vector<Buffer*> buffers() override;
  void init(std::mt19937_64& rng) override;  // each layer in order
  void set_training(bool on) override;

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> acts_;  // output of layer i (i < size - 1)
  Tensor grad_[2];            // ping-pong input gradients
};

}  // namespace mixprec::model
