#include "sim/analytical.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "sim/folds.hpp"

namespace mixprec::sim {

namespace {

using i64 = std::int64_t;

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

constexpr std::size_t W = static_cast<std::size_t>(Tensor::Weights);
constexpr std::size_t I = static_cast<std::size_t>(Tensor::Inputs);
constexpr std::size_t O = static_cast<std::size_t>(Tensor::Outputs);

double cap_bits(const BufferSpec& b) {
  return b.size_bytes() * 8.0 * (b.double_buffered ? 0.5 : 1.0);
}

// Candidate tile sizes along a dimension of extent `full` mapped on `unit` array rows/columns
// (0: none): for each tile count j (1..16, then doubling) the even split ceil(full / j) rounded
// up to a multiple of `unit` (a split that uses as few folds as the extent allows), and, for j
// a power of two, the even split itself (halvings, for buffers smaller than one array-aligned
// tile); descending, without repeats.
std::vector<i64> tile_sizes(i64 full, i64 unit) {
  std::vector<i64> v;
  auto add = [&](i64 x) {
    if (x >= 1 && x <= full) v.push_back(x);
  };
  for (i64 j = 1; j <= full; j = j < 16 ? j + 1 : j * 2) {
    const i64 even = ceil_div(full, j);
    if (unit > 0) add(std::min(full, ceil_div(even, unit) * unit));
    if ((j & (j - 1)) == 0) add(even);
  }
  add(1);
  std::sort(v.begin(), v.end(), std::greater<i64>());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}
// Halvings only (a dimension no array dimension spans).
std::vector<i64> halvings(i64 full) { return tile_sizes(full, 0); }

// Geometry of one M-tile choice.
struct MTile {
  i64 mt = 0;          // output positions per tile
  i64 a_pass = 0;      // A elements fetched for one pass over all M tiles (one K tile's share
                       // is a_pass * kt / k)
  i64 tiles = 0;       // number of M tiles (per group)
  i64 mt_last = 0;     // size of the last tile
};

// Largest M tile whose A and output tiles fit, and the A traffic of one pass over M.
// Plain operands: when M is split, the tile is rounded down to a multiple of `m_unit` (the array
// rows an output-stationary fold spans), so that only the last tile leaves rows idle.
bool choose_m(const GemmOp& g, i64 kt, i64 nt, double cap_a, double cap_o, int out_bits, i64 m_unit,
              MTile& r) {
  const double a_bits = g.a.bits;
  const double o_bits = out_bits;
  if (g.geom.conv) {
    const InputGeometry& q = g.geom;
    const i64 cin_t = kt / (q.kh * q.kw);
    const double row_bits = double(q.in_w) * cin_t * a_bits;  // one input row, all tile channels
    const double out_row_bits = double(q.out_w) * nt * o_bits;
    // Whole images when they fit, else bands of output rows.
    const double img_in = row_bits * q.in_h, img_out = out_row_bits * q.out_h;
    i64 imgs = std::min<i64>(q.images, static_cast<i64>(std::min(cap_a / img_in, cap_o / img_out)));
    if (imgs >= 1) {
      r.mt = imgs * q.out_h * q.out_w;
      r.tiles = ceil_div(q.images, imgs);
      r.mt_last = (q.images - (r.tiles - 1) * imgs) * q.out_h * q.out_w;
      r.a_pass = i64(q.images) * q.in_h * q.in_w * (q.in_c);
      return true;
    }
    // Bands of output rows: a band of r rows needs (r-1)*stride + kh input rows (the halo),
    // less the zero-padding rows at the image edges, which are never fetched.
    i64 rows_in = static_cast<i64>((cap_a / row_bits - q.kh) / q.stride) + 1;
    i64 rows_out = static_cast<i64>(cap_o / out_row_bits);
    i64 rows = std::min<i64>({rows_in, rows_out, q.out_h});
    if (cap_a < row_bits * q.kh || rows < 1) return false;
    const i64 per_img = ceil_div(q.out_h, rows);
    i64 rows_fetched = 0;
    for (i64 b = 0; b < per_img; ++b) {
      const i64 r0 = b * rows, r1 = std::min<i64>(q.out_h, r0 + rows) - 1;
      const i64 lo = std::max<i64>(0, r0 * q.stride - q.pad);
      const i64 hi = std::min<i64>(q.in_h - 1, r1 * q.stride - q.pad + q.kh - 1);
      rows_fetched += std::max<i64>(0, hi - lo + 1);
    }
    r.mt = rows * q.out_w;
    r.tiles = per_img * q.images;
    r.mt_last = (q.out_h - (per_img - 1) * rows) * q.out_w;  // last band of each image
    r.a_pass = i64(q.images) * rows_fetched * q.in_w * q.in_c;
    return true;
  }
  const double a_per_row = double(kt) / g.geom.reuse * a_bits;
  i64 mt = std::min<i64>(g.m, static_cast<i64>(std::min(cap_a / a_per_row, cap_o / (double(nt) * o_bits))));
  if (mt < 1) return false;
  if (mt < g.m && mt >= m_unit) mt = mt / m_unit * m_unit;
  r.mt = mt;
  r.tiles = ceil_div(g.m, mt);
  r.mt_last = g.m - (r.tiles - 1) * mt;
  r.a_pass = static_cast<i64>(std::ceil(double(g.m) * double(g.k) / g.geom.reuse));
  return true;
}

// The M tiles in classes of equal size: `full` tiles of mt rows and `last` tiles of mt_last
// rows (conv row bands: every image's last band; otherwise the one remainder tile).
struct MClasses {
  i64 full = 0, last = 0, mt = 0, mt_last = 0;
};
MClasses m_classes(const GemmOp& g, const MTile& m) {
  MClasses c;
  c.mt = m.mt;
  c.mt_last = m.mt_last;
  if (g.geom.conv && m.mt < i64(g.geom.out_h) * g.geom.out_w)
    c.full = (ceil_div(i64(g.geom.out_h) * g.geom.out_w, m.mt) - 1) * g.geom.images;
  else
    c.full = m.tiles - 1;
  c.last = m.tiles - c.full;
  return c;
}

// Array cycles and buffer reads of one group and repetition of a GEMM under a tiling: the tiles
// in classes of equal shape (full or remainder along M, N and K), each tile's folds from
// sim/folds (loads_stationary decides which tiles pay their folds' fill and weight loads).
struct FoldSums {
  double compute = 0, fill = 0;
  i64 wbuf_reads = 0, abuf_reads = 0;
  i64 psum_writes = 0;  // output-buffer writes at accumulator width (one per accumulation pass)
};
FoldSums fold_sums(const ArrayGeometry& ag, const GemmOp& g, const MClasses& mc, i64 nt, i64 kt,
                   LoopOrder order) {
  FoldSums s;
  const i64 nn = ceil_div(g.n, nt), nk = ceil_div(g.k, kt);
  const i64 n_last = g.n - (nn - 1) * nt, k_last = g.k - (nk - 1) * kt;
  const StationaryRuns runs = stationary_runs(ag, order, nn, nk);
  // The first tile along M (K) lies in the full class when there is one, else in the last.
  const int m0_class = mc.full > 0 ? 0 : 1, k0_class = nk > 1 ? 0 : 1;
  for (int mi = 0; mi < 2; ++mi)
    for (int ni = 0; ni < 2; ++ni)
      for (int ki = 0; ki < 2; ++ki) {
        const i64 cm = mi ? mc.last : mc.full, cn = ni ? 1 : nn - 1, ck = ki ? 1 : nk - 1;
        if (cm * cn * ck <= 0) continue;
        const i64 mt = mi ? mc.mt_last : mc.mt, ntl = ni ? n_last : nt, ktl = ki ? k_last : kt;
        const TileFolds tf = tile_folds(ag, mt, ntl, ktl);
        // Tiles of the class by whether they are the first along M and along K.
        const i64 m_first = mi == m0_class ? 1 : 0, k_first = ki == k0_class ? 1 : 0;
        i64 loads = 0;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) {
            const i64 count = (a ? m_first : cm - m_first) * cn * (b ? k_first : ck - k_first);
            if (count > 0 && loads_stationary(ag, runs, mt, ntl, ktl, a ? 0 : 1, b ? 0 : 1)) loads += count;
          }
        const i64 count = cm * cn * ck;
        s.compute += double(count) * tf.stream_cycles + double(loads) * tf.fill_cycles();
        s.fill += double(loads) * tf.fill_cycles();
        const TileBufferReads with = tile_buffer_reads(ag, mt, ntl, ktl, true),
                              without = tile_buffer_reads(ag, mt, ntl, ktl, false);
        s.wbuf_reads += loads * with.weights + (count - loads) * without.weights;
        s.abuf_reads += loads * with.inputs + (count - loads) * without.inputs;
        // Partial sums: WS adds one pass per reduction fold; OS one per K tile, or one for all
        // K tiles when a single output fold stays in the array across them.
        if (ag.dataflow == Dataflow::WeightStationary)
          s.psum_writes += cm * mt * cn * ntl * ck * ceil_div(ktl, ag.reduction_per_fold());
        else if (ki == 1)
          s.psum_writes += cm * mt * cn * ntl *
                           (runs.over_k && single_fold(ag, mt, ntl, ktl) ? 1 : nk);
      }
  return s;
}

}  // namespace

