#include "sim/hierarchy.hpp"

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "sim/analytical.hpp"

namespace mixprec::sim {

Tensor tensor_of(const nest::Problem& p, int d) {
  const std::string& n = p.dataspaces[static_cast<std::size_t>(d)].name;
  if (n == "Weights" || n == "B") return Tensor::Weights;
  if (n == "Inputs" || n == "A") return Tensor::Inputs;
  if (n == "Outputs" || n == "Z") return Tensor::Outputs;
  MIXPREC_CHECK(false, "dataspace \"" + n + "\" has no tensor role");
  return Tensor::kCount;
}

std::int64_t mac_slowdown(const MacSpec& mac, const Operand& w, const Operand& a) {
  const double ppc = energy::products_per_cycle(mac, w, a);
  return ppc >= 1 ? 1 : static_cast<std::int64_t>(std::ceil(1.0 / ppc - 1e-9));
}

std::uint32_t mask_of(const nest::Problem& p, Tensor t) {
  std::uint32_t m = 0;
  for (std::size_t d = 0; d < p.dataspaces.size(); ++d)
    if (tensor_of(p, static_cast<int>(d)) == t) m |= 1u << d;
  return m;
}

Component component_of_level(int level) {
  switch (level) {
    case kLevelDram: return Component::Dram;
    case kLevelWeightBuffer: return Component::WeightBuffer;
    case kLevelInputBuffer: return Component::InputBuffer;
    case kLevelOutputBuffer: return Component::OutputBuffer;
    default: return Component::RegisterFile;
  }
}

int buffer_level_of(Tensor t) {
  switch (t) {
    case Tensor::Weights: return kLevelWeightBuffer;
    case Tensor::Inputs: return kLevelInputBuffer;
    default: return kLevelOutputBuffer;
  }
}

int held_bits(const nest::Architecture& a, const nest::Problem& p, int level, int d) {
  const int w = a.levels[std::size_t(level)].word_bits;
  return w > 0 ? w : p.dataspaces[std::size_t(d)].bits;
}

namespace {


int bits_of(const nest::Problem& p, Tensor t) {
  for (std::size_t d = 0; d < p.dataspaces.size(); ++d)
    if (tensor_of(p, static_cast<int>(d)) == t) return p.dataspaces[d].bits;
  return 0;
}

nest::StorageLevel buffer_level(const char* name, energy::BufferId id, const BufferSpec& b,
                                const energy::EnergyModel& em, std::uint32_t keep) {
  nest::StorageLevel l;
  l.name = name;
  l.block_bits = b.row_bits;
  l.depth = static_cast<std::int64_t>(b.size_bytes() * 8.0 / b.row_bits);
  l.shared_bandwidth_bits = b.row_bits;  // one row access per bank per cycle
  l.banks = b.banks;
  l.multiple_buffering = b.double_buffered ? 2 : 1;
  l.keep_mask = keep;
  l.read_pj = em.buffer_access_pj(id, b, b.row_bits, false);
  l.write_pj = l.update_pj = em.buffer_access_pj(id, b, b.row_bits, true);
  return l;
}

}  // namespace

nest::StorageLevel template_buffer_level(const HardwareSpec& hw, const energy::EnergyModel& em, Tensor t) {
  switch (t) {
    case Tensor::Weights: return buffer_level("WeightBuffer", energy::BufferId::Weight, hw.weight_buffer, em, ~0u);
    case Tensor::Inputs: return buffer_level("InputBuffer", energy::BufferId::Input, hw.input_buffer, em, ~0u);
    default: {
      nest::StorageLevel out = buffer_level("OutputBuffer", energy::BufferId::Output, hw.output_buffer, em, ~0u);
      out.word_bits = hw.pe_array.accumulator_bits;
      return out;
    }
  }
}

ResidencyModel residency_model(const HardwareSpec& hw, const energy::EnergyModel& em, Residency r) {
  ResidencyModel m;
  m.enabled = r == Residency::Chain;
  if (!m.enabled || hw.kind != HardwareKind::Asic) return m;
  const nest::StorageLevel in = template_buffer_level(hw, em, Tensor::Inputs);
  m.capacity_bits = in.effective_capacity_bits();
  m.row_bits = in.block_bits;
  m.read_pj = in.read_pj;
  m.write_pj = in.write_pj;
  return m;
}

nest::Architecture expand_hierarchy(const HardwareSpec& hw, const energy::EnergyModel& em,
                                    const nest::Problem& p, const Operand& w, const Operand& a) {
  MIXPREC_CHECK(hw.kind == HardwareKind::Asic, "the hierarchy expands the asic template only");
  nest::Architecture arch;
  arch.name = hw.name;
  const int acc = hw.pe_array.accumulator_bits;

  nest::StorageLevel dram;
  dram.name = "DRAM";
  dram.block_bits = hw.dram.burst_bytes * 8;
  dram.read_pj = dram.write_pj = dram.update_pj = em.dram_pj_per_bit(hw.dram) * dram.block_bits;
  dram.shared_bandwidth_bits = hw.dram.bandwidth_gbps * 8e3 / hw.clock_mhz;  // GB/s -> bits/cycle
  // The chip's static power as this level's leakage per cycle: the mapper's energy objective then
  // weighs a mapping's time. The engines drop level leakage from the components (static energy is
  // static_energy_pj over the layer's cycles, once: access_energy_pj, sim/mapping_engine.hpp).
  dram.leak_pj = static_energy_pj(hw, 1.0);
  arch.levels.push_back(dram);

  arch.levels.push_back(buffer_level("WeightBuffer", energy::BufferId::Weight, hw.weight_buffer, em,
                                     mask_of(p, Tensor::Weights)));
  arch.levels.push_back(buffer_level("InputBuffer", energy::BufferId::Input, hw.input_buffer, em,
                                     mask_of(p, Tensor::Inputs)));
  nest::StorageLevel out = buffer_level("OutputBuffer", energy::BufferId::Output, hw.output_buffer,
                                        em, mask_of(p, Tensor::Outputs));
  out.word_bits = acc;  // partial sums at the accumulator width
  arch.levels.push_back(out);

  nest::StorageLevel pe;
  pe.name = "PERegisters";
  const std::int64_t pes = std::int64_t(hw.pe_array.rows) * hw.pe_array.cols;
  pe.instances = pes;
  pe.mesh_x = hw.pe_array.cols;
  if (hw.pe_array.dataflow == Dataflow::WeightStationary) {
    pe.keep_mask = mask_of(p, Tensor::Weights) | mask_of(p, Tensor::Inputs);
    pe.block_bits = std::max(bits_of(p, Tensor::Weights), bits_of(p, Tensor::Inputs));
  } else {
    pe.keep_mask = mask_of(p, Tensor::Outputs);
    pe.word_bits = acc;
    pe.block_bits = acc;
  }
  pe.depth = std::int64_t(hw.pe_array.register_file_bytes) * 8 / pe.block_bits;
  pe.read_pj = pe.write_pj = pe.update_pj = em.register_file_pj(pe.block_bits);
  arch.levels.push_back(pe);

  const double ppc = energy::products_per_cycle(hw.pe_array.mac, w, a);
  const std::int64_t lanes = ppc >= 1 ? static_cast<std::int64_t>(ppc) : 1;
  arch.compute.name = "MAC";
  arch.compute.instances = pes * lanes;
  arch.compute.mesh_x = hw.pe_array.cols;
  arch.compute.energy_pj = em.mac(w, a, acc, hw.pe_array.mac).total_pj();
  return arch;
}

}  // namespace mixprec::sim
