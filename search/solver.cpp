#include "search/solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "core/errors.hpp"

namespace mixprec::search {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct State {
  Costs cost;
  double sens;
  int parent;  // index into the previous stage
  int item;    // item chosen in this stage's group
};

bool exceeds(const Costs& c, const Budget& b) {
  for (int r = 0; r < kResources; ++r)
    if (b.exceeded(r, c[r])) return true;
  return false;
}

// Keeps the states not dominated in (tracked resources, sensitivity). `dims` lists the two or
// three tracked resources; energy is always among them, so the final set contains the (energy,
// sensitivity) front.
template <class S>
void prune(std::vector<S>& v, const std::vector<int>& dims) {
  if (dims.size() == 1) {
    // Sort by sensitivity (then the resource); keep a state whose resource is below every kept one.
    const int d0 = dims[0];
    std::sort(v.begin(), v.end(), [&](const S& a, const S& b) {
      if (a.sens != b.sens) return a.sens < b.sens;
      return a.cost[d0] < b.cost[d0];
    });
    double least = kInf;
    std::size_t w = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (v[i].cost[d0] < least) {
        least = v[i].cost[d0];
        v[w++] = v[i];
      }
    v.resize(w);
    return;
  }
  if (dims.size() == 2) {
    // Sort by sensitivity; keep a state unless an earlier kept one is no worse in both
    // resources. The kept set's (d0, d1) staircase answers that in O(log n): the entry with the
    // largest d0 <= x holds the least d1 among all kept states with d0 <= x.
    const int d0 = dims[0], d1 = dims[1];
    std::sort(v.begin(), v.end(), [&](const S& a, const S& b) {
      if (a.sens != b.sens) return a.sens < b.sens;
      if (a.cost[d0] != b.cost[d0]) return a.cost[d0] < b.cost[d0];
      return a.cost[d1] < b.cost[d1];
    });
    std::map<double, double> stair;  // d0 -> d1, d1 strictly decreasing in d0
    std::size_t w = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double x = v[i].cost[d0], y = v[i].cost[d1];
      auto it = stair.upper_bound(x);
      if (it != stair.begin() && std::prev(it)->second <= y) continue;  // dominated
      v[w++] = v[i];
      // Insert (x, y) and drop staircase entries it now covers (d0 >= x and d1 >= y).
      auto pos = stair.lower_bound(x);
      while (pos != stair.end() && pos->second >= y) pos = stair.erase(pos);
      stair[x] = y;
    }
    v.resize(w);
    return;
  }
  // 3 resources: sort by sensitivity (then costs); a state is kept unless an earlier kept one is
  // no worse in every tracked resource.
  std::sort(v.begin(), v.end(), [&](const S& a, const S& b) {
    if (a.sens != b.sens) return a.sens < b.sens;
    for (int d : dims)
      if (a.cost[d] != b.cost[d]) return a.cost[d] < b.cost[d];
    return false;
  });
  std::vector<S> kept;
  kept.reserve(v.size());
  for (const S& s : v) {
    bool dominated = false;
    for (const S& k : kept) {
      bool all = true;
      for (int d : dims)
        if (k.cost[d] > s.cost[d]) {
          all = false;
          break;
        }
      if (all) {
        dominated = true;
        break;
      }
    }
    if (!dominated) kept.push_back(s);
  }
  v.swap(kept);
}

std::vector<int> backtrack(const std::vector<std::vector<State>>& stages, int idx) {
  std::vector<int> choice(stages.size() - 1);
  for (std::size_t g = stages.size() - 1; g >= 1; --g) {
    const State& s = stages[g][idx];
    choice[g - 1] = s.item;
    idx = s.parent;
  }
  return choice;
}

}  // namespace

std::vector<int> expand_choice(const Problem& p, const std::vector<int>& item_of_group) {
  std::vector<int> out(p.layer_names.size(), 0);
  for (std::size_t g = 0; g < p.groups.size(); ++g)
    for (int l : p.groups[g].layers) out[l] = p.groups[g].items[item_of_group[g]].option;
  return out;
}

