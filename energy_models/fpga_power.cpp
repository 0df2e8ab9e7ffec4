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

const Range kPositive{std::nullopt, std::nullopt, 0.0};
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
    r.fail("mixprec_fpga_power_table", "version " + std::to_string(kFpgaPowerTableVersion), std::to_string(v));
  FpgaPowerTable t;
  t.file = file_label;
  t.name = r.string_or("name", file_label);
  r.string_or("description", "");
  r.string_or("notes", "");
  t.node_nm = r.number_or("node_nm", 28, kPositive);
  for (const char* k : {"technology_factor", "soft_logic_factor"}) {
    // Documentation of how the energies below were derived; checked for shape only.
    if (!r.has(k)) continue;
    ObjectReader o(r.object(k), ctx, r.at(k));
    o.number("value", kPositive);
    provenance(o);
    o.finish();
  }
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
      de.static_mw = e.number("static_mw", kNonNeg);
      de.source = e.string_or("source", "");
      de.derived = e.string_or("derived", "");
      e.finish();
      t.devices[lower(it.key())] = de;
    }
    d.finish();
  }
  {
    ObjectReader o(r.object("dsp48_multiply"), ctx, "/dsp48_multiply");
    t.dsp_multiply_pj = o.number("pj", kNonNeg);
    t.dsp_bits_w = o.integer("bits_w", kBits);
    t.dsp_bits_a = o.integer("bits_a", kBits);
    provenance(o);
    o.finish();
  }
  {
    ObjectReader o(r.object("dsp48_accumulate"), ctx, "/dsp48_accumulate");
    t.dsp_accumulate_pj = o.number("pj", kNonNeg);
    o.integer_or("acc_bits", 48, kBits);
    provenance(o);
    o.finish();
  }
  {
    ObjectReader o(r.object("bram18_access"), ctx, "/bram18_access");
    t.bram_read_pj = o.number("read_pj", kNonNeg);
    t.bram_write_pj = o.number_or("write_pj", t.bram_read_pj, kNonNeg);
    t.bram_port_bits = o.integer("port_bits", Range{1.0, 72.0, std::nullopt});
    provenance(o);
    o.finish();
  }
  {
    ObjectReader o(r.object("lut_rom_lookup"), ctx, "/lut_rom_lookup");
    t.lut_rom_pj = o.number("pj", kNonNeg);
    t.lut_rom_entries = o.integer("entries", Range{2.0, std::nullopt, std::nullopt});
    t.lut_rom_bits = o.integer("word_bits", kBits);
    provenance(o);
    o.finish();
  }
  {
    ObjectReader o(r.object("lut_logic"), ctx, "/lut_logic");
    t.lut_logic_pj = o.number("pj_per_cycle", kNonNeg);
    provenance(o);
    o.finish();
  }
  {
    ObjectReader o(r.object("flip_flop"), ctx, "/flip_flop");
    t.ff_pj = o.number("pj_per_cycle", kNonNeg);
    provenance(o);
    o.finish();
  }
  r.finish();
  return t;
}

FpgaPowerModel::FpgaPowerModel(FpgaPowerTable t, double static_mw, double toggle_rate)
    : t_(std::move(t)), static_mw_(static_mw), toggle_(toggle_rate) {}

FpgaPowerModel FpgaPowerModel::from_spec(const FpgaSpec& spec, const std::string& scenario_file) {
  const std::string ptr = "/hardware/power/table";
  const std::string& name = spec.power.table;
  FpgaPowerTable t;
  bool found = false;
  for (std::size_t i = 0; i < detail::kShippedFpgaTableCount; ++i)
    if (name == detail::kShippedFpgaTables[i].name) {
      t = parse_fpga_power_table(detail::kShippedFpgaTables[i].text,
                                 "energy_models/tables/fpga/" + name + ".json");
      found = true;
    }
  if (!found) {
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
    if (!spec.power.static_given) static_mw = it->second.static_mw;
  }
  return FpgaPowerModel(std::move(t), static_mw, spec.power.toggle_rate);
}

double FpgaPowerModel::dsp_multiply_pj(int bits_w, int bits_a) const {
  return t_.dsp_multiply_pj * double(bits_w) * bits_a / (double(t_.dsp_bits_w) * t_.dsp_bits_a);
}

double FpgaPowerModel::dsp_mac_pj(int bits_w, int bits_a) const {
  return dsp_multiply_pj(bits_w, bits_a) + t_.dsp_accumulate_pj;
}

double FpgaPowerModel::bram_pj(int bits, bool write) const {
  const int port = bits <= 9 ? 9 : bits <= 18 ? 18 : 36;
  return (write ? t_.bram_write_pj : t_.bram_read_pj) * double(port) / t_.bram_port_bits;
}

double FpgaPowerModel::lut_rom_pj(int entries, int bits) const {
  // Proportional to the word width; depth by the CACTI rule (1.56x per doubling).
  return t_.lut_rom_pj * double(bits) / t_.lut_rom_bits *
         std::pow(double(entries) / t_.lut_rom_entries, std::log2(1.56));
}

double FpgaPowerModel::logic_pj_per_cycle(int luts, int ffs) const {
  return toggle_ * (double(luts) * t_.lut_logic_pj + double(ffs) * t_.ff_pj);
}

}  // namespace mixprec::energy
