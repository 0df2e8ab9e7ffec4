// Optimizers against hand-computed steps; schedules; gradient clipping.
#include <catch2/catch.hpp>
#include <cmath>

#include "model/model.hpp"

using namespace mixprec::model;

namespace {
Param make_param(std::vector<float> values, bool decay, const char* name = "w") {
  Param p(name, decay ? ParamRole::Weight : ParamRole::Bias, Dims{int(values.size()), 1, 1, 1},
          decay);
  for (size_t i = 0; i < values.size(); ++i) p.value[std::int64_t(i)] = values[i];
  return p;
}
void set_grad(Param& p, std::vector<float> g) {
  for (size_t i = 0; i < g.size(); ++i) p.grad[std::int64_t(i)] = g[i];
}
}  // namespace

TEST_CASE("optim: SGD with momentum, two steps by hand", "[model][optim]") {
  // lr 0.1, momentum 0.9, v0 = 0, w0 = 1.
  // step 1, g = 2: v = 2,             w = 1 - 0.1 * 2     = 0.8
  // step 2, g = 1: v = 0.9 * 2 + 1 = 2.8, w = 0.8 - 0.1 * 2.8 = 0.52
  Param p = make_param({1.0f}, true);
  Sgd sgd({&p}, SgdOptions{0.1, 0.9, 0.0, false});
  set_grad(p, {2.0f});
  sgd.step();
  CHECK(p.value[0] == Approx(0.8f).epsilon(1e-6));
  set_grad(p, {1.0f});
  sgd.step();
  CHECK(p.value[0] == Approx(0.52f).epsilon(1e-6));
  CHECK(sgd.steps() == 2);
}

TEST_CASE("optim: SGD Nesterov and coupled weight decay by hand", "[model][optim]") {
  SECTION("nesterov") {
    // step 1, g = 2: v = 2,   w = 1 - 0.1 * (2 + 0.9 * 2)     = 0.62
    // step 2, g = 1: v = 2.8, w = 0.62 - 0.1 * (1 + 0.9 * 2.8) = 0.268
    Param p = make_param({1.0f}, true);
    Sgd sgd({&p}, SgdOptions{0.1, 0.9, 0.0, true});
    set_grad(p, {2.0f});
    sgd.step();
    CHECK(p.value[0] == Approx(0.62f).epsilon(1e-6));
    set_grad(p, {1.0f});
    sgd.step();
    CHECK(p.value[0] == Approx(0.268f).epsilon(1e-6));
  }
  SECTION("weight decay only where Param::decay") {
    // g' = 2 + 0.1 * 1 = 2.1: w = 1 - 0.1 * 2.1 = 0.79; the bias ignores the decay: 0.8.
    Param w = make_param({1.0f}, true), b = make_param({1.0f}, false, "b");
    Sgd sgd({&w, &b}, SgdOptions{0.1, 0.9, 0.1, false});
    set_grad(w, {2.0f});
    set_grad(b, {2.0f});
    sgd.step();
    CHECK(w.value[0] == Approx(0.79f).epsilon(1e-6));
    CHECK(b.value[0] == Approx(0.8f).epsilon(1e-6));
  }
}

