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
#include <iostream>
#include <string>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/progress.hpp"
#include "pipeline/training.hpp"
#include "core/errors.hpp"
#include "core/scenario.hpp"

namespace mixprec::app {

namespace {

struct TrainOpts {
  std::string file;
  std::string out;
  std::string precision;
  std::string init_from;
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

int run_train() {
  const TrainOpts& o = g_train;
  if (!o.precision.empty() && o.qat) throw UsageError("give either --precision or --qat, not both");
  if (o.resume && !o.init_from.empty())
    throw UsageError("give either --resume or --init-from, not both");
  TrainRequest r;
  r.scenario_file = o.file;
  r.sc = load_scenario(o.file);
  if (o.epochs > 0) r.sc.training.epochs = o.epochs;
  if (!o.precision.empty()) {
    r.precision = precision_for(r.sc, o.precision);
    r.precision_label = o.precision;
  } else if (o.qat) {
    r.precision = r.sc.layer_precision;
    r.precision_label = "scenario";
  }
  r.out = o.out.empty() ? r.sc.report.out_dir + "/" + r.sc.name + "-train" : o.out;
  r.resume = o.resume;
  r.init_from = o.init_from;
  r.threads = o.threads;
  r.synthetic = o.synthetic;
  r.lsq = o.lsq;
  r.stochastic_rounding = o.stochastic;
  r.log = stderr_progress();
  r.progress = o.progress;
  const nlohmann::json s = run_training(r);
  std::cerr << "wrote " << r.out << "/summary.json\n";
  const nlohmann::json& t = s.at("test");
  if (t.contains("rmse"))
    std::cout << "test rmse " << t.at("rmse").get<double>() << " (naive "
              << t.at("naive_rmse").get<double>() << ")";
  else
    std::cout << "test accuracy " << t.at("accuracy").get<double>();
  std::cout << ", best epoch " << s.at("best_epoch").get<int>() << ", "
            << s.at("wall_seconds").get<double>() << " s\n";
  return 0;
}

void setup_train(CLI::App& app) {
  CLI::App* c = app.add_subcommand("train", "Train the scenario's network (FP32 or quantization-aware)");
  c->add_option("file", g_train.file, "Scenario file")->required();
  c->add_option("--out", g_train.out, "Output directory (summary.json, checkpoints)");
  c->add_flag("--resume", g_train.resume, "Continue from DIR/last.ckpt");
  c->add_option("--precision", g_train.precision, "Precision file: train quantization-aware at it");
  c->add_option("--init-from", g_train.init_from,
                 "Start from this checkpoint's weights (e.g. QAT fine-tuning of an FP32 run)");
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
