// Energy per action. Every law is evaluated once at construction into flat arrays, so the
// queries the cost model issues ~10^6 times per second are index lookups and a few
// multiplications: no string lookups, no allocation.
//
// The laws (each also in energy_models/README.md):
//  - Integer multiply ~ bits_w x bits_a, anchored at the nearest int_multiply entry; integer
//    add ~ width, anchored at the nearest int_add entry (laws.hpp cites the sources). Because
//    anchors differ in energy per bit, the raw law can step down where the nearest anchor
//    changes (Horowitz: 20-bit add 0.075 pJ from the 8-bit entry, 21-bit add 0.066 pJ from the
//    32-bit entry). A narrower operation can always run on a wider unit, so each value is
//    capped by every wider one (monotone envelope): fewer bits never cost more. Table entries
//    and the 16-bit values (16x16 multiply 0.8 pJ, 16-bit add 0.06 pJ) are unaffected.
//  - FP16/BF16/FP32 use their own entries; fp16/bf16 products accumulate in fp32 adders.
//  - SRAM: log-log interpolation of the per-row energy over capacity between table points,
//    outside them energy ~ capacity^log2(ratio_per_doubling) (CACTI: 2x depth ~ 1.56x). A row
//    of row_bits costs points' energy x row_bits / sram_row_bits; a word costs its share of a
//    row, a word wider than a row ceil(word / row) rows (laws::word_access_pj). Banking does
//    not change dynamic energy per access (CACTI as used by Accelergy's hwcomponents-cacti).
//  - Register file, interconnect: Eyeriss ratios x mac16_pj() x word_bits / 16; in the
//    Eyeriss hierarchy mode buffers and DRAM follow the ratios too.
//  - DRAM: constant pJ/bit by kind; DramSpec::energy_pj_per_bit overrides. Not scaled with
//    the logic node (the energy belongs to the DRAM device and its interface).
//  - Technology: every other energy x factor(hw node) / factor(table node).
#include "energy_models/energy_model.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "energy_models/laws.hpp"
#include "energy_models/table.hpp"

