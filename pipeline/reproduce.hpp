// `mixprec reproduce`: the closed loop from hardware model to trained models, testing the claim
// of the scenario's report.claim (by default: per-layer mixed precision saves 35-45% energy
// against a fixed-precision model with < 2 points accuracy loss, under 5 ms per inference).
//
// Seeds are the unit of repetition. Each seed runs in RUN/seed<N>/ (state in its state.json,
// checksummed, written atomically after every stage) through these stages:
//   fp32      train the FP32 model                                            seed<N>/fp32/
//   plan      sensitivities of that FP32 model, the cost table, the exact solve at every
//             frontier budget (and, with --full, the greedy / evolutionary picks at the chosen
//             budget), the uniform ladder: the list of configurations to train
//   job/<c>   one QAT fine-tune per configuration c, independent jobs run concurrently
//             (baseline, frontier budgets, uniform ladder, the chosen configuration without FP32
//             gradient buffers; --full: greedy, evolutionary)                 seed<N>/<c>/
//   fp16      the FP32 model evaluated at uniform fp16 (post-training; the fp16 baseline)
//   engines   the chosen configuration priced by the cycle-approximate (SystemC) engine
// then the report: the per-seed results become intervals (pipeline/stats.hpp), the verdict
// (pipeline/verdict.hpp) and report.json + the renderings report.formats asks for.
//
// A library call: progress goes to a callback, errors are exceptions (SpecError, UsageError).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.hpp"
#include "core/spec.hpp"
#include "pipeline/staged_state.hpp"

namespace mixprec::pipeline {

struct ReproduceOptions {
  std::string file;        // scenario
  std::string out;         // run directory; "" = <report.out_dir>/<scenario>/<run_id>
  std::string run_id;      // "" = "seed<training.seed>[-quick]" (one seed) or "seeds<N>[-quick]"
  bool quick = false;      // tiny model and data (the pipeline in a few minutes)
  bool resume = false;     // continue the run in the directory
  bool force = false;      // start over in a directory that holds a run
  int threads = 1;         // cores to use in all
  int jobs = 0;            // concurrent training jobs (each threads / jobs threads); 0 = threads
  int seeds = 1;           // seeds training.seed, training.seed + 1, ...
  bool full = false;       // more budgets, the greedy and evolutionary picks
  std::vector<double> budgets;  // frontier budget fractions of int8 energy; empty: the default
  // Sharding (a Slurm job array): with shard_by_jobs false, run only the seeds k with
  // k % count == index; with it true, every shard trains each seed's FP32 model and plans
  // (deterministic: the merge checks the shards agree), then trains only the QAT jobs u of seed k
  // with (k + u) % count == index (u: the job's place among the seed's distinct configurations).
  int shard_index = 0, shard_count = 1;
  bool shard_by_jobs = false;
  int bootstrap_resamples = 2000;         // one seed: paired bootstrap over test examples
  // A `mixprec train` output directory (summary.json, best.ckpt) whose FP32 run matches this
  // scenario's network, data and training recipe: the first seed's fp32 stage reuses it.
  std::string reuse_fp32;
  // An earlier run directory of this scenario file (its seed<N>/ folders): a training job it
  // finished with identical inputs (pipeline::find_finished_job) is copied instead of run, e.g.
  // after a cost-model change that leaves training alone. Not an option that fixes the numbers
  // (a verify re-trains everything); the report's manifest lists what was reused.
  std::string reuse_training;
  // Progress lines (stage starts, jobs); null: silent. Called from worker threads, serialized.
  ProgressSink progress;
  bool training_progress = false;  // the trainer's lines to `progress` too (only with jobs == 1)
};

// The frontier budgets used when ReproduceOptions::budgets is empty: 7 by default (denser
// around the claimed band), 13 with --full; the scenario's chosen budget is always included.
std::vector<double> default_budgets(bool full, double chosen_fraction);

// The scenario as `--quick` runs it: a small network of the same structure and names, fewer
// samples and epochs.
Scenario quick_variant(const Scenario& sc);

// Runs (or resumes) the pipeline for this shard's seeds. Returns report.json's content when the
// run holds every seed (no sharding), else a summary of the seeds it ran ({"shard": ...}).
nlohmann::json run_reproduce(const ReproduceOptions& o, std::string* run_dir = nullptr);

// Merges shard run directories into one report in `out`: the report a single run of all seeds
// writes. A seed held finished by one directory is taken as it is; a seed whose QAT jobs were
// sharded (--shard-by jobs) is assembled in out/seed<N>/ from every directory holding it (their
// FP32 and plan stages must be identical; each job must be in one of them), then its last stages
// (fp16, engines: no training) run there. `o` gives the options the shards ran with.
nlohmann::json merge_reproduce(const ReproduceOptions& o, const std::vector<std::string>& shard_dirs);

// Compares two reports' reproducible numbers (everything except wall times, paths, run ids and
// the manifest's timing). Returns one line per difference ("/pointer: a != b"), empty if equal.
std::vector<std::string> compare_reports(const nlohmann::json& a, const nlohmann::json& b,
                                         double rel_tol = 1e-9);

}  // namespace mixprec::pipeline
