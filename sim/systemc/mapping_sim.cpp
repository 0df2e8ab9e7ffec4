#include "sim/systemc/mapping_sim.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/errors.hpp"
#include "sim/analytical.hpp"
#include "sim/hierarchy.hpp"
#include "sim/pricer.hpp"
#include "sim/workload.hpp"

namespace mixprec::sim::systemc {

namespace {

using i64 = std::int64_t;

double diff_percent(double sim, double ref) { return ref == 0 ? (sim == 0 ? 0 : 100) : 100.0 * (sim - ref) / ref; }

// Every per-level, per-tensor count of the simulation against the analysis of the same mapping.
// A hand-over's accesses (simulated at the input buffer) are counted where the analysis, which
// knows nothing of hand-overs, has them: the input's level-0 reads, the output's level-0 updates.
void compare_counts(const nest::Problem& p, const nest::Architecture& a, const NestSimResult& s, const nest::Result& r,
                    const NestSimOptions& opt, NestAgreement& out, i64& compared) {
  for (int l = 0; l < r.n_levels; ++l)
    for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
      const nest::DataspaceStats& ref = r.levels[std::size_t(l)].ds[d];
      NestSimCounts got = s.levels[std::size_t(l)].ds[d];
      if (l == 0 && int(d) == opt.input_dataspace) got.reads += s.handover.reads;
      if (l == 0 && int(d) == opt.output_dataspace) got.updates += s.handover.writes;
      if (!ref.kept && !got.kept) continue;
      const std::string where = a.levels[std::size_t(l)].name + "/" + p.dataspaces[d].name;
      const std::pair<const char*, std::pair<i64, i64>> rows[] = {
          {"reads", {got.reads, ref.reads}}, {"fills", {got.fills, ref.fills}}, {"updates", {got.updates, ref.updates}}};
      for (const auto& [what, v] : rows) {
        ++compared;
        if (v.first != v.second)
          out.count_differences.push_back(where + " " + what + ": systemc " + std::to_string(v.first) + " vs mapping " +
                                          std::to_string(v.second));
      }
    }
}

std::string explain(const LayerAgreement& la) {
  std::ostringstream o;
  char buf[256];
  if (la.counts_differing > 0) {
    o << la.counts_differing << " of " << la.counts_compared << " access counts differ (";
    for (const NestAgreement& n : la.nests)
      if (!n.count_differences.empty()) {
        o << n.count_differences.front();
        break;
      }
    o << ")";
  }
  if (std::abs(la.cycles_diff_percent) >= 0.1 && !la.nests.empty()) {
    if (o.tellp() > 0) o << "; ";
    // The nest that moves the layer's cycles most, and where its simulated time went.
    const NestAgreement* n = &la.nests.front();
    for (const NestAgreement& x : la.nests)
      if (std::abs(x.sim.cycles - x.cycles_mapping) * double(x.repeats) >
          std::abs(n->sim.cycles - n->cycles_mapping) * double(n->repeats))
        n = &x;
    std::snprintf(buf, sizeof buf, "cycles %+.2f%% (%s: %.0f vs %.0f): ", la.cycles_diff_percent, n->pass.c_str(),
                  n->sim.cycles, n->cycles_mapping);
    o << buf;
    auto c = [](double x) { return std::to_string(std::llround(x)); };
    if (n->sim.cycles < n->cycles_mapping) {
      o << "the analysis adds the first tiles' load and the DRAM latency in full to max(compute, transfers); the "
           "simulation overlaps them with the first epochs";
    } else {
      o << "bound " << n->bound << " (" << c(n->bound_cycles)
        << " cycles in the analysis, overlapped with everything else); simulated: " << c(n->sim.prologue_cycles)
        << " before the first MAC (first tiles, DRAM latency), " << c(n->sim.port_wait_cycles)
        << " waiting for on-chip ports (the bound's own transfers included; transfers due within their "
           "double-buffer windows: operands the MACs read, fills of single-buffered levels, ports shared with DMA "
           "fills), "
        << c(n->sim.load_wait_cycles)
        << " for level-0 loads (into a single-buffered level only after the epoch before; channel shared with "
           "write-backs), "
        << c(n->sim.epilogue_cycles)
        << " for the last write-back";
    }
  }
  if (std::abs(la.energy_diff_percent) >= 0.1 && la.counts_differing == 0) {
    if (o.tellp() > 0) o << "; ";
    std::snprintf(buf, sizeof buf, "energy %+.2f%%: ", la.energy_diff_percent);
    o << buf << "equal access counts; static energy and leakage follow the simulated time";
  }
  return o.str();
}

struct Priced {
  NetworkCost cost;
  std::vector<LayerAgreement> agreement;
};

Priced price(const Scenario& sc, const std::vector<LayerPrecision>& precision, const energy::EnergyModel& em,
             MappingEngine& engine, NetworkCost* mapping_cost) {
  const HardwareSpec& hw = sc.hardware;
  std::vector<std::vector<NestMapping>> maps;
  NetworkCost mc = engine.network_cost(sc.net, precision, sc.phase, &maps);
  const AnalyticalEngine side(hw, em);
  const double pes = double(hw.pe_array.rows) * hw.pe_array.cols;
  const nest::StorageLevel ib = template_buffer_level(hw, em, Tensor::Inputs);
  // The hand-overs on chip (the mapping engine's decision, an input here): per layer, whether its
  // output goes to the input buffer and the stored bits of each input read there.
  std::vector<bool> out_on_chip(sc.net.layers.size(), false);
  std::vector<std::vector<Operand>> in_on_chip(sc.net.layers.size());  // each stored operand
  for (const HandoverOutcome& h : mc.handovers)
    if (h.on_chip) {
      out_on_chip[std::size_t(h.producer)] = true;
      in_on_chip[std::size_t(h.consumer)].push_back(precision[std::size_t(h.producer)].outputs());
    }
  Priced out;
  for (std::size_t li = 0; li < sc.net.layers.size(); ++li) {
    LayerWork work = derive_work(sc.net, int(li), precision[li], sc.phase, &hw);
    const Layer& layer = sc.net.layers[li];
    const Operand act = precision[li].activations();
    // The re-quantized values (stored at an operand other than the layer's activation operand),
    // priced on the nonlinear unit by finish_layer (handover_streams).
    i64 requant_values = 0;
    MIXPREC_CHECK(work.gemms.size() == maps[li].size(), "one priced nest per GEMM of the layer");
    const LayerCost& ref = mc.layers[li];
    LayerCost lc;
    lc.name = ref.name;
    lc.kind = ref.kind;
    lc.precision = ref.precision;
    lc.tiling = ref.tiling;
    LayerAgreement la;
    la.name = ref.name;
    double step_cycles = 0, parallel_cycles = 0, ideal = 0;
    for (std::size_t i = 0; i < maps[li].size(); ++i) {
      const NestMapping& nm = maps[li][i];
      const GemmOp& g = work.gemms[i];
      const nest::Problem& prob = nm.result.problem;
      NestSimOptions opt;
      opt.file = sc.file;
      opt.cycles_per_mac = double(mac_slowdown(hw.pe_array.mac, g.b, g.a));
      opt.dram_latency_cycles = side.dram_latency_cycles();
      // A hand-over: nest 0 reads the layer's input (conv, linear, LSTM/GRU input projection) and,
      // for conv and linear, writes its output; the simulation moves them at the input buffer.
      const int in_stored = i == 0 && layer.has_weights() && !in_on_chip[li].empty() ? in_on_chip[li].front().bits : 0;
      const bool out_here = i == 0 && out_on_chip[li] && (layer.kind == LayerKind::Conv2d || layer.kind == LayerKind::Linear);
      if (in_stored > 0 || out_here) {
        opt.handover_level = kLevelInputBuffer;
        for (std::size_t d = 0; d < prob.dataspaces.size(); ++d) {
          const Tensor t = tensor_of(prob, int(d));
          if (t == Tensor::Inputs && in_stored > 0) {
            opt.input_dataspace = int(d);
            opt.input_stored_bits = in_stored;
          } else if (t == Tensor::Outputs && out_here) {
            opt.output_dataspace = int(d);
          }
        }
      }
      // Only the problem, the architecture, the mapping (and the hand-over) reach the simulation.
      NestAgreement na;
      na.pass = nm.pass;
      na.repeats = nm.repeats;
      na.sim = simulate_nest(prob, nm.arch, nm.result.mapping, opt);
      const NestSimResult& s = na.sim;
      const double reps = double(nm.repeats);
      if (opt.handover_level >= 0) {
        // The hand-over's accesses as simulated: input-buffer traffic at the stored bits.
        lc.buffer[std::size_t(Tensor::Inputs)].add_reads(s.handover.reads * nm.repeats, s.handover.read_bits);
        lc.buffer[std::size_t(Tensor::Inputs)].add_writes(s.handover.writes * nm.repeats, s.handover.write_bits);
        if (in_stored > 0 && in_on_chip[li].front() != act) requant_values += s.handover.reads * nm.repeats;
      }
      lc.macs += s.macs * nm.repeats;
      lc.compute_cycles += s.compute_cycles * reps;
      (g.repeats > 1 ? step_cycles : parallel_cycles) += s.cycles * reps;
      ideal += double(g.macs()) / (pes * energy::products_per_cycle(hw.pe_array.mac, g.b, g.a));
      lc.energy_pj[std::size_t(Component::Mac)] += s.compute_energy_pj * reps;
      for (int lv = 0; lv < s.n_levels; ++lv) {
        const NestSimLevel& sl = s.levels[std::size_t(lv)];
        lc.energy_pj[std::size_t(component_of_level(lv))] += (sl.energy_pj - sl.leak_pj) * reps;
        for (std::size_t d = 0; d < prob.dataspaces.size(); ++d) {
          const NestSimCounts& c = sl.ds[d];
          if (!c.kept) continue;
          const Tensor t = tensor_of(prob, int(d));
          const i64 inst = std::max<i64>(1, c.instances) * nm.repeats;
          const int bits = held_bits(nm.arch, prob, lv, int(d));
          Traffic tr;
          tr.add_reads(c.reads * inst, bits);
          tr.add_writes((c.fills + c.updates) * inst, bits);
          if (lv == kLevelDram) lc.dram[std::size_t(t)] += tr;
          else if (lv == buffer_level_of(t)) lc.buffer[std::size_t(t)] += tr;
          else if (lv == kLevelPeRegisters) lc.register_file_accesses += (c.reads + c.fills + c.updates) * inst;
        }
      }
      // The mapping engine's cycles of this nest (what it adds per nest, sim/mapping_engine.cpp;
      // re-timed with the hand-over as it re-times it), for the report only.
      const nest::Result& r = nm.result.result;
      NestHandover nh;
      if (opt.handover_level >= 0) {
        ResidentSides rs;
        rs.output = out_here;
        rs.inputs = in_stored > 0 ? 1 : 0;
        rs.input_stored_bits = in_stored;
        nh = nest_handover(layer, precision[li], prob, nm.arch, r, reps, rs);
      }
      na.cycles_mapping = nest_cycles(prob, nm.arch, r, opt.cycles_per_mac, side.dram_latency_cycles(),
                                      opt.handover_level >= 0 ? &nh : nullptr, engine.timing());
      na.bound = "compute";
      na.bound_cycles = s.compute_cycles;
      for (int lv = 0; lv < s.n_levels; ++lv)
        if (s.levels[std::size_t(lv)].transfer_cycles > na.bound_cycles) {
          na.bound = nm.arch.levels[std::size_t(lv)].name + " bandwidth";
          na.bound_cycles = s.levels[std::size_t(lv)].transfer_cycles;
        }
      compare_counts(prob, nm.arch, s, r, opt, na, la.counts_compared);
      la.counts_differing += i64(na.count_differences.size());
      la.prologue_cycles += s.prologue_cycles * reps;
      la.epilogue_cycles += s.epilogue_cycles * reps;
      la.port_wait_cycles += s.port_wait_cycles * reps;
      la.load_wait_cycles += s.load_wait_cycles * reps;
      la.nests.push_back(std::move(na));
    }
    // The hand-over's streamed part (pool, add, elementwise inputs; LSTM/GRU, pool, add,
    // elementwise, concat outputs): out of the DRAM streams, into the input buffer.
    if (out_on_chip[li] || !in_on_chip[li].empty()) {
      ResidentSides rs;
      rs.output = out_on_chip[li];
      rs.inputs = int(in_on_chip[li].size());
      const bool streamed_in = !layer.has_weights();
      if (streamed_in)
        for (const Operand& stored : in_on_chip[li]) {
          const int b = stored.bits;
          const i64 v = streamed_input_values(layer);
          rs.onchip_read_bits += v * b;
          lc.buffer[std::size_t(Tensor::Inputs)].add_reads(v, b);
          lc.energy_pj[std::size_t(Component::InputBuffer)] +=
              nest::vector_accesses(v, std::max(1, ib.block_bits / b)) * ib.read_pj;
          if (stored != act) requant_values += v;
        }
      rs.requant_ops = requant_values;
      const OnChipStreams st = handover_streams(work, layer, precision[li], rs, ib);
      if (st.writes > 0) {
        const int b = precision[li].outputs().bits;
        lc.buffer[std::size_t(Tensor::Inputs)].add_writes(st.writes, b);
        lc.energy_pj[std::size_t(Component::InputBuffer)] +=
            nest::vector_accesses(st.writes, std::max(1, ib.block_bits / b)) * ib.write_pj;
      }
    }
    side.finish_layer(lc, work, parallel_cycles, step_cycles, ideal);
    lc.energy_pj[std::size_t(Component::Static)] = static_energy_pj(hw, lc.cycles);
    la.energy_mapping_pj = ref.energy_total_pj();
    la.energy_systemc_pj = lc.energy_total_pj();
    la.energy_diff_percent = diff_percent(la.energy_systemc_pj, la.energy_mapping_pj);
    la.cycles_mapping = ref.cycles;
    la.cycles_systemc = lc.cycles;
    la.cycles_diff_percent = diff_percent(lc.cycles, ref.cycles);
    la.why = explain(la);
    out.cost.layers.push_back(std::move(lc));
    out.agreement.push_back(std::move(la));
  }
  finalize(out.cost, hw.clock_mhz);
  if (mapping_cost) *mapping_cost = std::move(mc);
  return out;
}

}  // namespace

