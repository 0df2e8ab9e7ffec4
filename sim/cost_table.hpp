// The cost table: cost[layer][option] for every candidate precision option, priced once by an
// engine. search/ reads only this table, so any engine can feed it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "sim/analytical.hpp"
#include "sim/residency.hpp"

namespace mixprec::sim {

struct CostEntry {
  double energy_pj = 0;   // dynamic + static over the layer's cycles
  double cycles = 0;
  double dram_bytes = 0;
  double weight_bytes = 0;  // model size contribution at this option
  bool fits = true;
  Handover handover;        // the layer's side of a between-layer hand-over (mapping engine)
};

struct CostTable {
  std::vector<std::string> layers;         // layer names (network order)
  std::vector<LayerPrecision> options;     // candidate options, shared by all layers
  std::vector<CostEntry> entries;          // layers x options, row-major
  double clock_mhz = 1;
  // Between-layer residency: disabled unless the engine prices it; then the search adds the
  // hand-over edges' energy as terms over the two layers' options (sim/residency.hpp).
  ResidencyModel residency;
  std::vector<HandoverEdge> handover_edges;  // of the network the table prices

  const CostEntry& at(std::size_t layer, std::size_t option) const {
    return entries[layer * options.size() + option];
  }
};

// What prices one layer at one option: the scenario's engine (sim/pricer.hpp Pricer). Non-const:
// an engine may cache (the mapper does).
class LayerPricer {
 public:
  virtual ~LayerPricer() = default;
  // The layer's cost without its Static component (the table adds static_energy_pj once).
  virtual LayerCost layer_cost(const Network& net, int layer, const LayerPrecision& p, Phase phase) = 0;
  virtual const HardwareSpec& hardware() const = 0;
  // The hand-over model of network_cost (disabled by default).
  virtual ResidencyModel residency() const { return {}; }
};

// Model-size contribution of a layer's weights at precision p (recurrent weights at their own
// bits), in bytes.
double weight_bytes(const Layer& l, const LayerPrecision& p);

// Candidate options: the search section's weight x activation bit pairs plus its float formats.
std::vector<LayerPrecision> candidate_options(const SearchSpec& s, const LayerPrecision& base);

// One layer's entries, one per option (a row of build_cost_table).
std::vector<CostEntry> cost_row(LayerPricer& engine, const Network& net, int layer,
                                const std::vector<LayerPrecision>& options, Phase phase);

CostTable build_cost_table(LayerPricer& engine, const Network& net,
                           const std::vector<LayerPrecision>& options, Phase phase);

struct DesignPoint {
  double energy_uj = 0, latency_ms = 0, dram_bytes = 0, size_bytes = 0;
  bool fits = true;
};

// Sums one option per layer (choice[i] indexes table.options), with the hand-over edges' energy
// when the table prices residency (dram_bytes stays the layers' own). No allocation.
DesignPoint evaluate(const CostTable& table, const int* choice);

}  // namespace mixprec::sim