AnalyticalEngine::AnalyticalEngine(const HardwareSpec& hw, const energy::EnergyModel& em)
    : hw_(hw), em_(em) {
  bytes_per_cycle_ = hw.dram.bandwidth_gbps * 1e9 / (hw.clock_mhz * 1e6);
  latency_cycles_ = hw.dram.latency_ns * 1e-9 * hw.clock_mhz * 1e6;
}

double AnalyticalEngine::transfer_cycles(double bits) const {
  if (bits <= 0) return 0;
  const double bytes = std::ceil(bits / 8.0);
  const double bursts = std::ceil(bytes / hw_.dram.burst_bytes);
  return bursts * hw_.dram.burst_bytes / bytes_per_cycle_;
}

double AnalyticalEngine::nonlinear_cycles(i64 ops) const {
  return double(ceil_div(ops, hw_.nonlinear.lanes)) * hw_.nonlinear.cycles_per_op;
}

AnalyticalEngine::GemmResult AnalyticalEngine::evaluate_gemm(const GemmOp& g) const {
  GemmResult r;
  const ArrayGeometry ag = array_geometry(hw_.pe_array, g.b, g.a);
  const bool ws = ag.dataflow == Dataflow::WeightStationary;
  const double cap_w = cap_bits(hw_.weight_buffer), cap_a = cap_bits(hw_.input_buffer),
               cap_o = cap_bits(hw_.output_buffer);
  const int out_bits = g.acc_bits;  // partial sums accumulate in the output buffer
  // Output-stationary folds span R rows of M: split plain M at multiples of R.
  const i64 m_unit = ws ? 1 : ag.rows;

  // --- choose the tiling: fewest DRAM bits, then fewest array cycles, then fewest tiles --------
  // K tiles: whole input channels for convolutions (the halo arithmetic needs them), multiples
  // of the fold's reduction rows otherwise (WS); N tiles: multiples of the array columns.
  const i64 kmin = g.geom.conv ? i64(g.geom.kh) * g.geom.kw : 1;
  std::vector<i64> k_sizes;
  if (g.geom.conv) {
    for (i64 c : halvings(g.geom.in_c)) k_sizes.push_back(c * kmin);
    // WS: channel counts that fill whole row folds, floor(q R p / (kh kw)), for the fold counts
    // q of an even split of the layer's ceil(C kh kw / (R p)) row folds into j tiles.
    if (ws) {
      const i64 folds = ceil_div(g.geom.in_c * kmin, ag.reduction_per_fold());
      for (i64 q : tile_sizes(folds, 1)) {
        const i64 c = q * ag.reduction_per_fold() / kmin;
        if (c >= 1 && c < g.geom.in_c) k_sizes.push_back(c * kmin);
      }
    }
    std::sort(k_sizes.begin(), k_sizes.end(), std::greater<i64>());
    k_sizes.erase(std::unique(k_sizes.begin(), k_sizes.end()), k_sizes.end());
  } else {
    k_sizes = ws ? tile_sizes(g.k, ag.reduction_per_fold()) : halvings(g.k);
  }
  const std::vector<i64> n_sizes = tile_sizes(g.n, ag.cols);
  const double w_all = double(g.k) * g.n;
  double best_bits = -1, best_cycles = 0;
  i64 best_tiles = 0;
  MTile best_m;
  i64 best_w_dram = 0, best_a_dram = 0;
  for (const i64 kt : k_sizes) {
    const i64 nk = ceil_div(g.k, kt);
    for (const i64 nt : n_sizes) {
      if (double(kt) * nt * g.b.bits > cap_w) continue;
      MTile mt;
      if (!choose_m(g, kt, nt, cap_a, cap_o, out_bits, m_unit, mt)) continue;
      const i64 nn = ceil_div(g.n, nt), nm = mt.tiles;
      for (const LoopOrder order : {LoopOrder::NOuter, LoopOrder::MOuter, LoopOrder::KOuter}) {
        i64 w_dram, a_dram;
        if (order == LoopOrder::NOuter) {
          w_dram = static_cast<i64>(w_all) * ((nk == 1 || nm == 1) ? 1 : nm);
          a_dram = mt.a_pass * nn;
        } else if (order == LoopOrder::MOuter) {
          a_dram = mt.a_pass * ((nk == 1 || nn == 1) ? 1 : nn);
          w_dram = static_cast<i64>(w_all) * nm;
        } else {
          // K-outer differs from N-outer only with several K and M tiles; it holds the partial
          // sums of all M rows of an N tile in the output buffer.
          if (nk == 1 || nm == 1 || double(g.m) * nt * out_bits > cap_o) continue;
          w_dram = static_cast<i64>(w_all);
          a_dram = mt.a_pass * nn;
        }
        if (!g.a_from_dram) a_dram = 0;
        const double bits = double(w_dram) * g.b.bits + double(a_dram) * g.a.bits;
        if (best_bits >= 0 && bits > best_bits + 1e-9) continue;
        const double cycles = fold_sums(ag, g, m_classes(g, mt), nt, kt, order).compute;
        const i64 tiles = nm * nn * nk;
        if (best_bits < 0 || bits < best_bits - 1e-9 || cycles < best_cycles - 1e-9 ||
            (std::fabs(cycles - best_cycles) <= 1e-9 && tiles < best_tiles)) {
          best_bits = bits;
          best_cycles = cycles;
          best_tiles = tiles;
          best_m = mt;
          best_w_dram = w_dram;
          best_a_dram = a_dram;
          r.tiling = Tiling{mt.mt, nt, kt, order, tiles};
        }
      }
    }
  }
  if (best_bits < 0) {
    r.fits = false;
    return r;
  }
  const Tiling& t = r.tiling;
  const double groups = g.groups, reps = g.repeats;

  // --- array cycles and operand reads: exact sums over full and remainder tiles ---------------
  const FoldSums fs = fold_sums(ag, g, m_classes(g, best_m), t.n, t.k, t.order);
  r.compute_cycles = fs.compute * groups * reps;
  r.fill_drain_cycles = fs.fill * groups * reps;

  // --- DRAM traffic --------------------------------------------------------------------------
  const bool w_once = g.b_resident && double(g.k) * g.n * g.b.bits * groups <= hw_.weight_buffer.size_bytes() * 8.0;
  const double w_reps = w_once ? 1.0 : reps;
  const i64 out_elems = g.m * g.n;
  r.dram[W].add_reads(static_cast<i64>(best_w_dram * groups * w_reps), g.b.bits);
  if (g.a_from_dram) r.dram[I].add_reads(static_cast<i64>(best_a_dram * groups * reps), g.a.bits);
  if (g.out_to_dram) r.dram[O].add_writes(static_cast<i64>(out_elems * groups * reps), g.out.bits);
  double dram_bits = 0;
  for (const auto& tr : r.dram) dram_bits += double(tr.read_bits + tr.write_bits);
  // Burst rounding per tile: each tile's transfer starts on a burst boundary.
  const double tiles_total = double(t.tiles) * groups * reps;
  r.transfer_cycles = transfer_cycles(dram_bits);
  if (tiles_total > 0)
    r.transfer_cycles = std::max(r.transfer_cycles,
                                 tiles_total * transfer_cycles(dram_bits / tiles_total));

  // --- on-chip buffers, register files, array network -----------------------------------------
  r.buffer[W].add_writes(static_cast<i64>(best_w_dram * groups * w_reps), g.b.bits);
  r.buffer[W].add_reads(static_cast<i64>(fs.wbuf_reads * groups * reps), g.b.bits);
  const i64 a_fill = g.a_from_dram ? best_a_dram : g.m * g.k;  // on-chip operands are copied in
  r.buffer[I].add_writes(static_cast<i64>(a_fill * groups * reps), g.a.bits);
  r.buffer[I].add_reads(static_cast<i64>(fs.abuf_reads * groups * reps), g.a.bits);
  // Partial sums (fold_sums): one write per accumulation pass, one read before every pass but
  // the first; then one read for write-back.
  const double oe = double(out_elems) * groups * reps;
  const double pw = double(fs.psum_writes) * groups * reps;
  r.buffer[O].add_writes(static_cast<i64>(pw), g.acc_bits);
  r.buffer[O].add_reads(static_cast<i64>(pw - oe), g.acc_bits);
  r.buffer[O].add_reads(static_cast<i64>(oe), g.out.bits);
  const i64 macs = g.macs();
  r.rf_accesses = 4 * macs;
  r.hops = 2 * macs;

  // --- overlap ---------------------------------------------------------------------------------
  const double x = r.transfer_cycles;
  const bool dbuf = hw_.weight_buffer.double_buffered && hw_.input_buffer.double_buffered;
  const double prologue = tiles_total > 0 ? x / tiles_total : 0;
  if (dbuf)
    r.cycles = std::max(r.compute_cycles, x) + prologue + (x > 0 ? latency_cycles_ : 0);
  else
    r.cycles = r.compute_cycles + x + (x > 0 ? latency_cycles_ : 0);
  return r;
}