MappingSimResult simulate_mapping_systemc(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                                          bool baselines) {
  MIXPREC_CHECK(precision.size() == sc.net.layers.size(), "one precision per layer");
  if (sc.hardware.kind != HardwareKind::Asic)
    throw SpecError(sc.file, "/hardware/kind",
                    "\"asic\" (the SystemC engine over mappings simulates the systolic-array template's hierarchy)",
                    "\"fpga\"");
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  MappingEngine engine(sc.hardware, em, sc.file, objective_of(sc.cost_model.objective));
  engine.set_residency(sc.cost_model.residency);
  engine.set_timing(sc.cost_model.timing);  // the comparison's side; the simulation does not use it
  MappingSimResult r;
  r.result.engine = "systemc-mapping";
  r.mapping.engine = "mapping";
  const auto t0 = std::chrono::steady_clock::now();
  Priced p = price(sc, precision, em, engine, &r.mapping.cost);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.result.cost = std::move(p.cost);
  r.layers = std::move(p.agreement);
  if (baselines)
    for (const Baseline& b : standard_baselines()) {
      std::vector<LayerPrecision> uni(sc.net.layers.size(), b.precision);
      const Priced c = price(sc, uni, em, engine, nullptr);
      r.result.baselines.push_back(BaselineResult{b.name, c.cost.energy_uj, c.cost.latency_ms});
    }
  return r;
}

