#include "core/factorization.hpp"

#include <algorithm>
#include <limits>

#include "core/errors.hpp"

namespace mixprec {

const char* to_string(FactorizationKind k) {
  switch (k) {
    case FactorizationKind::None: return "none";
    case FactorizationKind::TensorTrain: return "tt";
    case FactorizationKind::HierarchicalTucker: return "ht";
  }
  return "?";
}

Factorization tensor_train(std::vector<int> input_modes, std::vector<int> hidden_modes, std::vector<int> ranks,
                           bool fold_gates) {
  Factorization f;
  f.kind = FactorizationKind::TensorTrain;
  f.input_modes = std::move(input_modes);
  f.hidden_modes = std::move(hidden_modes);
  f.ranks = std::move(ranks);
  f.fold_gates = fold_gates;
  return f;
}

Factorization hierarchical_tucker(std::vector<int> input_modes, std::vector<int> hidden_modes,
                                  std::vector<int> leaf_ranks, std::vector<int> transfer_ranks, bool fold_gates) {
  Factorization f;
  f.kind = FactorizationKind::HierarchicalTucker;
  f.input_modes = std::move(input_modes);
  f.hidden_modes = std::move(hidden_modes);
  f.leaf_ranks = std::move(leaf_ranks);
  f.transfer_ranks = std::move(transfer_ranks);
  f.fold_gates = fold_gates;
  return f;
}

std::vector<int> Factorization::output_modes() const {
  std::vector<int> o = hidden_modes;
  if (fold_gates && !o.empty()) o[0] *= 4;  // the four gates [i f g o], most significant
  return o;
}

namespace {
std::string join_dash(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "-" : "") + std::to_string(v[i]);
  return s;
}
bool all_le(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] > b[i]) return false;
  return true;
}
}  // namespace

std::optional<Factorization> factorization_from_core_dims(const Factorization& f,
                                                          const std::vector<std::vector<int>>& dims) {
  const TensorNetwork tn = make_tensor_network(f);
  if (dims.size() != tn.cores.size()) return std::nullopt;
  // Axes: i_1..i_d, j_1..j_d, then the rank axes in the order make_tensor_network creates them:
  // TT r_1..r_{d-1}; HT the transfer ranks (breadth-first), then the leaf ranks.
  std::vector<int> size(tn.axis_size.size(), 0);
  for (std::size_t c = 0; c < dims.size(); ++c) {
    const std::vector<int>& axes = tn.cores[c].axes;
    if (dims[c].size() < axes.size()) return std::nullopt;
    for (std::size_t k = axes.size(); k < dims[c].size(); ++k)
      if (dims[c][k] != 1) return std::nullopt;
    for (std::size_t k = 0; k < axes.size(); ++k) {
      int& s = size[size_t(axes[k])];
      if (dims[c][k] < 1 || (s != 0 && s != dims[c][k])) return std::nullopt;
      s = dims[c][k];
    }
  }
  const std::size_t d = f.input_modes.size();
  for (std::size_t a = 0; a < 2 * d; ++a)
    if (size[a] != tn.axis_size[a]) return std::nullopt;
  Factorization out = f;
  std::size_t a = 2 * d;
  if (f.kind == FactorizationKind::TensorTrain) {
    for (std::size_t k = 1; k < d; ++k) out.ranks[k] = size[a++];
  } else {
    for (int& r : out.transfer_ranks) r = size[a++];
    for (int& r : out.leaf_ranks) r = size[a++];
  }
  return out;
}

std::string rank_label(const Factorization& f) {
  if (f.kind == FactorizationKind::TensorTrain) return join_dash(f.ranks);
  if (f.kind == FactorizationKind::HierarchicalTucker)
    return "leaf " + join_dash(f.leaf_ranks) + (f.transfer_ranks.empty() ? "" : ", transfer " + join_dash(f.transfer_ranks));
  return "dense";
}

bool ranks_at_most(const Factorization& a, const Factorization& b) {
  return a.kind == b.kind && all_le(a.ranks, b.ranks) && all_le(a.leaf_ranks, b.leaf_ranks) &&
         all_le(a.transfer_ranks, b.transfer_ranks);
}

std::int64_t TensorCore::size(const std::vector<int>& axis_size) const {
  std::int64_t s = 1;
  for (int a : axes) s *= axis_size[size_t(a)];
  return s;
}

std::int64_t TensorNetwork::parameter_count() const {
  std::int64_t p = 0;
  for (const TensorCore& c : cores) p += c.size(axis_size);
  return p;
}

std::int64_t TensorNetwork::in_features() const {
  std::int64_t p = 1;
  for (int a : input_axes) p *= axis_size[size_t(a)];
  return p;
}

