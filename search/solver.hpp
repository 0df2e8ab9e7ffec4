// Solvers over a Problem. The exact solver and the Pareto front are exact (no budget grid):
// dynamic programming over groups that keeps only non-dominated partial solutions.
//
// Why it is exact: every resource and the sensitivity are sums over groups of non-negative
// terms. A partial solution that already exceeds a budget cannot become feasible, and one that
// is dominated (no better in any tracked resource nor in sensitivity) by another partial
// solution over the same groups can be replaced by it in every completion. So the set kept
// after the last group contains an optimal solution. With an energy budget only, the kept set is
// the 2-D (energy, sensitivity) front; with latency and size budgets too, dominance is checked
// in those dimensions as well (3-D or 4-D), which is what keeps the multi-constraint case exact.
//
// Energy-only case (the front, and a binding energy budget alone): each stage's front is the
// lower envelope of the previous front shifted by every item, built by a k-way merge in
// (energy, sensitivity) order that skips dominated stretches of a run by binary search, so it
// never materializes the dominated candidates (search/solver.cpp, solve_energy_only).
#pragma once
#include <cstdint>
#include <vector>

#include "search/problem.hpp"

namespace mixprec::search {

struct ParetoPoint {
  Costs cost{};
  double sensitivity = 0;
  std::vector<int> item_of_group;
};

struct ExactResult {
  Solution best;                    // min sensitivity within the budget
  std::vector<ParetoPoint> front;   // (energy, sensitivity) front of the feasible solutions
  long states = 0;                  // partial solutions examined (candidates the merge looked at)
  std::size_t max_front = 0;        // largest kept set over the stages
};

ExactResult solve_exact(const Problem& p, const Budget& b);

// Brute-force enumeration (tests only; refuses more than `max_points` combinations).
Solution solve_brute_force(const Problem& p, const Budget& b, long max_points = 5000000);

// Baselines on the same tables.
Solution solve_uniform(const Problem& p, const Budget& b);
Solution solve_greedy(const Problem& p, const Budget& b);
Solution solve_random(const Problem& p, const Budget& b, long evaluations, std::uint64_t seed);
Solution solve_evolutionary(const Problem& p, const Budget& b, long evaluations, std::uint64_t seed);

// Per-layer option indices from a per-group choice.
std::vector<int> expand_choice(const Problem& p, const std::vector<int>& item_of_group);

}  // namespace mixprec::search
