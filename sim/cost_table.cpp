#include "sim/cost_table.hpp"

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

std::vector<CostEntry> cost_row(LayerPricer& engine, const Network& net, int layer,
                                const std::vector<LayerPrecision>& options, Phase phase) {
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
    const std::vector<CostEntry> row = cost_row(engine, net, int(i), options, phase);
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
  for (const HandoverEdge& e : table.handover_edges)
    pj += evaluate_handover(table.residency, e, table.at(std::size_t(e.producer), std::size_t(choice[e.producer])).handover,
                            table.at(std::size_t(e.consumer), std::size_t(choice[e.consumer])).handover)
              .delta_pj();
  d.energy_uj = pj * 1e-6;
  d.latency_ms = cycles / (table.clock_mhz * 1e3);
  return d;
}

}  // namespace mixprec::sim
