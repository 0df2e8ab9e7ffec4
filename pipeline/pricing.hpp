// A configuration priced by the scenario's engine (sim/pricer.hpp) for reports: total energy, latency, cycles,
// weight bytes, energy by component and per layer.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "sim/pricer.hpp"

namespace mixprec::pipeline {

// {"energy_uj", "latency_ms", "cycles", "size_bytes", "fits", "engine", "components": {name: uJ},
//  "layers": [{"energy_uj", "latency_ms", "cycles"}]}. A layer's energy is its
// LayerCost::energy_total_pj(), static energy included once (the per-layer energies sum to the
// total).
nlohmann::json price_configuration(const Scenario& sc, sim::Pricer& eng,
                                   const std::vector<LayerPrecision>& p);

}  // namespace mixprec::pipeline
