// `mixprec predictor`: how well does a sensitivity method rank configurations the way
// quantization-aware training does (issue 21)?
//
// The run trains a fixed set of configurations on every seed and compares each method's predicted
// sensitivity with the measured test loss and accuracy. Stages (RUN/state.json, the reproduce
// pipeline's checksummed state, written atomically after every stage):
//   fp32/seed<N>              the FP32 model of seed N                           RUN/seed<N>/fp32/
//   sens/<method>/seed<N>     its sensitivity table (cached next to the checkpoint)
//   plan                      the configuration set, from the first seed's tables (below)
//   job/<config>/seed<N>      one QAT fine-tune per configuration and seed      RUN/seed<N>/<config>/
// Independent jobs of a stage run concurrently, one thread each (so the numbers do not depend on
// --threads). Then the report: RUN/report.json, report.md and one scatter SVG per method.
//
// The configuration set: every uniform integer width of the search space; for each method, the
// exact solver's pick at every budget and the greedy and evolutionary picks at the chosen budget
// (computed from the first seed's table: one set trained on every seed); then random
// configurations meeting the non-energy constraints, spread evenly over the energy range, to
// `configs` in all. The random ones are chosen without any predictor: they are the held-out set.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.hpp"
#include "core/spec.hpp"
#include "pipeline/search_run.hpp"
#include "pipeline/stats.hpp"

namespace mixprec::pipeline {

struct PredictorOptions {
  std::string file;                  // scenario
  std::string out;                   // run directory; "" = <report.out_dir>/<scenario>/predictor
  int seeds = 3;                     // training.seed, +1, ...
  int configs = 40;                  // configurations in all (random ones fill up to this)
  int threads = 1;                   // concurrent jobs, one thread each
  bool resume = false, force = false;
  // Sensitivity methods: "hessian", "measured", "ggn", "clado", each optionally ":N" for N validation samples
  // (e.g. "measured:256"; default: the estimator's, 64 hessian and ggn, 32 measured); hessian and
  // ggn also ":aW", the table's activation terms weighted W against its weight terms ("ggn:a4");
  // "clado" (measured plus pair terms, optionally ":neighbours": adjacent layers only; also ":N");
  // and "qat".
  std::vector<std::string> methods{"hessian", "measured"};
  std::vector<double> budgets;       // exact-solver budget fractions; empty: default_budgets(true, ...)
  int bootstrap_resamples = 2000;    // over configurations
  // An earlier predictor run directory of this scenario file: training jobs it finished with
  // identical inputs are copied instead of run (pipeline::find_finished_job; the report's
  // "reused_training" lists them).
  std::string reuse_training;
  ProgressSink progress;  // stage lines; null: silent (serialized)
};

// One configuration of the set.
struct PredictorConfig {
  std::string name;                  // "uniform_w4a4", "exact_measured_0.6", "greedy_hessian", "random_07"
  std::string kind;                  // uniform | exact | greedy | evolutionary | random
  std::vector<std::string> sources;  // every pick that gave it ("exact measured at 0.6", ...)
  std::vector<int> option_of_layer;  // per layer, index into SearchSetup::options
  double planned_energy_uj = 0;      // the search problem's energy (cost table)
};

// A pick of a method's solver and the configuration it is in the set.
struct PredictorPick {
  std::string method;        // sensitivity method
  std::string solver;        // exact | greedy | evolutionary
  double budget_fraction = 0;
  std::size_t config = 0;    // index into PredictorPlan::configs
};

struct PredictorPlan {
  std::vector<PredictorConfig> configs;
  std::vector<PredictorPick> picks;
  std::vector<std::string> infeasible;  // "exact hessian at 0.3": budgets no configuration meets
  int random_requested = 0;             // random configurations asked for (configs - structured)
};

// The set described above. `tables` are (method, first seed's table) in method order; `seed`
// draws the random configurations. Throws UsageError when `total` is below the number of
// structured configurations (uniform widths and picks).
PredictorPlan predictor_configs(const Scenario& sc, const SearchSetup& setup,
                                const std::vector<std::pair<std::string, search::SensitivityTable>>& tables,
                                const std::vector<double>& budgets, int total, std::uint64_t seed);

// A configuration's predicted sensitivity under a table: the sum over layers of the table's
// entry at the layer's option plus its pair terms (clado), SensitivityTable::total (what the
// search problem sums over its groups and pair terms).
double predicted_sensitivity(const search::SensitivityTable& t, const std::vector<int>& option_of_layer);

// ---- the statistics of the report (exposed for tests) ------------------------------------------

// A trained configuration as the report's statistics see it.
struct TrainedPoint {
  std::string name;
  bool uniform = false;
  double energy_uj = 0;
  std::vector<double> metric;  // per seed (accuracy in %, or RMSE)
};

// Regret of `pick`: among the configurations at or below its energy, the one with the best mean
// metric over seeds; the per-seed differences (best - pick, or pick - best for lower-is-better
// metrics) as a t-interval over seeds. Zero when the pick is itself the best.
struct Regret {
  std::string best;
  stats::Interval regret;
};
Regret regret_of(const std::vector<TrainedPoint>& points, std::size_t pick, bool higher_is_better,
                 double confidence = 0.95);

// Is `pick` dominated by a trained uniform configuration (other than itself) at lower or equal
// energy? The uniform one with the best mean metric is compared, per seed (t-interval):
// "dominated" when the interval of (uniform - pick) lies above 0, "not dominated" when below 0
// or when no uniform configuration is that cheap, "matched" when it straddles 0 (a cheaper
// uniform configuration is as good within the seeds' interval).
struct Domination {
  std::string status;     // dominated | matched | not dominated
  std::string uniform;    // the compared uniform configuration ("" when none)
  stats::Interval advantage;  // uniform's metric minus the pick's (better-is-positive)
};
Domination domination_of(const std::vector<TrainedPoint>& points, std::size_t pick, bool higher_is_better,
                         double confidence = 0.95);

// Kendall tau-b and Spearman rho of predicted against measured, each with a percentile bootstrap
// over configurations (seeded). A resample whose statistic is undefined (every pair tied) counts
// as 0: no association shown.
struct RankAgreement {
  stats::Interval kendall_tau, spearman_rho;
};
RankAgreement rank_agreement(const std::vector<double>& predicted, const std::vector<double>& measured,
                             int resamples, std::uint64_t seed, double confidence = 0.95);

// Runs (or resumes) the whole measurement; returns report.json's content, sets *run_dir. The
// report's wall_seconds add up the sessions of the run (an interrupted one and its --resume).
nlohmann::json run_predictor(const PredictorOptions& o, std::string* run_dir = nullptr);

}  // namespace mixprec::pipeline