namespace {

// Lower bounds (cheapest completion) and upper bounds (dearest completion) of the groups g..G-1.
struct Completion {
  std::vector<Costs> rest_min, rest_max;
};

// The end of an exact solve over the kept final states `last`: the best (least sensitivity, then
// least energy) evaluated as res.best, and the (energy, sensitivity) front among them.
// `choice_of(i)` backtracks final state i to its item per group.
template <class S, class ChoiceOf>
void finish_exact(const Problem& p, const Budget& b, const std::vector<S>& last, ChoiceOf choice_of,
                  ExactResult& res) {
  int best = 0;
  for (std::size_t i = 1; i < last.size(); ++i)
    if (last[i].sens < last[best].sens ||
        (last[i].sens == last[best].sens && last[i].cost[kEnergy] < last[best].cost[kEnergy]))
      best = int(i);
  const long evals = res.states;
  res.best = evaluate_choice(p, choice_of(best), b);
  res.best.method = "exact";
  res.best.evaluations = evals;
  std::vector<int> order(last.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  std::sort(order.begin(), order.end(), [&](int a, int c) {
    return last[a].cost[kEnergy] != last[c].cost[kEnergy] ? last[a].cost[kEnergy] < last[c].cost[kEnergy]
                                                          : last[a].sens < last[c].sens;
  });
  double best_sens = kInf;
  for (int i : order)
    if (last[i].sens < best_sens) {
      best_sens = last[i].sens;
      res.front.push_back(ParetoPoint{last[i].cost, last[i].sens, choice_of(i)});
    }
}

// With terms, group g's share includes the least (most) entry of every term whose last group is
// g, so rest_min stays a lower bound whatever the terms' signs.
Completion completion_bounds(const Problem& p) {
  const std::size_t G = p.groups.size();
  Completion c{std::vector<Costs>(G + 1, Costs{}), std::vector<Costs>(G + 1, Costs{})};
  for (std::size_t g = G; g-- > 0;) {
    for (int r = 0; r < kResources; ++r) {
      double lo = kInf, hi = -kInf;
      for (const Item& it : p.groups[g].items) {
        lo = std::min(lo, it.cost[r]);
        hi = std::max(hi, it.cost[r]);
      }
      for (const Term& t : p.terms) {
        if (t.last() != int(g)) continue;
        double plo = kInf, phi = -kInf;
        for (const Costs& x : t.cost) {
          plo = std::min(plo, x[r]);
          phi = std::max(phi, x[r]);
        }
        lo += plo;
        hi += phi;
      }
      c.rest_min[g][r] = c.rest_min[g + 1][r] + lo;
      c.rest_max[g][r] = c.rest_max[g + 1][r] + hi;
    }
  }
  return c;
}

// The kept set of one stage when only energy is tracked: the (energy, sensitivity) front in
// ascending energy (so strictly descending sensitivity), with back pointers for the choice.
struct Back {
  std::int32_t parent;  // index into the previous stage's front
  std::int32_t item;    // item of this stage's group
};

// A cursor over one item's run: the previous front shifted by the item's (energy, sensitivity).
struct Cursor {
  double e, s;
  std::int32_t item;  // index into the group's items (ties: lower item first, as a stable merge)
  std::int32_t i;     // position in the previous front
};
inline bool before(const Cursor& a, const Cursor& b) {
  if (a.e != b.e) return a.e < b.e;
  if (a.s != b.s) return a.s < b.s;
  return a.item < b.item;
}

// A binary min-heap of cursors (at most one per item), kept in a caller-owned array.
struct CursorHeap {
  std::vector<Cursor> h;
  void clear() { h.clear(); }
  bool empty() const { return h.empty(); }
  const Cursor& top() const { return h[0]; }
  void push(const Cursor& c) {
    std::size_t k = h.size();
    h.push_back(c);
    while (k > 0) {
      const std::size_t up = (k - 1) / 2;
      if (!before(h[k], h[up])) break;
      std::swap(h[k], h[up]);
      k = up;
    }
  }
  // Replaces the top by c (or removes it when c is null) and restores the heap.
  void replace_top(const Cursor* c) {
    if (c) {
      h[0] = *c;
    } else {
      h[0] = h.back();
      h.pop_back();
      if (h.empty()) return;
    }
    const std::size_t n = h.size();
    std::size_t k = 0;
    for (;;) {
      std::size_t m = k;
      const std::size_t l = 2 * k + 1, r = l + 1;
      if (l < n && before(h[l], h[m])) m = l;
      if (r < n && before(h[r], h[m])) m = r;
      if (m == k) break;
      std::swap(h[k], h[m]);
      k = m;
    }
  }
};

// Energy-only dynamic programme. Each stage's front is the lower envelope of the previous front
// shifted by each item: a k-way merge of the item runs in (energy, sensitivity) order that keeps
// a candidate only if its sensitivity is below every kept one so far. A run whose next candidate
// is dominated skips, by binary search, straight to its first candidate below the current best
// (the runs' sensitivities descend), so dominated candidates are never materialized; a run
// whose next candidate cannot be completed within the energy budget is dropped (its later
// candidates cost more). Same kept set, in the same order, as generating every candidate,
// sorting by (energy, sensitivity, item) and sweeping, so every stage's front has strictly
// increasing energy and strictly decreasing sensitivity.
ExactResult solve_energy_only(const Problem& p, const Budget& b, const Completion& bounds) {
  ExactResult res;
  const std::size_t G = p.groups.size();
  std::vector<double> fe{0.0}, fs{0.0}, ne, ns;  // current and next front: energy, sensitivity
  std::vector<std::vector<Back>> backs(G);
  // Items that another item of the group dominates in (energy, sensitivity) never enter a front
  // (ties: the lower index stays, as in the merge order).
  std::vector<int> live;
  CursorHeap heap;
  bool feasible = true;
  for (std::size_t g = 0; g < G && feasible; ++g) {
    const auto& items = p.groups[g].items;
    live.clear();
    for (std::size_t j = 0; j < items.size(); ++j) {
      bool dominated = false;
      for (std::size_t k = 0; k < items.size() && !dominated; ++k) {
        if (k == j) continue;
        const bool le = items[k].cost[kEnergy] <= items[j].cost[kEnergy] &&
                        items[k].sensitivity <= items[j].sensitivity;
        const bool equal = items[k].cost[kEnergy] == items[j].cost[kEnergy] &&
                           items[k].sensitivity == items[j].sensitivity;
        dominated = le && (!equal || k < j);
      }
      if (!dominated) live.push_back(int(j));
    }
    const double rest = bounds.rest_min[g + 1][kEnergy];  // cheapest completion
    const std::size_t n = fe.size();
    heap.clear();
    for (int j : live) {
      const Cursor c{fe[0] + items[j].cost[kEnergy], fs[0] + items[j].sensitivity, j, 0};
      if (!b.exceeded(kEnergy, c.e + rest)) heap.push(c);
    }
    ne.clear();
    ns.clear();
    std::vector<Back>& back = backs[g];
    back.clear();
    double best = kInf;
    long examined = 0;
    while (!heap.empty()) {
      const Cursor c = heap.top();
      ++examined;
      const double sj = items[c.item].sensitivity, ej = items[c.item].cost[kEnergy];
      std::size_t next = std::size_t(c.i) + 1;
      if (c.s < best) {
        best = c.s;
        if (!ne.empty() && ne.back() == c.e) {
          // Rounding can make two neighbours of a run equal in energy: the run then holds the
          // higher sensitivity first. The later one dominates the earlier: replace it.
          ns.back() = c.s;
          back.back() = Back{c.i, c.item};
        } else {
          ne.push_back(c.e);
          ns.push_back(c.s);
          back.push_back(Back{c.i, c.item});
        }
      }
      // Skip the run's candidates that the best so far dominates: the first position whose
      // shifted sensitivity is below it (fs descends, so the predicate is monotone).
      if (next < n && !(fs[next] + sj < best)) {
        std::size_t lo = next + 1, hi = n;  // answer in [lo, hi]; hi = n: none
        while (lo < hi) {
          const std::size_t mid = lo + (hi - lo) / 2;
          if (fs[mid] + sj < best)
            hi = mid;
          else
            lo = mid + 1;
        }
        next = lo;
      }
      if (next < n && !b.exceeded(kEnergy, fe[next] + ej + rest)) {
        const Cursor nc{fe[next] + ej, fs[next] + sj, c.item, std::int32_t(next)};
        heap.replace_top(&nc);
      } else {
        heap.replace_top(nullptr);
      }
    }
    res.states += examined;
    res.max_front = std::max(res.max_front, ne.size());
    fe.swap(ne);
    fs.swap(ns);
    feasible = !fe.empty();
  }
  res.best.method = "exact";
  res.best.evaluations = res.states;
  if (!feasible) return res;  // nothing fits the budget
  auto choice_of = [&](std::size_t idx) {
    std::vector<int> choice(G);
    for (std::size_t g = G; g-- > 0;) {
      const Back& bk = backs[g][idx];
      choice[g] = bk.item;
      idx = std::size_t(bk.parent);
    }
    return choice;
  };
  // The last front is sorted by energy with descending sensitivity: its last point has the least
  // sensitivity (and the least energy among equals).
  const long evals = res.states;
  res.best = evaluate_choice(p, choice_of(fe.size() - 1), b);
  res.best.method = "exact";
  res.best.evaluations = evals;
  res.front.reserve(fe.size());
  for (std::size_t k = 0; k < fe.size(); ++k) {
    ParetoPoint pt;
    pt.item_of_group = choice_of(k);
    for (std::size_t g = 0; g < G; ++g) {
      const Item& it = p.groups[g].items[pt.item_of_group[g]];
      for (int r = 0; r < kResources; ++r) pt.cost[r] += it.cost[r];
    }
    pt.sensitivity = fs[k];  // (the sums above repeat the DP's additions in the same order)
    res.front.push_back(std::move(pt));
  }
  return res;
}

// With terms (search/problem.hpp Term over two to four groups: residency's hand-over energy and
// re-timing, and sensitivity terms such as the clado method's cross-layer interactions, of any
// sign; a state's sums hold its items and its closed terms): dynamic programming over the groups
// in order. A term is open after group g while some of its groups are chosen (first <= g) and
// some are not (last > g); it is closed, its entry added, at its last group. A completion's cost
// depends on a partial solution only through its sums and, per open term, the slice of the term's
// table its chosen groups select (the entries over the items of the groups still to come). So a
// state's key is, per open term, the class of that slice: prefixes of the term's groups whose
// slices are equal (every entry, every resource and the sensitivity) share a class, and partial
// solutions with equal keys are interchangeable in every completion. Among them, one dominated
// in the tracked resources and sensitivity can be replaced by its dominator, so the kept sets per
// (stage, key) contain an optimal solution: exact. Keying by the slice rather than by the chosen
// items merges states whose open terms cannot tell them apart (residency's re-timing depends on a
// neighbour's option only through whether the hand-over is on chip and at which stored bits).
// Partial solutions that cannot be completed within the budgets (rest_min counts each term's least
// entry) are dropped. The number of keys per stage is at most the product of the chosen groups'
// item counts over the open terms (one to three groups on the shipped networks).
constexpr double kMaxChainKeys = 1e6;  // keys per stage (memory bound)

struct ChainState {
  Costs cost;
  double sens;
  int parent;  // index into the previous stage's states
  int item;    // this stage's group's item
};
struct ChainStage {
  std::vector<ChainState> states;         // grouped by key, contiguous
  std::vector<std::vector<int>> keys;     // per open term, the class of its slice, per key
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // states of each key
};

// A term's slice classes: after its groups 0..k are chosen (k < n - 1), the distinct slices.
struct TermClasses {
  // next[k][c * sizes[k] + j]: the class after choosing item j of group k from class c of step
  // k - 1 (k = 0: c = 0).
  std::vector<std::vector<int>> next;
  // rep[k][c]: a prefix (flat index over groups 0..k) of class c.
  std::vector<std::vector<std::size_t>> rep;
};

TermClasses term_classes(const Term& t) {
  const std::size_t n = t.groups.size();
  TermClasses tc;
  tc.next.resize(n - 1);
  tc.rep.resize(n - 1);
  std::size_t block = t.cost.size();
  for (std::size_t k = 0; k + 1 < n; ++k) {
    block /= std::size_t(t.sizes[k]);  // entries per prefix of groups 0..k
    const std::vector<std::size_t> prev = k == 0 ? std::vector<std::size_t>{0} : tc.rep[k - 1];
    auto same = [&](std::size_t a, std::size_t b) {
      for (std::size_t i = 0; i < block; ++i) {
        if (t.cost[a * block + i] != t.cost[b * block + i]) return false;
        if (!t.sensitivity.empty() && t.sensitivity[a * block + i] != t.sensitivity[b * block + i]) return false;
      }
      return true;
    };
    // FNV-1a of the slice's bytes: equal slices (up to the sign of zero) hash equal.
    auto hash = [&](std::size_t a) {
      std::uint64_t h = 1469598103934665603ull;
      auto mix = [&](const void* data, std::size_t bytes) {
        const unsigned char* c = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < bytes; ++i) h = (h ^ c[i]) * 1099511628211ull;
      };
      mix(&t.cost[a * block], block * sizeof(Costs));
      if (!t.sensitivity.empty()) mix(&t.sensitivity[a * block], block * sizeof(double));
      return h;
    };
    std::map<std::uint64_t, std::vector<int>> by_hash;
    for (std::size_t c = 0; c < prev.size(); ++c)
      for (int j = 0; j < t.sizes[k]; ++j) {
        const std::size_t prefix = prev[c] * std::size_t(t.sizes[k]) + std::size_t(j);
        std::vector<int>& cands = by_hash[hash(prefix)];
        int cls = -1;
        for (int x : cands)
          if (same(tc.rep[k][std::size_t(x)], prefix)) cls = x;
        if (cls < 0) {
          cls = int(tc.rep[k].size());
          tc.rep[k].push_back(prefix);
          cands.push_back(cls);
        }
        tc.next[k].push_back(cls);
      }
  }
  return tc;
}

ExactResult solve_chain(const Problem& p, const Budget& b, const Completion& bounds, const std::vector<int>& dims) {
  ExactResult res;
  const std::size_t G = p.groups.size();
  const std::size_t T = p.terms.size();
  std::vector<TermClasses> classes;
  classes.reserve(T);
  for (const Term& t : p.terms) {
    MIXPREC_CHECK(t.groups.size() >= 2 && std::is_sorted(t.groups.begin(), t.groups.end()) &&
                      t.sizes.size() == t.groups.size(),
                  "terms over two or more ascending groups");
    for (std::size_t k = 0; k < t.groups.size(); ++k)
      MIXPREC_CHECK(std::size_t(t.sizes[k]) == p.groups[std::size_t(t.groups[k])].items.size() &&
                        t.cost.size() % std::size_t(t.sizes[k]) == 0,
                    "a term's sizes are its groups' item counts");
    classes.push_back(term_classes(t));
  }
  // open[g]: the terms open after group g, in p.terms order.
  std::vector<std::vector<int>> open(G);
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t t = 0; t < T; ++t)
      if (p.terms[t].first() <= int(g) && p.terms[t].last() > int(g)) open[g].push_back(int(t));
  // Step of term t at group g: the position of g among its groups, or -1.
  auto step = [&](int t, int g) {
    const auto& gs = p.terms[std::size_t(t)].groups;
    const auto it = std::lower_bound(gs.begin(), gs.end(), g);
    return it != gs.end() && *it == g ? int(it - gs.begin()) : -1;
  };
  // Steps chosen so far of term t after group g (its classes then are rep[that - 1]).
  auto chosen = [&](int t, int g) {
    const auto& gs = p.terms[std::size_t(t)].groups;
    return int(std::upper_bound(gs.begin(), gs.end(), g) - gs.begin());
  };
  // The keys per stage are at most the product of the open terms' classes, and of the items of
  // the chosen groups of the open terms: terms between every pair of many groups (the clado
  // method's all-pairs table on a deep network) make that exponential, refused here rather than
  // exhausting memory.
  for (std::size_t g = 0; g < G; ++g) {
    double by_class = 1, by_items = 1;
    std::vector<int> frontier;
    for (int t : open[g]) {
      by_class *= double(classes[std::size_t(t)].rep[std::size_t(chosen(t, int(g)) - 1)].size());
      for (int h : p.terms[std::size_t(t)].groups)
        if (h <= int(g)) frontier.push_back(h);
    }
    std::sort(frontier.begin(), frontier.end());
    frontier.erase(std::unique(frontier.begin(), frontier.end()), frontier.end());
    for (int h : frontier) by_items *= double(p.groups[std::size_t(h)].items.size());
    const double combos = std::min(by_class, by_items);
    if (combos > kMaxChainKeys) {
      char n[32];
      std::snprintf(n, sizeof n, "%.3g", combos);
      throw UsageError("the exact solver's terms keep " + std::to_string(frontier.size()) +
                       " groups open at once after group " + std::to_string(g) + " (" + n +
                       " combinations of their options, more than 1e+06): use pair terms between adjacent "
                       "layers only (clado:neighbours) or fewer free layers");
    }
  }
  std::vector<ChainStage> stages;
  stages.reserve(G);
  ChainStage start;
  start.states.push_back(ChainState{Costs{}, 0.0, -1, -1});
  start.keys.push_back({});
  start.ranges.push_back({0, 1});
  std::map<std::vector<int>, std::size_t> bucket_of;
  std::vector<std::vector<ChainState>> buckets;
  std::vector<std::vector<int>> bucket_keys;
  for (std::size_t g = 0; g < G; ++g) {
    const auto& items = p.groups[g].items;
    const ChainStage& prev = g > 0 ? stages.back() : start;
    const std::vector<int> no_terms;
    const std::vector<int>& oprev = g > 0 ? open[g - 1] : no_terms;
    auto position = [&](int t) {
      return int(std::find(oprev.begin(), oprev.end(), t) - oprev.begin());  // oprev.size(): not open
    };
    // The terms that close at g, with their position in the previous key.
    struct Closing {
      const Term* t;
      const std::vector<std::size_t>* rep;
      int pos;
    };
    std::vector<Closing> closing;
    for (std::size_t t = 0; t < T; ++t)
      if (p.terms[t].last() == int(g)) {
        const Term& term = p.terms[t];
        closing.push_back({&term, &classes[t].rep[term.groups.size() - 2], position(int(t))});
      }
    // The open terms after g: where their class comes from.
    struct Open {
      int pos;                       // in the previous key (oprev.size(): opens at g)
      const std::vector<int>* next;  // the term's step at g (null: g is not one of its groups)
      int size;                      // items of g
    };
    std::vector<Open> opens;
    for (int t : open[g]) {
      const int k = step(t, int(g));
      opens.push_back({position(t), k >= 0 ? &classes[std::size_t(t)].next[std::size_t(k)] : nullptr,
                       int(items.size())});
    }
    bucket_of.clear();
    buckets.clear();
    bucket_keys.clear();
    std::vector<int> key(opens.size());
    for (std::size_t k = 0; k < prev.keys.size(); ++k) {
      const std::vector<int>& pk = prev.keys[k];
      for (std::size_t j = 0; j < items.size(); ++j) {
        Costs add = items[j].cost;
        double add_sens = items[j].sensitivity;
        for (const Closing& c : closing) {
          const std::size_t i = (*c.rep)[std::size_t(pk[std::size_t(c.pos)])] * items.size() + j;
          for (int r = 0; r < kResources; ++r) add[r] += c.t->cost[i][r];
          add_sens += c.t->sens_at(i);
        }
        for (std::size_t f = 0; f < opens.size(); ++f) {
          const Open& o = opens[f];
          const int from = o.pos < int(pk.size()) ? pk[std::size_t(o.pos)] : 0;
          key[f] = o.next ? (*o.next)[std::size_t(from) * std::size_t(o.size) + j] : from;
        }
        auto found = bucket_of.find(key);
        std::size_t bi;
        if (found == bucket_of.end()) {
          bi = buckets.size();
          bucket_of.emplace(key, bi);
          buckets.emplace_back();
          bucket_keys.push_back(key);
        } else {
          bi = found->second;
        }
        std::vector<ChainState>& out = buckets[bi];
        for (std::size_t i = prev.ranges[k].first; i < prev.ranges[k].second; ++i) {
          ChainState s;
          for (int r = 0; r < kResources; ++r) s.cost[r] = prev.states[i].cost[r] + add[r];
          s.sens = prev.states[i].sens + add_sens;
          Costs lower = s.cost;
          for (int r = 0; r < kResources; ++r) lower[r] += bounds.rest_min[g + 1][r];
          if (exceeds(lower, b)) continue;
          s.parent = int(i);
          s.item = int(j);
          out.push_back(s);
        }
        res.states += long(prev.ranges[k].second - prev.ranges[k].first);
      }
    }
    ChainStage next;
    for (std::size_t bi = 0; bi < buckets.size(); ++bi) {
      prune(buckets[bi], dims);
      if (buckets[bi].empty()) continue;
      const std::size_t first = next.states.size();
      next.states.insert(next.states.end(), buckets[bi].begin(), buckets[bi].end());
      next.keys.push_back(bucket_keys[bi]);
      next.ranges.push_back({first, next.states.size()});
    }
    res.max_front = std::max(res.max_front, next.states.size());
    stages.push_back(std::move(next));
    if (stages.back().states.empty()) break;  // nothing fits the budget
  }
  res.best.method = "exact";
  res.best.evaluations = res.states;
  if (stages.size() != G || stages.back().states.empty()) return res;  // infeasible
  auto choice_of = [&](int idx) {
    std::vector<int> choice(G);
    for (std::size_t g = G; g-- > 0;) {
      const ChainState& st = stages[g].states[std::size_t(idx)];
      choice[g] = st.item;
      idx = st.parent;
    }
    return choice;
  };
  finish_exact(p, b, stages.back().states, choice_of, res);
  return res;
}

}  // namespace

