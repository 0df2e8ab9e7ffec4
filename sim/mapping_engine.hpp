// The mapping engine: prices a layer at a precision option from loop-nest mappings over the
// hardware's storage hierarchy (sim/hierarchy.hpp), as Timeloop does. Per layer nest
// (sim/mapper/layer_problems.hpp) the mapper (MapperCache) chooses the mapping that minimizes the
// objective; the nest analysis of that mapping gives the access counts, cycles and energy.
//
// Contract (docs/architecture.md, "sim/hierarchy and the mapping engine"):
//   * LayerCost: macs; cycles = sum over nests of max(compute x mac_slowdown, every level's
//     bandwidth-limited cycles) (+ DRAM latency once per nest with DRAM traffic) x repeats; the
//     layer's nonlinear work and streamed traffic, the LSTM's serialized steps and the utilization
//     by AnalyticalEngine::finish_layer (the same formulas as the analytical engine);
//     energy: DRAM level -> dram, WeightBuffer/InputBuffer/OutputBuffer levels -> their buffers,
//     PE registers -> register_file, compute -> mac; nonlinear and streams as above; static =
//     static_energy_pj; interconnect 0 (no network model). Traffic per tensor at DRAM (reads;
//     fills + updates as writes) and at its buffer level, at the bits the level holds it.
//   * The dataflow is a mapspace constraint (the classical systolic mappings): weight-stationary
//     PEs keep their weights and loop in time only over dimensions that do not index them, the
//     array's columns take output channels and its rows the reduction (partial sums reduce down
//     the columns into the output buffer); output-stationary PEs keep their partial sums and loop
//     in time only over the reduction, columns take output channels, rows output positions.
//   * The LSTM's recurrent GEMM (repeated per time step with the same weights, b_resident) is one
//     nest per direction with the steps as the M dimension, M's whole factor at the DRAM level
//     and outermost there (constraints): steps stay sequential, weights are fetched once.
//   * Factorized (TT/HT) LSTM projections: one GEMM nest per contraction step of the MAC-minimal
//     plan (sim/workload.cpp), named "tt_step<k>_<core>"; each step's input and result pass
//     through DRAM (the nests' backing store) at the layer's activation bits, partial sums on
//     chip at the accumulator width (the OutputBuffer level's word_bits).
//   * Training (phase Training): per layer the forward nest(s), then the workload's backward
//     GEMMs as nests (backward_data, weight_grad; LSTM: backward_recurrent per step as the
//     recurrent nest, weight_grad_recurrent; conv: the transposed convolution and the
//     weight-gradient convolution, sim/mapper/layer_problems.hpp), gradients at the precision's
//     gradient bits, weight gradients at FP32; the optimizer's element-wise update and its
//     FP32 state are the workload's streams and nonlinear work (finish_layer), not nests.
//   * Refused (SpecError naming the file and pointer): a per-layer `accumulator`
//     width different from the hardware's pe_array.accumulator_bits (the template cannot gate
//     its accumulators), and a layer nest no mapping fits.
//   * Deterministic (the mapper is). Not thread-safe (the cache).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/analytical.hpp"
#include "sim/cost.hpp"
#include "sim/mapper/mapper.hpp"
#include "sim/residency.hpp"
#include "sim/simulate.hpp"
#include "sim/workload.hpp"

namespace mixprec::sim {

// One priced nest of a layer: what `--show-mapping` prints.
struct NestMapping {
  std::string pass;
  std::int64_t repeats = 1;
  nest::Architecture arch;
  nest::MapResult result;
};

// What a hand-over changes in one execution of the nest that reads the layer's input and writes its
// output: DRAM bits no longer moved, input-buffer bits moved instead, and whether the input's first
// tile is already on chip.
struct NestHandover {
  double dram_read_bits = 0, dram_write_bits = 0;  // removed
  double ib_read_bits = 0, ib_write_bits = 0;      // added
  bool input_on_chip = false;
};

class MappingEngine {
 public:
  // `file`: the scenario file, named in errors. Objective default: energy, then delay.
  // `shared_cache` (optional, must outlive the engine): mapper results shared with other engines
  // of the same thread; by default the engine keeps its own.
  MappingEngine(const HardwareSpec& hw, const energy::EnergyModel& em, std::string file,
                nest::Objective objective = default_objective(),
                nest::MapperCache* shared_cache = nullptr);
  static nest::Objective default_objective();

  LayerCost layer_cost(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                       std::vector<NestMapping>* mappings = nullptr);
  // The layer's cycles (and stalls, utilization) with the hand-overs `sides` on chip: the same
  // mappings (the cache's), their transfers re-timed (ResidentSides, nest_cycles).
  LayerCost layer_cost_resident(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                                const ResidentSides& sides);
  // `mappings` (optional) receives each layer's priced nests.
  NetworkCost network_cost(const Network& net, const std::vector<LayerPrecision>& p, Phase phase,
                           std::vector<std::vector<NestMapping>>* mappings = nullptr);

  // Between-layer residency in network_cost (sim/residency.hpp; default none).
  void set_residency(Residency r);
  const ResidencyModel& residency() const { return residency_; }
  // How nest_cycles times the nests (scenario cost_model.timing; default phased). The mapper
  // still ranks mappings by the nest analysis's own cycles (nest::Result), so the timing is not
  // part of a mapping's cache key.
  void set_timing(Timing t);
  Timing timing() const { return timing_; }

