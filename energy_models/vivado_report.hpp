// Import of Vivado reports to calibrate an FPGA power table (`mixprec fpga-calibrate`): a routed
// report_power text (Summary, On-Chip Components, Clock Constraints) and optionally a
// report_utilization text (device counts). The calibration is the shipped table's own rule
// (energy_models/tables/fpga/xilinx_7series_vivado.json): each coefficient = the component's
// power / (clock MHz x the count it scales with), from one report; components the report does not
// exercise keep the base table's coefficient, and the output says which.
//
// Contract: parse_* throw SpecError naming the file and "line N" (or "line 0" for a missing
// section), what was expected and what was found. Pure text in, values out.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "energy_models/fpga_power.hpp"

namespace mixprec::energy {

struct VivadoComponent {
  double power_w = 0;   // "<0.001" reads as 0.0005
  double used = 0;
  double available = 0;  // 0 when the report gives "---"
  bool below_resolution = false;
  int line = 0;
};

struct VivadoPowerReport {
  std::string file;
  std::string device;  // as printed, e.g. "xc7a35tcpg236-1"
  std::string part;    // the die, e.g. "xc7a35t"
  double total_w = 0, dynamic_w = 0, static_w = 0, junction_c = 25;
  std::map<std::string, VivadoComponent> components;  // by the On-Chip row name ("Clocks", "LUT as Logic", ...)
  std::vector<std::pair<std::string, double>> clocks_ns;  // Clock Constraints: name, period
};

struct VivadoUtilization {
  std::string file;
  double luts = 0, luts_available = 0, ffs = 0, ffs_available = 0;
  double bram_36k = 0, bram_36k_available = 0, dsp48 = 0, dsp48_available = 0;
};

VivadoPowerReport parse_vivado_power_report(const std::string& text, const std::string& file);
VivadoUtilization parse_vivado_utilization(const std::string& text, const std::string& file);

struct CalibrationOptions {
  double clock_mhz = 0;          // 0: the fastest constrained clock of the report
  double bram_enabled_36k = -1;  // RAMB36 enabled per cycle; < 0: every used block
  std::string name;              // the table's name (default: the report's file name)
};

// A power table (schema `mixprec_fpga_power_table` 2, as JSON text) calibrated on `r`, the
// other coefficients and devices from `base`.
std::string calibrated_fpga_table(const VivadoPowerReport& r, const VivadoUtilization* u,
                                  const FpgaPowerTable& base, const CalibrationOptions& o);

}  // namespace mixprec::energy
