#include "sim/mapping_engine.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/errors.hpp"
#include "sim/hierarchy.hpp"
#include "sim/mapper/layer_problems.hpp"
#include "sim/nest/nest_json.hpp"
#include "sim/pricer.hpp"
#include "sim/residency.hpp"
#include "sim/workload.hpp"

namespace mixprec::sim {

namespace {

using i64 = std::int64_t;

// The dataflow as mapspace constraints (the classical systolic mappings, SCALE-Sim's):
// weight-stationary: each PE keeps its weights and loops in time only over dimensions that do
// not index them (the streamed outputs positions); the array's columns (mesh X) take output
// channels, its rows (mesh Y) the reduction. Output-stationary: each PE keeps its partial sums
// and loops in time only over the reduction; columns take output channels, rows output positions.
// With `steps_in_m` (the LSTM recurrence as M) M's whole factor is at the DRAM level, outermost
// there, so the steps stay sequential and on-chip weights serve every step.
nest::Constraints dataflow_constraints(const nest::Problem& p, const nest::Architecture& a,
                                       Dataflow df, bool steps_in_m) {
  nest::Constraints c = nest::unconstrained(a);
  const std::uint32_t w = mask_of(p, Tensor::Weights), o = mask_of(p, Tensor::Outputs);
  const bool ws = df == Dataflow::WeightStationary;
  nest::LevelConstraints& pe = c.levels[kLevelPeRegisters];
  nest::LevelConstraints& array = c.levels[kLevelOutputBuffer];  // its fan-out is the array
  pe.keep = ws ? w : o;
  for (std::size_t d = 0; d < p.dims.size(); ++d) {
    const std::uint32_t rel = nest::relevance(p, static_cast<int>(d));
    if (rel & (ws ? w : o)) pe.temporal[d].exact = 1;
    const bool out_channel = (rel & w) && (rel & o);
    const bool row_dim = ws ? !(rel & o) : ((rel & o) && !(rel & w));
    if (!out_channel) array.spatial_x[d].exact = 1;
    if (!row_dim) array.spatial_y[d].exact = 1;
  }
  if (steps_in_m) {
    const int m = p.dim_index("M");
    MIXPREC_CHECK(m >= 0, "recurrent nest without an M dimension");
    for (std::size_t l = 0; l < c.levels.size(); ++l) {
      if (l > 0) c.levels[l].temporal[std::size_t(m)].exact = 1;
      c.levels[l].spatial[std::size_t(m)].exact = 1;
    }
    c.levels[0].permutation_outer = {m};
  }
  return c;
}

// The on-chip tile in GEMM terms (what LayerCost::tiling reports): the extents inside the DRAM
// level's loops (conv: m = N x P x Q, n = K, k = C x R x S), the DRAM-level iterations, and whether
// the outermost DRAM loop runs over output channels (n_outer: the inputs' tile is refetched).
Tiling dram_tiling(const nest::Problem& p, const nest::Mapping& m) {
  const nest::LevelMapping& top = m.levels[0];
  auto inside = [&](const char* dim) -> i64 {
    const int d = p.dim_index(dim);
    return d < 0 ? 1 : p.bounds[std::size_t(d)] / top.temporal[std::size_t(d)];
  };
  const bool conv = p.dim_index("P") >= 0;
  Tiling t;
  t.m = conv ? inside("N") * inside("P") * inside("Q") : inside("M");
  t.n = conv ? inside("K") : inside("N");
  t.k = conv ? inside("C") * inside("R") * inside("S") : inside("K");
  t.tiles = 1;
  int outermost = -1;
  for (std::size_t i = 0; i < p.dims.size(); ++i) {
    const int d = top.permutation[i];  // innermost first
    t.tiles *= top.temporal[std::size_t(d)];
    if (top.temporal[std::size_t(d)] > 1) outermost = d;
  }
  // The outermost on-chip-tile loop: over output channels (N) keeps weight tiles outer; over the
  // reduction (K) keeps each weight tile while M streams; otherwise M is outer.
  const int n_dim = p.dim_index(conv ? "K" : "N");
  const int k_dim = conv ? p.dim_index("C") : p.dim_index("K");
  t.order = outermost >= 0 && outermost == n_dim   ? LoopOrder::NOuter
            : outermost >= 0 && outermost == k_dim ? LoopOrder::KOuter
                                                   : LoopOrder::MOuter;
  return t;
}

// The same constraints with every tensor kept in its own buffer level (no bypass of the template's
// SRAMs): a second mapspace the engine searches beside the first, so that the heuristic part of the
// mapper cannot miss the mappings that hold a reused operand on chip (the LSTM's recurrent weights
// across the steps). Empty optional when a buffer level does not exist.
nest::Constraints kept_in_buffers(nest::Constraints c, const nest::Problem& p) {
  c.levels[kLevelWeightBuffer].keep = mask_of(p, Tensor::Weights);
  c.levels[kLevelInputBuffer].keep = mask_of(p, Tensor::Inputs);
  c.levels[kLevelOutputBuffer].keep = mask_of(p, Tensor::Outputs);
  return c;
}

}  // namespace

// The hand-over record's nest part: nest 0 of a layer with GEMMs reads the layer's input (conv,
// linear: the forward GEMM; LSTM/GRU: the input projection) and, for conv and linear, writes its
// output; every nest's input tiles occupy the input buffer.
void MappingEngine::handover_from_nest(Handover& h, const Layer& l, std::size_t nest_index,
                                       const nest::Problem& prob, const nest::Architecture& arch,
                                       const nest::Result& res, std::int64_t repeats) const {
  std::int64_t tile_bits = 0;
  for (std::size_t d = 0; d < prob.dataspaces.size(); ++d) {
    const nest::DataspaceStats& ds = res.levels[kLevelInputBuffer].ds[d];
    if (ds.kept) tile_bits += ds.utilized_capacity * held_bits(arch, prob, kLevelInputBuffer, int(d));
  }
  h.in_tile_bits = std::max(h.in_tile_bits, tile_bits);
  if (nest_index != 0 || !consumes_handover(l)) return;
  for (std::size_t d = 0; d < prob.dataspaces.size(); ++d) {
    const nest::DataspaceStats& ds = res.levels[kLevelDram].ds[d];
    const Tensor t = tensor_of(prob, int(d));
    if (t == Tensor::Inputs) {
      h.can_consume = true;
      h.in_reads += ds.reads * std::max<std::int64_t>(1, ds.utilized_instances) * repeats;
      h.in_dram_pj += ds.energy_pj * double(repeats);
    } else if (t == Tensor::Outputs && (l.kind == LayerKind::Conv2d || l.kind == LayerKind::Linear)) {
      const nest::StorageLevel& dram = arch.levels[kLevelDram];
      const std::int64_t per_row = dram.block_bits / held_bits(arch, prob, kLevelDram, int(d));
      h.can_produce = true;
      h.out_values = l.out.elements();
      h.out_dram_pj = nest::vector_accesses(h.out_values, per_row) * dram.update_pj;
    }
  }
}

// The hand-over record's stream part (layers whose input or output moves as a stream,
// sim/workload.cpp: pool, add, elementwise, concat; the LSTM/GRU's hidden states out) and the
// operands.
void MappingEngine::handover_from_streams(Handover& h, const Layer& l, const LayerPrecision& p) const {
  h.out = p.outputs();
  h.in = p.activations();
  h.requant_pj = requant_pj(em_, h.in);
  if (produces_handover(l) && !h.can_produce) {
    h.can_produce = true;
    h.out_values = l.out.elements();
    h.out_dram_pj = side_.stream_dram_pj(h.out_values, h.out.bits);
  }
  if (consumes_handover(l) && !h.can_consume && !l.has_weights()) {
    h.can_consume = true;
    h.in_reads = streamed_input_values(l);
    h.in_dram_pj = side_.stream_dram_pj(h.in_reads, h.in.bits);
  }
}

NestHandover nest_handover(const Layer& l, const LayerPrecision& p, const nest::Problem& prob,
                           const nest::Architecture& arch, const nest::Result& res, double repeats,
                           const ResidentSides& s) {
  NestHandover nh;
  for (std::size_t d = 0; d < prob.dataspaces.size(); ++d) {
    const Tensor t = tensor_of(prob, int(d));
    const nest::DataspaceStats& ds = res.levels[kLevelDram].ds[d];
    const double bits = held_bits(arch, prob, kLevelDram, int(d));
    if (t == Tensor::Inputs && s.inputs > 0 && l.has_weights()) {
      nh.dram_read_bits = double(ds.reads) * bits;
      nh.ib_read_bits = double(ds.reads) * s.input_stored_bits;
      nh.input_on_chip = true;
    } else if (t == Tensor::Outputs && s.output && (l.kind == LayerKind::Conv2d || l.kind == LayerKind::Linear)) {
      // One execution's share of the layer's output (conv groups repeat the nest).
      const double values = double(l.out.elements()) / repeats;
      nh.dram_write_bits = values * bits;
      nh.ib_write_bits = values * p.outputs().bits;
    }
  }
  return nh;
}

// The streamed part of a hand-over's timing (sim/mapping_engine.hpp).
OnChipStreams handover_streams(LayerWork& w, const Layer& l, const LayerPrecision& p, const ResidentSides& s,
                               const nest::StorageLevel& ib) {
  const i64 in_reads = streamed_input_values(l);
  OnChipStreams out;
  bool in_done = s.inputs == 0 || l.has_weights(), out_done = !s.output || l.kind == LayerKind::Conv2d ||
                                                                  l.kind == LayerKind::Linear;
  double rd = 0, wr = 0;
  for (StreamTraffic& st : w.streams) {
    if (!st.dram) continue;
    if (!in_done && st.tensor == int(Tensor::Inputs) && st.read_words > 0) {
      st.read_words = std::max<i64>(0, st.read_words - i64(s.inputs) * in_reads);
      rd += double(s.onchip_read_bits);
      out.reads = i64(s.inputs) * in_reads;
      in_done = true;
    } else if (!out_done && st.tensor == int(Tensor::Outputs) && st.read_words == 0 &&
               st.write_words >= l.out.elements()) {
      st.write_words -= l.out.elements();
      wr += double(l.out.elements()) * p.outputs().bits;
      out.writes = l.out.elements();
      out_done = true;
    }
  }
  if (rd + wr > 0) w.onchip_stream_cycles = nest::level_time(ib, rd, wr, 1).cycles;
  if (s.requant_ops > 0) {  // requant_pj's two ops per value
    w.nonlinear.push_back(NonlinearWork{NonlinearKind::Multiply, s.requant_ops, p.activations(), 1});
    w.nonlinear.push_back(NonlinearWork{NonlinearKind::Add, s.requant_ops, p.activations(), 1});
  }
  return out;
}

double nest_cycles(const nest::Problem& p, const nest::Architecture& a, const nest::Result& r,
                   double cycles_per_mac, double dram_latency_cycles, const NestHandover* h, Timing timing) {
  const bool phased = timing == Timing::Phased;
  // The cycles of a transfer over a level's ports, per instance (its slowest port; level_time's
  // ports, without its floor at the compute's cycles).
  auto move_cycles = [](const nest::StorageLevel& s, double rd, double wr) {
    double c = 0;
    nest::for_each_port(s, rd, wr, [&](double bits_per_cycle, double bits) { c = std::max(c, bits / bits_per_cycle); });
    return c;
  };
  // Phased: a single-buffered level (multiple_buffering < 2) holds one tile, so a refill from
  // DRAM waits for the compute using the current tile and the compute waits for the refill. Its
  // DRAM refills after the first tile (fills - the tile, per instance, of each tensor it keeps
  // that bypasses every level between it and DRAM) are serial with the compute: per level, the
  // longer of the DRAM reads for them (the DRAM's reads in proportion, which keeps the multicast)
  // at the DRAM bandwidth and its own writes at its write bandwidth per instance. A refill from an
  // on-chip buffer streams into the level within the step that uses it (the array's operand
  // delivery) and stays in the overlap.
  double stall = 0;
  if (phased)
    for (int lv = 1; lv < r.n_levels; ++lv) {
      const nest::StorageLevel& s = a.levels[std::size_t(lv)];
      if (s.multiple_buffering >= 2) continue;
      double dram_bits = 0, own_bits = 0;
      for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
        const nest::DataspaceStats& ds = r.levels[std::size_t(lv)].ds[d];
        const double refill = double(std::max<std::int64_t>(0, ds.fills - ds.utilized_capacity));
        if (!ds.kept || refill <= 0) continue;
        bool from_dram = true;
        for (int pl = 1; pl < lv; ++pl) from_dram = from_dram && !r.levels[std::size_t(pl)].ds[d].kept;
        if (!from_dram) continue;
        const nest::DataspaceStats& dr = r.levels[kLevelDram].ds[d];
        const double dram_values =
            tensor_of(p, int(d)) == Tensor::Outputs
                ? refill * double(std::max<std::int64_t>(1, ds.utilized_instances))  // partial sums back
                : double(dr.reads) * refill / double(ds.fills);
        dram_bits += dram_values * held_bits(a, p, kLevelDram, int(d));
        own_bits += refill * held_bits(a, p, lv, int(d));
      }
      stall += std::ceil(std::max(move_cycles(a.levels[kLevelDram], dram_bits, 0), move_cycles(s, 0, own_bits)));
    }
  double cycles = double(r.compute_cycles) * cycles_per_mac + stall;
  // A level's read and written bits per instance (the nest analysis's own sums).
  auto level_bits = [&](int lv, double& rd, double& wr) {
    rd = wr = 0;
    for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
      const nest::DataspaceStats& ds = r.levels[std::size_t(lv)].ds[d];
      if (!ds.kept) continue;
      const int bits = held_bits(a, p, lv, int(d));
      rd += double(ds.reads) * bits;
      wr += double(ds.fills + ds.updates) * bits;
    }
  };
  bool dram_traffic = false;
  for (int lv = 0; lv < r.n_levels; ++lv) {
    double lc = r.levels[std::size_t(lv)].cycles;
    if (h && (lv == kLevelDram || lv == kLevelInputBuffer)) {
      double rd = 0, wr = 0;
      level_bits(lv, rd, wr);
      if (lv == kLevelDram) {
        rd = std::max(0.0, rd - h->dram_read_bits);
        wr = std::max(0.0, wr - h->dram_write_bits);
        dram_traffic = rd + wr > 0;
      } else {
        rd += h->ib_read_bits;
        wr += h->ib_write_bits;
      }
      lc = nest::level_time(a.levels[std::size_t(lv)], rd, wr, double(r.compute_cycles)).cycles;
    }
    cycles = std::max(cycles, lc);
  }
  if (!h)
    for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
      const nest::DataspaceStats& ds = r.levels[kLevelDram].ds[d];
      dram_traffic = dram_traffic || ds.reads + ds.fills + ds.updates > 0;
    }
  // Phased: the last output tile (its values at the outermost on-chip level keeping the outputs,
  // at their DRAM bits) goes back after the last MAC, over the DRAM channel (over the input
  // buffer's ports when the output is handed over there).
  double epilogue = 0;
  if (phased)
    for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
      if (tensor_of(p, int(d)) != Tensor::Outputs) continue;
      for (int lv = 1; lv < r.n_levels; ++lv) {
        const nest::DataspaceStats& ds = r.levels[std::size_t(lv)].ds[d];
        if (!ds.kept) continue;
        const double bits = double(ds.utilized_capacity) * double(std::max<std::int64_t>(1, ds.utilized_instances)) *
                            held_bits(a, p, kLevelDram, int(d));
        const bool handed = h && h->dram_write_bits > 0;
        if (handed || dram_traffic)
          epilogue = std::ceil(move_cycles(a.levels[std::size_t(handed ? kLevelInputBuffer : kLevelDram)], 0, bits));
        break;
      }
    }
  if (!dram_traffic) return cycles + epilogue;
  // The first tiles: nothing computes before the operands' first tiles are on chip.
  const nest::StorageLevel& dram = a.levels[kLevelDram];
  const double bw = dram.shared_bandwidth_bits > 0 ? dram.shared_bandwidth_bits : dram.read_bandwidth_bits;
  double first_bits = 0;
  for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
    const Tensor t = tensor_of(p, int(d));
    if (t == Tensor::Outputs || (h && h->input_on_chip && t == Tensor::Inputs)) continue;
    for (int lv = 1; lv < r.n_levels; ++lv) {
      const nest::DataspaceStats& ds = r.levels[std::size_t(lv)].ds[d];
      if (!ds.kept) continue;
      first_bits += double(ds.utilized_capacity) * double(std::max<std::int64_t>(1, ds.utilized_instances)) *
                    held_bits(a, p, lv, int(d));
      break;
    }
  }
  return cycles + (bw > 0 ? std::ceil(first_bits / bw) : 0.0) + dram_latency_cycles + epilogue;
}