std::string agreement_to_table(const MappingSimResult& r) {
  std::ostringstream o;
  char buf[512];
  o << "agreement with the mapping engine (same mappings; bounds: energy " << kMappingEnergyBoundPercent
    << "%, cycles " << kMappingCyclesBoundPercent << "%):\n";
  std::snprintf(buf, sizeof buf, "%-18s %14s %14s %8s %12s %12s %8s %9s\n", "layer", "energy map uJ", "energy sc uJ",
                "diff %", "cycles map", "cycles sc", "diff %", "counts");
  o << buf;
  for (const LayerAgreement& l : r.layers) {
    std::snprintf(buf, sizeof buf, "%-18s %14.4f %14.4f %+8.3f %12.0f %12.0f %+8.2f %4lld/%-4lld\n", l.name.c_str(),
                  l.energy_mapping_pj * 1e-6, l.energy_systemc_pj * 1e-6, l.energy_diff_percent, l.cycles_mapping,
                  l.cycles_systemc, l.cycles_diff_percent, (long long)(l.counts_compared - l.counts_differing),
                  (long long)l.counts_compared);
    o << buf;
  }
  const NetworkCost& a = r.mapping.cost;
  const NetworkCost& b = r.result.cost;
  std::snprintf(buf, sizeof buf, "%-18s %14.4f %14.4f %+8.3f %12.0f %12.0f %+8.2f\n", "total", a.energy_uj, b.energy_uj,
                diff_percent(b.energy_uj, a.energy_uj), a.cycles, b.cycles, diff_percent(b.cycles, a.cycles));
  o << buf;
  bool any = false;
  for (const LayerAgreement& l : r.layers)
    if (!l.why.empty()) {
      if (!any) o << "why they differ:\n";
      any = true;
      o << "  " << l.name << ": " << l.why << "\n";
    }
  if (!any) o << "every layer agrees within 0.1%; every access count is equal\n";
  return o.str();
}

