// The exact solver with terms over two to four groups (search/problem.hpp Term; residency's
// re-timing couples a layer's group with its neighbours'): brute force on random problems.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "search/problem.hpp"
#include "search/random_problem.hpp"
#include "search/solver.hpp"

using namespace mixprec;

namespace {

// Per-group item choice of a solution (single-layer groups: the item with the solution's option).
std::vector<int> items_of(const search::Problem& p, const search::Solution& s) {
  std::vector<int> choice(p.groups.size());
  for (std::size_t g = 0; g < p.groups.size(); ++g) {
    const auto& its = p.groups[g].items;
    for (std::size_t j = 0; j < its.size(); ++j)
      if (its[j].option == s.option_of_layer[std::size_t(p.groups[g].layers[0])]) choice[g] = int(j);
  }
  return choice;
}

// Least sensitivity of every choice whose costs stay within `limit` (with the solvers' relative
// tolerance), by enumeration.
struct Enumerated {
  bool feasible = false;
  double sensitivity = 0;
};
Enumerated brute(const search::Problem& p, const search::Budget& b) {
  const search::Solution s = search::solve_brute_force(p, b);
  return Enumerated{s.feasible, s.sensitivity};
}

}  // namespace

TEST_CASE("terms: the exact solver with ternary and 4-ary terms of any sign equals brute force, every budget",
          "[solver][residency]") {
  int total = 0, feasible = 0, infeasible = 0;
  for (std::uint64_t seed : {21u, 22u, 23u, 24u}) {
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 36; ++trial) {
      const int groups = 3 + int(rng() % 4), options = 2 + int(rng() % 3);
      search::Problem p = test::random_single_layer_groups(rng, groups, options);
      test::add_random_terms(rng, p, 1 + int(rng() % 5), trial % 3 == 0);
      // Budgets: none (the front), energy, latency, size, and all three.
      const int kind = trial % 5;
      search::Budget b;
      if (kind > 0) {
        const search::Budget all = test::random_budget(rng, p, 3);
        if (kind == 4)
          b = all;
        else
          b.limit[kind - 1] = all.limit[kind - 1];
      }
      INFO("seed " << seed << " trial " << trial << " groups " << groups << " terms " << p.terms.size()
                   << " budget kind " << kind);
      ++total;
      const search::ExactResult ex = search::solve_exact(p, b);
      const Enumerated bf = brute(p, b);
      REQUIRE(ex.best.feasible == bf.feasible);
      if (!bf.feasible) {
        ++infeasible;
        continue;
      }
      ++feasible;
      CHECK(ex.best.sensitivity == Approx(bf.sensitivity).epsilon(1e-12).margin(1e-12));
      for (int r = 0; r < search::kResources; ++r) CHECK(ex.best.cost[r] <= b.limit[r] * (1 + 1e-12));
      // The front: every point is the optimum under its own energy budget (with the other
      // budgets), and its figures are the one evaluation's.
      REQUIRE_FALSE(ex.front.empty());
      for (std::size_t k = 0; k < ex.front.size(); ++k) {
        const search::ParetoPoint& pt = ex.front[k];
        const search::Solution re = search::evaluate_choice(p, pt.item_of_group, b);
        CHECK(re.feasible);
        CHECK(re.sensitivity == Approx(pt.sensitivity).epsilon(1e-12).margin(1e-12));
        CHECK(re.cost[search::kEnergy] == Approx(pt.cost[search::kEnergy]).epsilon(1e-12).margin(1e-12));
        if (k > 0) {
          CHECK(pt.cost[search::kEnergy] > ex.front[k - 1].cost[search::kEnergy]);
          CHECK(pt.sensitivity < ex.front[k - 1].sensitivity);
        }
        search::Budget eb = b;
        eb.limit[search::kEnergy] = pt.cost[search::kEnergy] + 1e-9 * std::max(1.0, std::abs(pt.cost[search::kEnergy]));
        CHECK(brute(p, eb).sensitivity == Approx(pt.sensitivity).epsilon(1e-12).margin(1e-12));
      }
      // The front's least-energy point is the least energy of any feasible choice.
      search::Problem by_energy = p;
      for (search::Group& g : by_energy.groups)
        for (search::Item& it : g.items) it.sensitivity = it.cost[search::kEnergy];
      for (search::Term& t : by_energy.terms) {
        t.sensitivity.assign(t.cost.size(), 0.0);
        for (std::size_t i = 0; i < t.cost.size(); ++i) t.sensitivity[i] = t.cost[i][search::kEnergy];
      }
      CHECK(ex.front.front().cost[search::kEnergy] == Approx(brute(by_energy, b).sensitivity).epsilon(1e-12).margin(1e-12));
      // The baselines evaluate with the terms and never beat the optimum.
      for (const search::Solution& s : {search::solve_uniform(p, b), search::solve_greedy(p, b),
                                        search::solve_random(p, b, 200, seed), search::solve_evolutionary(p, b, 200, seed)}) {
        INFO(s.method);
        if (s.option_of_layer.empty()) continue;  // none feasible (uniform keeps no infeasible point)
        const search::Solution re = search::evaluate_choice(p, items_of(p, s), b);
        CHECK(re.cost[search::kEnergy] == s.cost[search::kEnergy]);
        CHECK(re.sensitivity == s.sensitivity);
        if (s.feasible) CHECK(s.sensitivity >= bf.sensitivity - 1e-9);
      }
    }
  }
  CHECK(total == 144);
  CHECK(feasible > 60);
  CHECK(infeasible > 5);
}

