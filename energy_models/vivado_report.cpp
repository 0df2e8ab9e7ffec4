#include "energy_models/vivado_report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"

namespace mixprec::energy {

namespace {

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    v.push_back(l);
  }
  return v;
}

// The cells of a table row "| a | b | c |" (empty when the line is not a row).
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> c;
  const std::string t = trim(line);
  if (t.size() < 2 || t.front() != '|') return c;
  std::size_t p = 1;
  while (p < t.size()) {
    const std::size_t q = t.find('|', p);
    if (q == std::string::npos) break;
    c.push_back(trim(t.substr(p, q - p)));
    p = q + 1;
  }
  return c;
}

std::string at_line(int n) { return "line " + std::to_string(n); }

// A number at the start of `s` ("0.121", "37.884 (Junction temp exceeded!)", "<0.001").
bool leading_number(const std::string& s, double& v, bool& below) {
  below = false;
  std::string t = trim(s);
  if (!t.empty() && t[0] == '<') {
    below = true;
    t = t.substr(1);
  }
  const char* b = t.c_str();
  char* e = nullptr;
  v = std::strtod(b, &e);
  if (e == b) return false;
  if (below) v /= 2;  // "<0.001" reads as 0.0005
  return true;
}

double number_cell(const std::string& cell, const std::string& file, int line, const std::string& what) {
  double v = 0;
  bool below = false;
  if (!leading_number(cell, v, below)) throw SpecError(file, at_line(line), "a number for " + what, "\"" + cell + "\"");
  return v;
}

