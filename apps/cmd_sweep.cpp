// `mixprec sweep SWEEP.json [--jobs N] [--out DIR] [--resume | --force] [--shard i/N]`
// `mixprec merge SHARD_DIR... [--out DIR]`
// Batch design sweeps (pipeline/sweep_run.hpp; format in docs/sweeps.md). Under `mpirun -np K` the
// sweep splits its points over the ranks and rank 0 writes the output (pipeline/sweep_mpi.hpp).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/progress.hpp"
#include "pipeline/sweep_mpi.hpp"
#include "pipeline/sweep_run.hpp"
#include "core/errors.hpp"
#include "search/sweep_plan.hpp"

namespace mixprec::app {

namespace {

struct SweepCli {
  std::string file, out, shard;
  int jobs = 0;
  bool resume = false, force = false, quiet = false;
};
SweepCli g;

struct MergeCli {
  std::vector<std::string> dirs;
  std::string out;
  bool quiet = false;
};
MergeCli gm;

void print_summary(const SweepSummary& s, const std::string& name) {
  std::cout << "sweep " << name << ": " << s.total << " points";
  if (s.discarded) std::cout << " (" << s.discarded << " more discarded by constraints)";
  std::cout << "; evaluated " << s.evaluated;
  if (s.skipped) std::cout << ", resumed past " << s.skipped;
  std::cout << " in " << s.seconds << " s";
  if (s.evaluated && s.seconds > 0) std::cout << " (" << double(s.evaluated) / s.seconds << " points/s)";
  std::cout << "\n";
  if (s.complete)
    std::cout << "errors " << s.errors << ", Pareto front " << s.pareto << " points; wrote " << s.out_dir
              << "/{results.csv,pareto.csv,pareto.json,points.jsonl,sweep.json}\n";
  else
    std::cout << "incomplete: " << s.out_dir << "/points.jsonl holds the finished points; --resume continues\n";
}

int run_sweep_cmd() {
  const bool mpi = launched_by_mpi();
  std::unique_ptr<LineExchange> ex;
  if (mpi) ex = start_mpi();  // UsageError when built without MPI
  try {
    const sweep::SweepSpec spec = sweep::load_sweep(g.file);
    if (g.resume && g.force) throw UsageError("give --resume or --force, not both");
    SweepOptions o;
    o.out_dir = g.out;
    o.jobs = g.jobs > 0 ? g.jobs : std::max(1u, std::thread::hardware_concurrency());
    o.resume = g.resume;
    o.force = g.force;
    if (!g.quiet) o.progress = stderr_progress();
    if (!g.shard.empty()) o.part.shard = sweep::parse_shard(g.shard);
    const SweepSummary s = run_sweep(spec, o, ex.get());
    if (!ex || ex->rank() == 0) print_summary(s, spec.name);
    return 0;
  } catch (const std::exception& e) {
    if (ex && ex->size() > 1) {
      std::cerr << "error (rank " << ex->rank() << "): " << e.what() << "\n";
      const bool input = dynamic_cast<const SpecError*>(&e) || dynamic_cast<const UsageError*>(&e);
      abort_mpi(input ? 2 : 1);
    }
    throw;
  }
}

void setup_sweep(CLI::App& app) {
  CLI::App* c = app.add_subcommand("sweep", "Evaluate a batch of design points (a sweep file)");
  c->add_option("file", g.file, "Sweep file (\"mixprec_sweep\": 1)")->required();
  c->add_option("--jobs,-j", g.jobs, "Evaluation threads (default: the number of cores)")
      ->check(CLI::PositiveNumber);
  c->add_option("--out", g.out, "Output directory (default results/sweeps/<name>)");
  c->add_flag("--resume", g.resume, "Continue an interrupted sweep in its output directory");
  c->add_flag("--force", g.force, "Discard an existing output and start over");
  c->add_option("--shard", g.shard, "Run the i-th of N deterministic slices (1 <= i <= N), e.g. 3/8");
  c->add_flag("--quiet,-q", g.quiet, "No progress bar");
}

int run_merge_cmd() {
  const SweepSummary s = merge_shards(gm.dirs, gm.out, gm.quiet ? nullptr : stderr_progress());
  std::cout << "merged " << gm.dirs.size() << " shards: " << s.total << " points, errors " << s.errors
            << ", Pareto front " << s.pareto << " points; wrote " << s.out_dir << "\n";
  return 0;
}

void setup_merge(CLI::App& app) {
  CLI::App* c = app.add_subcommand("merge", "Join the outputs of a sharded sweep (--shard i/N)");
  c->add_option("dirs", gm.dirs, "Shard output directories")->required();
  c->add_option("--out", gm.out, "Output directory (default results/sweeps/<name>)");
  c->add_flag("--quiet,-q", gm.quiet, "No summary on stderr");
}

const CommandRegistrar reg_sweep("sweep", setup_sweep, run_sweep_cmd);
const CommandRegistrar reg_merge("merge", setup_merge, run_merge_cmd);

}  // namespace

}  // namespace mixprec::app
