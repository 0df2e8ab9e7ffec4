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
