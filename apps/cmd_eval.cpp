// `mixprec eval FILE --checkpoint C [--precision P.json] [--split test] [--integer]`: evaluates a
// saved model on a split of the scenario's data, optionally at another precision than it was
// trained with (quantizer ranges the checkpoint lacks are calibrated on training batches).
// Prints a line (or JSON with --format json) and writes it with --out.
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

struct EvalOpts {
  std::string file, checkpoint, precision, split = "test", format = "table", out;
  bool integer = false;
  int threads = 1, synthetic = 0, calibration = 8;
};

EvalOpts g_eval;

int run_eval_cmd() {
  const EvalOpts& o = g_eval;
  EvalRequest r;
  r.sc = load_scenario(o.file);
  r.checkpoint = o.checkpoint;
  if (!o.precision.empty()) {
    r.precision = precision_for(r.sc, o.precision);
    r.precision_label = o.precision;
  }
  r.split = o.split;
  r.integer = o.integer;
  r.threads = o.threads;
  r.synthetic = o.synthetic;
  r.calibration_batches = o.calibration;
  r.log = stderr_progress();
  const nlohmann::json j = run_eval(r);
  if (!o.out.empty()) emit(j.dump(2) + "\n", o.out);
  if (o.format == "json") {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << o.split << " " << j.at("samples").get<int>() << " samples, loss "
            << j.at("loss").get<double>();
  if (j.contains("rmse")) {
    std::cout << ", rmse " << j.at("rmse").get<double>();
    if (j.contains("naive_rmse")) std::cout << " (naive " << j.at("naive_rmse").get<double>() << ")";
  } else {
    const auto& ci = j.at("accuracy_ci");
    std::cout << ", accuracy " << j.at("accuracy").get<double>() << " (95% CI "
              << ci[0].get<double>() << "-" << ci[1].get<double>() << ")";
  }
  std::cout << "\n";
  return 0;
}

void setup_eval(CLI::App& app) {
  CLI::App* c = app.add_subcommand("eval", "Evaluate a saved model on the scenario's data");
  c->add_option("file", g_eval.file, "Scenario file")->required();
  c->add_option("--checkpoint", g_eval.checkpoint, "Checkpoint (best.ckpt / last.ckpt)")->required();
  c->add_option("--precision", g_eval.precision, "Evaluate at this precision file's precisions");
  c->add_option("--split", g_eval.split, "train, val or test")
      ->check(CLI::IsMember({"train", "val", "test"}));
  c->add_flag("--integer", g_eval.integer, "True integer GEMMs for integer-format layers");
  c->add_option("--calibration-batches", g_eval.calibration,
                "Training batches that calibrate quantizer ranges the checkpoint lacks")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--threads", g_eval.threads, "Worker threads (batch shards)")->check(CLI::PositiveNumber);
  c->add_option("--synthetic", g_eval.synthetic, "Synthetic task of N samples (as train --synthetic)")
      ->check(CLI::PositiveNumber);
  c->add_option("--format", g_eval.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  c->add_option("--out", g_eval.out, "Also write the JSON result here (atomically)");
}

const CommandRegistrar reg("eval", setup_eval, run_eval_cmd);

}  // namespace

}  // namespace mixprec::app