void AnalyticalEngine::add_energy(LayerCost& lc, const GemmOp& g, const GemmResult& r) const {
  using C = Component;
  auto& e = lc.energy_pj;
  const double macs = double(g.macs());
  const energy::MacEnergy me = em_.mac(g.b, g.a, g.acc_bits, hw_.pe_array.mac);
  e[size_t(C::Mac)] += macs * me.total_pj();
  e[size_t(C::RegisterFile)] +=
      macs * (em_.register_file_pj(g.b.bits) + em_.register_file_pj(g.a.bits) +
              2 * em_.register_file_pj(g.acc_bits));
  const int second_hop = hw_.pe_array.dataflow == Dataflow::WeightStationary ? g.acc_bits : g.b.bits;
  e[size_t(C::Interconnect)] += macs * (em_.interconnect_pj(g.a.bits) + em_.interconnect_pj(second_hop));
  auto buf = [&](energy::BufferId id, const BufferSpec& spec, const Traffic& tr, int bits_r,
                 int bits_w) {
    return double(tr.reads) * em_.buffer_access_pj(id, spec, bits_r, false) +
           double(tr.writes) * em_.buffer_access_pj(id, spec, bits_w, true);
  };
  e[size_t(C::WeightBuffer)] += buf(energy::BufferId::Weight, hw_.weight_buffer, r.buffer[W], g.b.bits, g.b.bits);
  e[size_t(C::InputBuffer)] += buf(energy::BufferId::Input, hw_.input_buffer, r.buffer[I], g.a.bits, g.a.bits);
  // Output buffer: partial sums at accumulator width, final read at output width.
  {
    const Traffic& tr = r.buffer[O];
    const double final_reads = double(g.m * g.n) * g.groups * g.repeats;
    const double psum_reads = double(tr.reads) - final_reads;
    e[size_t(C::OutputBuffer)] +=
        psum_reads * em_.buffer_access_pj(energy::BufferId::Output, hw_.output_buffer, g.acc_bits, false) +
        final_reads * em_.buffer_access_pj(energy::BufferId::Output, hw_.output_buffer, g.out.bits, false) +
        double(tr.writes) * em_.buffer_access_pj(energy::BufferId::Output, hw_.output_buffer, g.acc_bits, true);
  }
  double dram_bits = 0;
  for (const auto& tr : r.dram) dram_bits += double(tr.read_bits + tr.write_bits);
  e[size_t(C::Dram)] += dram_bits * em_.dram_pj_per_bit(hw_.dram);
}

