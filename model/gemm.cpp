#include "model/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <immintrin.h>

#include "model/tensor.hpp"

namespace mixprec::model {

const char* to_string(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::Portable: return "portable";
    case GemmIsa::Avx2: return "avx2";
    case GemmIsa::Avx512: return "avx512";
  }
  return "?";
}

namespace {

// ------------------------------------------------------------------ dispatch

GemmIsa detect() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  // libgcc's checks include the OS's XSAVE support of the vector state.
  if (__builtin_cpu_supports("avx512f")) return GemmIsa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmIsa::Avx2;
#endif
  return GemmIsa::Portable;
}

GemmIsa cap(GemmIsa want) { return std::min(want, best_supported_gemm_isa()); }

GemmIsa initial() {
  const char* env = std::getenv("MIXPREC_GEMM");
  if (env != nullptr) {
    const std::string e(env);
    if (e == "portable") return GemmIsa::Portable;
    if (e == "avx2") return cap(GemmIsa::Avx2);
    if (e == "avx512") return cap(GemmIsa::Avx512);
  }
  return best_supported_gemm_isa();
}

std::atomic<int>& current() {
  static std::atomic<int> isa{int(initial())};
  return isa;
}

// ------------------------------------------------------------------ packing

// Thread-local, 64-byte aligned scratch (each thread packs its own panels).
float* scratch(std::vector<float>& v, std::size_t floats) {
  if (v.size() < floats + 16) v.resize(floats + 16);
  auto p = reinterpret_cast<std::uintptr_t>(v.data());
  return reinterpret_cast<float*>((p + 63) & ~std::uintptr_t(63));
}

// Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels, k-major: panel r holds
// dst[r*MR*kc + p*MR + i]; rows beyond m are zero.
template <int MR>
void pack_a(const float* a, std::int64_t lda, bool trans, std::int64_t i0, std::int64_t mc,
            std::int64_t p0, std::int64_t kc, float* dst) {
  for (std::int64_t ir = 0; ir < mc; ir += MR) {
    const std::int64_t mr = std::min<std::int64_t>(MR, mc - ir);
    float* d = dst + ir * kc;
    if (!trans) {
      for (std::int64_t i = 0; i < mr; ++i) {
        const float* src = a + (i0 + ir + i) * lda + p0;
        for (std::int64_t p = 0; p < kc; ++p) d[p * MR + i] = src[p];
      }
      for (std::int64_t i = mr; i < MR; ++i)
        for (std::int64_t p = 0; p < kc; ++p) d[p * MR + i] = 0.0f;
    } else {
      for (std::int64_t p = 0; p < kc; ++p) {
        const float* src = a + (p0 + p) * lda + i0 + ir;
        float* dp = d + p * MR;
        for (std::int64_t i = 0; i < mr; ++i) dp[i] = src[i];
        for (std::int64_t i = mr; i < MR; ++i) dp[i] = 0.0f;
      }
    }
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels: dst[r*NR*kc + p*NR + j].
template <int NR>
void pack_b(const float* b, std::int64_t ldb, bool trans, std::int64_t p0, std::int64_t kc,
            std::int64_t j0, std::int64_t nc, float* dst) {
  for (std::int64_t jr = 0; jr < nc; jr += NR) {
    const std::int64_t nr = std::min<std::int64_t>(NR, nc - jr);
    float* d = dst + jr * kc;
    if (!trans) {
      for (std::int64_t p = 0; p < kc; ++p) {
        const float* src = b + (p0 + p) * ldb + j0 + jr;
        float* dp = d + p * NR;
        for (std::int64_t j = 0; j < nr; ++j) dp[j] = src[j];
        for (std::int64_t j = nr; j < NR; ++j) dp[j] = 0.0f;
      }
    } else {
      for (std::int64_t j = 0; j < nr; ++j) {
        const float* src = b + (j0 + jr + j) * ldb + p0;
        for (std::int64_t p = 0; p < kc; ++p) d[p * NR + j] = src[p];
      }
      for (std::int64_t j = nr; j < NR; ++j)
        for (std::int64_t p = 0; p < kc; ++p) d[p * NR + j] = 0.0f;
    }
  }
}

// Packs rows[p0 + p][j0 : j0 + nc] (rows of B given by pointers) into NR-column panels.
template <int NR>
void pack_b_rows(const float* const* rows, std::int64_t p0, std::int64_t kc, std::int64_t j0,
                 std::int64_t nc, float* dst) {
  for (std::int64_t jr = 0; jr < nc; jr += NR) {
    const std::int64_t nr = std::min<std::int64_t>(NR, nc - jr);
    float* d = dst + jr * kc;
    for (std::int64_t p = 0; p < kc; ++p) {
      const float* src = rows[p0 + p] + j0 + jr;
      float* dp = d + p * NR;
      for (std::int64_t j = 0; j < nr; ++j) dp[j] = src[j];
      for (std::int64_t j = nr; j < NR; ++j) dp[j] = 0.0f;
    }
  }
}

// ------------------------------------------------------------------ micro-kernels
// c[MR x NR] (+)= sum_p a[p*MR + i] * b[p*NR + j]; full tiles go straight to C, edge tiles
// through a local tile.

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MIXPREC_GEMM_X86 1

struct Avx512 {
  static constexpr int MR = 8, NR = 32, KC = 192, MC = 144, NC = 3072;
  __attribute__((target("avx512f"))) static void kernel(std::int64_t kc, const float* a,
                                                        const float* b, std::int64_t ldb,
                                                        float* c, std::int64_t ldc, bool acc) {
    __m512 r[MR][2];
    for (int i = 0; i < MR; ++i) r[i][0] = r[i][1] = _mm512_setzero_ps();
    for (std::int64_t p = 0; p < kc; ++p) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(a[i]);
        r[i][0] = _mm512_fmadd_ps(ai, b0, r[i][0]);
        r[i][1] = _mm512_fmadd_ps(ai, b1, r[i][1]);
      }
      a += MR;
      b += ldb;
    }
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (acc) {
        r[i][0] = _mm512_add_ps(r[i][0], _mm512_loadu_ps(ci));
        r[i][1] = _mm512_add_ps(r[i][1], _mm512_loadu_ps(ci + 16));
      }
      _mm512_storeu_ps(ci, r[i][0]);
      _mm512_storeu_ps(ci + 16, r[i][1]);
    }
  }
  // Same, row p of B at rows[p] + col.
  __attribute__((target("avx512f"))) static void kernel_rows(std::int64_t kc, const float* a,
                                                             const float* const* rows,
                                                             std::int64_t col, float* c,
                                                             std::int64_t ldc, bool acc) {
    __m512 r[MR][2];
    for (int i = 0; i < MR; ++i) r[i][0] = r[i][1] = _mm512_setzero_ps();
    for (std::int64_t p = 0; p < kc; ++p) {
      const float* b = rows[p] + col;
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(a[i]);
        r[i][0] = _mm512_fmadd_ps(ai, b0, r[i][0]);
        r[i][1] = _mm512_fmadd_ps(ai, b1, r[i][1]);
      }
      a += MR;
    }
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (acc) {
        r[i][0] = _mm512_add_ps(r[i][0], _mm512_loadu_ps(ci));
        r[i][1] = _mm512_add_ps(r[i][1], _mm512_loadu_ps(ci + 16));
      }
      _mm512_storeu_ps(ci, r[i][0]);
      _mm512_storeu_ps(ci + 16, r[i][1]);
    }
  }
};

struct Avx2 {
  static constexpr int MR = 6, NR = 16, KC = 256, MC = 144, NC = 3072;
  __attribute__((target("avx2,fma"))) static void kernel(std::int64_t kc, const float* a,
                                                         const float* b, std::int64_t ldb,
                                                         float* c, std::int64_t ldc, bool acc) {
    __m256 r[MR][2];
    for (int i = 0; i < MR; ++i) r[i][0] = r[i][1] = _mm256_setzero_ps();
    for (std::int64_t p = 0; p < kc; ++p) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + i);
        r[i][0] = _mm256_fmadd_ps(ai, b0, r[i][0]);
        r[i][1] = _mm256_fmadd_ps(ai, b1, r[i][1]);
      }
      a += MR;
      b += ldb;
    }
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (acc) {
        r[i][0] = _mm256_add_ps(r[i][0], _mm256_loadu_ps(ci));
        r[i][1] = _mm256_add_ps(r[i][1], _mm256_loadu_ps(ci + 8));
      }
      _mm256_storeu_ps(ci, r[i][0]);
      _mm256_storeu_ps(ci + 8, r[i][1]);
    }
  }
  __attribute__((target("avx2,fma"))) static void kernel_rows(std::int64_t kc, const float* a,
                                                              const float* const* rows,
                                                              std::int64_t col, float* c,
                                                              std::int64_t ldc, bool acc) {
    __m256 r[MR][2];
    for (int i = 0; i < MR; ++i) r[i][0] = r[i][1] = _mm256_setzero_ps();
    for (std::int64_t p = 0; p < kc; ++p) {
      const float* b = rows[p] + col;
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + i);
        r[i][0] = _mm256_fmadd_ps(ai, b0, r[i][0]);
        r[i][1] = _mm256_fmadd_ps(ai, b1, r[i][1]);
      }
      a += MR;
    }
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (acc) {
        r[i][0] = _mm256_add_ps(r[i][0], _mm256_loadu_ps(ci));
        r[i][1] = _mm256_add_ps(r[i][1], _mm256_loadu_ps(ci + 8));
      }
      _mm256_storeu_ps(ci, r[i][0]);
      _mm256_storeu_ps(ci + 8, r[i][1]);
    }
  }
};

