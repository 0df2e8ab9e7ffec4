#include "energy_models/fpga_power.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "energy_models/shipped_text.hpp"

namespace mixprec::energy {

namespace {

const Range kNonNeg{0.0, std::nullopt, std::nullopt};
const Range kBits{1.0, 64.0, std::nullopt};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// `source` and `derived` document a number; they are read (and must be strings) but not used.
void provenance(ObjectReader& r) {
  r.string_or("source", "");
  r.string_or("derived", "");
}

std::string dirname_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? std::string(".") : path.substr(0, pos == 0 ? 1 : pos);
}

// One coefficient section: {"<key>": number, "source": ..., "derived": ...}.
double coefficient(ObjectReader& r, const JsonCtx& ctx, const std::string& section, const std::string& key,
                   const Range& range) {
  ObjectReader o(r.object(section), ctx, r.at(section));
  const double v = o.number(key, range);
  provenance(o);
  o.finish();
  return v;
}

int port_bits(int bits) { return bits <= 9 ? 9 : bits <= 18 ? 18 : 36; }

}  // namespace

std::vector<std::string> shipped_fpga_table_names() {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < detail::kShippedFpgaTableCount; ++i) v.emplace_back(detail::kShippedFpgaTables[i].name);
  return v;
}

FpgaPowerTable parse_fpga_power_table(const std::string& text, const std::string& file_label) {
  JsonDoc doc = JsonDoc::parse(text, file_label);
  const JsonCtx& ctx = doc.ctx();
  ObjectReader r(doc.root(), ctx, "");
  const int v = r.integer("mixprec_fpga_power_table", Range{1.0, std::nullopt, std::nullopt});
  if (v != kFpgaPowerTableVersion)
    r.fail("mixprec_fpga_power_table",
           "version " + std::to_string(kFpgaPowerTableVersion) +
               " (Vivado report_power components; version 1 tables priced ASIC-derived events)",
           std::to_string(v));
  FpgaPowerTable t;
  t.file = file_label;
  t.name = r.string_or("name", file_label);
  r.string_or("description", "");
  r.string_or("notes", "");
  t.default_toggle = r.number("default_toggle_rate", Range{std::nullopt, 1.0, 0.0});
  r.string_or("default_toggle_source", "");
  t.static_per_c = coefficient(r, ctx, "static_temperature_coefficient_per_c", "value", Range{0.0, 0.2, std::nullopt});
  {
    ObjectReader d(r.object("devices"), ctx, "/devices");
    const json& obj = r.object("devices");
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      d.accept(it.key());
      ObjectReader e(it.value(), ctx, pointer_join("/devices", it.key()));
      FpgaDeviceEntry de;
      de.counts.dsp48 = e.integer("dsp48", Range{1.0, std::nullopt, std::nullopt});
      de.counts.bram_18k = 2 * e.integer("bram_36k", Range{1.0, std::nullopt, std::nullopt});
      de.counts.luts = e.integer("luts", Range{1.0, std::nullopt, std::nullopt});
      de.counts.ffs = e.integer("ffs", Range{1.0, std::nullopt, std::nullopt});
      e.string_or("counts_source", "");
      de.static_mw_25c = e.number("static_mw_25c", kNonNeg);
      de.source = e.string_or("source", "");
      de.derived = e.string_or("derived", "");
      e.finish();
      t.devices[lower(it.key())] = de;
    }
    d.finish();
  }
  t.clock_pj_per_ff = coefficient(r, ctx, "clocks", "pj_per_ff_cycle", kNonNeg);
  t.logic_pj_per_lut = coefficient(r, ctx, "logic", "pj_per_lut_cycle", kNonNeg);
  t.signal_pj_per_cell = coefficient(r, ctx, "signals", "pj_per_cell_cycle", kNonNeg);
  t.bram36_pj = coefficient(r, ctx, "bram", "pj_per_active_bram36_cycle", kNonNeg);
  {
    ObjectReader o(r.object("dsp"), ctx, "/dsp");
    t.dsp_pj = o.number("pj_per_dsp_cycle", kNonNeg);
    t.dsp_bits_w = o.integer("bits_w", kBits);
    t.dsp_bits_a = o.integer("bits_a", kBits);
    provenance(o);
    o.finish();
  }
  t.mmcm_mw = coefficient(r, ctx, "mmcm", "mw", kNonNeg);
  t.pll_mw = coefficient(r, ctx, "pll", "mw", kNonNeg);
  t.io_pj_per_pin = coefficient(r, ctx, "io", "pj_per_pin_cycle", kNonNeg);
  r.finish();
  return t;
}

namespace {
// The shipped table `name`, parsed; false when there is none.
bool find_shipped(const std::string& name, FpgaPowerTable& t) {
  for (std::size_t i = 0; i < detail::kShippedFpgaTableCount; ++i)
    if (name == detail::kShippedFpgaTables[i].name) {
      t = parse_fpga_power_table(detail::kShippedFpgaTables[i].text, "energy_models/tables/fpga/" + name + ".json");
      return true;
    }
  return false;
}
}  // namespace

FpgaPowerTable shipped_fpga_power_table(const std::string& name, const std::string& file, const std::string& pointer) {
  FpgaPowerTable t;
  if (find_shipped(name, t)) return t;
  const auto names = shipped_fpga_table_names();
  std::string expected = "a shipped FPGA power table (";
  for (std::size_t i = 0; i < names.size(); ++i) expected += (i ? ", \"" : "\"") + names[i] + "\"";
  throw SpecError(file, pointer, expected + ")", "\"" + name + "\"");
}

double static_at(const FpgaPowerTable& t, const FpgaDeviceEntry& d, double junction_c) {
  return d.static_mw_25c * std::exp(t.static_per_c * (junction_c - 25.0));
}

