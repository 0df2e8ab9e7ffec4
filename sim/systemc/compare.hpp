// Side-by-side comparison of the analytical and SystemC engines (`mixprec simulate --compare`):
// per-layer cycles and energy of both, the difference, and which effect accounts for it.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "sim/cost.hpp"
#include "sim/simulate.hpp"

namespace mixprec::sim::systemc {

// Differences below this (percent of the analytical cycles) are reported as agreement.
constexpr double kAgreePercent = 1.0;

struct LayerDifference {
  std::string name;
  double cycles_analytical = 0, cycles_systemc = 0, cycles_diff_percent = 0;
  double energy_analytical_uj = 0, energy_systemc_uj = 0, energy_diff_percent = 0;
  double dram_bytes_analytical = 0, dram_bytes_systemc = 0;
  StallBreakdown stall_diff;  // SystemC minus analytical, by cause
  // The cause that moves the cycles most in the direction of the difference ("" when the
  // engines agree within kAgreePercent), and what it means.
  std::string effect;
  std::string explanation;
};

struct Comparison {
  std::vector<LayerDifference> layers;
  LayerDifference total;
};

Comparison compare(const NetworkCost& analytical, const NetworkCost& systemc);

// {"engines": {"analytical": <simulate doc>, "systemc": <simulate doc>}, "differences": ...}
nlohmann::json comparison_to_json(const Scenario& sc, const SimulationResult& analytical,
                                  const SimulationResult& systemc, const Comparison& cmp);
std::string comparison_to_table(const Scenario& sc, const Comparison& cmp);
std::string comparison_to_csv(const Comparison& cmp);

}  // namespace mixprec::sim::systemc