LayerCost AnalyticalEngine::work_cost(const Network& net, const LayerWork& work,
                                      const LayerPrecision& p) const {
  const Layer& l = net.layers[work.layer];
  LayerCost lc;
  lc.name = l.name;
  lc.kind = l.kind;
  lc.precision = p;
  double step_gemm_cycles = 0, parallel_gemm_cycles = 0;
  double ideal = 0;
  bool tiling_set = false;
  for (const GemmOp& g : work.gemms) {
    GemmResult r = evaluate_gemm(g);
    if (!r.fits) {
      lc.fits = false;
      lc.fail_reason = std::string("no tiling of ") + g.pass + " (" + std::to_string(g.m) + "x" +
                       std::to_string(g.n) + "x" + std::to_string(g.k) +
                       ") fits the buffers at these bitwidths";
      continue;
    }
    lc.macs += g.macs();
    for (std::size_t t = 0; t < kTensors; ++t) {
      lc.dram[t] += r.dram[t];
      lc.buffer[t] += r.buffer[t];
    }
    lc.register_file_accesses += r.rf_accesses;
    lc.interconnect_hops += r.hops;
    lc.compute_cycles += r.compute_cycles;
    lc.stalls.fill_drain_cycles += r.fill_drain_cycles;
    if (g.repeats > 1) step_gemm_cycles += r.cycles; else parallel_gemm_cycles += r.cycles;
    ideal += double(g.macs()) /
             (double(hw_.pe_array.rows) * hw_.pe_array.cols *
              energy::products_per_cycle(hw_.pe_array.mac, g.b, g.a));
    if (!tiling_set || g.repeats == 1) {
      if (!tiling_set) lc.tiling = r.tiling;
      tiling_set = true;
    }
    add_energy(lc, g, r);
  }
  finish_layer(lc, work, parallel_gemm_cycles, step_gemm_cycles, ideal);
  return lc;
}

void AnalyticalEngine::finish_layer(LayerCost& lc, const LayerWork& work, double parallel_gemm_cycles,
                                    double step_gemm_cycles, double ideal) const {
  const double gemm_cycles = parallel_gemm_cycles + step_gemm_cycles;
  // Nonlinear unit and streamed traffic.
  double nl_cycles = 0, nl_serial_cycles = 0;
  for (const NonlinearWork& nw : work.nonlinear) {
    lc.nonlinear_ops += nw.ops;
    const double cyc = nonlinear_cycles(nw.ops);
    if (nw.serial_groups > 1) nl_serial_cycles += cyc; else nl_cycles += cyc;
    energy::NonlinearOp op = nw.kind == NonlinearKind::Sigmoid ? energy::NonlinearOp::Sigmoid
                            : nw.kind == NonlinearKind::Tanh   ? energy::NonlinearOp::Tanh
                            : nw.kind == NonlinearKind::Multiply ? energy::NonlinearOp::Multiply
                                                                 : energy::NonlinearOp::Add;
    lc.energy_pj[size_t(Component::Nonlinear)] += double(nw.ops) * em_.nonlinear_pj(op, nw.operand);
  }
  double stream_bits = 0;
  for (const StreamTraffic& s : work.streams) {
    if (s.dram) {
      lc.dram[s.tensor].add_reads(s.read_words, s.bits);
      lc.dram[s.tensor].add_writes(s.write_words, s.bits);
      stream_bits += double(s.read_words + s.write_words) * s.bits;
      lc.energy_pj[size_t(Component::Dram)] += stream_dram_pj(s.read_words + s.write_words, s.bits);
    } else {
      lc.buffer[O].add_reads(s.read_words, s.bits);
      lc.buffer[O].add_writes(s.write_words, s.bits);
      lc.energy_pj[size_t(Component::OutputBuffer)] +=
          double(s.read_words) * em_.buffer_access_pj(energy::BufferId::Output, hw_.output_buffer, s.bits, false) +
          double(s.write_words) * em_.buffer_access_pj(energy::BufferId::Output, hw_.output_buffer, s.bits, true);
    }
  }
  const double stream_cycles =
      std::max(stream_bits > 0 ? transfer_cycles(stream_bits) + latency_cycles_ : 0.0, work.onchip_stream_cycles);
  if (work.serial_steps) {
    // Recurrence: step t+1's products need step t's h, so each step's gate math is exposed.
    lc.cycles = parallel_gemm_cycles + step_gemm_cycles + nl_serial_cycles +
                std::max(nl_cycles, stream_cycles);
    lc.stalls.recurrent_cycles = nl_serial_cycles;
  } else {
    // Elementwise work and streams overlap the GEMMs they follow only within a layer's pipeline.
    lc.cycles = std::max({gemm_cycles + nl_cycles, stream_cycles});
  }
  lc.stalls.dram_stall_cycles =
      std::max(0.0, lc.cycles - lc.compute_cycles - lc.stalls.recurrent_cycles - nl_cycles);
  lc.utilization = lc.cycles > 0 ? ideal / lc.cycles : 0;
}

