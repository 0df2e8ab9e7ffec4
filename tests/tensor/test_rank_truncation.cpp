// Rank truncation of TT / HT cores (model/rank_truncation.hpp), checked on the product matrix W
// that FactorizedLinear::dense_weight() contracts: same ranks reproduce W, an exactly low-rank
// network hidden in higher ranks is recovered, d = 2 TT truncation is the Eckart-Young best
// approximation, and the error stays within the reported bound (attained for TT).
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "core/errors.hpp"
#include "core/factorization.hpp"
#include "model/init.hpp"
#include "model/rank_truncation.hpp"
#include "model/tensor_linear.hpp"
#include "tensor/factorizations.hpp"

using namespace mixprec;
using namespace mixprec::model;

namespace {

using Cores = std::vector<std::vector<float>>;

using test::ht;
using test::tt;

// The same structure at other ranks.
Factorization with_ranks(Factorization f, std::vector<int> ranks_or_leaf, std::vector<int> transfer = {}) {
  if (f.kind == FactorizationKind::TensorTrain) {
    f.ranks = std::move(ranks_or_leaf);
  } else {
    f.leaf_ranks = std::move(ranks_or_leaf);
    f.transfer_ranks = std::move(transfer);
  }
  return f;
}

Cores random_cores(const Factorization& f, std::uint64_t seed) {
  const TensorNetwork tn = make_tensor_network(f);
  std::mt19937_64 rng(seed);
  Cores c;
  for (const TensorCore& core : tn.cores) {
    std::vector<float> v(size_t(core.size(tn.axis_size)));
    for (float& x : v) x = float(2 * uniform01(rng) - 1);
    c.push_back(std::move(v));
  }
  return c;
}

// W (out x in, row-major) of the layer built from `f` holding `cores`.
std::vector<double> dense(const Factorization& f, const Cores& cores) {
  FactorizedLinearOptions o;
  o.factorization = f;
  FactorizedLinear l("w", o);
  REQUIRE(cores.size() == l.network().cores.size());
  for (std::size_t c = 0; c < cores.size(); ++c) {
    Tensor& v = l.core(int(c)).value;
    REQUIRE(std::int64_t(cores[c].size()) == v.size());
    std::copy(cores[c].begin(), cores[c].end(), v.data());
  }
  const Tensor w = l.dense_weight();
  return std::vector<double>(w.data(), w.data() + w.size());
}

double norm(const std::vector<double>& a) {
  double s = 0;
  for (double x : a) s += x * x;
  return std::sqrt(s);
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

void check_shapes(const TruncatedCores& t, const Factorization& to) {
  const TensorNetwork tn = make_tensor_network(to);
  REQUIRE(t.cores.size() == tn.cores.size());
  for (std::size_t c = 0; c < tn.cores.size(); ++c)
    CHECK(std::int64_t(t.cores[c].size()) == tn.cores[c].size(tn.axis_size));
}

// The relative error ||W' - W|| / ||W|| of truncating `cores` of `from` to `to`.
struct Outcome {
  TruncatedCores t;
  double error = 0;
  double w_norm = 0;
};

Outcome truncate_and_measure(const Factorization& from, const Cores& cores, const Factorization& to) {
  Outcome o;
  o.t = truncate_ranks(from, cores, to);
  check_shapes(o.t, to);
  const std::vector<double> w = dense(from, cores), w2 = dense(to, o.t.cores);
  o.w_norm = norm(w);
  o.error = distance(w2, w) / o.w_norm;
  return o;
}

// Each rank axis padded from `lo`'s size to `hi`'s with zeros, then mixed by a random
// invertible M: one of the two cores that share the axis gets T M on it, the other M^{-1}
// (T'(c) = sum_a M^{-1}(c, a) T(a)), so the product is unchanged but no core is visibly padded.
Cores embed(const Factorization& lo, const Cores& low, const Factorization& hi, std::uint64_t seed) {
  const TensorNetwork tl = make_tensor_network(lo), th = make_tensor_network(hi);
  Cores out;
  for (std::size_t c = 0; c < th.cores.size(); ++c) {
    const std::vector<int>& axes = th.cores[c].axes;
    std::vector<float> v(size_t(th.cores[c].size(th.axis_size)), 0.0f);
    std::vector<int> idx(axes.size(), 0);
    for (std::size_t e = 0; e < low[c].size(); ++e) {
      std::size_t at = 0;
      for (std::size_t a = 0; a < axes.size(); ++a)
        at = at * size_t(th.axis_size[size_t(axes[a])]) + size_t(idx[a]);
      v[at] = low[c][e];
      for (std::size_t a = axes.size(); a-- > 0;) {
        if (++idx[a] < tl.axis_size[size_t(axes[a])]) break;
        idx[a] = 0;
      }
    }
    out.push_back(std::move(v));
  }
  // T'(.., c, ..) = sum_a T(.., a, ..) m(a, c) on position p of core c's axes.
  auto apply = [&](std::size_t c, std::size_t p, const Eigen::MatrixXd& m) {
    const std::vector<int>& axes = th.cores[c].axes;
    std::int64_t outer = 1, inner = 1;  // sizes of the axes before and after position p
    for (std::size_t a = 0; a < p; ++a) outer *= th.axis_size[size_t(axes[a])];
    for (std::size_t a = p + 1; a < axes.size(); ++a) inner *= th.axis_size[size_t(axes[a])];
    const std::int64_t n = th.axis_size[size_t(axes[p])];
    std::vector<float> r(out[c].size());
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < inner; ++i) {
          double s = 0;
          for (std::int64_t a = 0; a < n; ++a) s += out[c][size_t((o * n + a) * inner + i)] * m(a, j);
          r[size_t((o * n + j) * inner + i)] = float(s);
        }
    out[c] = std::move(r);
  };
  std::mt19937_64 rng(seed);
  for (std::size_t ax = 0; ax < th.axis_size.size(); ++ax) {
    std::vector<std::pair<std::size_t, std::size_t>> at;  // (core, position)
    for (std::size_t c = 0; c < th.cores.size(); ++c)
      for (std::size_t p = 0; p < th.cores[c].axes.size(); ++p)
        if (th.cores[c].axes[p] == int(ax)) at.emplace_back(c, p);
    if (at.size() != 2) continue;  // input / output axes belong to one core
    const int n = th.axis_size[ax];
    Eigen::MatrixXd m(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) m(i, j) = (i == j ? 2.0 : 0.0) + uniform01(rng) - 0.5;
    apply(at[0].first, at[0].second, m);
    apply(at[1].first, at[1].second, m.inverse().transpose());
  }
  return out;
}

}  // namespace

