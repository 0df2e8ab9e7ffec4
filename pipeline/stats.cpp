#include "pipeline/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.hpp"
#include "model/data/rng.hpp"

namespace mixprec::pipeline::stats {

namespace {

// Continued fraction of the incomplete beta function (Numerical Recipes 3rd ed., section 6.4),
// modified Lentz's method.
double beta_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-15;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) break;
  }
  return h;
}

// The q-quantile of sorted values, linear interpolation between order statistics.
double sorted_quantile(const std::vector<double>& v, double q) {
  const double pos = q * double(v.size() - 1);
  const std::size_t i = std::size_t(std::floor(pos));
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - double(i)) * (v[i + 1] - v[i]);
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  MIXPREC_CHECK(a > 0 && b > 0, "statistics: invalid arguments");
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double student_t_cdf(double t, double df) {
  MIXPREC_CHECK(df > 0, "statistics: invalid arguments");
  const double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df) {
  MIXPREC_CHECK(p > 0 && p < 1 && df > 0, "statistics: invalid arguments");
  if (p == 0.5) return 0;
  if (p < 0.5) return -student_t_quantile(1 - p, df);
  double lo = 0, hi = 1;
  while (student_t_cdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
  }
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Interval paired_t_interval(const std::vector<double>& d, double confidence) {
  MIXPREC_CHECK(!d.empty() && confidence > 0 && confidence < 1, "statistics: invalid arguments");
  Interval r;
  r.confidence = confidence;
  r.n = int(d.size());
  double mean = 0;
  for (double x : d) mean += x;
  mean /= double(d.size());
  r.estimate = r.lo = r.hi = mean;
  if (d.size() < 2) {
    r.method = "single value (one seed, no per-example scores)";
    return r;
  }
  double ss = 0;
  for (double x : d) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / double(d.size() - 1));
  const double half =
      student_t_quantile(0.5 + confidence / 2, double(d.size() - 1)) * sd / std::sqrt(double(d.size()));
  r.lo = mean - half;
  r.hi = mean + half;
  r.method = "paired t-interval over " + std::to_string(d.size()) + " seeds (df = " +
             std::to_string(d.size() - 1) + ")";
  return r;
}

double metric_on(const ExampleScores& s, const std::vector<std::uint32_t>& idx) {
  if (idx.empty()) return 0;
  double sum = 0;
  for (std::uint32_t i : idx) sum += s.values[i];
  if (!s.regression) return sum / double(idx.size());
  return std::sqrt(sum / (double(idx.size()) * double(std::max(1, s.outputs))));
}

double metric_of(const ExampleScores& s) {
  std::vector<std::uint32_t> all(s.values.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = std::uint32_t(i);
  return metric_on(s, all);
}

Interval bootstrap(std::size_t n, const std::function<double(const std::vector<std::uint32_t>&)>& f,
                   double confidence, int resamples, std::uint64_t seed) {
  MIXPREC_CHECK(n > 0 && resamples >= 2 && confidence > 0 && confidence < 1, "statistics: invalid arguments");
  Interval r;
  r.confidence = confidence;
  r.n = int(n);
  r.resamples = resamples;
  std::vector<std::uint32_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = std::uint32_t(i);
  r.estimate = f(idx);
  data::Rng rng(seed);
  std::vector<double> stat(static_cast<std::size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    for (auto& i : idx) i = std::uint32_t(rng.next_u64() % n);
    stat[std::size_t(b)] = f(idx);
  }
  std::sort(stat.begin(), stat.end());
  r.lo = sorted_quantile(stat, 0.5 - confidence / 2);
  r.hi = sorted_quantile(stat, 0.5 + confidence / 2);
  r.method = "percentile bootstrap over " + std::to_string(n) + " items (" + std::to_string(resamples) +
             " resamples)";
  return r;
}

Interval paired_bootstrap(const std::vector<const ExampleScores*>& models, const Statistic& f,
                          double confidence, int resamples, std::uint64_t seed) {
  MIXPREC_CHECK(!models.empty() && resamples >= 2 && confidence > 0 && confidence < 1, "statistics: invalid arguments");
  const std::size_t n = models[0]->values.size();
  for (const ExampleScores* m : models) MIXPREC_CHECK(m->values.size() == n && n > 0, "statistics: invalid arguments");
  std::vector<double> metrics(models.size());
  Interval r = bootstrap(
      n,
      [&](const std::vector<std::uint32_t>& idx) {
        for (std::size_t m = 0; m < models.size(); ++m) metrics[m] = metric_on(*models[m], idx);
        return f(metrics);
      },
      confidence, resamples, seed);
  r.method = "paired bootstrap over " + std::to_string(n) + " test examples of one seed (" +
             std::to_string(resamples) + " resamples, percentile interval)";
  return r;
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double avg = 0.5 * double(i + j) + 1;  // ranks i+1 .. j+1
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  MIXPREC_CHECK(x.size() == y.size(), "statistics: invalid arguments");
  const std::size_t n = x.size();
  double concordant = 0, discordant = 0, tied_x = 0, tied_y = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0) tied_x += 1;
      if (dy == 0) tied_y += 1;
      if (dx == 0 || dy == 0) continue;
      ((dx > 0) == (dy > 0) ? concordant : discordant) += 1;
    }
  const double pairs = 0.5 * double(n) * double(n > 0 ? n - 1 : 0);
  const double denom = std::sqrt((pairs - tied_x) * (pairs - tied_y));
  if (!(denom > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (concordant - discordant) / denom;
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  MIXPREC_CHECK(x.size() == y.size(), "statistics: invalid arguments");
  const std::size_t n = x.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  const double mean = 0.5 * double(n + 1);  // of ranks 1..n, ties averaged
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  if (!(sxx > 0 && syy > 0)) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

Interval paired_interval(const std::vector<std::vector<double>>& metrics,
                         const std::vector<std::vector<const ExampleScores*>>& examples,
                         const Statistic& f, double confidence, int resamples, std::uint64_t seed) {
  MIXPREC_CHECK(!metrics.empty(), "statistics: invalid arguments");
  const std::size_t seeds = metrics[0].size();
  for (const auto& m : metrics) MIXPREC_CHECK(m.size() == seeds && seeds > 0, "statistics: invalid arguments");
  if (seeds == 1) {
    std::vector<const ExampleScores*> one;
    for (const auto& e : examples)
      if (!e.empty() && e[0] && !e[0]->values.empty()) one.push_back(e[0]);
    if (one.size() == metrics.size()) return paired_bootstrap(one, f, confidence, resamples, seed);
  }
  std::vector<double> per_seed(seeds);
  std::vector<double> m(metrics.size());
  for (std::size_t s = 0; s < seeds; ++s) {
    for (std::size_t k = 0; k < metrics.size(); ++k) m[k] = metrics[k][s];
    per_seed[s] = f(m);
  }
  return paired_t_interval(per_seed, confidence);
}

}  // namespace mixprec::pipeline::stats
