// Nest analysis: a Timeloop-class cost model of one layer (a loop nest over named dimensions)
// mapped onto a hierarchy of storage levels with spatial fan-outs, with per-tensor bits.
//
// Contract:
//   * Problem, Architecture and Mapping are plain values (parse them with sim/nest/nest_json.hpp
//     or build them in code). Architecture levels and Mapping levels are listed OUTERMOST FIRST
//     (index 0 = the backing store, e.g. DRAM), as in a Timeloop arch file.
//   * `Evaluator(problem, arch)` validates the two (SpecError from validate() below, with
//     pointers under "/problem" and "/architecture") and precompiles them;
//     `Evaluator::evaluate(mapping, result)` runs the nest analysis, cycles and energy without
//     heap allocation or strings and returns a Status; `describe(status, ...)` renders the reason.
//     The free function `evaluate(p, a, m)` is a convenience that builds an Evaluator each call.
//   * Counting semantics are Timeloop's (Parashar et al., ISPASS 2019; NVlabs/timeloop
//     src/loop-analysis/nest-analysis.cpp, src/model/buffer.cpp): see docs/architecture.md,
//     "sim/nest: the nest-analysis model", for the equations.
//   * Bits: every dataspace has its own bits per value. A level's block (row) holds
//     floor(block_bits / bits) values of that dataspace; its capacity check is
//     sum(tile values x bits) <= depth x block_bits / multiple_buffering; a vector access moves
//     one block, and energy per value = vector access energy / values per block (Timeloop).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mixprec::sim::nest {

inline constexpr int kMaxDims = 8;        // problem dimensions (Timeloop's conv has 7)
inline constexpr int kMaxDataspaces = 4;  // tensors (conv/GEMM have 3)
inline constexpr int kMaxRanks = 6;       // ranks per dataspace projection
inline constexpr int kMaxTerms = 3;       // coefficient x dimension terms per rank
inline constexpr int kMaxLevels = 8;      // storage levels, outermost first

// ---------------------------------------------------------------------------------------------
// Problem: Timeloop's generic problem shape with an instance (bounds, coefficient values) and
// bits per dataspace.
struct ProjectionTerm {
  int dim = 0;           // index into Problem::dims
  int coefficient = -1;  // index into Problem::coefficients; -1 = the constant 1
};
struct Rank {
  std::vector<ProjectionTerm> terms;  // rank index = sum of coefficient x dimension index
};
struct Dataspace {
  std::string name;
  std::vector<Rank> ranks;
  bool read_write = false;  // an output: updated (read-modify-write), drained to the parent
  int bits = 8;             // bits per value of this tensor (mixprec's per-tensor precision)
};
struct Coefficient {
  std::string name;  // e.g. "Wstride"
  std::int64_t value = 1;
};
struct Problem {
  std::string name;
  std::vector<std::string> dims;     // e.g. N K C P Q R S
  std::vector<std::int64_t> bounds;  // one per dim, >= 1
  std::vector<Coefficient> coefficients;
  std::vector<Dataspace> dataspaces;

  int dim_index(const std::string& name) const;        // -1 when absent
  int dataspace_index(const std::string& name) const;  // -1 when absent
  std::int64_t macs() const;                           // product of the bounds
  // Values of dataspace d touched by the whole problem (its projection's footprint).
  std::int64_t dataspace_size(int d) const;
};

// Convolution: dims N K C P Q R S (P, Q output rows/columns; R, S filter rows/columns), with
// Inputs rank H = Hstride*P + Hdilation*R and W = Wstride*Q + Wdilation*S (Timeloop's
// cnn-layer shape). Groups > 1 add a dimension G (K and C are then per group): Weights [G K C R
// S], Inputs [N G C H W], Outputs [N G K P Q]. Dataspaces: Weights, Inputs, Outputs.
struct ConvShape {
  std::int64_t n = 1, k = 1, c = 1, p = 1, q = 1, r = 1, s = 1;
  std::int64_t h_stride = 1, w_stride = 1, h_dilation = 1, w_dilation = 1;
  std::int64_t groups = 1;
  int weight_bits = 8, input_bits = 8, output_bits = 8;
};
Problem make_conv(const ConvShape& shape);
// A convolution's weight gradient dW[K C R S] = sum over N P Q of X[N C H W] x dY[N K P Q] over
// the same dims as make_conv(shape) (same MACs): dataspaces A = X (the Inputs projection, at
// shape.input_bits), B = dY (the Outputs projection, read-only, at shape.output_bits) and Z = dW
// (the Weights projection, read-write, at shape.weight_bits). GEMM names so that the roles are
// the GEMM view's (sim/workload.cpp: A streamed, B on the stationary side, Z stored).
Problem make_conv_weight_grad(const ConvShape& shape);
// GEMM Z[m][n] = sum_k A[m][k] * B[k][n]: dims M N K; dataspaces A (inputs), B (weights), Z.
Problem make_gemm(std::int64_t m, std::int64_t n, std::int64_t k, int a_bits = 8, int b_bits = 8,
                  int z_bits = 8);

