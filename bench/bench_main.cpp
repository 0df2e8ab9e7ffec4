// mixprec_bench: Google Benchmark figures for the hot paths. Run: build/bin/mixprec_bench
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "pipeline/search_run.hpp"
#include "search/io.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/analytical.hpp"
#include "sim/cost_table.hpp"
#include "sim/pricer.hpp"
#include "search/solver.hpp"

#ifndef MIXPREC_SOURCE_DIR
#error "MIXPREC_SOURCE_DIR must be defined"
#endif

namespace {

using namespace mixprec;

const Scenario& default_scenario() {
  static const Scenario sc = load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/venue_cnn_lstm.json");
  return sc;
}

// One layer at one precision, including the tiling choice. Cycles through every layer of the
// default network so the figure is an average over conv, LSTM, linear and elementwise layers.
void BM_LayerCost(benchmark::State& state) {
  const Scenario& sc = default_scenario();
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const sim::AnalyticalEngine eng(sc.hardware, em);
  const LayerPrecision p = LayerPrecision::uniform(NumFormat::Int, 4);
  std::size_t i = 0;
  for (auto _ : state) {
    sim::LayerCost lc = eng.layer_cost(sc.net, static_cast<int>(i), p, Phase::Inference);
    benchmark::DoNotOptimize(lc.cycles);
    if (++i == sc.net.layers.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("layer evaluations");
}
BENCHMARK(BM_LayerCost);

// A whole-network design point from the precomputed per-layer cost table (24 options/layer).
void BM_NetworkCost(benchmark::State& state) {
  const Scenario& sc = default_scenario();
  // The table's shape, not its figures, sets the work measured: the analytical engine fills it
  // (the mapping engine's table takes seconds: BM_MapNetworkOptions measures that).
  sim::Pricer eng(sc, CostEngine::Analytical);
  const auto options = sim::candidate_options(sc.search, LayerPrecision{});
  const sim::CostTable table = sim::build_cost_table(eng, sc.net, options, Phase::Inference);
  std::mt19937 rng(1);
  std::vector<std::vector<int>> choices(64, std::vector<int>(sc.net.layers.size()));
  for (auto& c : choices)
    for (auto& x : c) x = static_cast<int>(rng() % options.size());
  std::size_t k = 0;
  for (auto _ : state) {
    sim::DesignPoint d = sim::evaluate(table, choices[k].data());
    benchmark::DoNotOptimize(d.energy_uj);
    k = (k + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(options.size()) + " options x " + std::to_string(sc.net.layers.size()) + " layers");
}
BENCHMARK(BM_NetworkCost);

// The exact (energy, sensitivity) Pareto front of the default network, 24 options per layer,
// from precomputed tables. Sensitivities are a synthetic quantization-noise proxy
// (sqrt(MACs) * (4^-w + 0.5 * 4^-a)): the solver's work depends on the tables' shape, not on
// where the numbers came from.
void BM_SearchExact(benchmark::State& state) {
  const Scenario& sc = default_scenario();
  // The table's shape, not its figures, sets the work measured: the analytical engine fills it
  // (the mapping engine's table takes seconds: BM_MapNetworkOptions measures that).
  sim::Pricer eng(sc, CostEngine::Analytical);
  const auto options = sim::candidate_options(sc.search, LayerPrecision{});
  const sim::CostTable table = sim::build_cost_table(eng, sc.net, options, Phase::Inference);
  search::SensitivityTable sens;
  sens.method = "noise_proxy";
  sens.layers = table.layers;
  sens.options = options;
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
    const double macs = double(eng.layer_cost(sc.net, int(l), options[0], Phase::Inference).macs);
    for (const auto& o : options)
      sens.values.push_back(std::sqrt(macs + 1) * (std::pow(4.0, -o.weight_bits) + 0.5 * std::pow(4.0, -o.activation_bits)));
  }
  search::Rules rules;
  const search::Problem prob =
      search::make_problem(table, sens, sc.net, rules, std::vector<int>(sc.net.layers.size(), 0));
  std::size_t points = 0;
  long states = 0;
  for (auto _ : state) {
    search::ExactResult r = search::solve_exact(prob, search::Budget{});
    points = r.front.size();
    states = r.states;
    benchmark::DoNotOptimize(points);
  }
  state.counters["pareto_points"] = double(points);
  state.counters["states"] = double(states);
  state.counters["groups"] = double(prob.groups.size());
  state.SetLabel(std::to_string(options.size()) + " options/layer");
}
BENCHMARK(BM_SearchExact)->Unit(benchmark::kMillisecond);

// One budgeted exact solve of the default scenario with between-layer residency "chain", as
// `mixprec search` builds it (mapping engine's table with the hand-over and re-timing terms, the
// committed measured sensitivities, the scenario's 0.6 x int8 energy and 5 ms budgets). The table
// is built once, outside the timed loop.
void BM_SearchExactResidency(benchmark::State& state) {
  Scenario sc = default_scenario();
  sc.cost_model.residency = Residency::Chain;
  const pipeline::SearchSetup s = pipeline::prepare_search(sc);
  const search::SensitivityTable sens = search::load_sensitivity(
      std::string(MIXPREC_SOURCE_DIR) + "/results/venue_cnn_lstm/sensitivity_measured.json", sc.net, s.options);
  const search::Problem prob = search::make_problem(s.table, sens, sc.net, s.rules, s.default_option);
  const search::Budget b = pipeline::make_budget(sc, s);
  long states = 0;
  for (auto _ : state) {
    search::ExactResult r = search::solve_exact(prob, b);
    states = r.states;
    benchmark::DoNotOptimize(r.best.sensitivity);
  }
  state.counters["states"] = double(states);
  state.counters["terms"] = double(prob.terms.size());
  state.counters["groups"] = double(prob.groups.size());
}
BENCHMARK(BM_SearchExactResidency)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
