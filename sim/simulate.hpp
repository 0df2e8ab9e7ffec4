// One call that prices a validated scenario: the configuration itself and the uniform baselines.
#pragma once
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "sim/cost.hpp"
#include "sim/cost_json.hpp"

namespace mixprec::sim {

struct SimulationResult {
  NetworkCost cost;
  std::vector<BaselineResult> baselines;  // uniform int8, int16, fp16, fp32
  std::string engine = "analytical";
};

// Prices `precision` (one entry per layer of sc.net) with the analytical engine.
// Throws SpecError when no tiling fits the buffers (naming /hardware/buffers).
SimulationResult simulate_analytical(const Scenario& sc, const std::vector<LayerPrecision>& precision);

}  // namespace mixprec::sim
