// Central-difference gradient checking for the model tests.
//
// Why float differences suffice here: with inputs of order 1 and step eps = 1e-2, the
// truncation error of a central difference is O(eps^2 f''') ~ 1e-5 and the rounding error is
// about 1e-7 |L| / eps ~ 1e-5 (the loss is summed in double). The tolerances below (1e-2
// relative on the whole gradient, 1e-3 + 1e-2 relative per element) sit two orders above that
// noise and well below the O(1) relative error of a wrong sign, a missing term or a wrong
// scale; the "checker rejects" tests prove it does fail on such bugs.
#pragma once
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "model/layer.hpp"

namespace mixprec::model::testing {

struct GradCheckOptions {
  double eps = 1e-2;
  double rtol = 1e-2;
  double atol = 1e-3;
};

struct GradCheckResult {
  std::string what;
  bool ok = true;
  double rel_err = 0;      // ||fd - analytic|| / max(||fd||, ||analytic||)
  double max_abs_err = 0;  // worst element
  std::int64_t worst = -1;
  double worst_fd = 0, worst_analytic = 0;
  std::string str() const {
    std::ostringstream s;
    s << what << ": rel_err " << rel_err << ", worst element " << worst << " fd " << worst_fd
      << " analytic " << worst_analytic << (ok ? " ok" : " FAILED");
    return s.str();
  }
};

// Compares `analytic` with central differences of loss() over the n floats at x.
inline GradCheckResult check_gradient(const std::string& what, float* x, std::int64_t n,
                                      const std::vector<double>& analytic,
                                      const std::function<double()>& loss,
                                      const GradCheckOptions& opt = {}) {
  GradCheckResult r;
  r.what = what;
  double diff2 = 0, fd2 = 0, an2 = 0, worst_excess = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    const float saved = x[i];
    const float xp = float(saved + opt.eps), xm = float(saved - opt.eps);
    x[i] = xp;
    const double lp = loss();
    x[i] = xm;
    const double lm = loss();
    x[i] = saved;
    const double fd = (lp - lm) / (double(xp) - double(xm));
    const double an = analytic[size_t(i)];
    const double err = std::abs(fd - an);
    diff2 += err * err;
    fd2 += fd * fd;
    an2 += an * an;
    const double excess = err - (opt.atol + opt.rtol * std::max(std::abs(fd), std::abs(an)));
    if (excess > worst_excess) {
      worst_excess = excess;
      r.worst = i;
      r.worst_fd = fd;
      r.worst_analytic = an;
    }
    r.max_abs_err = std::max(r.max_abs_err, err);
  }
  const double scale = std::max({std::sqrt(fd2), std::sqrt(an2), 1e-12});
  r.rel_err = std::sqrt(diff2) / scale;
  // Both gradients zero (e.g. a bias of a layer whose output the projection ignores) passes.
  r.ok = worst_excess <= 0 && (r.rel_err <= opt.rtol || std::sqrt(fd2) + std::sqrt(an2) < 1e-9);
  return r;
}

inline void fill_uniform(Tensor& t, float lo, float hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(lo, hi);  // test data only: need not be portable
  for (std::int64_t i = 0; i < t.size(); ++i) t[i] = u(rng);
}

// Values of magnitude in [margin, 1] with random signs: keeps ReLU inputs off the kink.
inline void fill_away_from_zero(Tensor& t, float margin, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(margin, 1.0f);
  std::bernoulli_distribution sign(0.5);
  for (std::int64_t i = 0; i < t.size(); ++i) t[i] = sign(rng) ? u(rng) : -u(rng);
}

inline std::vector<double> to_double(const Tensor& t) {
  return std::vector<double>(t.data(), t.data() + t.size());
}

// Checks d(sum(r * y))/d(inputs) and d/d(params) of a layer, r a fixed random tensor.
// before_forward runs before every forward (e.g. to re-seed Dropout).
inline std::vector<GradCheckResult> check_layer(Layer& layer, std::vector<Tensor>& inputs,
                                                const std::function<void()>& before_forward = {},
                                                const GradCheckOptions& opt = {},
                                                std::uint64_t seed = 99) {
  std::vector<const Tensor*> in_ptrs;
  for (Tensor& t : inputs) in_ptrs.push_back(&t);
  Tensor y;
  Tensor r;
  const auto loss = [&]() {
    if (before_forward) before_forward();
    layer.forward(Inputs(in_ptrs), y);
    double s = 0;
    for (std::int64_t i = 0; i < y.size(); ++i) s += double(r[i]) * y[i];
    return s;
  };
  if (before_forward) before_forward();
  layer.forward(Inputs(in_ptrs), y);
  r.resize(y.dims());
  std::mt19937_64 rng(seed);
  fill_uniform(r, -1.0f, 1.0f, rng);

  // Analytic gradients.
  loss();
  layer.zero_grad();
  std::vector<Tensor> dx(inputs.size());
  std::vector<Tensor*> dx_ptrs;
  for (Tensor& t : dx) dx_ptrs.push_back(&t);
  layer.backward(r, InputGrads(dx_ptrs));
  std::vector<std::vector<double>> param_grads;
  for (Param* p : layer.params()) param_grads.push_back(to_double(p->grad));

  std::vector<GradCheckResult> results;
  for (size_t i = 0; i < inputs.size(); ++i) {
    REQUIRE(dx[i].dims() == inputs[i].dims());
    results.push_back(check_gradient(layer.name() + " d/dinput" + std::to_string(i),
                                     inputs[i].data(), inputs[i].size(), to_double(dx[i]), loss,
                                     opt));
  }
  size_t k = 0;
  for (Param* p : layer.params()) {
    results.push_back(
        check_gradient(p->name, p->value.data(), p->value.size(), param_grads[k++], loss, opt));
  }
  return results;
}

}  // namespace mixprec::model::testing
