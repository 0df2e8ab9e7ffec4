// Sensitivity-table benchmarks on the default scenario's network (venue_cnn_lstm, bench_train.cpp's
// ResNet-18 / BiLSTM at random initialization) over the estimators' default 64 validation samples
// (2 batches of 32, random inputs and labels) and 32 calibration samples, for the scenario's 24
// search options (weight_bits x activation_bits):
//   BM_SensitivityTable/ggn/threads:2      the "ggn" method: exact Gauss-Newton traces
//                                          (model::ggn_traces), activation perturbations and
//                                          the table of both terms
//   BM_SensitivityTable/hessian/threads:2  the same with the finite-difference Hessian traces
//                                          (2 Rademacher vectors x 4 sign patterns per batch)
//   BM_SensitivityMeasured/threads:2       the "measured" method (model::measured_sensitivity):
//                                          every layer quantized alone at every option, the
//                                          output divergence over its default 32 samples
// Issue 21's requirement: the winning method's table in <= 60 s on 2 cores.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "model/init.hpp"
#include "model/sensitivity.hpp"

#ifndef MIXPREC_SOURCE_DIR
#error "MIXPREC_SOURCE_DIR must be defined"
#endif

namespace {

using namespace mixprec;

const Scenario& sens_scenario() {
  static const Scenario sc = load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/venue_cnn_lstm.json");
  return sc;
}

std::vector<model::Batch> random_batches(const model::Graph& g, int batches, int size, std::uint64_t seed) {
  std::vector<model::Batch> out(static_cast<std::size_t>(batches));
  std::mt19937_64 rng(seed);
  for (model::Batch& b : out) {
    b.x.resize(g.input_dims(size));
    for (std::int64_t i = 0; i < b.x.size(); ++i) b.x[i] = float(model::standard_normal(rng));
    for (int s = 0; s < size; ++s) b.labels.push_back(int(rng() % 5));
    b.size = size;
  }
  return out;
}

// The scenario's 24 search options (weight_bits x activation_bits).
std::vector<LayerPrecision> search_options(const Scenario& sc) {
  std::vector<LayerPrecision> options;
  for (int w : sc.search.weight_bits)
    for (int a : sc.search.activation_bits) {
      LayerPrecision p = LayerPrecision::uniform(NumFormat::Int, w);
      p.activation_bits = a;
      options.push_back(p);
    }
  return options;
}

void BM_SensitivityTable(benchmark::State& state, bool ggn) {
  const Scenario& sc = sens_scenario();
  model::Graph g(sc.net);
  std::mt19937_64 rng(1);
  g.init(rng);
  const std::vector<model::Batch> data = random_batches(g, 2, 32, 2), calibration = random_batches(g, 1, 32, 3);
  const std::vector<LayerPrecision> options = search_options(sc);
  model::SensitivityOptions so;
  so.samples = 2;  // pipeline::SensitivityRequest's defaults
  so.sign_patterns = 4;
  so.threads = int(state.range(0));
  for (auto _ : state) {
    const model::HessianTraces traces =
        ggn ? model::ggn_traces(g, data, false, so) : model::hessian_traces(g, data, false, so);
    const std::vector<double> act = model::activation_perturbation(g, calibration, data, options);
    model::SensitivityTerms terms = model::hessian_sensitivity(g, traces, act, options);
    benchmark::DoNotOptimize(terms.total.data());
  }
}

void BM_SensitivityMeasured(benchmark::State& state) {
  const Scenario& sc = sens_scenario();
  model::Graph g(sc.net);
  std::mt19937_64 rng(1);
  g.init(rng);
  // pipeline::SensitivityRequest's defaults for the method: 32 samples, 32 calibration samples.
  const std::vector<model::Batch> data = random_batches(g, 1, 32, 2), calibration = random_batches(g, 1, 32, 3);
  const std::vector<LayerPrecision> options = search_options(sc);
  for (auto _ : state) {
    std::vector<double> table = model::measured_sensitivity(g, calibration, data, false, options, int(state.range(0)));
    benchmark::DoNotOptimize(table.data());
  }
}

BENCHMARK_CAPTURE(BM_SensitivityTable, ggn, true)->Arg(2)->ArgName("threads")->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_SensitivityTable, hessian, false)->Arg(2)->ArgName("threads")->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SensitivityMeasured)->Arg(2)->ArgName("threads")->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
