#include "sim/cost.hpp"

namespace mixprec::sim {

const char* to_string(Component c) {
  switch (c) {
    case Component::Mac: return "mac";
    case Component::RegisterFile: return "register_file";
    case Component::Interconnect: return "interconnect";
    case Component::WeightBuffer: return "weight_buffer";
    case Component::InputBuffer: return "input_buffer";
    case Component::OutputBuffer: return "output_buffer";
    case Component::Dram: return "dram";
    case Component::Nonlinear: return "nonlinear";
    case Component::Static: return "static";
    case Component::kCount: break;
  }
  return "?";
}

const char* to_string(Tensor t) {
  switch (t) {
    case Tensor::Weights: return "weights";
    case Tensor::Inputs: return "inputs";
    case Tensor::Outputs: return "outputs";
    case Tensor::kCount: break;
  }
  return "?";
}

const char* to_string(LoopOrder o) {
  switch (o) {
    case LoopOrder::NOuter: return "n_outer";
    case LoopOrder::MOuter: return "m_outer";
    case LoopOrder::KOuter: return "k_outer";
  }
  return "?";
}

double LayerCost::energy_total_pj() const {
  double s = 0;
  for (double e : energy_pj) s += e;
  return s;
}

double LayerCost::dram_bytes() const {
  double b = 0;
  for (const auto& t : dram) b += t.bytes();
  return b;
}

void finalize(NetworkCost& nc, double clock_mhz) {
  nc.cycles = 0;
  nc.energy_pj.fill(0);
  nc.dram_bytes = 0;
  nc.macs = 0;
  nc.fits = true;
  for (const auto& l : nc.layers) {
    nc.cycles += l.cycles;
    for (std::size_t c = 0; c < kComponents; ++c) nc.energy_pj[c] += l.energy_pj[c];
    nc.dram_bytes += l.dram_bytes();
    nc.macs += l.macs;
    nc.fits = nc.fits && l.fits;
  }
  double total_pj = 0;
  for (double e : nc.energy_pj) total_pj += e;
  nc.latency_ms = nc.cycles / (clock_mhz * 1e3);
  nc.energy_uj = total_pj * 1e-6;
  nc.power_mw = nc.latency_ms > 0 ? nc.energy_uj / nc.latency_ms : 0;  // uJ/ms = mW
}

}  // namespace mixprec::sim