TEST_CASE("optim: AdamW, two steps by hand", "[model][optim]") {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.1 (decoupled: w *= 1 - lr * wd).
  // w0 = [1, -2] (decayed), b0 = [0.5] (not decayed).
  // step 1, g = [0.5, -0.1]: m = [0.05, -0.01], v = [2.5e-4, 1e-5]; m_hat = g, v_hat = g^2,
  //   so the Adam step is lr * sign(g) (up to eps):
  //   w = [1, -2] * 0.99 - 0.1 * [1, -1] = [0.89, -1.88]
  // step 2, g = [0.2, 0.3]: m = [0.065, 0.021], v = [2.8975e-4, 9.999e-5],
  //   m_hat = m / 0.19, v_hat = v / 0.001999:
  //   w = [0.89, -1.88] * 0.99 - 0.1 * [0.898575, 0.494191] = [0.791242, -1.910619]
  // The bias follows the same Adam steps without decay: 0.5 - 0.1 = 0.4, then
  //   0.4 - 0.1 * 0.898575 = 0.310142.
  Param w = make_param({1.0f, -2.0f}, true), b = make_param({0.5f}, false, "b");
  AdamW adam({&w, &b}, AdamWOptions{0.1, 0.9, 0.999, 1e-8, 0.1});
  set_grad(w, {0.5f, -0.1f});
  set_grad(b, {0.5f});
  adam.step();
  CHECK(w.value[0] == Approx(0.890000002).epsilon(1e-6));
  CHECK(w.value[1] == Approx(-1.880000010).epsilon(1e-6));
  CHECK(b.value[0] == Approx(0.400000002).epsilon(1e-6));
  set_grad(w, {0.2f, 0.3f});
  set_grad(b, {0.2f});
  adam.step();
  CHECK(w.value[0] == Approx(0.791242484).epsilon(1e-6));
  CHECK(w.value[1] == Approx(-1.910618991).epsilon(1e-6));
  CHECK(b.value[0] == Approx(0.310142484).epsilon(1e-6));
}

TEST_CASE("optim: zero_grad and set_lr", "[model][optim]") {
  Param p = make_param({1.0f, 2.0f}, true);
  Sgd sgd({&p}, SgdOptions{0.1, 0.0, 0.0, false});
  set_grad(p, {1.0f, 1.0f});
  sgd.set_lr(0.5);
  sgd.step();
  CHECK(p.value[0] == Approx(0.5f));
  sgd.zero_grad();
  CHECK(p.grad.vec().isZero());
}

TEST_CASE("optim: global-norm clipping", "[model][optim]") {
  Param a = make_param({0.0f, 0.0f}, true), b = make_param({0.0f}, false, "b");
  set_grad(a, {3.0f, 0.0f});
  set_grad(b, {4.0f});
  std::vector<Param*> ps{&a, &b};
  CHECK(global_grad_norm(ps) == Approx(5.0));
  CHECK(clip_grad_norm(ps, 10.0) == Approx(5.0));  // under the limit: unchanged
  CHECK(a.grad[0] == 3.0f);
  CHECK(clip_grad_norm(ps, 1.0) == Approx(5.0));  // returns the norm before clipping
  CHECK(a.grad[0] == Approx(0.6f));
  CHECK(b.grad[0] == Approx(0.8f));
  CHECK(global_grad_norm(ps) == Approx(1.0));
}

TEST_CASE("schedule: constant, step, cosine and linear warm-up", "[model][optim]") {
  LrSchedule s;
  s.base_lr = 0.1;
  CHECK(s.at(0) == Approx(0.1));
  CHECK(s.at(1000) == Approx(0.1));

  s.kind = ScheduleKind::Step;
  s.step_size = 10;
  s.gamma = 0.5;
  CHECK(s.at(9) == Approx(0.1));
  CHECK(s.at(10) == Approx(0.05));
  CHECK(s.at(25) == Approx(0.025));

  s.kind = ScheduleKind::Cosine;
  s.total_steps = 100;
  s.min_lr = 0.01;
  CHECK(s.at(0) == Approx(0.1));
  CHECK(s.at(50) == Approx(0.055));  // halfway: the mean of base and min
  CHECK(s.at(100) == Approx(0.01));
  CHECK(s.at(500) == Approx(0.01));

  s.warmup_steps = 10;  // rises linearly to base_lr, then the cosine over the other 90 steps
  CHECK(s.at(0) == Approx(0.01));
  CHECK(s.at(4) == Approx(0.05));
  CHECK(s.at(9) == Approx(0.1));
  CHECK(s.at(10) == Approx(0.1));
  CHECK(s.at(55) == Approx(0.055));
  CHECK(s.at(100) == Approx(0.01));

  s.total_steps = 10;  // not longer than the warm-up: rejected
  CHECK_THROWS_AS(s.at(0), mixprec::InternalError);
}
