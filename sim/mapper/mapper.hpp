// The mapper: chooses a mapping of one layer (nest::Problem) onto an architecture
// (nest::Architecture) that minimizes an objective, within a mapspace (sim/mapper/mapspace.hpp),
// evaluating candidates with nest::Evaluator.
//
// Contract:
//   * Deterministic: the same (problem, architecture, options) give the same mapping; ties keep
//     the first mapping met in the fixed enumeration order.
//   * Objective: a lexicographic list of metrics (Timeloop's optimization_metrics), e.g.
//     {delay, energy}: lower delay wins, energy breaks ties. edp = energy x cycles.
//   * Exact search when the mapspace's size bound (mapspace_bound()) is at most
//     options.exhaustive_limit: every keep choice, every divisor split of every dimension over
//     the slots, every canonical loop order; pruned only where provably safe: a partial mapping
//     (inner levels chosen, the remainder at the outermost level) over capacity at a level
//     stays over capacity for every completion (tiles only grow), so its subtree is skipped; loop
//     orders are reduced to canonical_orders() (equivalent orders give identical counts).
//   * Heuristic search otherwise; its space is stated in MapResult::space: seeds from every
//     keep choice (all when <= 16, else the architecture's full keep), the spatial assignments of
//     greatest fan-out product (up to 4 per fan-out), one loop order per dataspace kept
//     stationary; temporal factors grown greedily level by level (innermost first), then a
//     first-improvement descent over moves of one prime factor between any two slots of its
//     dimension (into a temporal slot also with the loop innermost / outermost there), moves of
//     one loop within a level's order and keep toggles, to a local optimum; then a joint
//     re-tiling of the two outermost levels (<= 512 divisor splits) and a second descent.
//     Only the two best grown seeds are descended from; a seed whose lower bound (seed_bound():
//     growing moves only temporal factors, the bound holds for every temporal completion of its
//     spatial factors and keeps) exceeds the second-best grown seed's objective is not grown,
//     which leaves the two best, and so the result, unchanged.
//   * Imperfect factors: with options.pad, a dimension that no spatial factor can use well is
//     also tried padded up to a multiple of a fan-out axis (e.g. 97 on 32 columns -> 128: 4
//     folds); the padded problem is evaluated (its padding computes, moves and stores zeros:
//     charged, not hidden) and MapResult::utilization counts only the real MACs.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/mapper/mapspace.hpp"
#include "sim/nest/nest.hpp"

namespace mixprec::sim::nest {

enum class Metric : std::uint8_t { energy, delay, edp };
const char* to_string(Metric m);
// "energy" | "delay" | "edp" (also Timeloop's "latency" for delay); throws UsageError.
Metric parse_metric(const std::string& name);

struct Objective {
  std::vector<Metric> metrics{Metric::energy};
  double value(std::size_t i, const Result& r) const;
  // Strictly better (lexicographic, exact comparison).
  bool better(const Result& a, const Result& b) const;
  std::string describe() const;  // "delay, energy"
};

struct MapperOptions {
  Objective objective;
  Constraints constraints;  // empty levels: unconstrained
  double exhaustive_limit = 5e6;  // largest mapspace bound searched exactly
  bool pad = true;                // try padded (imperfect) factors on the fan-outs
};

enum class SearchKind : std::uint8_t { exhaustive, heuristic };

struct MapResult {
  bool found = false;
  Problem problem;  // the problem mapped (padded when padding won)
  Mapping mapping;
  Result result;
  SearchKind kind = SearchKind::exhaustive;
  double mapspace_bound = 0;       // mappings in the canonical space (an upper bound)
  std::int64_t evaluations = 0;    // nest evaluations made (partial ones included)
  std::int64_t complete = 0;       // complete mappings evaluated
  std::int64_t valid = 0;          // complete mappings that evaluated without failure
  std::int64_t pruned = 0;         // subtrees skipped by the capacity bound; heuristic: seeds skipped by the bound
  double utilization = 0;          // real MACs / (cycles x compute instances)
  std::string space;               // what was searched, in words
};

// Size of the canonical mapspace of (p, a) under c, before capacity pruning (an upper bound on
// the complete mappings the exact search evaluates).
double mapspace_bound(const Problem& p, const Architecture& a, const Constraints& c);

MapResult map_layer(const Problem& p, const Architecture& a, const MapperOptions& o);

// Reference for the tests: every keep choice, every divisor split, EVERY loop order
// (all_orders, no symmetry reduction) and no capacity pruning. Exponential; small layers only.
MapResult brute_force(const Problem& p, const Architecture& a, const MapperOptions& o);

// The heuristic's seed bound, exposed for its tests: a lower bound on the objective's first
// metric over every mapping with the spatial factors and keep masks of `m`, whatever its temporal
// factors and loop orders (the seeds that cannot beat the second-best grown seed are skipped).
// A very negative number when it does not apply (a negative energy, a coefficient < 1, a dim in
// two ranks of a dataspace). `m` itself need not be valid.
double seed_bound(const Problem& p, const Architecture& a, const MapperOptions& o, const Mapping& m);

// Results per (layer shape, bits per tensor, architecture, objective, constraints): the key
// serializes all of them, so a layer at other bits (what fits changes) is a different entry.
class MapperCache {
 public:
  const MapResult& map(const Problem& p, const Architecture& a, const MapperOptions& o);
  std::size_t size() const { return entries_.size(); }
  std::int64_t hits() const { return hits_; }
  std::int64_t misses() const { return misses_; }
  void clear();
  static std::string key(const Problem& p, const Architecture& a, const MapperOptions& o);

 private:
  std::map<std::string, std::unique_ptr<MapResult>> entries_;
  std::int64_t hits_ = 0, misses_ = 0;
};

// Timeloop map.txt-like loop nest followed by the stats that matter (cycles, energy, per-level
// energy, utilization, how it was found).
std::string render_map_result(const Problem& p, const Architecture& a, const MapResult& r,
                              const Objective& obj);

}  // namespace mixprec::sim::nest