// C (+)= A B^T with A (m x k) and B (n x k) both row-major: every element is a dot product of
// two contiguous rows, so nothing needs packing (the layout of weight gradients, dW = dY X^T,
// whose operands are both long along k). 4 x 4 tiles of vector accumulators; the k tail uses
// masked loads; each tile is reduced horizontally once at the end.
__attribute__((target("avx512f"))) void gemm_nt_avx512_block(const float* const* rows, std::int64_t m, std::int64_t n,
                                                       std::int64_t k, const float* a,
                                                       std::int64_t lda, const float* b,
                                                       std::int64_t ldb, bool acc, float* c,
                                                       std::int64_t ldc) {
  constexpr int T = 4;
  const std::int64_t kv = k / 16 * 16;
  const __mmask16 tail = __mmask16((1u << (k - kv)) - 1u);
  for (std::int64_t j0 = 0; j0 < n; j0 += T) {
    const int nj = int(std::min<std::int64_t>(T, n - j0));
    for (std::int64_t i0 = 0; i0 < m; i0 += T) {
      const int ni = int(std::min<std::int64_t>(T, m - i0));
      __m512 r[T][T];
      for (int i = 0; i < T; ++i)
        for (int j = 0; j < T; ++j) r[i][j] = _mm512_setzero_ps();
      const float* ar[T];
      const float* br[T];
      for (int i = 0; i < T; ++i) ar[i] = a + (i0 + std::min(i, ni - 1)) * lda;
      for (int j = 0; j < T; ++j) {
        const std::int64_t jj = j0 + std::min(j, nj - 1);
        br[j] = rows != nullptr ? rows[jj] : b + jj * ldb;
      }
      for (std::int64_t p = 0; p < kv; p += 16) {
        __m512 bv[T];
        for (int j = 0; j < T; ++j) bv[j] = _mm512_loadu_ps(br[j] + p);
        for (int i = 0; i < T; ++i) {
          const __m512 av = _mm512_loadu_ps(ar[i] + p);
          for (int j = 0; j < T; ++j) r[i][j] = _mm512_fmadd_ps(av, bv[j], r[i][j]);
        }
      }
      if (kv < k) {
        __m512 bv[T];
        for (int j = 0; j < T; ++j) bv[j] = _mm512_maskz_loadu_ps(tail, br[j] + kv);
        for (int i = 0; i < T; ++i) {
          const __m512 av = _mm512_maskz_loadu_ps(tail, ar[i] + kv);
          for (int j = 0; j < T; ++j) r[i][j] = _mm512_fmadd_ps(av, bv[j], r[i][j]);
        }
      }
      for (int i = 0; i < ni; ++i)
        for (int j = 0; j < nj; ++j) {
          float* cij = c + (i0 + i) * ldc + j0 + j;
          // Horizontal sum through memory: once per tile, and GCC 12 warns inside the
          // shuffle-based reduction intrinsics.
          alignas(64) float lanes[16];
          _mm512_store_ps(lanes, r[i][j]);
          float v = 0;
          for (int l = 0; l < 16; ++l) v += lanes[l];
          *cij = acc ? *cij + v : v;
        }
    }
  }
}

