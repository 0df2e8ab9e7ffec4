// The trainer: micro-batch equivalence, hybrid-precision gradient accumulation, determinism,
// checkpoints (resume equality, corrupted files), divergence detection, and learning.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <unistd.h>

#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "model/checkpoint.hpp"
#include "model/trainer.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::model;

namespace {

Scenario tiny(const std::string& precision_default = R"({"format": "fp32", "weights": null, "activations": null})", bool batchnorm = true) {
  Scenario sc = test::default_scenario_with(R"({
    "network": {"batch": 2, "input": {"frames": 2, "channels": 2, "height": 6, "width": 6},
                "cnn": {"stage_widths": [4, 6], "stage_strides": [1, 2], "blocks_per_stage": 1},
                "lstm": {"hidden": 4, "layers": 2, "bidirectional": true}, "classes": 3},
    "precision": {"default": )" + precision_default + R"(, "layers": []}})");
  if (!batchnorm)
    for (auto& l : sc.net.layers) {
      l.batchnorm = false;
      l.bias = true;
    }
  return sc;
}

std::string temp_dir() {
  char tpl[] = "/tmp/mixprec_trainXXXXXX";
  const char* d = mkdtemp(tpl);
  REQUIRE(d != nullptr);
  return d;
}

TrainerOptions options(int batch, int micro, const std::string& optimizer = "adamw") {
  TrainerOptions o;
  o.spec.epochs = 2;
  o.spec.batch_size = batch;
  o.spec.micro_batches = micro;
  o.spec.optimizer = optimizer;
  o.spec.learning_rate = 0.01;
  o.spec.weight_decay = 1e-4;
  o.spec.seed = 7;
  return o;
}

std::vector<std::vector<float>> weights(Trainer& t) {
  std::vector<std::vector<float>> w;
  for (Param* p : t.params()) w.emplace_back(p->value.data(), p->value.data() + p->value.size());
  return w;
}