nest::Objective MappingEngine::default_objective() {
  nest::Objective o;
  o.metrics = {nest::Metric::energy, nest::Metric::delay};
  return o;
}

MappingEngine::MappingEngine(const HardwareSpec& hw, const energy::EnergyModel& em, std::string file,
                             nest::Objective objective, nest::MapperCache* shared_cache)
    : hw_(hw), em_(em), file_(std::move(file)), side_(hw, em),
      cache_(shared_cache ? shared_cache : &own_cache_) {
  MIXPREC_CHECK(hw.kind == HardwareKind::Asic, "the mapping engine prices the asic template");
  options_.objective = std::move(objective);
}

void MappingEngine::set_residency(Residency r) { residency_ = residency_model(hw_, em_, r); }

void MappingEngine::set_timing(Timing t) { timing_ = t; }

LayerCost MappingEngine::layer_cost(const Network& net, int layer, const LayerPrecision& p,
                                    Phase phase, std::vector<NestMapping>* mappings) {
  return price(net, layer, p, phase, mappings, nullptr);
}

LayerCost MappingEngine::layer_cost_resident(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                                             const ResidentSides& sides) {
  return price(net, layer, p, phase, nullptr, &sides);
}

LayerCost MappingEngine::price(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                               std::vector<NestMapping>* mappings, const ResidentSides* sides) {
  const Layer& l = net.layers[std::size_t(layer)];
  if (p.accumulator_bits != 0 && p.accumulator_bits != hw_.pe_array.accumulator_bits)
    throw SpecError(file_, "/hardware/pe_array/accumulator_bits",
                    "hardware that gates its accumulators to a layer's `accumulator` width (this "
                    "template's accumulators are " + std::to_string(hw_.pe_array.accumulator_bits) +
                        " bits wide and cannot gate: drop the precision's `accumulator` key or set it to " +
                        std::to_string(hw_.pe_array.accumulator_bits) + ")",
                    "layer \"" + l.name + "\" with accumulator: " + std::to_string(p.accumulator_bits));

  LayerWork work = derive_work(net, layer, p, phase, &hw_);
  const std::vector<nest::LayerNest> nests = nest::layer_nests(net, layer, p, &hw_, phase);
  MIXPREC_CHECK(nests.size() == work.gemms.size(), "one loop nest per GEMM of the layer");

  LayerCost lc;
  lc.name = l.name;
  lc.kind = l.kind;
  lc.precision = p;
  const double pes = double(hw_.pe_array.rows) * hw_.pe_array.cols;
  double step_cycles = 0, parallel_cycles = 0, ideal = 0;
  for (std::size_t i = 0; i < nests.size(); ++i) {
    const GemmOp& g = work.gemms[i];
    nest::Problem prob = nests[i].problem;
    i64 repeats = nests[i].repeats;
    nest::MapperOptions o = options_;
    const bool steps_in_m = g.repeats > 1 && g.b_resident && !g.geom.conv;
    if (steps_in_m) {
      const std::string name = prob.name;
      prob = nest::make_gemm(g.m * g.repeats, g.n, g.k, g.a.bits, g.b.bits, g.out.bits);
      prob.name = name;
      repeats = g.groups;
    }
    const nest::Architecture arch = expand_hierarchy(hw_, em_, prob, g.b, g.a);
    o.constraints = dataflow_constraints(prob, arch, hw_.pe_array.dataflow, steps_in_m);
    const nest::MapResult* best = &cache_->map(prob, arch, o);
    o.constraints = kept_in_buffers(o.constraints, prob);
    const nest::MapResult& kept = cache_->map(prob, arch, o);
    if (kept.found && (!best->found || o.objective.better(kept.result, best->result))) best = &kept;
    const nest::MapResult& r = *best;
    if (!r.found)
      throw SpecError(file_, "/hardware/buffers",
                      "a mapping of layer \"" + l.name + "\" (" + nests[i].pass + ") onto the hierarchy",
                      "none fits (" + r.space + ")");
    const nest::Result& res = r.result;
    const double reps = double(repeats);
    const i64 slow = mac_slowdown(hw_.pe_array.mac, g.b, g.a);

    lc.macs += prob.macs() * repeats;
    // A hand-over re-times nest 0 (the one reading the layer's input and, for conv and linear,
    // writing its output; handover_from_nest).
    const bool retime = sides && i == 0 && sides->any();
    const NestHandover nh = retime ? nest_handover(l, p, r.problem, arch, res, reps, *sides) : NestHandover{};
    const double cycles =
        nest_cycles(r.problem, arch, res, double(slow), side_.dram_latency_cycles(), retime ? &nh : nullptr, timing_);
    lc.compute_cycles += double(res.compute_cycles) * double(slow) * reps;
    (g.repeats > 1 ? step_cycles : parallel_cycles) += cycles * reps;
    ideal += double(g.macs()) / (pes * energy::products_per_cycle(hw_.pe_array.mac, g.b, g.a));

    // Energy by component and traffic per tensor, all instances, every repeat.
    lc.energy_pj[std::size_t(Component::Mac)] += res.compute_energy_pj * reps;
    for (int lv = 0; lv < res.n_levels; ++lv) {
      const nest::LevelStats& ls = res.levels[std::size_t(lv)];
      lc.energy_pj[std::size_t(component_of_level(lv))] += access_energy_pj(ls) * reps;
      for (std::size_t d = 0; d < r.problem.dataspaces.size(); ++d) {
        const nest::DataspaceStats& ds = ls.ds[d];
        if (!ds.kept) continue;
        const Tensor t = tensor_of(r.problem, static_cast<int>(d));
        const i64 inst = std::max<i64>(1, ds.utilized_instances) * repeats;
        const int bits = held_bits(arch, r.problem, lv, static_cast<int>(d));
        Traffic tr;
        tr.add_reads(ds.reads * inst, bits);
        tr.add_writes((ds.fills + ds.updates) * inst, bits);
        if (lv == kLevelDram) lc.dram[std::size_t(t)] += tr;
        else if (lv == buffer_level_of(t)) lc.buffer[std::size_t(t)] += tr;
        else if (lv == kLevelPeRegisters)
          lc.register_file_accesses += (ds.reads + ds.fills + ds.updates) * inst;
      }
    }
    if (i == 0) lc.tiling = dram_tiling(r.problem, r.mapping);
    handover_from_nest(lc.handover, l, i, r.problem, arch, res, repeats);
    if (mappings) mappings->push_back(NestMapping{nests[i].pass, repeats, arch, r});
  }
  if (sides) handover_streams(work, l, p, *sides, template_buffer_level(hw_, em_, Tensor::Inputs));
  side_.finish_layer(lc, work, parallel_cycles, step_cycles, ideal);
  handover_from_streams(lc.handover, l, p);
  return lc;
}

