// Window geometry shared by MaxPool2d and AvgPool2d.
#pragma once
#include "model/tensor.hpp"

namespace mixprec::model {

struct Pool2dOptions {
  int kernel = 2, stride = 2, padding = 0;
};

// floor((size + 2 * padding - kernel) / stride) + 1 per spatial dimension.
inline Dims pool_output_dims(const std::string& layer, const Pool2dOptions& o, const Dims& in) {
  MIXPREC_CHECK(o.kernel > 0 && o.stride > 0 && o.padding >= 0 && 2 * o.padding <= o.kernel,
                layer + ": pool needs kernel, stride > 0 and padding <= kernel / 2");
  MIXPREC_CHECK(in.h + 2 * o.padding >= o.kernel && in.w + 2 * o.padding >= o.kernel,
                layer + ": input " + in.str() + " smaller than the pool window");
  return Dims{in.n, in.c, (in.h + 2 * o.padding - o.kernel) / o.stride + 1,
              (in.w + 2 * o.padding - o.kernel) / o.stride + 1};
}

}  // namespace mixprec::model
