// Training and evaluation runs as library calls: `mixprec train`, `mixprec eval` and the
// `reproduce` pipeline share them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/precision.hpp"
#include "core/progress.hpp"
#include "core/spec.hpp"

namespace mixprec::pipeline {

struct TrainRequest {
  std::string scenario_file;  // for the manifest
  Scenario sc;                // training spec as run (epochs overrides applied by the caller)
  std::vector<LayerPrecision> precision;  // empty: FP32; else QAT at these precisions
  std::string precision_label = "fp32";
  std::string out;            // DIR: summary.json, last.ckpt, best.ckpt
  bool resume = false;        // continue from DIR/last.ckpt (it must exist)
  std::string init_from;      // start from this checkpoint's weights (fine-tuning), if not resuming
  int threads = 1;
  int synthetic = 0;          // > 0: synthetic task of N samples (pipeline::load_sources)
  bool lsq = false;
  bool stochastic_rounding = false;
  ProgressSink log;     // notices (resuming, rank truncation); null: silent
  bool progress = true;  // the trainer's epoch and running lines also go to `log`
  std::int64_t checkpoint_every_steps = 0;  // DIR/last.ckpt also every N steps (0: per epoch)
  // Integer-precision runs: also evaluate the test split with true integer GEMMs
  // (summary test.integer_eval). Costs about five fake-quantized evaluations.
  bool integer_eval = true;
  // Called after every epoch with that epoch's entry of the summary's "epochs" (e.g. the Python
  // module's progress callback); an exception it throws stops the run.
  std::function<void(const nlohmann::json&)> on_epoch;
};

// Trains, evaluates the best checkpoint (by validation) on the test split and writes
// DIR/summary.json atomically; returns the summary. Throws TrainingDiverged (model/trainer.hpp)
// when the loss becomes non-finite, SpecError/UsageError on bad input.
nlohmann::json run_training(const TrainRequest& r);

struct EvalRequest {
  Scenario sc;
  std::string checkpoint;
  std::vector<LayerPrecision> precision;  // empty: FP32
  std::string precision_label = "fp32";
  std::string split = "test";             // "train" | "val" | "test"
  bool integer = false;                   // true integer GEMMs for integer-format layers
  int threads = 1;
  int synthetic = 0;
  int calibration_batches = 8;            // for quantizer ranges the checkpoint lacks
  bool per_example = false;               // also "per_example" scores (as run_training's test)
  ProgressSink log;                       // notices (rank truncation); null: silent
};

// One configuration trained in a pipeline's run directory (`reproduce`, `predictor`): FP32 when
// `precision` is empty (the scenario's epochs), else a QAT fine-tune from `init_from` with the
// scenario's qat_epochs and qat_learning_rate; DIR/precision.json records the precision. An
// interrupted job (DIR/last.ckpt, written every 25 steps) resumes where it stopped. Returns the
// compact result the pipelines keep: {"test", "best_epoch", "curves", "wall_seconds"}.
struct TrainJob {
  std::string scenario_file;
  Scenario sc;
  std::vector<LayerPrecision> precision;  // empty: FP32
  std::string label = "fp32";
  std::string out;
  std::string init_from;                  // QAT: the FP32 checkpoint
  bool fp32_buffers = true;               // training.fp32_gradient_buffers
  bool integer_eval = false;
  int threads = 1;
  ProgressSink progress;  // notices and the trainer's lines; null: silent
};
nlohmann::json run_training_job(const TrainJob& j);

// The summary's "training" record of a run (summary.json /training): one formula for writing it
// and for recognising a finished run of the same job.
nlohmann::json training_record(const TrainRequest& r);

// Reuse of finished training (`reproduce --reuse-training DIR`, a code change that leaves
// training alone: the cost model's). A finished run under `root` (its subdirectories, one level,
// in name order) that trained exactly job `j`: best.ckpt and summary.json present; its summary's
// scenario file hash (manifest), network, layer precision and training record equal the job's
// (where it was initialized from and whether it was resumed aside: a resumed run's numbers are an
// uninterrupted run's), its test evaluation ran the same integer pass; a QAT run started from a
// checkpoint with the same bytes as j.init_from. Returns its directory, "" when none.
std::string find_finished_job(const std::string& root, const TrainJob& j);
// Copies the finished run `from` into j.out (best.ckpt, precision.json, summary.json with its
// checkpoint paths and "reused_from"; each written atomically) and returns the job's result as
// run_training_job does, with "reused_from": from.
nlohmann::json reuse_training_job(const std::string& from, const TrainJob& j);
// run_training_job, or reuse_training_job of find_finished_job(reuse_root, j) when `reuse_root`
// is given and holds one (noted on `log`).
nlohmann::json train_or_reuse(const TrainJob& j, const std::string& reuse_root, const ProgressSink& log);

// Evaluates a checkpoint on a split, optionally at other precisions than it was trained with
// (post-training quantization: quantizer ranges the checkpoint lacks are calibrated on
// `calibration_batches` training batches; BatchNorm statistics are left as loaded).
// Returns {"split", "samples", "loss", "accuracy" | "rmse", "accuracy_ci" (Wilson 95%),
// "calibrated": [...names], ...}.
nlohmann::json run_eval(const EvalRequest& r);

// Wilson score interval (95%) for `correct` successes out of n.
std::pair<double, double> wilson_interval(double accuracy, int n);

}  // namespace mixprec::pipeline
