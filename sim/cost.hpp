// The cost record: what every engine (analytical, SystemC, FPGA) produces per layer, and what
// search/ reads from the cost table. Energies in pJ, times in cycles of the hardware clock.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/precision.hpp"

namespace mixprec::sim {

enum class Component {
  Mac, RegisterFile, Interconnect, WeightBuffer, InputBuffer, OutputBuffer, Dram, Nonlinear,
  Static, kCount
};
constexpr std::size_t kComponents = static_cast<std::size_t>(Component::kCount);
const char* to_string(Component c);

enum class Tensor { Weights, Inputs, Outputs, kCount };
constexpr std::size_t kTensors = static_cast<std::size_t>(Tensor::kCount);
const char* to_string(Tensor t);

// Accesses to one memory level for one tensor, in words of that tensor's bitwidth.
struct Traffic {
  std::int64_t reads = 0, writes = 0;
  std::int64_t read_bits = 0, write_bits = 0;
  void add_reads(std::int64_t words, int bits) { reads += words; read_bits += words * bits; }
  void add_writes(std::int64_t words, int bits) { writes += words; write_bits += words * bits; }
  Traffic& operator+=(const Traffic& o) {
    reads += o.reads; writes += o.writes; read_bits += o.read_bits; write_bits += o.write_bits;
    return *this;
  }
  double bytes() const { return double(read_bits + write_bits) / 8.0; }
};

// Tile loop order, outermost first: N-outer (n, m, k) keeps a weight tile while the M tiles
// stream when there is one K tile; M-outer (m, n, k) keeps an input tile across the N tiles;
// K-outer (n, k, m) keeps each weight tile while all M tiles stream, holding the partial sums
// of all M rows of the N tile in the output buffer across the K tiles.
enum class LoopOrder { NOuter, MOuter, KOuter };
const char* to_string(LoopOrder o);

// The loop tiling chosen for one GEMM of the layer (the largest-cost GEMM for LSTMs).
struct Tiling {
  std::int64_t m = 0, n = 0, k = 0;  // tile sizes in GEMM elements
  LoopOrder order = LoopOrder::NOuter;
  std::int64_t tiles = 0;
};

// Why cycles exceed pure compute.
struct StallBreakdown {
  double dram_stall_cycles = 0;      // transfers longer than compute (bandwidth bound)
  double fill_drain_cycles = 0;      // systolic fill/drain and tile prologue
  double recurrent_cycles = 0;       // LSTM step-to-step dependency (serialized steps)
  double contention_cycles = 0;      // shared DRAM channel conflicts (SystemC engine only)
};

// What one layer at one precision brings to a between-layer hand-over (sim/residency.hpp); filled
// by the mapping engine. Energies are what the layer's own pricing charged for the DRAM traffic
// that an on-chip hand-over replaces.
struct Handover {
  // As a producer: its output tensor, written to DRAM once at its output operand.
  bool can_produce = false;
  std::int64_t out_values = 0;
  Operand out;             // the stored operand: the producer's output bits
  double out_dram_pj = 0;  // the DRAM energy of that write
  // As a consumer: the DRAM reads of one input tensor (the same for each input of the kinds
  // that consume: conv, linear, LSTM/GRU, pool, add, elementwise).
  bool can_consume = false;
  std::int64_t in_reads = 0;
  Operand in;              // the consumer's activation operand
  double in_dram_pj = 0;   // the DRAM energy of those reads
  double requant_pj = 0;   // per value read: re-quantization to `in` on chip
  // Bits of the input tiles the layer's mapping keeps in the input buffer (largest over its nests).
  std::int64_t in_tile_bits = 0;
};

struct LayerCost {
  std::string name;
  LayerKind kind = LayerKind::Conv2d;
  LayerPrecision precision;
  std::int64_t macs = 0;
  std::int64_t nonlinear_ops = 0;
  double cycles = 0;
  double compute_cycles = 0;  // PE array busy cycles (including fold fill/drain)
  double utilization = 0;     // ideal MAC cycles / cycles
  StallBreakdown stalls;
  std::array<Traffic, kTensors> dram{};
  std::array<Traffic, kTensors> buffer{};  // weight/input/output buffer by tensor
  std::int64_t register_file_accesses = 0;
  std::int64_t interconnect_hops = 0;
  std::array<double, kComponents> energy_pj{};
  Tiling tiling;
  Handover handover;          // mapping engine only
  bool fits = true;           // false: no tiling fits the buffers at these bitwidths
  std::string fail_reason;

  double energy_total_pj() const;
  double dram_bytes() const;
};

// A hand-over edge as priced: producer layer -> consumer layer (its input `slot`), whether it fits
// the input buffer, whether it stayed on chip, and the energy change per side (negative: saved;
// zero unless on chip).
struct HandoverOutcome {
  int producer = -1, consumer = -1, slot = 0;
  bool fits = false, on_chip = false;
  std::int64_t tensor_bits = 0, footprint_bits = 0, capacity_bits = 0;
  std::int64_t values_written = 0, values_read = 0, requant_ops = 0;
  int stored_bits = 0;
  int share = 1;  // k of the fit k x tensor + tiles <= capacity (HandoverEdge::share)
  double producer_delta_pj = 0, consumer_delta_pj = 0;
  double delta_pj() const { return producer_delta_pj + consumer_delta_pj; }
};

struct NetworkCost {
  std::vector<LayerCost> layers;
  std::vector<HandoverOutcome> handovers;  // residency "chain": every eligible edge
  double cycles = 0;
  double latency_ms = 0;
  double energy_uj = 0;
  double power_mw = 0;
  std::array<double, kComponents> energy_pj{};
  double dram_bytes = 0;
  std::int64_t macs = 0;
  bool fits = true;
};

// Sums layers into totals; static energy is charged over each layer's latency.
void finalize(NetworkCost& nc, double clock_mhz);

}  // namespace mixprec::sim
