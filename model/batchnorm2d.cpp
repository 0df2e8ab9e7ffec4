#include "model/batchnorm2d.hpp"

#include "model/reduce.hpp"

#include <algorithm>
#include <cmath>

namespace mixprec::model {


BatchNorm2d::BatchNorm2d(std::string name, const BatchNorm2dOptions& opt)
    : UnaryLayer(std::move(name)),
      opt_(opt),
      gamma_(param_name("gamma"), ParamRole::NormScale, Dims{opt.channels, 1, 1, 1}, false),
      beta_(param_name("beta"), ParamRole::NormShift, Dims{opt.channels, 1, 1, 1}, false),
      running_mean_(param_name("running_mean"), Dims{opt.channels, 1, 1, 1}),
      running_var_(param_name("running_var"), Dims{opt.channels, 1, 1, 1}) {
  MIXPREC_CHECK(opt.channels > 0, this->name() + ": channels");
  MIXPREC_CHECK(opt.eps > 0 && opt.momentum >= 0 && opt.momentum <= 1,
                this->name() + ": eps/momentum");
  std::mt19937_64 unused;
  init(unused);
}

Dims BatchNorm2d::output_dims(const Dims& in) const {
  MIXPREC_CHECK(in.c == opt_.channels, name() + ": expected " + std::to_string(opt_.channels) +
                                           " channels, got " + in.str());
  return in;
}

void BatchNorm2d::init(std::mt19937_64& rng) {
  (void)rng;
  gamma_.value.fill(1.0f);
  beta_.value.set_zero();
  running_mean_.value.set_zero();
  running_var_.value.fill(1.0f);
}

void BatchNorm2d::forward_one(const Tensor& x, Tensor& y) {
  const Dims d = output_dims(x.dims());
  const int C = d.c;
  const std::int64_t hw = std::int64_t(d.h) * d.w;
  const std::int64_t m = std::int64_t(d.n) * hw;  // values per channel
  y.resize(d);
  xhat_.resize(d);
  inv_std_.resize(size_t(C));
  cached_training_ = training();
  float* rmean = running_mean_.value.data();
  float* rvar = running_var_.value.data();
  for (int c = 0; c < C; ++c) {
    double mean, var;
    if (cached_training_) {
      MIXPREC_CHECK(m > 1, name() + ": training needs more than one value per channel");
      double sum = 0;
      for (int n = 0; n < d.n; ++n) sum += reduce::sum_of(x.data() + std::int64_t(n) * d.per_sample() + c * hw, hw);
      mean = sum / double(m);
      double sq = 0;  // two-pass variance: no cancellation
      for (int n = 0; n < d.n; ++n)
        sq += reduce::sq_dev_of(x.data() + std::int64_t(n) * d.per_sample() + c * hw, hw, float(mean));
      var = sq / double(m);
      const double mom = opt_.momentum;
      rmean[c] = float((1 - mom) * rmean[c] + mom * mean);
      rvar[c] = float((1 - mom) * rvar[c] + mom * var * double(m) / double(m - 1));
    } else {
      mean = rmean[c];
      var = rvar[c];
    }
    const double inv = 1.0 / std::sqrt(var + opt_.eps);
    inv_std_[size_t(c)] = float(inv);
    const float g = gamma_.value[c], b = beta_.value[c];
    const float fmean = float(mean), finv = float(inv);
    for (int n = 0; n < d.n; ++n) {
      const std::int64_t off = std::int64_t(n) * d.per_sample() + c * hw;
      const float* p = x.data() + off;
      float* xh = xhat_.data() + off;
      float* q = y.data() + off;
      for (std::int64_t i = 0; i < hw; ++i) {
        xh[i] = (p[i] - fmean) * finv;
        q[i] = g * xh[i] + b;
      }
    }
  }
}

// Training mode: dx = gamma * inv_std / m * (m * dy - sum(dy) - xhat * sum(dy * xhat)),
// the batch statistics depending on x. Evaluation mode: dx = gamma * inv_std * dy.
void BatchNorm2d::backward_one(const Tensor& dy, Tensor* dx) {
  const Dims d = xhat_.dims();
  MIXPREC_CHECK(dy.dims() == d, name() + ": dy " + dy.dims().str() + " != " + d.str());
  const std::int64_t hw = std::int64_t(d.h) * d.w;
  const double m = double(d.n) * double(hw);
  if (dx) dx->resize(d);
  for (int c = 0; c < d.c; ++c) {
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int n = 0; n < d.n; ++n) {
      const std::int64_t off = std::int64_t(n) * d.per_sample() + c * hw;
      reduce::sums_of(dy.data() + off, xhat_.data() + off, hw, sum_dy, sum_dy_xhat);
    }
    gamma_.grad[c] += float(sum_dy_xhat);
    beta_.grad[c] += float(sum_dy);
    if (!dx) continue;
    const float scale = gamma_.value[c] * inv_std_[size_t(c)];
    const float mean_dy = cached_training_ ? float(sum_dy / m) : 0.0f;
    const float mean_dy_xhat = cached_training_ ? float(sum_dy_xhat / m) : 0.0f;
    for (int n = 0; n < d.n; ++n) {
      const std::int64_t off = std::int64_t(n) * d.per_sample() + c * hw;
      const float* g = dy.data() + off;
      const float* xh = xhat_.data() + off;
      float* o = dx->data() + off;
      for (std::int64_t i = 0; i < hw; ++i) o[i] = scale * (g[i] - mean_dy - xh[i] * mean_dy_xhat);
    }
  }
}

}  // namespace mixprec::model
