// The interval code (pipeline/stats.hpp) against closed forms, tabulated quantiles and
// hand-computed intervals.
#include <catch2/catch.hpp>
#include <cmath>

#include "pipeline/stats.hpp"

using namespace mixprec::pipeline::stats;

TEST_CASE("incomplete beta matches its closed forms", "[pipeline][stats]") {
  for (double x : {0.1, 0.37, 0.5, 0.93}) {
    CHECK(incomplete_beta(1, 1, x) == Approx(x).epsilon(1e-12));                     // uniform
    CHECK(incomplete_beta(3, 1, x) == Approx(x * x * x).epsilon(1e-12));             // x^a
    CHECK(incomplete_beta(1, 4, x) == Approx(1 - std::pow(1 - x, 4)).epsilon(1e-12));
  }
  CHECK(incomplete_beta(2.5, 2.5, 0.5) == Approx(0.5).epsilon(1e-12));  // symmetry
  CHECK(incomplete_beta(2, 3, 0) == 0);
  CHECK(incomplete_beta(2, 3, 1) == 1);
}

TEST_CASE("Student t quantiles: closed forms for df 1 and 2, and the NIST table", "[pipeline][stats]") {
  const double pi = std::acos(-1.0);
  for (double p : {0.6, 0.9, 0.95, 0.975, 0.995}) {
    CHECK(student_t_quantile(p, 1) == Approx(std::tan(pi * (p - 0.5))).epsilon(1e-9));  // Cauchy
    CHECK(student_t_quantile(p, 2) == Approx((2 * p - 1) / std::sqrt(2 * p * (1 - p))).epsilon(1e-9));
  }
  // NIST/SEMATECH e-Handbook, table 1.3.6.7.2 (upper critical values, 3 decimals).
  CHECK(student_t_quantile(0.975, 4) == Approx(2.776).margin(5e-4));
  CHECK(student_t_quantile(0.975, 9) == Approx(2.262).margin(5e-4));
  CHECK(student_t_quantile(0.975, 30) == Approx(2.042).margin(5e-4));
  CHECK(student_t_quantile(0.95, 4) == Approx(2.132).margin(5e-4));
  CHECK(student_t_quantile(0.995, 2) == Approx(9.925).margin(5e-4));
  CHECK(student_t_quantile(0.025, 4) == Approx(-2.776).margin(5e-4));
  CHECK(student_t_cdf(0, 3) == Approx(0.5));
}

TEST_CASE("paired t-interval: hand-computed values", "[pipeline][stats]") {
  // {1, 2, 3}: mean 2, s = 1, se = 1/sqrt(3); t(0.975, 2) = 0.95 / sqrt(0.04875) = 4.3026527.
  const Interval a = paired_t_interval({1, 2, 3}, 0.95);
  CHECK(a.estimate == Approx(2));
  CHECK(a.lo == Approx(2 - 4.30265273 / std::sqrt(3.0)).epsilon(1e-7));
  CHECK(a.hi == Approx(2 + 4.30265273 / std::sqrt(3.0)).epsilon(1e-7));
  CHECK(a.lo == Approx(-0.48413771).epsilon(1e-6));
  CHECK(a.n == 3);
  CHECK(a.method == "paired t-interval over 3 seeds (df = 2)");
  // {0.5, 1.5}: mean 1, s = 0.70711, se = 0.5; t(0.975, 1) = tan(0.475 pi) = 12.7062047.
  const Interval b = paired_t_interval({0.5, 1.5}, 0.95);
  CHECK(b.hi - b.estimate == Approx(0.5 * 12.7062047).epsilon(1e-7));
  // 90%: t(0.95, 2) = 0.9 / sqrt(0.095) = 2.9199856.
  const Interval c = paired_t_interval({1, 2, 3}, 0.90);
  CHECK(c.hi == Approx(2 + 2.9199856 / std::sqrt(3.0)).epsilon(1e-7));
  // One value: no spread to estimate.
  const Interval d = paired_t_interval({0.7}, 0.95);
  CHECK(d.lo == d.hi);
  CHECK(d.estimate == Approx(0.7));
}

TEST_CASE("paired bootstrap over test examples", "[pipeline][stats]") {
  const Statistic drop = [](const std::vector<double>& m) { return 100 * (m[0] - m[1]); };
  ExampleScores a, b;
  // Identical models: every resample gives 0.
  a.values = b.values = {1, 0, 1, 1, 0, 1};
  Interval same = paired_bootstrap({&a, &b}, drop, 0.95, 200, 7);
  CHECK(same.estimate == 0);
  CHECK(same.lo == 0);
  CHECK(same.hi == 0);
  // Two examples, a = {1, 0}, b = {0, 0}: the statistic is 0, 50 or 100 with probability
  // 1/4, 1/2, 1/4, so the 95% percentile interval is [0, 100] around the estimate 50.
  a.values = {1, 0};
  b.values = {0, 0};
  const Interval two = paired_bootstrap({&a, &b}, drop, 0.95, 2000, 11);
  CHECK(two.estimate == Approx(50));
  CHECK(two.lo == Approx(0));
  CHECK(two.hi == Approx(100));
  CHECK(two.method.find("paired bootstrap over 2 test examples") == 0);
  // Deterministic for a seed.
  a.values = {1, 0, 1, 1, 0, 1, 1, 1, 0, 1};
  b.values = {1, 1, 0, 1, 0, 1, 0, 1, 0, 0};
  const Interval x = paired_bootstrap({&a, &b}, drop, 0.95, 500, 3);
  const Interval y = paired_bootstrap({&a, &b}, drop, 0.95, 500, 3);
  CHECK(x.lo == y.lo);
  CHECK(x.hi == y.hi);
  CHECK(x.estimate == Approx(20));
  CHECK(x.lo < 20);
  CHECK(x.hi > 20);
}

TEST_CASE("regression scores: RMSE on a resample", "[pipeline][stats]") {
  ExampleScores s;
  s.regression = true;
  s.outputs = 2;
  s.values = {2, 6, 10};  // squared errors summed over 2 outputs per example
  CHECK(metric_of(s) == Approx(std::sqrt(18.0 / 6)));
  CHECK(metric_on(s, {2, 2}) == Approx(std::sqrt(20.0 / 4)));
}

TEST_CASE("paired interval: t over seeds, bootstrap with one seed", "[pipeline][stats]") {
  const Statistic drop = [](const std::vector<double>& m) { return 100 * (m[0] - m[1]); };
  // Three seeds: the per-seed drops 1, 2, 3 points.
  const Interval t = paired_interval({{0.95, 0.96, 0.97}, {0.94, 0.94, 0.94}}, {{}, {}}, drop, 0.95, 100, 1);
  CHECK(t.estimate == Approx(2));
  CHECK(t.method == "paired t-interval over 3 seeds (df = 2)");
  // One seed with per-example scores: the bootstrap.
  ExampleScores a, b;
  a.values = {1, 0};
  b.values = {0, 0};
  const Interval bs = paired_interval({{0.5}, {0.0}}, {{&a}, {&b}}, drop, 0.95, 400, 1);
  CHECK(bs.method.find("paired bootstrap") == 0);
  CHECK(bs.estimate == Approx(50));
}