NetworkCost MappingEngine::network_cost(const Network& net, const std::vector<LayerPrecision>& p,
                                        Phase phase, std::vector<std::vector<NestMapping>>* mappings) {
  if (phase == Phase::Training && residency_.enabled)
    throw SpecError(file_, "/cost_model/residency",
                    "\"none\" in a training-phase scenario (a training step keeps every layer's activations "
                    "in DRAM for its backward pass; \"chain\" hands over inference outputs only)",
                    "\"chain\"");
  NetworkCost nc;
  nc.layers.reserve(net.layers.size());
  if (mappings) mappings->assign(net.layers.size(), {});
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    nc.layers.push_back(
        layer_cost(net, static_cast<int>(i), p[i], phase, mappings ? &(*mappings)[i] : nullptr));
  nc.handovers = apply_residency(nc, net, residency_);
  // The layers an on-chip hand-over touches are re-timed with it (their own mappings).
  std::vector<ResidentSides> sides(net.layers.size());
  for (const HandoverOutcome& h : nc.handovers) {
    sides[std::size_t(h.producer)].add(h.producer, h);
    sides[std::size_t(h.consumer)].add(h.consumer, h);
  }
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    LayerCost& lc = nc.layers[i];
    if (sides[i].any()) {
      const LayerCost t = layer_cost_resident(net, static_cast<int>(i), p[i], phase, sides[i]);
      lc.cycles = t.cycles;
      lc.stalls = t.stalls;
      lc.utilization = t.utilization;
    }
    lc.energy_pj[std::size_t(Component::Static)] = static_energy_pj(hw_, lc.cycles);
  }
  finalize(nc, hw_.clock_mhz);
  return nc;
}

