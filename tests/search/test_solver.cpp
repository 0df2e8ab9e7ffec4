// The exact solver against brute-force enumeration on small random instances, with one, two and
// three budgets; the Pareto front's invariants; baselines never beat the exact optimum.
#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <random>

#include "search/solver.hpp"

using namespace mixprec;
using namespace mixprec::search;

namespace {

Problem random_problem(std::mt19937_64& rng, int groups, int options) {
  std::uniform_real_distribution<double> u(0, 1);
  Problem p;
  p.options.resize(options);
  for (int g = 0; g < groups; ++g) {
    p.layer_names.push_back("l" + std::to_string(g));
    Group gr;
    gr.layers.push_back(g);  // (assigning an init list trips a GCC 12 -Wnonnull false positive)
    for (int o = 0; o < options; ++o) {
      // Cheaper options tend to be more sensitive, with noise so that the front is irregular.
      double e = 1 + 9 * u(rng), c = 1 + 9 * u(rng), s = 1 + 9 * u(rng);
      gr.items.push_back(Item{o, Costs{e, c, s}, std::max(0.0, 10.0 / e + u(rng) * 3)});
    }
    p.groups.push_back(gr);
  }
  return p;
}

double total(const Problem& p, int r, bool max) {
  double t = 0;
  for (const auto& g : p.groups) {
    double best = max ? 0 : 1e300;
    for (const auto& it : g.items) best = max ? std::max(best, it.cost[r]) : std::min(best, it.cost[r]);
    t += best;
  }
  return t;
}

}  // namespace

TEST_CASE("exact solver equals brute force on random instances (1, 2 and 3 budgets)", "[search][exact]") {
  std::mt19937_64 rng(42);
  int infeasible = 0, feasible = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int groups = 2 + int(rng() % 5), options = 2 + int(rng() % 4);
    Problem p = random_problem(rng, groups, options);
    Budget b;
    const int nb = 1 + trial % 3;
    std::uniform_real_distribution<double> f(0.0, 1.0);
    for (int r = 0; r < nb; ++r) {
      const double lo = total(p, r, false), hi = total(p, r, true);
      b.limit[r] = lo + (hi - lo) * f(rng);
    }
    ExactResult ex = solve_exact(p, b);
    Solution bf = solve_brute_force(p, b);
    INFO("trial " << trial << " groups " << groups << " options " << options << " budgets " << nb);
    REQUIRE(ex.best.feasible == bf.feasible);
    if (!bf.feasible) {
      ++infeasible;
      continue;
    }
    ++feasible;
    CHECK(ex.best.sensitivity == Approx(bf.sensitivity).epsilon(1e-12));
    for (int r = 0; r < kResources; ++r) CHECK(ex.best.cost[r] <= b.limit[r] * (1 + 1e-12));
  }
  CHECK(feasible > 30);  // the instances exercise both outcomes
  CHECK(infeasible > 0);
}

TEST_CASE("the Pareto front is sorted, non-dominated and answers every energy budget", "[search][pareto]") {
  std::mt19937_64 rng(7);
  Problem p = random_problem(rng, 6, 4);
  ExactResult all = solve_exact(p, Budget{});
  REQUIRE(all.front.size() >= 3);
  for (std::size_t i = 1; i < all.front.size(); ++i) {
    CHECK(all.front[i].cost[kEnergy] > all.front[i - 1].cost[kEnergy]);
    CHECK(all.front[i].sensitivity < all.front[i - 1].sensitivity);
  }
  // The point of the front just under a budget is the constrained optimum.
  for (const auto& pt : all.front) {
    Budget b;
    b.limit[kEnergy] = pt.cost[kEnergy];
    Solution bf = solve_brute_force(p, b);
    CHECK(bf.sensitivity == Approx(pt.sensitivity));
    Solution re = evaluate_choice(p, pt.item_of_group, b);
    CHECK(re.cost[kEnergy] == Approx(pt.cost[kEnergy]));
  }
}

