#include "core/fpga.hpp"

#include "core/fpga_parse.hpp"

#include <algorithm>

#include "core/errors.hpp"

namespace mixprec {

namespace {

const Range kAtLeast1{1.0, std::nullopt, std::nullopt};
const Range kNonNeg{0.0, std::nullopt, std::nullopt};

// One 18 Kb block RAM (7-series: 18,432 bits including the parity bits, usable as data at
// widths of 9, 18 and 36 bits; UG473).
constexpr std::int64_t kBram18Bits = 18432;
// DSP48E1 multiplier: 25 x 18 bits two's complement (UG479).
constexpr int kDspA = 25, kDspB = 18;

std::string dirname_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? std::string(".") : path.substr(0, pos == 0 ? 1 : pos);
}

FpgaMemory parse_memory(ObjectReader& r, const std::string& key, const std::string& dflt) {
  return r.choice_or(key, dflt, {"rom", "dual_port_ram"}) == "rom" ? FpgaMemory::Rom
                                                                    : FpgaMemory::DualPortRam;
}

std::int64_t bram18_for(std::int64_t words, int bits) {
  // A port narrower than 9 bits still occupies a whole 18 Kb RAM; widths round up to 9/18/36.
  const int port = bits <= 9 ? 9 : bits <= 18 ? 18 : 36;
  return std::max<std::int64_t>(1, (words * port + kBram18Bits - 1) / kBram18Bits);
}

}  // namespace

const char* to_string(FpgaMemory m) { return m == FpgaMemory::Rom ? "rom" : "dual_port_ram"; }

FpgaSpec parse_fpga_hardware(const json& v, const JsonCtx& ctx, const std::string& scenario_path,
                             std::string& name, double& clock_mhz) {
  ObjectReader r(v, ctx, "/hardware");
  r.choice("kind", {"asic", "fpga"});
  FpgaSpec f;
  name = r.string_or("name", "fpga");
  clock_mhz = r.number("clock_mhz", Range{std::nullopt, 1000.0, 0.0});
  {
    ObjectReader d(r.object("device"), ctx, "/hardware/device");
    f.device.part = d.string("part");
    if (f.device.part.empty()) d.fail("part", "a device part name (e.g. \"xc7s15\")", "\"\"");
    f.device.available.dsp48 = d.integer("dsp48", kAtLeast1);
    // Block RAM as 36 Kb blocks (data sheets count these) or as 18 Kb halves, not both.
    if (d.has("bram_36k") == d.has("bram_18k"))
      d.fail_here("exactly one of \"bram_36k\" or \"bram_18k\"", d.has("bram_36k") ? "both" : "neither");
    if (d.has("bram_36k")) f.device.available.bram_18k = 2 * d.integer("bram_36k", kAtLeast1);
    if (d.has("bram_18k")) f.device.available.bram_18k = d.integer("bram_18k", kAtLeast1);
    f.device.available.luts = d.integer("luts", kAtLeast1);
    f.device.available.ffs = d.integer("ffs", kAtLeast1);
    d.finish({"bram_36k", "bram_18k"});
  }
  {
    ObjectReader d(r.object("design"), ctx, "/hardware/design");
    FpgaDesignSpec& g = f.design;
    g.mac_units = d.integer("mac_units", Range{1.0, 4096.0, std::nullopt});
    g.cycles_per_product = d.integer("cycles_per_product", Range{1.0, 64.0, std::nullopt});
    g.pipelined = d.boolean_or("pipelined", false);
    g.activation_lut_entries = d.integer_or("activation_lut_entries", 256, Range{2.0, 65536.0, std::nullopt});
    if ((g.activation_lut_entries & (g.activation_lut_entries - 1)) != 0)
      d.fail("activation_lut_entries", "a power of two (the table is addressed by the input's top bits)",
             std::to_string(g.activation_lut_entries));
    g.lut_lookup_cycles = d.integer_or("lut_lookup_cycles", 1, Range{1.0, 64.0, std::nullopt});
    g.elementwise_multipliers = d.integer_or("elementwise_multipliers", 1, Range{1.0, 64.0, std::nullopt});
    g.overlap_elementwise = d.boolean_or("overlap_elementwise", true);
    g.weights = parse_memory(d, "weights", "rom");
    g.state = parse_memory(d, "state", "dual_port_ram");
    if (g.state == FpgaMemory::Rom)
      d.fail("state", "\"dual_port_ram\" (the state is written every step)", "\"rom\"");
    {
      ObjectReader c(d.object("control"), ctx, "/hardware/design/control");
      const Range cycles{0.0, 1e6, std::nullopt};
      g.control.step_cycles = c.integer("step_cycles", cycles);
      g.control.job_cycles = c.integer("job_cycles", cycles);
      g.control.gate_switch_cycles = c.integer("gate_switch_cycles", cycles);
      g.control.input_load_cycles_per_word = c.integer("input_load_cycles_per_word", cycles);
      g.control.head_cycles = c.integer("head_cycles", cycles);
      g.control.host_handshake_cycles = c.integer("host_handshake_cycles", cycles);
      c.finish();
    }
    ObjectReader u(d.object("resources"), ctx, "/hardware/design/resources");
    const FpgaResources& dev = f.device.available;
    auto within = [&](const char* key, int used, int available, const char* what) {
      if (used > available)
        u.fail(key,
               "at most " + std::to_string(available) + " " + what + " (the device " + f.device.part +
                   " has " + std::to_string(available) + ")",
               std::to_string(used));
    };
    if (auto x = u.opt_integer("dsp48", kNonNeg)) {
      g.used.dsp48 = *x;
      g.dsp_given = true;
      within("dsp48", g.used.dsp48, dev.dsp48, "DSP48 slices");
    }
    if (u.has("bram_36k") && u.has("bram_18k"))
      u.fail("bram_18k", "either \"bram_36k\" or \"bram_18k\", not both", "both");
    if (auto x = u.opt_integer("bram_36k", kNonNeg)) {
      g.used.bram_18k = 2 * *x;
      g.bram_given = true;
      within("bram_36k", *x, dev.bram_18k / 2, "36 Kb block RAMs");
    }
    if (auto x = u.opt_integer("bram_18k", kNonNeg)) {
      g.used.bram_18k = *x;
      g.bram_given = true;
      within("bram_18k", *x, dev.bram_18k, "18 Kb block RAMs");
    }
    g.used.luts = u.integer("luts", kNonNeg);
    within("luts", g.used.luts, dev.luts, "LUTs");
    g.used.ffs = u.integer("ffs", kNonNeg);
    within("ffs", g.used.ffs, dev.ffs, "flip-flops");
    g.mmcm = u.integer_or("mmcm", 0, Range{0.0, 24.0, std::nullopt});
    g.pll = u.integer_or("pll", 0, Range{0.0, 24.0, std::nullopt});
    g.io_pins = u.integer_or("io_pins", 0, Range{0.0, 1200.0, std::nullopt});
    u.finish({"dsp48", "bram_36k", "bram_18k"});
    d.finish();
  }
  {
    static const json empty = json::object();
    ObjectReader p(r.has("power") ? r.object("power") : empty, ctx, "/hardware/power");
    f.power.table = p.string_or("table", "xilinx_7series_vivado");
    if (auto t = p.opt_number("toggle_rate", Range{std::nullopt, 1.0, 0.0})) {
      f.power.toggle_given = true;
      f.power.toggle_rate = *t;
    }
    f.power.junction_c = p.number_or("junction_c", 25.0, Range{-40.0, 125.0, std::nullopt});
    if (auto s = p.opt_number("static_mw", kNonNeg)) {
      f.power.static_given = true;
      f.power.static_mw = *s;
    }
    p.finish();
  }
  r.accept("power");
  f.power.table_path_base = dirname_of(scenario_path);
  r.finish({"kind", "name", "clock_mhz", "device", "design", "power"});
  return f;
}

