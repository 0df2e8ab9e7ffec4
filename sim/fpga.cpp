#include "sim/fpga.hpp"

#include <algorithm>
#include <cctype>

#include "core/errors.hpp"

namespace mixprec::sim::fpga {

namespace {

using i64 = std::int64_t;

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

constexpr std::size_t kW = static_cast<std::size_t>(Tensor::Weights);
constexpr std::size_t kI = static_cast<std::size_t>(Tensor::Inputs);
constexpr std::size_t kO = static_cast<std::size_t>(Tensor::Outputs);

// Cycles of `products` serial products on one unit.
i64 product_cycles(i64 products, int cpp, bool pipelined) {
  if (products <= 0) return 0;
  return pipelined ? products + cpp - 1 : products * cpp;
}

}  // namespace

bool Activity::operator==(const Activity& o) const {
  return macs == o.macs && weight_reads == o.weight_reads && state_reads == o.state_reads &&
         state_writes == o.state_writes && lut_lookups == o.lut_lookups && ew_macs == o.ew_macs &&
         ew_multiplies == o.ew_multiplies;
}

Schedule schedule(const FpgaSpec& spec, const Network& net, const std::string& file) {
  Schedule s;
  const FpgaDesignSpec& d = spec.design;
  s.shape = fpga_lstm_shape(net, file);
  s.units = std::min(d.mac_units, 4);
  s.rounds = int(ceil_div(4, s.units));
  s.cycles_per_product = d.cycles_per_product;
  s.pipelined = d.pipelined;
  s.overlap = d.overlap_elementwise;
  s.lut_entries = d.activation_lut_entries;
  s.control = d.control;
  s.products = i64(s.shape.inputs) + s.shape.hidden;
  s.gate_cycles = product_cycles(s.products, d.cycles_per_product, d.pipelined);
  // A job: accumulator clear + bias preload, then the unit's gates in turn.
  s.job_cycles = d.control.job_cycles + s.rounds * s.gate_cycles + i64(s.rounds - 1) * d.control.gate_switch_cycles;
  const i64 L = d.lut_lookup_cycles, m = d.elementwise_multipliers;
  s.ew_cycles = L + ceil_div(2, m) + L + 1;
  s.last_h_fetch = d.control.job_cycles + (d.pipelined ? s.products - 1 : (s.products - 1) * d.cycles_per_product);
  s.input_load_cycles = i64(s.shape.steps) * s.shape.inputs * d.control.input_load_cycles_per_word;
  for (int h : s.shape.head_layers) {
    const Layer& l = net.layers[size_t(h)];
    Schedule::Head hd;
    hd.layer = h;
    hd.inputs = l.in.c;
    hd.outputs = l.out_features;
    hd.cycles = d.control.head_cycles +
                ceil_div(hd.outputs, s.units) * product_cycles(hd.inputs, d.cycles_per_product, d.pipelined);
    s.heads.push_back(hd);
  }
  return s;
}

std::vector<Activity> analytical_activity(const Schedule& s, const Network& net) {
  std::vector<Activity> out(net.layers.size());
  const i64 B = s.shape.batch, T = s.shape.steps, H = s.shape.hidden, I = s.shape.inputs, P = s.products;
  const i64 jobs = T * H;
  Activity& a = out[size_t(s.shape.lstm_layer)];
  a.macs = B * jobs * 4 * P;
  a.weight_reads = a.macs + B * jobs * 4;          // products + bias preloads
  a.state_reads = B * jobs * P + B * jobs;         // broadcast operands + c
  a.state_writes = B * T * I + 2 * B * jobs;       // x window + h and c
  a.lut_lookups = 5 * B * jobs;                    // i, f, g, o, tanh(c)
  a.ew_macs = 2 * B * jobs;                        // f c, + i g
  a.ew_multiplies = B * jobs;                      // o tanh(c)
  const i64 G = s.job_cycles, E = s.ew_cycles, F = s.last_h_fetch;
  const i64 S = s.control.step_cycles;
  i64 per_sample;
  if (s.overlap && G >= E)
    // MAC-bound: the element-wise unit keeps up. Each step starts with S control cycles; its
    // first job fetches h_{t-1}[H-1] F cycles after it starts and stalls if the element-wise
    // unit (E cycles behind the last job of the previous step) has not written it yet.
    per_sample = T * S + jobs * G + E + (T - 1) * std::max<i64>(0, E - S - F);
  else if (s.overlap)
    // Element-wise-bound: it works back to back; at a step boundary it idles until the step's
    // first job is done: that job waits for h_{t-1}[H-1] (then G - F cycles to go), or, if the
    // step's control cycles end later, starts S cycles after the MAC units handed over the
    // previous step's last job (2 E before the element-wise unit finishes it).
    per_sample = S + G + jobs * E + (T - 1) * std::max<i64>(G - F, S + G - 2 * E);
  else
    per_sample = T * S + jobs * (G + E);
  // Before the first step: the host's start handshake and the input window's load.
  per_sample += s.control.host_handshake_cycles + s.input_load_cycles;
  a.cycles = double(B * per_sample);
  a.busy_cycles = double(B * jobs * s.rounds * s.gate_cycles);
  a.stall_cycles = a.cycles - a.busy_cycles;
  for (const Schedule::Head& hd : s.heads) {
    Activity& h = out[size_t(hd.layer)];
    h.macs = B * hd.outputs * hd.inputs;
    h.weight_reads = h.macs + B * hd.outputs;
    h.state_reads = B * ceil_div(hd.outputs, s.units) * hd.inputs;
    h.state_writes = B * hd.outputs;
    h.cycles = double(B * hd.cycles);
    h.busy_cycles = h.cycles;
  }
  return out;
}

std::vector<LayerPower> layer_power(const FpgaSpec& spec, double clock_mhz, const energy::FpgaPowerModel& pm,
                                    const Network& net, const std::vector<LayerPrecision>& precision,
                                    const std::vector<Activity>& activity) {
  MIXPREC_CHECK(activity.size() == net.layers.size() && precision.size() == net.layers.size(),
                "fpga price: one activity and one precision per layer");
  const FpgaLstmShape shape = fpga_lstm_shape(net, "");
  const FpgaDesignSpec& d = spec.design;
  const double luts = d.used.luts, ffs = d.used.ffs;
  // Per clock cycle, whatever the datapath does: clock tree, logic, routing, I/O pins.
  const double clocks_pj = pm.clocks_pj_per_cycle(ffs), logic_pj = pm.logic_pj_per_cycle(luts),
               signals_pj = pm.signals_pj_per_cycle(luts, ffs), io_pj = pm.io_pj_per_cycle(d.io_pins);
  const double managers_mw = pm.mmcm_mw(d.mmcm) + pm.pll_mw(d.pll);
  std::vector<LayerPower> out(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Activity& a = activity[i];
    const LayerPrecision& p = precision[i];
    LayerPower& lp = out[i];
    const double us = a.cycles / clock_mhz;
    lp.static_pj = pm.static_mw() * us * 1e3;  // mW x us = nJ
    lp.mmcm_pll = managers_mw * us * 1e3;
    lp.clocks = a.cycles * clocks_pj;
    lp.logic = a.cycles * logic_pj;
    lp.signals = a.cycles * signals_pj;
    lp.io = a.cycles * io_pj;
    if (net.layers[i].kind == LayerKind::Lstm) {
      const double I = shape.inputs, H = shape.hidden, P = I + H;
      const int wbits = std::max(p.weight_bits, p.recurrent_weight_bits);
      const double x_share = I / P;
      lp.dsp_products = double(a.macs) * (x_share * pm.dsp_op_pj(p.weight_bits, p.activation_bits) +
                                          (1 - x_share) * pm.dsp_op_pj(p.recurrent_weight_bits, p.activation_bits));
      lp.bram_weights = double(a.weight_reads) * pm.bram_access_pj(wbits);
      // State reads: operands (x and h at the activation width) and one c per element-wise job;
      // writes: the input window, h and c.
      const double c_reads = double(a.ew_multiplies), c_writes = c_reads, h_writes = c_reads;
      const double x_writes = double(a.state_writes) - c_writes - h_writes;
      lp.bram_state_reads = (double(a.state_reads) - c_reads) * pm.bram_access_pj(p.activation_bits) +
                            c_reads * pm.bram_access_pj(p.cell_state_bits);
      lp.bram_state_writes = (x_writes + h_writes) * pm.bram_access_pj(p.activation_bits) +
                             c_writes * pm.bram_access_pj(p.cell_state_bits);
      // f c + i g on the element-wise multiplier (two operations), o tanh(c) (one). The table
      // lookups are LUT-ROMs: part of the logic above.
      lp.dsp_elementwise = double(a.ew_macs) * pm.dsp_op_pj(p.gate_bits, p.cell_state_bits) +
                           double(a.ew_multiplies) * pm.dsp_op_pj(p.gate_bits, p.gate_bits);
    } else {
      lp.dsp_products = double(a.macs) * pm.dsp_op_pj(p.weight_bits, p.activation_bits);
      lp.bram_weights = double(a.weight_reads) * pm.bram_access_pj(p.weight_bits);
      lp.bram_state_reads = double(a.state_reads) * pm.bram_access_pj(p.activation_bits);
      lp.bram_state_writes = double(a.state_writes) * pm.bram_access_pj(p.output_bits);
    }
  }
  return out;
}

NetworkCost price(const FpgaSpec& spec, double clock_mhz, const energy::FpgaPowerModel& pm,
                  const Network& net, const std::vector<LayerPrecision>& precision,
                  const std::vector<Activity>& activity) {
  using C = Component;
  const std::vector<LayerPower> power = layer_power(spec, clock_mhz, pm, net, precision, activity);
  const int units = std::min(spec.design.mac_units, 4);
  NetworkCost nc;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& l = net.layers[i];
    const Activity& a = activity[i];
    const LayerPrecision& p = precision[i];
    const LayerPower& lp = power[i];
    LayerCost lc;
    lc.name = l.name;
    lc.kind = l.kind;
    lc.precision = p;
    lc.macs = a.macs;
    lc.nonlinear_ops = a.lut_lookups + a.ew_macs + a.ew_multiplies;
    lc.cycles = a.cycles;
    lc.compute_cycles = a.busy_cycles;
    lc.stalls.recurrent_cycles = a.stall_cycles;
    // Peak: `units` products every cycles_per_product cycles (every cycle when pipelined).
    const double peak = double(units) / (spec.design.pipelined ? 1.0 : spec.design.cycles_per_product);
    lc.utilization = a.cycles > 0 ? double(a.macs) / (a.cycles * peak) : 0;
    const int wbits = l.kind == LayerKind::Lstm ? std::max(p.weight_bits, p.recurrent_weight_bits) : p.weight_bits;
    lc.buffer[kW].add_reads(a.weight_reads, wbits);
    lc.buffer[kI].add_reads(a.state_reads, p.activation_bits);
    lc.buffer[kO].add_writes(a.state_writes, l.kind == LayerKind::Lstm ? p.activation_bits : p.output_bits);
    auto& e = lc.energy_pj;
    e[size_t(C::Mac)] = lp.dsp_products;
    e[size_t(C::Nonlinear)] = lp.dsp_elementwise;
    e[size_t(C::WeightBuffer)] = lp.bram_weights;
    e[size_t(C::InputBuffer)] = lp.bram_state_reads;
    e[size_t(C::OutputBuffer)] = lp.bram_state_writes;
    e[size_t(C::Interconnect)] = lp.logic + lp.signals + lp.io;
    e[size_t(C::RegisterFile)] = lp.clocks + lp.mmcm_pll;
    e[size_t(C::Static)] = lp.static_pj;
    nc.layers.push_back(lc);
  }
  finalize(nc, clock_mhz);
  return nc;
}