LayerCost AnalyticalEngine::layer_cost(const Network& net, int layer, const LayerPrecision& p,
                                       Phase phase) const {
  return work_cost(net, derive_work(net, layer, p, phase, &hw_), p);
}

NetworkCost AnalyticalEngine::network_cost(const Network& net, const std::vector<LayerPrecision>& p,
                                           Phase phase) const {
  NetworkCost nc;
  nc.layers.reserve(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    nc.layers.push_back(layer_cost(net, static_cast<int>(i), p[i], phase));
  for (auto& lc : nc.layers)  // static power over each layer's time
    lc.energy_pj[size_t(Component::Static)] = static_energy_pj(hw_, lc.cycles);
  finalize(nc, hw_.clock_mhz);
  return nc;
}

double static_energy_pj(const HardwareSpec& hw, double cycles) {
  return hw.energy.static_power_mw * cycles * 1e3 / hw.clock_mhz;  // mW x us = nJ -> x1e3 pJ
}

std::vector<Baseline> standard_baselines() {
  return {{"int8", LayerPrecision::uniform(NumFormat::Int, 8)},
          {"int16", LayerPrecision::uniform(NumFormat::Int, 16)},
          {"fp16", LayerPrecision::uniform(NumFormat::Fp16, 16)},
          {"fp32", LayerPrecision::uniform(NumFormat::Fp32, 32)}};
}

}  // namespace mixprec::sim
