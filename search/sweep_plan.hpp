// Sweep files (`"mixprec_sweep": 1`): a base scenario, axes over any of its keys by JSON pointer,
// a sampling method, constraints, and what to compute at each point. This part turns a sweep
// file into its ordered list of design points; apps/sweep_run.* evaluates them.
//
// The point list is a pure function of the sweep file (seeded sampling, stable order), so every
// process of a sharded or MPI run enumerates the same list and takes its own slice of it.
// Format: docs/sweeps.md.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.hpp"
#include "search/sweep_expr.hpp"

namespace mixprec::sweep {

constexpr int kSweepVersion = 1;

struct Axis {
  std::string name;                   // unique; shown in results and usable in constraints
  std::vector<std::string> keys;      // scenario JSON pointers set to the axis value together
  std::string pointer;                // this axis in the sweep file (for messages)
  std::vector<nlohmann::json> values; // discrete values (a list or an expanded range)
  // Optional names of the values (a list axis whose values are objects, e.g. whole MAC specs):
  // results and constraints see the label instead of the value.
  std::vector<std::string> labels;
  // continuous axis ("uniform"): sampled by random / latin_hypercube only
  bool continuous = false;
  double lo = 0, hi = 0;
  bool integer = false;
  bool log_scale = false;
};

enum class Sampling { Grid, Random, LatinHypercube };
const char* to_string(Sampling s);

struct Constraint {
  Expr expr;
  std::string pointer;
};

enum class ComputeKind { Simulate, Search };

struct ComputeSpec {
  ComputeKind kind = ComputeKind::Simulate;
  std::string engine = "scenario";     // scenario (its cost_model) | mapping | analytical | systemc
  // simulate: "scenario" (the point's precision section), a uniform baseline name (int8, int16,
  // fp16, fp32, int4) or a precision file (resolved against each point's network)
  std::string precision = "scenario";
  std::string precision_file;          // resolved path when precision names a file
  // search: the sensitivity table file (required) and the solver (default: the scenario's).
  // simulate: optional; gives each point an accuracy proxy (the configuration's summed
  // sensitivity).
  std::string sensitivity_file;
  std::string solver;
};

struct SweepSpec {
  std::string file;        // the sweep file as given
  std::string name;
  std::string base_file;   // resolved base scenario path
  nlohmann::json base;     // the base scenario document
  std::vector<Axis> axes;
  Sampling sampling = Sampling::Grid;
  std::size_t samples = 0;  // random / latin_hypercube point count
  unsigned long long seed = 1;
  std::vector<Constraint> constraints;
  ComputeSpec compute;
  std::string hash;         // FNV-1a over the sweep file, the base scenario and referenced files
};

struct Point {
  std::size_t index = 0;          // position in the enumerated list (after constraints)
  std::string key;                // 16 hex digits of the inputs' hash
  std::vector<nlohmann::json> values;  // one per axis
};

// Parses and validates a sweep file: syntax, axes (each value of a discrete axis and both ends of
// a continuous one are applied to the base scenario, which must stay a valid scenario),
// constraints' syntax and names, referenced files. Throws SpecError naming the sweep file and the
// JSON pointer of the offending entry (for an axis value that breaks the scenario, the scenario
// parser's own message is included).
SweepSpec load_sweep(const std::string& path);
// The same for a document already in memory (e.g. a Python dict): `ctx.file` names it in
// messages, relative paths resolve against `base_dir` ("" or ending in '/'), and "name"
// defaults to `name_default`.
SweepSpec parse_sweep(const nlohmann::json& root, const JsonCtx& ctx, const std::string& base_dir,
                      const std::string& name_default);

// The design points, in order, after constraints (a constraint that fails to evaluate throws
// SpecError at its pointer). `discarded` receives the number of points constraints removed.
std::vector<Point> enumerate_points(const SweepSpec& s, std::size_t* discarded = nullptr);

// The base scenario with a point's values applied.
nlohmann::json apply_point(const SweepSpec& s, const Point& p);
// Sets a point's values in `doc` (the base, or a part of it holding every key the axes set).
void set_point_values(const SweepSpec& s, const Point& p, nlohmann::json& doc);

// {"axis name": value or its label, ...}
nlohmann::json point_inputs(const SweepSpec& s, const Point& p);

// Shard i of n (0-based): the points with index % n == i.
struct Shard {
  int index = 0, count = 1;
  bool contains(std::size_t point_index) const {
    return static_cast<int>(point_index % static_cast<std::size_t>(count)) == index;
  }
};
// Parses "i/N" (1-based i, as Slurm's array task ids usually are: 1/4 .. 4/4) -> Shard{i-1, N}.
// Throws UsageError.
Shard parse_shard(const std::string& text);

}  // namespace mixprec::sweep
