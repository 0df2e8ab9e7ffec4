// FPGA power model: static power of a device and dynamic energy per event of each resource
// (DSP48 multiply-accumulate, block-RAM access, LUT-ROM lookup, soft logic per clock cycle),
// read from an FPGA power table (`"mixprec_fpga_power_table": 1`; shipped tables in
// energy_models/tables/fpga/*.json, compiled in; or a user file with the same schema).
//
// Contract: FpgaPowerModel::from_spec() validates the table completely (unknown keys, types,
// ranges: SpecError naming the table file and JSON pointer) and checks the scenario's device
// against the table's entry for that part (resource counts must match the data sheet). Queries
// are pure arithmetic. Energies in pJ, power in mW.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/fpga.hpp"

namespace mixprec::energy {

constexpr int kFpgaPowerTableVersion = 1;

struct FpgaDeviceEntry {
  FpgaResources counts;
  double static_mw = 0;
  std::string source, derived;
};

struct FpgaPowerTable {
  std::string name, file;
  double node_nm = 28;
  std::map<std::string, FpgaDeviceEntry> devices;  // by lower-case part name
  double dsp_multiply_pj = 0;  int dsp_bits_w = 16, dsp_bits_a = 16;
  double dsp_accumulate_pj = 0;
  double bram_read_pj = 0, bram_write_pj = 0;  int bram_port_bits = 18;
  double lut_rom_pj = 0;  int lut_rom_entries = 256, lut_rom_bits = 16;
  double lut_logic_pj = 0;  // per LUT per cycle at full toggle
  double ff_pj = 0;         // per flip-flop per cycle at full toggle (clock share included)
};

std::vector<std::string> shipped_fpga_table_names();
FpgaPowerTable parse_fpga_power_table(const std::string& text, const std::string& file_label);

class FpgaPowerModel {
 public:
  // Resolves spec.power.table (a shipped name, or a file relative to the scenario's directory)
  // and checks the device. `scenario_file` names errors about the scenario's own keys.
  static FpgaPowerModel from_spec(const FpgaSpec& spec, const std::string& scenario_file);
  explicit FpgaPowerModel(FpgaPowerTable t, double static_mw, double toggle_rate);

  const FpgaPowerTable& table() const { return t_; }
  double static_mw() const { return static_mw_; }
  double toggle_rate() const { return toggle_; }
  // One product of bits_w x bits_a accumulated in a DSP48's 48-bit accumulator.
  double dsp_mac_pj(int bits_w, int bits_a) const;
  // One element-wise multiply (no accumulation kept) on a DSP48.
  double dsp_multiply_pj(int bits_w, int bits_a) const;
  // One read / write of a word of `bits` through an 18 Kb block RAM port (9/18/36 bits).
  double bram_pj(int bits, bool write) const;
  // One lookup in a LUT-ROM table of `entries` words of `bits`.
  double lut_rom_pj(int entries, int bits) const;
  // Soft logic per clock cycle: LUTs and flip-flops at the toggle rate.
  double logic_pj_per_cycle(int luts, int ffs) const;

 private:
  FpgaPowerTable t_;
  double static_mw_ = 0, toggle_ = 0.125;
};

}  // namespace mixprec::energy
