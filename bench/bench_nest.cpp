// Nest analysis throughput: one mapping of a default-network layer (cnn.stage2.block0.conv2 of
// venue_cnn_lstm: N8 K32 C32 P8 Q8 R3 S3) on DRAM / global buffer / 16x16 PEs with scratchpads
// (scenarios/nest/venue_conv_stage2.json): nest analysis, cycles and energy per evaluation.
// Target (issue 15): >= 1,000,000 evaluations per second per core.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/nest/nest_json.hpp"
#include "sim/systemc/nest_sim.hpp"

namespace {

using namespace mixprec::sim::nest;

void BM_MappingEval(benchmark::State& state) {
  const NestSpec spec =
      load_nest_spec(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/nest/venue_conv_stage2.json");
  const Evaluator ev(spec.problem, spec.architecture);
  Result r;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ev.evaluate(spec.mapping, r));
    benchmark::DoNotOptimize(r.energy_pj);
  }
  if (!r.status.ok()) state.SkipWithError("mapping does not evaluate");
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("mapping evaluations (conv 8x32x32x8x8x3x3, 3 levels, 16x16 fan-out)");
}
BENCHMARK(BM_MappingEval);

}  // namespace

namespace {

// The SystemC simulation of the same mapped nest (sim/systemc/nest_sim.hpp): the tile walk, the
// transactions and the SystemC kernel run, per simulated nest.
void BM_SystemCNestSim(benchmark::State& state) {
  const NestSpec spec =
      load_nest_spec(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/nest/venue_conv_stage2.json");
  mixprec::sim::systemc::NestSimResult r;
  for (auto _ : state) {
    r = mixprec::sim::systemc::simulate_nest(spec.problem, spec.architecture, spec.mapping);
    benchmark::DoNotOptimize(r.energy_pj);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("simulated nests (conv 8x32x32x8x8x3x3, 3 levels, 16x16 fan-out), " +
                 std::to_string(r.epochs) + " epochs, " + std::to_string(r.transactions) + " transactions");
}
BENCHMARK(BM_SystemCNestSim);

}  // namespace
