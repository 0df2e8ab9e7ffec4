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

// A layer's re-timing with some of its hand-overs on chip (sim/residency.hpp "Timing"): the change
// of its cycles and of its energy (the static energy of those cycles) against its own entry.
struct Retimed {
  ResidentSides sides;
  double cycles_delta = 0;
  double energy_delta_pj = 0;
};

struct CostEntry {
  double energy_pj = 0;   // dynamic + static over the layer's cycles
  double cycles = 0;
  double dram_bytes = 0;
  double weight_bytes = 0;  // model size contribution at this option
  bool fits = true;
  Handover handover;        // the layer's side of a between-layer hand-over (mapping engine)
  // Residency: one per side state the layer can see (its output on chip or not; each input off
  // or on chip at each stored operand the options give), every state but all-off (cost_row).
  std::vector<Retimed> retimed;
  // The entry of `sides` (nullptr: none on chip). MIXPREC_CHECK: the state was priced.
  const Retimed* retimed_at(const ResidentSides& sides) const;
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
  // The layer's cost re-timed with the hand-overs `sides` on chip (network_cost's re-timing);
  // only an engine whose residency() is enabled is asked.
  virtual LayerCost layer_cost_resident(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                                        const ResidentSides& sides) = 0;
};

// Model-size contribution of a layer's weights at precision p (recurrent weights at their own
// bits), in bytes.
double weight_bytes(const Layer& l, const LayerPrecision& p);

// Candidate options: the search section's weight x activation bit pairs plus its float formats.
std::vector<LayerPrecision> candidate_options(const SearchSpec& s, const LayerPrecision& base);

// One layer's entries, one per option (a row of build_cost_table); with the engine's residency
// enabled (inference), each entry's re-timing states (CostEntry::retimed) over `edges`, the
// network's hand-over edges (handover_edges(net), computed once by the caller: they depend on the
// graph only, not on a layer's shape or factorization).
std::vector<CostEntry> cost_row(LayerPricer& engine, const Network& net, int layer,
                                const std::vector<LayerPrecision>& options, Phase phase,
                                const std::vector<HandoverEdge>& edges);

CostTable build_cost_table(LayerPricer& engine, const Network& net,
                           const std::vector<LayerPrecision>& options, Phase phase);

struct DesignPoint {
  double energy_uj = 0, latency_ms = 0, dram_bytes = 0, size_bytes = 0;
  bool fits = true;
};

// Layer `layer`'s re-timing with every layer l at entry `entry_of(l)`: the table's edges touching it
// evaluated (evaluate_handover) in edge order, their on-chip sides accumulated as network_cost
// does (ResidentSides::add), the layer's entry's Retimed for them (nullptr: none on chip). THE
// re-timing every evaluation uses (evaluate; search/problem.cpp's terms).
template <class EntryOf>
const Retimed* retiming_of(const CostTable& t, int layer, EntryOf&& entry_of) {
  ResidentSides sides;
  for (const HandoverEdge& e : t.handover_edges)
    if (e.producer == layer || e.consumer == layer)
      sides.add(layer, evaluate_handover(t.residency, e, entry_of(e.producer).handover, entry_of(e.consumer).handover));
  return sides.any() ? entry_of(layer).retimed_at(sides) : nullptr;
}

// Sums one option per layer (choice[i] indexes table.options), with the hand-over edges' energy
// and the touched layers' re-timing when the table prices residency (dram_bytes stays the layers'
// own): simulate's figures for the configuration. No allocation.
DesignPoint evaluate(const CostTable& table, const int* choice);

}  // namespace mixprec::sim