std::int64_t TensorNetwork::out_features() const {
  std::int64_t p = 1;
  for (int a : output_axes) p *= axis_size[size_t(a)];
  return p;
}

namespace {

int add_axis(TensorNetwork& tn, const std::string& name, int size) {
  tn.axis_size.push_back(size);
  tn.axis_name.push_back(name);
  return int(tn.axis_size.size()) - 1;
}

}  // namespace

std::vector<HtInternalNode> ht_internal_nodes(int d) {
  MIXPREC_CHECK(d >= 2, "an HT tree of at least two modes");
  std::vector<HtInternalNode> nodes{HtInternalNode{0, d}};
  for (std::size_t q = 0; q < nodes.size(); ++q) {
    const int lo = nodes[q].lo, hi = nodes[q].hi, mid = nodes[q].mid();
    if (mid - lo >= 2) {
      nodes[q].left = int(nodes.size());
      nodes.push_back(HtInternalNode{lo, mid});
    }
    if (hi - mid >= 2) {
      nodes[q].right = int(nodes.size());
      nodes.push_back(HtInternalNode{mid, hi});
    }
  }
  MIXPREC_CHECK(int(nodes.size()) == d - 1, "ht tree size");
  return nodes;
}

TensorNetwork make_tensor_network(const Factorization& f) {
  const int d = int(f.input_modes.size());
  MIXPREC_CHECK(f.active() && d >= 2 && d <= kMaxFactorModes && int(f.hidden_modes.size()) == d,
                "factorization modes");
  TensorNetwork tn;
  const std::vector<int> out = f.output_modes();
  for (int k = 0; k < d; ++k)
    tn.input_axes.push_back(add_axis(tn, "i" + std::to_string(k + 1), f.input_modes[size_t(k)]));
  for (int k = 0; k < d; ++k)
    tn.output_axes.push_back(add_axis(tn, "j" + std::to_string(k + 1), out[size_t(k)]));
  if (f.kind == FactorizationKind::TensorTrain) {
    MIXPREC_CHECK(int(f.ranks.size()) == d + 1 && f.ranks.front() == 1 && f.ranks.back() == 1,
                  "tt ranks");
    // Rank axes r_1 .. r_{d-1}; the boundary ranks r_0 = r_d = 1 carry no axis.
    std::vector<int> r(size_t(d + 1), -1);
    for (int k = 1; k < d; ++k) r[size_t(k)] = add_axis(tn, "r" + std::to_string(k), f.ranks[size_t(k)]);
    for (int k = 0; k < d; ++k) {
      TensorCore c;
      c.name = "tt_core" + std::to_string(k + 1);
      if (k > 0) c.axes.push_back(r[size_t(k)]);
      c.axes.push_back(tn.input_axes[size_t(k)]);
      c.axes.push_back(tn.output_axes[size_t(k)]);
      if (k + 1 < d) c.axes.push_back(r[size_t(k + 1)]);
      tn.cores.push_back(c);
    }
    return tn;
  }
  MIXPREC_CHECK(f.kind == FactorizationKind::HierarchicalTucker, "factorization kind");
  MIXPREC_CHECK(int(f.leaf_ranks.size()) == d && int(f.transfer_ranks.size()) == d - 2, "ht ranks");
  // Internal nodes breadth-first (root first); each but the root has a rank axis to its parent.
  const std::vector<HtInternalNode> nodes = ht_internal_nodes(d);
  auto range_name = [](const HtInternalNode& n) { return std::to_string(n.lo + 1) + "-" + std::to_string(n.hi); };
  std::vector<int> rank_axis(nodes.size(), -1);
  for (std::size_t q = 1; q < nodes.size(); ++q)
    rank_axis[q] = add_axis(tn, "r" + range_name(nodes[q]), f.transfer_ranks[q - 1]);
  std::vector<int> leaf_axis(static_cast<std::size_t>(d), -1);
  for (int k = 0; k < d; ++k) {
    leaf_axis[size_t(k)] = add_axis(tn, "r" + std::to_string(k + 1), f.leaf_ranks[size_t(k)]);
    TensorCore c;
    c.name = "ht_leaf" + std::to_string(k + 1);
    c.axes = {tn.input_axes[size_t(k)], tn.output_axes[size_t(k)], leaf_axis[size_t(k)]};
    tn.cores.push_back(c);
  }
  // Transfer tensors, deepest first (the order they are listed in does not matter to planning).
  for (std::size_t q = nodes.size(); q-- > 0;) {
    const HtInternalNode& n = nodes[q];
    TensorCore c;
    c.name = q == 0 ? "ht_root" : "ht_node" + range_name(n);
    if (rank_axis[q] >= 0) c.axes.push_back(rank_axis[q]);
    c.axes.push_back(n.left >= 0 ? rank_axis[size_t(n.left)] : leaf_axis[size_t(n.lo)]);
    c.axes.push_back(n.right >= 0 ? rank_axis[size_t(n.right)] : leaf_axis[size_t(n.mid())]);
    tn.cores.push_back(c);
  }
  return tn;
}

