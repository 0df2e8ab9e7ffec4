// `mixprec reproduce`: the closed loop from hardware model to trained model, testing the claim
// that per-layer mixed precision chosen under an energy budget (and trained with FP32 gradient
// buffers) saves 35–45% energy against a fixed-precision model with < 2 points accuracy loss.
//
// Phases (each resumable; state in RUN/state.json, written atomically after every phase):
//   fp32       train the FP32 model                                     RUN/fp32/
//   baseline   QAT fine-tune at the uniform baseline precision (int8)   RUN/baseline/
//   search     sensitivities of the FP32 model, cost table, exact solve at the budget, the
//              greedy / evolutionary picks, uniform int4, the budget sweep's configurations
//   chosen     QAT fine-tune of the chosen configuration, FP32 gradient buffers
//   engines    the chosen configuration priced by the analytical and the SystemC engine
//   ablations  no FP32 buffers, uniform int4, greedy, evolutionary, budget sweep (each a QAT run)
//   report     report.json, report.md, report.html (docs/report_schema.md)
// Every QAT run starts from the FP32 model's best checkpoint with the scenario's
// training.qat_epochs and training.qat_learning_rate.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"

namespace mixprec::app {

struct ReproduceOptions {
  std::string file;        // scenario
  std::string out;         // run directory; "" = <report.out_dir>/<scenario>/<run_id>
  std::string run_id;      // "" = "seed<training.seed>[-quick]"
  bool quick = false;      // tiny model and data (the pipeline in about a minute)
  bool resume = false;     // continue the run in the directory
  bool force = false;      // start over in a directory that holds a run
  bool progress = true;
  int threads = 1;
  double budget = -1;      // fraction of the baseline's energy; < 0: scenario's (default 0.6)
  std::vector<double> sweep{0.5, 0.6, 0.7, 0.9};  // 0.6: the chosen run itself
  bool ablations = true;
  // A `mixprec train` output directory (summary.json, best.ckpt) whose FP32 run matches this
  // scenario's network, data and training recipe: the fp32 phase reuses it instead of training.
  std::string reuse_fp32;
  // Progress as it happens (e.g. the Python module's callback): {"event": "phase", "message"}
  // for each phase line, {"event": "epoch", "run": <phase directory>, ...} after each training
  // epoch (training.hpp's epoch entry). Called in addition to the stderr lines of `progress`.
  std::function<void(const nlohmann::json&)> on_progress;
};

// The scenario as `--quick` runs it: a small network of the same structure and names, fewer
// samples and epochs.
Scenario quick_variant(const Scenario& sc);

// Runs (or resumes) the pipeline; returns report.json's content and the run directory.
nlohmann::json run_reproduce(const ReproduceOptions& o, std::string* run_dir = nullptr);

// Compares two reports' reproducible numbers (everything except wall times, paths, run ids and
// the manifest's timing). Returns one line per difference ("/pointer: a != b"), empty if equal.
std::vector<std::string> compare_reports(const nlohmann::json& a, const nlohmann::json& b,
                                         double rel_tol = 1e-9);

}  // namespace mixprec::app
