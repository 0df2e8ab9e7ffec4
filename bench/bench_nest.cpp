// Nest analysis throughput: one mapping of a default-network layer (cnn.stage2.block0.conv2 of
// venue_cnn_lstm: N8 K32 C32 P8 Q8 R3 S3) on DRAM / global buffer / 16x16 PEs with scratchpads
// (scenarios/nest/venue_conv_stage2.json): nest analysis, cycles and energy per evaluation.
// Target (issue 15): >= 1,000,000 evaluations per second per core.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/nest/nest_json.hpp"

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
