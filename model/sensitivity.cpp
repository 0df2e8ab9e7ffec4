#include "model/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/errors.hpp"
#include "model/loss.hpp"
#include "model/quant.hpp"

namespace mixprec::model {

namespace {

// Mean loss gradient over up to opt.max_samples samples, accumulated in the params' grads.
void loss_gradient(Graph& g, BatchSource& data, bool regression, const SensitivityOptions& opt) {
  g.zero_grad();
  data.start_epoch(0);
  Batch b;
  int seen = 0;
  SoftmaxCrossEntropy ce;
  MseLoss mse;
  Tensor dlogits;
  while (seen < opt.max_samples && data.next_batch(std::min(opt.batch_size, opt.max_samples - seen), b)) {
    const Tensor& y = g.forward(b.x);
    if (regression) {
      Tensor target(y.dims());
      MIXPREC_CHECK(std::int64_t(b.targets.size()) == target.size(), "one target per output");
      std::copy(b.targets.begin(), b.targets.end(), target.data());
      mse.forward(y, target);
      mse.backward(dlogits, double(b.size) / opt.max_samples);
    } else {
      ce.forward(y, b.labels);
      ce.backward(dlogits, double(b.size) / opt.max_samples);
    }
    g.backward(dlogits);
    seen += b.size;
  }
  MIXPREC_CHECK(seen > 0, "sensitivity needs at least one sample");
}

}  // namespace

std::vector<double> hessian_trace_per_weight(Graph& g, BatchSource& data, bool regression,
                                             const SensitivityOptions& opt) {
  const bool was_training = g.training();
  g.set_training(false);
  std::vector<Param*> ps = g.params();
  const std::vector<int>& owner = g.param_layers();
  const int L = g.layer_count();
  std::vector<double> trace(L, 0.0), count(L, 0.0);
  std::mt19937_64 rng(opt.seed);
  std::vector<std::vector<float>> v(ps.size()), gplus(ps.size());
  for (int s = 0; s < opt.samples; ++s) {
    for (std::size_t i = 0; i < ps.size(); ++i) {
      if (ps[i]->role != ParamRole::Weight && ps[i]->role != ParamRole::RecurrentWeight) continue;
      v[i].resize(std::size_t(ps[i]->value.size()));
      for (float& x : v[i]) x = (rng() >> 63) ? 1.0f : -1.0f;
    }
    auto shift = [&](float sign) {
      for (std::size_t i = 0; i < ps.size(); ++i)
        for (std::size_t k = 0; k < v[i].size(); ++k) ps[i]->value.data()[k] += sign * opt.epsilon * v[i][k];
    };
    shift(+1);
    loss_gradient(g, data, regression, opt);
    for (std::size_t i = 0; i < ps.size(); ++i)
      gplus[i].assign(ps[i]->grad.data(), ps[i]->grad.data() + (v[i].empty() ? 0 : ps[i]->grad.size()));
    shift(-2);
    loss_gradient(g, data, regression, opt);
    shift(+1);  // back to w
    for (std::size_t i = 0; i < ps.size(); ++i) {
      if (v[i].empty()) continue;
      double vhv = 0;
      for (std::size_t k = 0; k < v[i].size(); ++k)
        vhv += double(v[i][k]) * (double(gplus[i][k]) - double(ps[i]->grad.data()[k])) / (2.0 * opt.epsilon);
      trace[owner[i]] += vhv / opt.samples;
      if (s == 0) count[owner[i]] += double(v[i].size());
    }
  }
  g.zero_grad();
  g.set_training(was_training);
  for (int l = 0; l < L; ++l) trace[l] = count[l] > 0 ? trace[l] / count[l] : 0.0;
  return trace;
}

double weight_perturbation(Graph& g, int layer, const LayerPrecision& p) {
  std::vector<Param*> ps = g.params();
  const std::vector<int>& owner = g.param_layers();
  double sum = 0;
  std::vector<float> q;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (owner[i] != layer) continue;
    const ParamRole role = ps[i]->role;
    if (role != ParamRole::Weight && role != ParamRole::RecurrentWeight) continue;
    const Operand op = role == ParamRole::RecurrentWeight ? p.recurrent_weights() : p.weights();
    const Tensor& w = ps[i]->value;
    q.resize(std::size_t(w.size()));
    if (op.format == NumFormat::Int) {
      const IntGrid grid = symmetric_grid(op.bits);
      const std::int64_t rows = w.dims().n, cols = w.size() / std::max<std::int64_t>(1, rows);
      for (std::int64_t r = 0; r < rows; ++r) {
        const float* x = w.data() + r * cols;
        float max_abs = 0;
        for (std::int64_t k = 0; k < cols; ++k) max_abs = std::max(max_abs, std::fabs(x[k]));
        fake_quant(x, cols, step_for_max_abs(max_abs, grid), grid, q.data() + r * cols);
      }
    } else {
      round_to_format(w.data(), w.size(), op.format, q.data());
    }
    for (std::int64_t k = 0; k < w.size(); ++k) {
      const double d = double(q[std::size_t(k)]) - double(w.data()[k]);
      sum += d * d;
    }
  }
  return sum;
}

std::vector<double> hessian_sensitivity(Graph& g, const std::vector<double>& trace_per_weight,
                                        const std::vector<LayerPrecision>& options) {
  const int L = g.layer_count();
  MIXPREC_CHECK(int(trace_per_weight.size()) == L, "one trace per layer");
  std::vector<double> out(std::size_t(L) * options.size(), 0.0);
  for (int l = 0; l < L; ++l)
    for (std::size_t o = 0; o < options.size(); ++o)
      out[std::size_t(l) * options.size() + o] =
          std::max(0.0, trace_per_weight[l]) * weight_perturbation(g, l, options[o]);
  return out;
}

}  // namespace mixprec::model
