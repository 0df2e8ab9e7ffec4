// The mapper over the default network (issue 15, item 7): BM_MapNetworkOptions runs the mapper
// for every MAC layer of scenarios/venue_cnn_lstm.json at every candidate precision option of
// its search space (fixed layers at their own option), starting from an empty cache each
// iteration; identical (shape, bits, hierarchy) pairs within the run are served by the cache.
// Target: < 1 s per iteration on one core.
//
// Hierarchy: the scenario template's expansion (sim/hierarchy.hpp), priced through the mapping
// engine (sim/mapping_engine.hpp), whose layer nests are the mapper's runs.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost_table.hpp"
#include "sim/mapping_engine.hpp"

namespace {

using namespace mixprec;
namespace nest = mixprec::sim::nest;

struct Fixture {
  Scenario sc;
  energy::EnergyModel em;
  std::vector<LayerPrecision> base;     // the scenario's own precision per layer
  std::vector<LayerPrecision> options;  // the search space's candidates
  std::vector<bool> fixed;              // layer kept at its own option
};

const Fixture& fixture() {
  static const Fixture f = [] {
    const std::string path = std::string(MIXPREC_SOURCE_DIR) + "/scenarios/venue_cnn_lstm.json";
    Scenario sc = load_scenario(path);
    energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, path);
    std::vector<LayerPrecision> base = sc.layer_precision;
    std::vector<LayerPrecision> options = sim::candidate_options(sc.search, base.front());
    std::vector<bool> fixed(sc.net.layers.size(), false);
    for (std::size_t i = 0; i < sc.net.layers.size(); ++i)
      for (const std::string& name : sc.search.fixed_layers)
        if (sc.net.layers[i].name == name) fixed[i] = true;
    return Fixture{std::move(sc), std::move(em), std::move(base), std::move(options), std::move(fixed)};
  }();
  return f;
}

void BM_MapNetworkOptions(benchmark::State& state) {
  const Fixture& f = fixture();
  nest::Objective edp;
  edp.metrics = {nest::Metric::edp};
  std::int64_t runs = 0, unique = 0;
  for (auto _ : state) {
    sim::MappingEngine engine(f.sc.hardware, f.em, f.sc.file, edp);  // empty cache
    for (std::size_t l = 0; l < f.sc.net.layers.size(); ++l) {
      const std::vector<LayerPrecision> own{f.base[l]};
      for (const LayerPrecision& p : f.fixed[l] ? own : f.options) {
        const sim::LayerCost lc = engine.layer_cost(f.sc.net, static_cast<int>(l), p, f.sc.phase);
        benchmark::DoNotOptimize(lc.cycles);
      }
    }
    runs = engine.cache().hits() + engine.cache().misses();
    unique = static_cast<std::int64_t>(engine.cache().size());
  }
  state.counters["mapper_runs"] = static_cast<double>(runs);
  state.counters["distinct"] = static_cast<double>(unique);
  state.SetLabel("every layer x option of venue_cnn_lstm, empty cache, objective edp");
}
BENCHMARK(BM_MapNetworkOptions)->Unit(benchmark::kMillisecond);

}  // namespace
