// `mixprec train FILE`: trains the scenario's network on the scenario's data set (model/data)
// and writes DIR/summary.json (per-epoch curves, final test metrics of the best checkpoint, wall
// time, manifest) and DIR/last.ckpt, DIR/best.ckpt.
//
//   mixprec train FILE [--out DIR] [--resume] [--precision P.json | --qat] [--epochs N]
//                      [--threads N] [--synthetic N] [--lsq] [--stochastic-rounding]
//
// Precision: fp32 by default; --precision P.json trains quantization-aware at the precision
// file's per-layer precision, --qat at the scenario's own `precision` section. --synthetic N
// replaces the data set with N samples of a built-in synthetic task (model/trainer.hpp) for
// smoke tests. Bad input (scenario, precision file, checkpoint, options) exits 2; a training run
// that diverges (NaN/Inf) exits 1 naming the step and the layer.
#include <chrono>
#include <fstream>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "model/data/dataset.hpp"
#include "model/quant.hpp"
#include "model/trainer.hpp"

namespace mixprec::app {

namespace {

struct TrainOpts {
  std::string file;
  std::string out;
  std::string precision;
  bool qat = false;
  bool resume = false;
  int epochs = 0;  // 0: the scenario's
  int threads = 1;
  int synthetic = 0;
  bool lsq = false;
  bool stochastic = false;
  bool progress = true;
};

TrainOpts g_train;

// A data split as a model::MemorySource in the graph's input layout.
std::unique_ptr<model::MemorySource> source_of(const data::Split& s, const model::Graph& g,
                                               int sample_size, std::uint64_t seed, bool shuffle) {
  const model::Dims d1 = g.input_dims(1);
  if (d1.count() != sample_size)
    throw InternalError("data set samples of " + std::to_string(sample_size) +
                        " values for a network input of " + d1.str());
  return std::make_unique<model::MemorySource>(d1, s.x, s.y, s.target, seed, shuffle);
}

nlohmann::json epoch_json(const model::EpochMetrics& e, bool regression, double target_std) {
  nlohmann::json j{{"epoch", e.epoch + 1},         {"step", e.step},
                   {"lr", e.lr},                   {"train_loss", e.train_loss},
                   {"seconds", e.seconds},         {"samples_per_second", e.samples_per_second}};
  if (regression)
    j["train_rmse"] = e.train_rmse * target_std;
  else
    j["train_accuracy"] = e.train_accuracy;
  if (e.has_val) {
    j["val_loss"] = e.val.loss;
    if (regression)
      j["val_rmse"] = e.val.rmse * target_std;
    else
      j["val_accuracy"] = e.val.accuracy;
  }
  return j;
}

int run_train() {
  const TrainOpts& o = g_train;
  const auto t0 = std::chrono::steady_clock::now();
  if (!o.precision.empty() && o.qat) throw UsageError("give either --precision or --qat, not both");
  if (o.threads < 1) throw UsageError("--threads must be at least 1");
  Scenario sc = load_scenario(o.file);
  if (o.epochs > 0) sc.training.epochs = o.epochs;
  std::vector<LayerPrecision> precision;
  std::string precision_label = "fp32";
  if (!o.precision.empty()) {
    precision = precision_for(sc, o.precision);
    precision_label = o.precision;
  } else if (o.qat) {
    precision = sc.layer_precision;
    precision_label = "scenario";
  }
  if (const std::string why = model::qat_unsupported(sc.net, precision); !why.empty())
    throw UsageError(precision_label + ": " + why);
  const std::string out = o.out.empty() ? sc.report.out_dir + "/" + sc.name + "-train" : o.out;
  make_dirs(out);

  // Data: the scenario's data set, or a synthetic stand-in.
  model::TrainerOptions topt;
  topt.spec = sc.training;
  topt.threads = o.threads;
  topt.checkpoint_dir = out;
  topt.progress = o.progress;
  topt.range = o.lsq ? model::RangeMethod::Lsq : model::RangeMethod::RunningMinMax;
  topt.grad_rounding = o.stochastic ? model::GradRounding::Stochastic : model::GradRounding::Nearest;
  topt.clip_norm = 5.0;  // recurrent layers: Pascanu et al. 2013
  model::GraphOptions gopt;
  gopt.range = topt.range;
  const int out_width = sc.net.layers.back().out.c;

  std::unique_ptr<model::MemorySource> train, val, test;
  nlohmann::json data_json;
  bool regression = false;
  double target_std = 1.0;
  data::Baseline naive_test;
  {
    model::Graph probe(sc.net, {}, gopt);  // input layout only
    if (o.synthetic > 0) {
      regression = out_width == 1;
      model::SyntheticOptions so;
      so.outputs = out_width;
      so.regression = regression;
      so.task_seed = std::uint64_t(sc.data.seed);
      so.samples = o.synthetic;
      so.sample_seed = std::uint64_t(sc.data.seed) * 3 + 1;
      train = model::make_synthetic(probe, so);
      so.samples = std::max(8, o.synthetic / 4);
      so.shuffle = false;
      so.sample_seed += 1;
      val = model::make_synthetic(probe, so);
      so.sample_seed += 1;
      test = model::make_synthetic(probe, so);
      data_json = {{"name", "synthetic"}, {"train", o.synthetic}, {"val", so.samples}, {"test", so.samples}};
    } else {
      const data::Dataset ds = data::make_dataset(sc);
      regression = ds.regression;
      target_std = regression ? ds.target_std : 1.0;
      naive_test = ds.naive_test;
      const std::uint64_t seed = std::uint64_t(sc.training.seed);
      train = source_of(ds.train, probe, ds.sample_size(), seed, true);
      val = source_of(ds.val, probe, ds.sample_size(), seed, false);
      test = source_of(ds.test, probe, ds.sample_size(), seed, false);
      data_json = {{"name", ds.name},          {"description", ds.description},
                   {"train", ds.train.n},      {"val", ds.val.n},
                   {"test", ds.test.n},        {"classes", ds.classes}};
      if (regression) data_json["target_unit"] = ds.target_unit;
    }
  }
  if (train->size() == 0) throw SpecError(o.file, "/data", "a non-empty training split", "0 samples");
  topt.task = regression ? model::Task::Regression : model::Task::Classification;

  model::Trainer trainer(sc.net, precision, topt, gopt);
  const std::string last = out + "/last.ckpt", best = out + "/best.ckpt";
  if (o.resume) {
    if (!std::ifstream(last).good())
      throw UsageError("--resume: no checkpoint to resume from (" + last + " does not exist)");
    trainer.load_checkpoint(last);
    std::cerr << "resuming from " << last << " at step " << trainer.step() << " (epoch "
              << trainer.epoch() + 1 << ")\n";
  }
  trainer.fit(*train, val.get());

  // Final test metrics: the best checkpoint (by validation), and the last weights. (Loading the
  // best checkpoint restores its history too: keep the full run's first.)
  const std::vector<model::EpochMetrics> history = trainer.history();
  const int best_epoch = trainer.best_epoch();
  const model::EvalMetrics test_last = trainer.evaluate(*test);
  if (std::ifstream(best).good()) trainer.load_checkpoint(best);
  const model::EvalMetrics test_best = trainer.evaluate(*test);
  nlohmann::json test_json{{"loss", test_best.loss}, {"samples", test_best.samples}};
  nlohmann::json last_json{{"loss", test_last.loss}};
  if (regression) {
    test_json["rmse"] = test_best.rmse * target_std;
    test_json["naive_rmse"] = naive_test.rmse;
    last_json["rmse"] = test_last.rmse * target_std;
  } else {
    test_json["accuracy"] = test_best.accuracy;
    if (o.synthetic == 0) test_json["naive_accuracy"] = naive_test.accuracy;
    last_json["accuracy"] = test_last.accuracy;
  }
  if (!precision.empty()) {
    bool any_int = false;
    for (const LayerPrecision& p : precision) any_int = any_int || p.format == NumFormat::Int;
    if (any_int) {
      trainer.graph().set_integer_eval(true);
      const model::EvalMetrics ti = trainer.evaluate(*test);
      trainer.graph().set_integer_eval(false);
      test_json["integer_eval"] = regression ? nlohmann::json{{"rmse", ti.rmse * target_std}}
                                             : nlohmann::json{{"accuracy", ti.accuracy}};
    }
  }

  nlohmann::json epochs = nlohmann::json::array();
  for (const model::EpochMetrics& e : history) epochs.push_back(epoch_json(e, regression, target_std));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json s;
  s["scenario"] = sc.name;
  s["network"] = sc.net.name;
  s["task"] = regression ? "regression" : "classification";
  s["data"] = data_json;
  s["precision"] = precision_label;
  s["training"] = {{"epochs", sc.training.epochs},
                   {"batch_size", sc.training.batch_size},
                   {"micro_batches", sc.training.micro_batches},
                   {"optimizer", sc.training.optimizer},
                   {"learning_rate", sc.training.learning_rate},
                   {"weight_decay", sc.training.weight_decay},
                   {"seed", sc.training.seed},
                   {"fp32_gradient_buffers", sc.training.fp32_gradient_buffers},
                   {"schedule", "cosine"},
                   {"clip_norm", topt.clip_norm},
                   {"range", model::to_string(topt.range)},
                   {"gradient_rounding", model::to_string(topt.grad_rounding)},
                   {"threads", o.threads},
                   {"resumed", o.resume}};
  s["epochs"] = epochs;
  s["best_epoch"] = best_epoch + 1;
  s["test"] = test_json;
  s["test_last_epoch"] = last_json;
  s["checkpoints"] = {{"best", best}, {"last", last}};
  s["wall_seconds"] = wall;
  nlohmann::json m = make_manifest(o.file, o.threads);
  if (!o.precision.empty()) m["precision_file"] = o.precision;
  s["manifest"] = m;
  write_file_atomic(out + "/summary.json", s.dump(2) + "\n");
  std::cerr << "wrote " << out << "/summary.json\n";
  if (regression)
    std::cout << "test rmse " << test_best.rmse * target_std << " (naive " << naive_test.rmse
              << ")";
  else
    std::cout << "test accuracy " << test_best.accuracy;
  std::cout << ", best epoch " << best_epoch + 1 << ", " << wall << " s\n";
  return 0;
}

void setup_train(CLI::App& app) {
  CLI::App* c = app.add_subcommand("train", "Train the scenario's network (FP32 or quantization-aware)");
  c->add_option("file", g_train.file, "Scenario file")->required();
  c->add_option("--out", g_train.out, "Output directory (summary.json, checkpoints)");
  c->add_flag("--resume", g_train.resume, "Continue from DIR/last.ckpt");
  c->add_option("--precision", g_train.precision, "Precision file: train quantization-aware at it");
  c->add_flag("--qat", g_train.qat, "Train quantization-aware at the scenario's precision section");
  c->add_option("--epochs", g_train.epochs, "Override training.epochs")->check(CLI::PositiveNumber);
  c->add_option("--threads", g_train.threads, "Worker threads (batch shards)")->check(CLI::PositiveNumber);
  c->add_option("--synthetic", g_train.synthetic, "Train on N samples of a synthetic task instead")
      ->check(CLI::PositiveNumber);
  c->add_flag("--lsq", g_train.lsq, "Learned step sizes (LSQ) instead of running min/max ranges");
  c->add_flag("--stochastic-rounding", g_train.stochastic, "Stochastic rounding of gradients");
  c->add_flag("!--no-progress", g_train.progress, "No progress line on stderr");
}

const CommandRegistrar reg("train", setup_train, run_train);

}  // namespace

}  // namespace mixprec::app
