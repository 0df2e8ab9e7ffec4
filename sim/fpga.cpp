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
  s.products = i64(s.shape.inputs) + s.shape.hidden;
  s.gate_cycles = product_cycles(s.products, d.cycles_per_product, d.pipelined);
  s.job_cycles = s.rounds * s.gate_cycles;
  const i64 L = d.lut_lookup_cycles, m = d.elementwise_multipliers;
  s.ew_cycles = L + ceil_div(2, m) + L + 1;
  s.last_h_fetch = d.pipelined ? s.products - 1 : (s.products - 1) * d.cycles_per_product;
  for (int h : s.shape.head_layers) {
    const Layer& l = net.layers[size_t(h)];
    Schedule::Head hd;
    hd.layer = h;
    hd.inputs = l.in.c;
    hd.outputs = l.out_features;
    hd.cycles = ceil_div(hd.outputs, s.units) * product_cycles(hd.inputs, d.cycles_per_product, d.pipelined);
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
  const i64 G = s.job_cycles, E = s.ew_cycles;
  i64 per_sample;
  if (s.overlap && G >= E)
    // MAC-bound: the element-wise unit keeps up; a step boundary stalls the units only when
    // h_{t-1}[H-1] is written after the first job of step t wants it.
    per_sample = jobs * G + E + (T - 1) * std::max<i64>(0, E - s.last_h_fetch);
  else if (s.overlap)
    // Element-wise-bound: it works back to back; at a step boundary it waits for the first job
    // of the step, whose last products follow the fetch of h_{t-1}[H-1] by G - last_h_fetch.
    per_sample = G + jobs * E + (T - 1) * (G - s.last_h_fetch);
  else
    per_sample = jobs * (G + E);
  a.cycles = double(B * per_sample);
  a.busy_cycles = double(B * jobs * G);
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

NetworkCost price(const FpgaSpec& spec, double clock_mhz, const energy::FpgaPowerModel& pm,
                  const Network& net, const std::vector<LayerPrecision>& precision,
                  const std::vector<Activity>& activity) {
  using C = Component;
  MIXPREC_CHECK(activity.size() == net.layers.size() && precision.size() == net.layers.size(),
                "fpga price: one activity and one precision per layer");
  const FpgaLstmShape shape = fpga_lstm_shape(net, "");
  const FpgaResources& used = spec.design.used;
  const double logic_lut_pj = pm.logic_pj_per_cycle(used.luts, 0);
  const double logic_ff_pj = pm.logic_pj_per_cycle(0, used.ffs);
  const int units = std::min(spec.design.mac_units, 4);
  NetworkCost nc;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& l = net.layers[i];
    const Activity& a = activity[i];
    const LayerPrecision& p = precision[i];
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
    auto& e = lc.energy_pj;
    if (l.kind == LayerKind::Lstm) {
      const double I = shape.inputs, H = shape.hidden, P = I + H;
      const int wbits = std::max(p.weight_bits, p.recurrent_weight_bits);
      const double x_share = I / P;
      e[size_t(C::Mac)] = double(a.macs) * (x_share * pm.dsp_mac_pj(p.weight_bits, p.activation_bits) +
                                            (1 - x_share) * pm.dsp_mac_pj(p.recurrent_weight_bits, p.activation_bits));
      e[size_t(C::WeightBuffer)] = double(a.weight_reads) * pm.bram_pj(wbits, false);
      // State reads: operands (x and h at the activation width) and one c per element-wise job.
      const double c_reads = double(a.ew_multiplies);
      const double c_writes = double(a.ew_multiplies), h_writes = double(a.ew_multiplies);
      const double x_writes = double(a.state_writes) - c_writes - h_writes;
      e[size_t(C::InputBuffer)] = (double(a.state_reads) - c_reads) * pm.bram_pj(p.activation_bits, false) +
                                  c_reads * pm.bram_pj(p.cell_state_bits, false);
      e[size_t(C::OutputBuffer)] = x_writes * pm.bram_pj(p.activation_bits, true) +
                                   h_writes * pm.bram_pj(p.activation_bits, true) +
                                   c_writes * pm.bram_pj(p.cell_state_bits, true);
      e[size_t(C::Nonlinear)] = double(a.lut_lookups) * pm.lut_rom_pj(spec.design.activation_lut_entries, p.gate_bits) +
                                double(a.ew_macs) * pm.dsp_mac_pj(p.gate_bits, p.cell_state_bits) +
                                double(a.ew_multiplies) * pm.dsp_multiply_pj(p.gate_bits, p.gate_bits);
      lc.buffer[kW].add_reads(a.weight_reads, wbits);
      lc.buffer[kI].add_reads(a.state_reads, p.activation_bits);
      lc.buffer[kO].add_writes(a.state_writes, p.activation_bits);
    } else {
      e[size_t(C::Mac)] = double(a.macs) * pm.dsp_mac_pj(p.weight_bits, p.activation_bits);
      e[size_t(C::WeightBuffer)] = double(a.weight_reads) * pm.bram_pj(p.weight_bits, false);
      e[size_t(C::InputBuffer)] = double(a.state_reads) * pm.bram_pj(p.activation_bits, false);
      e[size_t(C::OutputBuffer)] = double(a.state_writes) * pm.bram_pj(p.output_bits, true);
      lc.buffer[kW].add_reads(a.weight_reads, p.weight_bits);
      lc.buffer[kI].add_reads(a.state_reads, p.activation_bits);
      lc.buffer[kO].add_writes(a.state_writes, p.output_bits);
    }
    e[size_t(C::Interconnect)] = a.cycles * logic_lut_pj;
    e[size_t(C::RegisterFile)] = a.cycles * logic_ff_pj;
    e[size_t(C::Static)] = pm.static_mw() * a.cycles / clock_mhz * 1e3;  // mW x us = nJ
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
  // Average power by resource over the inference (mW = pJ / ns ... uJ / ms).
  const double ms = nc.latency_ms;
  auto mw = [&](Component c) { return ms > 0 ? nc.energy_pj[size_t(c)] * 1e-6 / ms : 0.0; };
  j["power_mw"] = {{"static", mw(Component::Static)},
                   {"dsp_mac", mw(Component::Mac)},
                   {"elementwise_and_lut_tables", mw(Component::Nonlinear)},
                   {"bram_weights", mw(Component::WeightBuffer)},
                   {"bram_state", mw(Component::InputBuffer) + mw(Component::OutputBuffer)},
                   {"lut_logic", mw(Component::Interconnect)},
                   {"flip_flops", mw(Component::RegisterFile)},
                   {"total", nc.power_mw}};
  const auto& t = pr.power.table();
  j["power_table"] = {{"name", t.name}, {"file", t.file}, {"toggle_rate", pr.power.toggle_rate()},
                      {"static_mw", pr.power.static_mw()}};
  std::string part = f.device.part;
  for (char& ch : part) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = t.devices.find(part);
  if (!f.power.static_given && it != t.devices.end())
    j["power_table"]["static_source"] = it->second.source + "; " + it->second.derived;
  return j;
}

}  // namespace mixprec::sim::fpga
