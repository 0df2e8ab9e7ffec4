#include "model/linear.hpp"

#include "model/gemm.hpp"
#include "model/init.hpp"

namespace mixprec::model {

Linear::Linear(std::string name, const LinearOptions& opt)
    : UnaryLayer(std::move(name)),
      opt_(opt),
      weight_(param_name("weight"), ParamRole::Weight,
              Dims{opt.out_features, opt.in_features, 1, 1}, true),
      bias_(param_name("bias"), ParamRole::Bias, Dims{opt.bias ? opt.out_features : 0, 1, 1, 1},
            false) {
  MIXPREC_CHECK(opt.in_features > 0 && opt.out_features > 0, this->name() + ": features");
}

Dims Linear::output_dims(const Dims& in) const {
  // One row per sample (anything flattening to in_features), or one row per step of a
  // (n, steps, in_features, 1) sequence; any other factorization is a wiring mistake.
  if (in.per_sample() == opt_.in_features) return Dims{in.n, opt_.out_features, 1, 1};
  MIXPREC_CHECK(std::int64_t(in.h) * in.w == opt_.in_features,
                name() + ": input " + in.str() + " is neither " +
                    std::to_string(opt_.in_features) + " features per sample nor a sequence of " +
                    std::to_string(opt_.in_features) + " features per step");
  return Dims{in.n, in.c, opt_.out_features, 1};
}

std::vector<Param*> Linear::params() {
  if (opt_.bias) return {&weight_, &bias_};
  return {&weight_};
}

void Linear::init(std::mt19937_64& rng) {
  xavier_uniform(weight_.value, rng);
  bias_.value.set_zero();
}

void Linear::forward_one(const Tensor& x, Tensor& y) {
  y.resize(output_dims(x.dims()));
  x_.assign(x);
  const std::int64_t rows = x.size() / opt_.in_features;
  const std::int64_t in = opt_.in_features, out_f = opt_.out_features;
  sgemm(false, true, rows, out_f, in, x.data(), in, weight_.value.data(), in, 0.0f, y.data(), out_f);
  if (opt_.bias) y.matrix(rows, out_f).rowwise() += bias_.value.vec().transpose();
}

void Linear::backward_one(const Tensor& dy, Tensor* dx) {
  MIXPREC_CHECK(dy.dims() == output_dims(x_.dims()), name() + ": dy " + dy.dims().str());
  const std::int64_t rows = x_.size() / opt_.in_features;
  const std::int64_t in = opt_.in_features, out_f = opt_.out_features;
  // dW += dy^T x;  dx = dy W
  sgemm(true, false, out_f, in, rows, dy.data(), out_f, x_.data(), in, 1.0f, weight_.grad.data(), in);
  if (opt_.bias) bias_.grad.vec() += dy.matrix(rows, out_f).colwise().sum().transpose();
  if (dx) {
    dx->resize(x_.dims());
    sgemm(false, false, rows, in, out_f, dy.data(), out_f, weight_.value.data(), in, 0.0f, dx->data(), in);
  }
}

}  // namespace mixprec::model