std::unique_ptr<MemorySource> data(const Trainer& t, int samples, std::uint64_t seed, bool shuffle = true) {
  SyntheticOptions s;
  s.samples = samples;
  s.outputs = 3;
  s.sample_seed = seed;
  s.shuffle = shuffle;
  return make_synthetic(const_cast<Trainer&>(t).graph(), s);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace

TEST_CASE("trainer: k micro-batches of b equal one batch of k*b (no BatchNorm, fp32)",
          "[model][trainer]") {
  const Scenario sc = tiny(R"({"format": "fp32", "weights": null, "activations": null})", false);
  // SGD without momentum: the update is lr * gradient, so weights compare gradients directly.
  TrainerOptions one = options(8, 1, "sgd"), four = options(8, 4, "sgd");
  one.momentum = four.momentum = 0;
  one.spec.learning_rate = four.spec.learning_rate = 0.5;
  Trainer a(sc.net, {}, one), b(sc.net, {}, four);
  auto src = data(a, 8, 3);
  Batch batch;
  src->next_batch(8, batch);
  const auto w0 = weights(a);
  const double la = a.train_step(batch), lb = b.train_step(batch);
  CHECK(la == Approx(lb).epsilon(1e-6));
  const auto wa = weights(a), wb = weights(b);
  double worst = 0, moved = 0;
  for (std::size_t i = 0; i < wa.size(); ++i)
    for (std::size_t j = 0; j < wa[i].size(); ++j) {
      worst = std::max(worst, double(std::fabs(wa[i][j] - wb[i][j])));
      moved = std::max(moved, double(std::fabs(wa[i][j] - w0[i][j])));
    }
  CHECK(moved > 1e-3);   // the step did something
  CHECK(worst < 2e-6);   // ... the same thing up to float rounding
}

TEST_CASE("trainer: with BatchNorm, statistics are per micro-batch", "[model][trainer]") {
  const Scenario sc = tiny();
  Trainer a(sc.net, {}, options(8, 1)), b(sc.net, {}, options(8, 4));
  auto src = data(a, 8, 3);
  Batch batch;
  src->next_batch(8, batch);
  CHECK(a.train_step(batch) != Approx(b.train_step(batch)).epsilon(1e-6));
}

TEST_CASE("trainer: FP32 gradient buffers vs low-precision accumulation", "[model][trainer]") {
  auto run = [](const std::string& prec, bool fp32_buffers) {
    const Scenario sc = tiny(prec);
    TrainerOptions o = options(8, 4);
    o.spec.fp32_gradient_buffers = fp32_buffers;
    Trainer t(sc.net, sc.layer_precision, o);
    auto src = data(t, 8, 3);
    Batch batch;
    src->next_batch(8, batch);
    t.train_step(batch);
    return weights(t);
  };
  // fp32 everywhere: nothing is quantized, the switch changes nothing.
  CHECK(run(R"({"format": "fp32", "weights": null, "activations": null})", true) == run(R"({"format": "fp32", "weights": null, "activations": null})", false));
  // 4-bit gradients: accumulating in low precision gives a different update.
  const std::string g4 = R"({"format": "int", "weights": 8, "activations": 8, "gradients": 4})";
  CHECK(run(g4, true) != run(g4, false));
}

TEST_CASE("trainer: same seed and thread count give bit-identical weights", "[model][trainer]") {
  const Scenario sc = tiny(R"({"format": "int", "weights": 6, "activations": 8, "gradients": 8})");
  for (int threads : {1, 2}) {
    auto run = [&] {
      TrainerOptions o = options(8, 2);
      o.threads = threads;
      o.grad_rounding = GradRounding::Stochastic;
      Trainer t(sc.net, sc.layer_precision, o);
      auto src = data(t, 24, 5);
      t.fit(*src, nullptr);
      return weights(t);
    };
    const auto a = run(), b = run();
    CHECK(a == b);
  }
}

TEST_CASE("trainer: resuming from a checkpoint reproduces the uninterrupted run exactly",
          "[model][trainer]") {
  const Scenario sc = tiny(R"({"format": "int", "weights": 4, "activations": 8, "gradients": 8})");
  TrainerOptions o = options(8, 2);
  o.spec.epochs = 3;
  o.grad_rounding = GradRounding::Stochastic;
  o.threads = 2;
  GraphOptions lsq;
  lsq.range = RangeMethod::Lsq;
  const std::string dir_a = temp_dir(), dir_b = temp_dir();
  o.checkpoint_dir = dir_a;
  Trainer full(sc.net, sc.layer_precision, o, lsq);
  auto train = data(full, 20, 11), val = data(full, 8, 12, false);
  CHECK(full.fit(*train, val.get()));  // 3 epochs x 3 batches = 9 steps
  CHECK(full.step() == 9);

  o.checkpoint_dir = dir_b;
  {
    Trainer first(sc.net, sc.layer_precision, o, lsq);
    CHECK_FALSE(first.fit(*train, val.get(), 4));  // interrupted mid-epoch 2
    CHECK(first.step() == 4);
  }
  Trainer resumed(sc.net, sc.layer_precision, o, lsq);
  resumed.load_checkpoint(dir_b + "/last.ckpt");
  CHECK(resumed.step() == 4);
  CHECK(resumed.fit(*train, val.get()));
  CHECK(resumed.step() == 9);
  CHECK(weights(resumed) == weights(full));
  std::vector<std::vector<float>> ba, bb;
  for (Buffer* b : full.graph().buffers()) ba.emplace_back(b->value.data(), b->value.data() + b->value.size());
  for (Buffer* b : resumed.graph().buffers()) bb.emplace_back(b->value.data(), b->value.data() + b->value.size());
  CHECK(ba == bb);
  REQUIRE(resumed.history().size() == full.history().size());
  for (std::size_t e = 0; e < full.history().size(); ++e) {
    CHECK(resumed.history()[e].train_loss == full.history()[e].train_loss);
    CHECK(resumed.history()[e].val.accuracy == full.history()[e].val.accuracy);
  }
  CHECK(resumed.best_epoch() == full.best_epoch());
  // The two runs' final checkpoints hold the same state (the notes differ in wall times).
  const CheckpointData ca = read_checkpoint(dir_a + "/last.ckpt"), cb = read_checkpoint(dir_b + "/last.ckpt");
  REQUIRE(ca.params.size() == cb.params.size());
  for (std::size_t i = 0; i < ca.params.size(); ++i) CHECK(ca.params[i].values == cb.params[i].values);
  CHECK(ca.optimizer_state == cb.optimizer_state);
  CHECK(ca.rng == cb.rng);
  CHECK(ca.step == cb.step);
}

TEST_CASE("trainer: corrupted, truncated and foreign checkpoints are rejected", "[model][trainer]") {
  const Scenario sc = tiny();
  const std::string dir = temp_dir();
  Trainer t(sc.net, {}, options(8, 1));
  const std::string path = dir + "/c.ckpt";
  t.save_checkpoint(path);
  const std::string good = slurp(path);
  CHECK(good.compare(0, 8, "MIXPCKPT") == 0);
  Trainer u(sc.net, {}, options(8, 1));
  CHECK_NOTHROW(u.load_checkpoint(path));

  auto message = [&](const std::string& bytes) {
    spit(path, bytes);
    try {
      u.load_checkpoint(path);
    } catch (const CheckpointError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  CHECK(message(flipped) == path + ": checksum mismatch: the checkpoint is corrupted");
  const std::size_t body = good.size() - 32;
  CHECK(message(good.substr(0, good.size() - 100)) ==
        path + ": truncated checkpoint: header declares " + std::to_string(body) +
            " body bytes, file has " + std::to_string(body - 100));
  CHECK(message(good.substr(0, 20)) ==
        path + ": truncated checkpoint: 20 bytes, shorter than the 32-byte header");
  CHECK(message("not a checkpoint at all, but long enough to have a header") ==
        path + ": not a mixprec checkpoint (bad magic)");
  // A tensor entry whose dims multiply past int64 (the first parameter's four int32 dims follow
  // its name; the header's body checksum recomputed): refused as malformed, no overflow.
  {
    const std::string name = t.graph().params().front()->name;
    std::string huge = good;
    const std::size_t at = huge.find(name);
    REQUIRE(at != std::string::npos);
    const std::int32_t big = 1 << 30;
    for (int k = 0; k < 4; ++k) std::memcpy(&huge[at + name.size() + 4 * std::size_t(k)], &big, 4);
    const std::uint64_t sum = fnv1a64(huge.data() + 32, huge.size() - 32);
    std::memcpy(&huge[24], &sum, 8);
    CHECK(message(huge) == path + ": malformed entry for \"" + name + "\"");
  }
  std::string v2 = good;
  v2[8] = 2;
  CHECK(message(v2) == path + ": checkpoint version 2 is not supported (this build reads version 1)");
  // A checkpoint of another network.
  const Scenario other = tiny(R"({"format": "int"})");
  Trainer q(other.net, other.layer_precision, options(8, 1), GraphOptions{RangeMethod::Lsq});
  spit(path, good);
  CHECK_THROWS_WITH(q.load_checkpoint(path), Catch::Contains("parameters, the network"));
  CHECK_THROWS_WITH(u.load_checkpoint(dir + "/missing.ckpt"),
                    dir + "/missing.ckpt: cannot open checkpoint");
  // Saving the same state again gives the same bytes.
  t.save_checkpoint(path);
  CHECK(slurp(path) == good);
}

namespace {

// Wraps a source; before the batch with index `at` (0-based, across epochs) runs `hook`.
class HookSource final : public BatchSource {
 public:
  HookSource(BatchSource& inner, int at, std::function<void()> hook)
      : inner_(inner), at_(at), hook_(std::move(hook)) {}
  int size() const override { return inner_.size(); }
  void start_epoch(int e) override { inner_.start_epoch(e); }
  bool next_batch(int m, Batch& b) override {
    if (count_++ == at_) hook_();
    return inner_.next_batch(m, b);
  }

 private:
  BatchSource& inner_;
  int at_, count_ = 0;
  std::function<void()> hook_;
};

}  // namespace

TEST_CASE("trainer: a non-finite loss stops training, naming the step and the layer",
          "[model][trainer]") {
  const Scenario sc = tiny();
  const std::string dir = temp_dir();
  TrainerOptions o = options(8, 1);
  o.checkpoint_dir = dir;
  o.checkpoint_every_steps = 1;
  Trainer t(sc.net, {}, o);
  auto inner = data(t, 32, 3);
  HookSource src(*inner, 2, [&] {
    for (Param* p : t.params())
      if (p->name == "cnn.stage2.block0.conv1.weight") p->value[0] = std::numeric_limits<float>::infinity();
  });
  try {
    t.fit(src, nullptr);
    FAIL("training did not stop");
  } catch (const TrainingDiverged& e) {
    CHECK(std::string(e.what()) ==
          "training diverged at step 3 (epoch 1, batch 3): the loss is nan; the first non-finite "
          "value is the output of layer \"cnn.stage2.block0.conv1\" (the last good checkpoint is "
          "kept: " + dir + "/last.ckpt)");
  }
  // The kept checkpoint is the last good step.
  CHECK(read_checkpoint(dir + "/last.ckpt").step == 2);
}

TEST_CASE("trainer: non-finite gradients are located in backward order", "[model][trainer]") {
  const Scenario sc = tiny();
  Graph g(sc.net);
  std::mt19937_64 rng(1);
  g.init(rng);
  Tensor x(g.input_dims(2)), dy(2, 3);
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) * 0.1f;
  dy.fill(1.0f);
  g.forward(x);
  g.zero_grad();
  g.backward(dy);
  CHECK(g.first_nonfinite_gradient() == -1);
  for (Param* p : g.params())
    if (p->name == "lstm.l0.weight_hh") p->grad[0] = std::nanf("");
  CHECK(g.first_nonfinite_gradient() == sc.net.find("lstm.l0"));
}

TEST_CASE("trainer: learns a synthetic task in fp32 and quantization-aware at 4 bits",
          "[model][trainer]") {
  for (const std::string prec : {R"({"format": "fp32", "weights": null, "activations": null})",
                                 R"({"format": "int", "weights": 4, "activations": 4, "gradients": 8})"}) {
    const Scenario sc = tiny(prec);
    TrainerOptions o = options(16, 2);
    o.spec.epochs = 6;
    o.spec.learning_rate = 0.01;
    Trainer t(sc.net, sc.layer_precision, o);
    SyntheticOptions so;
    so.outputs = 3;
    so.signal = 0.6f;
    so.samples = 192;
    so.sample_seed = 21;
    auto train = make_synthetic(t.graph(), so);
    so.samples = 96;
    so.sample_seed = 22;
    so.shuffle = false;
    auto test = make_synthetic(t.graph(), so);
    t.fit(*train, nullptr);
    const EvalMetrics m = t.evaluate(*test);
    INFO(prec);
    CHECK(m.samples == 96);
    CHECK(m.accuracy > 0.85);
    CHECK(t.history().back().train_loss < t.history().front().train_loss);
  }
}

TEST_CASE("trainer: memory source batches are deterministic and cover each epoch once",
          "[model][trainer]") {
  std::vector<float> x(10 * 2);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  std::vector<int> labels(10);
  for (int i = 0; i < 10; ++i) labels[size_t(i)] = i;
  MemorySource a(Dims{1, 2, 1, 1}, x, labels, {}, 3, true), b(Dims{1, 2, 1, 1}, x, labels, {}, 3, true);
  for (int epoch = 0; epoch < 2; ++epoch) {
    a.start_epoch(epoch);
    b.start_epoch(epoch);
    Batch ba, bb;
    std::vector<int> seen;
    int batches = 0;
    while (a.next_batch(4, ba)) {
      REQUIRE(b.next_batch(4, bb));
      CHECK(ba.labels == bb.labels);
      for (int k = 0; k < ba.size; ++k) CHECK(ba.x[2 * k] == float(2 * ba.labels[size_t(k)]));
      seen.insert(seen.end(), ba.labels.begin(), ba.labels.end());
      ++batches;
    }
    CHECK(batches == 3);  // 4 + 4 + 2
    std::sort(seen.begin(), seen.end());
    CHECK(seen == labels);
  }
}

TEST_CASE("trainer: regression with a plain LSTM reports RMSE and beats predicting zero",
          "[model][trainer]") {
  const Scenario sc = test::default_scenario_with(R"({
    "network": {"template": "lstm", "batch": 4,
                "input": {"frames": 6, "features": 2, "channels": null, "height": null, "width": null},
                "cnn": null, "lstm": {"hidden": 8, "layers": 1, "bidirectional": false}, "classes": 1},
    "precision": {"default": {"format": "fp32", "weights": null, "activations": null}, "layers": []},
    "search": {"fixed_layers": []}})");
  TrainerOptions o = options(16, 1);
  o.task = Task::Regression;
  o.spec.epochs = 30;
  o.spec.learning_rate = 0.01;
  Trainer t(sc.net, {}, o);
  SyntheticOptions so;
  so.regression = true;
  so.outputs = 1;
  so.samples = 1024;
  so.sample_seed = 31;
  auto train = make_synthetic(t.graph(), so);
  so.samples = 128;
  so.sample_seed = 32;
  so.shuffle = false;
  auto test = make_synthetic(t.graph(), so);
  const EvalMetrics before = t.evaluate(*test);
  t.fit(*train, test.get());
  const EvalMetrics after = t.evaluate(*test);
  // Targets have unit variance: predicting 0 gives RMSE ~1; the noise floor is 0.1.
  CHECK(after.rmse < 0.5);
  CHECK(after.rmse < before.rmse);
  CHECK(after.loss == Approx(after.rmse * after.rmse).epsilon(1e-6));
  CHECK(t.history().back().has_val);
  CHECK(t.history().back().val.rmse == Approx(after.rmse));
}
