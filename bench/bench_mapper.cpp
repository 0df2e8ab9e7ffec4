// The mapper over the default network (issue 15, item 7): BM_MapNetworkOptions runs the mapper
// for every MAC layer of scenarios/venue_cnn_lstm.json at every candidate precision option of
// its search space (fixed layers at their own option), starting from an empty cache each
// iteration; identical (shape, bits, hierarchy) pairs within the run are served by the cache.
// Target: < 1 s per iteration on one core.
//
// Hierarchy (a stand-in for the scenario template's expansion until sim/ has one): DRAM ->
// global buffer (the three scenario buffers' capacity, 64-bit rows) -> the PE array's fan-out
// (cols x rows) -> a per-PE register file (register_file_bytes, 16-bit rows) -> MAC. Energies
// per access from the scenario's energy model; DRAM bandwidth from the scenario (bits/cycle).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost_table.hpp"
#include "sim/mapper/layer_problems.hpp"
#include "sim/mapper/mapper.hpp"

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

nest::Architecture hierarchy(const HardwareSpec& hw, const energy::EnergyModel& em, const LayerPrecision& p) {
  nest::Architecture a;
  a.name = hw.name;
  const std::int64_t pes = std::int64_t(hw.pe_array.rows) * hw.pe_array.cols;
  nest::StorageLevel dram;
  dram.name = "DRAM";
  dram.block_bits = hw.dram.burst_bytes * 8;
  dram.read_pj = dram.write_pj = dram.update_pj = em.dram_pj_per_bit(hw.dram) * dram.block_bits;
  dram.read_bandwidth_bits = dram.write_bandwidth_bits = hw.dram.bandwidth_gbps * 8e3 / hw.clock_mhz;
  a.levels.push_back(dram);
  nest::StorageLevel glb;
  glb.name = "GlobalBuffer";
  const BufferSpec& in = hw.input_buffer;
  glb.block_bits = in.row_bits;
  const double bytes = hw.weight_buffer.size_bytes() + hw.input_buffer.size_bytes() + hw.output_buffer.size_bytes();
  glb.depth = static_cast<std::int64_t>(bytes * 8 / glb.block_bits);
  glb.multiple_buffering = in.double_buffered ? 2 : 1;
  glb.banks = in.banks;
  glb.read_pj = em.buffer_access_pj(energy::BufferId::Input, in, in.row_bits, false);
  glb.write_pj = glb.update_pj = em.buffer_access_pj(energy::BufferId::Input, in, in.row_bits, true);
  a.levels.push_back(glb);
  nest::StorageLevel rf;
  rf.name = "RegisterFile";
  rf.block_bits = 16;
  rf.depth = std::int64_t(hw.pe_array.register_file_bytes) * 8 / rf.block_bits;
  rf.instances = pes;
  rf.mesh_x = hw.pe_array.cols;
  rf.read_pj = rf.write_pj = rf.update_pj = em.register_file_pj(rf.block_bits);
  a.levels.push_back(rf);
  a.compute.instances = pes;
  a.compute.mesh_x = hw.pe_array.cols;
  const int acc_bits = 32;  // the hardware's accumulator width (no bit gating)
  a.compute.energy_pj = em.mac(p.weights(), p.activations(), acc_bits, hw.pe_array.mac).total_pj();
  return a;
}

void BM_MapNetworkOptions(benchmark::State& state) {
  const Fixture& f = fixture();
  nest::MapperOptions o;
  o.objective.metrics = {nest::Metric::edp};
  std::int64_t runs = 0, evaluations = 0, unique = 0, heuristic = 0;
  for (auto _ : state) {
    nest::MapperCache cache;
    runs = evaluations = heuristic = 0;
    for (std::size_t l = 0; l < f.sc.net.layers.size(); ++l) {
      const std::vector<LayerPrecision> own{f.base[l]};
      for (const LayerPrecision& p : f.fixed[l] ? own : f.options) {
        const nest::Architecture a = hierarchy(f.sc.hardware, f.em, p);
        for (const nest::LayerNest& n : nest::layer_nests(f.sc.net, static_cast<int>(l), p, &f.sc.hardware)) {
          const std::int64_t before = cache.misses();
          const nest::MapResult& r = cache.map(n.problem, a, o);
          ++runs;
          if (cache.misses() != before) {
            evaluations += r.evaluations;
            heuristic += r.kind == nest::SearchKind::heuristic;
          }
          benchmark::DoNotOptimize(r.result.energy_pj);
        }
      }
    }
    unique = static_cast<std::int64_t>(cache.size());
  }
  state.counters["mapper_runs"] = static_cast<double>(runs);
  state.counters["distinct"] = static_cast<double>(unique);
  state.counters["heuristic"] = static_cast<double>(heuristic);
  state.counters["evaluations"] = static_cast<double>(evaluations);
  state.SetLabel("every layer x option of venue_cnn_lstm, empty cache, objective edp");
}
BENCHMARK(BM_MapNetworkOptions)->Unit(benchmark::kMillisecond);

}  // namespace
