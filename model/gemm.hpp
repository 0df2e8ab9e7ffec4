// Single-precision GEMM for the training engine's hot paths (convolution, linear, LSTM).
//
//   C (m x n) = beta * C + op(A) * op(B),   beta 0 or 1; all matrices row-major.
//   op(A) is m x k: A stored m x k (lda >= k), or k x m when trans_a (lda >= m).
//   op(B) is k x n: B stored k x n (ldb >= n), or n x k when trans_b (ldb >= k).
//
// The build targets baseline x86-64 (no -mavx2 / -march=native), so the fast kernels are
// compiled per function with target attributes and chosen at run time from the CPU's features
// (as oneDNN and OpenBLAS do): AVX-512F (8 x 32 register tile), AVX2 + FMA (6 x 16 tile), else
// Eigen's portable product. The blocked algorithm packs panels of A and B (Goto & van de Geijn,
// "Anatomy of High-Performance Matrix Multiplication", ACM TOMS 2008) and sums each element's
// k products in order with fused multiply-adds, so a result depends only on the path and
// (m, n, k) blocking, never on threads or timing: runs are reproducible on one machine type
// (different instruction sets round differently).
//
// MIXPREC_GEMM=portable|avx2|avx512 in the environment forces a path (capped at what the CPU
// supports); set_gemm_isa() does the same for tests.
#pragma once
#include <cstdint>

namespace mixprec::model {

enum class GemmIsa { Portable, Avx2, Avx512 };
const char* to_string(GemmIsa isa);

GemmIsa gemm_isa();              // the path sgemm uses
GemmIsa best_supported_gemm_isa();  // the fastest the CPU supports
// Selects a path (capped at best_supported_gemm_isa()); returns the one in effect.
GemmIsa set_gemm_isa(GemmIsa isa);

void sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
           float* c, std::int64_t ldc);

// Indirect operands ("implicit GEMM": B's rows are views into another array, e.g. shifted
// rows of a padded image, so no im2col copy is made):
//   sgemm_rows:    C (m x n) = beta C + A (m x k) B, row p of B = the n floats at b_rows[p]
//   sgemm_nt_rows: C (m x n) = beta C + A (m x k) B^T, row j of B = the k floats at b_rows[j]
void sgemm_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                const float* const* b_rows, float beta, float* c, std::int64_t ldc);
void sgemm_nt_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                   std::int64_t lda, const float* const* b_rows, float beta, float* c,
                   std::int64_t ldc);

namespace reference {
void sgemm_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                const float* const* b_rows, float beta, float* c, std::int64_t ldc);
void sgemm_nt_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                   std::int64_t lda, const float* const* b_rows, float beta, float* c,
                   std::int64_t ldc);
// Triple loop with double accumulation.
void sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
           float* c, std::int64_t ldc);
}  // namespace reference

}  // namespace mixprec::model
