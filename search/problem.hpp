// The precision-search problem: groups of layers (tied layers share one option), the options each
// group may take, and per (group, option) the additive costs and the predicted sensitivity.
// Built from a cost table and a sensitivity table only: search never calls a simulator or trainer.
#pragma once
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "sim/cost_table.hpp"

namespace mixprec::search {

// Estimated loss increase per (layer, option), with the method and checkpoint it came from.
struct SensitivityTable {
  std::string method;      // "hessian" | "measured" | ...
  std::string checkpoint;  // checkpoint it was computed from ("" if none)
  std::string checkpoint_hash;  // FNV-1a of the checkpoint's bytes ("" if not recorded)
  std::string settings_hash;    // of the method, options and estimator settings ("" if not recorded)
  std::vector<std::string> layers;
  std::vector<LayerPrecision> options;
  std::vector<double> values;  // layers x options, row-major
  // Hessian method: the weight and activation terms whose sum is `values` (empty if unknown).
  std::vector<double> weight_terms, activation_terms;
  double at(std::size_t layer, std::size_t option) const { return values[layer * options.size() + option]; }
};

// Additive resources, in table units: energy pJ, latency cycles, model size bytes.
enum Resource { kEnergy = 0, kCycles = 1, kSize = 2, kResources = 3 };
using Costs = std::array<double, kResources>;

struct Item {
  int option = 0;         // index into the tables' options
  Costs cost{};           // summed over the group's members
  double sensitivity = 0; // summed over the group's members
};

struct Group {
  std::vector<int> layers;  // member layer indices
  std::vector<Item> items;  // allowed options
};

struct Problem {
  std::vector<std::string> layer_names;
  std::vector<LayerPrecision> options;
  std::vector<Group> groups;
  double clock_mhz = 1;
};

struct Budget {
  Costs limit{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
              std::numeric_limits<double>::infinity()};
  bool active(int r) const { return limit[r] < std::numeric_limits<double>::infinity(); }
};

// Search rules from the scenario (`search` section) resolved against the network.
struct Rules {
  std::vector<int> fixed_layers;                // keep the layer's scenario precision
  std::vector<std::vector<int>> ties;           // layers that must share one option
  std::vector<std::array<int, 5>> bit_limits;   // {layer, min_w, max_w, min_a, max_a}
};

// Weight-less layers (add, pool, reshape) follow their first producer's option; explicit ties
// and fixed layers as given. `default_option[layer]` is the option index used for fixed layers.
Problem make_problem(const sim::CostTable& costs, const SensitivityTable& sens, const Network& net,
                     const Rules& rules, const std::vector<int>& default_option);

struct Solution {
  std::vector<int> option_of_layer;  // per layer, index into options
  Costs cost{};
  double sensitivity = 0;
  bool feasible = false;
  long evaluations = 0;     // design points evaluated (baselines) or states expanded (exact)
  std::string method;
};

// Totals of a per-group choice.
Solution evaluate_choice(const Problem& p, const std::vector<int>& item_of_group, const Budget& b);

}  // namespace mixprec::search