nlohmann::json agreement_to_json(const MappingSimResult& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerAgreement& l : r.layers) {
    nlohmann::json nests = nlohmann::json::array();
    for (const NestAgreement& n : l.nests)
      nests.push_back({{"pass", n.pass},
                       {"repeats", n.repeats},
                       {"cycles_systemc", n.sim.cycles},
                       {"cycles_mapping", n.cycles_mapping},
                       {"bound", n.bound},
                       {"bound_cycles", n.bound_cycles},
                       {"epochs", n.sim.epochs},
                       {"transactions", n.sim.transactions},
                       {"tile_steps", n.sim.tile_steps},
                       {"compute_cycles", n.sim.compute_cycles},
                       {"level_transfer_cycles", [&] {
                          nlohmann::json a = nlohmann::json::array();
                          for (int lv = 0; lv < n.sim.n_levels; ++lv)
                            a.push_back({n.sim.levels[std::size_t(lv)].transfer_cycles, n.sim.levels[std::size_t(lv)].busy_cycles});
                          return a;
                        }()},
                       {"prologue_cycles", n.sim.prologue_cycles},
                       {"epilogue_cycles", n.sim.epilogue_cycles},
                       {"port_wait_cycles", n.sim.port_wait_cycles},
                       {"load_wait_cycles", n.sim.load_wait_cycles},
                       {"count_differences", n.count_differences}});
    layers.push_back({{"layer", l.name},
                      {"energy_mapping_uj", l.energy_mapping_pj * 1e-6},
                      {"energy_systemc_uj", l.energy_systemc_pj * 1e-6},
                      {"energy_diff_percent", l.energy_diff_percent},
                      {"cycles_mapping", l.cycles_mapping},
                      {"cycles_systemc", l.cycles_systemc},
                      {"cycles_diff_percent", l.cycles_diff_percent},
                      {"counts_compared", l.counts_compared},
                      {"counts_differing", l.counts_differing},
                      {"prologue_cycles", l.prologue_cycles},
                      {"epilogue_cycles", l.epilogue_cycles},
                      {"port_wait_cycles", l.port_wait_cycles},
                      {"load_wait_cycles", l.load_wait_cycles},
                      {"why", l.why},
                      {"nests", nests}});
  }
  return {{"bounds_percent", {{"energy", kMappingEnergyBoundPercent}, {"cycles", kMappingCyclesBoundPercent}}},
          {"total",
           {{"energy_mapping_uj", r.mapping.cost.energy_uj},
            {"energy_systemc_uj", r.result.cost.energy_uj},
            {"cycles_mapping", r.mapping.cost.cycles},
            {"cycles_systemc", r.result.cost.cycles}}},
          {"layers", layers}};
}

}  // namespace mixprec::sim::systemc
