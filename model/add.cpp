#include "model/add.hpp"

namespace mixprec::model {

void Add::forward(const Inputs& x, Tensor& y) {
  MIXPREC_CHECK(x.size() == 2, name() + ": expects two inputs");
  MIXPREC_CHECK(x[0].dims() == x[1].dims(),
                name() + ": shapes differ " + x[0].dims().str() + " vs " + x[1].dims().str());
  dims_ = x[0].dims();
  if (&y == &x[0]) {
    y.vec() += x[1].vec();
  } else if (&y == &x[1]) {
    y.vec() += x[0].vec();
  } else {
    y.resize(dims_);
    y.vec() = x[0].vec() + x[1].vec();
  }
}

void Add::backward(const Tensor& dy, const InputGrads& dx) {
  MIXPREC_CHECK(dx.size() == 2, name() + ": expects two input gradients");
  MIXPREC_CHECK(dy.dims() == dims_, name() + ": dy " + dy.dims().str() + " != " + dims_.str());
  for (int i = 0; i < 2; ++i)
    if (dx[i] && dx[i] != &dy) dx[i]->assign(dy);
}

}  // namespace mixprec::model
