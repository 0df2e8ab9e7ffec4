// The FPGA LSTM template's cost model (hardware kind "fpga", core/fpga.hpp): cycles, event
// counts and energy of one LSTM layer and its linear head on the datapath the scenario describes.
//
// Architecture (docs/fpga_lstm.md has the derivation):
//  * `mac_units` MAC units work in parallel, one per gate with 4 units (with fewer, a unit takes
//    ceil(4 / units) gates in turn; units beyond 4 stay idle). For hidden unit j of step t each
//    unit takes the P = inputs + hidden products of its gate serially, in the order x_t[0..I),
//    h_{t-1}[0..H): `cycles_per_product` cycles each (operand fetch from block RAM, then the
//    multiply-accumulate), or pipelined: one product per cycle after a fill of
//    cycles_per_product - 1. Biases are preloaded into the accumulators. A job (t, j) takes
//    G_r = ceil(4 / units) x G cycles, G = P x cycles_per_product (not pipelined).
//  * The element-wise unit then looks the four gate activations up in 256-entry tables
//    (lut_lookup_cycles), forms c = f c + i g on its multiplier(s), looks up tanh(c) and
//    multiplies h = o tanh(c): E = L + ceil(2 / m) + L + 1 cycles (L lookup cycles, m
//    multipliers). With `overlap_elementwise` it works on job n while the MAC units compute job
//    n + 1, a two-stage pipeline over N = steps x hidden jobs. MAC-bound (G_r >= E): N G_r + E
//    cycles, plus max(0, E - F) per step boundary, F = (P-1) x cycles_per_product the offset at
//    which a step's first job fetches h_{t-1}[H-1]. Element-wise-bound (E > G_r): G_r + N E,
//    plus G_r - F per step boundary (the element-wise unit waits for that first job's last
//    products). Without overlap the stages alternate: N (G_r + E).
//  * The linear head runs after the last h: each output is H products on one MAC unit, outputs
//    spread over the units: ceil(outputs / units) x H x cycles_per_product.
//  * Samples of a batch run one after another.
//  * Control (design.control): c_step cycles before each step's first job, c_job at the start of
//    every job (G_r includes it), c_switch between a unit's gates, the head's c_head, and per
//    inference the host handshake and the input window's load (steps x inputs x c_load) before
//    the first step. docs/fpga_lstm.md gives the closed forms with them.
//
// Power and energy by Vivado report_power's components (layer_power): device static and
// MMCM/PLL over the layer's time; clocks, logic, signals and I/O of the design's resources on
// every clock cycle; block RAM per access and DSP per operation. Power = energy / latency, the
// average power while inferring back to back. One accounting serves both engines: the
// analytical engine gives it closed-form counts and cycles, the SystemC engine the counts and
// cycles it observed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/fpga.hpp"
#include "core/spec.hpp"
#include "energy_models/fpga_power.hpp"
#include "sim/cost.hpp"
#include "sim/simulate.hpp"

