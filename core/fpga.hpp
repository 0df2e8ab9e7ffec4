// FPGA hardware template (`"hardware": {"kind": "fpga", ...}`): a device's resource counts, the
// clock, a recurrent-network datapath described by its architecture (parallel MAC units, cycles
// per product, lookup-table activations, which memories hold weights and state), the resources
// the design uses, and the power model (a power table plus optional overrides).
//
// Contract: parse_fpga_hardware() (core/fpga_parse.hpp) validates the section alone (keys, types, ranges, resource use
// within the device); check_fpga_design() validates it against the built network and the
// resolved precision (the network is an LSTM followed by linear layers, integer operands fit the
// DSP48 multiplier, the stated resources cover what the architecture needs). Both throw
// SpecError naming the file, the JSON pointer, what was expected and what was found.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/precision.hpp"

namespace mixprec {

// Resource counts of a device (vendor data sheet) or of a design (synthesis report).
// Block RAM is counted in 18 Kb halves: a 7-series 36 Kb block is two independent 18 Kb RAMs.
struct FpgaResources {
  int dsp48 = 0;
  int bram_18k = 0;
  int luts = 0;
  int ffs = 0;
};

struct FpgaDeviceSpec {
  std::string part;          // e.g. "xc7s15"; selects the static power in the power table
  FpgaResources available;
};

enum class FpgaMemory { Rom, DualPortRam };
const char* to_string(FpgaMemory m);

// The datapath of the LSTM accelerator template.
struct FpgaDesignSpec {
  int mac_units = 4;               // gate MAC units working in parallel (one per gate with 4)
  int cycles_per_product = 2;      // operand fetch + multiply-accumulate
  bool pipelined = false;          // true: a new product every cycle after a fill of cycles-1
  int activation_lut_entries = 256;  // sigmoid / tanh tables
  int lut_lookup_cycles = 1;       // one table read
  int elementwise_multipliers = 1; // multipliers of the element-wise (cell/hidden) unit
  bool overlap_elementwise = true; // element-wise update of unit j overlaps the gates of unit j+1
  FpgaMemory weights = FpgaMemory::Rom;
  FpgaMemory state = FpgaMemory::DualPortRam;
  // Control overheads of the state machine (`design.control`, all required: no published design
  // of this datapath gives them). Cycles.
  struct Control {
    int step_cycles = 0;             // before the first job of every time step (next-step state, address reset)
    int job_cycles = 0;              // at the start of every job (accumulator clear + bias preload)
    int gate_switch_cycles = 0;      // between the gates a unit takes in turn (fewer than 4 units)
    int input_load_cycles_per_word = 0;  // loading the input window into the state RAM
    int head_cycles = 0;             // before the linear head (state change, accumulator clear)
    int host_handshake_cycles = 0;   // per inference: start request in, done/acknowledge out
  } control;
  // Resources the design uses (a synthesis report); dsp48 and bram_18k default to what the
  // architecture needs (architecture_needs()).
  FpgaResources used;
  bool dsp_given = false, bram_given = false;
  // Clocking and I/O of the design (a utilization report): clock managers and used pins.
  int mmcm = 0, pll = 0, io_pins = 0;
  std::string pointer = "/hardware/design";
};

struct FpgaPowerSpec {
  std::string table = "xilinx_7series_vivado";  // shipped FPGA power table, or a file path
  std::string table_path_base;                  // the scenario's directory
  bool toggle_given = false;
  double toggle_rate = 0.125;                   // default: the table's (Vivado's 12.5%)
  double junction_c = 25;                       // junction temperature of the static power
  bool static_given = false;
  double static_mw = 0;                         // overrides the table's device static power
};

struct FpgaSpec {
  FpgaDeviceSpec device;
  FpgaDesignSpec design;
  FpgaPowerSpec power;
};

// What the architecture needs for a network: DSP slices for the MAC units and the element-wise
// multipliers, 18 Kb block RAMs for the per-unit weight ROMs and the state RAM. `detail` says
// how the count was reached (for error messages and the report).
struct FpgaNeeds {
  FpgaResources need;
  std::int64_t weight_words_per_unit = 0;  // largest ROM (unit 0 also holds the head)
  std::int64_t state_words = 0;
  std::string detail_dsp, detail_bram;
};

// The network shape the template runs: one unidirectional LSTM layer, then linear layers.
struct FpgaLstmShape {
  int lstm_layer = -1;
  std::vector<int> head_layers;
  int inputs = 0, hidden = 0, steps = 0, batch = 1;
};

// The LSTM-plus-head shape of `net`, or a SpecError at /network naming what does not fit.
FpgaLstmShape fpga_lstm_shape(const Network& net, const std::string& file);

FpgaNeeds fpga_needs(const FpgaDesignSpec& d, const FpgaLstmShape& s, const Network& net,
                     const std::vector<LayerPrecision>& precision);

// Validates the design against the network and precision; fills defaulted resource counts.
void check_fpga_design(FpgaSpec& spec, const Network& net, const std::vector<LayerPrecision>& precision,
                       const std::string& file);

}  // namespace mixprec