__attribute__((target("avx2,fma"))) void gemm_nt_avx2_block(const float* const* rows, std::int64_t m, std::int64_t n,
                                                      std::int64_t k, const float* a,
                                                      std::int64_t lda, const float* b,
                                                      std::int64_t ldb, bool acc, float* c,
                                                      std::int64_t ldc) {
  constexpr int T = 3;
  const std::int64_t kv = k / 8 * 8;
  alignas(32) std::int32_t mask_bits[8];
  for (int l = 0; l < 8; ++l) mask_bits[l] = l < k - kv ? -1 : 0;
  const __m256i tail = _mm256_load_si256(reinterpret_cast<const __m256i*>(mask_bits));
  for (std::int64_t j0 = 0; j0 < n; j0 += T) {
    const int nj = int(std::min<std::int64_t>(T, n - j0));
    for (std::int64_t i0 = 0; i0 < m; i0 += T) {
      const int ni = int(std::min<std::int64_t>(T, m - i0));
      __m256 r[T][T];
      for (int i = 0; i < T; ++i)
        for (int j = 0; j < T; ++j) r[i][j] = _mm256_setzero_ps();
      const float* ar[T];
      const float* br[T];
      for (int i = 0; i < T; ++i) ar[i] = a + (i0 + std::min(i, ni - 1)) * lda;
      for (int j = 0; j < T; ++j) {
        const std::int64_t jj = j0 + std::min(j, nj - 1);
        br[j] = rows != nullptr ? rows[jj] : b + jj * ldb;
      }
      for (std::int64_t p = 0; p < kv; p += 8) {
        __m256 bv[T];
        for (int j = 0; j < T; ++j) bv[j] = _mm256_loadu_ps(br[j] + p);
        for (int i = 0; i < T; ++i) {
          const __m256 av = _mm256_loadu_ps(ar[i] + p);
          for (int j = 0; j < T; ++j) r[i][j] = _mm256_fmadd_ps(av, bv[j], r[i][j]);
        }
      }
      if (kv < k) {
        __m256 bv[T];
        for (int j = 0; j < T; ++j) bv[j] = _mm256_maskload_ps(br[j] + kv, tail);
        for (int i = 0; i < T; ++i) {
          const __m256 av = _mm256_maskload_ps(ar[i] + kv, tail);
          for (int j = 0; j < T; ++j) r[i][j] = _mm256_fmadd_ps(av, bv[j], r[i][j]);
        }
      }
      for (int i = 0; i < ni; ++i)
        for (int j = 0; j < nj; ++j) {
          const __m128 lo = _mm256_castps256_ps128(r[i][j]), hi = _mm256_extractf128_ps(r[i][j], 1);
          __m128 s4 = _mm_add_ps(lo, hi);
          s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
          s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
          const float v = _mm_cvtss_f32(s4);
          float* cij = c + (i0 + i) * ldc + j0 + j;
          *cij = acc ? *cij + v : v;
        }
    }
  }
}

// k in chunks, so a chunk of A's rows stays in cache while every tile of B passes over it.
constexpr std::int64_t kNtChunk = 2048;

template <class F>
void gemm_nt_chunked(F block, const float* const* rows, std::int64_t m, std::int64_t n,
                     std::int64_t k, const float* a, std::int64_t lda, const float* b,
                     std::int64_t ldb, bool acc, float* c, std::int64_t ldc) {
  std::vector<const float*> shifted;
  for (std::int64_t p0 = 0; p0 < k; p0 += kNtChunk) {
    const std::int64_t kc = std::min(kNtChunk, k - p0);
    const float* const* r = nullptr;
    if (rows != nullptr) {
      shifted.resize(size_t(n));
      for (std::int64_t j = 0; j < n; ++j) shifted[size_t(j)] = rows[j] + p0;
      r = shifted.data();
    }
    block(r, m, n, kc, a + p0, lda, b == nullptr ? nullptr : b + p0, ldb, acc || p0 > 0, c, ldc);
  }
}

void gemm_nt_avx512(const float* const* rows, std::int64_t m, std::int64_t n, std::int64_t k,
                    const float* a, std::int64_t lda, const float* b, std::int64_t ldb, bool acc,
                    float* c, std::int64_t ldc) {
  gemm_nt_chunked(gemm_nt_avx512_block, rows, m, n, k, a, lda, b, ldb, acc, c, ldc);
}

void gemm_nt_avx2(const float* const* rows, std::int64_t m, std::int64_t n, std::int64_t k,
                  const float* a, std::int64_t lda, const float* b, std::int64_t ldb, bool acc,
                  float* c, std::int64_t ldc) {
  gemm_nt_chunked(gemm_nt_avx2_block, rows, m, n, k, a, lda, b, ldb, acc, c, ldc);
}

// The dot-product form pays off when k is long (so the horizontal sums are rare) and m is small
// (a blocked GEMM would spend more on the transposing pack of B than on arithmetic); measured
// on weight-gradient shapes of the benchmark network.
constexpr std::int64_t kNtMinK = 256, kNtMaxM = 48;