ExactResult solve_exact(const Problem& p, const Budget& b) {
  // A resource needs tracking only if some completion could exceed its budget: when even the
  // most expensive choice in every group fits, the budget cannot bind (energy is always tracked
  // for the front). Remaining-minimum bounds drop partial solutions that cannot be completed.
  const Completion bounds = completion_bounds(p);
  const std::vector<Costs>& rest_min = bounds.rest_min;
  const std::vector<Costs>& rest_max = bounds.rest_max;
  std::vector<int> dims{kEnergy};
  for (int r : {kCycles, kSize})
    if (b.active(r) && rest_max[0][r] > b.limit[r]) dims.push_back(r);
  if (!p.terms.empty()) return solve_chain(p, b, bounds, dims);
  if (dims.size() == 1) return solve_energy_only(p, b, bounds);
  // Two or three tracked resources: generate every completable candidate, keep the
  // non-dominated ones (prune).
  ExactResult res;
  std::vector<std::vector<State>> stages;
  stages.reserve(p.groups.size() + 1);
  stages.push_back({State{Costs{}, 0.0, -1, -1}});
  for (std::size_t g = 0; g < p.groups.size(); ++g) {
    const auto& prev = stages.back();
    const auto& items = p.groups[g].items;
    std::vector<State> next;
    next.reserve(prev.size() * items.size());
    for (std::size_t j = 0; j < items.size(); ++j)
      for (std::size_t i = 0; i < prev.size(); ++i) {
        State s;
        for (int r = 0; r < kResources; ++r) s.cost[r] = prev[i].cost[r] + items[j].cost[r];
        s.sens = prev[i].sens + items[j].sensitivity;
        Costs lower = s.cost;
        for (int r = 0; r < kResources; ++r) lower[r] += rest_min[g + 1][r];
        if (exceeds(lower, b)) continue;
        s.parent = int(i);
        s.item = int(j);
        next.push_back(s);
      }
    res.states += long(prev.size() * items.size());
    prune(next, dims);
    res.max_front = std::max(res.max_front, next.size());
    stages.push_back(std::move(next));
    if (stages.back().empty()) break;  // nothing fits the budget
  }
  const auto& last = stages.back();
  res.best.method = "exact";
  res.best.evaluations = res.states;
  if (stages.size() != p.groups.size() + 1 || last.empty()) return res;  // infeasible
  finish_exact(p, b, last, [&](int i) { return backtrack(stages, i); }, res);
  return res;
}

