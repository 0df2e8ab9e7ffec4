// BM_SystemCInference: one inference of the default network on the SystemC model (the model is
// elaborated once, on the first iteration's warm-up; every iteration is a new job). Reports
// simulated cycles per wall-clock second.
#include <benchmark/benchmark.h>

#include <string>

#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/systemc/engine.hpp"

#ifndef MIXPREC_SOURCE_DIR
#error "MIXPREC_SOURCE_DIR must be defined"
#endif

namespace {

using namespace mixprec;

void BM_SystemCInference(benchmark::State& state) {
  static const Scenario sc =
      load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/venue_cnn_lstm.json");
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  double cycles = 0;
  for (auto _ : state) {
    const sim::NetworkCost nc =
        sim::systemc::network_cost(sc.hardware, em, sc.net, sc.layer_precision, Phase::Inference);
    benchmark::DoNotOptimize(nc.cycles);  // const: the input-only overload (safe for doubles)
    cycles = nc.cycles;
  }
  state.counters["simulated_cycles"] = cycles;
  state.counters["sim_cycles_per_s"] =
      benchmark::Counter(cycles * double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("inferences of " + sc.net.name);
}
BENCHMARK(BM_SystemCInference)->Unit(benchmark::kMillisecond);

}  // namespace