FpgaPowerModel::FpgaPowerModel(FpgaPowerTable t, double static_mw, double toggle_rate)
    : t_(std::move(t)), static_mw_(static_mw), toggle_(toggle_rate) {}

FpgaPowerModel FpgaPowerModel::for_part(FpgaPowerTable t, const std::string& part, double toggle_rate,
                                        double junction_c, const std::string& file, const std::string& pointer) {
  auto it = t.devices.find(lower(part));
  if (it == t.devices.end()) {
    std::string list;
    for (const auto& kv : t.devices) list += (list.empty() ? "\"" : ", \"") + kv.first + "\"";
    throw SpecError(file, pointer, "a part of power table \"" + t.name + "\" (" + list + ")", "\"" + part + "\"");
  }
  const double s = static_at(t, it->second, junction_c);
  return FpgaPowerModel(std::move(t), s, toggle_rate);
}

FpgaPowerModel FpgaPowerModel::from_spec(const FpgaSpec& spec, const std::string& scenario_file) {
  const std::string ptr = "/hardware/power/table";
  const std::string& name = spec.power.table;
  FpgaPowerTable t;
  if (!find_shipped(name, t)) {
    const auto names = shipped_fpga_table_names();
    std::string expected = "a shipped FPGA power table (";
    for (std::size_t i = 0; i < names.size(); ++i) expected += (i ? ", \"" : "\"") + names[i] + "\"";
    const std::string near = nearest(name, names);
    expected += ")" + (near.empty() ? std::string() : " (did you mean \"" + near + "\"?)") + " or a readable table file";
    if (name.empty()) throw SpecError(scenario_file, ptr, expected, "an empty string");
    std::string path = name;
    if (path[0] != '/')
      path = (spec.power.table_path_base.empty() ? dirname_of(scenario_file) : spec.power.table_path_base) + "/" + path;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SpecError(scenario_file, ptr, expected, "\"" + name + "\" (no readable file at \"" + path + "\")");
    std::stringstream ss;
    ss << in.rdbuf();
    t = parse_fpga_power_table(ss.str(), path);
  }
  const double toggle = spec.power.toggle_given ? spec.power.toggle_rate : t.default_toggle;
  const std::string part = lower(spec.device.part);
  auto it = t.devices.find(part);
  double static_mw = spec.power.static_mw;
  if (it == t.devices.end()) {
    if (!spec.power.static_given) {
      std::vector<std::string> parts;
      for (const auto& kv : t.devices) parts.push_back(kv.first);
      std::string list;
      for (std::size_t i = 0; i < parts.size(); ++i) list += (i ? ", \"" : "\"") + parts[i] + "\"";
      throw SpecError(scenario_file, "/hardware/device/part",
                      "a part of power table \"" + t.name + "\" (" + list + "), or /hardware/power/static_mw",
                      "\"" + spec.device.part + "\"");
    }
  } else {
    // The device's counts must be the data sheet's: a typo here would silently change the
    // resource check.
    const FpgaResources& want = it->second.counts;
    const FpgaResources& got = spec.device.available;
    auto same = [&](const char* key, int w, int g, int scale) {
      if (w != g)
        throw SpecError(scenario_file, std::string("/hardware/device/") + key,
                        std::to_string(w / scale) + " (part " + spec.device.part + " in " + t.file + ")",
                        std::to_string(g / scale));
    };
    same("dsp48", want.dsp48, got.dsp48, 1);
    same("bram_36k", want.bram_18k, got.bram_18k, 2);
    same("luts", want.luts, got.luts, 1);
    same("ffs", want.ffs, got.ffs, 1);
    if (!spec.power.static_given) static_mw = static_at(t, it->second, spec.power.junction_c);
  }
  return FpgaPowerModel(std::move(t), static_mw, toggle);
}

double FpgaPowerModel::clocks_pj_per_cycle(double ffs) const { return ffs * t_.clock_pj_per_ff; }

double FpgaPowerModel::logic_pj_per_cycle(double luts) const { return luts * t_.logic_pj_per_lut * toggle_scale(); }

double FpgaPowerModel::signals_pj_per_cycle(double luts, double ffs) const {
  return (luts + ffs) * t_.signal_pj_per_cell * toggle_scale();
}

double FpgaPowerModel::io_pj_per_cycle(int pins) const { return pins * t_.io_pj_per_pin * toggle_scale(); }

double FpgaPowerModel::bram_access_pj(int bits) const { return t_.bram36_pj * port_bits(bits) / 36.0; }

double FpgaPowerModel::dsp_op_pj(int bits_w, int bits_a) const {
  return t_.dsp_pj * toggle_scale() * double(bits_w) * bits_a / (double(t_.dsp_bits_w) * t_.dsp_bits_a);
}

FpgaComponentPower FpgaPowerModel::estimate(const FpgaDesignSummary& d) const {
  // pJ per cycle x MHz = uW; / 1000 = mW.
  const double f = d.clock_mhz * 1e-3;
  FpgaComponentPower p;
  p.static_mw = static_mw_;
  p.clocks = clocks_pj_per_cycle(d.ffs) * f;
  p.logic = logic_pj_per_cycle(d.luts) * f;
  p.signals = signals_pj_per_cycle(d.luts, d.ffs) * f;
  p.bram = d.bram_enabled_36k * bram_access_pj(36) * f;
  p.dsp = d.dsp_active * dsp_op_pj(t_.dsp_bits_w, t_.dsp_bits_a) * f;
  p.mmcm = mmcm_mw(d.mmcm);
  p.pll = pll_mw(d.pll);
  p.io = io_pj_per_cycle(d.io_pins) * f;
  return p;
}

}  // namespace mixprec::energy
