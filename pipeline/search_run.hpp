// The precision search as a library call: candidate options and rules from the scenario, the
// cost table priced once, budgets against the named baseline, and the chosen configuration as a
// full per-layer precision vector. `mixprec search` and `reproduce` share it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "energy_models/energy_model.hpp"
#include "search/problem.hpp"
#include "search/solver.hpp"
#include "sim/analytical.hpp"
#include "sim/cost_table.hpp"
#include "sim/pricer.hpp"

namespace mixprec::pipeline {

struct SearchSetup {
  std::vector<LayerPrecision> options;  // candidate options (+ fixed layers' own precisions)
  search::Rules rules;
  std::vector<int> default_option;      // per layer: its scenario precision's option index
  sim::CostTable table;
  double baseline_energy_uj = 0;        // uniform sc.constraints.energy.baseline on this hardware
  std::string engine;                   // the engine that priced the table (sc.cost_model)
  // Per sc.search.ranks entry: the layer's cost at every (rank candidate, option); the
  // sensitivities come with the table (rank_choices).
  std::vector<search::RankChoice> rank_costs;
};

// Whether `b` is search option `a`: same format, weight and activation bits.
inline bool same_option(const LayerPrecision& a, const LayerPrecision& b) {
  return a.format == b.format && a.weights().bits == b.weights().bits &&
         a.activations().bits == b.activations().bits;
}

// Prices the options with the scenario's engine (sim/pricer.hpp); `cache` (optional) shares the
// mapper's results with other searches of this thread. Throws SpecError when the scenario names a
// baseline that is not a standard one.
SearchSetup prepare_search(const Scenario& sc, sim::nest::MapperCache* cache = nullptr);

// Budgets from sc.constraints: energy as a fraction of the baseline (or absolute), latency and
// model size when given. fraction >= 0 overrides the scenario's energy constraint.
search::Budget make_budget(const Scenario& sc, const SearchSetup& s, double fraction = -1);

// The problem's rank choices: setup.rank_costs with the sensitivity table's rank rows (a table
// without them, e.g. a file computed before search.ranks was added, throws SpecError naming
// `sens_file`).
std::vector<search::RankChoice> rank_choices(const Scenario& sc, const SearchSetup& s,
                                             const search::SensitivityTable& sens, const std::string& sens_file);

// Per layer, the factorization a solution chose (the scenario's own where ranks are not searched).
std::vector<Factorization> chosen_factorization(const Scenario& sc, const search::Solution& sol);

// Per-layer precisions of a solution: each layer's scenario precision (LSTM extras such as cell
// state bits kept) with the chosen option's format and bits.
std::vector<LayerPrecision> chosen_precision(const Scenario& sc, const SearchSetup& s,
                                             const search::Solution& sol);

// Every searched layer at the integer option (weight_bits, activation_bits), fixed layers at their
// own option: per layer, an index into s.options. Empty when the search space lacks the option.
std::vector<int> uniform_option_of_layer(const Scenario& sc, const SearchSetup& s, int weight_bits,
                                         int activation_bits);

// Per layer, the index into s.options of that layer's precision in `precision` (same_option);
// empty when some layer's precision is not among the options (an fp16 baseline, say), so that
// the search's sensitivity table has no value for it.
std::vector<int> option_of_precision(const SearchSetup& s, const std::vector<LayerPrecision>& precision);

// Uniform precision of a named standard baseline ("int8", "int16", "fp16", "fp32", "int4"); each
// layer keeps the scenario's gradient bitwidth (part of the training recipe).
std::vector<LayerPrecision> uniform_precision(const Scenario& sc, const std::string& name);

// The solve of `mixprec search` (and the Python module's Scenario.search): the exact solver at
// the scenario's budgets, the whole (energy, sensitivity) front without the energy budget, and
// the baselines (uniform, greedy, random, evolutionary) on the same problem. `chosen` is the
// pick of sc.search.solver; SpecError at /constraints when it is infeasible.
struct SearchOutcome {
  search::Problem problem;
  search::Budget budget;
  search::ExactResult exact, front;
  std::vector<search::Solution> baselines;
  search::Solution chosen;
};
SearchOutcome solve_search(const Scenario& sc, const SearchSetup& s, const search::SensitivityTable& sens,
                           const std::string& sens_file);

// Totals of a solution or front point: energy_uj, latency_ms, size_bytes, sensitivity and
// saving_percent against `baseline_uj`.
nlohmann::json cost_summary(const search::Problem& p, const search::Costs& cost, double sensitivity,
                            double baseline_uj);

}  // namespace mixprec::pipeline
