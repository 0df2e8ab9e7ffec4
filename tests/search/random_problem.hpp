#pragma once
// Random exact-solver problems and budgets for the brute-force tests (tests/search/test_clado.cpp,
// tests/sim/test_residency.cpp): `groups` groups of one layer each, 1..`options` items per group
// with energy, cycles and size in [1, 10] and a sensitivity 10 / energy + [0, 3). Pair terms are
// the caller's.
#include <random>
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
