#include "sim/mapper/mapper.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/errors.hpp"

namespace mixprec::sim::nest {

const char* to_string(Metric m) {
  switch (m) {
    case Metric::energy: return "energy";
    case Metric::delay: return "delay";
    case Metric::edp: return "edp";
  }
  return "?";
}

Metric parse_metric(const std::string& name) {
  if (name == "energy") return Metric::energy;
  if (name == "delay" || name == "latency") return Metric::delay;
  if (name == "edp") return Metric::edp;
  throw UsageError("unknown mapper objective '" + name + "': expected energy, delay or edp");
}

double Objective::value(std::size_t i, const Result& r) const {
  switch (metrics[i]) {
    case Metric::energy: return r.energy_pj;
    case Metric::delay: return static_cast<double>(r.cycles);
    case Metric::edp: return r.energy_pj * static_cast<double>(r.cycles);
  }
  return 0;
}

bool Objective::better(const Result& a, const Result& b) const {
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const double va = value(i, a), vb = value(i, b);
    if (va < vb) return true;
    if (va > vb) return false;
  }
  return false;
}

std::string Objective::describe() const {
  std::string s;
  for (Metric m : metrics) s += (s.empty() ? "" : ", ") + std::string(to_string(m));
  return s;
}

namespace {

// The objective, then energy and delay: among mappings equal on the objective the search keeps
// the cheaper one (still optimal on the objective), which also gives the heuristic a gradient
// where the objective is flat (e.g. delay of a compute-bound layer).
bool better_full(const Objective& o, const Result& a, const Result& b) {
  if (o.better(a, b)) return true;
  if (o.better(b, a)) return false;
  if (a.energy_pj != b.energy_pj) return a.energy_pj < b.energy_pj;
  return a.cycles < b.cycles;
}

std::vector<std::int64_t> prime_factors(std::int64_t n) {  // with multiplicity, ascending
  std::vector<std::int64_t> out;
  for (std::int64_t p = 2; p * p <= n; ++p)
    while (n % p == 0) {
      out.push_back(p);
      n /= p;
    }
  if (n > 1) out.push_back(n);
  return out;
}

std::vector<std::int64_t> distinct_primes(std::int64_t n) {
  auto v = prime_factors(n);
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Calls f(idx) for every tuple with idx[i] < sizes[i], the last index fastest (an odometer);
// never when a size is 0.
template <class F>
void for_each_index(const std::vector<std::size_t>& sizes, F&& f) {
  for (std::size_t s : sizes)
    if (s == 0) return;
  std::vector<std::size_t> idx(sizes.size(), 0);
  for (;;) {
    f(idx);
    std::size_t i = sizes.size();
    while (i > 0) {
      if (++idx[i - 1] < sizes[i - 1]) break;
      idx[i - 1] = 0;
      --i;
    }
    if (i == 0) return;
  }
}

// Whether dim i may take spatial factor s on `axis` (x or y; `either` with s = 1: no spatial
// factor at all) at a level with constraints k.
bool on_axis(const LevelConstraints& k, std::size_t i, SpatialAxis axis, std::int64_t s) {
  if (axis == SpatialAxis::either)
    return k.spatial[i].allows(1) && k.spatial_x[i].allows(1) && k.spatial_y[i].allows(1);
  const bool x = axis == SpatialAxis::x;
  return k.spatial_axis[i] != (x ? SpatialAxis::y : SpatialAxis::x) && k.spatial[i].allows(s) &&
         (x ? k.spatial_x[i] : k.spatial_y[i]).allows(s) && (x ? k.spatial_y[i] : k.spatial_x[i]).allows(1);
}

// Ordered factorizations of n into k slots.
double ordered_factorizations(std::int64_t n, int k) {
  double count = 1;
  auto primes = prime_factors(n);
  std::size_t i = 0;
  while (i < primes.size()) {
    std::size_t j = i;
    while (j < primes.size() && primes[j] == primes[i]) ++j;
    const int e = static_cast<int>(j - i);
    double c = 1;  // C(e + k - 1, k - 1)
    for (int t = 1; t <= k - 1; ++t) c = c * (e + t) / t;
    count *= c;
    i = j;
  }
  return count;
}

struct Search {
  const Problem& p;
  const Architecture& a;
  const Constraints& c;
  const Objective& obj;
  Evaluator ev;
  int L, D;
  std::vector<Fanout> fan;
  Mapping m;
  Result r;
  MapResult out;
  bool brute = false;  // all orders, no pruning
  std::vector<std::array<std::int8_t, kMaxDims>> stationary_orders;  // [level x dataspaces + stationary]
  // Energies >= 0, coefficients >= 1, each dim in one rank per dataspace: the bound applies.
  bool bound_ok = false;
  std::vector<bool> free_level;  // level without any factor or spatial-axis constraint
  struct Term { int dim; std::int64_t coef; };
  std::vector<std::vector<std::vector<Term>>> projection;  // [dataspace][rank] terms
  std::vector<std::uint32_t> rel;                           // relevance() of each dim
  std::vector<std::vector<std::int64_t>> primes;          // distinct primes of each bound
  std::vector<std::vector<std::int64_t>> bound_divisors;  // divisors of each bound, ascending

  Search(const Problem& p_, const Architecture& a_, const Constraints& c_, const Objective& o_)
      : p(p_), a(a_), c(c_), obj(o_), ev(p_, a_), L(static_cast<int>(a_.levels.size())),
        D(static_cast<int>(p_.dims.size())) {
    for (int l = 0; l < L; ++l) fan.push_back(fanout(a, l));
    for (int d = 0; d < D; ++d) {
      primes.push_back(distinct_primes(p.bounds[static_cast<std::size_t>(d)]));
      bound_divisors.push_back(divisors(p.bounds[static_cast<std::size_t>(d)]));
    }
    m = trivial_mapping(p, a);
    m.n_levels = L;
    for (int l = 0; l < L; ++l) {
      bool free = true;
      const LevelConstraints& k = lc(l);
      auto is_free = [](const FactorBound& b) { return b.exact == 0 && b.min <= 1 && b.max == 0; };
      for (int d = 0; d < D; ++d) {
        const auto i = static_cast<std::size_t>(d);
        free = free && is_free(k.temporal[i]) && is_free(k.spatial[i]) && is_free(k.spatial_x[i]) &&
               is_free(k.spatial_y[i]) && k.spatial_axis[i] == SpatialAxis::either;
      }
      free_level.push_back(free);
    }
    for (int l = 0; l < L; ++l)
      for (int st = 0; st < static_cast<int>(p.dataspaces.size()); ++st) stationary_orders.push_back(compute_seed_order(l, st));
    bound_ok = !obj.metrics.empty() && a.compute.energy_pj >= 0;
    for (int d = 0; d < D; ++d) rel.push_back(relevance(p, d));
    for (const Dataspace& ds : p.dataspaces) {
      projection.emplace_back();
      std::uint32_t dims_seen = 0;
      for (const Rank& rk : ds.ranks) {
        std::uint32_t rank_dims = 0;
        for (const ProjectionTerm& pt : rk.terms) rank_dims |= 1u << pt.dim;
        bound_ok = bound_ok && !(rank_dims & dims_seen);  // touched(): each dim in one rank
        dims_seen |= rank_dims;
        projection.back().emplace_back();
        for (const ProjectionTerm& pt : rk.terms) {
          const std::int64_t v = pt.coefficient < 0 ? 1 : p.coefficients[static_cast<std::size_t>(pt.coefficient)].value;
          bound_ok = bound_ok && v >= 1;
          projection.back().back().push_back({pt.dim, v});
        }
      }
    }
    for (const StorageLevel& s : a.levels)
      bound_ok = bound_ok && s.read_pj >= 0 && s.write_pj >= 0 && s.update_pj >= 0 && s.leak_pj >= 0;
    out.problem = p;
  }

  const LevelConstraints& lc(int l) const { return c.levels[static_cast<std::size_t>(l)]; }
  LevelMapping& lm(int l) { return m.levels[static_cast<std::size_t>(l)]; }

  // Evaluates m as a complete mapping; keeps it when better.
  bool consider() {
    ++out.evaluations;
    ++out.complete;
    if (!ev.evaluate(m, r).ok()) return false;
    ++out.valid;
    if (!out.found || better_full(obj, r, out.result)) {
      out.found = true;
      out.result = r;
      out.mapping = m;
    }
    return true;
  }

  // ---------------------------------------------------------------- exact search
  std::vector<int> loops_at(int l) const {
    std::vector<int> dims;
    for (int d = 0; d < D; ++d)
      if (m.levels[static_cast<std::size_t>(l)].temporal[static_cast<std::size_t>(d)] > 1) dims.push_back(d);
    return dims;
  }

  void leaf() {
    if (!satisfies_factor_constraints(p, a, c, m)) return;
    std::vector<std::vector<std::vector<int>>> orders(static_cast<std::size_t>(L));
    for (int l = 0; l < L; ++l)
      orders[static_cast<std::size_t>(l)] =
          brute ? all_orders(lc(l), loops_at(l)) : canonical_orders(p, a, l, lc(l), loops_at(l));
    std::vector<std::size_t> sizes;
    for (const auto& o : orders) sizes.push_back(o.size());
    for_each_index(sizes, [&](const std::vector<std::size_t>& idx) {
      for (int l = 0; l < L; ++l)
        set_permutation(lm(l), D, orders[static_cast<std::size_t>(l)][idx[static_cast<std::size_t>(l)]]);
      consider();
    });
  }

  void level_done(int l, const std::array<std::int64_t, kMaxDims>& rem) {
    if (l == 0) {
      leaf();
      return;
    }
    if (!brute) {
      // Partial mapping: outer levels empty, the remainder at the outermost level.
      for (int j = 1; j < l; ++j) {
        lm(j).temporal.fill(1);
        lm(j).spatial_x.fill(1);
        lm(j).spatial_y.fill(1);
      }
      lm(0).spatial_x.fill(1);
      lm(0).spatial_y.fill(1);
      for (int d = 0; d < D; ++d) lm(0).temporal[static_cast<std::size_t>(d)] = rem[static_cast<std::size_t>(d)];
      ++out.evaluations;
      if (!ev.evaluate(m, r).ok()) {
        ++out.pruned;  // over capacity (or a keep the block cannot hold): tiles only grow
        return;
      }
    }
    spatial(l - 1, 0, rem, 1, 1);
  }

  void temporal(int l, int d, std::array<std::int64_t, kMaxDims> rem) {
    if (d == D) {
      level_done(l, rem);
      return;
    }
    const auto i = static_cast<std::size_t>(d);
    if (l == 0) {
      if (!lc(0).temporal[i].allows(rem[i])) return;
      lm(0).temporal[i] = rem[i];
      auto next = rem;
      next[i] = 1;
      temporal(l, d + 1, next);
      return;
    }
    for (std::int64_t t : divisors(rem[i])) {
      if (!lc(l).temporal[i].allows(t)) continue;
      lm(l).temporal[i] = t;
      auto next = rem;
      next[i] /= t;
      temporal(l, d + 1, next);
    }
    lm(l).temporal[i] = 1;
  }

  void spatial(int l, int d, std::array<std::int64_t, kMaxDims> rem, std::int64_t px, std::int64_t py) {
    if (d == D) {
      temporal(l, 0, rem);
      return;
    }
    const auto i = static_cast<std::size_t>(d);
    const LevelConstraints& k = lc(l);
    LevelMapping& x = lm(l);
    x.spatial_x[i] = x.spatial_y[i] = 1;
    if (on_axis(k, i, SpatialAxis::either, 1))
      spatial(l, d + 1, rem, px, py);
    const Fanout f = fan[static_cast<std::size_t>(l)];
    if (f.total() > 1) {
      for (std::int64_t s : divisors(rem[i])) {
        if (s == 1 || !k.spatial[i].allows(s)) continue;
        auto next = rem;
        next[i] /= s;
        if (px * s <= f.x && on_axis(k, i, SpatialAxis::x, s)) {
          x.spatial_x[i] = s;
          spatial(l, d + 1, next, px * s, py);
          x.spatial_x[i] = 1;
        }
        if (py * s <= f.y && on_axis(k, i, SpatialAxis::y, s)) {
          x.spatial_y[i] = s;
          spatial(l, d + 1, next, px, py * s);
          x.spatial_y[i] = 1;
        }
      }
    }
  }

  std::vector<std::vector<std::uint32_t>> keep_sets() const {
    std::vector<std::vector<std::uint32_t>> k;
    for (int l = 0; l < L; ++l) k.push_back(keep_choices(p, a, c, l));
    return k;
  }

  template <class F>
  void for_each_keep(const std::vector<std::vector<std::uint32_t>>& k, F&& f) {
    std::vector<std::size_t> sizes;
    for (const auto& c : k) sizes.push_back(c.size());
    for_each_index(sizes, [&](const std::vector<std::size_t>& idx) {
      for (int l = 0; l < L; ++l) lm(l).keep_mask = k[static_cast<std::size_t>(l)][idx[static_cast<std::size_t>(l)]];
      f();
    });
  }

  void exhaustive() {
    std::array<std::int64_t, kMaxDims> rem{};
    for (int d = 0; d < D; ++d) rem[static_cast<std::size_t>(d)] = p.bounds[static_cast<std::size_t>(d)];
    for_each_keep(keep_sets(), [&] {
      for (int l = 0; l < L; ++l) {
        lm(l).temporal.fill(1);
        lm(l).spatial_x.fill(1);
        lm(l).spatial_y.fill(1);
      }
      spatial(L - 1, 0, rem, 1, 1);
    });
  }

  // ---------------------------------------------------------------- heuristic search
  // A slot of dimension d: level l, kind 0 temporal, 1 spatial X, 2 spatial Y.
  std::int64_t& slot(Mapping& mm, int l, int kind, int d) {
    auto& x = mm.levels[static_cast<std::size_t>(l)];
    const auto i = static_cast<std::size_t>(d);
    return kind == 0 ? x.temporal[i] : kind == 1 ? x.spatial_x[i] : x.spatial_y[i];
  }

  // The level's loops with factor > 1 start with the constrained prefix and end with the
  // constrained suffix (no allocation: this runs for every candidate).
  bool order_ok(const Mapping& mm, int l) const {
    const LevelConstraints& k = lc(l);
    if (k.permutation_inner.empty() && k.permutation_outer.empty()) return true;
    const auto& x = mm.levels[static_cast<std::size_t>(l)];
    std::array<int, kMaxDims> seq{};
    int n = 0;
    for (int i = 0; i < D; ++i) {
      const int d = x.permutation[static_cast<std::size_t>(i)];
      if (x.temporal[static_cast<std::size_t>(d)] > 1) seq[static_cast<std::size_t>(n++)] = d;
    }
    int at = 0;
    for (int d : k.permutation_inner) {
      if (x.temporal[static_cast<std::size_t>(d)] == 1) continue;
      if (at >= n || seq[static_cast<std::size_t>(at)] != d) return false;
      ++at;
    }
    int back = n;
    for (auto it = k.permutation_outer.rbegin(); it != k.permutation_outer.rend(); ++it) {
      const int d = *it;
      if (x.temporal[static_cast<std::size_t>(d)] == 1 ||
          std::find(k.permutation_inner.begin(), k.permutation_inner.end(), d) != k.permutation_inner.end())
        continue;
      if (back <= at || seq[static_cast<std::size_t>(back - 1)] != d) return false;
      --back;
    }
    return true;
  }

  // satisfies_factor_constraints() with the unconstrained levels' per-dim checks skipped (a free
  // bound allows every factor >= 1; the mapper's factors are >= 1).
  bool factors_ok(const Mapping& mm) const {
    std::int64_t spatial_product = 1;
    for (int l = 0; l < L; ++l) {
      const LevelMapping& x = mm.levels[static_cast<std::size_t>(l)];
      if (free_level[static_cast<std::size_t>(l)]) {
        if (c.min_utilization > 0)
          for (int d = 0; d < D; ++d)
            spatial_product *= x.spatial_x[static_cast<std::size_t>(d)] * x.spatial_y[static_cast<std::size_t>(d)];
        continue;
      }
      const LevelConstraints& k = lc(l);
      for (int d = 0; d < D; ++d) {
        const auto i = static_cast<std::size_t>(d);
        const std::int64_t sx = x.spatial_x[i], sy = x.spatial_y[i];
        if (!k.temporal[i].allows(x.temporal[i])) return false;
        if (!k.spatial[i].allows(sx * sy) || !k.spatial_x[i].allows(sx) || !k.spatial_y[i].allows(sy)) return false;
        if (sx > 1 && k.spatial_axis[i] == SpatialAxis::y) return false;
        if (sy > 1 && k.spatial_axis[i] == SpatialAxis::x) return false;
        spatial_product *= sx * sy;
      }
    }
    return !(c.min_utilization > 0 && static_cast<double>(spatial_product) <
                                          c.min_utilization * static_cast<double>(a.compute.instances));
  }

  bool legal(const Mapping& mm) const {
    if (!factors_ok(mm)) return false;
    for (int l = 0; l < L; ++l)
      if (!order_ok(mm, l)) return false;
    return true;
  }

  // Evaluates a candidate; true (and `res` filled) when valid and legal.
  bool eval(const Mapping& mm, Result& res) {
    if (!legal(mm)) return false;
    ++out.evaluations;
    ++out.complete;
    if (!ev.evaluate(mm, res).ok()) return false;
    ++out.valid;
    return true;
  }

  // Full order of all dims at level l: the constrained prefix, the free dims (those irrelevant to
  // `stationary` first), the constrained suffix.
  // Computed once per (level, dataspace) by the constructor (stationary_orders).
  void seed_order(Mapping& mm, int l, int stationary) const {
    mm.levels[static_cast<std::size_t>(l)].permutation =
        stationary_orders[static_cast<std::size_t>(l) * p.dataspaces.size() + static_cast<std::size_t>(stationary)];
  }
  std::array<std::int8_t, kMaxDims> compute_seed_order(int l, int stationary) const {
    std::vector<int> all;
    for (int d = 0; d < D; ++d) all.push_back(d);
    std::vector<int> pre, suf, mid;
    for (int d : lc(l).permutation_inner) pre.push_back(d);
    for (int d : lc(l).permutation_outer)
      if (std::find(pre.begin(), pre.end(), d) == pre.end()) suf.push_back(d);
    for (int d : all)
      if (std::find(pre.begin(), pre.end(), d) == pre.end() && std::find(suf.begin(), suf.end(), d) == suf.end())
        mid.push_back(d);
    std::stable_sort(mid.begin(), mid.end(), [&](int u, int v) {
      const bool ru = relevance(p, u) & (1u << stationary), rv = relevance(p, v) & (1u << stationary);
      return !ru && rv;
    });
    std::vector<int> order = pre;
    order.insert(order.end(), mid.begin(), mid.end());
    order.insert(order.end(), suf.begin(), suf.end());
    std::array<std::int8_t, kMaxDims> perm = m.levels[static_cast<std::size_t>(l)].permutation;
    for (int k = 0; k < D; ++k) perm[static_cast<std::size_t>(k)] = static_cast<std::int8_t>(order[static_cast<std::size_t>(k)]);
    return perm;
  }

  // Moves factor `f` of dim d from the outermost temporal slot to (l, kind) when it divides.
  static bool take(Mapping& mm, int l, int kind, int d, std::int64_t f) {
    auto& src = mm.levels[0].temporal[static_cast<std::size_t>(d)];
    if (f <= 1 || src % f != 0) return false;
    src /= f;
    auto& x = mm.levels[static_cast<std::size_t>(l)];
    const auto i = static_cast<std::size_t>(d);
    (kind == 0 ? x.temporal[i] : kind == 1 ? x.spatial_x[i] : x.spatial_y[i]) *= f;
    return true;
  }

  // Spatial assignments at level l of the factors left at the outermost level: the `kTop`
  // greatest fan-out products (ties: the first enumerated), each a list of (dim, axis kind,
  // factor). Fixed-size: it runs for every layer.
  static constexpr int kTop = 4;
  struct SpatialChoice {
    std::int64_t product = 1;
    int n = 0;
    std::array<std::array<std::int64_t, 3>, kMaxDims> items{};
  };
  struct TopChoices {
    std::array<SpatialChoice, kTop> best{};
    int n = 0;
    void offer(const SpatialChoice& c) {
      int at = 0;
      while (at < n && best[static_cast<std::size_t>(at)].product >= c.product) ++at;
      if (at >= kTop) return;
      for (int i = std::min(n, kTop - 1); i > at; --i) best[static_cast<std::size_t>(i)] = best[static_cast<std::size_t>(i - 1)];
      best[static_cast<std::size_t>(at)] = c;
      n = std::min(n + 1, kTop);
    }
  };
  void spatial_choices(const Mapping& base, int l, int d, std::int64_t px, std::int64_t py, SpatialChoice& cur,
                       TopChoices& top) {
    if (d == D) {
      cur.product = px * py;
      top.offer(cur);
      return;
    }
    const auto i = static_cast<std::size_t>(d);
    const LevelConstraints& k = lc(l);
    const std::int64_t avail = base.levels[0].temporal[i];
    if (on_axis(k, i, SpatialAxis::either, 1))
      spatial_choices(base, l, d + 1, px, py, cur, top);
    const Fanout f = fan[static_cast<std::size_t>(l)];
    for (std::int64_t s : bound_divisors[i]) {
      if (s == 1 || avail % s != 0 || !k.spatial[i].allows(s)) continue;
      if (px * s > f.x && py * s > f.y) break;  // ascending: larger ones fit neither axis
      auto& item = cur.items[static_cast<std::size_t>(cur.n)];
      if (px * s <= f.x && on_axis(k, i, SpatialAxis::x, s)) {
        item = {d, 1, s};
        ++cur.n;
        spatial_choices(base, l, d + 1, px * s, py, cur, top);
        --cur.n;
      }
      if (py * s <= f.y && on_axis(k, i, SpatialAxis::y, s)) {
        item = {d, 2, s};
        ++cur.n;
        spatial_choices(base, l, d + 1, px, py * s, cur, top);
        --cur.n;
      }
    }
  }

  // Grows level l's temporal factors from the outermost level one prime at a time, taking the
  // best valid move each step, while it improves.
  void grow(Mapping& mm, Result& cur, bool& cur_ok, int l) {
    for (;;) {
      Mapping best_m;
      Result best_r, tr;
      bool have = false;
      for (int d = 0; d < D; ++d) {
        for (std::int64_t pr : primes[static_cast<std::size_t>(d)]) {
          if (mm.levels[0].temporal[static_cast<std::size_t>(d)] % pr != 0) continue;
          Mapping t = mm;
          take(t, l, 0, d, pr);
          if (!eval(t, tr)) continue;
          if (!have || better_full(obj, tr, best_r)) {
            have = true;
            best_r = tr;
            best_m = t;
          }
        }
      }
      if (!have || (cur_ok && !better_full(obj, best_r, cur))) return;
      mm = best_m;
      cur = best_r;
      cur_ok = true;
    }
  }

  // Moves dim d's loop to position `where` of level l's order (0 = innermost); false when it is
  // already there.
  bool place_loop(Mapping& mm, int l, int d, int where) const {
    auto& perm = mm.levels[static_cast<std::size_t>(l)].permutation;
    int from = 0;
    while (from < D && perm[static_cast<std::size_t>(from)] != d) ++from;
    if (from == where) return false;
    if (from < where)
      std::rotate(perm.begin() + from, perm.begin() + from + 1, perm.begin() + where + 1);
    else
      std::rotate(perm.begin() + where, perm.begin() + from, perm.begin() + from + 1);
    return true;
  }

  // First-improvement descent (cyclic scan over a fixed move list) to a local optimum.
  void descend(Mapping& mm, Result& cur) {
    std::vector<std::array<int, 4>> slots;  // (level, kind)
    for (int l = 0; l < L; ++l) {
      slots.push_back({l, 0, 0, 0});
      if (fan[static_cast<std::size_t>(l)].x > 1) slots.push_back({l, 1, 0, 0});
      if (fan[static_cast<std::size_t>(l)].y > 1) slots.push_back({l, 2, 0, 0});
    }
    std::vector<std::vector<std::uint32_t>> keeps = keep_sets();
    const int max_rounds = 64;  // a bound on rounds; each accepted move strictly improves
    for (int round = 0; round < max_rounds; ++round) {
      bool improved = false;
      Result tr;
      // Prime moves between slots.
      for (int d = 0; d < D; ++d) {
        for (std::int64_t pr : primes[static_cast<std::size_t>(d)]) {
          for (const auto& s1 : slots) {
            if (slot(mm, s1[0], s1[1], d) % pr != 0) continue;
            for (const auto& s2 : slots) {
              if (s1 == s2) continue;
              Mapping t = mm;
              slot(t, s1[0], s1[1], d) /= pr;
              slot(t, s2[0], s2[1], d) *= pr;
              if (eval(t, tr) && better_full(obj, tr, cur)) {
                mm = t;
                cur = tr;
                improved = true;
                break;
              }
              // Into a temporal slot whose order matters: also with the loop innermost and
              // outermost at that level (a factor often pays only at the right place).
              const int l2 = s2[0];
              if (s2[1] != 0 || l2 + 1 == L) continue;
              bool took = false;
              for (int where : {0, D - 1}) {
                Mapping u = t;
                if (!place_loop(u, l2, d, where)) continue;
                if (eval(u, tr) && better_full(obj, tr, cur)) {
                  mm = u;
                  cur = tr;
                  improved = took = true;
                  break;
                }
              }
              if (took) break;
            }
          }
        }
      }
      // Loop order moves (not at the innermost level: its order changes no count).
      for (int l = 0; l + 1 < L; ++l) {
        for (int from = 0; from < D; ++from) {
          for (int to = 0; to < D; ++to) {
            if (from == to) continue;
            auto& perm = mm.levels[static_cast<std::size_t>(l)].permutation;
            if (mm.levels[static_cast<std::size_t>(l)].temporal[static_cast<std::size_t>(perm[static_cast<std::size_t>(from)])] == 1)
              continue;
            Mapping t = mm;
            auto& tp = t.levels[static_cast<std::size_t>(l)].permutation;
            if (from < to)
              std::rotate(tp.begin() + from, tp.begin() + from + 1, tp.begin() + to + 1);
            else
              std::rotate(tp.begin() + to, tp.begin() + from, tp.begin() + from + 1);
            if (eval(t, tr) && better_full(obj, tr, cur)) {
              mm = t;
              cur = tr;
              improved = true;
            }
          }
        }
      }
      // Keep toggles.
      for (int l = 1; l < L; ++l) {
        for (std::uint32_t k : keeps[static_cast<std::size_t>(l)]) {
          if (k == mm.levels[static_cast<std::size_t>(l)].keep_mask) continue;
          Mapping t = mm;
          t.levels[static_cast<std::size_t>(l)].keep_mask = k;
          if (eval(t, tr) && better_full(obj, tr, cur)) {
            mm = t;
            cur = tr;
            improved = true;
          }
        }
      }
      if (!improved) break;
    }
  }

  // Re-tiles the two outermost levels jointly: every divisor split of their combined factors
  // (at most kRetileSplits of them, else nothing is done) with the current loop orders of the
  // two levels, or both levels in the stationary order of one dataspace. Inner levels stay.
  // Escapes the plateaus of single moves (a factor that pays only with another one beside it).
  static constexpr double kRetileSplits = 512;
  bool retile_outer(Mapping& mm, Result& cur) {
    if (L < 3) return false;  // level 1 would be the innermost: the exact part covers it
    std::array<std::int64_t, kMaxDims> combined{};
    double splits = 1;
    for (int d = 0; d < D; ++d) {
      const auto i = static_cast<std::size_t>(d);
      combined[i] = mm.levels[0].temporal[i] * mm.levels[1].temporal[i];
      splits *= static_cast<double>(divisors(combined[i]).size());
    }
    if (splits > kRetileSplits) return false;
    const int n_ds = static_cast<int>(p.dataspaces.size());
    std::vector<std::array<std::int8_t, kMaxDims>> orders0{mm.levels[0].permutation}, orders1{mm.levels[1].permutation};
    for (int st = 0; st < n_ds; ++st) {
      Mapping t = mm;
      seed_order(t, 0, st);
      seed_order(t, 1, st);
      orders0.push_back(t.levels[0].permutation);
      orders1.push_back(t.levels[1].permutation);
    }
    bool improved = false;
    Mapping t = mm;
    Result tr;
    // Every divisor of each dim's combined factor as level 1's share.
    std::vector<std::vector<std::int64_t>> divs;
    std::vector<std::size_t> sizes;
    for (int d = 0; d < D; ++d) {
      divs.push_back(divisors(combined[static_cast<std::size_t>(d)]));
      sizes.push_back(divs.back().size());
    }
    for_each_index(sizes, [&](const std::vector<std::size_t>& idx) {
      for (int d = 0; d < D; ++d) {
        const auto i = static_cast<std::size_t>(d);
        t.levels[1].temporal[i] = divs[i][idx[i]];
        t.levels[0].temporal[i] = combined[i] / divs[i][idx[i]];
      }
      for (std::size_t o = 0; o < orders0.size(); ++o) {
        t.levels[0].permutation = orders0[o];
        t.levels[1].permutation = orders1[o];
        if (eval(t, tr) && better_full(obj, tr, cur)) {
          mm = t;
          cur = tr;
          improved = true;
        }
      }
    });
    return improved;
  }

  // Values of dataspace d the evaluator counts in the tile of iteration box `ext` (its
  // footprint formula: per rank 1 + sum of coefficient x (extent - 1)).
  std::int64_t footprint(int d, const std::array<std::int64_t, kMaxDims>& ext) const {
    std::int64_t size = 1;
    for (const auto& rank : projection[static_cast<std::size_t>(d)]) {
      std::int64_t e = 1;
      for (const Term& t : rank) e += t.coef * (ext[static_cast<std::size_t>(t.dim)] - 1);
      size *= e;
    }
    return size;
  }
  // Distinct values of dataspace d that the iteration points of any set with `ext` values per
  // dim touch, at least: per rank, the largest extent among its terms (coefficients >= 1, so
  // index -> rank value is injective in each term), multiplied over ranks (each dim in one rank
  // only: checked). Not the footprint formula: a strided window (1x1 conv at stride 2) or a
  // non-contiguous set (a spatial split inside temporal loops) touches fewer.
  std::int64_t touched(int d, const std::array<std::int64_t, kMaxDims>& ext) const {
    std::int64_t size = 1;
    for (const auto& rank : projection[static_cast<std::size_t>(d)]) {
      std::int64_t e = 1;
      for (const Term& t : rank) e = std::max(e, ext[static_cast<std::size_t>(t.dim)]);
      size *= e;
    }
    return size;
  }

  // A lower bound on the objective's first metric over every valid mapping with the spatial
  // factors and keeps of `t`, whatever its temporal factors and loop orders — growing a seed changes only those. Per dataspace d and level l keeping it (chain
  // order, child c = the next inner keeper; groups = the distinct child tiles its spatial loops
  // between l and c feed, children / multicast):
  //   * innermost keeper: content = compute cycles x groups exactly (one per compute);
  //     otherwise content = delta_sum(c) x groups >= touched(d, E_c) x groups, where E_c =
  //     each bound / the spatial factors above c (one child instance's iterations over the run,
  //     E_c values per dim): its tiles over the run contain every value those iterations touch,
  //     and every delta the sweep adds is >= the values new to the tile (a kept overlap counts
  //     exactly those of a translated box, a refetch the whole tile), so the sum is >= the union.
  //   * inputs: reads = content; fills (below the outermost) = delta_sum(l) >= touched(E_l).
  //   * outputs: updates = content; reads = content - partition(l) >= content - the whole
  //     tensor (a partition is at most the outermost one).
  // Energy: vector accesses x energy per access x utilized instances (the evaluator's formula,
  // monotone in the counts; every energy >= 0, leakage >= 0 dropped); cycles: >= the compute
  // cycles and >= each level's bandwidth-limited cycles for these counts. Scaled down by 1e-9
  // against rounding in the sums.
  static constexpr double kNoBound = -1e300;
  double first_metric_bound(const Mapping& t) const {
    if (!bound_ok) return kNoBound;
    const int n_ds = static_cast<int>(p.dataspaces.size());
    // Spatial fan-out in use per level, and per dataspace the part that multicasts.
    std::array<std::int64_t, kMaxLevels> n_below{};
    std::array<std::array<std::int64_t, kMaxDataspaces>, kMaxLevels> mc_below{};
    std::array<std::array<std::int64_t, kMaxDims>, kMaxLevels + 1> box{};  // E_l: bounds / spatial above l
    std::array<std::int64_t, kMaxLevels + 1> above{};                       // spatial product above l
    above[0] = 1;
    for (int d = 0; d < D; ++d) box[0][static_cast<std::size_t>(d)] = p.bounds[static_cast<std::size_t>(d)];
    for (int l = 0; l < L; ++l) {
      const auto li = static_cast<std::size_t>(l);
      const LevelMapping& x = t.levels[li];
      n_below[li] = 1;
      mc_below[li].fill(1);
      for (int d = 0; d < D; ++d) {
        const auto i = static_cast<std::size_t>(d);
        const std::int64_t f = x.spatial_x[i] * x.spatial_y[i];
        n_below[li] *= f;
        for (int s = 0; s < n_ds; ++s)
          if (!(rel[i] >> s & 1u)) mc_below[li][static_cast<std::size_t>(s)] *= f;
        box[li + 1][i] = box[li][i] / f;
      }
      above[li + 1] = above[li] * n_below[li];
    }
    // The evaluator's compute cycles and energy (they depend on the spatial factors only).
    std::int64_t macs = 1;
    for (int d = 0; d < D; ++d) macs *= p.bounds[static_cast<std::size_t>(d)];
    if (above[static_cast<std::size_t>(L)] < 1) return kNoBound;
    const std::int64_t compute_cycles = macs / above[static_cast<std::size_t>(L)];
    double energy = static_cast<double>(macs) * a.compute.energy_pj;
    std::array<double, kMaxLevels> rd{}, wr{};
    for (int d = 0; d < n_ds; ++d) {
      const auto di = static_cast<std::size_t>(d);
      const bool rw = p.dataspaces[di].read_write;
      const std::int64_t whole = footprint(d, box[0]);
      std::array<int, kMaxLevels> chain{};
      int nc = 0;
      for (int l = 0; l < L; ++l)
        if (l == 0 || (t.levels[static_cast<std::size_t>(l)].keep_mask >> d & 1u)) chain[static_cast<std::size_t>(nc++)] = l;
      for (int i = 0; i < nc; ++i) {
        const int l = chain[static_cast<std::size_t>(i)];
        const auto li = static_cast<std::size_t>(l);
        const bool innermost = i + 1 == nc;
        const int child = innermost ? L : chain[static_cast<std::size_t>(i + 1)];
        std::int64_t children = 1, mc = 1;
        for (int b = l; b < child; ++b) {
          children *= n_below[static_cast<std::size_t>(b)];
          mc *= mc_below[static_cast<std::size_t>(b)][di];
        }
        const std::int64_t groups = children / mc;
        const std::int64_t content =
            (innermost ? compute_cycles : touched(d, box[static_cast<std::size_t>(child)])) * groups;
        std::int64_t reads = content, fills = 0, updates = 0;
        if (rw) {
          updates = content;
          reads = std::max<std::int64_t>(0, content - whole);
        } else if (i > 0) {
          fills = touched(d, box[li]);
        }
        const StorageLevel& s = a.levels[li];
        const int bits = s.word_bits > 0 ? s.word_bits : p.dataspaces[di].bits;
        const std::int64_t vpb = s.block_bits / bits;
        if (vpb < 1) return kNoBound;
        auto vec = [&](std::int64_t n) { return static_cast<double>((n + vpb - 1) / vpb); };
        energy += (vec(reads) * s.read_pj + vec(fills) * s.write_pj + vec(updates) * s.update_pj) *
                  static_cast<double>(above[li]);
        rd[li] += static_cast<double>(reads) * bits;
        wr[li] += static_cast<double>(fills + updates) * bits;
      }
    }
    std::int64_t cycles = compute_cycles;
    const double cyc = static_cast<double>(compute_cycles);
    for (int l = 0; l < L; ++l) {
      const StorageLevel& s = a.levels[static_cast<std::size_t>(l)];
      const double r = rd[static_cast<std::size_t>(l)], w = wr[static_cast<std::size_t>(l)];
      double throttle = 1;
      if (s.read_bandwidth_bits > 0 && r > 0) throttle = std::min(throttle, s.read_bandwidth_bits * s.banks * cyc / r);
      if (s.write_bandwidth_bits > 0 && w > 0) throttle = std::min(throttle, s.write_bandwidth_bits * s.banks * cyc / w);
      if (s.shared_bandwidth_bits > 0 && r + w > 0)
        throttle = std::min(throttle, s.shared_bandwidth_bits * s.banks * cyc / (r + w));
      cycles = std::max(cycles, static_cast<std::int64_t>(throttle < 1 ? std::ceil(cyc / throttle) : cyc));
    }
    double v = 0;
    switch (obj.metrics.front()) {
      case Metric::energy: v = energy; break;
      case Metric::delay: v = static_cast<double>(cycles); break;
      case Metric::edp: v = energy * static_cast<double>(cycles); break;
    }
    return v > 0 ? v * (1 - 1e-9) : kNoBound;
  }

  void heuristic() {
    auto keeps = keep_sets();
    std::size_t combos = 1;
    for (const auto& k : keeps) combos *= k.size();
    if (combos == 0) return;
    struct Seed {
      Mapping m;
      Result r;
      std::size_t index = 0;  // position in the enumeration (keep choice, base, stationary)
    };
    // The two best seeds, ranked as a stable sort of the enumeration would rank them (the
    // objective, then energy and delay; ties: the first enumerated), whatever order they are
    // grown in. Kept online: a seed is 4.6 kB.
    std::array<Seed, 2> seeds;
    std::size_t n_seeds = 0;
    auto before = [&](const Result& r, std::size_t index, const Seed& s) {
      return better_full(obj, r, s.r) || (!better_full(obj, s.r, r) && index < s.index);
    };
    auto offer_seed = [&](const Mapping& sm, const Result& sr, std::size_t index) {
      if (n_seeds == 0 || before(sr, index, seeds[0])) {
        if (n_seeds > 0) seeds[1] = seeds[0];
        seeds[0] = {sm, sr, index};
        n_seeds = std::min<std::size_t>(n_seeds + 1, 2);
      } else if (n_seeds == 1 || before(sr, index, seeds[1])) {
        seeds[1] = {sm, sr, index};
        n_seeds = 2;
      }
    };
    // Factor skeletons (independent of the keep choice): exact / minimum factors, then the
    // spatial assignments of greatest product, level by level (outermost first).
    std::vector<Mapping> bases;
    {
      Mapping base = m;
      for (int l = 0; l < L; ++l) {
        auto& x = base.levels[static_cast<std::size_t>(l)];
        x.temporal.fill(1);
        x.spatial_x.fill(1);
        x.spatial_y.fill(1);
      }
      for (int d = 0; d < D; ++d) base.levels[0].temporal[static_cast<std::size_t>(d)] = p.bounds[static_cast<std::size_t>(d)];
      // Exact and minimum factors first.
      for (int l = 1; l < L; ++l)
        for (int d = 0; d < D; ++d) {
          const auto i = static_cast<std::size_t>(d);
          const FactorBound& fb = lc(l).temporal[i];
          take(base, l, 0, d, fb.exact ? fb.exact : fb.min);
        }
      bases = {base};
      for (int l = 0; l < L; ++l) {
        if (fan[static_cast<std::size_t>(l)].total() <= 1) continue;
        std::vector<Mapping> next;
        for (const Mapping& b : bases) {
          TopChoices top;
          SpatialChoice cur;
          spatial_choices(b, l, 0, 1, 1, cur, top);
          const int keep_n = next.empty() && bases.size() == 1 ? kTop : 1;
          for (int k = 0; k < top.n && k < keep_n; ++k) {
            Mapping t = b;
            const SpatialChoice& ch = top.best[static_cast<std::size_t>(k)];
            for (int j = 0; j < ch.n; ++j) {
              const auto& it = ch.items[static_cast<std::size_t>(j)];
              take(t, l, static_cast<int>(it[1]), static_cast<int>(it[0]), it[2]);
            }
            next.push_back(t);
          }
        }
        if (!next.empty()) bases = next;
      }
    }
    // Seeds: (keep choice, base, stationary dataspace), in this enumeration order.
    struct SeedJob {
      std::array<std::uint32_t, kMaxLevels> keep{};
      std::size_t base = 0;
      int stationary = 0;
      std::size_t index = 0;
      double bound = 0;  // lower bound on the first metric of any mapping grown from it
    };
    auto seed_mapping = [&](const SeedJob& j) {
      Mapping t = bases[j.base];
      for (int l = 0; l < L; ++l) t.levels[static_cast<std::size_t>(l)].keep_mask = j.keep[static_cast<std::size_t>(l)];
      for (int l = 0; l < L; ++l) seed_order(t, l, j.stationary);
      return t;
    };
    // Growing only moves temporal factors (the spatial factors and keeps of a seed are fixed),
    // so a seed whose bound exceeds the second-best grown seed's objective cannot be one of
    // the two best: it is skipped, and seeds are grown in ascending bound order so that the
    // threshold tightens early. Same two best seeds as growing every one in enumeration order.
    auto seed_from = [&](const std::vector<std::vector<std::uint32_t>>& ks) {
      std::vector<SeedJob> jobs;
      for_each_keep(ks, [&] {
        SeedJob j;
        for (int l = 0; l < L; ++l) j.keep[static_cast<std::size_t>(l)] = m.levels[static_cast<std::size_t>(l)].keep_mask;
        for (j.base = 0; j.base < bases.size(); ++j.base)
          for (j.stationary = 0; j.stationary < static_cast<int>(p.dataspaces.size()); ++j.stationary) {
            j.index = jobs.size();
            jobs.push_back(j);
          }
      });
      for (SeedJob& j : jobs) j.bound = first_metric_bound(seed_mapping(j));
      std::stable_sort(jobs.begin(), jobs.end(), [](const SeedJob& u, const SeedJob& v) { return u.bound < v.bound; });
      for (const SeedJob& j : jobs) {
        if (n_seeds == 2 && j.bound > obj.value(0, seeds[1].r)) {
          ++out.pruned;
          continue;
        }
        Mapping t = seed_mapping(j);
        Result cur;
        bool ok = eval(t, cur);
        for (int l = L - 1; l >= 1; --l) grow(t, cur, ok, l);
        if (ok) offer_seed(t, cur, j.index);
      }
    };
    // Seeds from every keep choice when there are at most 16; else from the fullest keep (the
    // descent toggles keeps), and from every choice only if that gives no valid seed.
    std::vector<std::vector<std::uint32_t>> fullest = keeps;
    for (auto& k : fullest) k = {k.back()};
    seed_from(combos > 16 ? fullest : keeps);
    if (n_seeds == 0 && combos > 16) seed_from(keeps);
    // Descend from the two best seeds.
    for (std::size_t k = 0; k < n_seeds; ++k) {
      Mapping t = seeds[k].m;
      Result cur = seeds[k].r;
      descend(t, cur);
      if (k == 0 && retile_outer(t, cur)) descend(t, cur);
      if (!out.found || better_full(obj, cur, out.result)) {
        out.found = true;
        out.mapping = t;
        out.result = cur;
      }
    }
  }
};

double real_utilization(const Problem& original, const Architecture& a, const Result& r) {
  if (r.cycles <= 0 || a.compute.instances <= 0) return 0;
  return static_cast<double>(original.macs()) /
         (static_cast<double>(r.cycles) * static_cast<double>(a.compute.instances));
}

MapResult map_exactly_shaped(const Problem& p, const Architecture& a, const MapperOptions& o, const Constraints& c) {
  Search s(p, a, c, o.objective);
  s.out.mapspace_bound = mapspace_bound(p, a, c);
  if (s.out.mapspace_bound <= o.exhaustive_limit) {
    s.out.kind = SearchKind::exhaustive;
    s.exhaustive();
    s.out.space = "exact: every keep choice, divisor split and canonical loop order (" +
                  std::to_string(static_cast<long long>(s.out.mapspace_bound)) +
                  " mappings bound), capacity-pruned";
  } else {
    s.out.kind = SearchKind::heuristic;
    s.heuristic();
    std::ostringstream os;
    os << "heuristic (mapspace bound " << std::setprecision(3) << s.out.mapspace_bound
       << " > exact limit): greedy seeds per keep choice, top spatial products and stationary "
          "dataspace, then descent over prime-factor moves (into a level: also innermost / "
          "outermost there), loop moves and keep toggles, and a joint re-tiling of the two outermost "
          "levels (<= 512 divisor splits x current / stationary orders); seeds an admissible bound "
          "shows cannot be among the two best are not grown";
    s.out.space = os.str();
  }
  return std::move(s.out);
}

}  // namespace

double mapspace_bound(const Problem& p, const Architecture& a, const Constraints& c) {
  const int L = static_cast<int>(a.levels.size());
  const int D = static_cast<int>(p.dims.size());
  int n_slots = 0;
  for (int l = 0; l < L; ++l) {
    n_slots += 1;
    if (fanout(a, l).total() > 1) n_slots += 2;  // X and Y
  }
  double bound = 1;
  for (int d = 0; d < D; ++d) bound *= ordered_factorizations(p.bounds[static_cast<std::size_t>(d)], n_slots);
  for (int l = 0; l < L; ++l) bound *= static_cast<double>(keep_choices(p, a, c, l).size());
  // Loop orders: at most (free dims)! per level; the innermost level has one.
  for (int l = 0; l + 1 < L; ++l) {
    const LevelConstraints& k = c.levels[static_cast<std::size_t>(l)];
    const int fixed = static_cast<int>(k.permutation_inner.size() + k.permutation_outer.size());
    for (int i = 2; i <= D - fixed; ++i) bound *= i;
  }
  return bound;
}

namespace {
Constraints constraints_for(const Architecture& a, const MapperOptions& o) {
  if (o.constraints.levels.empty()) return unconstrained(a);
  if (o.constraints.levels.size() != a.levels.size())
    throw InternalError("mapper constraints have " + std::to_string(o.constraints.levels.size()) +
                        " levels, the architecture " + std::to_string(a.levels.size()));
  return o.constraints;
}
}  // namespace

MapResult map_layer(const Problem& p, const Architecture& a, const MapperOptions& o) {
  const Constraints c = constraints_for(a, o);
  MapResult best = map_exactly_shaped(p, a, o, c);
  best.utilization = best.found ? real_utilization(p, a, best.result) : 0;
  if (!o.pad) return best;
  // Padded variants: one dim at a time, up to a multiple of a fan-out axis, when that needs
  // fewer folds than its best exact divisor.
  std::vector<std::int64_t> axes;
  for (int l = 0; l < static_cast<int>(a.levels.size()); ++l) {
    const Fanout f = fanout(a, l);
    for (std::int64_t s : {f.x, f.y})
      if (s > 1 && std::find(axes.begin(), axes.end(), s) == axes.end()) axes.push_back(s);
  }
  std::int64_t extra_evals = 0, extra_complete = 0;
  for (std::size_t d = 0; d < p.dims.size(); ++d) {
    for (std::int64_t axis : axes) {
      const std::int64_t b = p.bounds[d];
      if (b <= 1) continue;
      std::int64_t best_div = 1;
      for (std::int64_t v : divisors(b))
        if (v <= axis) best_div = v;
      const std::int64_t folds_exact = b / best_div;
      const std::int64_t folds_padded = (b + axis - 1) / axis;
      if (folds_padded >= folds_exact) continue;
      Problem padded = p;
      padded.bounds[d] = folds_padded * axis;
      MapResult r = map_exactly_shaped(padded, a, o, c);
      extra_evals += r.evaluations;
      extra_complete += r.complete;
      if (!r.found) continue;
      if (!best.found || better_full(o.objective, r.result, best.result)) {
        r.utilization = real_utilization(p, a, r.result);
        r.space += "; " + p.dims[d] + " padded " + std::to_string(b) + " -> " + std::to_string(padded.bounds[d]);
        best = std::move(r);
      }
    }
  }
  best.evaluations += extra_evals;
  best.complete += extra_complete;
  return best;
}

double seed_bound(const Problem& p, const Architecture& a, const MapperOptions& o, const Mapping& m) {
  const Constraints c = constraints_for(a, o);
  Search s(p, a, c, o.objective);
  return s.first_metric_bound(m);
}

MapResult brute_force(const Problem& p, const Architecture& a, const MapperOptions& o) {
  const Constraints c = constraints_for(a, o);
  Search s(p, a, c, o.objective);
  s.brute = true;
  s.exhaustive();
  s.out.kind = SearchKind::exhaustive;
  s.out.space = "brute force: every keep choice, divisor split and loop order, no pruning";
  s.out.utilization = s.out.found ? real_utilization(p, a, s.out.result) : 0;
  return std::move(s.out);
}

// ---------------------------------------------------------------------------------------------
std::string MapperCache::key(const Problem& p, const Architecture& a, const MapperOptions& o) {
  std::ostringstream k;
  k << std::setprecision(17);
  k << "P";
  for (std::size_t d = 0; d < p.dims.size(); ++d) k << ' ' << p.dims[d] << '=' << p.bounds[d];
  for (const auto& co : p.coefficients) k << " c" << co.name << '=' << co.value;
  for (const auto& ds : p.dataspaces) {
    k << " |" << ds.name << (ds.read_write ? "*" : "") << ':' << ds.bits << 'b';
    for (const auto& r : ds.ranks) {
      k << '[';
      for (const auto& t : r.terms) k << t.dim << ',' << t.coefficient << ';';
      k << ']';
    }
  }
  k << " A";
  for (const auto& l : a.levels)
    k << " |" << l.name << ' ' << l.depth << ' ' << l.block_bits << ' ' << l.word_bits << ' ' << l.instances << ' ' << l.mesh_x << ' '
      << l.read_bandwidth_bits << ' ' << l.write_bandwidth_bits << ' ' << l.shared_bandwidth_bits << ' ' << l.banks
      << ' ' << l.multiple_buffering << ' ' << l.keep_mask << ' ' << l.read_pj << ' ' << l.write_pj << ' '
      << l.update_pj << ' ' << l.leak_pj;
  k << " |" << a.compute.name << ' ' << a.compute.instances << ' ' << a.compute.mesh_x << ' ' << a.compute.energy_pj;
  k << " O" << o.objective.describe() << ' ' << o.exhaustive_limit << ' ' << o.pad;
  k << " C" << o.constraints.min_utilization;
  for (const auto& lc : o.constraints.levels) {
    k << " |";
    for (std::size_t d = 0; d < p.dims.size(); ++d) {
      for (const auto* fb : {&lc.temporal[d], &lc.spatial[d], &lc.spatial_x[d], &lc.spatial_y[d]})
        k << fb->exact << ',' << fb->min << ',' << fb->max << ';';
      k << static_cast<int>(lc.spatial_axis[d]);
    }
    for (int d : lc.permutation_inner) k << 'i' << d;
    for (int d : lc.permutation_outer) k << 'o' << d;
    k << 'k' << lc.keep << 'b' << lc.bypass;
  }
  return k.str();
}

const MapResult& MapperCache::map(const Problem& p, const Architecture& a, const MapperOptions& o) {
  const std::string k = key(p, a, o);
  auto it = entries_.find(k);
  if (it != entries_.end()) {
    ++hits_;
    return *it->second;
  }
  ++misses_;
  auto r = std::make_unique<MapResult>(map_layer(p, a, o));
  return *entries_.emplace(k, std::move(r)).first->second;
}

void MapperCache::clear() {
  entries_.clear();
  hits_ = misses_ = 0;
}

std::string render_map_result(const Problem& p, const Architecture& a, const MapResult& r,
                              const Objective& obj) {
  std::ostringstream os;
  if (!r.found) {
    os << "no valid mapping in the mapspace (" << r.space << "; " << r.evaluations << " evaluations)\n";
    return os.str();
  }
  os << render_loop_nest(r.problem, a, r.mapping, r.result);
  os << "\nObjective: " << obj.describe() << "\n";
  os << "Search: " << r.space << "\n";
  os << "Evaluations: " << r.evaluations << " (valid " << r.valid << ", pruned subtrees " << r.pruned << ")\n";
  os << std::fixed << std::setprecision(2);
  os << "MACs: " << p.macs();
  if (r.problem.macs() != p.macs()) os << " (padded to " << r.problem.macs() << ")";
  os << "\nCycles: " << r.result.cycles << "\n";
  os << "Utilization: " << 100.0 * r.utilization << "%\n";
  os << "Energy: " << r.result.energy_pj << " pJ (" << r.result.energy_pj / static_cast<double>(p.macs())
     << " pJ/MAC)\n";
  os << "  compute " << r.result.compute_energy_pj << " pJ\n";
  for (int l = 0; l < r.result.n_levels; ++l)
    os << "  " << a.levels[static_cast<std::size_t>(l)].name << ' ' << r.result.levels[static_cast<std::size_t>(l)].energy_pj
       << " pJ\n";
  os << std::scientific << std::setprecision(3) << "EDP: " << r.result.energy_pj * static_cast<double>(r.result.cycles)
     << " pJ*cycle\n";
  return os.str();
}

}  // namespace mixprec::sim::nest
