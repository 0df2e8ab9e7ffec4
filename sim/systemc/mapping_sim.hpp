// The SystemC engine over the mapping engine's mappings (`mixprec simulate --engine
// systemc-mapping`): every layer nest the mapping engine prices is simulated by
// sim/systemc/nest_sim.hpp from its mapping and architecture alone, and the layer is priced from
// the simulated counts and time; the agreement with the mapping engine is reported per layer.
//
// Contract (docs/architecture.md, "sim/systemc: the SystemC engine over mappings"):
//  * Per layer, MappingEngine::layer_cost chooses the mappings (the mapper, its cache); from each
//    nest only the problem, the architecture and the mapping reach the simulation. The layer's
//    figures are assembled as the mapping engine assembles them (same components, traffic
//    accounting, AnalyticalEngine::finish_layer for the nonlinear work, streams and the LSTM's
//    serialized steps, static energy = static power x time) but from the simulated counts and
//    cycles. The mapping engine's own figures are kept beside them only for the comparison.
//  * Agreement per layer: energy and cycles differences in percent, every per-level, per-tensor
//    count that differs, and the reason (see LayerAgreement::why).
//  * asic hardware, every phase and layer the mapping engine prices (training passes and TT/HT
//    contraction steps are nests like any other); its SpecErrors pass through.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "sim/mapping_engine.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/nest_sim.hpp"

namespace mixprec::sim::systemc {

// Bounds the agreement test holds per layer (issue 15, item 8).
constexpr double kMappingEnergyBoundPercent = 1.0;
constexpr double kMappingCyclesBoundPercent = 10.0;

// One nest: the simulation and the analysis of the same mapping.
struct NestAgreement {
  std::string pass;
  std::int64_t repeats = 1;
  NestSimResult sim;
  std::vector<std::string> count_differences;  // "level/tensor action: systemc x vs mapping y"
  double cycles_mapping = 0;                   // the mapping engine's cycles of this nest
  std::string bound;                           // what bounds the analysis's cycles: compute or a level
  double bound_cycles = 0;                     // its cycles (from the simulation's own counts)
};

struct LayerAgreement {
  std::string name;
  double energy_mapping_pj = 0, energy_systemc_pj = 0, energy_diff_percent = 0;
  double cycles_mapping = 0, cycles_systemc = 0, cycles_diff_percent = 0;
  std::int64_t counts_compared = 0, counts_differing = 0;
  // Where the simulated time went beyond the compute, summed over the nests (x repeats).
  double prologue_cycles = 0, epilogue_cycles = 0, port_wait_cycles = 0, load_wait_cycles = 0;
  // Why they differ ("" when both differences are below 0.1%): the differing counts, the nest that
  // moves the cycles most with the analysis's bound and the simulation's waits, and the energy.
  std::string why;
  std::vector<NestAgreement> nests;
};

struct MappingSimResult {
  SimulationResult result;         // engine "systemc-mapping"
  SimulationResult mapping;        // the mapping engine on the same design point (no baselines)
  std::vector<LayerAgreement> layers;
  double wall_seconds = 0;         // simulation of the design point
};

// `baselines`: also price the uniform baselines (int8, int16, fp16, fp32) by simulation.
MappingSimResult simulate_mapping_systemc(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                                          bool baselines = true);

std::string agreement_to_table(const MappingSimResult& r);
nlohmann::json agreement_to_json(const MappingSimResult& r);

}  // namespace mixprec::sim::systemc
