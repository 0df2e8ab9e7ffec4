#include "sim/cost_json.hpp"

#include <cstdio>
#include <sstream>

#include "core/scenario.hpp"
#include "sim/fpga.hpp"

namespace mixprec::sim {

using nlohmann::json;

std::string precision_label(const LayerPrecision& p, bool lstm) {
  if (p.format != NumFormat::Int) return to_string(p.format);
  std::string s = "w" + std::to_string(p.weight_bits) + "a" + std::to_string(p.activation_bits);
  if (lstm)
    s += " r" + std::to_string(p.recurrent_weight_bits) + " c" + std::to_string(p.cell_state_bits);
  return s;
}

static json traffic_json(const Traffic& t, bool words) {
  json j;
  if (words) {
    j["reads"] = t.reads;
    j["writes"] = t.writes;
  }
  j["read_bytes"] = double(t.read_bits) / 8.0;
  j["write_bytes"] = double(t.write_bits) / 8.0;
  return j;
}

static json energy_json(const std::array<double, kComponents>& e) {
  json j;
  double total = 0;
  for (double v : e) total += v;
  j["total"] = total;
  for (std::size_t c = 0; c < kComponents; ++c) j[to_string(Component(c))] = e[c];
  return j;
}

json layer_to_json(const LayerCost& lc, bool lstm) {
  json j;
  j["name"] = lc.name;
  j["kind"] = to_string(lc.kind);
  j["macs"] = lc.macs;
  j["bits"] = layer_precision_to_json(lc.precision, lstm);
  j["cycles"] = lc.cycles;
  j["compute_cycles"] = lc.compute_cycles;
  j["utilization"] = lc.utilization;
  j["nonlinear_ops"] = lc.nonlinear_ops;
  j["stall_cycles"] = {{"dram", lc.stalls.dram_stall_cycles},
                       {"fill_drain", lc.stalls.fill_drain_cycles},
                       {"recurrent", lc.stalls.recurrent_cycles},
                       {"contention", lc.stalls.contention_cycles}};
  j["tiling"] = {{"m", lc.tiling.m}, {"n", lc.tiling.n}, {"k", lc.tiling.k},
                 {"order", to_string(lc.tiling.order)}, {"tiles", lc.tiling.tiles}};
  json dram, buf;
  for (std::size_t t = 0; t < kTensors; ++t) {
    dram[to_string(Tensor(t))] = traffic_json(lc.dram[t], false);
  }
  buf["weight_buffer"] = traffic_json(lc.buffer[size_t(Tensor::Weights)], true);
  buf["input_buffer"] = traffic_json(lc.buffer[size_t(Tensor::Inputs)], true);
  buf["output_buffer"] = traffic_json(lc.buffer[size_t(Tensor::Outputs)], true);
  j["dram"] = dram;
  j["dram_bytes"] = lc.dram_bytes();
  j["buffers"] = buf;
  j["register_file_accesses"] = lc.register_file_accesses;
  j["interconnect_hops"] = lc.interconnect_hops;
  j["energy_pj"] = energy_json(lc.energy_pj);
  if (!lc.fits) j["error"] = lc.fail_reason;
  return j;
}

json total_to_json(const NetworkCost& nc) {
  json t;
  t["cycles"] = nc.cycles;
  t["latency_ms"] = nc.latency_ms;
  t["energy_uj"] = nc.energy_uj;
  t["power_mw"] = nc.power_mw;
  t["macs"] = nc.macs;
  t["dram_bytes"] = nc.dram_bytes;
  t["energy_pj"] = energy_json(nc.energy_pj);
  return t;
}

json handovers_to_json(const Network& net, const NetworkCost& nc) {
  json a = json::array();
  for (const HandoverOutcome& h : nc.handovers)
    a.push_back({{"producer", net.layers[std::size_t(h.producer)].name},
                 {"consumer", net.layers[std::size_t(h.consumer)].name},
                 {"input", h.slot},
                 {"on_chip", h.on_chip},
                 {"fits", h.fits},
                 {"stored_bits", h.stored_bits},
                 {"tensor_bits", h.tensor_bits},
                 {"share", h.share},
                 {"tile_bits", h.footprint_bits},
                 {"capacity_bits", h.capacity_bits},
                 {"requant_ops", h.requant_ops},
                 {"energy_delta_pj", h.delta_pj()}});
  return a;
}

std::string handovers_to_table(const Network& net, const NetworkCost& nc) {
  std::ostringstream s;
  char line[320];
  int on = 0;
  double saved = 0;
  for (const HandoverOutcome& h : nc.handovers) {
    on += h.on_chip ? 1 : 0;
    saved -= h.delta_pj();
  }
  std::snprintf(line, sizeof line, "hand-overs (residency chain): %d of %zu on chip, saving %.4f uJ of dynamic energy (the layers' cycles "
                "and static energy re-timed with them)\n",
                on, nc.handovers.size(), saved * 1e-6);
  s << line;
  std::snprintf(line, sizeof line, "  %-28s -> %-28s %-8s %5s %10s %10s %10s %12s\n", "producer", "consumer", "where",
                "bits", "kT+F kib", "cap kib", "requant", "saved uJ");
  s << line;
  for (const HandoverOutcome& h : nc.handovers) {
    std::snprintf(line, sizeof line, "  %-28s -> %-28s %-8s %5d %10.2f %10.2f %10lld %12.4f\n",
                  net.layers[std::size_t(h.producer)].name.c_str(), net.layers[std::size_t(h.consumer)].name.c_str(),
                  h.on_chip ? "on chip" : h.fits ? "DRAM(=)" : "DRAM", h.stored_bits,
                  double(h.share * h.tensor_bits + h.footprint_bits) / 8192.0, double(h.capacity_bits) / 8192.0,
                  static_cast<long long>(h.requant_ops), h.on_chip ? -h.delta_pj() * 1e-6 : 0.0);
    s << line;
  }
  return s.str();
}

json network_to_json(const Scenario& sc, const NetworkCost& nc,
                     const std::vector<BaselineResult>& baselines, const std::string& engine) {
  json j;
  j["scenario"] = sc.name;
  j["network"] = sc.net.name;
  j["hardware"] = sc.hardware.name;
  j["engine"] = engine;
  // The mapping engine's nest timing (cost_model.timing), where the figures use it.
  if (engine == "mapping" || engine == "systemc-mapping") j["timing"] = to_string(sc.cost_model.timing);
  j["phase"] = sc.phase == Phase::Training ? "training" : "inference";
  json layers = json::array();
  for (std::size_t i = 0; i < nc.layers.size(); ++i)
    layers.push_back(layer_to_json(nc.layers[i], is_recurrent(sc.net.layers[i].kind)));
  j["layers"] = layers;
  j["total"] = total_to_json(nc);
  if (sc.phase == Phase::Inference && nc.latency_ms > 0) {
    // A batch of `batch` samples per run: throughput and energy per sample.
    j["total"]["inferences_per_s"] = double(sc.net.batch) * 1e3 / nc.latency_ms;
    j["total"]["energy_per_inference_uj"] = nc.energy_uj / sc.net.batch;
  }
  if (sc.hardware.kind == HardwareKind::Fpga) {
    std::vector<LayerPrecision> precision;
    for (const auto& l : nc.layers) precision.push_back(l.precision);
    j["fpga"] = fpga::fpga_json(sc, precision, nc);
  }
  json b = json::object();
  for (const auto& r : baselines) {
    b[r.name] = {{"energy_uj", r.energy_uj},
                 {"latency_ms", r.latency_ms},
                 {"saving_percent", r.energy_uj > 0 ? 100.0 * (r.energy_uj - nc.energy_uj) / r.energy_uj : 0.0}};
  }
  j["baselines"] = b;
  if (sc.cost_model.residency != Residency::None) j["handovers"] = handovers_to_json(sc.net, nc);
  return j;
}

std::string network_to_csv(const Network& net, const NetworkCost& nc) {
  std::ostringstream s;
  s << "name,kind,bits,macs,cycles,utilization,dram_bytes";
  for (std::size_t c = 0; c < kComponents; ++c) s << ",energy_pj_" << to_string(Component(c));
  s << ",energy_pj_total\n";
  s.precision(10);
  for (std::size_t i = 0; i < nc.layers.size(); ++i) {
    const LayerCost& l = nc.layers[i];
    s << l.name << ',' << to_string(l.kind) << ','
      << precision_label(l.precision, is_recurrent(net.layers[i].kind)) << ',' << l.macs << ','
      << l.cycles << ',' << l.utilization << ',' << l.dram_bytes();
    for (double e : l.energy_pj) s << ',' << e;
    s << ',' << l.energy_total_pj() << '\n';
  }
  return s.str();
}

std::string network_to_table(const Scenario& sc, const NetworkCost& nc,
                             const std::vector<BaselineResult>& baselines, const std::string& engine) {
  std::ostringstream s;
  char line[256];
  s << "mixprec simulate: " << sc.name << " on " << sc.hardware.name << " (" << engine << ", ";
  if (engine == "mapping" || engine == "systemc-mapping") s << to_string(sc.cost_model.timing) << " timing, ";
  s << (sc.phase == Phase::Training ? "training" : "inference") << ")\n";
  std::snprintf(line, sizeof line, "%-34s %-18s %-14s %12s %12s %6s %10s %12s\n", "layer", "kind",
                "bits", "MACs", "cycles", "util%", "DRAM KiB", "energy uJ");
  s << line;
  for (std::size_t i = 0; i < nc.layers.size(); ++i) {
    const LayerCost& l = nc.layers[i];
    std::snprintf(line, sizeof line, "%-34s %-18s %-14s %12lld %12.0f %6.1f %10.1f %12.4f%s\n",
                  l.name.c_str(), to_string(l.kind),
                  precision_label(l.precision, is_recurrent(sc.net.layers[i].kind)).c_str(),
                  static_cast<long long>(l.macs), l.cycles, 100.0 * l.utilization,
                  l.dram_bytes() / 1024.0, l.energy_total_pj() * 1e-6, l.fits ? "" : "  (does not fit)");
    s << line;
  }
  std::snprintf(line, sizeof line, "%-34s %-18s %-14s %12lld %12.0f %6s %10.1f %12.4f\n", "total", "",
                "", static_cast<long long>(nc.macs), nc.cycles, "", nc.dram_bytes / 1024.0, nc.energy_uj);
  s << line;
  std::snprintf(line, sizeof line, "latency %.4f ms, energy %.4f uJ, average power %.2f mW\n",
                nc.latency_ms, nc.energy_uj, nc.power_mw);
  s << line << "energy by component (uJ):";
  for (std::size_t c = 0; c < kComponents; ++c) {
    std::snprintf(line, sizeof line, " %s %.4f", to_string(Component(c)), nc.energy_pj[c] * 1e-6);
    s << line << (c + 1 < kComponents ? "," : "\n");
  }
  if (sc.hardware.kind == HardwareKind::Fpga) {
    std::vector<LayerPrecision> precision;
    for (const auto& l : nc.layers) precision.push_back(l.precision);
    s << fpga::power_text(sc, precision, nc);
  }
  if (sc.cost_model.residency != Residency::None) s << handovers_to_table(sc.net, nc);
  for (const auto& b : baselines) {
    std::snprintf(line, sizeof line, "vs uniform %-5s: %10.4f uJ  -> saving %6.2f%%\n", b.name.c_str(),
                  b.energy_uj, b.energy_uj > 0 ? 100.0 * (b.energy_uj - nc.energy_uj) / b.energy_uj : 0.0);
    s << line;
  }
  return s.str();
}

}  // namespace mixprec::sim