TEST_CASE("rank truncation to the same ranks reproduces W", "[tensor][truncation]") {
  std::vector<Factorization> cases;
  for (bool fold : {false, true}) {
    cases.push_back(tt({3, 4}, {2, 3}, {1, 3, 1}, fold));
    cases.push_back(tt({2, 3, 2}, {2, 2, 3}, {1, 3, 4, 1}, fold));
    cases.push_back(tt({2, 2, 3, 2}, {2, 1, 2, 2}, {1, 3, 4, 3, 1}, fold));
    cases.push_back(ht({3, 4}, {2, 3}, {3, 4}, {}, fold));
    cases.push_back(ht({2, 3, 2}, {2, 2, 3}, {3, 2, 4}, {3}, fold));
    cases.push_back(ht({2, 2, 3, 2}, {2, 1, 2, 2}, {2, 3, 3, 2}, {3, 4}, fold));
  }
  // Ranks above what the neighbouring modes allow (TT r_1 = 5 > i_1 j_1 = 2; HT leaf 2 rank 3 >
  // i_2 j_2 = 2): the working rank is smaller, the returned cores are zero-padded.
  cases.push_back(tt({2, 2, 2}, {1, 1, 2}, {1, 5, 3, 1}, false));
  cases.push_back(ht({2, 2, 2}, {1, 1, 2}, {2, 3, 4}, {5}, false));
  std::uint64_t seed = 1;
  for (const Factorization& f : cases) {
    INFO(to_string(f.kind) << " d = " << f.input_modes.size() << " fold " << f.fold_gates);
    const Cores cores = random_cores(f, seed++);
    const Outcome o = truncate_and_measure(f, cores, f);
    CHECK(o.error < 1e-5);
    CHECK(o.t.discarded <= 1e-10 * o.t.norm2);
    CHECK(o.t.relative_error_bound() < 1e-5);
    CHECK(std::sqrt(o.t.norm2) == Approx(o.w_norm).epsilon(1e-5));
  }
}

