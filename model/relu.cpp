#include "model/relu.hpp"

namespace mixprec::model {

void ReLU::forward_one(const Tensor& x, Tensor& y) {
  y.resize(x.dims());
  y.vec() = x.vec().cwiseMax(0.0f);
  y_.assign(y);
}

void ReLU::backward_one(const Tensor& dy, Tensor* dx) {
  MIXPREC_CHECK(dy.dims() == y_.dims(),
                name() + ": dy " + dy.dims().str() + " != " + y_.dims().str());
  if (!dx) return;
  dx->resize(dy.dims());
  const float* g = dy.data();
  const float* y = y_.data();
  float* o = dx->data();
  // Load g unconditionally: `y > 0 ? g[i] : 0` is a conditional load the compiler will not
  // vectorize; a select on loaded values is.
  for (std::int64_t i = 0; i < dy.size(); ++i) {
    const float gv = g[i];
    o[i] = y[i] > 0.0f ? gv : 0.0f;
  }
}

}  // namespace mixprec::model