FpgaLstmShape fpga_lstm_shape(const Network& net, const std::string& file) {
  FpgaLstmShape s;
  const std::string expected =
      "an LSTM layer followed by linear layers (the fpga template's datapath)";
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& l = net.layers[i];
    if (l.kind == LayerKind::Lstm) {
      if (s.lstm_layer >= 0)
        throw SpecError(file, "/network", expected, "a second LSTM layer \"" + l.name + "\"");
      if (l.bidirectional)
        throw SpecError(file, "/network", expected + ", unidirectional", "bidirectional \"" + l.name + "\"");
      if (l.return_sequences)
        throw SpecError(file, "/network", expected + " (the last hidden state feeds the head)",
                        "\"" + l.name + "\" returning its whole sequence");
      s.lstm_layer = int(i);
    } else if (l.kind == LayerKind::Linear && s.lstm_layer >= 0) {
      if (l.relu)
        throw SpecError(file, "/network", expected + " without ReLU", "\"" + l.name + "\" with ReLU");
      s.head_layers.push_back(int(i));
    } else {
      throw SpecError(file, "/network", expected,
                      std::string("layer \"") + l.name + "\" of kind " + to_string(l.kind));
    }
  }
  if (s.lstm_layer < 0) throw SpecError(file, "/network", expected, "no LSTM layer");
  const Layer& l = net.layers[size_t(s.lstm_layer)];
  s.inputs = l.in.c;
  s.hidden = l.hidden;
  s.steps = l.recurrent_steps();
  s.batch = l.in.n;
  return s;
}