SimulationResult simulate_mapping(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                                  std::vector<std::vector<NestMapping>>* mappings) {
  MIXPREC_CHECK(precision.size() == sc.net.layers.size(), "one precision per layer");
  if (sc.hardware.kind != HardwareKind::Asic)
    throw SpecError(sc.file, "/hardware/kind",
                    "\"asic\" (the mapping engine expands the systolic-array template)", "\"fpga\"");
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  MappingEngine engine(sc.hardware, em, sc.file, objective_of(sc.cost_model.objective));
  engine.set_residency(sc.cost_model.residency);
  engine.set_timing(sc.cost_model.timing);
  SimulationResult r;
  r.engine = "mapping";
  r.cost = engine.network_cost(sc.net, precision, sc.phase, mappings);
  for (const Baseline& b : standard_baselines()) {
    std::vector<LayerPrecision> uni(sc.net.layers.size(), b.precision);
    const NetworkCost c = engine.network_cost(sc.net, uni, sc.phase);
    r.baselines.push_back(BaselineResult{b.name, c.energy_uj, c.latency_ms});
  }
  return r;
}

std::string render_mappings(const Network& net, const std::vector<std::vector<NestMapping>>& m,
                            const nest::Objective& obj) {
  std::ostringstream o;
  for (std::size_t i = 0; i < m.size() && i < net.layers.size(); ++i)
    for (const NestMapping& nm : m[i]) {
      o << "== " << net.layers[i].name << " (" << nm.pass << ")";
      if (nm.repeats > 1) o << " x " << nm.repeats;
      o << " ==\n" << nest::render_map_result(nm.result.problem, nm.arch, nm.result, obj) << "\n";
    }
  return o.str();
}

nlohmann::json mappings_to_json(const Network& net, const std::vector<std::vector<NestMapping>>& m,
                                const nest::Objective& obj) {
  nlohmann::json ms = nlohmann::json::array();
  for (std::size_t i = 0; i < m.size() && i < net.layers.size(); ++i)
    for (const NestMapping& nm : m[i])
      ms.push_back({{"layer", net.layers[i].name},
                    {"pass", nm.pass},
                    {"repeats", nm.repeats},
                    {"loop_nest", nest::render_map_result(nm.result.problem, nm.arch, nm.result, obj)},
                    {"mapping", nest::to_json(nm.result.mapping, nm.result.problem, nm.arch)},
                    {"result", nest::result_to_json(nm.result.problem, nm.arch, nm.result.result)}});
  return ms;
}

}  // namespace mixprec::sim