Prepared prepare(const Scenario& sc, const std::vector<LayerPrecision>& precision) {
  MIXPREC_CHECK(sc.hardware.kind == HardwareKind::Fpga, "fpga engine on a non-fpga scenario");
  MIXPREC_CHECK(precision.size() == sc.net.layers.size(), "one precision per layer");
  FpgaSpec spec = sc.hardware.fpga;
  check_fpga_design(spec, sc.net, precision, sc.file);
  Schedule s = schedule(spec, sc.net, sc.file);
  energy::FpgaPowerModel pm = energy::FpgaPowerModel::from_spec(spec, sc.file);
  return Prepared{std::move(s), std::move(pm), std::move(spec)};
}

std::vector<std::pair<std::string, LayerPrecision>> baselines() {
  return {{"int8", LayerPrecision::uniform(NumFormat::Int, 8)},
          {"int16", LayerPrecision::uniform(NumFormat::Int, 16)}};
}

NetworkCost analytical_cost(const Scenario& sc, const std::vector<LayerPrecision>& precision) {
  const Prepared pr = prepare(sc, precision);
  return price(pr.spec, sc.hardware.clock_mhz, pr.power, sc.net, precision, analytical_activity(pr.sched, sc.net));
}

SimulationResult simulate_analytical(const Scenario& sc, const std::vector<LayerPrecision>& precision) {
  SimulationResult r;
  r.engine = "analytical";
  r.cost = analytical_cost(sc, precision);
  for (const auto& [name, p] : baselines()) {
    const NetworkCost c = analytical_cost(sc, std::vector<LayerPrecision>(sc.net.layers.size(), p));
    r.baselines.push_back(BaselineResult{name, c.energy_uj, c.latency_ms});
  }
  return r;
}

