// `mixprec predictor FILE`: how well each sensitivity method ranks trained configurations
// (pipeline/predictor.hpp); report.json, report.md and SVG plots in the run directory.
#include <iostream>
#include <string>
#include <vector>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/progress.hpp"
#include "pipeline/predictor.hpp"
#include "report/svg_plot.hpp"

namespace mixprec::app {

namespace {

PredictorOptions g_pred;
bool g_pred_progress = true;

int run_predictor_cmd() {
  if (g_pred_progress) g_pred.progress = stderr_progress();
  std::string dir;
  const nlohmann::json rep = run_predictor(g_pred, &dir);
  for (auto it = rep.at("methods").begin(); it != rep.at("methods").end(); ++it) {
    const nlohmann::json& all = it.value().at("all");
    if (!all.contains("test_loss")) continue;
    const nlohmann::json& t = all.at("test_loss").at("kendall_tau");
    std::cout << it.key() << ": Kendall tau (predicted vs test loss, " << all.at("configurations").get<int>()
              << " configurations) " << report::svg::fmt_fixed(t.at("estimate").get<double>(), 3) << " ["
              << report::svg::fmt_fixed(t.at("lo").get<double>(), 3) << ", "
              << report::svg::fmt_fixed(t.at("hi").get<double>(), 3) << "]\n";
  }
  std::cout << "report: " << dir << "/report.json\n";
  return 0;
}

void setup_predictor(CLI::App& app) {
  CLI::App* c = app.add_subcommand(
      "predictor", "Train many configurations over seeds and measure how well the sensitivity methods rank them");
  c->add_option("file", g_pred.file, "Scenario file")->required();
  c->add_option("--seeds", g_pred.seeds, "Seeds (training.seed, +1, ...)")->capture_default_str();
  c->add_option("--configs", g_pred.configs, "Configurations in all (random ones fill up to this)")
      ->capture_default_str();
  c->add_option("--threads", g_pred.threads, "Concurrent jobs, one thread each")->capture_default_str();
  c->add_option("--out", g_pred.out, "Run directory (default <report.out_dir>/<scenario>/predictor)");
  c->add_flag("--resume", g_pred.resume, "Continue the run in the run directory");
  c->add_flag("--force", g_pred.force, "Start over in a run directory that holds a run");
  c->add_option("--methods", g_pred.methods,
                "Sensitivity methods, comma-separated: hessian, measured, ggn, clado (each optionally :N validation "
                "samples; hessian and ggn also :aW, activation terms weighted W, e.g. ggn:a4; clado also :neighbours, "
                "pair terms of adjacent layers only), qat (default hessian,measured)")
      ->delimiter(',');
  c->add_option("--budgets", g_pred.budgets,
                "Exact-solver budget fractions of the baseline's energy, space- or comma-separated (default: "
                "13 from 0.3 to 0.9)")
      ->expected(1, 40)
      ->delimiter(',');
  c->add_option("--bootstrap", g_pred.bootstrap_resamples, "Bootstrap resamples over configurations")
      ->capture_default_str();
  c->add_option("--reuse-training", g_pred.reuse_training,
                "An earlier predictor run directory of this scenario file: copy the training jobs it finished "
                "with identical inputs instead of re-running them");
  c->add_flag("!--no-progress", g_pred_progress, "No progress on stderr");
}

const CommandRegistrar reg_predictor("predictor", setup_predictor, run_predictor_cmd);

}  // namespace

}  // namespace mixprec::app
