#include "sim/residency.hpp"

#include <algorithm>

#include "core/errors.hpp"
#include "sim/nest/nest.hpp"

namespace mixprec::sim {

namespace {

bool is_view(const Layer& l) { return l.kind == LayerKind::FramesToSequence || l.kind == LayerKind::BatchNorm; }

// The layer whose output a reference (a producer index, -1 the network input) really is.
int source_of(const Network& net, int ref) {
  while (ref >= 0 && is_view(net.layers[std::size_t(ref)])) {
    const Layer& v = net.layers[std::size_t(ref)];
    ref = v.inputs.empty() ? -1 : v.inputs[0];
  }
  return ref;
}

}  // namespace

bool produces_handover(const Layer& l) {
  switch (l.kind) {
    case LayerKind::Conv2d: case LayerKind::Linear: case LayerKind::Lstm: case LayerKind::Gru:
    case LayerKind::Pool: case LayerKind::Add: case LayerKind::Elementwise: case LayerKind::Concat:
      return true;
    default: return false;
  }
}

bool consumes_handover(const Layer& l) { return produces_handover(l) && l.kind != LayerKind::Concat; }

std::vector<HandoverEdge> handover_edges(const Network& net) {
  const std::size_t L = net.layers.size();
  std::vector<int> readers(L, 0);
  for (const Layer& l : net.layers) {
    if (is_view(l)) continue;
    for (int in : l.inputs) {
      const int s = source_of(net, in);
      if (s >= 0) ++readers[std::size_t(s)];
    }
  }
  std::vector<HandoverEdge> edges;
  for (std::size_t j = 0; j < L; ++j) {
    const Layer& c = net.layers[j];
    if (is_view(c) || !consumes_handover(c)) continue;
    for (std::size_t k = 0; k < c.inputs.size(); ++k) {
      const int s = source_of(net, c.inputs[k]);
      if (s < 0 || readers[std::size_t(s)] != 1 || !produces_handover(net.layers[std::size_t(s)])) continue;
      edges.push_back(HandoverEdge{s, int(j), int(k), 1});
    }
  }
  std::vector<int> degree(L, 0);
  for (const HandoverEdge& e : edges) {
    ++degree[std::size_t(e.producer)];
    ++degree[std::size_t(e.consumer)];
  }
  for (HandoverEdge& e : edges) e.share = std::max(degree[std::size_t(e.producer)], degree[std::size_t(e.consumer)]);
  return edges;
}

std::int64_t streamed_input_values(const Layer& l) {
  return l.kind == LayerKind::Pool ? l.in.elements() : l.out.elements();
}

double requant_pj(const energy::EnergyModel& em, const Operand& a) {
  return em.nonlinear_pj(energy::NonlinearOp::Multiply, a) + em.nonlinear_pj(energy::NonlinearOp::Add, a);
}

void ResidentSides::add(int layer, const HandoverOutcome& h) {
  if (!h.on_chip) return;
  if (h.producer == layer) output = true;
  if (h.consumer == layer) {
    if (inputs++ == 0) input_stored_bits = h.stored_bits;
    onchip_read_bits += h.values_read * h.stored_bits;
    requant_ops += h.requant_ops;
  }
}

ConsumerReads consumer_reads(const Handover& cons, const Operand& stored) {
  return ConsumerReads{cons.in_reads, stored != cons.in ? cons.in_reads : 0};
}

HandoverOutcome evaluate_handover(const ResidencyModel& m, const HandoverEdge& e, const Handover& prod,
                                  const Handover& cons) {
  HandoverOutcome o;
  o.producer = e.producer;
  o.consumer = e.consumer;
  o.slot = e.slot;
  o.capacity_bits = m.capacity_bits;
  o.stored_bits = prod.out.bits;
  if (!m.enabled || !prod.can_produce || !cons.can_consume) return o;
  o.tensor_bits = prod.out_values * prod.out.bits;
  o.footprint_bits = std::max(prod.in_tile_bits, cons.in_tile_bits);
  const std::int64_t per_row = m.row_bits / prod.out.bits;
  o.share = e.share;
  o.fits = per_row >= 1 && e.share * o.tensor_bits + o.footprint_bits <= m.capacity_bits;
  if (!o.fits) return o;
  const ConsumerReads reads = consumer_reads(cons, prod.out);
  const double p = nest::vector_accesses(prod.out_values, per_row) * m.write_pj - prod.out_dram_pj;
  const double c = nest::vector_accesses(reads.values, per_row) * m.read_pj +
                   double(reads.requant_ops) * cons.requant_pj - cons.in_dram_pj;
  if (!(p + c < 0)) return o;  // fits but saves nothing: the tensor goes through DRAM
  o.on_chip = true;
  o.values_written = prod.out_values;
  o.values_read = reads.values;
  o.requant_ops = reads.requant_ops;
  o.producer_delta_pj = p;
  o.consumer_delta_pj = c;
  return o;
}

std::vector<HandoverOutcome> apply_residency(NetworkCost& nc, const Network& net, const ResidencyModel& m) {
  std::vector<HandoverOutcome> out;
  if (!m.enabled) return out;
  MIXPREC_CHECK(nc.layers.size() == net.layers.size(), "one cost per layer");
  const std::size_t I = std::size_t(Tensor::Inputs), O = std::size_t(Tensor::Outputs);
  for (const HandoverEdge& e : handover_edges(net)) {
    LayerCost& p = nc.layers[std::size_t(e.producer)];
    LayerCost& c = nc.layers[std::size_t(e.consumer)];
    const HandoverOutcome h = evaluate_handover(m, e, p.handover, c.handover);
    out.push_back(h);
    if (!h.on_chip) continue;
    const int sb = h.stored_bits;
    // Producer: the DRAM write becomes input-buffer writes.
    p.energy_pj[std::size_t(Component::Dram)] -= p.handover.out_dram_pj;
    p.energy_pj[std::size_t(Component::InputBuffer)] += h.producer_delta_pj + p.handover.out_dram_pj;
    p.dram[O].writes -= h.values_written;
    p.dram[O].write_bits -= h.values_written * sb;
    p.buffer[I].add_writes(h.values_written, sb);
    // Consumer: the DRAM reads become input-buffer reads at the stored bits (+ re-quantization).
    const double requant = double(h.requant_ops) * c.handover.requant_pj;
    c.energy_pj[std::size_t(Component::Dram)] -= c.handover.in_dram_pj;
    c.energy_pj[std::size_t(Component::InputBuffer)] += h.consumer_delta_pj + c.handover.in_dram_pj - requant;
    c.energy_pj[std::size_t(Component::Nonlinear)] += requant;
    c.nonlinear_ops += 2 * h.requant_ops;
    c.dram[I].reads -= h.values_read;
    c.dram[I].read_bits -= h.values_read * c.handover.in.bits;
    c.buffer[I].add_reads(h.values_read, sb);
  }
  return out;
}

}  // namespace mixprec::sim