Solution solve_brute_force(const Problem& p, const Budget& b, long max_points) {
  long total = 1;
  for (const auto& g : p.groups) {
    total *= long(g.items.size());
    MIXPREC_CHECK(total <= max_points, "brute force is for small instances");
  }
  std::vector<int> choice(p.groups.size(), 0);
  Solution best;
  best.method = "brute_force";
  for (long n = 0; n < total; ++n) {
    long x = n;
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
      choice[g] = int(x % long(p.groups[g].items.size()));
      x /= long(p.groups[g].items.size());
    }
    Solution s = evaluate_choice(p, choice, b);
    if (s.feasible && (!best.feasible || s.sensitivity < best.sensitivity)) best = s;
  }
  best.method = "brute_force";
  best.evaluations = total;
  return best;
}

Solution solve_uniform(const Problem& p, const Budget& b) {
  // Every group at the same option (groups that cannot take it keep their cheapest item; a
  // rank-searched layer takes the option at its least sensitive rank candidate).
  Solution best;
  long evals = 0;
  for (std::size_t o = 0; o < p.options.size(); ++o) {
    std::vector<int> choice(p.groups.size());
    bool any = false;
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
      const auto& items = p.groups[g].items;
      int pick = -1;
      for (std::size_t j = 0; j < items.size(); ++j)
        if (items[j].option == int(o) && (pick < 0 || items[j].sensitivity < items[size_t(pick)].sensitivity))
          pick = int(j);
      if (pick < 0) {
        pick = 0;
        for (std::size_t j = 1; j < items.size(); ++j)
          if (items[j].cost[kEnergy] < items[pick].cost[kEnergy]) pick = int(j);
      } else {
        any = true;
      }
      choice[g] = pick;
    }
    if (!any) continue;
    ++evals;
    Solution s = evaluate_choice(p, choice, b);
    if (s.feasible && (!best.feasible || s.sensitivity < best.sensitivity ||
                       (s.sensitivity == best.sensitivity && s.cost[kEnergy] < best.cost[kEnergy])))
      best = s;
  }
  best.method = "uniform";
  best.evaluations = evals;
  return best;
}

