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

using TermMap = std::map<std::vector<int>, Term>;

// The term over `groups` (ascending, distinct; created, zero, on first use).
Term& term_over(Problem& p, TermMap& terms, const std::vector<int>& groups) {
  Term& t = terms[groups];
  if (t.groups.empty()) {
    t.groups = groups;
    std::size_t n = 1;
    for (int g : groups) {
      t.sizes.push_back(int(p.groups[size_t(g)].items.size()));
      n *= p.groups[size_t(g)].items.size();
    }
    t.cost.assign(n, Costs{});
  }
  return t;
}

// Calls f(flat) for every combination of the term's groups' items, with item_of_group set to it.
template <class F>
void for_each_combination(const Term& t, std::vector<int>& item_of_group, F f) {
  for (std::size_t i = 0; i < t.cost.size(); ++i) {
    std::size_t x = i;
    for (std::size_t k = t.groups.size(); k-- > 0;) {
      item_of_group[size_t(t.groups[k])] = int(x % size_t(t.sizes[k]));
      x /= size_t(t.sizes[k]);
    }
    f(i);
  }
}

void add_handover_terms(Problem& p, const sim::CostTable& costs, const std::vector<int>& group_of,
                        const std::vector<int>& choice_of, TermMap& terms) {
  if (!costs.residency.enabled) return;
  std::vector<int> item_of_group(p.groups.size(), 0);
  // The entry of layer l at its group's current item.
  auto entry = [&](int l) -> const sim::CostEntry& {
    const int g = group_of[size_t(l)];
    return entry_of(p, costs, choice_of, l, p.groups[size_t(g)].items[size_t(item_of_group[size_t(g)])]);
  };
  // Each edge's dynamic energy.
  for (const sim::HandoverEdge& e : costs.handover_edges) {
    const int gp = group_of[size_t(e.producer)], gc = group_of[size_t(e.consumer)];
    auto delta = [&] {
      return sim::evaluate_handover(costs.residency, e, entry(e.producer).handover, entry(e.consumer).handover).delta_pj();
    };
    if (gp == gc) {
      auto& items = p.groups[size_t(gp)].items;
      for (std::size_t i = 0; i < items.size(); ++i) {
        item_of_group[size_t(gp)] = int(i);
        items[i].cost[kEnergy] += delta();
      }
      continue;
    }
    Term& t = term_over(p, terms, {std::min(gp, gc), std::max(gp, gc)});
    for_each_combination(t, item_of_group, [&](std::size_t i) { t.cost[i][kEnergy] += delta(); });
  }
  // Each touched layer's re-timing, over its group and its neighbours'.
  for (std::size_t l = 0; l < group_of.size(); ++l) {
    std::vector<int> gs{group_of[l]};
    for (const sim::HandoverEdge& e : costs.handover_edges)
      if (e.producer == int(l) || e.consumer == int(l)) {
        gs.push_back(group_of[size_t(e.producer)]);
        gs.push_back(group_of[size_t(e.consumer)]);
      }
    if (gs.size() == 1) continue;  // no edge
    std::sort(gs.begin(), gs.end());
    gs.erase(std::unique(gs.begin(), gs.end()), gs.end());
    auto add = [&](Costs& c) {
      if (const sim::Retimed* r = sim::retiming_of(costs, int(l), entry)) {
        c[kCycles] += r->cycles_delta;
        c[kEnergy] += r->energy_delta_pj;
      }
    };
    if (gs.size() == 1) {
      auto& items = p.groups[size_t(gs[0])].items;
      for (std::size_t i = 0; i < items.size(); ++i) {
        item_of_group[size_t(gs[0])] = int(i);
        add(items[i].cost);
      }
      continue;
    }
    Term& t = term_over(p, terms, gs);
    for_each_combination(t, item_of_group, [&](std::size_t i) { add(t.cost[i]); });
  }
}

// The sensitivity table's pair terms: within a group both layers take the item's option; across
// groups a Term's sensitivity.
void add_sensitivity_pairs(Problem& p, const SensitivityTable& sens, const std::vector<int>& group_of,
                           TermMap& terms) {
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
    Term& t = term_over(p, terms, {a, b});
    if (t.sensitivity.empty()) t.sensitivity.assign(ia.size() * ib.size(), 0.0);
    for (std::size_t i = 0; i < ia.size(); ++i)
      for (std::size_t j = 0; j < ib.size(); ++j) {
        const std::size_t oa = size_t((ga == a ? ia[i] : ib[j]).option), ob = size_t((ga == a ? ib[j] : ia[i]).option);
        t.sensitivity[i * ib.size() + j] += pr.values[oa * O + ob];
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
  TermMap terms;
  add_handover_terms(p, costs, group_of, choice_of, terms);
  add_sensitivity_pairs(p, sens, group_of, terms);
  for (auto& kv : terms) {
    bool any = false;
    for (const Costs& c : kv.second.cost)
      for (double x : c) any = any || x != 0;
    for (double x : kv.second.sensitivity) any = any || x != 0;
    if (any) p.terms.push_back(std::move(kv.second));
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
  for (const Term& t : p.terms) {
    const std::size_t i = t.flat(item_of_group);
    for (int r = 0; r < kResources; ++r) s.cost[r] += t.cost[i][r];
    s.sensitivity += t.sens_at(i);
  }
  s.feasible = true;
  for (int r = 0; r < kResources; ++r)
    if (b.exceeded(r, s.cost[r])) s.feasible = false;
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