TEST_CASE("rank truncation recovers a low-rank network embedded in higher ranks", "[tensor][truncation]") {
  struct Case {
    Factorization lo, hi;
  };
  std::vector<Case> cases;
  for (bool fold : {false, true}) {
    const Factorization t = tt({2, 3, 2, 2}, {2, 2, 3, 1}, {1, 2, 3, 2, 1}, fold);
    cases.push_back({t, with_ranks(t, {1, 4, 5, 4, 1})});
    const Factorization t3 = tt({3, 4, 2}, {2, 2, 2}, {1, 2, 2, 1}, fold);
    cases.push_back({t3, with_ranks(t3, {1, 5, 4, 1})});
    const Factorization h = ht({2, 3, 2, 2}, {2, 2, 3, 1}, {2, 2, 3, 2}, {2, 3}, fold);
    cases.push_back({h, with_ranks(h, {4, 5, 5, 2}, {5, 6})});
    const Factorization h3 = ht({3, 4, 2}, {2, 2, 2}, {2, 3, 2}, {2}, fold);
    cases.push_back({h3, with_ranks(h3, {4, 5, 4}, {5})});
  }
  std::uint64_t seed = 100;
  for (const Case& c : cases) {
    INFO(to_string(c.lo.kind) << " d = " << c.lo.input_modes.size() << " fold " << c.lo.fold_gates);
    const Cores low = random_cores(c.lo, seed++);
    const Cores high = embed(c.lo, low, c.hi, seed++);
    const std::vector<double> w = dense(c.lo, low), wh = dense(c.hi, high);
    REQUIRE(distance(wh, w) < 1e-5 * norm(w));  // the embedding keeps W
    const TruncatedCores t = truncate_ranks(c.hi, high, c.lo);
    check_shapes(t, c.lo);
    CHECK(distance(dense(c.lo, t.cores), w) < 1e-5 * norm(w));
    CHECK(t.relative_error_bound() < 1e-5);
    // Truncating below the true ranks loses something, within the bound.
    const Factorization lower = c.lo.kind == FactorizationKind::TensorTrain
                                    ? with_ranks(c.lo, std::vector<int>(c.lo.ranks.size(), 1))
                                    : with_ranks(c.lo, std::vector<int>(c.lo.leaf_ranks.size(), 1),
                                                 std::vector<int>(c.lo.transfer_ranks.size(), 1));
    const Outcome o = truncate_and_measure(c.hi, high, lower);
    CHECK(o.error > 1e-3);
    CHECK(o.error <= o.t.relative_error_bound() + 1e-5);
  }
}