namespace mixprec::sim::fpga {

// Timing parameters of the datapath for one network, from the architecture alone.
struct Schedule {
  FpgaLstmShape shape;
  int units = 4;             // MAC units that work (min(mac_units, 4))
  int rounds = 1;            // gates per unit per job
  int cycles_per_product = 2;
  bool pipelined = false, overlap = true;
  std::int64_t products = 0;         // P = inputs + hidden
  std::int64_t gate_cycles = 0;      // G: one gate's products for one hidden unit
  std::int64_t job_cycles = 0;       // G_r = rounds x G
  std::int64_t ew_cycles = 0;        // E
  std::int64_t last_h_fetch = 0;     // cycles from a job's start to the fetch of h[H-1]
  FpgaDesignSpec::Control control;   // state-machine overheads (design.control)
  std::int64_t input_load_cycles = 0;  // the input window: steps x inputs words
  struct Head {
    int layer = -1;
    std::int64_t inputs = 0, outputs = 0, cycles = 0;  // cycles include control.head_cycles
  };
  std::vector<Head> heads;
  int lut_entries = 256;
};

Schedule schedule(const FpgaSpec& spec, const Network& net, const std::string& file);

// Events of one layer (whole batch).
struct Activity {
  std::int64_t macs = 0;             // DSP multiply-accumulates (gate products / head products)
  std::int64_t weight_reads = 0;     // weight ROM words read (products + bias preloads)
  std::int64_t state_reads = 0;      // state RAM words read (operands broadcast to the units, c)
  std::int64_t state_writes = 0;     // state RAM words written (x window, h, c)
  std::int64_t lut_lookups = 0;      // sigmoid / tanh table lookups
  std::int64_t ew_macs = 0;          // element-wise f c + i g (two DSP multiply-accumulates)
  std::int64_t ew_multiplies = 0;    // element-wise o tanh(c)
  double cycles = 0;
  double busy_cycles = 0;            // MAC-unit busy cycles (unit 0)
  double stall_cycles = 0;           // MAC units waiting for h or for the element-wise unit
  bool operator==(const Activity& o) const;
};

// Closed-form activity of every layer (index = network layer; zero for none).
std::vector<Activity> analytical_activity(const Schedule& s, const Network& net);

// Energy of one layer by report_power's components (pJ): device static over the layer's
// cycles; clocks (clock tree of the design's flip-flops, every cycle, + MMCM/PLL); logic and
// signals (the design's LUTs and flip-flops at the toggle rate, every cycle); block RAM per
// access (weight ROM reads, state RAM reads and writes); DSP per operation (products,
// element-wise multiplies); I/O (the design's pins at the toggle rate, every cycle).
struct LayerPower {
  double static_pj = 0, clocks = 0, mmcm_pll = 0, logic = 0, signals = 0, io = 0;
  double bram_weights = 0, bram_state_reads = 0, bram_state_writes = 0;
  double dsp_products = 0, dsp_elementwise = 0;
};
std::vector<LayerPower> layer_power(const FpgaSpec& spec, double clock_mhz, const energy::FpgaPowerModel& pm,
                                    const Network& net, const std::vector<LayerPrecision>& precision,
                                    const std::vector<Activity>& activity);

// Prices the activity of every layer: LayerCost with energy by component (mac: DSP products;
// nonlinear: element-wise DSP work; weight_buffer: weight ROM reads; input_buffer: state RAM
// reads; output_buffer: state RAM writes; interconnect: logic + signals + I/O; register_file:
// clocks + MMCM/PLL; static: device static), then the network totals.
NetworkCost price(const FpgaSpec& spec, double clock_mhz, const energy::FpgaPowerModel& pm,
                  const Network& net, const std::vector<LayerPrecision>& precision,
                  const std::vector<Activity>& activity);

// Both checks and the model: the design validated against `precision`, the power model resolved.
struct Prepared {
  Schedule sched;
  energy::FpgaPowerModel power;
  FpgaSpec spec;
};
Prepared prepare(const Scenario& sc, const std::vector<LayerPrecision>& precision);

// The closed-form cost of one design point (validated against `precision`).
NetworkCost analytical_cost(const Scenario& sc, const std::vector<LayerPrecision>& precision);

// The analytical engine for an fpga scenario (engine "analytical"); baselines: uniform int8
// and int16 (float formats do not run on this datapath).
SimulationResult simulate_analytical(const Scenario& sc, const std::vector<LayerPrecision>& precision);

// Uniform integer baselines the fpga template can run.
std::vector<std::pair<std::string, LayerPrecision>> baselines();

// The `fpga` block of `simulate --format json`: device, resources (available, needed, used),
// the schedule, power by report_power's components and where the power table's numbers come from.
nlohmann::json fpga_json(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                         const NetworkCost& nc);

// The same power as text lines for `simulate`'s table, in report_power's order and names.
std::string power_text(const Scenario& sc, const std::vector<LayerPrecision>& precision, const NetworkCost& nc);

}  // namespace mixprec::sim::fpga
