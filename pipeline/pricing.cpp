#include "pipeline/pricing.hpp"

#include "sim/cost_table.hpp"

namespace mixprec::pipeline {

using nlohmann::json;

json price_configuration(const Scenario& sc, sim::Pricer& eng,
                         const std::vector<LayerPrecision>& p) {
  const sim::NetworkCost c = eng.network_cost(sc.net, p, sc.phase);
  json comp = json::object();
  for (std::size_t i = 0; i < sim::kComponents; ++i)
    comp[sim::to_string(sim::Component(i))] = c.energy_pj[i] * 1e-6;
  json layers = json::array();
  double size = 0;
  for (std::size_t i = 0; i < c.layers.size(); ++i) {
    const sim::LayerCost& l = c.layers[i];
    layers.push_back({{"energy_uj", l.energy_total_pj() * 1e-6},
                      {"latency_ms", l.cycles / (sc.hardware.clock_mhz * 1e3)},
                      {"cycles", l.cycles}});
    size += sim::weight_bytes(sc.net.layers[i], p[i]);
  }
  return {{"energy_uj", c.energy_uj}, {"latency_ms", c.latency_ms}, {"cycles", c.cycles},
          {"size_bytes", size}, {"engine", eng.engine_name()}, {"components", comp}, {"layers", layers}, {"fits", c.fits}};
}

}  // namespace mixprec::pipeline
