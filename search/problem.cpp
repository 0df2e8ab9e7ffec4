#include "search/problem.hpp"

#include <algorithm>
#include <map>
#include <numeric>

#include "core/errors.hpp"

namespace mixprec::search {

namespace {
int find_root(std::vector<int>& parent, int x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}
}  // namespace

namespace {

// The cost entry an item prices layer l with (a rank-searched layer: its candidate's row).
const sim::CostEntry& entry_of(const Problem& p, const sim::CostTable& costs, const std::vector<int>& choice_of,
                               int l, const Item& it) {
  if (choice_of[size_t(l)] >= 0 && it.variant >= 0)
    return p.rank_choices[size_t(choice_of[size_t(l)])].cost[size_t(it.variant)][size_t(it.option)];
  return costs.at(size_t(l), size_t(it.option));
}

using PairMap = std::map<std::pair<int, int>, PairTerm>;

// The term between groups a < b (created, zero, on first use).
PairTerm& pair_term(Problem& p, PairMap& pairs, int a, int b) {
  PairTerm& pt = pairs[{a, b}];
  if (pt.a < 0) {
    pt.a = a;
    pt.b = b;
    pt.cost.assign(p.groups[size_t(a)].items.size() * p.groups[size_t(b)].items.size(), Costs{});
  }
  return pt;
}

void add_handover_terms(Problem& p, const sim::CostTable& costs, const std::vector<int>& group_of,
                        const std::vector<int>& choice_of, PairMap& pairs) {
  if (!costs.residency.enabled) return;
  for (const sim::HandoverEdge& e : costs.handover_edges) {
    const int gp = group_of[size_t(e.producer)], gc = group_of[size_t(e.consumer)];
    auto delta = [&](const Item& ip, const Item& ic) {
      return sim::evaluate_handover(costs.residency, e, entry_of(p, costs, choice_of, e.producer, ip).handover,
                                    entry_of(p, costs, choice_of, e.consumer, ic).handover)
          .delta_pj();
    };
    if (gp == gc) {
      for (Item& it : p.groups[size_t(gp)].items) it.cost[kEnergy] += delta(it, it);
      continue;
    }
    const int a = std::min(gp, gc), b = std::max(gp, gc);
    const auto& ia = p.groups[size_t(a)].items;
    const auto& ib = p.groups[size_t(b)].items;
    PairTerm& pt = pair_term(p, pairs, a, b);
    for (std::size_t i = 0; i < ia.size(); ++i)
      for (std::size_t j = 0; j < ib.size(); ++j)
        pt.cost[i * ib.size() + j][kEnergy] += gp == a ? delta(ia[i], ib[j]) : delta(ib[j], ia[i]);
  }
}

// The sensitivity table's pair terms: within a group both layers take the item's option; across
// groups a PairTerm's sensitivity.
void add_sensitivity_pairs(Problem& p, const SensitivityTable& sens, const std::vector<int>& group_of,
                           PairMap& pairs) {
  const std::size_t O = sens.options.size();
  for (const SensitivityTable::PairRows& pr : sens.pairs) {
    MIXPREC_CHECK(pr.a >= 0 && pr.a < pr.b && size_t(pr.b) < group_of.size() && pr.values.size() == O * O,
                  "sensitivity pair rows");
    const int ga = group_of[size_t(pr.a)], gb = group_of[size_t(pr.b)];
    if (ga == gb) {
      for (Item& it : p.groups[size_t(ga)].items) it.sensitivity += pr.values[size_t(it.option) * O + size_t(it.option)];
      continue;
    }
    const int a = std::min(ga, gb), b = std::max(ga, gb);
    const auto& ia = p.groups[size_t(a)].items;
    const auto& ib = p.groups[size_t(b)].items;
    PairTerm& pt = pair_term(p, pairs, a, b);
    if (pt.sensitivity.empty()) pt.sensitivity.assign(ia.size() * ib.size(), 0.0);
    for (std::size_t i = 0; i < ia.size(); ++i)
      for (std::size_t j = 0; j < ib.size(); ++j) {
        const std::size_t oa = size_t((ga == a ? ia[i] : ib[j]).option), ob = size_t((ga == a ? ib[j] : ia[i]).option);
        pt.sensitivity[i * ib.size() + j] += pr.values[oa * O + ob];
      }
  }
}

}  // namespace

Problem make_problem(const sim::CostTable& costs, const SensitivityTable& sens, const Network& net,
                     const Rules& rules, const std::vector<int>& default_option,
                     const std::vector<RankChoice>& rank_choices) {
  const std::size_t L = net.layers.size(), O = costs.options.size();
  MIXPREC_CHECK(costs.layers.size() == L && sens.layers.size() == L, "tables match the network");
  MIXPREC_CHECK(sens.options.size() == O, "tables share options");
  MIXPREC_CHECK(default_option.size() == L, "one default option per layer");
  Problem p;
  p.layer_names = costs.layers;
  p.options = costs.options;
  p.clock_mhz = costs.clock_mhz;
  p.rank_choices = rank_choices;
  std::vector<int> choice_of(L, -1);
  for (std::size_t c = 0; c < rank_choices.size(); ++c) {
    const RankChoice& rc = rank_choices[c];
    MIXPREC_CHECK(rc.layer >= 0 && size_t(rc.layer) < L && !rc.labels.empty() &&
                      rc.cost.size() == rc.labels.size() && rc.sensitivity.size() == rc.labels.size(),
                  "rank choice tables");
    for (std::size_t v = 0; v < rc.labels.size(); ++v)
      MIXPREC_CHECK(rc.cost[v].size() == O && rc.sensitivity[v].size() == O, "rank choice rows per option");
    choice_of[size_t(rc.layer)] = int(c);
  }
  // Union-find: weight-less layers join their first producer; explicit ties join each other.
  std::vector<int> parent(L);
  std::iota(parent.begin(), parent.end(), 0);
  auto unite = [&](int a, int b) { parent[find_root(parent, a)] = find_root(parent, b); };
  for (std::size_t i = 0; i < L; ++i) {
    const Layer& l = net.layers[i];
    if (!l.has_weights() && !l.inputs.empty() && l.inputs[0] >= 0) unite(int(i), l.inputs[0]);
  }
  for (const auto& tie : rules.ties)
    for (std::size_t k = 1; k < tie.size(); ++k) unite(tie[k], tie[0]);
  std::vector<int> group_of(L, -1);
  for (std::size_t i = 0; i < L; ++i) {
    int r = find_root(parent, int(i));
    if (group_of[r] < 0) {
      group_of[r] = int(p.groups.size());
      p.groups.emplace_back();
    }
    group_of[i] = group_of[r];
    p.groups[group_of[i]].layers.push_back(int(i));
  }
  std::vector<char> fixed(L, 0);
  for (int f : rules.fixed_layers) fixed[f] = 1;
  for (Group& g : p.groups) {
    // A group with a fixed member takes that member's default option.
    int forced = -1;
    for (int l : g.layers)
      if (fixed[l]) forced = default_option[l];
    int& rank_layer = g.rank_layer;
    for (int l : g.layers)
      if (choice_of[size_t(l)] >= 0) {
        if (rank_layer >= 0)
          throw SpecError("", "/search/ranks",
                          "rank-searched layers in groups of their own (not tied together)",
                          "\"" + net.layers[size_t(rank_layer)].name + "\" and \"" + net.layers[size_t(l)].name +
                              "\" in one group");
        rank_layer = l;
      }
    // Options the group's fixed member and bit rules allow.
    std::vector<char> allowed(O, 1);
    for (std::size_t o = 0; o < O; ++o) {
      if (forced >= 0 && int(o) != forced) allowed[o] = 0;
      for (const auto& lim : rules.bit_limits) {
        if (std::find(g.layers.begin(), g.layers.end(), lim[0]) == g.layers.end()) continue;
        const LayerPrecision& op = costs.options[o];
        const int wb = op.weights().bits, ab = op.activations().bits;
        if (wb < lim[1] || wb > lim[2] || ab < lim[3] || ab > lim[4]) allowed[o] = 0;
      }
    }
    // One item per (rank candidate, allowed option) that fits, candidates outermost.
    const RankChoice* rc = rank_layer >= 0 ? &rank_choices[size_t(choice_of[size_t(rank_layer)])] : nullptr;
    const int variants = rc ? int(rc->labels.size()) : 1;
    for (int v = 0; v < variants; ++v) {
      for (std::size_t o = 0; o < O; ++o) {
        if (!allowed[o]) continue;
        Item it;
        it.option = int(o);
        it.variant = rc ? v : -1;
        bool fits = true;
        for (int l : g.layers) {
          const bool ranked = l == rank_layer;
          const sim::CostEntry& e = ranked ? rc->cost[size_t(v)][o] : costs.at(l, o);
          it.cost[kEnergy] += e.energy_pj;
          it.cost[kCycles] += e.cycles;
          it.cost[kSize] += e.weight_bytes;
          it.sensitivity += ranked ? rc->sensitivity[size_t(v)][o] : sens.at(l, o);
          fits = fits && e.fits;
        }
        if (fits) g.items.push_back(it);
      }
    }
    if (g.items.empty())
      throw SpecError("", "/search", "at least one allowed option for layer \"" + net.layers[g.layers[0]].name + "\"",
                      "none left after the rules and buffer limits");
  }
  PairMap pairs;
  add_handover_terms(p, costs, group_of, choice_of, pairs);
  add_sensitivity_pairs(p, sens, group_of, pairs);
  for (auto& kv : pairs) {
    bool any = false;
    for (const Costs& c : kv.second.cost) any = any || c[kEnergy] != 0;
    for (double x : kv.second.sensitivity) any = any || x != 0;
    if (any) p.pairs.push_back(std::move(kv.second));
  }
  return p;
}

double SensitivityTable::total(const std::vector<int>& option_of_layer) const {
  MIXPREC_CHECK(option_of_layer.size() == layers.size(), "SensitivityTable::total: one option per layer");
  double s = 0;
  for (std::size_t l = 0; l < option_of_layer.size(); ++l) s += at(l, std::size_t(option_of_layer[l]));
  const std::size_t O = options.size();
  for (const PairRows& pr : pairs)
    s += pr.values[std::size_t(option_of_layer[size_t(pr.a)]) * O + std::size_t(option_of_layer[size_t(pr.b)])];
  return s;
}

Solution evaluate_choice(const Problem& p, const std::vector<int>& item_of_group, const Budget& b) {
  Solution s;
  for (std::size_t g = 0; g < p.groups.size(); ++g) {
    const Item& it = p.groups[g].items[item_of_group[g]];
    for (int r = 0; r < kResources; ++r) s.cost[r] += it.cost[r];
    s.sensitivity += it.sensitivity;
  }
  for (const PairTerm& pt : p.pairs) {
    const Costs& c = pt.at(item_of_group[size_t(pt.a)], item_of_group[size_t(pt.b)], p.groups[size_t(pt.b)].items.size());
    for (int r = 0; r < kResources; ++r) s.cost[r] += c[r];
    s.sensitivity += pt.sens_at(item_of_group[size_t(pt.a)], item_of_group[size_t(pt.b)], p.groups[size_t(pt.b)].items.size());
  }
  s.feasible = true;
  for (int r = 0; r < kResources; ++r)
    if (s.cost[r] > b.limit[r]) s.feasible = false;
  s.option_of_layer.assign(p.layer_names.size(), 0);
  s.variant_of_layer.assign(p.layer_names.size(), -1);
  for (std::size_t g = 0; g < p.groups.size(); ++g) {
    const Group& gr = p.groups[g];
    const Item& it = gr.items[item_of_group[g]];
    for (int l : gr.layers) s.option_of_layer[l] = it.option;
    if (gr.rank_layer >= 0) s.variant_of_layer[size_t(gr.rank_layer)] = it.variant;
  }
  s.evaluations = 1;
  return s;
}

}  // namespace mixprec::search
