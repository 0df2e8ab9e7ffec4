#include "model/elementwise.hpp"

#include <algorithm>
#include <cmath>

namespace mixprec::model {

void Elementwise::forward(const Inputs& x, Tensor& y) {
  const Tensor& a = x[0];
  y.resize(a.dims());
  const std::int64_t n = a.size();
  switch (op_) {
    case ElementwiseOp::Relu:
      for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] > 0.0f ? a[i] : 0.0f;
      break;
    case ElementwiseOp::Sigmoid:
      for (std::int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-a[i]));
      break;
    case ElementwiseOp::Tanh:
      for (std::int64_t i = 0; i < n; ++i) y[i] = std::tanh(a[i]);
      break;
    case ElementwiseOp::Mul: {
      const Tensor& b = x[1];
      MIXPREC_CHECK(b.dims() == a.dims(), name() + ": " + a.dims().str() + " * " + b.dims().str());
      for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
      a_.assign(a);
      b_.assign(b);
      return;
    }
  }
  y_.assign(y);
}

void Elementwise::backward(const Tensor& dy, const InputGrads& dx) {
  const std::int64_t n = dy.size();
  if (op_ == ElementwiseOp::Mul) {
    for (int k = 0; k < 2; ++k) {
      if (!dx[k]) continue;
      const Tensor& other = k == 0 ? b_ : a_;
      dx[k]->resize(dy.dims());
      for (std::int64_t i = 0; i < n; ++i) (*dx[k])[i] = dy[i] * other[i];
    }
    return;
  }
  if (!dx[0]) return;
  Tensor& g = *dx[0];
  g.resize(dy.dims());
  for (std::int64_t i = 0; i < n; ++i) {
    const float y = y_[i];
    switch (op_) {
      case ElementwiseOp::Relu: g[i] = y > 0.0f ? dy[i] : 0.0f; break;
      case ElementwiseOp::Sigmoid: g[i] = dy[i] * y * (1.0f - y); break;
      case ElementwiseOp::Tanh: g[i] = dy[i] * (1.0f - y * y); break;
      case ElementwiseOp::Mul: break;
    }
  }
}

void Concat::forward(const Inputs& x, Tensor& y) {
  const Tensor& a = x[0];
  const Tensor& b = x[1];
  MIXPREC_CHECK(a.dims().n == b.dims().n, name() + ": batch " + a.dims().str() + " vs " + b.dims().str());
  da_ = a.dims();
  db_ = b.dims();
  const std::int64_t fa = a.dims().per_sample() / rows_, fb = b.dims().per_sample() / rows_;
  y.resize(output_dims(a.dims()));
  MIXPREC_CHECK(y.dims().per_sample() == (fa + fb) * rows_, name() + ": output " + y.dims().str());
  const std::int64_t rows = std::int64_t(a.dims().n) * rows_;
  for (std::int64_t r = 0; r < rows; ++r) {
    std::copy_n(a.data() + r * fa, fa, y.data() + r * (fa + fb));
    std::copy_n(b.data() + r * fb, fb, y.data() + r * (fa + fb) + fa);
  }
}

void Concat::backward(const Tensor& dy, const InputGrads& dx) {
  const std::int64_t fa = da_.per_sample() / rows_, fb = db_.per_sample() / rows_;
  const std::int64_t rows = std::int64_t(da_.n) * rows_;
  if (dx[0]) dx[0]->resize(da_);
  if (dx[1]) dx[1]->resize(db_);
  for (std::int64_t r = 0; r < rows; ++r) {
    if (dx[0]) std::copy_n(dy.data() + r * (fa + fb), fa, dx[0]->data() + r * fa);
    if (dx[1]) std::copy_n(dy.data() + r * (fa + fb) + fa, fb, dx[1]->data() + r * fb);
  }
}

}  // namespace mixprec::model