namespace {
// Item j of group g's cost and sensitivity with the pair terms to its neighbours at their
// current items.
struct InContext {
  Costs cost;
  double sens;
};
InContext in_context(const Problem& p, const std::vector<int>& choice, std::size_t g, int j) {
  const Item& it = p.groups[g].items[std::size_t(j)];
  InContext c{it.cost, it.sensitivity};
  for (const Term& t : p.terms) {
    if (!std::binary_search(t.groups.begin(), t.groups.end(), int(g))) continue;
    std::size_t i = 0;
    for (std::size_t k = 0; k < t.groups.size(); ++k)
      i = i * std::size_t(t.sizes[k]) + std::size_t(t.groups[k] == int(g) ? j : choice[std::size_t(t.groups[k])]);
    for (int r = 0; r < kResources; ++r) c.cost[r] += t.cost[i][r];
    c.sens += t.sens_at(i);
  }
  return c;
}
}  // namespace

Solution solve_greedy(const Problem& p, const Budget& b) {
  // HAQ's budget rule: start from the most precise configuration and lower precision until the
  // budget holds. Each step takes the move with the least sensitivity added per unit of the
  // violated resources saved (normalized by their budgets).
  const std::size_t G = p.groups.size();
  std::vector<int> choice(G);
  for (std::size_t g = 0; g < G; ++g) {
    const auto& items = p.groups[g].items;
    int pick = 0;
    for (std::size_t j = 1; j < items.size(); ++j)
      if (items[j].sensitivity < items[pick].sensitivity ||
          (items[j].sensitivity == items[pick].sensitivity && items[j].cost[kEnergy] > items[pick].cost[kEnergy]))
        pick = int(j);
    choice[g] = pick;
  }
  Solution cur = evaluate_choice(p, choice, b);
  long evals = 1;
  std::set<std::vector<int>> seen{choice};
  while (!cur.feasible) {
    double best_ratio = kInf;
    int bg = -1, bj = -1;
    for (std::size_t g = 0; g < G; ++g) {
      const InContext now = in_context(p, choice, g, choice[g]);
      for (std::size_t j = 0; j < p.groups[g].items.size(); ++j) {
        const InContext it = in_context(p, choice, g, int(j));
        double saved = 0;
        for (int r = 0; r < kResources; ++r)
          if (b.active(r) && cur.cost[r] > b.limit[r]) saved += (now.cost[r] - it.cost[r]) / b.limit[r];
        if (saved <= 0) continue;
        const double ratio = std::max(0.0, it.sens - now.sens) / saved;
        if (ratio < best_ratio) {
          best_ratio = ratio;
          bg = int(g);
          bj = int(j);
        }
      }
    }
    if (bg < 0) break;  // no move reduces the violated resources: infeasible
    choice[bg] = bj;
    // Each move lowers the currently violated resources, but the violated set can change, so the
    // moves can cycle (pair terms make that reachable): a configuration seen before ends the walk.
    if (!seen.insert(choice).second) break;
    cur = evaluate_choice(p, choice, b);
    ++evals;
  }
  cur.method = "greedy";
  cur.evaluations = evals;
  return cur;
}

