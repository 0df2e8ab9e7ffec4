// Between-layer residency (scenario cost_model.residency, docs/mapper.md "Between-layer
// residency"): a producer's output tensor handed to its consumer through the input buffer instead
// of a DRAM round trip.
//
// Contract:
//   * Edges: producer -> single consumer of the network graph. A tensor read by more than one layer
//     (a residual block's input: its first conv and the shortcut add or downsample; a network input)
//     stays in DRAM. Views (FramesToSequence; BatchNorm, folded at inference) are seen through: pool
//     -> frames_to_sequence -> lstm is the edge pool -> lstm. Producers: conv, linear, LSTM/GRU,
//     pool, add, elementwise, concat; consumers: the same but concat (its inputs differ in size).
//   * The tensor is stored at the producer's output operand and read by the consumer at that operand;
//     where it differs from the consumer's activation operand, each value read is re-quantized on
//     chip (one scale multiply and one rounding add on the nonlinear unit at the consumer's
//     activation operand, as sim/workload.cpp's gradient quantization).
//   * Fits: k x T + max(F_producer, F_consumer) <= C, with T the tensor's bits (values x stored
//     bits), F a layer's input tiles in the input buffer (Handover::in_tile_bits), C the input
//     buffer's effective capacity (nest::StorageLevel::effective_capacity_bits, the tiles' own
//     check) and k = HandoverEdge::share, the most edges touching either layer (2 on a chain: a
//     layer that receives and hands over on chip holds both tensors; 3 for an add with two resident
//     inputs and a resident output). With each of a layer's resident tensors at most 1/k of what
//     its tiles leave, they fit together whatever the other edges do, so the check stays a
//     property of one edge (two layers' options): the search's hand-over energy terms are pairwise.
//   * On chip when it fits and saves energy: the producer's DRAM write becomes input-buffer writes
//     and the consumer's DRAM reads become input-buffer reads (vector accesses of the row at the
//     stored bits, the nest's formula), plus the re-quantization. The on-chip decision weighs this
//     dynamic energy (evaluate_handover, the search's pairwise terms).
//   * Timing (MappingEngine::network_cost): every layer an on-chip hand-over touches is re-timed
//     with its own mappings (MappingEngine::layer_cost_resident): in the nest that reads its input
//     / writes its output, the DRAM level moves the bits the hand-over leaves out and the input
//     buffer those it adds (nest::level_time, the nest analysis's throttling), the input's first
//     tile is not fetched from DRAM, the DRAM latency is paid only if DRAM traffic remains;
//     streamed inputs/outputs (pool, add, elementwise, LSTM/GRU outputs) leave the DRAM stream and
//     move at the input buffer's bandwidth; the re-quantization is 2 ops per value on the
//     nonlinear unit. Static energy follows the layer's new cycles (static_energy_pj, set once in
//     network_cost). The cost table prices it per side state (CostEntry::retimed) and the search
//     carries it as terms over the layer's and its neighbours' groups (docs/mapper.md).
#pragma once
#include <vector>

#include "core/network.hpp"
#include "core/spec.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost.hpp"

namespace mixprec::sim {

struct HandoverEdge {
  int producer = -1, consumer = -1, slot = 0;  // consumer.inputs[slot] leads (through views) to producer
  // The most hand-over edges that touch one of the two layers (in and out): how many resident
  // tensors one of them may hold at once, so each gets that share of what the tiles leave.
  int share = 1;
};

bool produces_handover(const Layer& l);
bool consumes_handover(const Layer& l);

// The producer -> single-consumer edges, in consumer order.
std::vector<HandoverEdge> handover_edges(const Network& net);

// The input buffer as the hand-over needs it.
struct ResidencyModel {
  bool enabled = false;
  std::int64_t capacity_bits = 0;   // effective capacity of one buffered copy
  int row_bits = 0;                 // bits per access
  double read_pj = 0, write_pj = 0; // per row access
};
// residency_model(hw, em, r) (sim/hierarchy.hpp) builds it from the template's input buffer.

// A layer's on-chip hand-overs as its timing sees them (MappingEngine::layer_cost_resident).
struct ResidentSides {
  bool output = false;               // its output tensor is written to the input buffer, not DRAM
  int inputs = 0;                    // input tensors read from the input buffer instead of DRAM
  int input_stored_bits = 0;          // the (first) such input's stored bits
  std::int64_t onchip_read_bits = 0;  // those reads at the stored bits (every such input)
  std::int64_t requant_ops = 0;      // values re-quantized to the layer's activation operand
  bool any() const { return output || inputs > 0; }
  // THE accumulation of a network's outcomes into a layer's sides (network_cost and the cost
  // table's re-timing entries): `h` counts for `layer` if it is on chip and touches it. Outcomes
  // in edge order (handover_edges): the first on-chip input sets input_stored_bits.
  void add(int layer, const HandoverOutcome& h);
  bool operator==(const ResidentSides& o) const {
    return output == o.output && inputs == o.inputs && input_stored_bits == o.input_stored_bits &&
           onchip_read_bits == o.onchip_read_bits && requant_ops == o.requant_ops;
  }
};

// What the consumer of an on-chip hand-over reads at the stored operand: its input's values, and
// as many re-quantizations when the stored operand is not its activation operand.
struct ConsumerReads {
  std::int64_t values = 0, requant_ops = 0;
};
ConsumerReads consumer_reads(const Handover& consumer, const Operand& stored);

// One edge at the producer's and the consumer's records (the layers' options).
HandoverOutcome evaluate_handover(const ResidencyModel& m, const HandoverEdge& e, const Handover& producer,
                                  const Handover& consumer);

// Prices every edge of a priced network and moves the energy and traffic of the on-chip ones
// (before finalize). Returns the outcomes, every edge.
std::vector<HandoverOutcome> apply_residency(NetworkCost& nc, const Network& net, const ResidencyModel& m);

// The values a layer without weights reads of one streamed input (pool: its input tensor; add,
// elementwise: as many as it writes).
std::int64_t streamed_input_values(const Layer& l);

// The per-value re-quantization energy to operand `a` (Handover::requant_pj).
double requant_pj(const energy::EnergyModel& em, const Operand& a);

}  // namespace mixprec::sim