namespace mixprec::energy {

namespace {

constexpr int kMaxBits = 64;      // operand widths with precomputed multiply energies
constexpr int kMaxAddBits = 256;  // widths with precomputed add energies
constexpr int kStride = kMaxBits + 1;
constexpr std::size_t kFormats = 4;

std::size_t fmt_index(NumFormat f) { return static_cast<std::size_t>(f); }

// The format a product of w and a is computed in: equal formats keep theirs; an integer times
// a float takes the float's; two different float formats meet in fp32.
NumFormat product_format(const Operand& w, const Operand& a) {
  if (w.format == a.format) return w.format;
  if (w.format == NumFormat::Int) return a.format;
  if (a.format == NumFormat::Int) return w.format;
  return NumFormat::Fp32;
}

int storage_bits(const Operand& x) { return x.is_float() ? float_format_bits(x.format) : x.bits; }

bool equal_ci(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string dirname_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  return pos == 0 ? std::string("/") : path.substr(0, pos);
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string s = "one of ";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string near = nearest(word, candidates);
  return near.empty() ? std::string() : " (did you mean \"" + near + "\"?)";
}

std::shared_ptr<const EnergyTable> resolve_table(const EnergySpec& e, const std::string& scenario_file) {
  if (is_shipped_table(e.table)) return load_shipped_table(e.table);
  const std::string ptr = "/hardware/energy/table";
  const auto names = shipped_table_names();
  const std::string expected = "a shipped energy table (" + quoted_list(names) + ")" +
                               did_you_mean(e.table, names) + " or a readable table file";
  if (e.table.empty()) throw SpecError(scenario_file, ptr, expected, "an empty string");
  std::string path = e.table;
  if (path[0] != '/') {
    const std::string base = e.table_path_base.empty() ? dirname_of(scenario_file) : e.table_path_base;
    path = base + "/" + path;
  }
  if (!std::ifstream(path))
    throw SpecError(scenario_file, ptr, expected,
                    "\"" + e.table + "\" (no readable file at \"" + path + "\")");
  return load_table_file(path);
}

std::string cite(const std::string& what, const Provenance& p) {
  std::string s = what + ": ";
  s += p.source.empty() ? "user table " + p.file + " at " + p.pointer + " (no source given)" : p.source;
  if (!p.derived.empty()) s += " [derived: " + p.derived + "]";
  return s;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

struct EnergyModel::Precomputed {
  std::string scenario_file;
  HardwareSpec hw;  // what the model was built from (citations are rebuilt from it on demand)

  // Integer arithmetic, scaled (technology x user-MAC calibration).
  double int_scale = 1;
  std::vector<laws::Anchor> mult_anchors, add_anchors;  // table node, unscaled
  std::vector<double> mult;                             // [b * kStride + c], envelope
  std::vector<double> add;                              // [b], envelope
  std::array<double, kFormats> fmul{}, fadd{};          // by NumFormat, scaled
  double mac16 = 0;

  // SRAM curve at the table's row width, scaled.
  std::vector<laws::Point> sram;
  double sram_exponent = 0;
  int sram_row_bits = 64;
  struct BufferCache {
    double size_kib = -1;
    int row_bits = 0;
    double row_pj = 0;
  };
  std::array<BufferCache, 3> buffer_cache{};
  struct BufferComp {
    bool set = false;
    double read_per_bit = 0, write_per_bit = 0;
  };
  std::array<BufferComp, 3> buffer_comp{};
  bool eyeriss = false;
  double eyeriss_buffer_per_bit = 0;
  double rf_per_bit = 0, interconnect_per_bit = 0;

  // DRAM (pJ/bit, never technology-scaled).
  std::optional<double> dram_component;
  double eyeriss_dram_per_bit = 0;
  std::string cached_kind;
  double cached_kind_pj = 0;
  std::vector<std::pair<std::string, double>> kinds;
  std::string table_name;

  // Composable overhead over r = fused_bits / brick_bits.
  std::vector<laws::Point> overhead;
  double overhead_exponent = 0;
  int cached_fused = 0, cached_brick = 0;
  double cached_overhead = 1;

  // Sigmoid/tanh per integer width and per float format.
  int lut_index_bits = 8;
  std::vector<double> sigmoid_int;  // [bits]
  std::array<double, kFormats> sigmoid_float{};

  std::vector<std::string> citations;

  // --- queries ------------------------------------------------------------------------------
  double raw_mult(double product) const { return laws::proportional_to_nearest(mult_anchors, product); }
  double raw_add(double bits) const { return laws::proportional_to_nearest(add_anchors, bits); }

  double int_mult(int b, int c) const {
    MIXPREC_CHECK(b >= 1 && c >= 1, "integer operand widths " + std::to_string(b) + " x " + std::to_string(c));
    if (b <= kMaxBits && c <= kMaxBits) return mult[std::size_t(b) * kStride + std::size_t(c)];
    return raw_mult(double(b) * double(c)) * int_scale;
  }
  double int_add(int b) const {
    MIXPREC_CHECK(b >= 1, "integer add width " + std::to_string(b));
    if (b <= kMaxAddBits) return add[std::size_t(b)];
    return raw_add(double(b)) * int_scale;
  }
  double sram_row_pj(double size_kib) const {
    return laws::loglog_interpolate(sram, size_kib, sram_exponent);
  }
  double overhead_for(int fused, int brick) const {
    if (fused == cached_fused && brick == cached_brick) return cached_overhead;
    return laws::loglog_interpolate(overhead, double(fused) / double(brick), overhead_exponent);
  }
  double multiply(const Operand& w, const Operand& a) const {
    NumFormat f = product_format(w, a);
    if (f == NumFormat::Int) return int_mult(w.bits, a.bits);
    return fmul[fmt_index(f)];
  }
  double add_op(const Operand& x) const {
    return x.is_float() ? fadd[fmt_index(x.format)] : int_add(x.bits);
  }
  double sigmoid(const Operand& x) const {
    if (x.is_float()) return sigmoid_float[fmt_index(x.format)];
    if (x.bits >= 1 && x.bits <= kMaxBits) return sigmoid_int[std::size_t(x.bits)];
    return compute_sigmoid(x);
  }
  MacEnergy mac(const Operand& w, const Operand& a, int acc_bits, const MacSpec& spec) const {
    const Precomputed& p = *this;
    const MacSpec& mac = spec;
    if (product_format(w, a) != NumFormat::Int)
      return {p.multiply(w, a), p.fadd[fmt_index(NumFormat::Fp32)]};  // fp16/bf16/fp32 accumulate in fp32
    const int bw = w.bits, ba = a.bits;
    switch (mac.style) {
      case MacStyle::BitParallel: {
        // Operand gating: the multiplier costs the law at the actual widths. A product wider
        // than the datapath takes ceil(bw/n) x ceil(ba/n) passes, each shift-added into the
        // accumulator.
        const int n = mac.native_bits;
        MIXPREC_CHECK(n >= 1, "native_bits");
        const double passes = double(laws::ceil_div(bw, n) * laws::ceil_div(ba, n));
        return {p.int_mult(bw, ba), passes * p.int_add(acc_bits)};
      }
      case MacStyle::Composable: {
        // Bit Fusion: operands occupy whole bricks; the fusible cell costs the overhead factor
        // times a fixed multiplier of the rounded widths. Products wider than the fused unit
        // are accumulated over ceil(b / fused) temporal passes per operand.
        MIXPREC_CHECK(mac.brick_bits >= 1 && mac.fused_bits >= mac.brick_bits, "composable MAC geometry");
        const int rw = laws::round_up_to_brick(bw, mac.brick_bits);
        const int ra = laws::round_up_to_brick(ba, mac.brick_bits);
        const double passes = double(laws::ceil_div(bw, mac.fused_bits) * laws::ceil_div(ba, mac.fused_bits));
        return {p.overhead_for(mac.fused_bits, mac.brick_bits) * p.int_mult(rw, ra), passes * p.int_add(acc_bits)};
      }
      case MacStyle::BitSerial: {
        // Stripes / Loom: the multiply law at the actual widths plus one accumulator add per
        // serial step (each step's partial product is shift-added into the accumulator).
        MIXPREC_CHECK(mac.serial_bits_per_cycle >= 1, "serial_bits_per_cycle");
        const std::int64_t serial = mac.serial_operand == SerialOperand::Both ? std::int64_t(bw) * ba : ba;
        const double steps = double(laws::ceil_div(serial, mac.serial_bits_per_cycle));
        return {p.int_mult(bw, ba), steps * p.int_add(acc_bits)};
      }
    }
    throw InternalError("unknown MAC style");
  }

  // Lookup table for narrow integers; piecewise linear (256 segments) otherwise.
  double compute_sigmoid(const Operand& x) const {
    const int b = storage_bits(x);
    MIXPREC_CHECK(b >= 1, "nonlinear operand width " + std::to_string(b));
    if (!x.is_float() && b <= lut_index_bits) {
      double capacity_kib = std::ldexp(1.0, b) * b / 8.0 / 1024.0;
      return laws::word_access_pj(sram_row_pj(capacity_kib), sram_row_bits, b);
    }
    double capacity_kib = std::ldexp(1.0, lut_index_bits) * 2.0 * b / 8.0 / 1024.0;
    return laws::word_access_pj(sram_row_pj(capacity_kib), sram_row_bits, 2 * b) + multiply(x, x) +
           add_op(x);
  }
};

EnergyModel EnergyModel::from_hardware(const HardwareSpec& hw, const std::string& scenario_file) {
  return build(hw, scenario_file, false);
}

// want_cites: also collect the citation of every entry read. Formatting them costs more than the
// rest of the construction, so models are built without and citations() rebuilds with them.
EnergyModel EnergyModel::build(const HardwareSpec& hw, const std::string& scenario_file, bool want_cites) {
  auto table = resolve_table(hw.energy, scenario_file);
  const EnergyTable& t = *table;

  auto f_table = t.technology_factor(t.node_nm);
  MIXPREC_CHECK(f_table.has_value(), "table node outside its technology list");
  auto f_hw = t.technology_factor(hw.technology_nm);
  if (!f_hw)
    throw SpecError(scenario_file, "/hardware/technology_nm",
                    "a technology node in [" + std::to_string(t.technology_min_nm()) + ", " +
                        std::to_string(t.technology_max_nm()) + "] nm (the technology scaling range of energy table \"" +
                        t.name + "\")",
                    std::to_string(hw.technology_nm));

  EnergyModel m;
  m.table_ = table;
  m.hierarchy_ = hw.energy.hierarchy;
  m.tech_scale_ = *f_hw / *f_table;
  const double tech = m.tech_scale_;

  auto p = std::make_shared<Precomputed>();
  p->scenario_file = scenario_file;
  p->hw = hw;
  p->table_name = t.name;
  std::vector<std::string>& cites = p->citations;

  // --- integer arithmetic -------------------------------------------------------------------
  for (const auto& e : t.int_multiply) {
    p->mult_anchors.push_back({double(e.bits) * e.bits, e.pj});
    if (want_cites) cites.push_back(cite("int multiply " + std::to_string(e.bits) + "x" + std::to_string(e.bits) + " bit = " +
                             num(e.pj) + " pJ",
                         e.from));
  }
  for (const auto& e : t.int_add) {
    p->add_anchors.push_back({double(e.bits), e.pj});
    if (want_cites) cites.push_back(cite("int add " + std::to_string(e.bits) + " bit = " + num(e.pj) + " pJ", e.from));
  }
  // Monotone envelopes at the table node: a value is capped by every wider one. They depend on
  // the anchors only, so they are computed once per distinct anchor set (a sweep builds
  // thousands of models from one table).
  using Anchors = std::vector<std::pair<double, double>>;
  auto key_of = [](const std::vector<laws::Anchor>& a) {
    Anchors k;
    for (const auto& x : a) k.emplace_back(x.size, x.pj);
    return k;
  };
  static std::mutex env_mu;
  static std::map<std::pair<Anchors, Anchors>, std::pair<std::vector<double>, std::vector<double>>> env_cache;
  std::vector<double> mult_env, add_env;
  {
    const auto key = std::make_pair(key_of(p->mult_anchors), key_of(p->add_anchors));
    std::lock_guard<std::mutex> lock(env_mu);
    auto it = env_cache.find(key);
    if (it == env_cache.end()) {
      std::vector<double> me(std::size_t(kStride) * kStride, 0.0);
      const double inf = std::numeric_limits<double>::infinity();
      for (int b = kMaxBits; b >= 1; --b)
        for (int c = kMaxBits; c >= 1; --c) {
          double v = p->raw_mult(double(b) * c);
          if (b < kMaxBits) v = std::min(v, me[std::size_t(b + 1) * kStride + c]);
          if (c < kMaxBits) v = std::min(v, me[std::size_t(b) * kStride + c + 1]);
          me[std::size_t(b) * kStride + c] = v;
        }
      std::vector<double> ae(kMaxAddBits + 1, inf);
      for (int b = kMaxAddBits; b >= 1; --b) {
        double v = p->raw_add(b);
        if (b < kMaxAddBits) v = std::min(v, ae[std::size_t(b + 1)]);
        ae[std::size_t(b)] = v;
      }
      if (env_cache.size() > 64) env_cache.clear();
      it = env_cache.emplace(key, std::make_pair(std::move(me), std::move(ae))).first;
    }
    mult_env = it->second.first;
    add_env = it->second.second;
  }
  // Envelopes at the table node first (int_scale 1): the composable overhead and a user MAC
  // calibration are computed on them, then everything is scaled.
  p->mult = std::move(mult_env);
  add_env[0] = 0;
  p->add = std::move(add_env);
  p->int_scale = 1.0;

  // --- composable overhead ----------------------------------------------------------------
  bool has_r1 = false;
  for (const auto& o : t.composable_overhead) has_r1 |= o.fused_bits == o.brick_bits;
  if (!has_r1) p->overhead.push_back({1.0, 1.0});  // a fixed-precision cell has no fusion logic
  for (const auto& o : t.composable_overhead) p->overhead.push_back({double(o.fused_bits) / o.brick_bits, o.factor});
  if (p->overhead.size() >= 2) {
    const auto& a = p->overhead[p->overhead.size() - 2];
    const auto& b = p->overhead.back();
    p->overhead_exponent = std::log(b.y / a.y) / std::log(b.x / a.x);  // continues the last segment
  }
  const MacSpec& mac = hw.pe_array.mac;
  if (mac.style == MacStyle::Composable) {
    MIXPREC_CHECK(mac.brick_bits >= 1 && mac.fused_bits >= mac.brick_bits, "composable MAC geometry");
    p->cached_overhead = laws::loglog_interpolate(p->overhead, double(mac.fused_bits) / mac.brick_bits,
                                                  p->overhead_exponent);
    p->cached_fused = mac.fused_bits;
    p->cached_brick = mac.brick_bits;
    for (const auto& o : t.composable_overhead)
      if (want_cites) cites.push_back(cite("composable MAC overhead, fused " + std::to_string(o.fused_bits) + " / brick " +
                               std::to_string(o.brick_bits) + " bit = " + num(o.factor) + "x",
                           o.from));
  }

  double calibration = 1.0;
  if (const auto& mc = t.components.mac) {
    // A user MAC energy is one MAC of this design's PE (its MAC style) at the stated widths.
    // It calibrates all integer arithmetic by one factor, which keeps the laws' shape and
    // reproduces the given energy at the given widths.
    const double law = p->mac(Operand{NumFormat::Int, mc->bits_w}, Operand{NumFormat::Int, mc->bits_a},
                              mc->acc_bits, hw.pe_array.mac)
                           .total_pj();
    calibration = mc->pj / law;
    if (want_cites) cites.push_back(cite("mac " + std::to_string(mc->bits_w) + "x" + std::to_string(mc->bits_a) + " bit into " +
                             std::to_string(mc->acc_bits) + " bit = " + num(mc->pj) + " pJ (user component)",
                         mc->from));
  }
  p->int_scale = tech * calibration;
  for (double& v : p->mult) v *= p->int_scale;
  for (double& v : p->add) v *= p->int_scale;
  p->mac16 = p->int_mult(16, 16) + p->int_add(16);

  // --- floats -------------------------------------------------------------------------------
  struct F {
    NumFormat f;
    const ValueEntry* mul;
    const ValueEntry* add;
    const char* name;
  };
  for (F f : {F{NumFormat::Fp16, &t.fp16_multiply, &t.fp16_add, "fp16"},
              F{NumFormat::Bf16, &t.bf16_multiply, &t.bf16_add, "bf16"},
              F{NumFormat::Fp32, &t.fp32_multiply, &t.fp32_add, "fp32"}}) {
    p->fmul[fmt_index(f.f)] = f.mul->value * tech;
    p->fadd[fmt_index(f.f)] = f.add->value * tech;
    if (want_cites) cites.push_back(cite(std::string(f.name) + " multiply = " + num(f.mul->value) + " pJ", f.mul->from));
    if (want_cites) cites.push_back(cite(std::string(f.name) + " add = " + num(f.add->value) + " pJ", f.add->from));
  }

  // --- SRAM and on-chip levels --------------------------------------------------------------
  for (const auto& sp : t.sram_points) {
    p->sram.push_back({sp.size_kib, sp.pj * tech});
    if (want_cites) cites.push_back(cite("SRAM " + num(sp.size_kib) + " KiB, " + std::to_string(t.sram_row_bits) +
                             "-bit access = " + num(sp.pj) + " pJ",
                         sp.from));
  }
  p->sram_exponent = std::log2(t.sram_ratio_per_doubling.value);
  p->sram_row_bits = t.sram_row_bits;
  if (want_cites) cites.push_back(cite("SRAM energy per capacity doubling outside the table = " +
                           num(t.sram_ratio_per_doubling.value) + "x",
                       t.sram_ratio_per_doubling.from));
  p->eyeriss = hw.energy.hierarchy == MemoryHierarchyModel::Eyeriss;
  p->eyeriss_buffer_per_bit = t.eyeriss_global_buffer.value * p->mac16 / 16.0;
  p->eyeriss_dram_per_bit = t.eyeriss_dram.value * p->mac16 / 16.0;
  p->rf_per_bit = t.eyeriss_register_file.value * p->mac16 / 16.0;
  p->interconnect_per_bit = t.eyeriss_interconnect.value * p->mac16 / 16.0;
  if (want_cites) cites.push_back(cite("register file = " + num(t.eyeriss_register_file.value) + "x a 16-bit MAC",
                       t.eyeriss_register_file.from));
  if (want_cites) cites.push_back(cite("inter-PE network = " + num(t.eyeriss_interconnect.value) + "x a 16-bit MAC",
                       t.eyeriss_interconnect.from));
  if (p->eyeriss) {
    if (want_cites) cites.push_back(cite("global buffer = " + num(t.eyeriss_global_buffer.value) + "x a 16-bit MAC",
                         t.eyeriss_global_buffer.from));
    if (want_cites) cites.push_back(cite("DRAM = " + num(t.eyeriss_dram.value) + "x a 16-bit MAC", t.eyeriss_dram.from));
  }
  const std::array<const BufferSpec*, 3> specs{&hw.weight_buffer, &hw.input_buffer, &hw.output_buffer};
  const std::array<const std::optional<BufferComponent>*, 3> comps{
      &t.components.weight_buffer, &t.components.input_buffer, &t.components.output_buffer};
  const char* buffer_names[3] = {"weight buffer", "input buffer", "output buffer"};
  for (std::size_t i = 0; i < 3; ++i) {
    const BufferSpec& b = *specs[i];
    p->buffer_cache[i] = {b.size_kib, b.row_bits, p->sram_row_pj(b.size_kib) * b.row_bits / t.sram_row_bits};
    if (const auto& c = *comps[i]) {
      p->buffer_comp[i] = {true, c->read_pj * tech / c->word_bits, c->write_pj * tech / c->word_bits};
      if (want_cites) cites.push_back(cite(std::string(buffer_names[i]) + " " + std::to_string(c->word_bits) + "-bit read/write = " +
                               num(c->read_pj) + "/" + num(c->write_pj) + " pJ (user component)",
                           c->from));
    }
  }
  if (const auto& c = t.components.register_file) {
    p->rf_per_bit = c->pj * tech / c->word_bits;
    if (want_cites) cites.push_back(cite("register file " + std::to_string(c->word_bits) + "-bit access = " + num(c->pj) +
                             " pJ (user component)",
                         c->from));
  }
  if (const auto& c = t.components.interconnect) {
    p->interconnect_per_bit = c->pj * tech / c->word_bits;
    if (want_cites) cites.push_back(cite("interconnect " + std::to_string(c->word_bits) + "-bit hop = " + num(c->pj) +
                             " pJ (user component)",
                         c->from));
  }

  // --- DRAM -----------------------------------------------------------------------------------
  for (const auto& k : t.dram) p->kinds.emplace_back(k.kind, k.pj_per_bit);
  if (const auto& c = t.components.dram) {
    p->dram_component = c->pj_per_bit;
    if (want_cites) cites.push_back(cite("DRAM = " + num(c->pj_per_bit) + " pJ/bit (user component)", c->from));
  }
  if (const DramKind* k = t.find_dram(hw.dram.kind)) {
    p->cached_kind = k->kind;
    p->cached_kind_pj = k->pj_per_bit;
    if (!hw.dram.energy_pj_per_bit && !p->dram_component && !p->eyeriss)
      if (want_cites) cites.push_back(cite("DRAM " + k->kind + " = " + num(k->pj_per_bit) + " pJ/bit", k->from));
  } else if (!hw.dram.energy_pj_per_bit && !p->dram_component && !p->eyeriss) {
    std::vector<std::string> names;
    for (const auto& k2 : t.dram) names.push_back(k2.kind);
    throw SpecError(scenario_file, "/hardware/dram/kind",
                    "a DRAM kind of energy table \"" + t.name + "\" (" + quoted_list(names) + ")" +
                        did_you_mean(hw.dram.kind, names) + ", or \"energy_pj_per_bit\"",
                    "\"" + hw.dram.kind + "\"");
  }

  // --- nonlinear ------------------------------------------------------------------------------
  p->lut_index_bits = t.lut_index_bits;
  p->sigmoid_int.assign(kMaxBits + 1, 0.0);
  for (int b = 1; b <= kMaxBits; ++b) p->sigmoid_int[std::size_t(b)] = p->compute_sigmoid(Operand{NumFormat::Int, b});
  for (NumFormat f : {NumFormat::Fp16, NumFormat::Bf16, NumFormat::Fp32})
    p->sigmoid_float[fmt_index(f)] = p->compute_sigmoid(Operand{f, float_format_bits(f)});
  if (want_cites) cites.push_back(cite("sigmoid/tanh via a " + std::to_string(1 << t.lut_index_bits) + "-entry table",
                       t.nonlinear_from));

  // --- technology -----------------------------------------------------------------------------
  if (hw.technology_nm != t.node_nm) {
    for (const auto& n : t.technology)
      if (want_cites) cites.push_back(cite("technology factor " + std::to_string(n.nm) + " nm = " + num(n.factor), n.from));
  }

  std::vector<std::string> unique;
  for (auto& c : cites)
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(std::move(c));
  cites = std::move(unique);

  m.pre_ = std::move(p);
  return m;
}

const std::string& EnergyModel::table_name() const { return table_->name; }
int EnergyModel::table_node_nm() const { return table_->node_nm; }
double EnergyModel::technology_scale() const { return tech_scale_; }

MacEnergy EnergyModel::mac(const Operand& w, const Operand& a, int acc_bits, const MacSpec& mac) const {
  return pre_->mac(w, a, acc_bits, mac);
}

double EnergyModel::multiply_pj(const Operand& w, const Operand& a) const { return pre_->multiply(w, a); }

double EnergyModel::add_pj(const Operand& x) const { return pre_->add_op(x); }

double EnergyModel::buffer_access_pj(BufferId id, const BufferSpec& buf, int word_bits, bool write) const {
  const Precomputed& p = *pre_;
  MIXPREC_CHECK(word_bits >= 1 && buf.row_bits >= 1, "buffer word/row width");
  const std::size_t i = static_cast<std::size_t>(id);
  const auto& comp = p.buffer_comp[i];
  if (comp.set) {
    const double per_bit = write ? comp.write_per_bit : comp.read_per_bit;
    return laws::word_access_pj(per_bit * buf.row_bits, buf.row_bits, word_bits);
  }
  if (p.eyeriss) return p.eyeriss_buffer_per_bit * word_bits;
  const auto& c = p.buffer_cache[i];
  const double row_pj = (c.size_kib == buf.size_kib && c.row_bits == buf.row_bits)
                            ? c.row_pj
                            : p.sram_row_pj(buf.size_kib) * buf.row_bits / p.sram_row_bits;
  return laws::word_access_pj(row_pj, buf.row_bits, word_bits);
}

double EnergyModel::register_file_pj(int word_bits) const {
  MIXPREC_CHECK(word_bits >= 1, "register file word width");
  return pre_->rf_per_bit * word_bits;
}

double EnergyModel::interconnect_pj(int word_bits) const {
  MIXPREC_CHECK(word_bits >= 1, "interconnect word width");
  return pre_->interconnect_per_bit * word_bits;
}

double EnergyModel::dram_pj_per_bit(const DramSpec& dram) const {
  const Precomputed& p = *pre_;
  if (dram.energy_pj_per_bit) return *dram.energy_pj_per_bit;
  if (p.dram_component) return *p.dram_component;
  if (p.eyeriss) return p.eyeriss_dram_per_bit;
  if (equal_ci(dram.kind, p.cached_kind)) return p.cached_kind_pj;
  for (const auto& [kind, pj] : p.kinds)
    if (equal_ci(dram.kind, kind)) return pj;
  std::vector<std::string> names;
  for (const auto& k : p.kinds) names.push_back(k.first);
  throw SpecError(p.scenario_file, "/hardware/dram/kind",
                  "a DRAM kind of energy table \"" + p.table_name + "\" (" + quoted_list(names) + ")" +
                      did_you_mean(dram.kind, names) + ", or \"energy_pj_per_bit\"",
                  "\"" + dram.kind + "\"");
}

double EnergyModel::nonlinear_pj(NonlinearOp op, const Operand& x) const {
  const Precomputed& p = *pre_;
  switch (op) {
    case NonlinearOp::Sigmoid:
    case NonlinearOp::Tanh: return p.sigmoid(x);
    case NonlinearOp::Multiply: return p.multiply(x, x);
    case NonlinearOp::Add: return p.add_op(x);
  }
  throw InternalError("unknown nonlinear op");
}

double EnergyModel::mac16_pj() const { return pre_->mac16; }

std::vector<std::string> EnergyModel::citations() const {
  return build(pre_->hw, pre_->scenario_file, true).pre_->citations;
}

double products_per_cycle(const MacSpec& mac, const Operand& w, const Operand& a) {
  // Floats occupy the array like integers of their storage width.
  const int bw = storage_bits(w), ba = storage_bits(a);
  MIXPREC_CHECK(bw >= 1 && ba >= 1, "operand widths " + std::to_string(bw) + " x " + std::to_string(ba));
  switch (mac.style) {
    case MacStyle::BitParallel: {
      MIXPREC_CHECK(mac.native_bits >= 1, "native_bits");
      return 1.0 / double(laws::ceil_div(bw, mac.native_bits) * laws::ceil_div(ba, mac.native_bits));
    }
    case MacStyle::Composable: {
      // Per operand: within the fused width, a product takes ceil(b / brick) bricks of the
      // fused_bits/brick_bits bricks per side, and floor(side / bricks) products fit (a product
      // does not straddle two fusion units): 16 at 2x2, 4 at 4x4, 4 at 2x8, 1 at 8x8 for
      // 2-bit bricks fused to 8. Wider operands take ceil(b / fused) passes.
      MIXPREC_CHECK(mac.brick_bits >= 1 && mac.fused_bits >= mac.brick_bits, "composable MAC geometry");
      const int side = mac.fused_bits / mac.brick_bits;
      auto per_operand = [&](int b) {
        if (b <= mac.fused_bits) return double(side / laws::ceil_div(b, mac.brick_bits));
        return 1.0 / double(laws::ceil_div(b, mac.fused_bits));
      };
      return per_operand(bw) * per_operand(ba);
    }
    case MacStyle::BitSerial: {
      // Stripes: activations serial, ceil(ba / s) steps; Loom: both, ceil(bw x ba / s) steps.
      MIXPREC_CHECK(mac.serial_bits_per_cycle >= 1, "serial_bits_per_cycle");
      const std::int64_t serial = mac.serial_operand == SerialOperand::Both ? std::int64_t(bw) * ba : ba;
      return 1.0 / double(laws::ceil_div(serial, mac.serial_bits_per_cycle));
    }
  }
  throw InternalError("unknown MAC style");
}

int accumulator_bits(const Operand& w, const Operand& a, std::int64_t reduction_length) {
  MIXPREC_CHECK(reduction_length >= 1, "reduction length " + std::to_string(reduction_length));
  if (w.is_float() || a.is_float()) return 32;  // fp16/bf16/fp32 accumulate in fp32
  return w.bits + a.bits + laws::ceil_log2(reduction_length);
}

std::vector<std::string> shipped_tables() { return shipped_table_names(); }

}  // namespace mixprec::energy