TEST_CASE("baselines are feasible when they claim to be and never beat the exact optimum", "[search][baselines]") {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    Problem p = random_problem(rng, 8, 5);
    Budget b;
    b.limit[kEnergy] = 0.5 * (total(p, kEnergy, false) + total(p, kEnergy, true));
    ExactResult ex = solve_exact(p, b);
    REQUIRE(ex.best.feasible);
    for (const Solution& s : {solve_uniform(p, b), solve_greedy(p, b), solve_random(p, b, 500, trial),
                              solve_evolutionary(p, b, 500, trial)}) {
      INFO(s.method);
      if (!s.feasible) continue;
      CHECK(s.cost[kEnergy] <= b.limit[kEnergy] * (1 + 1e-12));
      CHECK(s.sensitivity >= ex.best.sensitivity - 1e-9);
    }
    CHECK(solve_greedy(p, b).feasible);  // lowering precision always reaches a loose budget
  }
}

TEST_CASE("random and evolutionary searches spend exactly the evaluations they are given and are seeded", "[search][baselines]") {
  std::mt19937_64 rng(11);
  Problem p = random_problem(rng, 10, 6);
  Budget b;
  b.limit[kEnergy] = 0.4 * total(p, kEnergy, true);
  Solution r1 = solve_random(p, b, 300, 5), r2 = solve_random(p, b, 300, 5);
  Solution e1 = solve_evolutionary(p, b, 300, 5), e2 = solve_evolutionary(p, b, 300, 5);
  CHECK(r1.evaluations == 300);
  CHECK(e1.evaluations == 300);
  CHECK(r1.sensitivity == r2.sensitivity);
  CHECK(e1.sensitivity == e2.sensitivity);
  CHECK(e1.option_of_layer == e2.option_of_layer);
}

TEST_CASE("an impossible budget is reported as infeasible, not as a wrong answer", "[search][exact]") {
  std::mt19937_64 rng(5);
  Problem p = random_problem(rng, 4, 3);
  Budget b;
  b.limit[kEnergy] = 0.5 * total(p, kEnergy, false);
  CHECK_FALSE(solve_exact(p, b).best.feasible);
  CHECK_FALSE(solve_brute_force(p, b).feasible);
  CHECK_FALSE(solve_greedy(p, b).feasible);
}

TEST_CASE("the energy-only front equals the brute-force front on instances with many ties", "[search][pareto]") {
  // Small integer costs and sensitivities: equal sums along different paths, dominated and
  // duplicate items within groups. The front is every non-dominated (energy, sensitivity) pair.
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 40; ++trial) {
    Problem p;
    const int groups = 2 + int(rng() % 4);
    p.options.resize(6);
    for (int g = 0; g < groups; ++g) {
      p.layer_names.push_back("l" + std::to_string(g));
      Group gr;
      gr.layers.push_back(g);
      const int items = 1 + int(rng() % 6);
      for (int o = 0; o < items; ++o)
        gr.items.push_back(Item{o, Costs{double(rng() % 6), double(rng() % 4), 1.0}, double(rng() % 6)});
      p.groups.push_back(gr);
    }
    // Brute force: all choices, then the non-dominated (energy, sensitivity) pairs.
    std::vector<std::pair<double, double>> all;
    std::vector<int> choice(p.groups.size(), 0);
    for (;;) {
      Solution s = evaluate_choice(p, choice, Budget{});
      all.emplace_back(s.cost[kEnergy], s.sensitivity);
      std::size_t g = 0;
      while (g < choice.size() && ++choice[g] == int(p.groups[g].items.size())) choice[g++] = 0;
      if (g == choice.size()) break;
    }
    std::sort(all.begin(), all.end());
    std::vector<std::pair<double, double>> front;
    for (const auto& pt : all)
      if (front.empty() || pt.second < front.back().second) front.push_back(pt);
    // With and without an energy budget at one of the front's points.
    const std::pair<double, double> cut = front[rng() % front.size()];
    for (const double limit : {std::numeric_limits<double>::infinity(), cut.first}) {
      Budget b;
      b.limit[kEnergy] = limit;
      ExactResult ex = solve_exact(p, b);
      std::vector<std::pair<double, double>> want;
      for (const auto& pt : front)
        if (pt.first <= limit) want.push_back(pt);
      INFO("trial " << trial << " limit " << limit);
      REQUIRE(ex.front.size() == want.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK(ex.front[i].cost[kEnergy] == want[i].first);
        CHECK(ex.front[i].sensitivity == want[i].second);
        // The point's choice reproduces it.
        Solution s = evaluate_choice(p, ex.front[i].item_of_group, b);
        CHECK(s.cost[kEnergy] == want[i].first);
        CHECK(s.sensitivity == want[i].second);
      }
      REQUIRE(ex.best.feasible);
      CHECK(ex.best.sensitivity == want.back().second);
    }
  }
}
