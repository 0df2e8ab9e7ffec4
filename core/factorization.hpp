// Tensor-decomposed weight matrices: tensor-train (TT) and hierarchical-Tucker (HT)
// factorizations of an LSTM's input-to-hidden matrix, as a small tensor network, and the
// planning of its contraction with the input rows.
//
// The matrix W (input features I x 4*hidden, the four gates [i f g o] concatenated) is seen as a
// tensor with d input modes i_1..i_d (prod = I) and d output modes j_1..j_d (prod = 4*hidden).
// The gate dimension is folded into the first output mode: j_1 = 4*h_1, j_k = h_k for k > 1, so
// that the row-major output index (j_1 most significant) is exactly the concatenated gate layout
// (output column gate*hidden + unit).
//  * TT (Oseledets 2011; TT-LSTM: Yang, Krompass & Tresp, ICML 2017): core k is a tensor
//    (r_{k-1}, i_k, j_k, r_k) with r_0 = r_d = 1; parameters sum_k r_{k-1} i_k j_k r_k.
//  * HT (Hackbusch & Kuehn 2009; HT-LSTM: Yin et al., CVPR 2021): a balanced binary dimension
//    tree over the d mode pairs (the left child takes the larger half). Leaf t holds a frame
//    (i_t, j_t, r_t); an internal node with children a, b a transfer tensor (r_node, r_a, r_b);
//    the root's rank is 1, so the root's tensor is (r_a, r_b). Leaf ranks are given per mode;
//    transfer ranks per internal non-root node in breadth-first order (left to right).
//
// Contraction planning: every core is contracted, one at a time, into the running product with
// the input rows x (rows x i_1 ... i_d). The running product after a set S of cores has exactly
// the axes that appear an odd number of times among x and S (each axis appears in exactly two
// of x, the cores and the output), so its shape does not depend on the order within S, and the
// cost of adding core c to S is rows x (product of the sizes of all axes of the state and of
// c): M = kept axes, K = shared axes, N = the core's new axes. plan_min_macs() finds the order
// with the fewest MACs by dynamic programming over subsets (exact over all orders; ties broken
// towards the lexicographically smallest order). The row count only scales the cost, so the
// best order does not depend on batch or sequence length.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mixprec {

enum class FactorizationKind { None, TensorTrain, HierarchicalTucker };
const char* to_string(FactorizationKind k);  // "none" | "tt" | "ht"

inline constexpr int kMaxFactorModes = 8;

struct Factorization {
  FactorizationKind kind = FactorizationKind::None;
  std::vector<int> input_modes;     // prod = input features
  std::vector<int> hidden_modes;    // prod = hidden; output modes fold the gates into mode 1
  std::vector<int> ranks;           // TT: r_0 .. r_d (r_0 = r_d = 1)
  std::vector<int> leaf_ranks;      // HT: one per mode
  std::vector<int> transfer_ranks;  // HT: internal non-root nodes, breadth-first (d - 2)
  std::string pointer;              // JSON pointer of the scenario entry (error messages)
  bool fold_gates = true;           // false: a plain matrix, output modes = hidden_modes

  bool active() const { return kind != FactorizationKind::None; }
  std::vector<int> output_modes() const;  // hidden_modes, the first x4 when fold_gates
};

// A TT / HT factorization of these modes and ranks (fold_gates: the first output mode is x4,
// the LSTM's gates; false: a plain matrix).
Factorization tensor_train(std::vector<int> input_modes, std::vector<int> hidden_modes, std::vector<int> ranks,
                           bool fold_gates = true);
Factorization hierarchical_tucker(std::vector<int> input_modes, std::vector<int> hidden_modes,
                                  std::vector<int> leaf_ranks, std::vector<int> transfer_ranks, bool fold_gates = true);

// Ranks as a scenario's search.ranks or a precision file writes them, before the layer is known:
// a number (every inner rank), TT ranks r_0 .. r_d, or HT leaf and transfer ranks.
struct RankSpec {
  int uniform = 0;  // > 0: every inner rank
  std::vector<int> ranks, leaf_ranks, transfer_ranks;
  bool has_leaf = false, has_transfer = false;
  std::string pointer;  // JSON pointer of the entry (error messages)
};

// One factor of the network: its axes (ids into TensorNetwork::axis_size) in storage order.
struct TensorCore {
  std::string name;  // "tt_core1".., "ht_leaf1".., "ht_node1-2", "ht_root"
  std::vector<int> axes;
  std::int64_t size(const std::vector<int>& axis_size) const;
};

struct TensorNetwork {
  std::vector<int> axis_size;
  std::vector<std::string> axis_name;  // "i1", "j1", "r1", "r1-2", ...
  std::vector<int> input_axes;         // i_1 .. i_d (row-major order of x's features)
  std::vector<int> output_axes;        // j_1 .. j_d (row-major order of the output features)
  std::vector<TensorCore> cores;
  std::int64_t parameter_count() const;
  std::int64_t in_features() const;
  std::int64_t out_features() const;
};

// HT's balanced dimension tree over d >= 2 modes: the internal nodes breadth-first (root first),
// node q covering modes [lo, hi), the left child taking the larger half ([lo, mid)); left /
// right index internal children, -1 where that child is a leaf (mode lo / mode mid).
struct HtInternalNode {
  int lo = 0, hi = 0;
  int left = -1, right = -1;
  int mid() const { return lo + (hi - lo + 1) / 2; }
};
std::vector<HtInternalNode> ht_internal_nodes(int d);

// The network of a validated factorization (throws InternalError on an invalid one).
TensorNetwork make_tensor_network(const Factorization& f);

// One contraction: the running product (rows x kept x contracted) times the core (contracted x
// added) -> (rows x kept x added). Sizes are per input row (multiply m by the row count).
struct ContractionStep {
  int core = -1;
  std::vector<int> kept, contracted, added;  // axis ids, in the layouts the GEMM uses
  std::int64_t m = 1, n = 1, k = 1;           // per input row: M = rows * m
  std::int64_t macs_per_row() const { return m * n * k; }
  std::int64_t result_per_row() const { return m * n; }  // elements of the product per row
};

struct ContractionPlan {
  std::vector<int> order;  // cores in contraction order
  std::vector<ContractionStep> steps;
  std::vector<int> final_axes;  // axes of the last product (the output axes, in some order)
  std::int64_t macs_per_row = 0;
};

// The steps of contracting the cores in `order` (a permutation of all cores).
ContractionPlan plan_contraction(const TensorNetwork& tn, const std::vector<int>& order);
// The order with the fewest MACs (exact, dynamic programming over subsets of cores).
ContractionPlan plan_min_macs(const TensorNetwork& tn);
// `f` with the ranks that its cores' stored sizes say: dims[c] = the sizes of core c of
// make_tensor_network(f) (same kind and modes), its axes in storage order, optionally padded
// with 1s. nullopt when a core has fewer axes, a mode size differs, or a rank shared by two
// cores disagrees.
std::optional<Factorization> factorization_from_core_dims(const Factorization& f,
                                                          const std::vector<std::vector<int>>& dims);
// The ranks for reports and labels: TT "1-4-4-1"; HT "leaf 4-4-4, transfer 4".
std::string rank_label(const Factorization& f);
// Whether every rank of `a` is <= the corresponding rank of `b` (same kind and mode count).
bool ranks_at_most(const Factorization& a, const Factorization& b);
// "tt_core4 > tt_core3 > ..." for reports.
std::string describe_order(const TensorNetwork& tn, const ContractionPlan& plan);

}  // namespace mixprec