nlohmann::json fpga_json(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                         const NetworkCost& nc) {
  using nlohmann::json;
  const Prepared pr = prepare(sc, precision);
  const FpgaSpec& f = pr.spec;
  const FpgaNeeds needs = fpga_needs(f.design, pr.sched.shape, sc.net, precision);
  auto res = [](const FpgaResources& r) {
    return json{{"dsp48", r.dsp48}, {"bram_18k", r.bram_18k}, {"luts", r.luts}, {"ffs", r.ffs}};
  };
  json j;
  j["device"] = f.device.part;
  j["resources"] = {{"available", res(f.device.available)},
                    {"needed_by_architecture", res(needs.need)},
                    {"used", res(f.design.used)},
                    {"needed_detail", {{"dsp48", needs.detail_dsp}, {"bram_18k", needs.detail_bram}}}};
  const Schedule& s = pr.sched;
  json heads = json::array();
  for (const auto& h : s.heads)
    heads.push_back({{"layer", sc.net.layers[size_t(h.layer)].name}, {"cycles", h.cycles}});
  j["schedule"] = {{"mac_units_working", s.units},
                   {"gates_per_unit", s.rounds},
                   {"products_per_gate", s.products},
                   {"gate_cycles", s.gate_cycles},
                   {"job_cycles", s.job_cycles},
                   {"elementwise_cycles", s.ew_cycles},
                   {"jobs_per_sample", i64(s.shape.steps) * s.shape.hidden},
                   {"heads", heads}};
  // Average power by report_power's components over the inference (pJ / us = uW).
  std::vector<Activity> act;
  if (nc.layers.size() == sc.net.layers.size()) {
    // Re-derive the activity from the cost (both engines count the same events; cycles are the
    // engine's own).
    act = analytical_activity(s, sc.net);
    for (std::size_t i = 0; i < act.size(); ++i) act[i].cycles = nc.layers[i].cycles;
  }
  LayerPower sum;
  for (const LayerPower& lp : layer_power(f, sc.hardware.clock_mhz, pr.power, sc.net, precision, act)) {
    sum.static_pj += lp.static_pj;
    sum.clocks += lp.clocks;
    sum.mmcm_pll += lp.mmcm_pll;
    sum.logic += lp.logic;
    sum.signals += lp.signals;
    sum.io += lp.io;
    sum.bram_weights += lp.bram_weights;
    sum.bram_state_reads += lp.bram_state_reads;
    sum.bram_state_writes += lp.bram_state_writes;
    sum.dsp_products += lp.dsp_products;
    sum.dsp_elementwise += lp.dsp_elementwise;
  }
  const double us = nc.latency_ms * 1e3;
  auto mw = [&](double pj) { return us > 0 ? pj / us * 1e-3 : 0.0; };
  const double managers = pr.power.mmcm_mw(f.design.mmcm) + pr.power.pll_mw(f.design.pll);
  const double mmcm_share = managers > 0 ? pr.power.mmcm_mw(f.design.mmcm) / managers : 0;
  json comp = {{"clocks", mw(sum.clocks)},
               {"logic", mw(sum.logic)},
               {"signals", mw(sum.signals)},
               {"block_ram", mw(sum.bram_weights + sum.bram_state_reads + sum.bram_state_writes)},
               {"dsp", mw(sum.dsp_products + sum.dsp_elementwise)},
               {"mmcm", mw(sum.mmcm_pll) * mmcm_share},
               {"pll", mw(sum.mmcm_pll) * (1 - mmcm_share)},
               {"io", mw(sum.io)}};
  double dynamic = 0;
  for (const auto& kv : comp.items()) dynamic += kv.value().get<double>();
  j["power_mw"] = {{"device_static", mw(sum.static_pj)},
                   {"dynamic", dynamic},
                   {"dynamic_by_component", comp},
                   {"block_ram_detail", {{"weights", mw(sum.bram_weights)},
                                         {"state_reads", mw(sum.bram_state_reads)},
                                         {"state_writes", mw(sum.bram_state_writes)}}},
                   {"dsp_detail", {{"products", mw(sum.dsp_products)}, {"elementwise", mw(sum.dsp_elementwise)}}},
                   {"total_on_chip", nc.power_mw},
                   {"junction_c", f.power.junction_c}};
  const auto& t = pr.power.table();
  j["power_table"] = {{"name", t.name}, {"file", t.file}, {"toggle_rate", pr.power.toggle_rate()},
                      {"static_mw", pr.power.static_mw()}};
  j["schedule"]["control"] = {{"step_cycles", s.control.step_cycles},
                              {"job_cycles", s.control.job_cycles},
                              {"gate_switch_cycles", s.control.gate_switch_cycles},
                              {"input_load_cycles", s.input_load_cycles},
                              {"head_cycles", s.control.head_cycles},
                              {"host_handshake_cycles", s.control.host_handshake_cycles}};
  std::string part = f.device.part;
  for (char& ch : part) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = t.devices.find(part);
  if (!f.power.static_given && it != t.devices.end())
    j["power_table"]["static_source"] = it->second.source + "; " + it->second.derived;
  return j;
}

