// Training-engine benchmarks: the default scenario's network (ResNet-18 variant, widths
// 16-32-64-128, 3x3 stem, 4 stages x 2 basic blocks, strides 1-2-2-2, 3 x 16 x 16 frames, T = 8,
// two-layer bidirectional LSTM with 64 hidden units per direction, linear head to 5 classes) at
// batch 32:
//   BM_TrainStep/reference  one FP32 AdamW training step (forward, backward, update)
//   BM_TrainStep/qat        the same with fake quantization at 8 bits (int8 weights,
//                           activations, LSTM gates/cell state/hidden, 8-bit gradients)
//   BM_Inference/reference  a forward pass in evaluation mode
// each with 1 and 2 threads (batch shards, model/trainer.hpp). The PyTorch peer is
// bench/peers/pytorch_train_step.py.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/scenario.hpp"
#include "model/init.hpp"
#include "model/trainer.hpp"

#ifndef MIXPREC_SOURCE_DIR
#error "MIXPREC_SOURCE_DIR must be defined"
#endif

namespace {

using namespace mixprec;

constexpr int kBatch = 32;

const Scenario& train_scenario() {
  static const Scenario sc = [] {
    Scenario s = load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/venue_cnn_lstm.json");
    s.network.batch = kBatch;
    s.net = build_network(s.network, s.file);
    return s;
  }();
  return sc;
}

model::TrainerOptions bench_options(int threads) {
  model::TrainerOptions o;
  o.spec = train_scenario().training;
  o.spec.batch_size = kBatch;
  o.spec.micro_batches = 1;
  o.spec.optimizer = "adamw";
  o.threads = threads;
  return o;
}

// A fixed random batch in the graph's input layout.
model::Batch random_batch(const model::Graph& g) {
  model::Batch b;
  b.x.resize(g.input_dims(kBatch));
  std::mt19937_64 rng(1);
  for (std::int64_t i = 0; i < b.x.size(); ++i) b.x[i] = float(model::standard_normal(rng));
  for (int s = 0; s < kBatch; ++s) b.labels.push_back(int(rng() % 5));
  b.size = kBatch;
  return b;
}

void train_step(benchmark::State& state, bool qat) {
  const Scenario& sc = train_scenario();
  std::vector<LayerPrecision> precision;
  if (qat) precision.assign(sc.net.layers.size(), LayerPrecision::uniform(NumFormat::Int, 8));
  model::Trainer t(sc.net, precision, bench_options(int(state.range(0))));
  const model::Batch b = random_batch(t.graph());
  t.train_step(b);  // warm-up: buffers grow to size once
  for (auto _ : state) benchmark::DoNotOptimize(t.train_step(b));
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel("samples (batch 32 x 8 frames)");
}

void BM_TrainStep_reference(benchmark::State& state) { train_step(state, false); }
void BM_TrainStep_qat(benchmark::State& state) { train_step(state, true); }

void BM_Inference_reference(benchmark::State& state) {
  const Scenario& sc = train_scenario();
  model::Trainer t(sc.net, {}, bench_options(int(state.range(0))));
  const model::Batch b = random_batch(t.graph());
  model::MemorySource src(t.graph().input_dims(1),
                          std::vector<float>(b.x.data(), b.x.data() + b.x.size()), b.labels, {}, 1,
                          false);
  t.evaluate(src, kBatch);
  for (auto _ : state) benchmark::DoNotOptimize(t.evaluate(src, kBatch).loss);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_TrainStep_reference)->Name("BM_TrainStep/reference")->ArgName("threads")->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_TrainStep_qat)->Name("BM_TrainStep/qat")->ArgName("threads")->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Inference_reference)->Name("BM_Inference/reference")->ArgName("threads")->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace
