#include "model/sequential.hpp"

namespace mixprec::model {

Layer& Sequential::add(std::unique_ptr<Layer> layer) {
  MIXPREC_CHECK(layer != nullptr, name() + ": null layer");
  MIXPREC_CHECK(layer->arity() == 1, name() + ": " + layer->name() + " takes " +
                                         std::to_string(layer->arity()) + " inputs");
  layer->set_training(training());
  layers_.push_back(std::move(layer));
  acts_.resize(layers_.size());
  return *layers_.back();
}

Dims Sequential::output_dims(const Dims& in) const {
  Dims d = in;
  for (const auto& l : layers_) d = l->output_dims(d);
  return d;
}

std::vector<Param*> Sequential::params() {
  std::vector<Param*> out;
  for (auto& l : layers_)
    for (Param* p : l->params()) out.push_back(p);
  return out;
}

std::vector<Buffer*> Sequential::buffers() {
  std::vector<Buffer*> out;
  for (auto& l : layers_)
    for (Buffer* b : l->buffers()) out.push_back(b);
  return out;
}

void Sequential::init(std::mt19937_64& rng) {
  for (auto& l : layers_) l->init(rng);
}

void Sequential::set_training(bool on) {
  Layer::set_training(on);
  for (auto& l : layers_) l->set_training(on);
}

void Sequential::forward_one(const Tensor& x, Tensor& y) {
  if (layers_.empty()) {
    y.assign(x);
    return;
  }
  const Tensor* in = &x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Tensor& out = i + 1 == layers_.size() ? y : acts_[i];
    layers_[i]->forward(*in, out);
    in = &out;
  }
}

void Sequential::backward_one(const Tensor& dy, Tensor* dx) {
  if (layers_.empty()) {
    if (dx) dx->assign(dy);
    return;
  }
  const Tensor* g = &dy;
  for (std::size_t k = layers_.size(); k-- > 0;) {
    Tensor* out = k == 0 ? dx : &grad_[k % 2];
    layers_[k]->backward(*g, out);
    g = out;
  }
}

}  // namespace mixprec::model