// rows != null: row p of B is rows[p] (read in place, like a direct B).
template <class K>
void gemm_blocked(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                  float* c, std::int64_t ldc, const float* const* rows = nullptr) {
  constexpr int MR = K::MR, NR = K::NR;
  thread_local std::vector<float> abuf, bbuf;
  float* ap = scratch(abuf, std::size_t(K::MC) * K::KC);
  float* bp = scratch(bbuf, std::size_t(K::NC) * K::KC);
  alignas(64) float tile[MR * NR];
  // When A fits one row block, every element of B is used by one block only: the kernel reads
  // a row-major B in place (row stride ldb) instead of paying for a packed copy; only the last,
  // partial column panel is packed (zero-padded).
  const bool direct_b = rows != nullptr || (!trans_b && m <= K::MC);
  for (std::int64_t jc = 0; jc < n; jc += K::NC) {
    const std::int64_t nc = std::min<std::int64_t>(K::NC, n - jc);
    for (std::int64_t pc = 0; pc < k; pc += K::KC) {
      const std::int64_t kc = std::min<std::int64_t>(K::KC, k - pc);
      const std::int64_t full = direct_b ? nc / NR * NR : 0;
      if (!direct_b)
        pack_b<NR>(b, ldb, trans_b, pc, kc, jc, nc, bp);
      else if (full < nc && rows != nullptr)
        pack_b_rows<NR>(rows, pc, kc, jc + full, nc - full, bp + full * kc);
      else if (full < nc)
        pack_b<NR>(b, ldb, false, pc, kc, jc + full, nc - full, bp + full * kc);
      const bool acc = pc > 0 || beta != 0.0f;
      for (std::int64_t ic = 0; ic < m; ic += K::MC) {
        const std::int64_t mc = std::min<std::int64_t>(K::MC, m - ic);
        pack_a<MR>(a, lda, trans_a, ic, mc, pc, kc, ap);
        for (std::int64_t jr = 0; jr < nc; jr += NR) {
          const std::int64_t nr = std::min<std::int64_t>(NR, nc - jr);
          const bool in_place = jr < full;
          const bool by_rows = in_place && rows != nullptr;
          const float* bj = !in_place ? bp + jr * kc : by_rows ? nullptr : b + pc * ldb + jc + jr;
          const std::int64_t bstride = in_place ? ldb : NR;
          for (std::int64_t ir = 0; ir < mc; ir += MR) {
            const std::int64_t mr = std::min<std::int64_t>(MR, mc - ir);
            float* cij = c + (ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR) {
              if (by_rows)
                K::kernel_rows(kc, ap + ir * kc, rows + pc, jc + jr, cij, ldc, acc);
              else
                K::kernel(kc, ap + ir * kc, bj, bstride, cij, ldc, acc);
              continue;
            }
            if (by_rows)
              K::kernel_rows(kc, ap + ir * kc, rows + pc, jc + jr, tile, NR, false);
            else
              K::kernel(kc, ap + ir * kc, bj, bstride, tile, NR, false);
            for (std::int64_t i = 0; i < mr; ++i)
              for (std::int64_t j = 0; j < nr; ++j)
                cij[i * ldc + j] = acc ? cij[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
          }
        }
      }
    }
  }
}
#endif

// ------------------------------------------------------------------ portable (Eigen)

using Stride = Eigen::OuterStride<>;
using ConstStrided = Eigen::Map<const RowMatrix, 0, Stride>;
using Strided = Eigen::Map<RowMatrix, 0, Stride>;

void gemm_eigen(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                float* c, std::int64_t ldc) {
  Strided C(c, m, n, Stride(ldc));
  const ConstStrided A(a, trans_a ? k : m, trans_a ? m : k, Stride(lda));
  const ConstStrided B(b, trans_b ? n : k, trans_b ? k : n, Stride(ldb));
  auto run = [&](const auto& opa, const auto& opb) {
    if (beta == 0.0f)
      C.noalias() = opa * opb;
    else
      C.noalias() += opa * opb;
  };
  if (!trans_a && !trans_b) run(A, B);
  if (!trans_a && trans_b) run(A, B.transpose());
  if (trans_a && !trans_b) run(A.transpose(), B);
  if (trans_a && trans_b) run(A.transpose(), B.transpose());
}

}  // namespace

GemmIsa best_supported_gemm_isa() {
  static const GemmIsa best = detect();
  return best;
}

GemmIsa gemm_isa() { return GemmIsa(current().load(std::memory_order_relaxed)); }

