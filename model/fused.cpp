#include "model/fused.hpp"

#include <cmath>

#include "model/reduce.hpp"

namespace mixprec::model {

BatchNormReLU::BatchNormReLU(std::string name, const BatchNorm2dOptions& opt)
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

Dims BatchNormReLU::output_dims(const Dims& in) const {
  MIXPREC_CHECK(in.c == opt_.channels, name() + ": expected " + std::to_string(opt_.channels) +
                                           " channels, got " + in.str());
  return in;
}

void BatchNormReLU::init(std::mt19937_64& rng) {
  (void)rng;
  gamma_.value.fill(1.0f);
  beta_.value.set_zero();
  running_mean_.value.set_zero();
  running_var_.value.fill(1.0f);
}

// As BatchNorm2d::forward_one, then max(., 0) in the same pass.
void BatchNormReLU::forward_one(const Tensor& x, Tensor& y) {
  const Dims d = output_dims(x.dims());
  const int C = d.c;
  const std::int64_t hw = std::int64_t(d.h) * d.w;
  const std::int64_t m = std::int64_t(d.n) * hw;
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
      for (int n = 0; n < d.n; ++n)
        sum += reduce::sum_of(x.data() + std::int64_t(n) * d.per_sample() + c * hw, hw);
      mean = sum / double(m);
      double sq = 0;
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
        const float z = g * xh[i] + b;
        q[i] = z < 0.0f ? 0.0f : z;  // NaN propagates (the divergence check needs it)
      }
    }
  }
}

// As ReLU::backward_one then BatchNorm2d::backward_one, with the ReLU's gradient
// dz = z > 0 ? dy : 0 (z = gamma xhat + beta) formed on the fly.
void BatchNormReLU::backward_one(const Tensor& dy, Tensor* dx) {
  const Dims d = xhat_.dims();
  MIXPREC_CHECK(dy.dims() == d, name() + ": dy " + dy.dims().str() + " != " + d.str());
  const std::int64_t hw = std::int64_t(d.h) * d.w;
  const double m = double(d.n) * double(hw);
  if (dx) dx->resize(d);
  for (int c = 0; c < d.c; ++c) {
    const float gm = gamma_.value[c], bt = beta_.value[c];
    double sum_dz = 0, sum_dz_xhat = 0;
    for (int n = 0; n < d.n; ++n) {
      const std::int64_t off = std::int64_t(n) * d.per_sample() + c * hw;
      reduce::sums_of(dy.data() + off, xhat_.data() + off, hw, sum_dz, sum_dz_xhat, true, gm, bt);
    }
    gamma_.grad[c] += float(sum_dz_xhat);
    beta_.grad[c] += float(sum_dz);
    if (!dx) continue;
    const float scale = gm * inv_std_[size_t(c)];
    const float mean_dz = cached_training_ ? float(sum_dz / m) : 0.0f;
    const float mean_dz_xhat = cached_training_ ? float(sum_dz_xhat / m) : 0.0f;
    for (int n = 0; n < d.n; ++n) {
      const std::int64_t off = std::int64_t(n) * d.per_sample() + c * hw;
      const float* g = dy.data() + off;
      const float* xh = xhat_.data() + off;
      float* o = dx->data() + off;
      for (std::int64_t i = 0; i < hw; ++i) {
        const float gv = g[i];
        const float dz = gm * xh[i] + bt > 0.0f ? gv : 0.0f;
        o[i] = scale * (dz - mean_dz - xh[i] * mean_dz_xhat);
      }
    }
  }
}

void AddReLU::forward(const Inputs& x, Tensor& y) {
  MIXPREC_CHECK(x.size() == 2, name() + ": expects two inputs");
  MIXPREC_CHECK(x[0].dims() == x[1].dims(),
                name() + ": shapes differ " + x[0].dims().str() + " vs " + x[1].dims().str());
  MIXPREC_CHECK(&y != &x[0] && &y != &x[1], name() + ": output must not alias an input");
  y.resize(x[0].dims());
  const float* a = x[0].data();
  const float* b = x[1].data();
  float* o = y.data();
  for (std::int64_t i = 0; i < y.size(); ++i) {
    const float s = a[i] + b[i];
    o[i] = s < 0.0f ? 0.0f : s;  // NaN propagates
  }
  y_.assign(y);
}

void AddReLU::backward(const Tensor& dy, const InputGrads& dx) {
  MIXPREC_CHECK(dx.size() == 2, name() + ": expects two input gradients");
  MIXPREC_CHECK(dy.dims() == y_.dims(), name() + ": dy " + dy.dims().str() + " != " + y_.dims().str());
  Tensor* d0 = dx[0];
  Tensor* d1 = dx[1];
  if (d0) d0->resize(dy.dims());
  if (d1) d1->resize(dy.dims());
  const float* g = dy.data();
  const float* y = y_.data();
  float* o0 = d0 ? d0->data() : nullptr;
  float* o1 = d1 ? d1->data() : nullptr;
  for (std::int64_t i = 0; i < dy.size(); ++i) {
    const float gv = g[i];
    const float v = y[i] > 0.0f ? gv : 0.0f;  // unconditional load: a select, vectorizable
    if (o0) o0[i] = v;
    if (o1) o1[i] = v;
  }
}

}  // namespace mixprec::model