namespace {

using Mask = std::uint64_t;

Mask mask_of(const std::vector<int>& axes) {
  Mask m = 0;
  for (int a : axes) m |= Mask(1) << a;
  return m;
}

std::int64_t product(const TensorNetwork& tn, Mask m) {
  std::int64_t p = 1;
  for (std::size_t a = 0; a < tn.axis_size.size(); ++a)
    if (m >> a & 1) p *= tn.axis_size[a];
  return p;
}

}  // namespace

ContractionPlan plan_contraction(const TensorNetwork& tn, const std::vector<int>& order) {
  MIXPREC_CHECK(tn.axis_size.size() <= 64, "at most 64 axes");
  std::vector<bool> seen(tn.cores.size(), false);
  MIXPREC_CHECK(order.size() == tn.cores.size(), "order covers every core");
  ContractionPlan plan;
  plan.order = order;
  std::vector<int> state = tn.input_axes;
  for (int c : order) {
    MIXPREC_CHECK(c >= 0 && size_t(c) < tn.cores.size() && !seen[size_t(c)], "order is a permutation");
    seen[size_t(c)] = true;
    const std::vector<int>& core = tn.cores[size_t(c)].axes;
    ContractionStep s;
    s.core = c;
    for (int a : state)
      (std::find(core.begin(), core.end(), a) != core.end() ? s.contracted : s.kept).push_back(a);
    for (int a : core)
      if (std::find(state.begin(), state.end(), a) == state.end()) s.added.push_back(a);
    for (int a : s.kept) s.m *= tn.axis_size[size_t(a)];
    for (int a : s.contracted) s.k *= tn.axis_size[size_t(a)];
    for (int a : s.added) s.n *= tn.axis_size[size_t(a)];
    state = s.kept;
    state.insert(state.end(), s.added.begin(), s.added.end());
    plan.macs_per_row += s.macs_per_row();
    plan.steps.push_back(std::move(s));
  }
  plan.final_axes = state;
  MIXPREC_CHECK(mask_of(state) == mask_of(tn.output_axes) && state.size() == tn.output_axes.size(),
                "the contraction ends with the output axes");
  return plan;
}

ContractionPlan plan_min_macs(const TensorNetwork& tn) {
  const int n = int(tn.cores.size());
  MIXPREC_CHECK(n >= 1 && n <= 20 && tn.axis_size.size() <= 64, "network size for planning");
  std::vector<Mask> core_mask;
  for (const TensorCore& c : tn.cores) core_mask.push_back(mask_of(c.axes));
  const std::size_t states = std::size_t(1) << n;
  // state(S) = axes of x xor the cores in S (every axis appears exactly twice overall).
  std::vector<Mask> state(states, 0);
  state[0] = mask_of(tn.input_axes);
  for (std::size_t s = 1; s < states; ++s) {
    int low = 0;
    while (!(s >> low & 1)) ++low;
    state[s] = state[s & (s - 1)] ^ core_mask[size_t(low)];
  }
  // Backward DP: best[S] = fewest MACs per row to finish from S; next[S] the core to add.
  // Scanning candidate cores in index order with a strict < keeps the lexicographically
  // smallest best order.
  const std::int64_t inf = std::numeric_limits<std::int64_t>::max();
  std::vector<std::int64_t> best(states, inf);
  std::vector<int> next(states, -1);
  best[states - 1] = 0;
  for (std::size_t s = states - 1; s-- > 0;) {
    for (int c = 0; c < n; ++c) {
      if (s >> c & 1) continue;
      const std::int64_t step = product(tn, state[s] | core_mask[size_t(c)]);
      const std::int64_t rest = best[s | (std::size_t(1) << c)];
      if (rest == inf) continue;
      const std::int64_t total = step + rest;
      if (total < best[s]) {
        best[s] = total;
        next[s] = c;
      }
    }
  }
  std::vector<int> order;
  for (std::size_t s = 0; s != states - 1; s |= std::size_t(1) << next[s]) order.push_back(next[s]);
  ContractionPlan plan = plan_contraction(tn, order);
  MIXPREC_CHECK(plan.macs_per_row == best[0], "planned MACs");
  return plan;
}

std::string describe_order(const TensorNetwork& tn, const ContractionPlan& plan) {
  std::string s;
  for (int c : plan.order) s += (s.empty() ? "" : " > ") + tn.cores[size_t(c)].name;
  return s;
}

}  // namespace mixprec