std::string power_text(const Scenario& sc, const std::vector<LayerPrecision>& precision, const NetworkCost& nc) {
  const nlohmann::json j = fpga_json(sc, precision, nc);
  const nlohmann::json& p = j.at("power_mw");
  const nlohmann::json& c = p.at("dynamic_by_component");
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line,
                "FPGA power as Vivado report_power lists it (mW, average over the inference; Tj %.1f C, toggle %.1f%%, "
                "table %s):\n",
                p.at("junction_c").get<double>(), 100.0 * j.at("power_table").at("toggle_rate").get<double>(),
                j.at("power_table").at("name").get<std::string>().c_str());
  out += line;
  std::snprintf(line, sizeof line, "  Total On-Chip %.2f = Device Static %.2f + Dynamic %.2f\n",
                p.at("total_on_chip").get<double>(), p.at("device_static").get<double>(), p.at("dynamic").get<double>());
  out += line;
  std::snprintf(line, sizeof line,
                "  Clocks %.2f | Slice Logic %.2f | Signals %.2f | Block RAM %.2f | DSPs %.2f | MMCM %.2f | PLL %.2f | "
                "I/O %.2f\n",
                c.at("clocks").get<double>(), c.at("logic").get<double>(), c.at("signals").get<double>(),
                c.at("block_ram").get<double>(), c.at("dsp").get<double>(), c.at("mmcm").get<double>(),
                c.at("pll").get<double>(), c.at("io").get<double>());
  out += line;
  return out;
}

}  // namespace mixprec::sim::fpga
