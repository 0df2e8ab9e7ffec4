// JSON, CSV and table renderings of cost records (the `simulate` output contract).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "sim/cost.hpp"

namespace mixprec::sim {

struct BaselineResult {
  std::string name;
  double energy_uj = 0;
  double latency_ms = 0;
};

nlohmann::json layer_to_json(const LayerCost& lc, bool lstm);
nlohmann::json total_to_json(const NetworkCost& nc);
// Full `simulate` document: layers[], total, baselines (energy and % saved against each).
nlohmann::json network_to_json(const Scenario& sc, const NetworkCost& nc,
                               const std::vector<BaselineResult>& baselines,
                               const std::string& engine);
std::string network_to_csv(const Network& net, const NetworkCost& nc);
// Between-layer hand-overs (NetworkCost::handovers; simulate adds them when residency is on).
nlohmann::json handovers_to_json(const Network& net, const NetworkCost& nc);
std::string handovers_to_table(const Network& net, const NetworkCost& nc);
std::string network_to_table(const Scenario& sc, const NetworkCost& nc,
                             const std::vector<BaselineResult>& baselines, const std::string& engine);
// "w4a8", "w8a8 r8 c16", "fp16" ...
std::string precision_label(const LayerPrecision& p, bool lstm);

}  // namespace mixprec::sim
