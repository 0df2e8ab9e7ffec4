// The analytical twin: closed-form costs of every layer on a systolic-array accelerator.
//
// Contract: prices exactly the work that sim/workload.hpp derives (the SystemC engine prices the
// same work), with the tiling chosen here. Thread-safe after construction; no allocation in the
// per-GEMM evaluation beyond the returned record.
//
// Model (docs/architecture.md has the derivation):
//  * Each GEMM (M x N x K per group) is cut into tiles (Mt, Nt, Kt) that fit the input, weight
//    and output buffers at the tensors' bitwidths (half of each when double-buffered); tile
//    sizes are even splits, also rounded to multiples of the array's rows / columns. Three loop
//    orders (N-outer: weights stay; M-outer: inputs stay; K-outer: weights stay while all M
//    tiles stream, partial sums of all M rows in the output buffer) are tried; the tiling
//    moving fewest DRAM bits wins, then the one with fewest array cycles.
//  * Systolic folds as in SCALE-Sim (Samajdar et al., ISPASS 2020), from sim/folds.hpp: a fold
//    of an R x C array takes 2R + C - 2 + M cycles weight-stationary, R + C - 2 + K
//    output-stationary, scaled by the MAC style's products per cycle; the fill/drain share is
//    paid once per stationary run (tiles keeping the same single fold in the array).
//  * Double buffering overlaps a tile's transfers with the previous tile's compute: a layer takes
//    max(compute, transfer) plus one tile's prologue and the DRAM latency.
//  * LSTM steps are serialized: each step's recurrent GEMM waits for the previous step's gates.
#pragma once
#include <vector>

#include "core/spec.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost.hpp"
#include "sim/workload.hpp"

namespace mixprec::sim {

class AnalyticalEngine {
 public:
  AnalyticalEngine(const HardwareSpec& hw, const energy::EnergyModel& em);

  LayerCost layer_cost(const Network& net, int layer, const LayerPrecision& p, Phase phase) const;
  LayerCost work_cost(const Network& net, const LayerWork& work, const LayerPrecision& p) const;
  NetworkCost network_cost(const Network& net, const std::vector<LayerPrecision>& p,
                           Phase phase) const;

  // Per-GEMM result, exposed for the SystemC engine (same tiling) and for tests.
  struct GemmResult {
    Tiling tiling;
    double compute_cycles = 0;     // all tiles, including fold fill/drain
    double fill_drain_cycles = 0;
    double transfer_cycles = 0;    // DRAM bytes / bytes per cycle (burst-rounded)
    double cycles = 0;             // after overlap, prologue and DRAM latency
    std::array<Traffic, kTensors> dram{}, buffer{};
    std::int64_t rf_accesses = 0, hops = 0;
    bool fits = true;
  };
  GemmResult evaluate_gemm(const GemmOp& g) const;

  double dram_bytes_per_cycle() const { return bytes_per_cycle_; }
  double dram_latency_cycles() const { return latency_cycles_; }
  const HardwareSpec& hardware() const { return hw_; }
  const energy::EnergyModel& energy_model() const { return em_; }
  // The layer's work outside its GEMMs (nonlinear unit, streamed traffic: energy and traffic into
  // `lc`) and the layer's cycles, stalls and utilization from its GEMMs' cycles (those of GEMMs
  // repeated per time step, serialized with the steps' nonlinear work, and the others) and the
  // ideal cycles (MACs at the array's peak). Shared by every engine that prices GEMMs its own way.
  void finish_layer(LayerCost& lc, const LayerWork& work, double parallel_gemm_cycles,
                    double step_gemm_cycles, double ideal_cycles) const;
  // Nonlinear-unit cycles for `ops` operations.
  double nonlinear_cycles(std::int64_t ops) const;
  // DRAM energy of `words` streamed words of `bits` (per bit moved).
  double stream_dram_pj(std::int64_t words, int bits) const {
    return double(words) * bits * em_.dram_pj_per_bit(hw_.dram);
  }

 private:
  double transfer_cycles(double bits) const;
  void add_energy(LayerCost& lc, const GemmOp& g, const GemmResult& r) const;

  HardwareSpec hw_;
  const energy::EnergyModel& em_;
  double bytes_per_cycle_ = 1;
  double latency_cycles_ = 0;
};

// Static (leakage) energy of the hardware over `cycles`: static power x time.
double static_energy_pj(const HardwareSpec& hw, double cycles);

// Uniform baseline precisions used for the `baselines` block: int8, int16, fp16, fp32.
struct Baseline {
  const char* name;
  LayerPrecision precision;
};
std::vector<Baseline> standard_baselines();

}  // namespace mixprec::sim
