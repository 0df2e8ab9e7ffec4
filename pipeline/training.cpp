#include "pipeline/training.hpp"

#include <chrono>
#include <cmath>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/common.hpp"
#include "pipeline/session.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "model/quant.hpp"
#include "model/trainer.hpp"

namespace mixprec::pipeline {

namespace {

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

model::TrainerOptions trainer_options(const Scenario& sc, bool regression, int threads, bool lsq,
                                      bool stochastic, ProgressSink progress) {
  model::TrainerOptions t;
  t.spec = sc.training;
  t.task = regression ? model::Task::Regression : model::Task::Classification;
  t.threads = threads;
  t.progress = std::move(progress);
  t.range = lsq ? model::RangeMethod::Lsq : model::RangeMethod::RunningMinMax;
  t.grad_rounding = stochastic ? model::GradRounding::Stochastic : model::GradRounding::Nearest;
  t.clip_norm = 5.0;  // recurrent layers: Pascanu, Mikolov & Bengio, ICML 2013
  return t;
}

bool any_integer(const std::vector<LayerPrecision>& p) {
  for (const LayerPrecision& l : p)
    if (l.format == NumFormat::Int) return true;
  return false;
}

// Per-example scores for paired comparisons between models of one seed (pipeline/stats.hpp):
// the correct fraction, or the squared error in the targets' units summed over the outputs.
void add_per_example(nlohmann::json& j, const model::EvalMetrics& m, const DataSources& ds) {
  std::vector<double> ex = m.per_example;
  if (ds.regression)
    for (double& e : ex) e *= ds.target_std * ds.target_std;
  j["per_example"] = ex;
  j["outputs_per_example"] = m.outputs_per_example;
}

// Metric fields of an evaluation: accuracy (+ Wilson interval) or RMSE in original units.
nlohmann::json metrics_json(const model::EvalMetrics& m, bool regression, double target_std) {
  nlohmann::json j{{"loss", m.loss}, {"samples", m.samples}};
  if (regression) {
    j["rmse"] = m.rmse * target_std;
  } else {
    j["accuracy"] = m.accuracy;
    const auto ci = wilson_interval(m.accuracy, m.samples);
    j["accuracy_ci"] = {ci.first, ci.second};
  }
  return j;
}

void report_truncations(const std::vector<model::RankTruncation>& truncations, const char* what,
                        const ProgressSink& log) {
  if (!log) return;
  for (const model::RankTruncation& t : truncations)
    log(std::string(what) + ": " + t.layer + " cores truncated from ranks " + rank_label(t.from) + " to " +
            rank_label(t.to) + " (" + (t.to.kind == FactorizationKind::TensorTrain ? "TT rounding" : "HT truncation") +
            ", relative error of the matrix <= " + format_number(t.relative_error_bound) + ")",
        false);
}

nlohmann::json truncations_json(const std::vector<model::RankTruncation>& truncations) {
  nlohmann::json tj = nlohmann::json::array();
  for (const model::RankTruncation& t : truncations)
    tj.push_back({{"layer", t.layer}, {"from", ranks_to_json(t.from)}, {"to", ranks_to_json(t.to)},
                  {"relative_error_bound", t.relative_error_bound}});
  return tj;
}

}  // namespace

std::pair<double, double> wilson_interval(double p, int n) {
  if (n <= 0) return {0.0, 1.0};
  const double z = 1.959963984540054, z2 = z * z, nn = double(n);
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

nlohmann::json run_training(const TrainRequest& r) {
  const auto t0 = std::chrono::steady_clock::now();
  const Scenario& sc = r.sc;
  if (r.threads < 1) throw UsageError("--threads must be at least 1");
  if (const std::string why = model::qat_unsupported(sc.net, r.precision); !why.empty())
    throw UsageError(r.precision_label + ": " + why);
  make_dirs(r.out);

  model::GraphOptions gopt;
  gopt.range = r.lsq ? model::RangeMethod::Lsq : model::RangeMethod::RunningMinMax;
  model::Graph probe(sc.net, {}, gopt);  // input layout only
  DataSources ds = load_sources(sc, probe, r.synthetic);
  if (ds.train->size() == 0)
    throw SpecError(r.scenario_file, "/data", "a non-empty training split", "0 samples");
  model::TrainerOptions topt =
      trainer_options(sc, ds.regression, r.threads, r.lsq, r.stochastic_rounding,
                      r.progress ? r.log : nullptr);
  topt.checkpoint_dir = r.out;
  topt.checkpoint_every_steps = r.checkpoint_every_steps;

  model::Trainer trainer(sc.net, r.precision, topt, gopt);
  if (r.on_epoch)
    trainer.on_epoch = [&](const model::EpochMetrics& e) { r.on_epoch(epoch_json(e, ds.regression, ds.target_std)); };
  const std::string last = r.out + "/last.ckpt", best = r.out + "/best.ckpt";
  std::vector<model::RankTruncation> truncations;  // --init-from cores at larger ranks
  if (r.resume) {
    if (!std::ifstream(last).good())
      throw UsageError("--resume: no checkpoint to resume from (" + last + " does not exist)");
    trainer.load_checkpoint(last);
    if (r.log)
      r.log("resuming from " + last + " at step " + std::to_string(trainer.step()) + " (epoch " +
                std::to_string(trainer.epoch() + 1) + ")",
            false);
  } else if (!r.init_from.empty()) {
    trainer.load_weights(r.init_from, &truncations);
    report_truncations(truncations, "init", r.log);
  }
  trainer.fit(*ds.train, ds.val.get());

  // Final test metrics: the best checkpoint (by validation), and the last weights. (Loading the
  // best checkpoint restores its history too: keep the full run's first.)
  const std::vector<model::EpochMetrics> history = trainer.history();
  const int best_epoch = trainer.best_epoch();
  const model::EvalMetrics test_last = trainer.evaluate(*ds.test);
  if (std::ifstream(best).good()) trainer.load_checkpoint(best);
  const model::EvalMetrics test_best = trainer.evaluate(*ds.test, 0, /*per_example=*/true);
  nlohmann::json test_json = metrics_json(test_best, ds.regression, ds.target_std);
  add_per_example(test_json, test_best, ds);
  nlohmann::json last_json = metrics_json(test_last, ds.regression, ds.target_std);
  if (ds.regression) {
    test_json["naive_rmse"] = ds.naive_test.rmse;
    test_json["naive_mae"] = ds.naive_test.mae;
  } else if (!ds.synthetic) {
    test_json["naive_accuracy"] = ds.naive_test.accuracy;
  }
  if (r.integer_eval && any_integer(r.precision)) {
    trainer.graph().set_integer_eval(true);
    const model::EvalMetrics ti = trainer.evaluate(*ds.test);
    trainer.graph().set_integer_eval(false);
    test_json["integer_eval"] = ds.regression
                                    ? nlohmann::json{{"rmse", ti.rmse * ds.target_std}}
                                    : nlohmann::json{{"accuracy", ti.accuracy}};
  }

  nlohmann::json epochs = nlohmann::json::array();
  for (const model::EpochMetrics& e : history)
    epochs.push_back(epoch_json(e, ds.regression, ds.target_std));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json s;
  s["scenario"] = sc.name;
  s["network"] = sc.net.name;
  s["task"] = ds.regression ? "regression" : "classification";
  s["data"] = ds.description;
  s["precision"] = r.precision_label;
  if (!r.precision.empty()) s["layer_precision"] = precision_to_json(sc.net, r.precision);
  if (!truncations.empty()) s["init_rank_truncations"] = truncations_json(truncations);
  s["training"] = training_record(r);
  s["epochs"] = epochs;
  s["best_epoch"] = best_epoch + 1;
  s["test"] = test_json;
  s["test_last_epoch"] = last_json;
  s["checkpoints"] = {{"best", best}, {"last", last}};
  s["wall_seconds"] = wall;
  s["manifest"] = make_manifest(r.scenario_file, r.threads);
  write_file_atomic(r.out + "/summary.json", s.dump(2) + "\n");
  return s;
}

nlohmann::json training_record(const TrainRequest& r) {
  const Scenario& sc = r.sc;
  const model::TrainerOptions topt = trainer_options(sc, false, r.threads, r.lsq, r.stochastic_rounding, nullptr);
  return {{"epochs", sc.training.epochs},
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
          {"threads", r.threads},
          {"initialized_from", r.init_from},
          {"resumed", r.resume}};
}

nlohmann::json run_eval(const EvalRequest& r) {
  const Scenario& sc = r.sc;
  if (r.threads < 1) throw UsageError("--threads must be at least 1");
  if (r.split != "train" && r.split != "val" && r.split != "test")
    throw UsageError("--split must be train, val or test, not \"" + r.split + "\"");
  if (const std::string why = model::qat_unsupported(sc.net, r.precision); !why.empty())
    throw UsageError(r.precision_label + ": " + why);
  if (r.integer && !any_integer(r.precision))
    throw UsageError("--integer needs an integer precision (give --precision)");
  model::Graph probe(sc.net, {}, {});
  DataSources ds = load_sources(sc, probe, r.synthetic);
  model::TrainerOptions topt = trainer_options(sc, ds.regression, r.threads, false, false, nullptr);
  model::Trainer trainer(sc.net, r.precision, topt);
  std::vector<model::RankTruncation> truncations;  // cores stored at larger ranks
  const std::vector<std::string> missing = trainer.load_weights(r.checkpoint, &truncations);
  report_truncations(truncations, "eval", r.log);

  // Quantizer ranges the checkpoint does not have (an FP32 checkpoint at a quantized precision):
  // running statistics over training batches in training mode, then every loaded buffer (BatchNorm
  // statistics) restored, so only the missing ones change.
  nlohmann::json calibrated = nlohmann::json::array();
  if (!missing.empty()) {
    model::Graph& g = trainer.graph();
    std::vector<std::vector<float>> saved;
    std::vector<model::Buffer*> bufs = g.buffers();
    std::vector<bool> loaded(bufs.size(), true);
    for (std::size_t i = 0; i < bufs.size(); ++i) {
      for (const std::string& m : missing)
        if (m == bufs[i]->name) loaded[i] = false;
      saved.emplace_back(bufs[i]->value.data(), bufs[i]->value.data() + bufs[i]->value.size());
    }
    for (const std::string& m : missing) calibrated.push_back(m);
    g.set_training(true);
    model::Batch b;
    ds.train->start_epoch(0);
    for (int i = 0; i < r.calibration_batches && ds.train->next_batch(sc.training.batch_size, b); ++i)
      g.forward(b.x);
    g.set_training(false);
    for (std::size_t i = 0; i < bufs.size(); ++i)
      if (loaded[i]) std::copy(saved[i].begin(), saved[i].end(), bufs[i]->value.data());
  }
  model::MemorySource& src = r.split == "train" ? *ds.train : r.split == "val" ? *ds.val : *ds.test;
  if (r.integer) trainer.graph().set_integer_eval(true);
  const model::EvalMetrics m = trainer.evaluate(src, 0, r.per_example);
  nlohmann::json j = metrics_json(m, ds.regression, ds.target_std);
  if (r.per_example) add_per_example(j, m, ds);
  j["split"] = r.split;
  j["checkpoint"] = r.checkpoint;
  j["precision"] = r.precision_label;
  j["integer_arithmetic"] = r.integer;
  j["calibrated"] = calibrated;
  if (!truncations.empty()) j["rank_truncations"] = truncations_json(truncations);
  j["task"] = ds.regression ? "regression" : "classification";
  if (r.split == "test") {
    if (ds.regression) j["naive_rmse"] = ds.naive_test.rmse;
    else if (!ds.synthetic) j["naive_accuracy"] = ds.naive_test.accuracy;
  }
  return j;
}

namespace {

// The request a job runs as (before an interrupted run's checkpoint is looked for).
TrainRequest request_of(const TrainJob& j) {
  TrainRequest r;
  r.scenario_file = j.scenario_file;
  r.sc = j.sc;
  r.sc.training.fp32_gradient_buffers = j.fp32_buffers;
  if (!j.precision.empty()) {
    r.sc.training.epochs = j.sc.training.qat_epochs;
    r.sc.training.learning_rate = j.sc.training.qat_learning_rate;
    r.init_from = j.init_from;
  }
  r.precision = j.precision;
  r.precision_label = j.label;
  r.out = j.out;
  r.threads = j.threads;
  r.log = j.progress;
  r.progress = static_cast<bool>(j.progress);
  r.checkpoint_every_steps = 25;
  r.integer_eval = j.integer_eval;
  return r;
}

// The compact result the pipelines keep of a training summary.
nlohmann::json job_result(const nlohmann::json& s) {
  nlohmann::json curves = nlohmann::json::array();
  for (const nlohmann::json& e : s.at("epochs")) {
    nlohmann::json cj{{"epoch", e.at("epoch")}, {"train_loss", e.at("train_loss")}};
    for (const char* k : {"val_loss", "val_accuracy", "val_rmse"})
      if (e.contains(k)) cj[k] = e.at(k);
    curves.push_back(cj);
  }
  return {{"test", s.at("test")}, {"best_epoch", s.at("best_epoch")}, {"curves", curves},
          {"wall_seconds", s.at("wall_seconds")}};
}

std::string precision_file_text(const TrainJob& j) { return precision_to_json(j.sc.net, j.precision).dump(2) + "\n"; }

std::string read_bytes(const std::string& path) {
  std::optional<std::string> bytes = read_file_bytes(path);
  if (!bytes) throw UsageError(path + " cannot be read");
  return std::move(*bytes);
}

}  // namespace

nlohmann::json run_training_job(const TrainJob& j) {
  TrainRequest r = request_of(j);
  if (std::ifstream(r.out + "/last.ckpt").good()) {
    r.resume = true;  // an interrupted run of this configuration
    r.init_from.clear();
  }
  if (!j.precision.empty()) {
    make_dirs(r.out);
    write_file_atomic(r.out + "/precision.json", precision_file_text(j));
  }
  return job_result(run_training(r));
}

std::string find_finished_job(const std::string& root, const TrainJob& j) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return "";
  std::vector<std::string> dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec)) dirs.push_back(e.path().string());
  std::sort(dirs.begin(), dirs.end());
  const TrainRequest r = request_of(j);
  nlohmann::json want = training_record(r);
  want.erase("initialized_from");
  want.erase("resumed");
  const std::string scenario_hash = file_hash(j.scenario_file);
  const bool integer_pass = j.integer_eval && any_integer(j.precision);
  const std::string want_precision = j.precision.empty() ? "" : precision_file_text(j);
  for (const std::string& d : dirs) {
    if (!is_readable_file(d + "/summary.json") || !is_readable_file(d + "/best.ckpt")) continue;
    const JsonDoc doc = JsonDoc::load(d + "/summary.json");
    const nlohmann::json& s = doc.root();
    const nlohmann::json::json_pointer hash_ptr("/manifest/scenario_hash_fnv1a64");
    if (!s.contains(hash_ptr) || s.at(hash_ptr) != scenario_hash) continue;
    if (s.value("network", "") != j.sc.net.name || !s.contains("training") || !s.contains("test")) continue;
    if (j.precision.empty() ? s.contains("layer_precision")
                            : !is_readable_file(d + "/precision.json") || read_bytes(d + "/precision.json") != want_precision)
      continue;
    nlohmann::json got = s.at("training");
    const std::string init = got.value("initialized_from", "");
    got.erase("initialized_from");
    got.erase("resumed");
    if (got != want) continue;
    if (s.at("test").contains("integer_eval") != integer_pass) continue;
    if (!j.precision.empty() && (init.empty() || !is_readable_file(init) || file_hash(init) != file_hash(j.init_from)))
      continue;
    return d;
  }
  return "";
}

nlohmann::json reuse_training_job(const std::string& from, const TrainJob& j) {
  make_dirs(j.out);
  write_file_atomic(j.out + "/best.ckpt", read_bytes(from + "/best.ckpt"));
  if (!j.precision.empty()) write_file_atomic(j.out + "/precision.json", precision_file_text(j));
  nlohmann::json s = JsonDoc::load(from + "/summary.json").root();
  s["checkpoints"] = {{"best", j.out + "/best.ckpt"}, {"last", j.out + "/last.ckpt"}};
  s["reused_from"] = from;
  write_file_atomic(j.out + "/summary.json", s.dump(2) + "\n");
  nlohmann::json res = job_result(s);
  res["reused_from"] = from;
  return res;
}

nlohmann::json train_or_reuse(const TrainJob& j, const std::string& reuse_root, const ProgressSink& log) {
  if (!reuse_root.empty()) {
    const std::string from = find_finished_job(reuse_root, j);
    if (!from.empty()) {
      if (log) log("reusing " + j.label + " from " + from + " (identical training inputs)", false);
      return reuse_training_job(from, j);
    }
  }
  return run_training_job(j);
}

}  // namespace mixprec::pipeline
