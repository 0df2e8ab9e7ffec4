// Batch design sweeps: evaluates the points of a sweep file (search/sweep_plan.hpp) in parallel,
// appends each finished point as one JSON line (flushed, so a crash loses only the points in
// flight), resumes from those lines, and writes the final results.csv and Pareto summary.
// `mixprec sweep` and `mixprec merge` (apps/cmd_sweep.cpp) and the MPI mode share it.
//
// Output directory (docs/sweeps.md):
//   sweep.json    manifest: sweep file and hash, base scenario, code version, points, shard
//   points.jsonl  one line per finished point {"index","key","inputs","status","results"|"error"};
//                 appended while running, rewritten in index order when the run completes
//   results.csv   one row per point in index order
//   pareto.csv    the points no other point beats on every objective (energy, latency, area
//                 proxy, and the accuracy proxy when sensitivities are given), across designs
//   pareto.json   the same with the objectives' names
// Everything but the timings in sweep.json is a function of the inputs: a resumed, sharded and
// merged, or MPI run writes the same bytes as one uninterrupted run.
#pragma once
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.hpp"
#include "search/sweep_plan.hpp"

namespace mixprec::pipeline {

// Evaluates one design point; thread-safe (shared read-only state built once).
class PointEvaluator {
 public:
  explicit PointEvaluator(const sweep::SweepSpec& spec);
  ~PointEvaluator();
  // {"index", "key", "inputs", "status": "ok", "results": {...}} or status "error" with
  // "error": the message (an invalid combination, a design no tiling fits, an infeasible
  // budget). Never throws for a point's own problems.
  nlohmann::json evaluate(const sweep::Point& p) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How this process takes part: a shard of the point list, and within it MPI rank r of n.
struct Participation {
  sweep::Shard shard;  // --shard i/N (default 1/1)
  int rank = 0, ranks = 1;
  bool owns(std::size_t index) const {
    if (!shard.contains(index)) return false;
    const std::size_t local = index / static_cast<std::size_t>(shard.count);
    return static_cast<int>(local % static_cast<std::size_t>(ranks)) == rank;
  }
};

// Moves lines between processes (the MPI mode); the default is a single process.
class LineExchange {
 public:
  virtual ~LineExchange() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  // Rank 0's list of already finished indices, given to every rank.
  virtual void share_done(std::vector<std::size_t>& /*done*/) {}
  // Workers (rank > 0): hand a finished line to rank 0.
  virtual void send(const std::string& /*line*/) {}
  // Workers: no more lines from this rank.
  virtual void finish() {}
  // Rank 0: appends lines that arrived to `out` (non-blocking); false once every worker finished
  // and all their lines were delivered.
  virtual bool receive(std::vector<std::string>& /*out*/) { return false; }
  // Rank 0 tells the others whether the run succeeded (after the outputs were written).
  virtual void barrier() {}
};

struct SweepOptions {
  std::string out_dir;   // default: results/sweeps/<name> (a shard: .../shard-<i>-of-<N>)
  int jobs = 1;          // evaluation threads in this process
  bool resume = false;   // continue from points.jsonl
  bool force = false;    // discard an existing output
  ProgressSink progress; // progress bar and notices (rank 0); null: silent
  Participation part;
};

struct SweepSummary {
  std::size_t total = 0;       // points in this participation's slice
  std::size_t skipped = 0;     // already done (resume)
  std::size_t evaluated = 0;   // evaluated by this run (all ranks)
  std::size_t errors = 0;      // points with status "error" (whole slice)
  std::size_t discarded = 0;   // removed by constraints
  std::size_t pareto = 0;
  double seconds = 0;
  std::string out_dir;
  bool complete = false;       // every point of the slice is in points.jsonl
};

std::string default_out_dir(const sweep::SweepSpec& spec, const sweep::Shard& shard);

// Runs (this rank's part of) the sweep. Rank 0 writes the outputs. Throws UsageError when the
// output exists and neither resume nor force is given, or when resume meets another sweep's
// output; SpecError for bad sweep files (before any point runs).
SweepSummary run_sweep(const sweep::SweepSpec& spec, const SweepOptions& opt,
                       LineExchange* exchange = nullptr);

// Joins shard output directories into `out_dir`: same sweep (hash), every point exactly once.
SweepSummary merge_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir,
                          const ProgressSink& progress = nullptr);

// The final files from complete lines (sorted by index); shared by run_sweep and merge_shards.
void write_final_outputs(const sweep::SweepSpec& spec, const std::vector<nlohmann::json>& lines,
                         const std::string& dir, SweepSummary& summary);

}  // namespace mixprec::pipeline
