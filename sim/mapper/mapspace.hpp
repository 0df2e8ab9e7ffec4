// The mapspace of one layer on one architecture: which mappings the mapper may choose, as
// Timeloop's mapspace constraints express them (NVlabs/timeloop src/mapping/constraints.cpp,
// src/mapspaces/uber.cpp), and the safe reductions the exact search relies on.
//
// Contract:
//   * Slots: every storage level l (outermost first, as in nest::Architecture) has a temporal
//     slot and, when it fans out (fanout(l) > 1), a spatial slot split over mesh X and Y. A
//     mapping assigns each dimension's bound as a product of factors over the slots (the
//     outermost temporal slot takes the remainder).
//   * Constraints are per level: temporal / spatial factors (exact, >= min, <= max), a
//     permutation (Timeloop's: dims listed innermost first; after '_' the outermost ones), the
//     spatial X/Y split, forced keep / bypass, and a minimum compute utilization.
//   * Loop orders: only loops with factor > 1 are ordered (unit loops do nothing). Two orders are
//     the same mapping for every count when they differ by swapping ADJACENT loops that every
//     dataspace sees alike (both index it or both do not) and that are single-term in every
//     projection (a sliding-window dimension such as P or R is never swapped). The innermost
//     storage level's order changes no count (its reads are one per compute, its fills come from
//     the level above), so it has one order. canonical_orders() returns one order per class.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/nest/nest.hpp"

namespace mixprec::sim::nest {

struct FactorBound {
  std::int64_t exact = 0;  // 0: free
  std::int64_t min = 1;
  std::int64_t max = 0;    // 0: no maximum
  bool allows(std::int64_t f) const {
    return (exact == 0 || f == exact) && f >= min && (max == 0 || f <= max);
  }
};

enum class SpatialAxis : std::int8_t { either, x, y };

struct LevelConstraints {
  std::array<FactorBound, kMaxDims> temporal{};
  std::array<FactorBound, kMaxDims> spatial{};    // the dim's factor over the whole fan-out
  std::array<FactorBound, kMaxDims> spatial_x{};  // its factor along mesh X
  std::array<FactorBound, kMaxDims> spatial_y{};  // its factor along mesh Y
  std::vector<int> permutation_inner;  // dims, innermost first, innermost of the level's loops
  std::vector<int> permutation_outer;  // dims, innermost first, the outermost of the level's loops
  std::array<SpatialAxis, kMaxDims> spatial_axis{};  // from a Timeloop spatial permutation + split
  std::uint32_t keep = 0;    // dataspaces this level must keep
  std::uint32_t bypass = 0;  // dataspaces this level must bypass
};

struct Constraints {
  std::vector<LevelConstraints> levels;  // one per architecture level, outermost first
  double min_utilization = 0;            // fraction of compute instances in use, 0..1
};

// No constraint at any level of `a`.
Constraints unconstrained(const Architecture& a);

// Reads Timeloop v0.4 constraints: `targets:` lists as in a constraints file
// (`mapspace_constraints:`), an arch file's per-component `constraints:` already flattened by
// Timeloop (`architecture_constraints:` of parsed-processed-input.yaml), or both in one file.
// A target names a level of `a` (`level_alias` maps Timeloop names that the importer folded
// into another level, e.g. a spatial container; a spatial target's X/Y axes are then kept).
// Throws SpecError(file, pointer, expected, found).
struct LevelAlias {
  std::string timeloop_name;
  int level = -1;
  SpatialAxis axis = SpatialAxis::either;  // the fan-out axis this name stands for
};
Constraints parse_timeloop_constraints(const std::string& yaml_path, const Problem& p,
                                       const Architecture& a,
                                       const std::vector<LevelAlias>& level_alias = {});
// The same from YAML text (`file` names it in errors).
Constraints parse_timeloop_constraints_text(const std::string& yaml_text, const std::string& file,
                                            const Problem& p, const Architecture& a,
                                            const std::vector<LevelAlias>& level_alias = {});

// Fan-out of level l toward its children (the next inner level, or the compute units).
struct Fanout {
  std::int64_t x = 1, y = 1;
  std::int64_t total() const { return x * y; }
};
Fanout fanout(const Architecture& a, int level);

// Divisors of n, ascending.
std::vector<std::int64_t> divisors(std::int64_t n);

// Bitmask of the dataspaces whose projection uses dimension `dim`.
std::uint32_t relevance(const Problem& p, int dim);
// Whether `dim` appears in a rank with more than one term (a sliding window) in any dataspace.
bool multi_term(const Problem& p, int dim);

// One order per equivalence class (see the contract) of the loops `dims` (factor > 1, any
// order) at `level`, innermost first, honouring the level's permutation constraint. Deterministic.
std::vector<std::vector<int>> canonical_orders(const Problem& p, const Architecture& a, int level,
                                               const LevelConstraints& c,
                                               const std::vector<int>& dims);
// Every order of `dims` (brute force reference for the tests), constraint honoured.
std::vector<std::vector<int>> all_orders(const LevelConstraints& c, const std::vector<int>& dims);

// Writes an order of factor > 1 loops into a LevelMapping permutation (innermost first; the
// unit loops follow in dimension order).
void set_permutation(LevelMapping& lm, int n_dims, const std::vector<int>& order);

// Keep masks level l may use: subsets of the architecture's keep mask, without dataspaces wider
// than the level's block, with the forced keeps and without the forced bypasses; the outermost
// level keeps every dataspace it can. Ascending masks; empty when a forced keep cannot be held.
std::vector<std::uint32_t> keep_choices(const Problem& p, const Architecture& a,
                                        const Constraints& c, int level);

// Whether the factors of a mapping satisfy the constraints (factor bounds, spatial axes, min
// utilization of the fan-outs: product of spatial factors over compute instances).
bool satisfies_factor_constraints(const Problem& p, const Architecture& a, const Constraints& c,
                                  const Mapping& m);

}  // namespace mixprec::sim::nest
