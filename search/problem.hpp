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
  // Rank-searched layers (scenario search.ranks): the layer truncated to each rank candidate
  // and quantized to each option, alone (measured method).
  struct RankRows {
    std::string layer;
    std::vector<std::string> labels;  // candidates (core/factorization.hpp rank_label)
    std::vector<double> values;       // candidates x options, row-major
  };
  std::vector<RankRows> rank_rows;
  // Pairwise interaction terms ("clado" method, CLADO: Deng, Sharify, Wang and Orshansky, DAC 2025,
  // arXiv 2307.05657): for layers a < b, values[oa * options + ob] = Omega(a, oa; b, ob), the loss
  // change with both layers quantized minus the two single-layer changes. Any sign. Layer pairs
  // without an entry interact by 0. Empty for the other methods.
  struct PairRows {
    int a = -1, b = -1;          // layer indices, a < b
    std::vector<double> values;  // options x options, row-major
  };
  std::vector<PairRows> pairs;
  // THE predicted sensitivity of a configuration (one option index per layer): sum of the
  // single-layer values plus the pair terms at the two layers' options.
  double total(const std::vector<int>& option_of_layer) const;
};

// Additive resources, in table units: energy pJ, latency cycles, model size bytes.
enum Resource { kEnergy = 0, kCycles = 1, kSize = 2, kResources = 3 };
using Costs = std::array<double, kResources>;

struct Item {
  int option = 0;         // index into the tables' options
  Costs cost{};           // summed over the group's members
  double sensitivity = 0; // summed over the group's members
  int variant = -1;       // rank candidate of the group's rank-searched layer (-1: none)
};

struct Group {
  std::vector<int> layers;  // member layer indices
  std::vector<Item> items;  // allowed options
  int rank_layer = -1;      // the member whose ranks are searched (Item::variant), or -1
};

// A layer whose factorization ranks are searched with its bits (scenario search.ranks): per
// rank candidate, the layer's cost and sensitivity per option, in place of its rows of the cost
// and sensitivity tables (which price the layer at its scenario ranks).
struct RankChoice {
  int layer = -1;
  std::vector<std::string> labels;               // per candidate, for reports ("1-4-4-1")
  std::vector<std::vector<sim::CostEntry>> cost; // candidates x options
  std::vector<std::vector<double>> sensitivity;  // candidates x options
};

// A cost over the options of two to four groups (more are accepted; the exact solver refuses a
// problem whose open terms need too many states): between-layer residency, where a hand-over's
// energy depends on the producer's output bits and the consumer's input bits and mapping (two
// groups), and a layer's re-timing on whether each of its hand-overs is on chip (its group and its
// neighbours' groups); the sensitivity table's pair terms (two groups).
// groups: ascending, distinct; sizes[k]: items of groups[k]. cost and sensitivity: over the
// product of the groups' items, row-major (the first group outermost). Any sign. sensitivity
// empty: 0.
struct Term {
  std::vector<int> groups;
  std::vector<int> sizes;
  std::vector<Costs> cost;
  std::vector<double> sensitivity;
  // Position of a choice (item per group of the problem) in the tables.
  std::size_t flat(const std::vector<int>& item_of_group) const {
    std::size_t i = 0;
    for (std::size_t k = 0; k < groups.size(); ++k)
      i = i * std::size_t(sizes[k]) + std::size_t(item_of_group[std::size_t(groups[k])]);
    return i;
  }
  double sens_at(std::size_t flat_index) const { return sensitivity.empty() ? 0.0 : sensitivity[flat_index]; }
  int first() const { return groups.front(); }
  int last() const { return groups.back(); }
};

struct Problem {
  std::vector<std::string> layer_names;
  std::vector<LayerPrecision> options;
  std::vector<Group> groups;
  // At most one per set of groups.
  std::vector<Term> terms;
  std::vector<RankChoice> rank_choices;
  double clock_mhz = 1;
};

struct Budget {
  Costs limit{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
              std::numeric_limits<double>::infinity()};
  bool active(int r) const { return limit[r] < std::numeric_limits<double>::infinity(); }
  // Whether cost `c` of resource r exceeds its limit. A relative 1e-12 absorbs the summation
  // order: a budget equal to a configuration's own network cost (e.g. --budget 1 and the
  // baseline's precision) is the sum of the same per-layer terms, added in another order.
  bool exceeded(int r, double c) const { return c > limit[r] * (1 + 1e-12); }
};

// Search rules from the scenario (`search` section) resolved against the network.
struct Rules {
  std::vector<int> fixed_layers;                // keep the layer's scenario precision
  std::vector<std::vector<int>> ties;           // layers that must share one option
  std::vector<std::array<int, 5>> bit_limits;   // {layer, min_w, max_w, min_a, max_a}
};

// Weight-less layers (add, pool, reshape) follow their first producer's option; explicit ties
// and fixed layers as given. With a table that prices residency, every hand-over edge's energy
// (sim/residency.hpp evaluate_handover) joins the items' costs when both layers are in one group,
// else a Term over the two groups; every layer a hand-over edge touches gets its re-timing
// (sim/cost_table.hpp retiming_of: which of its edges are on chip, from its and its neighbours'
// options) as a Term over its group and its neighbours' groups (the items when they are one
// group). Likewise the sensitivity table's pair terms join the items' sensitivity or a Term's. `default_option[layer]` is the option index used for fixed layers
// (a fixed layer with rank candidates keeps its option but its ranks are still chosen). A group
// with a rank-searched layer has an item per (candidate, allowed option); such a layer may not
// share a group with another rank-searched layer (SpecError).
Problem make_problem(const sim::CostTable& costs, const SensitivityTable& sens, const Network& net,
                     const Rules& rules, const std::vector<int>& default_option,
                     const std::vector<RankChoice>& rank_choices = {});

struct Solution {
  std::vector<int> option_of_layer;  // per layer, index into options
  std::vector<int> variant_of_layer; // per layer, its rank candidate (-1: not rank-searched)
  Costs cost{};
  double sensitivity = 0;
  bool feasible = false;
  long evaluations = 0;     // design points evaluated (baselines) or states expanded (exact)
  std::string method;
};

// Totals of a per-group choice (items, then the terms in order): THE evaluation every solver uses.
Solution evaluate_choice(const Problem& p, const std::vector<int>& item_of_group, const Budget& b);

}  // namespace mixprec::search