std::string die_of(const std::string& device) {
  // xc7a35tcpg236-1 -> xc7a35t; xc7s50fgga484-1 -> xc7s50; xc7a100tcsg324-1 -> xc7a100t.
  std::string d = device;
  for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t i = 0;
  while (i < d.size() && std::isalpha(static_cast<unsigned char>(d[i]))) ++i;  // "xc"
  while (i < d.size() && std::isdigit(static_cast<unsigned char>(d[i]))) ++i;  // "7"
  while (i < d.size() && std::isalpha(static_cast<unsigned char>(d[i]))) ++i;  // family letter(s)
  while (i < d.size() && std::isdigit(static_cast<unsigned char>(d[i]))) ++i;  // size
  if (i < d.size() && d[i] == 't') ++i;
  return d.substr(0, i);
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

VivadoPowerReport parse_vivado_power_report(const std::string& text, const std::string& file) {
  VivadoPowerReport r;
  r.file = file;
  const std::vector<std::string> L = lines_of(text);
  bool have_total = false, have_dyn = false, have_static = false, in_components = false, in_clocks = false;
  int components_line = 0;
  for (std::size_t i = 0; i < L.size(); ++i) {
    const int n = int(i) + 1;
    const std::string t = trim(L[i]);
    if (t.rfind("| Device", 0) == 0 && t.find(':') != std::string::npos && r.device.empty()) {
      r.device = trim(t.substr(t.find(':') + 1));
      r.part = die_of(r.device);
      continue;
    }
    if (t.rfind("1.1 On-Chip Components", 0) == 0) {
      in_components = true;
      components_line = n;
      continue;
    }
    if (t.rfind("2.2 Clock Constraints", 0) == 0) {
      in_clocks = true;
      continue;
    }
    if (t.rfind("1.2 ", 0) == 0 || t.rfind("3. ", 0) == 0 || t.rfind("2.3 ", 0) == 0) {
      in_components = false;
      in_clocks = false;
    }
    const std::vector<std::string> c = cells(L[i]);
    if (c.size() < 2) continue;
    if (c[0] == "Total On-Chip Power (W)") {
      r.total_w = number_cell(c[1], file, n, "Total On-Chip Power");
      have_total = true;
    } else if (c[0] == "Dynamic (W)") {
      r.dynamic_w = number_cell(c[1], file, n, "Dynamic");
      have_dyn = true;
    } else if (c[0] == "Device Static (W)") {
      r.static_w = number_cell(c[1], file, n, "Device Static");
      have_static = true;
    } else if (c[0] == "Junction Temperature (C)") {
      r.junction_c = number_cell(c[1], file, n, "Junction Temperature");
    } else if (in_components && c.size() >= 3 && c[0] != "On-Chip" && c[0] != "Total" && c[0] != "Static Power") {
      VivadoComponent v;
      v.line = n;
      double x = 0;
      bool below = false;
      if (!leading_number(c[1], x, below))
        throw SpecError(file, at_line(n), "a power in W for \"" + c[0] + "\"", "\"" + c[1] + "\"");
      v.power_w = x;
      v.below_resolution = below;
      if (!c[2].empty() && !leading_number(c[2], v.used, below))
        throw SpecError(file, at_line(n), "a used count for \"" + c[0] + "\"", "\"" + c[2] + "\"");
      if (c.size() >= 4) leading_number(c[3], v.available, below);  // "---": none
      r.components[c[0]] = v;
    } else if (in_clocks && c.size() >= 3 && c[0] != "Clock") {
      r.clocks_ns.emplace_back(c[0], number_cell(c[2], file, n, "the period of clock \"" + c[0] + "\""));
    }
  }
  if (r.device.empty()) throw SpecError(file, at_line(0), "a report_power header with \"| Device : <part>\"", "none");
  if (!have_total || !have_dyn || !have_static)
    throw SpecError(file, at_line(0),
                    "a report_power Summary with Total On-Chip Power, Dynamic and Device Static (W)",
                    std::string(have_total ? "" : "no Total On-Chip Power ") + (have_dyn ? "" : "no Dynamic ") +
                        (have_static ? "" : "no Device Static"));
  if (components_line == 0 || r.components.empty())
    throw SpecError(file, at_line(components_line), "a \"1.1 On-Chip Components\" table with rows", "none");
  return r;
}

VivadoUtilization parse_vivado_utilization(const std::string& text, const std::string& file) {
  VivadoUtilization u;
  u.file = file;
  const std::vector<std::string> L = lines_of(text);
  int used_col = -1, avail_col = -1;
  bool any = false;
  for (std::size_t i = 0; i < L.size(); ++i) {
    const int n = int(i) + 1;
    const std::vector<std::string> c = cells(L[i]);
    if (c.empty()) continue;
    if (c[0] == "Site Type") {
      used_col = avail_col = -1;
      for (std::size_t k = 0; k < c.size(); ++k) {
        if (c[k] == "Used") used_col = int(k);
        if (c[k] == "Available") avail_col = int(k);
      }
      continue;
    }
    if (used_col < 0 || avail_col < 0 || int(c.size()) <= std::max(used_col, avail_col)) continue;
    std::string name = c[0];
    while (!name.empty() && name.back() == '*') name.pop_back();
    name = trim(name);
    auto both = [&](double& used, double& avail) {
      used = number_cell(c[size_t(used_col)], file, n, "the Used count of \"" + name + "\"");
      avail = number_cell(c[size_t(avail_col)], file, n, "the Available count of \"" + name + "\"");
      any = true;
    };
    if (name == "Slice LUTs" || name == "CLB LUTs") both(u.luts, u.luts_available);
    else if (name == "Slice Registers" || name == "CLB Registers") both(u.ffs, u.ffs_available);
    else if (name == "Block RAM Tile") both(u.bram_36k, u.bram_36k_available);
    else if (name == "DSPs") both(u.dsp48, u.dsp48_available);
  }
  if (!any || u.luts_available <= 0)
    throw SpecError(file, at_line(0), "a report_utilization table with a \"Slice LUTs\" row", "none");
  return u;
}

std::string calibrated_fpga_table(const VivadoPowerReport& r, const VivadoUtilization* u, const FpgaPowerTable& base,
                                  const CalibrationOptions& o) {
  using ojson = nlohmann::ordered_json;
  double f = o.clock_mhz;
  if (f <= 0) {
    if (r.clocks_ns.size() != 1)
      throw SpecError(r.file, at_line(0),
                      "exactly one clock in \"2.2 Clock Constraints\" (or the design clock given with --clock-mhz)",
                      std::to_string(r.clocks_ns.size()) + " clocks");
    f = 1000.0 / r.clocks_ns.front().second;
  }
  auto comp = [&](const char* name) -> const VivadoComponent* {
    auto it = r.components.find(name);
    return it == r.components.end() ? nullptr : &it->second;
  };
  auto used = [&](const char* name) { const VivadoComponent* c = comp(name); return c ? c->used : 0.0; };
  const double luts = used("LUT as Logic") + used("LUT as Shift Register") + used("LUT as Distributed RAM");
  const double ffs = used("Register");
  const double bram = used("Block RAM"), dsp = used("DSPs");
  const double enabled = o.bram_enabled_36k >= 0 ? o.bram_enabled_36k : bram;
  const std::string where = r.file;
  ojson t;
  t["mixprec_fpga_power_table"] = kFpgaPowerTableVersion;
  t["name"] = o.name.empty() ? r.file : o.name;
  t["description"] = "Calibrated by mixprec fpga-calibrate on " + r.file + " (" + r.device + ", design clock " +
                     fmt("%g", f) + " MHz); coefficients the report does not exercise are those of " + base.name + ".";
  t["notes"] = "One report: each coefficient is that report's component power / (clock x count). A vectorless report "
               "reflects Vivado's default activity; a report with a simulation activity file reflects that activity.";
  t["default_toggle_rate"] = base.default_toggle;
  t["default_toggle_source"] = "as " + base.name;
  t["static_temperature_coefficient_per_c"] = {{"value", base.static_per_c}, {"source", "as " + base.name}};
  ojson devices = ojson::object();
  for (const auto& [part, d] : base.devices)
    devices[part] = {{"dsp48", d.counts.dsp48}, {"bram_36k", d.counts.bram_18k / 2}, {"luts", d.counts.luts},
                     {"ffs", d.counts.ffs}, {"static_mw_25c", d.static_mw_25c}, {"source", "as " + base.name}};
  // The report's own part: its static at 25 C, counts from the utilization report, the power
  // report's Available column, or the base table.
  {
    const auto b = base.devices.find(r.part);
    auto avail = [&](const char* name, double from_util, int from_base) -> int {
      if (from_util > 0) return int(from_util);
      const VivadoComponent* c = comp(name);
      if (c && c->available > 0) return int(c->available);
      if (from_base > 0) return from_base;
      throw SpecError(r.file, at_line(0),
                      "the device's " + std::string(name) + " count (a utilization report, --utilization)",
                      "none for part " + r.part);
    };
    const bool bb = b != base.devices.end();
    const double s25 = r.static_w * 1e3 * std::exp(-base.static_per_c * (r.junction_c - 25));
    devices[r.part] = {
        {"dsp48", avail("DSPs", u ? u->dsp48_available : 0, bb ? b->second.counts.dsp48 : 0)},
        {"bram_36k", avail("Block RAM", u ? u->bram_36k_available : 0, bb ? b->second.counts.bram_18k / 2 : 0)},
        {"luts", avail("LUT as Logic", u ? u->luts_available : 0, bb ? b->second.counts.luts : 0)},
        {"ffs", avail("Register", u ? u->ffs_available : 0, bb ? b->second.counts.ffs : 0)},
        {"static_mw_25c", s25},
        {"source", where + ": Device Static " + fmt("%g", r.static_w) + " W at Tj " + fmt("%g", r.junction_c) + " C"},
        {"derived", "x exp(-" + fmt("%g", base.static_per_c) + " x (Tj - 25))"}};
  }
  t["devices"] = devices;
  // One coefficient: calibrated when the report exercises it above its resolution.
  auto coef = [&](const char* section, const char* key, const char* component, double count, double scale,
                  double base_value, const std::string& unit) {
    const VivadoComponent* c = comp(component);
    ojson s;
    if (c && count > 0 && !c->below_resolution && c->power_w > 0) {
      s[key] = c->power_w * scale / count;
      s["source"] = where + " line " + std::to_string(c->line) + ": " + component + " " + fmt("%g", c->power_w) +
                    " W / (" + unit + " " + fmt("%g", count) + ")";
    } else {
      s[key] = base_value;
      s["source"] = "as " + base.name + " (" + component +
                    (c ? (c->below_resolution ? " below the report's resolution" : " not exercised") : " not in the report") +
                    ")";
    }
    t[section] = s;
  };
  const std::string per_mhz = fmt("%g", f) + " MHz x";
  coef("clocks", "pj_per_ff_cycle", "Clocks", ffs, 1e6 / f, base.clock_pj_per_ff, per_mhz + " flip-flops");
  coef("logic", "pj_per_lut_cycle", "Slice Logic", luts, 1e6 / f, base.logic_pj_per_lut, per_mhz + " LUTs");
  coef("signals", "pj_per_cell_cycle", "Signals", luts + ffs, 1e6 / f, base.signal_pj_per_cell, per_mhz + " LUTs + FFs");
  coef("bram", "pj_per_active_bram36_cycle", "Block RAM", enabled, 1e6 / f, base.bram36_pj, per_mhz + " enabled RAMB36");
  coef("dsp", "pj_per_dsp_cycle", "DSPs", dsp, 1e6 / f, base.dsp_pj, per_mhz + " DSP48");
  t["dsp"]["bits_w"] = base.dsp_bits_w;
  t["dsp"]["bits_a"] = base.dsp_bits_a;
  coef("mmcm", "mw", "MMCM", used("MMCM"), 1e3, base.mmcm_mw, "MMCMs");
  coef("pll", "mw", "PLL", used("PLL"), 1e3, base.pll_mw, "PLLs");
  coef("io", "pj_per_pin_cycle", "I/O", used("I/O"), 1e6 / f, base.io_pj_per_pin, per_mhz + " pins");
  return t.dump(2) + "\n";
}

}  // namespace mixprec::energy