GemmIsa set_gemm_isa(GemmIsa isa) {
  const GemmIsa eff = cap(isa);
  current().store(int(eff), std::memory_order_relaxed);
  return eff;
}

void sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
           float* c, std::int64_t ldc) {
  MIXPREC_CHECK(beta == 0.0f || beta == 1.0f, "sgemm: beta must be 0 or 1");
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (beta == 0.0f)
      for (std::int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    return;
  }
#ifdef MIXPREC_GEMM_X86
  const bool nt = !trans_a && trans_b && k >= kNtMinK && m <= kNtMaxM;
  switch (gemm_isa()) {
    case GemmIsa::Avx512:
      if (nt) return gemm_nt_avx512(nullptr, m, n, k, a, lda, b, ldb, beta != 0.0f, c, ldc);
      gemm_blocked<Avx512>(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
      return;
    case GemmIsa::Avx2:
      if (nt) return gemm_nt_avx2(nullptr, m, n, k, a, lda, b, ldb, beta != 0.0f, c, ldc);
      gemm_blocked<Avx2>(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
      return;
    case GemmIsa::Portable: break;
  }
#endif
  gemm_eigen(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

void sgemm_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                const float* const* b_rows, float beta, float* c, std::int64_t ldc) {
  MIXPREC_CHECK(beta == 0.0f || beta == 1.0f, "sgemm_rows: beta must be 0 or 1");
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (beta == 0.0f)
      for (std::int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    return;
  }
#ifdef MIXPREC_GEMM_X86
  switch (gemm_isa()) {
    case GemmIsa::Avx512:
      gemm_blocked<Avx512>(false, false, m, n, k, a, lda, nullptr, 0, beta, c, ldc, b_rows);
      return;
    case GemmIsa::Avx2:
      gemm_blocked<Avx2>(false, false, m, n, k, a, lda, nullptr, 0, beta, c, ldc, b_rows);
      return;
    case GemmIsa::Portable: break;
  }
#endif
  thread_local std::vector<float> tmp;
  tmp.resize(size_t(k * n));
  for (std::int64_t p = 0; p < k; ++p) std::copy_n(b_rows[p], n, tmp.data() + p * n);
  gemm_eigen(false, false, m, n, k, a, lda, tmp.data(), n, beta, c, ldc);
}

void sgemm_nt_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                   std::int64_t lda, const float* const* b_rows, float beta, float* c,
                   std::int64_t ldc) {
  MIXPREC_CHECK(beta == 0.0f || beta == 1.0f, "sgemm_nt_rows: beta must be 0 or 1");
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (beta == 0.0f)
      for (std::int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    return;
  }
#ifdef MIXPREC_GEMM_X86
  switch (gemm_isa()) {
    case GemmIsa::Avx512: return gemm_nt_avx512(b_rows, m, n, k, a, lda, nullptr, 0, beta != 0.0f, c, ldc);
    case GemmIsa::Avx2: return gemm_nt_avx2(b_rows, m, n, k, a, lda, nullptr, 0, beta != 0.0f, c, ldc);
    case GemmIsa::Portable: break;
  }
#endif
  thread_local std::vector<float> tmp;
  tmp.resize(size_t(k * n));
  for (std::int64_t j = 0; j < n; ++j) std::copy_n(b_rows[j], k, tmp.data() + j * k);
  gemm_eigen(false, true, m, n, k, a, lda, tmp.data(), k, beta, c, ldc);
}

namespace reference {

void sgemm_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                const float* const* b_rows, float beta, float* c, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = beta == 0.0f ? 0.0 : double(c[i * ldc + j]);
      for (std::int64_t p = 0; p < k; ++p) s += double(a[i * lda + p]) * b_rows[p][j];
      c[i * ldc + j] = float(s);
    }
}

void sgemm_nt_rows(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                   std::int64_t lda, const float* const* b_rows, float beta, float* c,
                   std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = beta == 0.0f ? 0.0 : double(c[i * ldc + j]);
      for (std::int64_t p = 0; p < k; ++p) s += double(a[i * lda + p]) * b_rows[j][p];
      c[i * ldc + j] = float(s);
    }
}

void sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
           float* c, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = beta == 0.0f ? 0.0 : double(c[i * ldc + j]);
      for (std::int64_t p = 0; p < k; ++p) {
        const float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        s += double(av) * bv;
      }
      c[i * ldc + j] = float(s);
    }
}

}  // namespace reference

}  // namespace mixprec::model