FpgaNeeds fpga_needs(const FpgaDesignSpec& d, const FpgaLstmShape& s, const Network& net,
                     const std::vector<LayerPrecision>& precision) {
  FpgaNeeds n;
  const LayerPrecision& p = precision[size_t(s.lstm_layer)];
  const std::int64_t P = s.inputs + s.hidden, H = s.hidden;
  // Weight ROMs: each unit holds the weights of the gates it computes (4 / units, rounded up),
  // P x H products and H biases per gate; unit 0 also holds the head's weights and biases.
  const std::int64_t gates_per_unit = (4 + d.mac_units - 1) / d.mac_units;
  std::int64_t head_words = 0;
  int head_bits = 0;
  for (int h : s.head_layers) {
    const Layer& l = net.layers[size_t(h)];
    head_words += l.weight_count() + l.bias_count();
    head_bits = std::max(head_bits, precision[size_t(h)].weight_bits);
  }
  const int wbits = std::max({p.weight_bits, p.recurrent_weight_bits, head_bits});
  const std::int64_t unit_words = gates_per_unit * (P * H + H);
  n.weight_words_per_unit = unit_words + head_words;
  const int units_used = int(std::min<std::int64_t>(d.mac_units, 4));
  std::int64_t bram = bram18_for(unit_words + head_words, wbits) +
                      std::int64_t(units_used - 1) * bram18_for(unit_words, wbits);
  // State RAM (dual-port): the input window, h twice (the previous step's h is read while the
  // new one is written) and c.
  n.state_words = std::int64_t(s.steps) * s.inputs + 3 * H;
  const int sbits = std::max({p.activation_bits, p.cell_state_bits, p.output_bits});
  bram += bram18_for(n.state_words, sbits);
  n.need.bram_18k = int(bram);
  n.detail_bram = std::to_string(units_used) + " weight ROM(s) of " + std::to_string(unit_words) +
                  " words (unit 0 +" + std::to_string(head_words) + " head words) at " +
                  std::to_string(wbits) + " bits, and a state RAM of " + std::to_string(n.state_words) +
                  " words";
  n.need.dsp48 = d.mac_units + d.elementwise_multipliers;
  n.detail_dsp = std::to_string(d.mac_units) + " MAC unit(s) + " + std::to_string(d.elementwise_multipliers) +
                 " element-wise multiplier(s)";
  return n;
}

void check_fpga_design(FpgaSpec& spec, const Network& net, const std::vector<LayerPrecision>& precision,
                       const std::string& file) {
  const FpgaLstmShape s = fpga_lstm_shape(net, file);
  // Integer operands that one DSP48E1 multiplies (25 x 18 bits).
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const LayerPrecision& p = precision[i];
    const Layer& l = net.layers[i];
    if (p.format != NumFormat::Int)
      throw SpecError(file, "/precision",
                      "integer (fixed-point) formats on the fpga template",
                      "format \"" + std::string(to_string(p.format)) + "\" for layer \"" + l.name + "\"");
    const int w = std::max(p.weight_bits, l.kind == LayerKind::Lstm ? p.recurrent_weight_bits : 0);
    const int a = std::max(p.activation_bits, l.kind == LayerKind::Lstm ? p.cell_state_bits : 0);
    if (w > kDspB || a > kDspA)
      throw SpecError(file, "/precision",
                      "weights of at most 18 bits and activations / cell state of at most 25 bits (one DSP48E1 "
                      "multiplier, 25 x 18)",
                      std::to_string(w) + "-bit weights and " + std::to_string(a) + "-bit activations for layer \"" +
                          l.name + "\"");
  }
  FpgaDesignSpec& d = spec.design;
  const FpgaNeeds n = fpga_needs(d, s, net, precision);
  const FpgaResources& dev = spec.device.available;
  const std::string rp = d.pointer + "/resources";
  if (!d.dsp_given) d.used.dsp48 = n.need.dsp48;
  if (!d.bram_given) d.used.bram_18k = n.need.bram_18k;
  if (d.used.dsp48 < n.need.dsp48)
    throw SpecError(file, rp + "/dsp48",
                    "at least " + std::to_string(n.need.dsp48) + " DSP48 slices (" + n.detail_dsp + ")",
                    std::to_string(d.used.dsp48));
  if (d.used.bram_18k < n.need.bram_18k)
    throw SpecError(file, rp + (d.bram_given ? "/bram_18k" : ""),
                    "at least " + std::to_string(n.need.bram_18k) + " 18 Kb block RAMs (" + n.detail_bram + ")",
                    std::to_string(d.used.bram_18k));
  if (d.used.dsp48 > dev.dsp48)
    throw SpecError(file, rp + "/dsp48",
                    "at most " + std::to_string(dev.dsp48) + " DSP48 slices (the device " + spec.device.part +
                        " has " + std::to_string(dev.dsp48) + "; the architecture needs " +
                        std::to_string(n.need.dsp48) + ": " + n.detail_dsp + ")",
                    std::to_string(d.used.dsp48));
  if (d.used.bram_18k > dev.bram_18k)
    throw SpecError(file, rp + "/bram_18k",
                    "at most " + std::to_string(dev.bram_18k) + " 18 Kb block RAMs (the device " + spec.device.part +
                        " has " + std::to_string(dev.bram_18k) + "; the architecture needs " +
                        std::to_string(n.need.bram_18k) + ": " + n.detail_bram + ")",
                    std::to_string(d.used.bram_18k));
}

}  // namespace mixprec