  const nest::MapperCache& cache() const { return *cache_; }
  const nest::Objective& objective() const { return options_.objective; }

 private:
  void handover_from_nest(Handover& h, const Layer& l, std::size_t nest_index, const nest::Problem& prob,
                          const nest::Architecture& arch, const nest::Result& res, std::int64_t repeats) const;
  void handover_from_streams(Handover& h, const Layer& l, const LayerPrecision& p) const;
  LayerCost price(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                  std::vector<NestMapping>* mappings, const ResidentSides* sides);

  HardwareSpec hw_;
  const energy::EnergyModel& em_;
  std::string file_;
  nest::MapperOptions options_;
  AnalyticalEngine side_;  // finish_layer: nonlinear work, streams, layer cycles
  nest::MapperCache own_cache_;
  nest::MapperCache* cache_;
  ResidencyModel residency_;
  Timing timing_ = Timing::Phased;
};

// The NestHandover of the nest that reads layer `l`'s input and, for conv and linear, writes its
// output (nest 0; MappingEngine::handover_from_nest), from its analysis `res`: the input's DRAM
// reads become input-buffer reads at s.input_stored_bits, the output's values (one execution's of
// `repeats`) are written to the input buffer at the output bits instead of DRAM.
NestHandover nest_handover(const Layer& l, const LayerPrecision& p, const nest::Problem& prob,
                           const nest::Architecture& arch, const nest::Result& res, double repeats,
                           const ResidentSides& s);

// A layer's streamed work with its on-chip hand-overs `s`, as the layer's timing sees it
// (AnalyticalEngine::finish_layer): a streamed input read from the input buffer leaves the DRAM
// input stream (the first one of a layer without weights: pool, add, elementwise) and a streamed
// output written there leaves the DRAM output write (LSTM/GRU, pool, add, elementwise, concat);
// those bits move at the input buffer `ib`'s bandwidth (LayerWork::onchip_stream_cycles:
// nest::level_time of those reads and writes over one cycle, i.e. at least one cycle); the
// re-quantization (s.requant_ops) is a multiply and an add per value on the nonlinear unit (its
// energy and cycles in finish_layer; requant_pj's ops). Returns the values
// the streams now read (at the stored bits) and write (at the output bits) at the input buffer.
struct OnChipStreams {
  std::int64_t reads = 0, writes = 0;
};
OnChipStreams handover_streams(LayerWork& w, const Layer& l, const LayerPrecision& p, const ResidentSides& s,
                               const nest::StorageLevel& ib);

// Cycles of one mapped nest as the mapping engine counts them (the one formula; the SystemC engine
// over mappings compares with it). Overlap (Timeloop's steady state): the first tiles of the
// read-only tensors brought from DRAM before the first MAC (their bits at the outermost on-chip
// level keeping them, over the DRAM bandwidth), then max(compute x cycles_per_mac, every level's
// bandwidth-limited cycles), plus the DRAM latency once when the nest moves DRAM data. With `h` (a
// between-layer hand-over), the DRAM and input-buffer levels are re-timed (nest::level_time) with
// the bits `h` removes and adds, the input's first tile is not fetched when it is on chip, and the
// latency is paid only if DRAM traffic remains. Phased adds two terms (docs/architecture.md,
// "Nest timing"): the compute term becomes compute + the serial DRAM refills of every
// single-buffered level (multiple_buffering < 2) after its first tile, sum over such levels of
// ceil(max(DRAM bits read for those refills / DRAM bandwidth, refill bits / the level's write
// bandwidth)) (refills from an on-chip buffer stream in with the compute and stay in the
// overlap); and the epilogue ceil(last output tile bits / DRAM bandwidth) (the input buffer's
// when the output is handed over there) follows the steady state.
double nest_cycles(const nest::Problem& p, const nest::Architecture& a, const nest::Result& r,
                   double cycles_per_mac, double dram_latency_cycles, const NestHandover* h = nullptr,
                   Timing timing = Timing::Phased);

// Energy of level `lv` of a nest result without its leakage (the hierarchy's DRAM level carries the
// chip's static power as leakage so that the mapper weighs time; the layer's static energy is
// static_energy_pj over the layer's cycles, counted once).
inline double access_energy_pj(const nest::LevelStats& l) { return l.energy_pj - l.leak_pj; }

// Prices `precision` and the uniform baselines with the mapping engine (asic hardware only) and the
// scenario's mapper objective;
// `mappings` (optional) receives every layer's priced nests for the configuration itself.
SimulationResult simulate_mapping(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                                  std::vector<std::vector<NestMapping>>* mappings = nullptr);

// Timeloop map.txt-like rendering of every layer's nests.
std::string render_mappings(const Network& net, const std::vector<std::vector<NestMapping>>& m,
                            const nest::Objective& obj);

// Every layer's nests as records (`simulate --show-mapping --format json`'s "mappings", Python's
// SimResult.mappings): {layer, pass, repeats, loop_nest (the rendering), mapping (loop factors,
// permutation and keeps per level, the `mixprec nest` file's form), result (the nest analysis per
// level and data space: reads / fills / updates per instance, utilized instances, energy, cycles;
// one execution of the nest — the layer's counts are these x repeats)}.
nlohmann::json mappings_to_json(const Network& net, const std::vector<std::vector<NestMapping>>& m,
                                const nest::Objective& obj);

}  // namespace mixprec::sim
