// Intervals for the claim's verdict: paired t-intervals across seeds and, with one seed, a paired
// bootstrap over test examples. Seeds are the unit of repetition (initialization and data
// order); every model of one seed is evaluated on the same test examples, so differences between
// models are paired.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mixprec::pipeline::stats {

// Regularized incomplete beta function I_x(a, b), by its continued fraction evaluated with the
// modified Lentz method (Press, Teukolsky, Vetterling, Flannery, "Numerical Recipes", 3rd ed.,
// 2007, section 6.4, betacf), using the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction
// converges slowly. Accurate to about 1e-14 relative.
double incomplete_beta(double a, double b, double x);

// Student's t distribution with df > 0 degrees of freedom: P(T <= t) = 1 - I_{df/(df+t^2)}(df/2,
// 1/2) / 2 for t >= 0 (Abramowitz & Stegun 26.7.1 with 26.5.27), symmetric for t < 0.
double student_t_cdf(double t, double df);

// The p-quantile (0 < p < 1): bisection on student_t_cdf to 1e-12 in t. Checked against the
// tabulated values of NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.2.
double student_t_quantile(double p, double df);

// An estimate with its two-sided interval at `confidence`, and how it was made.
struct Interval {
  double estimate = 0, lo = 0, hi = 0;
  double confidence = 0.95;
  int n = 0;           // seeds (t-interval) or test examples (bootstrap)
  int resamples = 0;   // bootstrap only
  std::string method;  // "paired t-interval over N seeds (df = N-1)", "paired bootstrap ...", "single value"
};

// mean ± t_{(1+c)/2, n-1} · s / sqrt(n) over the per-seed paired differences (n >= 2; with n = 1
// the interval is the value itself, method "single value").
Interval paired_t_interval(const std::vector<double>& differences, double confidence);

// One model's score on each test example of one seed: 1/0 correct (classification), or the
// squared error summed over the example's outputs (regression; `outputs` per example).
struct ExampleScores {
  bool regression = false;
  int outputs = 1;
  std::vector<double> values;
};
// The model's metric on a multiset of example indices: accuracy (fraction) or RMSE.
double metric_on(const ExampleScores& s, const std::vector<std::uint32_t>& idx);
// The metric on all examples.
double metric_of(const ExampleScores& s);

// A statistic of several models' metrics (in the order given), e.g. the drop from a baseline.
using Statistic = std::function<double(const std::vector<double>& metrics)>;

// Paired percentile bootstrap over test examples (Efron & Tibshirani, "An Introduction to the
// Bootstrap", 1993, ch. 13): `resamples` draws of n example indices with replacement, the same
// draw for every model; the interval is the (1-c)/2 and (1+c)/2 quantiles of the statistic
// (linear interpolation between order statistics). The estimate is the statistic on all
// examples. Deterministic for a seed (SplitMix64 draws, no implementation-defined distribution).
Interval paired_bootstrap(const std::vector<const ExampleScores*>& models, const Statistic& f,
                          double confidence, int resamples, std::uint64_t seed);

// A statistic over models evaluated on several seeds: with >= 2 seeds the paired t-interval of
// the per-seed statistics; with one seed the paired bootstrap over that seed's test examples.
// metrics[m][s] is model m's metric on seed s; examples[m][s] its per-example scores.
Interval paired_interval(const std::vector<std::vector<double>>& metrics,
                         const std::vector<std::vector<const ExampleScores*>>& examples,
                         const Statistic& f, double confidence, int resamples, std::uint64_t seed);

// Percentile bootstrap over n items (configurations, examples): `resamples` draws of n indices
// with replacement (SplitMix64-seeded xoshiro256**, index = draw mod n), the statistic f of each
// draw, the (1-c)/2 and (1+c)/2 quantiles of those (linear interpolation between order
// statistics). The estimate is f on all items in order. f must return finite values (a NaN
// would make the order, and so the interval, meaningless).
// Deterministic for a seed; paired_bootstrap above is this over test examples.
Interval bootstrap(std::size_t n, const std::function<double(const std::vector<std::uint32_t>&)>& f,
                   double confidence, int resamples, std::uint64_t seed);

// Ranks 1..n with ties given the average of the ranks they span (x = {10, 20, 20, 30} ->
// {1, 2.5, 2.5, 4}).
std::vector<double> average_ranks(const std::vector<double>& x);

// Kendall's tau-b (Kendall, "The treatment of ties in ranking problems", Biometrika 33, 1945):
// (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)), n0 = n(n-1)/2 pairs, n1 / n2 the pairs
// tied in x / in y. A pair tied in both counts in neither numerator term. NaN when every pair is
// tied in x or in y (the denominator is zero) or n < 2. O(n^2): meant for tens to thousands of items.
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

// Spearman's rho: Pearson's correlation of the average ranks (the tie-corrected form). NaN when
// either variable is constant or n < 2.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace mixprec::pipeline::stats
