// Rank truncation of tensor-decomposed weight matrices: the cores of a TT or HT factorization
// (core/factorization.hpp) re-expressed at smaller ranks, computed on the cores alone (the
// product matrix W, up to tens of thousands x thousands, is never formed), with the bound on the
// relative Frobenius error that the truncation theorems give. Why: a lower-rank network can then
// start from a trained higher-rank one (a warm start, and the error a rank option costs before
// any retraining), instead of being trained from scratch for every rank.
//
//  * TT rounding (Oseledets, "Tensor-train decomposition", SIAM J. Sci. Comput. 2011,
//    Algorithm 2): right-to-left orthogonalization (QR of each core's transposed right
//    unfolding r_{k-1} x (i_k j_k r_k), R pushed into the left neighbour), then a left-to-right
//    sweep of truncated SVDs of the left unfoldings (r_{k-1} i_k j_k) x r_k, keeping the target
//    rank and pushing S V^T into the right neighbour. ||W - W'||^2 <= sum of the discarded
//    squared singular values (Thm 2.2); the sweep's projections are nested, so the discarded
//    parts are mutually orthogonal and the bound is attained (up to rounding).
//  * HT truncation (Grasedyck, "Hierarchical singular value decomposition of tensors", SIAM J.
//    Matrix Anal. Appl. 2010; as in Kressner & Tobler's htucker): bottom-up orthogonalization
//    (QR of the leaf frames (i j) x r and of each transfer tensor matricized (r_left r_right) x
//    r_node, R pushed into the parent), reduced Gramians top-down (root: B B^T and B^T B), an
//    eigendecomposition per non-root node (eigenvalues = squared singular values of W's
//    matricization at that node), and every node projected at once onto its dominant target-
//    rank eigenvectors. ||W - W'||^2 <= sum over the nodes of the discarded eigenvalues.
// The working ranks never exceed what the neighbouring dimensions allow (e.g. r_k <=
// r_{k-1} i_k j_k); a target rank above that is met by zero padding, so the returned cores always
// have the target's shapes and the product is unchanged by the padding. Computation in double
// with Eigen's Householder QR, JacobiSVD and SelfAdjointEigenSolver (deterministic), results in
// float.
#pragma once
#include <vector>

#include "core/factorization.hpp"

namespace mixprec::model {

struct TruncatedCores {
  std::vector<std::vector<float>> cores;  // one per core of make_tensor_network(to), storage order
  double discarded = 0;  // sum over the truncations of the discarded squared singular values
  double norm2 = 0;      // squared Frobenius norm of the (untruncated) product W
  // sqrt(discarded / norm2): an upper bound of ||W' - W||_F / ||W||_F for TT (Oseledets 2011,
  // Thm 2.2; attained) and HT (Grasedyck 2010). 0 when W = 0.
  double relative_error_bound() const;
};

// The cores of `from` (one row-major vector per core of make_tensor_network(from), values
// ordered over the core's axes in storage order, as FactorizedLinear::core(i).value holds them)
// re-expressed with the ranks of `to`: same kind, input and hidden modes and fold_gates, every
// rank of `to` <= the corresponding rank of `from`. A violation is a caller's bug (callers
// validate user input first): InternalError.
TruncatedCores truncate_ranks(const Factorization& from, const std::vector<std::vector<float>>& cores,
                              const Factorization& to);

}  // namespace mixprec::model