// ---------------------------------------------------------------------------------------------
// Architecture: storage levels outermost first, then the compute.
struct StorageLevel {
  std::string name;
  std::int64_t depth = 0;   // rows (blocks) per instance; 0 = unbounded (e.g. DRAM)
  int block_bits = 8;       // bits per row = per vector access
  // 0: each tensor is held at its own bits (the default). Otherwise every value held here takes
  // word_bits, e.g. a scratchpad that keeps 16-bit partial sums of 8-bit outputs (Timeloop's
  // per-level `datawidth`).
  int word_bits = 0;
  std::int64_t instances = 1;
  std::int64_t mesh_x = 1;  // instances laid out mesh_x x (instances / mesh_x)
  // Bandwidth per bank and instance, in bits per cycle; 0 = unlimited. The level's bandwidth is
  // banks x these (banks are independent ports; conflicts are not modelled).
  double read_bandwidth_bits = 0, write_bandwidth_bits = 0, shared_bandwidth_bits = 0;
  int banks = 1;
  double multiple_buffering = 1;  // effective capacity = depth x block_bits / this
  std::uint32_t keep_mask = ~0u;  // dataspaces this level may hold (bit d = dataspace d)
  // Energy per vector (block) access and leakage per instance-cycle, pJ (an Accelergy ERT).
  double read_pj = 0, write_pj = 0, update_pj = 0, leak_pj = 0;
  std::int64_t capacity_bits() const { return depth * block_bits; }
  // What one buffered copy may hold (the tiles' capacity check; between-layer residency too).
  std::int64_t effective_capacity_bits() const {
    return std::int64_t(double(capacity_bits()) / multiple_buffering);
  }
};

// Vector (block) accesses that move `values` values of which `values_per_block` fit one block:
// energy per value = vector access energy / values per block, rounded up to whole accesses.
inline double vector_accesses(std::int64_t values, std::int64_t values_per_block) {
  return double((values + values_per_block - 1) / values_per_block);
}
// Bandwidth throttling of level `s` (per instance) moving `read_bits` and `write_bits` while the
// compute takes `compute_cycles` (Timeloop's ComputePerformance, in bits): the fraction of the
// compute rate the level sustains (<= 1) and the level's cycles. The one formula (the nest analysis;
// the mapping engine's cycles of a between-layer hand-over).
struct LevelTime {
  double throttling = 1;
  double cycles = 0;
};
LevelTime level_time(const StorageLevel& s, double read_bits, double write_bits, double compute_cycles);
// The ports of level `s` (per instance) that a transfer of `read_bits` and `write_bits` uses:
// f(bits per cycle = the port's bandwidth x banks, the bits over it) for the read, write and
// shared ports the level has. The one statement of which bits go over which port (level_time;
// the mapping engine's phased refills and epilogue, sim/mapping_engine.cpp nest_cycles).
template <class F>
void for_each_port(const StorageLevel& s, double read_bits, double write_bits, F&& f) {
  if (s.read_bandwidth_bits > 0) f(s.read_bandwidth_bits * s.banks, read_bits);
  if (s.write_bandwidth_bits > 0) f(s.write_bandwidth_bits * s.banks, write_bits);
  if (s.shared_bandwidth_bits > 0) f(s.shared_bandwidth_bits * s.banks, read_bits + write_bits);
}

struct ComputeLevel {
  std::string name = "MAC";
  std::int64_t instances = 1;
  std::int64_t mesh_x = 1;
  double energy_pj = 0;  // per compute (MAC)
};
struct Architecture {
  std::string name;
  std::vector<StorageLevel> levels;  // outermost first; at most kMaxLevels
  ComputeLevel compute;
  int level_index(const std::string& name) const;  // -1 when absent
};

// ---------------------------------------------------------------------------------------------
// Mapping: per storage level (same order as Architecture::levels, outermost first) the temporal
// loops (factor per dim and their order) and the spatial loops that distribute the level's tile
// over its children (the next inner level, or the compute units below the innermost level).
// Fixed size: a mapper can edit one without allocating.
struct LevelMapping {
  std::array<std::int64_t, kMaxDims> temporal;   // factor per dim (1 = no loop)
  std::array<std::int8_t, kMaxDims> permutation; // dims, INNERMOST first (all n dims listed)
  std::array<std::int64_t, kMaxDims> spatial_x;  // factor per dim along the mesh X axis
  std::array<std::int64_t, kMaxDims> spatial_y;  // factor per dim along the mesh Y axis
  std::uint32_t keep_mask = ~0u;                 // dataspaces kept here (others bypass)
  LevelMapping();
};
struct Mapping {
  std::array<LevelMapping, kMaxLevels> levels;
  int n_levels = 0;
};