TEST_CASE("terms: a 4-ary term by hand, and states merged by equal slices", "[solver][residency]") {
  // Four groups of two items; items cost energy 1 (item 0) or 2 (item 1), sensitivity 1 / energy.
  search::Problem p;
  p.options.resize(2);
  for (int g = 0; g < 4; ++g) {
    p.layer_names.push_back("l" + std::to_string(g));
    search::Group gr;
    gr.layers.push_back(g);
    gr.items.push_back(search::Item{0, search::Costs{1, 1, 0}, 1.0});
    gr.items.push_back(search::Item{1, search::Costs{2, 1, 0}, 0.5});
    p.groups.push_back(gr);
  }
  // A term over the four groups: -2.5 energy when all four take item 1 (a saving that only the
  // whole combination gives), +1 cycle when groups 0 and 3 differ.
  search::Term t = test::zero_term(p, {0, 1, 2, 3});
  REQUIRE(t.cost.size() == 16);
  for (std::size_t i = 0; i < 16; ++i) {
    const int i0 = int(i >> 3), i3 = int(i & 1);
    if (i == 15) t.cost[i][search::kEnergy] = -2.5;
    if (i0 != i3) t.cost[i][search::kCycles] = 1;
  }
  p.terms.push_back(t);
  // Energy budget 5.5: without the term, all item 0 (energy 4, sensitivity 4) or one group at
  // item 1 (5, 3.5); with it, all four at item 1 cost 8 - 2.5 = 5.5, sensitivity 2.
  search::Budget b;
  b.limit[search::kEnergy] = 5.5;
  const search::ExactResult ex = search::solve_exact(p, b);
  CHECK(ex.best.sensitivity == 2.0);
  CHECK(ex.best.cost[search::kEnergy] == 5.5);
  CHECK(ex.best.cost[search::kCycles] == 4);
  // A latency budget of 4 cycles forbids groups 0 and 3 differing: with energy 5 the best is
  // groups 1 or 2 at item 1 (sensitivity 3.5), not group 0 or 3.
  b.limit[search::kEnergy] = 5;
  b.limit[search::kCycles] = 4;
  const search::ExactResult ex2 = search::solve_exact(p, b);
  CHECK(ex2.best.sensitivity == 3.5);
  CHECK(ex2.best.option_of_layer[0] == 0);
  CHECK(ex2.best.option_of_layer[3] == 0);
  CHECK(brute(p, b).sensitivity == 3.5);
}
