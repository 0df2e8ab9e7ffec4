// Importing a Vivado report_power text into an FPGA power table (energy_models/vivado_report.hpp,
// `mixprec fpga-calibrate`): the coefficients are the report's component / (clock x count), the
// rest inherited; errors name the file and line; the CLI writes a table a scenario can use.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "energy_models/vivado_report.hpp"
#include "test_util.hpp"

using namespace mixprec;
using nlohmann::json;

namespace {

const char* kExcerpt = "tests/validation/fpga/basys3_io_xc7a35t_power_excerpt.rpt";

std::string text_of(const std::string& rel) {
  std::ifstream in(test::source_path(rel));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

energy::FpgaPowerTable base() {
  return energy::shipped_fpga_power_table("xilinx_7series_vivado", "test", "");
}

std::string error_of(const std::string& text) {
  try {
    energy::parse_vivado_power_report(text, "r.rpt");
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("fpga-calibrate: a report's summary, components and clock", "[fpga][calibrate]") {
  const energy::VivadoPowerReport r = energy::parse_vivado_power_report(text_of(kExcerpt), "x.rpt");
  CHECK(r.device == "xc7a35tcpg236-1");
  CHECK(r.part == "xc7a35t");
  CHECK(r.total_w == 0.121);
  CHECK(r.dynamic_w == 0.049);
  CHECK(r.static_w == 0.072);
  CHECK(r.junction_c == 25.6);
  CHECK(r.components.at("Register").used == 558);
  CHECK(r.components.at("Register").below_resolution);
  CHECK(r.components.at("LUT as Logic").available == 20800);
  CHECK(r.components.at("I/O").power_w == 0.038);
  REQUIRE(r.clocks_ns.size() == 1);
  CHECK(r.clocks_ns[0].second == 10.0);
}

TEST_CASE("fpga-calibrate: coefficients from one report, the rest from the base table", "[fpga][calibrate]") {
  const energy::VivadoPowerReport r = energy::parse_vivado_power_report(text_of(kExcerpt), "x.rpt");
  const std::string text = energy::calibrated_fpga_table(r, nullptr, base(), {});
  const energy::FpgaPowerTable t = energy::parse_fpga_power_table(text, "calibrated.json");
  // 100 MHz (the only clock, 10 ns): W / (MHz x count) x 1e6 = pJ per cycle.
  CHECK(t.clock_pj_per_ff == Approx(0.004 / (100 * 558.0) * 1e6));
  CHECK(t.logic_pj_per_lut == Approx(0.003 / (100 * 608.0) * 1e6));
  CHECK(t.signal_pj_per_cell == Approx(0.004 / (100 * (608.0 + 558)) * 1e6));
  CHECK(t.io_pj_per_pin == Approx(0.038 / (100 * 49.0) * 1e6));
  // Not exercised: block RAM, DSP, MMCM, PLL keep the shipped coefficients.
  CHECK(t.bram36_pj == base().bram36_pj);
  CHECK(t.dsp_pj == base().dsp_pj);
  CHECK(t.mmcm_mw == base().mmcm_mw);
  // The part: static at 25 C from 72 mW at 25.6 C, counts from the Available column.
  const auto& d = t.devices.at("xc7a35t");
  CHECK(d.static_mw_25c == Approx(72 * std::exp(-0.0166 * 0.6)));
  CHECK(d.counts.luts == 20800);
  CHECK(d.counts.ffs == 41600);
  const json j = json::parse(text);
  CHECK(j["bram"]["source"].get<std::string>().find("not in the report") != std::string::npos);
  CHECK(j["clocks"]["source"].get<std::string>().find("x.rpt line") == 0);
  // The model on the calibrated table reproduces the report's own components.
  energy::FpgaDesignSummary s;
  s.clock_mhz = 100;
  s.luts = 608;
  s.ffs = 558;
  s.io_pins = 49;
  const energy::FpgaComponentPower p =
      energy::FpgaPowerModel::for_part(t, "xc7a35t", t.default_toggle, 25.6, "t", "").estimate(s);
  CHECK(p.clocks == Approx(4.0));
  CHECK(p.io == Approx(38.0));
  CHECK(p.static_mw == Approx(72.0));
}

TEST_CASE("fpga-calibrate: errors name the report file and line", "[fpga][calibrate]") {
  std::string t = text_of(kExcerpt);
  const std::string bad = t.substr(0, t.find("|     0.004 |     1184")) + "|       abc |     1184" +
                          t.substr(t.find("|     0.004 |     1184") + std::string("|     0.004 |     1184").size());
  CHECK(error_of(bad) == "r.rpt: line 44: expected a power in W for \"Signals\", found \"abc\"");
  CHECK(error_of("hello\n").find("r.rpt: line 0: expected a report_power header") == 0);
  // Two clocks and no --clock-mhz.
  std::string two = t;
  two.insert(two.find("| sys_clk_pin"), "| clk_b       | b      |             5.0 |\n");
  const energy::VivadoPowerReport r = energy::parse_vivado_power_report(two, "r.rpt");
  CHECK_THROWS_WITH(energy::calibrated_fpga_table(r, nullptr, base(), {}),
                    Catch::Contains("expected exactly one clock") && Catch::Contains("2 clocks"));
  energy::CalibrationOptions o;
  o.clock_mhz = 100;
  CHECK_NOTHROW(energy::calibrated_fpga_table(r, nullptr, base(), o));
}

TEST_CASE("fpga-calibrate: the CLI writes a table that a scenario uses", "[fpga][calibrate]") {
  const std::string dir = test::temp_dir("fpga_calibrate");
  const test::RunResult r = test::run_cli("fpga-calibrate " + test::source_path(kExcerpt) + " --out " + dir + "/t.json");
  REQUIRE(r.exit_code == 0);
  // A scenario on the xc7a35t with the calibrated table.
  json sc = test::read_json(test::source_path("scenarios/fpga_lstm_traffic.json"));
  sc["hardware"]["device"] = {{"part", "xc7a35t"}, {"dsp48", 90}, {"bram_36k", 50}, {"luts", 20800}, {"ffs", 41600}};
  sc["hardware"]["power"]["table"] = "t.json";
  std::ofstream(dir + "/s.json") << sc.dump();
  const test::RunResult s = test::run_cli("simulate " + dir + "/s.json --format json");
  REQUIRE(s.exit_code == 0);
  const json out = json::parse(s.out);
  CHECK(out["fpga"]["power_table"]["static_mw"].get<double>() == Approx(72 * std::exp(-0.0166 * 0.6)));
  // A missing report: exit code 2, the file named.
  const test::RunResult m = test::run_cli("fpga-calibrate " + dir + "/none.rpt");
  CHECK(m.exit_code == 2);
  CHECK(m.err.find("none.rpt") != std::string::npos);
}
