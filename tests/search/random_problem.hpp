#pragma once
// Random exact-solver problems and budgets for the brute-force tests (tests/search/test_clado.cpp,
// tests/sim/test_residency.cpp): `groups` groups of one layer each, 1..`options` items per group
// with energy, cycles and size in [1, 10] and a sensitivity 10 / energy + [0, 3). Terms over two
// or more groups: zero_term, random_term, random_terms.
#include <algorithm>
#include <random>
#include <vector>
#include <string>

#include "search/problem.hpp"
#include "search/solver.hpp"

namespace mixprec::test {

inline search::Problem random_single_layer_groups(std::mt19937_64& rng, int groups, int options) {
  std::uniform_real_distribution<double> u(0, 1);
  search::Problem p;
  p.options.resize(std::size_t(options));
  for (int g = 0; g < groups; ++g) {
    p.layer_names.push_back("l" + std::to_string(g));
    search::Group gr;
    gr.layers.push_back(g);
    const int n = 1 + int(rng() % std::uint64_t(options));
    for (int o = 0; o < n; ++o) {
      const double e = 1 + 9 * u(rng), cyc = 1 + 9 * u(rng), s = 1 + 9 * u(rng);
      gr.items.push_back(search::Item{o, search::Costs{e, cyc, s}, 10.0 / e + 3 * u(rng)});
    }
    p.groups.push_back(gr);
  }
  return p;
}

// A term of p over `groups` (ascending, distinct), all zero.
inline search::Term zero_term(const search::Problem& p, const std::vector<int>& groups) {
  search::Term t;
  t.groups = groups;
  std::size_t n = 1;
  for (int g : groups) {
    t.sizes.push_back(int(p.groups[std::size_t(g)].items.size()));
    n *= p.groups[std::size_t(g)].items.size();
  }
  t.cost.assign(n, search::Costs{});
  return t;
}

// A term over `groups` with entries of any sign: energy mostly savings (negative, as residency
// gives) with some positive entries; cycles of either sign in a quarter of the entries; size in a
// tenth; with `sensitivity`, a sensitivity entry in [-3, 3) everywhere. Some entries repeat a
// value across a group's items (as residency's terms do when a hand-over is off either way), so
// the solver's slice classes merge states.
inline search::Term random_term(std::mt19937_64& rng, const search::Problem& p, const std::vector<int>& groups,
                                bool sensitivity) {
  std::uniform_real_distribution<double> v(0, 1);
  search::Term t = zero_term(p, groups);
  const bool repeat = rng() % 2 == 0;
  const std::size_t last = std::size_t(t.sizes.back());
  for (std::size_t k = 0; k < t.cost.size(); ++k) {
    if (repeat && k >= last && rng() % 2 == 0) {  // copy the slice entry of the previous prefix
      t.cost[k] = t.cost[k - last];
      if (sensitivity) t.sensitivity.push_back(t.sensitivity[k - last]);
      continue;
    }
    t.cost[k] = search::Costs{-4 * v(rng) + (rng() % 5 == 0 ? 3 * v(rng) : 0.0),
                              rng() % 4 == 0 ? 2 * v(rng) - 1 : 0.0, rng() % 10 == 0 ? v(rng) - 0.5 : 0.0};
    if (sensitivity) t.sensitivity.push_back(6 * v(rng) - 3);
  }
  return t;
}

// Random terms over 2, 3 and 4 groups of p: chain-like ones (consecutive groups, as residency's
// re-timing over a layer and its neighbours) and skip ones (any groups), at most one per set.
inline void add_random_terms(std::mt19937_64& rng, search::Problem& p, int count, bool sensitivity) {
  const int G = int(p.groups.size());
  std::vector<std::vector<int>> used;
  for (const search::Term& t : p.terms) used.push_back(t.groups);
  for (int c = 0; c < count; ++c) {
    const int arity = std::min(G, 2 + int(rng() % 3));
    std::vector<int> gs;
    if (rng() % 2 == 0) {
      const int first = int(rng() % std::uint64_t(G - arity + 1));
      for (int k = 0; k < arity; ++k) gs.push_back(first + k);
    } else {
      while (int(gs.size()) < arity) {
        const int g = int(rng() % std::uint64_t(G));
        if (std::find(gs.begin(), gs.end(), g) == gs.end()) gs.push_back(g);
      }
      std::sort(gs.begin(), gs.end());
    }
    if (std::find(used.begin(), used.end(), gs) != used.end()) continue;
    used.push_back(gs);
    p.terms.push_back(random_term(rng, p, gs, sensitivity));
  }
}

// Limits on the first `limits` resources (energy, latency, size), each 0.6-1.1 times the cost of
// the unconstrained optimum, so that some instances are feasible and some not.
inline search::Budget random_budget(std::mt19937_64& rng, const search::Problem& p, int limits) {
  search::Budget b;
  if (limits == 0) return b;
  const search::Solution all = search::solve_brute_force(p, search::Budget{});
  std::uniform_real_distribution<double> f(0.6, 1.1);
  for (int r = 0; r < limits; ++r) b.limit[r] = all.cost[r] * f(rng);
  return b;
}

}  // namespace mixprec::test
