// `mixprec reproduce FILE`: the closed loop (pipeline/reproduce.hpp) and its report;
// `mixprec verify REPORT`: re-runs a report from its manifest and checks the numbers match.
#include <cstdio>
#include <iostream>
#include <string>
#include <unistd.h>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/progress.hpp"
#include "pipeline/reproduce.hpp"
#include "pipeline/verify_report.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"

namespace mixprec::app {

namespace {

ReproduceOptions g_rep;
bool g_rep_progress = true;
std::string g_rep_shard;
std::string g_rep_shard_by = "seeds";
std::vector<std::string> g_rep_merge;

// "i/N" -> shard index i-1 of N.
void parse_shard(const std::string& s, ReproduceOptions& o) {
  const auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(s);
    o.shard_index = std::stoi(s.substr(0, slash)) - 1;
    o.shard_count = std::stoi(s.substr(slash + 1));
  } catch (const std::exception&) {
    throw UsageError("--shard must be i/N (e.g. 2/5), found \"" + s + "\"");
  }
}

int run_reproduce_cmd() {
  if (g_rep_progress) g_rep.progress = stderr_progress();
  g_rep.training_progress = g_rep_progress;
  if (!g_rep_shard.empty()) parse_shard(g_rep_shard, g_rep);
  g_rep.shard_by_jobs = g_rep_shard_by == "jobs";
  std::string dir;
  nlohmann::json rep;
  if (!g_rep_merge.empty()) {
    rep = merge_reproduce(g_rep, g_rep_merge);
    dir = g_rep.out;
  } else {
    rep = run_reproduce(g_rep, &dir);
  }
  if (rep.contains("shard")) {
    std::cout << "shard " << rep.at("shard").get<std::string>() << ": "
              << (rep.at("by") == "jobs" ? "its QAT jobs of seeds " : "seeds ") << rep.at("seeds").dump()
              << " done in " << dir << " (merge the shards with --merge DIR... --out DIR)\n";
    return 0;
  }
  std::cout << rep.at("verdict").at("summary").get<std::string>() << "\n";
  std::cout << "report: " << dir << "/report.json\n";
  return 0;
}

void setup_reproduce(CLI::App& app) {
  CLI::App* c = app.add_subcommand(
      "reproduce", "Test the scenario's claim (report.claim) end to end and write a reproducibility report");
  c->add_option("file", g_rep.file, "Scenario file")->required();
  CLI::Option* out = c->add_option("--out", g_rep.out, "Run directory (default <report.out_dir>/<scenario>/<run id>)");
  // The run id is the run directory's name, so the two cannot both be given.
  c->add_option("--run-id", g_rep.run_id, "Run id (default seed<N>, seeds<N>, with -quick): the run directory's name")
      ->excludes(out);
  c->add_flag("--quick", g_rep.quick, "Tiny model and data: the whole pipeline in a few minutes");
  c->add_flag("--resume", g_rep.resume, "Continue the run in the run directory");
  c->add_flag("--force", g_rep.force, "Start over in a run directory that holds a run");
  c->add_option("--threads", g_rep.threads, "Cores to use in all")->check(CLI::PositiveNumber);
  c->add_option("--jobs", g_rep.jobs, "Concurrent training jobs, threads/jobs threads each (default: threads)")
      ->check(CLI::PositiveNumber);
  c->add_option("--seeds", g_rep.seeds, "Seeds (training.seed, +1, ...): intervals across seeds")
      ->check(CLI::PositiveNumber);
  c->add_flag("--full", g_rep.full, "13 frontier budgets and the greedy / evolutionary picks");
  c->add_option("--budgets", g_rep.budgets, "Frontier budget fractions of the baseline's energy")->expected(1, 40);
  c->add_option("--bootstrap", g_rep.bootstrap_resamples, "Bootstrap resamples (one seed)");
  c->add_option("--shard", g_rep_shard, "i/N: run only this shard's share (see --shard-by; merge with --merge)");
  c->add_option("--shard-by", g_rep_shard_by,
                "seeds: the seeds k with k mod N = i-1; jobs: every seed's FP32 model and plan, then the QAT "
                "jobs u of seed k with (k + u) mod N = i-1")
      ->check(CLI::IsMember({"seeds", "jobs"}));
  c->add_option("--merge", g_rep_merge, "Shard run directories to merge into --out")->expected(1, 10000);
  c->add_option("--reuse-fp32", g_rep.reuse_fp32,
                "A matching `mixprec train` output directory: reuse its FP32 model (first seed)");
  c->add_option("--reuse-training", g_rep.reuse_training,
                "An earlier run directory of this scenario file: copy the training jobs it finished with "
                "identical inputs (precision, recipe, seed, threads, initial checkpoint) instead of re-running them");
  c->add_flag("!--no-progress", g_rep_progress, "No progress on stderr");
}

const CommandRegistrar reg_reproduce("reproduce", setup_reproduce, run_reproduce_cmd);

struct VerifyOpts {
  std::string report;
  std::string work;
  bool resume = false;
  bool progress = true;
} g_ver;

int run_verify() {
  const JsonDoc doc = JsonDoc::load(g_ver.report);
  const nlohmann::json& rep = doc.root();
  if (g_ver.resume && g_ver.work.empty())
    throw UsageError("verify --resume needs --work DIR, the directory of the interrupted verify");
  ReproduceOptions o = verify_options(doc);
  if (g_ver.progress) o.progress = stderr_progress();
  o.out = g_ver.work.empty() ? g_ver.report.substr(0, g_ver.report.find_last_of('/') + 1) +
                                   "verify-" + std::to_string(::getpid())
                             : g_ver.work;
  // A verify re-runs the whole report (a 5-seed report takes over an hour): `--resume` continues
  // an interrupted one in its --work directory through reproduce's own resume (the state's
  // options must equal the report's, or it is refused).
  o.resume = g_ver.resume;
  o.force = !g_ver.resume;
  std::cerr << "verify: " << (g_ver.resume ? "resuming the re-run of " : "re-running ") << o.file << " into " << o.out
            << "\n";
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
  c->add_flag("--resume", g_ver.resume, "Continue an interrupted verify in its --work directory");
  c->add_flag("!--no-progress", g_ver.progress, "No progress on stderr");
}

const CommandRegistrar reg_verify("verify", setup_verify, run_verify);

}  // namespace

}  // namespace mixprec::app