TEST_CASE("d = 2 TT truncation is the best rank-r approximation (Eckart-Young)", "[tensor][truncation]") {
  for (bool fold : {false, true}) {
    // i j per mode: 6 x 12 without the gates, 24 x 6 with them; source rank 6 is full.
    const Factorization f = fold ? tt({3, 2}, {2, 3}, {1, 6, 1}, true) : tt({3, 4}, {2, 3}, {1, 6, 1}, false);
    const Cores cores = random_cores(f, fold ? 7 : 8);
    const std::vector<double> w = dense(f, cores);
    const std::vector<int> out = f.output_modes();
    const int i1 = f.input_modes[0], i2 = f.input_modes[1], j1 = out[0], j2 = out[1];
    // W (j1 j2) x (i1 i2) rearranged to M (i1 j1) x (i2 j2).
    Eigen::MatrixXd m(i1 * j1, i2 * j2);
    for (int a = 0; a < i1; ++a)
      for (int b = 0; b < j1; ++b)
        for (int c = 0; c < i2; ++c)
          for (int e = 0; e < j2; ++e)
            m(a * j1 + b, c * j2 + e) = w[size_t((b * j2 + e) * (i1 * i2) + a * i2 + c)];
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(m, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    REQUIRE(s.size() == 6);
    for (int r = 1; r <= 6; ++r) {
      INFO("fold " << fold << " rank " << r);
      const Factorization to = with_ranks(f, {1, r, 1});
      const TruncatedCores t = truncate_ranks(f, cores, to);
      const double tail = s.tail(6 - r).squaredNorm();
      CHECK(t.discarded == Approx(tail).epsilon(1e-4).margin(1e-7 * s.squaredNorm()));
      CHECK(t.norm2 == Approx(s.squaredNorm()).epsilon(1e-5));
      // W' is the truncated SVD of M (unique: the singular values are distinct).
      const Eigen::MatrixXd best =
          svd.matrixU().leftCols(r) * s.head(r).asDiagonal() * svd.matrixV().leftCols(r).transpose();
      const std::vector<double> w2 = dense(to, t.cores);
      double diff = 0, err = 0;
      for (int a = 0; a < i1; ++a)
        for (int b = 0; b < j1; ++b)
          for (int c = 0; c < i2; ++c)
            for (int e = 0; e < j2; ++e) {
              const std::size_t at = size_t((b * j2 + e) * (i1 * i2) + a * i2 + c);
              diff += std::pow(w2[at] - best(a * j1 + b, c * j2 + e), 2);
              err += std::pow(w2[at] - w[at], 2);
            }
      CHECK(std::sqrt(diff) < 1e-5 * s.norm());
      CHECK(std::sqrt(err) == Approx(std::sqrt(tail)).margin(1e-5 * s.norm()));
    }
  }
}

TEST_CASE("the truncation error is within the bound and shrinks as the ranks grow", "[tensor][truncation]") {
  SECTION("TT: the bound is attained") {
    for (bool fold : {false, true}) {
      const Factorization f = tt({2, 3, 3}, {2, 2, 3}, {1, 4, 8, 1}, fold);
      const Cores cores = random_cores(f, fold ? 21 : 22);
      double previous = 2;
      for (const std::vector<int>& r : std::vector<std::vector<int>>{
               {1, 1, 1, 1}, {1, 2, 2, 1}, {1, 2, 4, 1}, {1, 3, 6, 1}, {1, 4, 7, 1}, {1, 4, 8, 1}}) {
        INFO("fold " << fold << " ranks " << r[1] << "-" << r[2]);
        const Outcome o = truncate_and_measure(f, cores, with_ranks(f, r));
        CHECK(o.error <= o.t.relative_error_bound() + 1e-5);
        CHECK(o.error == Approx(o.t.relative_error_bound()).margin(1e-5));
        CHECK(o.error <= previous + 1e-6);
        previous = o.error;
      }
      CHECK(previous < 1e-5);
    }
    // d = 4; r_3 <= i_4 j_4 = 2, so source rank 4 and targets 3, 4 there are partly padding.
    const Factorization f = tt({2, 3, 2, 2}, {2, 2, 1, 1}, {1, 4, 6, 4, 1}, true);
    const Cores cores = random_cores(f, 23);
    double previous = 2;
    for (int r = 1; r <= 4; ++r) {
      const Outcome o = truncate_and_measure(f, cores, with_ranks(f, {1, r, std::min(6, 2 * r), r, 1}));
      CHECK(o.error == Approx(o.t.relative_error_bound()).margin(1e-5));
      CHECK(o.error <= previous + 1e-6);
      previous = o.error;
    }
  }
  SECTION("HT: within the bound, above the largest single-node loss") {
    struct Chain {
      Factorization f;
      std::vector<std::pair<std::vector<int>, std::vector<int>>> ranks;  // increasing
    };
    const std::vector<Chain> chains{
        {ht({2, 3, 2, 2}, {2, 2, 3, 2}, {4, 5, 5, 4}, {6, 6}, false),
         {{{1, 1, 1, 1}, {1, 1}}, {{2, 2, 2, 2}, {2, 2}}, {{3, 3, 3, 3}, {4, 4}}, {{4, 4, 4, 4}, {5, 5}},
          {{4, 5, 5, 4}, {6, 6}}}},
        {ht({2, 3, 2}, {2, 2, 3}, {5, 6, 6}, {6}, true),
         {{{1, 1, 1}, {1}}, {{2, 2, 2}, {2}}, {{3, 3, 4}, {3}}, {{4, 5, 5}, {5}}, {{5, 6, 6}, {6}}}},
        {ht({2, 2, 3, 2, 2}, {1, 2, 2, 1, 2}, {2, 4, 4, 2, 4}, {4, 4, 4}, false),
         {{{1, 1, 1, 1, 1}, {1, 1, 1}}, {{2, 2, 2, 2, 2}, {2, 2, 2}}, {{2, 3, 3, 2, 3}, {3, 3, 3}},
          {{2, 4, 4, 2, 4}, {4, 4, 4}}}},
    };
    std::uint64_t seed = 30;
    for (const Chain& c : chains) {
      const Cores cores = random_cores(c.f, seed++);
      const int d = int(c.f.input_modes.size());
      double previous = 2;
      for (const auto& r : c.ranks) {
        INFO("d = " << d << " leaf rank " << r.first[0] << " transfer rank " << r.second[0]);
        const Outcome o = truncate_and_measure(c.f, cores, with_ranks(c.f, r.first, r.second));
        CHECK(o.error <= o.t.relative_error_bound() + 1e-5);
        // W' has rank <= r_t at every node t, so the error is at least each node's discarded
        // tail alone, hence at least the mean over the 2d - 2 non-root nodes.
        CHECK(o.error * o.error >= o.t.discarded / o.t.norm2 / double(2 * d - 2) - 1e-6);
        CHECK(o.error <= previous + 1e-6);
        previous = o.error;
      }
      CHECK(previous < 1e-5);
    }
  }
}

TEST_CASE("rank truncation of a venue-sized TT and HT (768 inputs, 4 x 64 gates)", "[tensor][truncation]") {
  const Factorization t = tt({3, 16, 16}, {4, 4, 4}, {1, 8, 8, 1}, true);
  const Factorization h = ht({3, 16, 16}, {4, 4, 4}, {8, 8, 8}, {8}, true);
  for (const Factorization& f : {t, h}) {
    // Cores as the layer initializes them (Xavier-scaled uniform).
    FactorizedLinearOptions o;
    o.factorization = f;
    FactorizedLinear l("lstm", o);
    std::mt19937_64 rng(42);
    l.init(rng);
    Cores cores;
    for (std::size_t c = 0; c < l.network().cores.size(); ++c) {
      const Tensor& v = l.core(int(c)).value;
      cores.emplace_back(v.data(), v.data() + v.size());
    }
    double previous = 0;
    for (int r : {4, 2}) {
      INFO(to_string(f.kind) << " rank " << r);
      const Factorization to = f.kind == FactorizationKind::TensorTrain ? with_ranks(f, {1, r, r, 1})
                                                                        : with_ranks(f, {r, r, r}, {r});
      const Outcome out = truncate_and_measure(f, cores, to);
      CHECK(out.t.discarded > 0);
      CHECK(out.error <= out.t.relative_error_bound() + 1e-5);
      CHECK(out.error >= previous - 1e-6);  // smaller ranks, larger error
      previous = out.error;
      // Run to run identical.
      const TruncatedCores again = truncate_ranks(f, cores, to);
      CHECK(again.cores == out.t.cores);
      CHECK(again.discarded == out.t.discarded);
    }
  }
}

TEST_CASE("rank truncation rejects targets it cannot reach", "[tensor][truncation]") {
  const Factorization f = tt({2, 3}, {2, 2}, {1, 3, 1}, false);
  const Cores cores = random_cores(f, 5);
  CHECK_THROWS_AS(truncate_ranks(f, cores, with_ranks(f, {1, 4, 1})), InternalError);  // larger rank
  CHECK_THROWS_AS(truncate_ranks(f, cores, ht({2, 3}, {2, 2}, {2, 2}, {}, false)), InternalError);
  Factorization folded = f;
  folded.fold_gates = true;
  CHECK_THROWS_AS(truncate_ranks(f, cores, folded), InternalError);
  Cores short_core = cores;
  short_core[1].pop_back();
  CHECK_THROWS_AS(truncate_ranks(f, short_core, f), InternalError);
}