namespace {
// Fitness for the stochastic baselines: feasible points by sensitivity; infeasible ones rank
// below every feasible point, by their normalized budget violation.
double fitness(const Solution& s, const Budget& b) {
  if (s.feasible) return s.sensitivity;
  double v = 0;
  for (int r = 0; r < kResources; ++r)
    if (b.active(r) && s.cost[r] > b.limit[r]) v += (s.cost[r] - b.limit[r]) / b.limit[r];
  return 1e30 * (1 + v);
}
bool better(const Solution& a, const Solution& b, const Budget& bud) { return fitness(a, bud) < fitness(b, bud); }
}  // namespace

Solution solve_random(const Problem& p, const Budget& b, long evaluations, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> choice(p.groups.size());
  Solution best;
  bool have = false;
  for (long e = 0; e < evaluations; ++e) {
    for (std::size_t g = 0; g < p.groups.size(); ++g)
      choice[g] = int(rng() % p.groups[g].items.size());
    Solution s = evaluate_choice(p, choice, b);
    if (!have || better(s, best, b)) {
      best = s;
      have = true;
    }
  }
  best.method = "random";
  best.evaluations = evaluations;
  return best;
}

Solution solve_evolutionary(const Problem& p, const Budget& b, long evaluations, std::uint64_t seed) {
  // A steady (mu + lambda) genetic algorithm: tournament selection, uniform crossover, per-gene
  // mutation 1/G; every evaluated genome counts against the same budget as random search.
  std::mt19937_64 rng(seed);
  const std::size_t G = p.groups.size();
  const long pop_size = std::max<long>(2, std::min<long>(32, evaluations / 4));
  struct Ind {
    std::vector<int> genes;
    Solution sol;
  };
  std::vector<Ind> pop;
  long evals = 0;
  auto random_ind = [&]() {
    Ind ind;
    ind.genes.resize(G);
    for (std::size_t g = 0; g < G; ++g) ind.genes[g] = int(rng() % p.groups[g].items.size());
    ind.sol = evaluate_choice(p, ind.genes, b);
    ++evals;
    return ind;
  };
  while (long(pop.size()) < pop_size && evals < evaluations) pop.push_back(random_ind());
  std::uniform_real_distribution<double> u(0, 1);
  auto tournament = [&]() -> const Ind& {
    const Ind& a = pop[rng() % pop.size()];
    const Ind& c = pop[rng() % pop.size()];
    return better(a.sol, c.sol, b) ? a : c;
  };
  while (evals < evaluations) {
    const Ind& pa = tournament();
    const Ind& pb = tournament();
    Ind child;
    child.genes.resize(G);
    for (std::size_t g = 0; g < G; ++g) {
      child.genes[g] = u(rng) < 0.5 ? pa.genes[g] : pb.genes[g];
      if (u(rng) < 1.0 / double(G)) child.genes[g] = int(rng() % p.groups[g].items.size());
    }
    child.sol = evaluate_choice(p, child.genes, b);
    ++evals;
    // Replace the worst member if the child is better.
    std::size_t worst = 0;
    for (std::size_t i = 1; i < pop.size(); ++i)
      if (better(pop[worst].sol, pop[i].sol, b)) worst = i;
    if (better(child.sol, pop[worst].sol, b)) pop[worst] = std::move(child);
  }
  std::size_t bi = 0;
  for (std::size_t i = 1; i < pop.size(); ++i)
    if (better(pop[i].sol, pop[bi].sol, b)) bi = i;
  Solution best = pop[bi].sol;
  best.method = "evolutionary";
  best.evaluations = evals;
  return best;
}

}  // namespace mixprec::search
