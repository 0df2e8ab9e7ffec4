#include "model/rank_truncation.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.hpp"

namespace mixprec::model {

double TruncatedCores::relative_error_bound() const {
  return norm2 > 0 ? std::sqrt(discarded / norm2) : 0.0;
}

namespace {

using Mat = Eigen::MatrixXd;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMap = Eigen::Map<RowMat>;
using ConstRowMap = Eigen::Map<const RowMat>;

// A three-axis tensor (d0, d1, d2), row-major: a TT core (r_{k-1}, i_k j_k, r_k), an HT transfer
// tensor (r_node, r_left, r_right) (the root with r_node = 1) or an HT leaf (1, i_t j_t, r_t).
struct Tensor3 {
  int d[3] = {1, 1, 1};
  std::vector<double> v;
  Tensor3() = default;
  Tensor3(int d0, int d1, int d2) : d{d0, d1, d2}, v(std::size_t(d0) * std::size_t(d1) * std::size_t(d2), 0.0) {}
  // (d0 d1) x d2 and d0 x (d1 d2) views of the same storage.
  RowMap left() { return RowMap(v.data(), Eigen::Index(d[0]) * d[1], d[2]); }
  ConstRowMap left() const { return ConstRowMap(v.data(), Eigen::Index(d[0]) * d[1], d[2]); }
  RowMap right() { return RowMap(v.data(), d[0], Eigen::Index(d[1]) * d[2]); }
  ConstRowMap right() const { return ConstRowMap(v.data(), d[0], Eigen::Index(d[1]) * d[2]); }
};

Tensor3 from_floats(const std::vector<float>& f, int d0, int d1, int d2) {
  Tensor3 t(d0, d1, d2);
  MIXPREC_CHECK(f.size() == t.v.size(), "core of " + std::to_string(t.v.size()) + " values, got " +
                                            std::to_string(f.size()));
  std::copy(f.begin(), f.end(), t.v.begin());
  return t;
}

// t with axis `axis` replaced: t'(.., c, ..) = sum_a t(.., a, ..) m(a, c).
Tensor3 mode_product(const Tensor3& t, int axis, const Mat& m) {
  MIXPREC_CHECK(m.rows() == t.d[axis], "mode product sizes");
  Tensor3 r(axis == 0 ? int(m.cols()) : t.d[0], axis == 1 ? int(m.cols()) : t.d[1],
            axis == 2 ? int(m.cols()) : t.d[2]);
  if (axis == 0) {
    r.right().noalias() = m.transpose() * t.right();
  } else if (axis == 2) {
    r.left().noalias() = t.left() * m;
  } else {
    const Eigen::Index in = Eigen::Index(t.d[1]) * t.d[2], out = Eigen::Index(r.d[1]) * r.d[2];
    for (int i = 0; i < t.d[0]; ++i)
      RowMap(r.v.data() + i * out, r.d[1], r.d[2]).noalias() =
          m.transpose() * ConstRowMap(t.v.data() + i * in, t.d[1], t.d[2]);
  }
  return r;
}

// a = q r: q (rows x m) with orthonormal columns, r (m x cols) upper triangular, m = min(rows, cols).
void thin_qr(const Mat& a, Mat& q, Mat& r) {
  const Eigen::Index m = std::min(a.rows(), a.cols());
  const Eigen::HouseholderQR<Mat> qr(a);
  q = qr.householderQ() * Mat::Identity(a.rows(), m);
  r = qr.matrixQR().topRows(m).triangularView<Eigen::Upper>();
}

// t zero-padded to (e0, e1, e2), in float: the returned core of the target's shape.
std::vector<float> padded(const Tensor3& t, int e0, int e1, int e2) {
  MIXPREC_CHECK(t.d[0] <= e0 && t.d[1] <= e1 && t.d[2] <= e2, "working ranks within the target's");
  using std::size_t;
  std::vector<float> out(size_t(e0) * size_t(e1) * size_t(e2), 0.0f);
  for (int a = 0; a < t.d[0]; ++a)
    for (int b = 0; b < t.d[1]; ++b)
      for (int c = 0; c < t.d[2]; ++c)
        out[(size_t(a) * size_t(e1) + size_t(b)) * size_t(e2) + size_t(c)] =
            float(t.v[(size_t(a) * size_t(t.d[1]) + size_t(b)) * size_t(t.d[2]) + size_t(c)]);
  return out;
}

std::vector<int> mode_sizes(const Factorization& f) {  // i_k j_k
  const std::vector<int> out = f.output_modes();
  std::vector<int> n;
  for (std::size_t k = 0; k < f.input_modes.size(); ++k) n.push_back(f.input_modes[k] * out[k]);
  return n;
}

bool ranks_within(const std::vector<int>& to, const std::vector<int>& from) {
  if (to.size() != from.size()) return false;
  for (std::size_t k = 0; k < to.size(); ++k)
    if (to[k] < 1 || to[k] > from[k]) return false;
  return true;
}

void truncate_tt(const Factorization& from, const std::vector<std::vector<float>>& in, const Factorization& to,
                 TruncatedCores& res) {
  const int d = int(from.input_modes.size());
  const std::vector<int> n = mode_sizes(from);
  std::vector<Tensor3> g;
  for (int k = 0; k < d; ++k)
    g.push_back(from_floats(in[size_t(k)], from.ranks[size_t(k)], n[size_t(k)], from.ranks[size_t(k + 1)]));
  // Right to left: core k's right unfolding R_k = (Q R)^T = R^T Q^T; the core becomes Q^T (rows
  // orthonormal), R^T moves into core k-1. The rank can only shrink (to i_k j_k r_k).
  Mat q, r;
  for (int k = d - 1; k >= 1; --k) {
    thin_qr(g[size_t(k)].right().transpose(), q, r);
    Tensor3 c(int(q.cols()), g[size_t(k)].d[1], g[size_t(k)].d[2]);
    c.right() = q.transpose();
    g[size_t(k)] = std::move(c);
    g[size_t(k - 1)] = mode_product(g[size_t(k - 1)], 2, r.transpose());
  }
  // Every core right of the first is now right-orthonormal: ||W|| = ||core 1||.
  res.norm2 = Eigen::Map<const Eigen::VectorXd>(g[0].v.data(), Eigen::Index(g[0].v.size())).squaredNorm();
  // Left to right: the left unfolding of core k (its left part orthonormal already, its right
  // part still) has W's singular values at bond k; keep the target rank's U, push S V^T right.
  for (int k = 0; k + 1 < d; ++k) {
    const Eigen::JacobiSVD<Mat> svd(Mat(g[size_t(k)].left()), Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    const Eigen::Index keep = std::min<Eigen::Index>(to.ranks[size_t(k + 1)], s.size());
    res.discarded += s.tail(s.size() - keep).squaredNorm();
    Tensor3 c(g[size_t(k)].d[0], g[size_t(k)].d[1], int(keep));
    c.left() = svd.matrixU().leftCols(keep);
    g[size_t(k)] = std::move(c);
    const Mat sv = s.head(keep).asDiagonal() * svd.matrixV().leftCols(keep).transpose();  // keep x r_k
    g[size_t(k + 1)] = mode_product(g[size_t(k + 1)], 0, sv.transpose());
  }
  for (int k = 0; k < d; ++k)
    res.cores.push_back(padded(g[size_t(k)], to.ranks[size_t(k)], n[size_t(k)], to.ranks[size_t(k + 1)]));
}

// The balanced dimension tree of make_tensor_network: internal nodes 0 .. d-2 breadth-first
// (0 = root), then leaves d-1 .. 2d-2 (mode k is node d-1+k).
struct TreeNode {
  int lo = 0, hi = 0;
  int left = -1, right = -1;   // child nodes (internal only)
  int parent = -1, side = 0;   // the parent's axis that holds this node's rank: 1 left, 2 right
  int core = -1;               // index into make_tensor_network's cores
};

std::vector<TreeNode> dimension_tree(int d, const TensorNetwork& tn) {
  std::vector<TreeNode> t;
  for (const HtInternalNode& n : ht_internal_nodes(d)) t.push_back(TreeNode{n.lo, n.hi, n.left, n.right});
  for (int k = 0; k < d; ++k) t.push_back(TreeNode{k, k + 1});
  for (int q = 0; q < d - 1; ++q) {
    TreeNode& n = t[size_t(q)];
    const int mid = n.lo + (n.hi - n.lo + 1) / 2;
    if (n.left < 0) n.left = d - 1 + n.lo;
    if (n.right < 0) n.right = d - 1 + mid;
    t[size_t(n.left)].parent = t[size_t(n.right)].parent = q;
    t[size_t(n.left)].side = 1;
    t[size_t(n.right)].side = 2;
    // Transfer tensors follow the leaves, deepest first.
    n.core = d + (d - 2 - q);
    const std::string name =
        q == 0 ? "ht_root" : "ht_node" + std::to_string(n.lo + 1) + "-" + std::to_string(n.hi);
    MIXPREC_CHECK(tn.cores[size_t(n.core)].name == name, "ht core order: " + name);
  }
  for (int k = 0; k < d; ++k) {
    t[size_t(d - 1 + k)].core = k;
    MIXPREC_CHECK(tn.cores[size_t(k)].name == "ht_leaf" + std::to_string(k + 1), "ht core order: leaves");
  }
  return t;
}

int ht_rank(const Factorization& f, int node) {
  const int d = int(f.input_modes.size());
  if (node == 0) return 1;
  return node < d - 1 ? f.transfer_ranks[size_t(node - 1)] : f.leaf_ranks[size_t(node - (d - 1))];
}

void truncate_ht(const Factorization& from, const std::vector<std::vector<float>>& in, const Factorization& to,
                 const TensorNetwork& tn, TruncatedCores& res) {
  const int d = int(from.input_modes.size());
  const int nodes = 2 * d - 1;
  const std::vector<TreeNode> tree = dimension_tree(d, tn);
  const std::vector<int> n = mode_sizes(from);
  // Leaves as (1, i j, r) (the frame is the left unfolding), transfer tensors (r, r_left, r_right).
  std::vector<Tensor3> t(static_cast<std::size_t>(nodes));
  for (int v = 0; v < nodes; ++v) {
    const TreeNode& tv = tree[size_t(v)];
    t[size_t(v)] = v >= d - 1 ? from_floats(in[size_t(tv.core)], 1, n[size_t(tv.lo)], ht_rank(from, v))
                              : from_floats(in[size_t(tv.core)], ht_rank(from, v), ht_rank(from, tv.left),
                                            ht_rank(from, tv.right));
  }
  // Bottom-up orthogonalization (children have larger indices than their parent): the frame of
  // node v, leaf (i j) x r or transfer tensor matricized (r_left r_right) x r, becomes Q; R goes
  // into the parent's axis for v.
  Mat q, r;
  for (int v = nodes - 1; v >= 1; --v) {
    Tensor3& x = t[size_t(v)];
    const bool leaf = v >= d - 1;
    thin_qr(leaf ? Mat(x.left()) : Mat(x.right().transpose()), q, r);
    if (leaf) {
      Tensor3 c(1, x.d[1], int(q.cols()));
      c.left() = q;
      x = std::move(c);
    } else {
      Tensor3 c(int(q.cols()), x.d[1], x.d[2]);
      c.right() = q.transpose();
      x = std::move(c);
    }
    const TreeNode& tv = tree[size_t(v)];
    t[size_t(tv.parent)] = mode_product(t[size_t(tv.parent)], tv.side, r.transpose());
  }
  // With orthonormal frames below it, ||W|| = ||root's matrix||.
  res.norm2 = Eigen::Map<const Eigen::VectorXd>(t[0].v.data(), Eigen::Index(t[0].v.size())).squaredNorm();
  // Reduced Gramians top-down. The root's is 1 (its frame is W itself); for a node with Gramian
  // G and transfer tensor B(k, a, b): G_left = sum_{k,k'} G(k,k') B_k B_k'^T, G_right = sum
  // G(k,k') B_k^T B_k' with B_k the r_left x r_right slice k.
  std::vector<Mat> gram(static_cast<std::size_t>(nodes));
  gram[0] = Mat::Identity(1, 1);
  for (int v = 0; v < d - 1; ++v) {
    const Tensor3& b = t[size_t(v)];
    const int rl = b.d[1], rr = b.d[2];
    const RowMat c = gram[size_t(v)] * b.right();  // row k: sum_k' G(k, k') B_k'
    Mat gl = Mat::Zero(rl, rl), gr = Mat::Zero(rr, rr);
    for (int k = 0; k < b.d[0]; ++k) {
      const ConstRowMap ck(c.data() + Eigen::Index(k) * rl * rr, rl, rr);
      const ConstRowMap bk(b.v.data() + std::size_t(k) * std::size_t(rl) * std::size_t(rr), rl, rr);
      gl.noalias() += ck * bk.transpose();
      gr.noalias() += ck.transpose() * bk;
    }
    gram[size_t(tree[size_t(v)].left)] = 0.5 * (gl + gl.transpose());
    gram[size_t(tree[size_t(v)].right)] = 0.5 * (gr + gr.transpose());
  }
  // Each non-root node's dominant eigenvectors (the Gramian's eigenvalues are the squared
  // singular values of W's matricization at the node); the rest is discarded.
  std::vector<Mat> basis(static_cast<std::size_t>(nodes));
  for (int v = 1; v < nodes; ++v) {
    const Eigen::SelfAdjointEigenSolver<Mat> es(gram[size_t(v)]);
    MIXPREC_CHECK(es.info() == Eigen::Success, "ht Gramian eigendecomposition");
    const Eigen::Index p = es.eigenvalues().size();  // ascending
    const Eigen::Index keep = std::min<Eigen::Index>(ht_rank(to, v), p);
    for (Eigen::Index i = 0; i < p - keep; ++i) res.discarded += std::max(0.0, es.eigenvalues()[i]);
    basis[size_t(v)] = es.eigenvectors().rightCols(keep).rowwise().reverse();  // dominant first
  }
  // Every node projected at once: leaf U <- U S; transfer tensor contracted with S_left, S_right
  // on its child axes and S on its own (the root: S_left^T B S_right).
  for (int v = 0; v < nodes; ++v) {
    Tensor3& x = t[size_t(v)];
    if (v >= d - 1) {
      x = mode_product(x, 2, basis[size_t(v)]);
      continue;
    }
    if (v > 0) x = mode_product(x, 0, basis[size_t(v)]);
    x = mode_product(x, 1, basis[size_t(tree[size_t(v)].left)]);
    x = mode_product(x, 2, basis[size_t(tree[size_t(v)].right)]);
  }
  res.cores.resize(tn.cores.size());
  for (int v = 0; v < nodes; ++v) {
    const TreeNode& tv = tree[size_t(v)];
    res.cores[size_t(tv.core)] =
        v >= d - 1 ? padded(t[size_t(v)], 1, n[size_t(tv.lo)], ht_rank(to, v))
                   : padded(t[size_t(v)], ht_rank(to, v), ht_rank(to, tv.left), ht_rank(to, tv.right));
  }
}

}  // namespace

TruncatedCores truncate_ranks(const Factorization& from, const std::vector<std::vector<float>>& cores,
                              const Factorization& to) {
  MIXPREC_CHECK(from.active() && to.kind == from.kind, "truncation within one factorization kind");
  MIXPREC_CHECK(to.input_modes == from.input_modes && to.hidden_modes == from.hidden_modes &&
                    to.fold_gates == from.fold_gates,
                "truncation keeps the modes");
  const TensorNetwork tn = make_tensor_network(from);
  make_tensor_network(to);  // validates the target's structure
  MIXPREC_CHECK(cores.size() == tn.cores.size(), "one value vector per core");
  for (std::size_t c = 0; c < cores.size(); ++c)
    MIXPREC_CHECK(std::int64_t(cores[c].size()) == tn.cores[c].size(tn.axis_size),
                  tn.cores[c].name + ": value count");
  TruncatedCores res;
  if (from.kind == FactorizationKind::TensorTrain) {
    MIXPREC_CHECK(ranks_within(to.ranks, from.ranks), "target tt ranks <= source ranks");
    truncate_tt(from, cores, to, res);
  } else {
    MIXPREC_CHECK(ranks_within(to.leaf_ranks, from.leaf_ranks) &&
                      ranks_within(to.transfer_ranks, from.transfer_ranks),
                  "target ht ranks <= source ranks");
    truncate_ht(from, cores, to, tn, res);
  }
  return res;
}

}  // namespace mixprec::model
