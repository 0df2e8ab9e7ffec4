#include "sim/folds.hpp"

#include <cmath>

#include "energy_models/energy_model.hpp"

namespace mixprec::sim {

namespace {
using i64 = std::int64_t;
i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
bool ws(const ArrayGeometry& a) { return a.dataflow == Dataflow::WeightStationary; }
}  // namespace

double ArrayGeometry::fold_overhead_cycles() const {
  // WS: 2R + C - 2 (systolic_compute_ws.py: R cycles of weight load, then the skewed stream);
  // OS: R + C - 2 (systolic_compute_os.py: operands and outputs skewed, no weight load).
  return ws(*this) ? double(2 * rows + cols - 2) : double(rows + cols - 2);
}

ArrayGeometry array_geometry(const PeArraySpec& pe, const Operand& b, const Operand& a) {
  ArrayGeometry g;
  g.rows = pe.rows;
  g.cols = pe.cols;
  g.dataflow = pe.dataflow;
  const double ppc = energy::products_per_cycle(pe.mac, b, a);
  g.products_per_pe = ppc >= 1 ? static_cast<i64>(ppc) : 1;
  g.cycles_per_product = ppc >= 1 ? 1 : static_cast<i64>(std::ceil(1.0 / ppc - 1e-9));
  return g;
}

TileFolds tile_folds(const ArrayGeometry& a, i64 mt, i64 nt, i64 kt) {
  TileFolds f;
  double stream;
  if (ws(a)) {
    f.folds = ceil_div(kt, a.reduction_per_fold()) * ceil_div(nt, a.cols);
    stream = double(mt) * a.cycles_per_product;
  } else {
    f.folds = ceil_div(mt, a.rows) * ceil_div(nt, a.cols);
    stream = double(ceil_div(kt, a.products_per_pe)) * a.cycles_per_product;
  }
  f.stream_cycles = double(f.folds) * stream;
  f.overhead_per_fold = a.fold_overhead_cycles();
  return f;
}

bool single_fold(const ArrayGeometry& a, i64 mt, i64 nt, i64 kt) {
  if (nt > a.cols) return false;
  return ws(a) ? kt <= a.reduction_per_fold() : mt <= a.rows;
}

StationaryRuns stationary_runs(const ArrayGeometry& a, LoopOrder order, i64 nn, i64 nk) {
  StationaryRuns r;
  if (ws(a))
    r.over_m = order == LoopOrder::KOuter ||
               (nk == 1 && (order == LoopOrder::NOuter || nn == 1));
  else
    r.over_k = order != LoopOrder::KOuter;
  return r;
}

bool loads_stationary(const ArrayGeometry& a, const StationaryRuns& runs, i64 mt, i64 nt, i64 kt,
                      i64 mi, i64 kj) {
  if (!single_fold(a, mt, nt, kt)) return true;  // the tile cycles through several folds
  if (runs.over_m) return mi == 0;
  if (runs.over_k) return kj == 0;
  return true;
}

TileBufferReads tile_buffer_reads(const ArrayGeometry& a, i64 mt, i64 nt, i64 kt, bool loads) {
  TileBufferReads r;
  r.inputs = mt * kt * ceil_div(nt, a.cols);
  if (ws(a))
    r.weights = loads ? kt * nt : 0;
  else
    r.weights = kt * nt * ceil_div(mt, a.rows);
  return r;
}

}  // namespace mixprec::sim
