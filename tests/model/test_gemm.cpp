// The GEMM kernels (every instruction-set path this CPU has) against the scalar reference, for
// all transpose combinations, edge sizes, leading dimensions and beta.
#include <catch2/catch.hpp>
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "model/gemm.hpp"

using namespace mixprec::model;

namespace {

struct IsaGuard {
  GemmIsa saved = gemm_isa();
  ~IsaGuard() { set_gemm_isa(saved); }
};

}  // namespace

TEST_CASE("gemm: every path matches the reference", "[model][gemm]") {
  IsaGuard guard;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  // Sizes around the register tiles (8 x 32, 6 x 16) and the cache blocks (k 192/256, m 144).
  const std::vector<std::array<int, 3>> sizes{{1, 1, 1},    {5, 7, 3},     {8, 32, 16},
                                              {13, 45, 200}, {150, 33, 260}, {16, 3100, 27},
                                              {64, 20, 1},  {7, 1, 400}};
  std::vector<GemmIsa> paths{GemmIsa::Portable};
  if (best_supported_gemm_isa() >= GemmIsa::Avx2) paths.push_back(GemmIsa::Avx2);
  if (best_supported_gemm_isa() >= GemmIsa::Avx512) paths.push_back(GemmIsa::Avx512);
  for (GemmIsa isa : paths) {
    REQUIRE(set_gemm_isa(isa) == isa);
    for (const auto& s : sizes)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (float beta : {0.0f, 1.0f}) {
            const int m = s[0], n = s[1], k = s[2];
            const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
            std::vector<float> a(size_t((ta ? k : m) * lda)), b(size_t((tb ? n : k) * ldb));
            std::vector<float> c(size_t(m * ldc)), r;
            for (float& v : a) v = u(rng);
            for (float& v : b) v = u(rng);
            for (float& v : c) v = beta == 0.0f ? std::nanf("") : u(rng);  // beta 0: never read
            r = c;
            sgemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
            reference::sgemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, r.data(), ldc);
            double worst = 0;
            for (int i = 0; i < m; ++i)
              for (int j = 0; j < n; ++j)
                worst = std::max(worst, double(std::fabs(c[size_t(i * ldc + j)] - r[size_t(i * ldc + j)])));
            // Float sums of k products of |values| <= 1: error <= k * 2^-24 * k in the worst
            // case, ~sqrt(k) * 2^-24 typically; 1e-6 * (k + 1) is far above both.
            INFO(to_string(isa) << " m " << m << " n " << n << " k " << k << " ta " << ta << " tb " << tb
                                << " beta " << beta);
            CHECK(worst <= 1e-6 * (k + 1));
            // Padding between rows is untouched.
            for (int i = 0; i < m; ++i) CHECK(std::isnan(c[size_t(i * ldc + n)]) == std::isnan(r[size_t(i * ldc + n)]));
          }
  }
}

TEST_CASE("gemm: results are reproducible call to call", "[model][gemm]") {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int m = 37, n = 300, k = 500;
  std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c1(size_t(m * n)), c2(size_t(m * n));
  for (float& v : a) v = u(rng);
  for (float& v : b) v = u(rng);
  sgemm(false, false, m, n, k, a.data(), k, b.data(), n, 0.0f, c1.data(), n);
  sgemm(false, false, m, n, k, a.data(), k, b.data(), n, 0.0f, c2.data(), n);
  CHECK(c1 == c2);
}

TEST_CASE("gemm: indirect (row-pointer) operands match the reference", "[model][gemm]") {
  IsaGuard guard;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<GemmIsa> paths{GemmIsa::Portable};
  if (best_supported_gemm_isa() >= GemmIsa::Avx2) paths.push_back(GemmIsa::Avx2);
  if (best_supported_gemm_isa() >= GemmIsa::Avx512) paths.push_back(GemmIsa::Avx512);
  // Rows overlap (shifted views of one buffer), as in an implicit convolution.
  std::vector<float> pool(20000);
  for (float& v : pool) v = u(rng);
  for (GemmIsa isa : paths) {
    set_gemm_isa(isa);
    for (const auto& s : std::vector<std::array<int, 3>>{{3, 5, 2}, {16, 700, 27}, {20, 3300, 150}, {150, 40, 300}}) {
      const int m = s[0], n = s[1], k = s[2];
      std::vector<float> a(size_t(m * k));
      for (float& v : a) v = u(rng);
      std::vector<const float*> rows;
      for (int p = 0; p < std::max(n, k); ++p) rows.push_back(pool.data() + (p * 37) % 5000);
      for (float beta : {0.0f, 1.0f}) {
        std::vector<float> c(size_t(m * n), beta == 0.0f ? std::nanf("") : 0.5f), r = c;
        sgemm_rows(m, n, k, a.data(), k, rows.data(), beta, c.data(), n);
        reference::sgemm_rows(m, n, k, a.data(), k, rows.data(), beta, r.data(), n);
        double worst = 0;
        for (std::size_t i = 0; i < c.size(); ++i) worst = std::max(worst, double(std::fabs(c[i] - r[i])));
        INFO(to_string(isa) << " rows m " << m << " n " << n << " k " << k);
        CHECK(worst <= 1e-6 * (k + 1));
        // NT: C (m x n) = A (m x k') B^T with k' = n-independent length; reuse k as the length.
        std::vector<float> c2(size_t(m * n), beta == 0.0f ? std::nanf("") : 0.5f), r2 = c2;
        sgemm_nt_rows(m, n, k, a.data(), k, rows.data(), beta, c2.data(), n);
        reference::sgemm_nt_rows(m, n, k, a.data(), k, rows.data(), beta, r2.data(), n);
        worst = 0;
        for (std::size_t i = 0; i < c2.size(); ++i) worst = std::max(worst, double(std::fabs(c2[i] - r2[i])));
        CHECK(worst <= 1e-6 * (k + 1));
      }
    }
  }
}
