// `mixprec reproduce FILE`: the closed loop (apps/reproduce.hpp) and its report;
// `mixprec verify REPORT`: re-runs a report from its manifest and checks the numbers match.
#include <cstdio>
#include <iostream>
#include <string>
#include <unistd.h>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "apps/reproduce.hpp"
#include "apps/verify_report.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"

namespace mixprec::app {

namespace {

ReproduceOptions g_rep;

int run_reproduce_cmd() {
  std::string dir;
  const nlohmann::json rep = run_reproduce(g_rep, &dir);
  const nlohmann::json& v = rep.at("verdict");
  std::cout << v.at("summary").get<std::string>() << "\n";
  std::cout << "report: " << dir << "/report.json, report.md, report.html\n";
  return 0;
}

void setup_reproduce(CLI::App& app) {
  CLI::App* c = app.add_subcommand(
      "reproduce", "Test the mixed-precision claim end to end and write a reproducibility report");
  c->add_option("file", g_rep.file, "Scenario file")->required();
  c->add_option("--out", g_rep.out, "Run directory (default <report.out_dir>/<scenario>/<run id>)");
  c->add_option("--run-id", g_rep.run_id, "Run id (default seed<N>, seed<N>-quick)");
  c->add_flag("--quick", g_rep.quick, "Tiny model and data: the whole pipeline in about a minute");
  c->add_flag("--resume", g_rep.resume, "Continue the run in the run directory");
  c->add_flag("--force", g_rep.force, "Start over in a run directory that holds a run");
  c->add_option("--threads", g_rep.threads, "Worker threads (batch shards)")->check(CLI::PositiveNumber);
  c->add_option("--budget", g_rep.budget, "Energy budget as a fraction of the baseline's (default 0.6)");
  c->add_option("--sweep", g_rep.sweep, "Budget fractions of the sweep (default 0.5 0.6 0.7 0.9)")
      ->expected(1, 20);
  c->add_option("--reuse-fp32", g_rep.reuse_fp32,
                 "A matching `mixprec train` output directory: reuse its FP32 model");
  c->add_flag("!--no-ablations", g_rep.ablations, "Skip the ablations and the budget sweep");
  c->add_flag("!--no-progress", g_rep.progress, "No progress on stderr");
}

const CommandRegistrar reg_reproduce("reproduce", setup_reproduce, run_reproduce_cmd);

struct VerifyOpts {
  std::string report;
  std::string work;
  bool progress = true;
} g_ver;

int run_verify() {
  const JsonDoc doc = JsonDoc::load(g_ver.report);
  const nlohmann::json& rep = doc.root();
  ReproduceOptions o = verify_options(doc);
  o.progress = g_ver.progress;
  o.out = g_ver.work.empty() ? g_ver.report.substr(0, g_ver.report.find_last_of('/') + 1) +
                                   "verify-" + std::to_string(::getpid())
                             : g_ver.work;
  o.force = true;
  std::cerr << "verify: re-running " << o.file << " into " << o.out << "\n";
  const nlohmann::json again = run_reproduce(o);
  const std::vector<std::string> d = compare_reports(rep, again);
  if (d.empty()) {
    std::cout << "verified: every number in " << g_ver.report << " was reproduced (" << o.out << ")\n";
    return 0;
  }
  std::cout << d.size() << " numbers differ from " << g_ver.report << ":\n";
  for (const std::string& s : d) std::cout << "  " << s << "\n";
  return 1;
}

void setup_verify(CLI::App& app) {
  CLI::App* c = app.add_subcommand("verify", "Re-run a reproduce report from its manifest and compare");
  c->add_option("report", g_ver.report, "report.json of a reproduce run")->required();
  c->add_option("--work", g_ver.work, "Directory for the re-run (default next to the report)");
  c->add_flag("!--no-progress", g_ver.progress, "No progress on stderr");
}

const CommandRegistrar reg_verify("verify", setup_verify, run_verify);

}  // namespace

}  // namespace mixprec::app
