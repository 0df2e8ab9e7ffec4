// Systolic folds: the one place where a GEMM tile's folds, their cycles and the array's reuse of
// its stationary operand are computed. The analytical engine (sim/analytical.cpp) sums these in
// closed form over classes of equal tiles; the SystemC plan (sim/systemc/plan.cpp) calls them
// tile by tile. Both therefore price the array with the same arithmetic.
//
// Model (SCALE-Sim, Samajdar et al., ISPASS 2020; scale-sim-v3 scalesim/compute/
// systolic_compute_ws.py and systolic_compute_os.py):
//  * Weight-stationary (WS): a fold holds R x C weights (R rows of the reduction K, times the
//    products per PE of a composable MAC; C columns of N) while the S = M rows of the streamed
//    operand pass through. A fold costs 2R + C - 2 + S cycles: R to load the weights, R + C - 2
//    of skew (fill and drain) and S to stream.
//  * Output-stationary (OS): a fold holds R x C outputs (R rows of M, C columns of N) while the
//    S = K products of the reduction stream in. A fold costs R + C - 2 + S cycles: SCALE-Sim's
//    OS demand matrices are S + C - 1 rows per fold, skewed over R - 1 more (no weight load).
//  * The fill/drain share (2R + C - 2, or R + C - 2) is paid when a fold's stationary data enters
//    the array. Consecutive tiles that keep the same stationary block in the array (one fold per
//    tile, the same weights (WS) or the same outputs (OS)) form a stationary run: the run pays
//    the fill once and streams all its tiles' rows (WS: M rows) or reduction (OS: K) through it.
#pragma once
#include <cstdint>

#include "core/precision.hpp"
#include "core/spec.hpp"
#include "sim/cost.hpp"

namespace mixprec::sim {

struct ArrayGeometry {
  std::int64_t rows = 1, cols = 1;
  std::int64_t products_per_pe = 1;     // composable MACs below 8 bits: products per PE per cycle
  std::int64_t cycles_per_product = 1;  // bit-serial or wider-than-native operands
  Dataflow dataflow = Dataflow::WeightStationary;

  // Fill and drain of one fold: 2R + C - 2 (WS), R + C - 2 (OS).
  double fold_overhead_cycles() const;
  // Reduction elements one WS fold holds along the rows (composable MACs fold p products per PE).
  std::int64_t reduction_per_fold() const { return rows * products_per_pe; }
};

ArrayGeometry array_geometry(const PeArraySpec& pe, const Operand& b, const Operand& a);

// The folds of one tile (mt x nt x kt) and their cycles.
struct TileFolds {
  std::int64_t folds = 0;
  double stream_cycles = 0;         // all folds' streaming share
  double overhead_per_fold = 0;     // fill/drain of one fold
  // Cycles when the tile loads its folds (fills) or continues the previous tile's single fold.
  double cycles(bool loads) const { return stream_cycles + (loads ? fill_cycles() : 0.0); }
  double fill_cycles() const { return double(folds) * overhead_per_fold; }
};
TileFolds tile_folds(const ArrayGeometry& a, std::int64_t mt, std::int64_t nt, std::int64_t kt);

// The tile's stationary block is one fold: WS kt <= R p and nt <= C; OS mt <= R and nt <= C.
bool single_fold(const ArrayGeometry& a, std::int64_t mt, std::int64_t nt, std::int64_t kt);

// Along which tile loop consecutive tiles share the stationary block in issue order.
//  WS: the weight tile (n, k) stays across consecutive M tiles in the K-outer order (n, k, m),
//      and in the N-outer (n, m, k) / M-outer (m, n, k) orders when there is one K tile (and,
//      M-outer, one N tile).
//  OS: the output tile (m, n) stays across consecutive K tiles in the N-outer and M-outer orders
//      (k innermost); in K-outer the M tile changes every tile.
struct StationaryRuns {
  bool over_m = false;
  bool over_k = false;
};
StationaryRuns stationary_runs(const ArrayGeometry& a, LoopOrder order, std::int64_t nn, std::int64_t nk);

// Whether tile (mi, kj) of dimensions mt x nt x kt loads its stationary folds into the array
// (paying their fill) rather than continuing the previous tile's single fold.
bool loads_stationary(const ArrayGeometry& a, const StationaryRuns& runs, std::int64_t mt,
                      std::int64_t nt, std::int64_t kt, std::int64_t mi, std::int64_t kj);

// Operand reads from the on-chip buffers by one tile: WS reads each weight once when the tile
// loads its folds and streams its inputs once per column fold; OS streams the weights once per
// row fold and the inputs once per column fold.
struct TileBufferReads {
  std::int64_t weights = 0, inputs = 0;
};
TileBufferReads tile_buffer_reads(const ArrayGeometry& a, std::int64_t mt, std::int64_t nt,
                                  std::int64_t kt, bool loads);

}  // namespace mixprec::sim
