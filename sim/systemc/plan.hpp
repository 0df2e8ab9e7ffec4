// The SystemC engine's work list: one layer's derived work (sim/workload.hpp) cut into the
// tiles, steps and slices the accelerator model executes, with the analytical engine's tiling.
//
// Contract: plain C++ (no SystemC). plan_layer() prices nothing; it only lays out the work the
// analytical engine priced, tile by tile: for every GEMM it takes AnalyticalEngine::evaluate_gemm's
// Tiling (Mt, Nt, Kt, loop order) and enumerates the tiles in that loop order with the bits each
// one fetches from DRAM, the bits it writes back and its PE-array cycles (sim/folds, the fold
// arithmetic the analytical engine sums). The sums over the tiles are checked against the analytical
// record (DRAM bits by tensor, MACs, nonlinear ops, compute and fill/drain cycles): a mismatch
// is a bug and throws InternalError, so the two engines price identical work by construction.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/analytical.hpp"
#include "sim/cost.hpp"
#include "sim/workload.hpp"

namespace mixprec::sim::systemc {

// One tile of a GEMM in issue order.
struct TileOp {
  std::array<std::int64_t, kTensors> load_bits{};  // fetched before the tile ([Weights], [Inputs])
  std::int64_t store_bits = 0;   // output bits written back after the tile (0: none / on chip)
  double compute_cycles = 0;     // PE-array busy cycles (sim/folds: streaming + fill when loaded)
  double fill_cycles = 0;        // the folds' systolic fill/drain share of compute_cycles
  std::int64_t macs = 0;
  std::int64_t m = 0, n = 0, k = 0;
  bool opens_output = false;     // first tile of an output block: takes an output-buffer slot
  bool closes_output = false;    // last tile of the block: the slot frees after its write-back
                                 // (K-outer: the block is an N tile's M rows; otherwise one tile)
  bool waits_hidden = false;     // recurrent: needs h of the previous step (same direction)
  bool feeds_nonlinear = false;  // recurrent: last tile of a step; its gates go to the NL unit
  int step = -1, group = 0;
  bool loads() const { return load_bits[0] > 0 || load_bits[1] > 0 || load_bits[2] > 0; }
};

// Work of the nonlinear unit with the DRAM traffic around it: one slice of an elementwise layer,
// or the gate math of one recurrent step and direction.
struct NonlinearOp {
  std::array<std::int64_t, kTensors> read_bits{};   // streamed in before (prefetched)
  std::array<std::int64_t, kTensors> write_bits{};  // written back after
  double cycles = 0;
  std::int64_t ops = 0;
  int step = -1, group = 0;
};

enum class PhaseKind {
  Gemm,         // tiles on the PE array; the array is the critical engine
  Recurrent,    // tiles step by step, each step's gate math on the NL unit before the next step
  Elementwise,  // slices streamed through the nonlinear unit (pool, add, optimizer math)
};
const char* to_string(PhaseKind k);

struct PhasePlan {
  PhaseKind kind = PhaseKind::Gemm;
  std::string name;              // GEMM pass ("forward", "recurrent", ...) or "elementwise"
  std::vector<TileOp> tiles;     // Gemm, Recurrent
  std::vector<NonlinearOp> nl;   // Recurrent: one per (step, direction); Elementwise: slices
  int steps = 1, groups = 1;     // Recurrent
  Tiling tiling;
};

struct LayerPlan {
  int layer = -1;
  std::string name;
  bool fits = true;
  std::vector<PhasePlan> phases;
  // Streams that run on the DMA beside the GEMMs of a non-recurrent layer (training: optimizer
  // state); they share the DRAM channel with the tile transfers.
  std::array<std::int64_t, kTensors> background_read_bits{}, background_write_bits{};
  // Totals over the plan (checked against the analytical record).
  std::array<std::int64_t, kTensors> dram_read_bits{}, dram_write_bits{};
  std::int64_t macs = 0, nonlinear_ops = 0, tiles = 0;
  double compute_cycles = 0, fill_cycles = 0, nonlinear_cycles = 0;
};

// Streaming granule of the nonlinear unit: an elementwise layer's operands arrive in slices of
// at most kSliceBytes (four 64-byte bursts), so the unit starts after the first slice rather than
// the whole operand; large layers use at most kMaxSlices slices (bigger ones, still within half
// an input-buffer slot).
constexpr std::int64_t kSliceBytes = 256;
constexpr std::int64_t kMaxSlices = 256;

// Lays out one layer. `analytical` is the analytical engine's record of the same work (from
// AnalyticalEngine::work_cost); the plan is checked against it (InternalError on mismatch).
LayerPlan plan_layer(const AnalyticalEngine& engine, const Network& net, const LayerWork& work,
                     const LayerCost& analytical);

}  // namespace mixprec::sim::systemc
