// The SystemC engine: a cycle-approximate, transaction-level model of the accelerator that
// prices the same work as the analytical twin and shows where the closed form is wrong.
//
// Contract:
//  * Same work, same tiling. Each layer's work comes from sim/workload.hpp (derive_work) and each
//    GEMM is cut with AnalyticalEngine::evaluate_gemm's tiling (sim/systemc/plan.hpp). The plan's
//    access counts are checked equal to the analytical record before the kernel runs, and the
//    counts the modules observe (DRAM bits by tensor, MACs, nonlinear ops) are checked equal to
//    the plan after it ran; a mismatch is a bug (InternalError).
//  * Energy: because the access counts are identical by construction, each layer's dynamic
//    energy is the analytical engine's (one accounting, AnalyticalEngine::work_cost, no second
//    copy of the energy formulas); the simulation replaces cycles, utilization, the stall
//    breakdown and the static energy (static power x simulated time).
//  * Timing (sim/systemc/modules.hpp): a controller issues tiles in the analytical loop order;
//    a DMA engine stages tile i+1 while the PE array computes tile i (double buffering: two
//    operand slots) over ONE shared DRAM channel (bandwidth, latency, burst rounding; requesters
//    take turns per descriptor, so loads, write-backs and streams contend); the PE array takes
//    the same fold cycles per tile as the analytical model; the nonlinear unit runs elementwise
//    slices and each LSTM step's gate math, and a step's products wait for the previous step's h
//    (directions of a bidirectional LSTM are independent chains). Layers run one after another.
//  * Stall causes, in cycles of the layer's critical engine (PE array for products, nonlinear
//    unit for elementwise layers): `dram` (waiting for data whose transfer had the channel to
//    itself: bandwidth and latency not hidden), `contention` (the part of a wait the awaited
//    transfer spent behind another requester), `fill_drain` (the folds' systolic fill/drain, as
//    the analytical model, plus the pipeline's prologue before the first tile and the drain after
//    the last), `recurrent` (waiting for the previous step's h). For a layer,
//    cycles = compute + elementwise busy + dram + contention + pipeline fill/drain + recurrent.
//  * One elaboration per process: the modules are built once, on the first call (the SystemC
//    kernel allows a single elaboration), and every later call feeds a new job to the same
//    model and runs the kernel until it is idle. The hardware is read from each job, never from
//    constructor arguments, so design points of a sweep differ freely. Calls are serialized
//    (the kernel is process-global); results are deterministic.
//  * The kernel's copyright banner is suppressed (SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 is set
//    before the kernel starts); the model writes nothing to stdout or stderr.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost.hpp"
#include "sim/simulate.hpp"

namespace mixprec::sim::systemc {

struct SimOptions {
  bool trace = false;      // record the timeline as Chrome trace-event JSON
  bool baselines = true;   // also simulate the uniform baselines (int8, int16, fp16, fp32)
};

// What the simulation itself observed for one layer.
struct LayerSimStats {
  double cycles = 0;
  double compute_cycles = 0;     // PE array busy
  double nonlinear_cycles = 0;   // NL unit busy while it was the critical engine
  double pipeline_fill_drain_cycles = 0;  // idle part of stalls.fill_drain
  StallBreakdown stalls;         // as reported in the LayerCost
  std::array<std::int64_t, kTensors> dram_read_bits{}, dram_write_bits{};  // over the channel
  std::int64_t macs = 0, nonlinear_ops = 0, tiles = 0, dram_descriptors = 0;
};

struct SystemCResult {
  SimulationResult result;            // engine "systemc"; costs with simulated cycles
  std::vector<LayerSimStats> layers;  // one per layer of the design point
  std::string trace_json;             // Chrome trace-event JSON when SimOptions::trace
  double simulated_cycles = 0;        // the design point (baselines excluded)
  double wall_seconds = 0;            // wall-clock time to price the design point (plan + kernel)
};

// Prices `precision` (one entry per layer of sc.net) with the SystemC model, and the uniform
// baselines unless options.baselines is false. Throws SpecError when no tiling fits the buffers
// (naming /hardware/buffers), as simulate_analytical does; InternalError on a model failure.
SystemCResult simulate(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                       const SimOptions& options = {});

// simulate() for a scenario of hardware kind "fpga": the FPGA LSTM model
// (sim/systemc/fpga_model.hpp), baselines uniform int8 and int16; --trace is refused.
SystemCResult simulate_fpga(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                            const SimOptions& options = {});

// One network at one precision assignment on `hw`, no baselines. Layers that do not fit are
// returned as the analytical engine prices them (fits = false) and the network is not simulated.
// `stats` and `trace_json` are filled when given.
NetworkCost network_cost(const HardwareSpec& hw, const energy::EnergyModel& em, const Network& net,
                         const std::vector<LayerPrecision>& precision, Phase phase,
                         std::vector<LayerSimStats>* stats = nullptr, std::string* trace_json = nullptr,
                         const std::string& trace_title = "mixprec");

// How often this process elaborated the model (0 before the first simulation, then 1) and how
// many jobs it has run.
int elaborations();
std::int64_t jobs_run();

}  // namespace mixprec::sim::systemc
