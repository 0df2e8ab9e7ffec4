#include "model/avgpool2d.hpp"

#include <algorithm>

namespace mixprec::model {

void AvgPool2d::forward_one(const Tensor& x, Tensor& y) {
  const Dims in = x.dims();
  const Dims od = output_dims(in);
  y.resize(od);
  in_dims_ = in;
  const float scale = 1.0f / float(opt_.kernel * opt_.kernel);
  const std::int64_t planes = std::int64_t(in.n) * in.c;
  const std::int64_t in_hw = std::int64_t(in.h) * in.w, out_hw = std::int64_t(od.h) * od.w;
  for (std::int64_t pl = 0; pl < planes; ++pl) {
    const float* src = x.data() + pl * in_hw;
    float* dst = y.data() + pl * out_hw;
    for (int oy = 0; oy < od.h; ++oy) {
      const int y0 = std::max(0, oy * opt_.stride - opt_.padding);
      const int y1 = std::min(in.h, oy * opt_.stride - opt_.padding + opt_.kernel);
      for (int ox = 0; ox < od.w; ++ox) {
        const int x0 = std::max(0, ox * opt_.stride - opt_.padding);
        const int x1 = std::min(in.w, ox * opt_.stride - opt_.padding + opt_.kernel);
        float sum = 0.0f;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) sum += src[iy * in.w + ix];
        dst[oy * od.w + ox] = sum * scale;
      }
    }
  }
}

void AvgPool2d::backward_one(const Tensor& dy, Tensor* dx) {
  const Dims od = output_dims(in_dims_);
  MIXPREC_CHECK(dy.dims() == od, name() + ": dy " + dy.dims().str() + " != " + od.str());
  if (!dx) return;
  const Dims in = in_dims_;
  dx->resize(in);
  dx->set_zero();
  const float scale = 1.0f / float(opt_.kernel * opt_.kernel);
  const std::int64_t planes = std::int64_t(in.n) * in.c;
  const std::int64_t in_hw = std::int64_t(in.h) * in.w, out_hw = std::int64_t(od.h) * od.w;
  for (std::int64_t pl = 0; pl < planes; ++pl) {
    const float* g = dy.data() + pl * out_hw;
    float* o = dx->data() + pl * in_hw;
    for (int oy = 0; oy < od.h; ++oy) {
      const int y0 = std::max(0, oy * opt_.stride - opt_.padding);
      const int y1 = std::min(in.h, oy * opt_.stride - opt_.padding + opt_.kernel);
      for (int ox = 0; ox < od.w; ++ox) {
        const int x0 = std::max(0, ox * opt_.stride - opt_.padding);
        const int x1 = std::min(in.w, ox * opt_.stride - opt_.padding + opt_.kernel);
        const float v = g[oy * od.w + ox] * scale;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) o[iy * in.w + ix] += v;
      }
    }
  }
}

}  // namespace mixprec::model
