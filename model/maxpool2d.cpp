#include "model/maxpool2d.hpp"

#include <algorithm>
#include <limits>

namespace mixprec::model {

void MaxPool2d::forward_one(const Tensor& x, Tensor& y) {
  const Dims in = x.dims();
  const Dims od = output_dims(in);
  y.resize(od);
  in_dims_ = in;
  argmax_.resize(size_t(od.count()));
  const std::int64_t planes = std::int64_t(in.n) * in.c;
  const std::int64_t in_hw = std::int64_t(in.h) * in.w, out_hw = std::int64_t(od.h) * od.w;
  for (std::int64_t pl = 0; pl < planes; ++pl) {
    const float* src = x.data() + pl * in_hw;
    float* dst = y.data() + pl * out_hw;
    std::int32_t* arg = argmax_.data() + pl * out_hw;
    for (int oy = 0; oy < od.h; ++oy) {
      const int y0 = std::max(0, oy * opt_.stride - opt_.padding);
      const int y1 = std::min(in.h, oy * opt_.stride - opt_.padding + opt_.kernel);
      for (int ox = 0; ox < od.w; ++ox) {
        const int x0 = std::max(0, ox * opt_.stride - opt_.padding);
        const int x1 = std::min(in.w, ox * opt_.stride - opt_.padding + opt_.kernel);
        float best = -std::numeric_limits<float>::infinity();
        std::int32_t best_i = y0 * in.w + x0;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) {
            const float v = src[iy * in.w + ix];
            if (v > best) {
              best = v;
              best_i = iy * in.w + ix;
            }
          }
        dst[oy * od.w + ox] = best;
        arg[oy * od.w + ox] = best_i;
      }
    }
  }
}

void MaxPool2d::backward_one(const Tensor& dy, Tensor* dx) {
  const Dims od = output_dims(in_dims_);
  MIXPREC_CHECK(dy.dims() == od, name() + ": dy " + dy.dims().str() + " != " + od.str());
  if (!dx) return;
  dx->resize(in_dims_);
  dx->set_zero();
  const std::int64_t planes = std::int64_t(od.n) * od.c;
  const std::int64_t in_hw = std::int64_t(in_dims_.h) * in_dims_.w,
                     out_hw = std::int64_t(od.h) * od.w;
  for (std::int64_t pl = 0; pl < planes; ++pl) {
    const float* g = dy.data() + pl * out_hw;
    const std::int32_t* arg = argmax_.data() + pl * out_hw;
    float* o = dx->data() + pl * in_hw;
    for (std::int64_t i = 0; i < out_hw; ++i) o[arg[i]] += g[i];
  }
}

}  // namespace mixprec::model
