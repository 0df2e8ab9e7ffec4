#include "sim/cost_table.hpp"

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"

namespace mixprec::sim {

std::vector<LayerPrecision> candidate_options(const SearchSpec& s, const LayerPrecision& base) {
  std::vector<LayerPrecision> out;
  for (int w : s.weight_bits)
    for (int a : s.activation_bits) {
      LayerPrecision p = base;
      p.format = NumFormat::Int;
      p.weight_bits = p.recurrent_weight_bits = w;
      p.activation_bits = p.output_bits = a;
      out.push_back(p);
    }
  for (NumFormat f : s.float_formats) out.push_back(LayerPrecision::uniform(f, 0));
  return out;
}

double weight_bytes(const Layer& l, const LayerPrecision& p) {
  return (double(l.weight_count() - l.recurrent_weight_count()) * p.weights().bits +
          double(l.recurrent_weight_count()) * p.recurrent_weights().bits) / 8.0;
}

const Retimed* CostEntry::retimed_at(const ResidentSides& sides) const {
  if (!sides.any()) return nullptr;
  for (const Retimed& r : retimed)
    if (r.sides == sides) return &r;
  MIXPREC_CHECK(false, "CostEntry::retimed_at: the cost table priced every side state of the layer");
  return nullptr;
}

namespace {

// Every side state layer `layer` can see at entry `e`: its output off or on chip (if it has an out
// edge and can produce); each in edge off or on at each stored operand (the options' outputs) if it
// can consume, accumulated in edge order as network_cost does. All-off excluded; no duplicates.
std::vector<ResidentSides> side_states(const std::vector<HandoverEdge>& edges, int layer, const CostEntry& e,
                                       const std::vector<Operand>& stored) {
  bool out_edge = false;
  std::vector<const HandoverEdge*> in_edges;
  for (const HandoverEdge& h : edges) {
    if (h.producer == layer) out_edge = true;
    if (h.consumer == layer) in_edges.push_back(&h);
  }
  const int outs = out_edge && e.handover.can_produce ? 2 : 1;
  const std::size_t per_in = e.handover.can_consume ? stored.size() + 1 : 1;  // 0: off
  std::size_t combos = 1;
  for (std::size_t k = 0; k < in_edges.size(); ++k) combos *= per_in;
  std::vector<ResidentSides> out;
  for (int o = 0; o < outs; ++o)
    for (std::size_t c = 0; c < combos; ++c) {
      ResidentSides s;
      std::size_t x = c;
      for (const HandoverEdge* h : in_edges) {
        const std::size_t pick = x % per_in;
        x /= per_in;
        if (pick == 0) continue;
        const Operand& st = stored[pick - 1];
        const ConsumerReads reads = consumer_reads(e.handover, st);
        HandoverOutcome ho;
        ho.producer = h->producer;
        ho.consumer = layer;
        ho.on_chip = true;
        ho.stored_bits = st.bits;
        ho.values_read = reads.values;
        ho.requant_ops = reads.requant_ops;
        s.add(layer, ho);
      }
      if (o == 1) s.output = true;
      if (s.any() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
  return out;
}

}  // namespace

std::vector<CostEntry> cost_row(LayerPricer& engine, const Network& net, int layer,
                                const std::vector<LayerPrecision>& options, Phase phase,
                                const std::vector<HandoverEdge>& edges) {
  const bool retime = engine.residency().enabled && phase == Phase::Inference;
  std::vector<Operand> stored;  // the operands a producer may store a hand-over at
  if (retime)
    for (const LayerPrecision& p : options)
      if (std::find(stored.begin(), stored.end(), p.outputs()) == stored.end()) stored.push_back(p.outputs());
  std::vector<CostEntry> row;
  row.reserve(options.size());
  for (const LayerPrecision& p : options) {
    const LayerCost lc = engine.layer_cost(net, layer, p, phase);
    CostEntry e;
    e.cycles = lc.cycles;
    MIXPREC_CHECK(lc.energy_pj[std::size_t(Component::Static)] == 0,
                  "layer_cost leaves the Static component to the table");
    e.energy_pj = lc.energy_total_pj() + static_energy_pj(engine.hardware(), lc.cycles);
    e.dram_bytes = lc.dram_bytes();
    e.weight_bytes = weight_bytes(net.layers[size_t(layer)], p);
    e.fits = lc.fits;
    e.handover = lc.handover;
    if (retime)
      for (const ResidentSides& sides : side_states(edges, layer, e, stored)) {
        const LayerCost t = engine.layer_cost_resident(net, layer, p, phase, sides);
        e.retimed.push_back(Retimed{sides, t.cycles - lc.cycles,
                                    static_energy_pj(engine.hardware(), t.cycles) -
                                        static_energy_pj(engine.hardware(), lc.cycles)});
      }
    row.push_back(e);
  }
  return row;
}

CostTable build_cost_table(LayerPricer& engine, const Network& net,
                           const std::vector<LayerPrecision>& options, Phase phase) {
  CostTable t;
  t.options = options;
  t.clock_mhz = engine.hardware().clock_mhz;
  t.residency = engine.residency();
  if (t.residency.enabled) t.handover_edges = handover_edges(net);
  t.entries.reserve(net.layers.size() * options.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    t.layers.push_back(net.layers[i].name);
    const std::vector<CostEntry> row = cost_row(engine, net, int(i), options, phase, t.handover_edges);
    t.entries.insert(t.entries.end(), row.begin(), row.end());
  }
  return t;
}

DesignPoint evaluate(const CostTable& table, const int* choice) {
  DesignPoint d;
  double cycles = 0, pj = 0;
  const std::size_t n = table.layers.size(), no = table.options.size();
  const CostEntry* row = table.entries.data();
  for (std::size_t i = 0; i < n; ++i, row += no) {
    const CostEntry& e = row[choice[i]];
    cycles += e.cycles;
    pj += e.energy_pj;
    d.dram_bytes += e.dram_bytes;
    d.size_bytes += e.weight_bytes;
    d.fits = d.fits && e.fits;
  }
  auto entry_of = [&](int l) -> const CostEntry& { return table.at(std::size_t(l), std::size_t(choice[l])); };
  for (const HandoverEdge& e : table.handover_edges)
    pj += evaluate_handover(table.residency, e, entry_of(e.producer).handover, entry_of(e.consumer).handover).delta_pj();
  for (std::size_t i = 0; i < n && !table.handover_edges.empty(); ++i)
    if (const Retimed* r = retiming_of(table, int(i), entry_of)) {
      cycles += r->cycles_delta;
      pj += r->energy_delta_pj;
    }
  d.energy_uj = pj * 1e-6;
  d.latency_ms = cycles / (table.clock_mhz * 1e3);
  return d;
}

}  // namespace mixprec::sim
