// `mixprec fpga-calibrate report_power.rpt [--utilization util.rpt] --out table.json`: an FPGA
// power table calibrated on one's own Vivado reports (energy_models/vivado_report.hpp), to point
// a scenario's hardware.power.table at (docs/fpga_lstm.md, "Calibrating on your own board").
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/errors.hpp"
#include "energy_models/vivado_report.hpp"

namespace mixprec::app {
namespace {

struct Opts {
  std::string power, utilization, out, base = "xilinx_7series_vivado", name;
  double clock_mhz = 0, bram_enabled = -1;
} g;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SpecError(path, "line 0", "a readable Vivado report", "no readable file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run() {
  const energy::VivadoPowerReport r = energy::parse_vivado_power_report(read_text(g.power), g.power);
  energy::VivadoUtilization u;
  if (!g.utilization.empty()) u = energy::parse_vivado_utilization(read_text(g.utilization), g.utilization);
  const energy::FpgaPowerTable base = energy::shipped_fpga_power_table(g.base, "--base", "");
  energy::CalibrationOptions o;
  o.clock_mhz = g.clock_mhz;
  o.bram_enabled_36k = g.bram_enabled;
  o.name = g.name;
  emit(energy::calibrated_fpga_table(r, g.utilization.empty() ? nullptr : &u, base, o), g.out);
  if (!g.out.empty())
    std::cerr << "wrote " << g.out << " (part " << r.part << ", Tj " << r.junction_c << " C; set hardware.power.table to it)\n";
  return 0;
}

void setup(CLI::App& app) {
  auto* s = app.add_subcommand("fpga-calibrate",
                               "An FPGA power table calibrated on a Vivado report_power text (and report_utilization)");
  s->add_option("power_report", g.power, "report_power output (routed design)")->required();
  s->add_option("--utilization", g.utilization, "report_utilization output (device counts)");
  s->add_option("--clock-mhz", g.clock_mhz, "Design clock (default: the report's only clock constraint)")
      ->check(CLI::PositiveNumber);
  s->add_option("--bram-enabled", g.bram_enabled,
                "RAMB36 enabled per cycle (default: every used block; 1 per port for a cascaded memory)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--base", g.base, "Shipped table for the coefficients the report does not exercise");
  s->add_option("--name", g.name, "Name of the new table");
  s->add_option("--out", g.out, "Write the table to this file (atomically); default standard output");
}

const CommandRegistrar reg("fpga-calibrate", setup, run);

}  // namespace
}  // namespace mixprec::app
