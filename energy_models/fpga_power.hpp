// FPGA power model by the components of Vivado's report_power: device static at a junction
// temperature, and dynamic clocks (clock tree per flip-flop), logic (per LUT), signals (routing
// per LUT and flip-flop), block RAM (per enabled block and port width), DSP48 (per active
// cycle), MMCM / PLL (per instance) and I/O (per used pin). Read from an FPGA power table
// (`"mixprec_fpga_power_table": 2`; shipped tables in energy_models/tables/fpga/*.json, compiled
// in; or a user file with the same schema). The shipped coefficients are calibrated on published
// report_power outputs (tests/validation/fpga/reports.json), each stating its source.
//
// Contract: FpgaPowerModel::from_spec() validates the table completely (unknown keys, types,
// ranges: SpecError naming the table file and JSON pointer) and checks the scenario's device
// against the table's entry for that part (resource counts must match the data sheet). Queries
// are pure arithmetic: energies in pJ (per clock cycle or per event), power in mW.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/fpga.hpp"

namespace mixprec::energy {

constexpr int kFpgaPowerTableVersion = 2;

struct FpgaDeviceEntry {
  FpgaResources counts;
  double static_mw_25c = 0;  // device static at a junction temperature of 25 C
  std::string source, derived;
};

struct FpgaPowerTable {
  std::string name, file;
  std::map<std::string, FpgaDeviceEntry> devices;  // by lower-case part name
  double default_toggle = 0.125;       // the toggle rate the coefficients below hold at
  double static_per_c = 0;             // static(T) = static(25 C) exp(k (T - 25))
  double clock_pj_per_ff = 0;          // clock tree, per flip-flop per cycle
  double logic_pj_per_lut = 0;         // slice logic, per LUT per cycle at default_toggle
  double signal_pj_per_cell = 0;       // routing, per (LUT + flip-flop) per cycle at default_toggle
  double bram36_pj = 0;                // per enabled RAMB36 per cycle at a 36-bit port
  double dsp_pj = 0;                   // per active DSP48 cycle at default_toggle, dsp_bits operands
  int dsp_bits_w = 16, dsp_bits_a = 16;
  double mmcm_mw = 0, pll_mw = 0;      // per instance
  double io_pj_per_pin = 0;            // per used pin per cycle at default_toggle
};

std::vector<std::string> shipped_fpga_table_names();
FpgaPowerTable parse_fpga_power_table(const std::string& text, const std::string& file_label);
// A shipped table by name; throws SpecError naming `file`/`pointer` when there is none.
FpgaPowerTable shipped_fpga_power_table(const std::string& name, const std::string& file,
                                        const std::string& pointer);

// A design summarized the way report_power's summary counts it.
struct FpgaDesignSummary {
  double clock_mhz = 100;
  double luts = 0, ffs = 0;
  double bram_enabled_36k = 0;  // RAMB36 enabled per cycle (36-bit port equivalents)
  double dsp_active = 0;        // DSP48 slices active per cycle
  int mmcm = 0, pll = 0, io_pins = 0;
};

// Power by report_power's components (mW).
struct FpgaComponentPower {
  double static_mw = 0, clocks = 0, logic = 0, signals = 0, bram = 0, dsp = 0, mmcm = 0, pll = 0, io = 0;
  double dynamic() const { return clocks + logic + signals + bram + dsp + mmcm + pll + io; }
  double total() const { return static_mw + dynamic(); }
};

class FpgaPowerModel {
 public:
  // Resolves spec.power.table (a shipped name, or a file relative to the scenario's directory)
  // and checks the device. `scenario_file` names errors about the scenario's own keys.
  static FpgaPowerModel from_spec(const FpgaSpec& spec, const std::string& scenario_file);
  // For a part of the table (a SpecError at `pointer` of `file` if the table has no such part).
  static FpgaPowerModel for_part(FpgaPowerTable t, const std::string& part, double toggle_rate,
                                 double junction_c, const std::string& file, const std::string& pointer);
  FpgaPowerModel(FpgaPowerTable t, double static_mw, double toggle_rate);

  const FpgaPowerTable& table() const { return t_; }
  double static_mw() const { return static_mw_; }
  double toggle_rate() const { return toggle_; }
  // Per clock cycle.
  double clocks_pj_per_cycle(double ffs) const;
  double logic_pj_per_cycle(double luts) const;
  double signals_pj_per_cycle(double luts, double ffs) const;
  double io_pj_per_cycle(int pins) const;
  // Per event: one access of a block-RAM port of `bits` (9/18/36-bit ports), one DSP48 operation
  // (multiply, or multiply-accumulate) of bits_w x bits_a operands.
  double bram_access_pj(int bits) const;
  double dsp_op_pj(int bits_w, int bits_a) const;
  double mmcm_mw(int n) const { return n * t_.mmcm_mw; }
  double pll_mw(int n) const { return n * t_.pll_mw; }
  // report_power's summary for a design (every DSP and enabled block-RAM at 16-bit operands /
  // a 36-bit port).
  FpgaComponentPower estimate(const FpgaDesignSummary& d) const;

 private:
  double toggle_scale() const { return toggle_ / t_.default_toggle; }
  FpgaPowerTable t_;
  double static_mw_ = 0, toggle_ = 0.125;
};

// Device static at junction temperature `junction_c` from the table's 25 C figure.
double static_at(const FpgaPowerTable& t, const FpgaDeviceEntry& d, double junction_c);

}  // namespace mixprec::energy
