// Sweep throughput: one design point of a sweep over the default scenario (hardware axes varied,
// the scenario's own mixed precision priced by the analytical engine), and its parts.
// Target (issue 9): >= 10,000 fixed-precision analytical points per second per core.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "pipeline/sweep_run.hpp"
#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "search/sweep_plan.hpp"
#include "sim/analytical.hpp"

namespace {

using namespace mixprec;

const sweep::SweepSpec& lhs_sweep() {
  static const sweep::SweepSpec s =
      sweep::load_sweep(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/sweeps/default_arch_lhs.json");
  return s;
}
const std::vector<sweep::Point>& lhs_points() {
  static const std::vector<sweep::Point> p = sweep::enumerate_points(lhs_sweep());
  return p;
}

// Everything a point costs: apply the axis values, parse and validate the scenario, build the
// network, the energy model, price every layer, and the result line.
void BM_SweepPoint(benchmark::State& state) {
  const pipeline::PointEvaluator eval(lhs_sweep());
  const auto& pts = lhs_points();
  std::size_t i = 0;
  for (auto _ : state) {
    nlohmann::json line = eval.evaluate(pts[i]);
    benchmark::DoNotOptimize(line);
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("design points (default network, analytical, fixed precision)");
}
BENCHMARK(BM_SweepPoint);

// The parts, to see where a point's time goes.
void BM_SweepPointParse(benchmark::State& state) {
  const auto& pts = lhs_points();
  std::size_t i = 0;
  for (auto _ : state) {
    const nlohmann::json doc = sweep::apply_point(lhs_sweep(), pts[i]);
    Scenario sc = parse_scenario(doc, JsonCtx{"bench"});
    benchmark::DoNotOptimize(sc.net.layers.size());
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SweepPointParse);

void BM_SweepPointEnergyModel(benchmark::State& state) {
  const Scenario sc = load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/venue_cnn_lstm.json");
  for (auto _ : state) {
    energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
    benchmark::DoNotOptimize(em);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SweepPointEnergyModel);

void BM_SweepPointPrice(benchmark::State& state) {
  const Scenario sc = load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/venue_cnn_lstm.json");
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  for (auto _ : state) {
    const sim::AnalyticalEngine eng(sc.hardware, em);
    sim::NetworkCost c = eng.network_cost(sc.net, sc.layer_precision, sc.phase);
    benchmark::DoNotOptimize(c.energy_uj);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SweepPointPrice);

}  // namespace
