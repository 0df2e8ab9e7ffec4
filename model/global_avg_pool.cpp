#include "model/global_avg_pool.hpp"

#include <algorithm>

namespace mixprec::model {

void GlobalAvgPool::forward_one(const Tensor& x, Tensor& y) {
  const Dims in = x.dims();
  MIXPREC_CHECK(in.h * in.w > 0, name() + ": empty plane " + in.str());
  in_dims_ = in;
  y.resize(output_dims(in));
  const std::int64_t planes = std::int64_t(in.n) * in.c, hw = std::int64_t(in.h) * in.w;
  // Each plane is one row: the row means are the output.
  y.vec() = x.matrix(planes, hw).rowwise().mean();
}

void GlobalAvgPool::backward_one(const Tensor& dy, Tensor* dx) {
  MIXPREC_CHECK(dy.dims() == output_dims(in_dims_), name() + ": dy " + dy.dims().str());
  if (!dx) return;
  dx->resize(in_dims_);
  const std::int64_t planes = std::int64_t(in_dims_.n) * in_dims_.c;
  const std::int64_t hw = std::int64_t(in_dims_.h) * in_dims_.w;
  const float inv = 1.0f / float(hw);
  for (std::int64_t pl = 0; pl < planes; ++pl) std::fill_n(dx->data() + pl * hw, hw, dy[pl] * inv);
}

}  // namespace mixprec::model
