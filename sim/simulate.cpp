#include "sim/simulate.hpp"

#include "core/errors.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/analytical.hpp"
#include "sim/fpga.hpp"

namespace mixprec::sim {

SimulationResult simulate_analytical(const Scenario& sc, const std::vector<LayerPrecision>& precision) {
  MIXPREC_CHECK(precision.size() == sc.net.layers.size(), "one precision per layer");
  if (sc.hardware.kind == HardwareKind::Fpga) return fpga::simulate_analytical(sc, precision);
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const AnalyticalEngine engine(sc.hardware, em);
  SimulationResult r;
  r.cost = engine.network_cost(sc.net, precision, sc.phase);
  for (const auto& lc : r.cost.layers)
    if (!lc.fits)
      throw SpecError(sc.file, "/hardware/buffers",
                      "buffers large enough for layer \"" + lc.name + "\" at " +
                          std::to_string(lc.precision.weight_bits) + "-bit weights",
                      lc.fail_reason);
  for (const Baseline& b : standard_baselines()) {
    std::vector<LayerPrecision> uni(sc.net.layers.size(), b.precision);
    NetworkCost c = engine.network_cost(sc.net, uni, sc.phase);
    r.baselines.push_back(BaselineResult{b.name, c.fits ? c.energy_uj : 0.0, c.latency_ms});
  }
  return r;
}

}  // namespace mixprec::sim