// ---------------------------------------------------------------------------------------------
// Result. Per-instance counts are those of one utilized instance (Timeloop's "per-instance"):
// with uniform tiles every utilized instance does the same.
enum class Fail : std::uint8_t {
  none,
  factor_product,       // product of a dim's factors over all levels != its bound (dim)
  capacity,             // tile bits exceed the effective capacity (level, value, limit)
  fanout_x,             // spatial X product exceeds the fan-out (level, value, limit)
  fanout_y,             // spatial Y product exceeds the fan-out (level, value, limit)
  keep_not_allowed,     // mapping keeps a dataspace the architecture level cannot hold
  bad_permutation,      // permutation is not a permutation of the dims (level)
  level_count,          // mapping has a different number of levels than the architecture
  block_too_narrow,     // a dataspace's bits exceed the block width of a level keeping it
};
struct Status {
  Fail fail = Fail::none;
  std::int8_t level = -1;      // storage level index (outermost first)
  std::int8_t dim = -1;        // dimension, for factor_product
  std::int8_t dataspace = -1;  // for keep_not_allowed / block_too_narrow
  std::int64_t value = 0, limit = 0;
  bool ok() const { return fail == Fail::none; }
};
std::string describe(const Status& s, const Problem& p, const Architecture& a);

struct DataspaceStats {
  bool kept = false;
  std::int64_t utilized_capacity = 0;   // values in one instance's tile
  std::int64_t utilized_instances = 0;  // instances holding a tile
  std::int64_t reads = 0;       // per instance: scalar reads (to children and to the parent)
  std::int64_t fills = 0;       // per instance: scalar fills from the parent
  std::int64_t updates = 0;     // per instance: scalar updates from children (outputs)
  std::int64_t temporal_reductions = 0;  // per instance: updates that read-modify-write
  // Spatial network below this level (toward the children that receive this dataspace):
  double multicast_factor = 0;     // mean children served by one read
  std::int64_t spatial_reductions = 0;  // per instance: partial sums combined in the network
  // (Distributed multicast is not modelled: Timeloop applies it only to networks that declare
  // support for it, which none of the validated designs do.)
  double energy_pj = 0;           // all instances, access energy
};
struct LevelStats {
  std::array<DataspaceStats, kMaxDataspaces> ds;
  std::int64_t utilized_instances = 0;
  double cycles = 0;                // cycles this level needs for its transfers
  double bandwidth_throttling = 1;  // <= 1: fraction of the compute rate this level sustains
  double leak_pj = 0;               // all instances
  double energy_pj = 0;             // access + leakage, all instances
};
struct Result {
  Status status;
  std::array<LevelStats, kMaxLevels> levels;
  int n_levels = 0;
  std::int64_t macs = 0;
  std::int64_t utilized_compute = 0;  // compute instances in use
  std::int64_t compute_cycles = 0;    // macs / utilized compute
  std::int64_t cycles = 0;            // max over compute and bandwidth-limited levels
  double utilization = 0;             // utilized compute / compute instances x compute/cycles
  double compute_energy_pj = 0;
  double energy_pj = 0;               // compute + every level
};

// Validates the problem and architecture (names, bounds, projections, bits, sizes); throws
// mixprec::SpecError(file, pointer, expected, found) with pointers relative to `where`.
void validate(const Problem& p, const std::string& file, const std::string& where);
void validate(const Architecture& a, const Problem& p, const std::string& file,
              const std::string& where);

// Precompiled (problem, architecture): cheap to evaluate many mappings against.
class Evaluator {
 public:
  Evaluator(const Problem& p, const Architecture& a);
  Status evaluate(const Mapping& m, Result& out) const;  // no heap allocation
  const Problem& problem() const { return p_; }
  const Architecture& architecture() const { return a_; }

 private:
  Problem p_;
  Architecture a_;
  struct Compiled;
  struct CompiledDeleter { void operator()(Compiled*) const; };
  std::unique_ptr<Compiled, CompiledDeleter> c_;
};

Result evaluate(const Problem& p, const Architecture& a, const Mapping& m);

// Test-only hook, compiled into every build and off (null) by default: when set, the analysis
// passes each read-only data space's scalar reads at each level through `reads` (level, data
// space, reads as counted) and uses what it returns. It exists so that a test can perturb one
// count formula and show that the SystemC engine, which counts its own accesses
// (sim/systemc/nest_sim.hpp), then disagrees (tests/systemc/test_nest_sim.cpp). Nothing else may
// set it; the mapper's caches hold results computed under whatever hook was set at the time.
struct TestHooks {
  std::int64_t (*reads)(int level, int dataspace, std::int64_t reads) = nullptr;
};
TestHooks& test_hooks();

// A mapping with every factor at the outermost level (a valid, if poor, starting point).
Mapping trivial_mapping(const Problem& p, const Architecture& a);

// Timeloop map.txt-style rendering of the loop nest with each level's tile sizes.
std::string render_loop_nest(const Problem& p, const Architecture& a, const Mapping& m,
                             const Result& r);

}  // namespace mixprec::sim::nest
