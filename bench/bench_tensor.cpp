// Rank truncation (model/rank_truncation.hpp): what `train --init-from` and the measured rank
// sensitivity pay per candidate. The video TT / HT input matrices (57,600 x 1,024, never formed)
// truncated from ranks 16 to 4, and the venue TT (768 x 256) from 8 to 4.
#include <benchmark/benchmark.h>

#include <random>

#include "core/factorization.hpp"
#include "model/rank_truncation.hpp"

namespace {

using namespace mixprec;

Factorization video(FactorizationKind kind, int r) {
  if (kind == FactorizationKind::TensorTrain) return tensor_train({8, 20, 20, 18}, {4, 4, 4, 4}, {1, r, r, r, 1});
  return hierarchical_tucker({8, 20, 20, 18}, {4, 4, 4, 4}, {r, r, r, r}, {r, r});
}

Factorization venue_tt(int r) { return tensor_train({3, 16, 16}, {4, 4, 4}, {1, r, r, 1}); }

std::vector<std::vector<float>> random_cores(const Factorization& f) {
  const TensorNetwork tn = make_tensor_network(f);
  std::mt19937_64 rng(1);
  std::normal_distribution<float> n(0.0f, 0.1f);
  std::vector<std::vector<float>> cores;
  for (const TensorCore& c : tn.cores) {
    cores.emplace_back(size_t(c.size(tn.axis_size)));
    for (float& v : cores.back()) v = n(rng);
  }
  return cores;
}

void run(benchmark::State& state, const Factorization& from, const Factorization& to) {
  const auto cores = random_cores(from);
  for (auto _ : state) benchmark::DoNotOptimize(model::truncate_ranks(from, cores, to));
}

void BM_TruncateVideoTT(benchmark::State& s) {
  run(s, video(FactorizationKind::TensorTrain, 16), video(FactorizationKind::TensorTrain, 4));
}
void BM_TruncateVideoHT(benchmark::State& s) {
  run(s, video(FactorizationKind::HierarchicalTucker, 16), video(FactorizationKind::HierarchicalTucker, 4));
}
void BM_TruncateVenueTT(benchmark::State& s) { run(s, venue_tt(8), venue_tt(4)); }

}  // namespace

BENCHMARK(BM_TruncateVideoTT)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TruncateVideoHT)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TruncateVenueTT)->Unit(benchmark::kMicrosecond);
