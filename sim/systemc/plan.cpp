#include "sim/systemc/plan.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/errors.hpp"
#include "sim/folds.hpp"

namespace mixprec::sim::systemc {

namespace {

using i64 = std::int64_t;

constexpr std::size_t W = static_cast<std::size_t>(Tensor::Weights);
constexpr std::size_t I = static_cast<std::size_t>(Tensor::Inputs);
constexpr std::size_t O = static_cast<std::size_t>(Tensor::Outputs);

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

// The i-th of n near-equal integer shares of `total` (shares sum to total exactly).
i64 share(i64 total, i64 i, i64 n) {
  const __int128 t = total;
  return static_cast<i64>(t * (i + 1) / n - t * i / n);
}

// Usable bits of one buffer slot (half the buffer when double-buffered), as the analytical
// engine's tiling assumed.
double slot_bits(const BufferSpec& b) { return b.size_bytes() * 8.0 * (b.double_buffered ? 0.5 : 1.0); }

// One M tile of a GEMM (per group): its output rows and the A elements it fetches per input
// channel (convolution) or its position in the flattened M x K operand (plain matrices).
struct MTile {
  i64 m = 0;
  i64 a_per_channel = 0;  // conv only
  i64 m_offset = 0;       // plain only: rows before this tile
};

// Recovers the M tiles of the analytical tiling: whole images, bands of output rows with their
// kernel halo (padding rows are never fetched), or row blocks of a plain matrix.
std::vector<MTile> m_tiles(const GemmOp& g, const Tiling& t, const HardwareSpec& hw) {
  std::vector<MTile> tiles;
  if (!g.geom.conv) {
    for (i64 off = 0; off < g.m; off += t.m) tiles.push_back(MTile{std::min(t.m, g.m - off), 0, off});
    return tiles;
  }
  const InputGeometry& q = g.geom;
  const i64 plane_out = i64(q.out_h) * q.out_w;
  // The analytical engine takes whole images when an image's input rows (at this K tile's
  // channels) and its output rows (at accumulator width) fit their slots, else bands of rows.
  const i64 cin_t = t.k / (i64(q.kh) * q.kw);
  const double img_in = double(q.in_w) * cin_t * g.a.bits * q.in_h;
  const double img_out = double(q.out_w) * t.n * g.acc_bits * q.out_h;
  const double fit = std::min(slot_bits(hw.input_buffer) / img_in, slot_bits(hw.output_buffer) / img_out);
  const i64 imgs = std::min<i64>(q.images, static_cast<i64>(fit));
  if (imgs >= 1) {
    MIXPREC_CHECK(t.m == imgs * plane_out, "whole-image M tile of " + g.pass);
    for (i64 done = 0; done < q.images; done += imgs) {
      const i64 n_img = std::min(imgs, i64(q.images) - done);
      tiles.push_back(MTile{n_img * plane_out, n_img * q.in_h * q.in_w, 0});
    }
    return tiles;
  }
  MIXPREC_CHECK(t.m % q.out_w == 0, "row-band M tile of " + g.pass);
  const i64 rows = t.m / q.out_w;
  const i64 per_img = ceil_div(q.out_h, rows);
  for (int img = 0; img < q.images; ++img)
    for (i64 b = 0; b < per_img; ++b) {
      const i64 r0 = b * rows, r1 = std::min<i64>(q.out_h, r0 + rows) - 1;
      const i64 lo = std::max<i64>(0, r0 * q.stride - q.pad);
      const i64 hi = std::min<i64>(q.in_h - 1, r1 * q.stride - q.pad + q.kh - 1);
      tiles.push_back(MTile{(r1 - r0 + 1) * q.out_w, std::max<i64>(0, hi - lo + 1) * q.in_w, 0});
    }
  return tiles;
}

// The tiles of one group and one repetition of a GEMM in the analytical loop order, with the
// reuse rules of AnalyticalEngine::evaluate_gemm: N-outer keeps a weight tile while the M tiles
// stream when the reduction fits one K tile (or there is one M tile), and refetches the inputs
// once per N tile; M-outer keeps an input tile across the N tiles under the mirror conditions;
// K-outer keeps every weight tile while all M tiles stream, their partial sums held in the
// output buffer (one output slot for the whole N tile). The array cycles of each tile, and
// whether it loads its stationary folds, come from sim/folds.
std::vector<TileOp> gemm_tiles(const GemmOp& g, const Tiling& t, const HardwareSpec& hw,
                               bool fetch_weights) {
  const std::vector<MTile> mt = m_tiles(g, t, hw);
  const i64 nm = static_cast<i64>(mt.size()), nn = ceil_div(g.n, t.n), nk = ceil_div(g.k, t.k);
  MIXPREC_CHECK(nm * nn * nk == t.tiles, "tile count of " + g.pass + " differs from the tiling");
  const ArrayGeometry ag = array_geometry(hw.pe_array, g.b, g.a);
  const StationaryRuns runs = stationary_runs(ag, t.order, nn, nk);
  const i64 kernel = g.geom.conv ? i64(g.geom.kh) * g.geom.kw : 1;

  auto a_elements = [&](i64 mi, i64 kj) -> i64 {
    const i64 k0 = kj * t.k, kt = std::min(t.k, g.k - k0);
    if (g.geom.conv) return mt[mi].a_per_channel * (kt / kernel);
    // Plain operand: tile (mi, kj) covers a block of the M x K matrix whose distinct elements
    // are `1/reuse` of its entries; prefix rounding makes the blocks sum to ceil(M K / reuse).
    const double before = double(mt[mi].m_offset) * g.k + double(mt[mi].m) * k0;
    const double after = before + double(mt[mi].m) * kt;
    return static_cast<i64>(std::ceil(after / g.geom.reuse)) - static_cast<i64>(std::ceil(before / g.geom.reuse));
  };
  const bool k_outer = t.order == LoopOrder::KOuter;
  auto tile = [&](i64 mi, i64 ni, i64 kj, bool w_load, bool a_load) {
    TileOp op;
    op.m = mt[mi].m;
    op.n = std::min(t.n, g.n - ni * t.n);
    op.k = std::min(t.k, g.k - kj * t.k);
    if (w_load && fetch_weights) op.load_bits[W] = op.k * op.n * g.b.bits;
    if (a_load && g.a_from_dram) op.load_bits[I] = a_elements(mi, kj) * g.a.bits;
    const TileFolds tf = tile_folds(ag, op.m, op.n, op.k);
    const bool loads = loads_stationary(ag, runs, op.m, op.n, op.k, mi, kj);
    op.compute_cycles = tf.cycles(loads);
    op.fill_cycles = loads ? tf.fill_cycles() : 0.0;
    op.macs = op.m * op.n * op.k;
    op.opens_output = kj == 0 && (!k_outer || mi == 0);
    op.closes_output = kj == nk - 1 && (!k_outer || mi == nm - 1);
    if (kj == nk - 1 && g.out_to_dram) op.store_bits = op.m * op.n * g.out.bits;
    return op;
  };
  std::vector<TileOp> tiles;
  tiles.reserve(static_cast<std::size_t>(t.tiles));
  switch (t.order) {
    case LoopOrder::NOuter:
      for (i64 ni = 0; ni < nn; ++ni)
        for (i64 mi = 0; mi < nm; ++mi)
          for (i64 kj = 0; kj < nk; ++kj)
            tiles.push_back(tile(mi, ni, kj, (nk == 1 || nm == 1) ? mi == 0 : true, true));
      break;
    case LoopOrder::MOuter:
      for (i64 mi = 0; mi < nm; ++mi)
        for (i64 ni = 0; ni < nn; ++ni)
          for (i64 kj = 0; kj < nk; ++kj)
            tiles.push_back(tile(mi, ni, kj, true, (nk == 1 || nn == 1) ? ni == 0 : true));
      break;
    case LoopOrder::KOuter:
      for (i64 ni = 0; ni < nn; ++ni)
        for (i64 kj = 0; kj < nk; ++kj)
          for (i64 mi = 0; mi < nm; ++mi) tiles.push_back(tile(mi, ni, kj, mi == 0, true));
      break;
  }
  return tiles;
}

void add_totals(LayerPlan& p, const TileOp& op) {
  for (std::size_t t = 0; t < kTensors; ++t) p.dram_read_bits[t] += op.load_bits[t];
  p.dram_write_bits[O] += op.store_bits;
  p.macs += op.macs;
  p.compute_cycles += op.compute_cycles;
  p.fill_cycles += op.fill_cycles;
  ++p.tiles;
}

void add_totals(LayerPlan& p, const NonlinearOp& op) {
  for (std::size_t t = 0; t < kTensors; ++t) {
    p.dram_read_bits[t] += op.read_bits[t];
    p.dram_write_bits[t] += op.write_bits[t];
  }
  p.nonlinear_ops += op.ops;
  p.nonlinear_cycles += op.cycles;
}

// Adds a share of each nonlinear kind's ops to `op` (the i-th of n shares).
void add_nonlinear_share(NonlinearOp& op, const AnalyticalEngine& eng,
                         const std::vector<const NonlinearWork*>& work, i64 i, i64 n) {
  for (const NonlinearWork* w : work) {
    const i64 ops = share(w->ops, i, n);
    op.ops += ops;
    op.cycles += eng.nonlinear_cycles(ops);
  }
}

std::string mismatch(const char* what, double plan, double analytical) {
  std::ostringstream s;
  s.precision(15);
  s << what << ": SystemC plan " << plan << ", analytical " << analytical;
  return s.str();
}

void check_against(const LayerPlan& p, const LayerCost& lc) {
  const std::string where = "layer \"" + p.name + "\": ";
  for (std::size_t t = 0; t < kTensors; ++t) {
    MIXPREC_CHECK(p.dram_read_bits[t] == lc.dram[t].read_bits,
                  where + mismatch("DRAM read bits", double(p.dram_read_bits[t]), double(lc.dram[t].read_bits)));
    MIXPREC_CHECK(p.dram_write_bits[t] == lc.dram[t].write_bits,
                  where + mismatch("DRAM write bits", double(p.dram_write_bits[t]), double(lc.dram[t].write_bits)));
  }
  MIXPREC_CHECK(p.macs == lc.macs, where + mismatch("MACs", double(p.macs), double(lc.macs)));
  MIXPREC_CHECK(p.nonlinear_ops == lc.nonlinear_ops,
                where + mismatch("nonlinear ops", double(p.nonlinear_ops), double(lc.nonlinear_ops)));
  const auto close = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); };
  MIXPREC_CHECK(close(p.compute_cycles, lc.compute_cycles),
                where + mismatch("compute cycles", p.compute_cycles, lc.compute_cycles));
  MIXPREC_CHECK(close(p.fill_cycles, lc.stalls.fill_drain_cycles),
                where + mismatch("fill/drain cycles", p.fill_cycles, lc.stalls.fill_drain_cycles));
}

}  // namespace

const char* to_string(PhaseKind k) {
  switch (k) {
    case PhaseKind::Gemm: return "gemm";
    case PhaseKind::Recurrent: return "recurrent";
    case PhaseKind::Elementwise: return "elementwise";
  }
  return "?";
}

LayerPlan plan_layer(const AnalyticalEngine& eng, const Network& net, const LayerWork& work,
                     const LayerCost& analytical) {
  const HardwareSpec& hw = eng.hardware();
  LayerPlan plan;
  plan.layer = work.layer;
  plan.name = net.layers[work.layer].name;
  plan.fits = analytical.fits;
  if (!plan.fits) return plan;

  std::vector<const NonlinearWork*> serial_nl, parallel_nl;
  for (const NonlinearWork& nw : work.nonlinear)
    (work.serial_steps && nw.serial_groups > 1 ? serial_nl : parallel_nl).push_back(&nw);
  int recurrent_phases = 0;
  for (const GemmOp& g : work.gemms)
    if (work.serial_steps && g.repeats > 1) ++recurrent_phases;
  std::vector<const StreamTraffic*> dram_streams;
  for (const StreamTraffic& s : work.streams)
    if (s.dram) dram_streams.push_back(&s);

  int recurrent_index = 0;
  for (const GemmOp& g : work.gemms) {
    const AnalyticalEngine::GemmResult r = eng.evaluate_gemm(g);
    MIXPREC_CHECK(r.fits, "layer \"" + plan.name + "\": " + g.pass + " fits in the layer record but not per GEMM");
    // Weights of a resident GEMM (LSTM recurrent weights) are fetched once for all repetitions
    // when all groups' weights fit the whole weight buffer (the analytical rule).
    const bool weights_once = g.b_resident && double(g.k) * g.n * g.b.bits * g.groups <= hw.weight_buffer.size_bytes() * 8.0;
    PhasePlan ph;
    ph.name = g.pass;
    ph.tiling = r.tiling;
    ph.groups = g.groups;
    ph.steps = g.repeats;
    if (work.serial_steps && g.repeats > 1) {
      ph.kind = PhaseKind::Recurrent;
      const i64 slots = i64(recurrent_phases) * g.repeats * g.groups;
      for (int step = 0; step < g.repeats; ++step) {
        for (int grp = 0; grp < g.groups; ++grp) {
          std::vector<TileOp> tiles = gemm_tiles(g, r.tiling, hw, step == 0 || !weights_once);
          for (TileOp& op : tiles) {
            op.step = step;
            op.group = grp;
          }
          tiles.front().waits_hidden = step > 0;
          tiles.back().feeds_nonlinear = true;
          for (const TileOp& op : tiles) add_totals(plan, op);
          ph.tiles.insert(ph.tiles.end(), tiles.begin(), tiles.end());
          // Gate math of this step and direction; the first recurrent phase also carries the
          // layer's DRAM streams, split evenly over the steps: reads (this step's slice of the
          // input projection) are prefetched before its first direction, writes (h) follow its
          // last direction.
          NonlinearOp nl;
          nl.step = step;
          nl.group = grp;
          add_nonlinear_share(nl, eng, serial_nl, (i64(recurrent_index) * g.repeats + step) * g.groups + grp, slots);
          if (recurrent_index == 0)
            for (const StreamTraffic* s : dram_streams) {
              if (grp == 0) nl.read_bits[s->tensor] += share(s->read_words, step, g.repeats) * s->bits;
              if (grp == g.groups - 1) nl.write_bits[s->tensor] += share(s->write_words, step, g.repeats) * s->bits;
            }
          add_totals(plan, nl);
          ph.nl.push_back(nl);
        }
      }
      ++recurrent_index;
    } else {
      ph.kind = PhaseKind::Gemm;
      for (int rep = 0; rep < g.repeats; ++rep)
        for (int grp = 0; grp < g.groups; ++grp) {
          std::vector<TileOp> tiles = gemm_tiles(g, r.tiling, hw, rep == 0 || !weights_once);
          for (TileOp& op : tiles) {
            op.group = grp;
            add_totals(plan, op);
          }
          ph.tiles.insert(ph.tiles.end(), tiles.begin(), tiles.end());
        }
    }
    // Per-GEMM check of the tile transfers (streams of recurrent phases excluded).
    i64 w_bits = 0, a_bits = 0, o_bits = 0;
    for (const TileOp& op : ph.tiles) {
      w_bits += op.load_bits[W];
      a_bits += op.load_bits[I];
      o_bits += op.store_bits;
    }
    MIXPREC_CHECK(w_bits == r.dram[W].read_bits && a_bits == r.dram[I].read_bits && o_bits == r.dram[O].write_bits,
                  "layer \"" + plan.name + "\", " + g.pass + ": tile transfers differ from the analytical traffic (" +
                      mismatch("weights", double(w_bits), double(r.dram[W].read_bits)) + "; " +
                      mismatch("inputs", double(a_bits), double(r.dram[I].read_bits)) + "; " +
                      mismatch("outputs", double(o_bits), double(r.dram[O].write_bits)) + ")");
    plan.phases.push_back(std::move(ph));
  }

  const bool has_gemms = !work.gemms.empty();
  if (has_gemms && recurrent_phases == 0) {
    // Streams beside GEMMs (training: optimizer state) run in the background on the DMA.
    for (const StreamTraffic* s : dram_streams) {
      plan.background_read_bits[s->tensor] += s->read_words * s->bits;
      plan.background_write_bits[s->tensor] += s->write_words * s->bits;
    }
    for (std::size_t t = 0; t < kTensors; ++t) {
      plan.dram_read_bits[t] += plan.background_read_bits[t];
      plan.dram_write_bits[t] += plan.background_write_bits[t];
    }
  }
  if (has_gemms || work.serial_steps) {
    // Elementwise work after the products (training: gradients, optimizer) as one NL pass.
    if (!parallel_nl.empty()) {
      PhasePlan ph;
      ph.kind = PhaseKind::Elementwise;
      ph.name = "elementwise";
      NonlinearOp nl;
      add_nonlinear_share(nl, eng, parallel_nl, 0, 1);
      add_totals(plan, nl);
      ph.nl.push_back(nl);
      plan.phases.push_back(std::move(ph));
    }
  } else if (!dram_streams.empty() || !parallel_nl.empty()) {
    // Elementwise layer (pool, add): operands stream through the NL unit in slices that fit one
    // buffer slot, no larger than one DMA descriptor, so reads, math and writes pipeline.
    i64 read_bits = 0, write_bits = 0;
    for (const StreamTraffic* s : dram_streams) {
      read_bits += s->read_words * s->bits;
      write_bits += s->write_words * s->bits;
    }
    const double in_cap = std::min(double(kSliceBytes) * 8, slot_bits(hw.input_buffer) / 2);
    const double out_cap = std::min(double(kSliceBytes) * 8, slot_bits(hw.output_buffer) / 2);
    i64 slices = std::max<i64>({1, static_cast<i64>(std::ceil(read_bits / in_cap)),
                                static_cast<i64>(std::ceil(write_bits / out_cap))});
    slices = std::min(slices, std::max<i64>({kMaxSlices,
                                             static_cast<i64>(std::ceil(read_bits / (slot_bits(hw.input_buffer) / 2))),
                                             static_cast<i64>(std::ceil(write_bits / (slot_bits(hw.output_buffer) / 2)))}));
    PhasePlan ph;
    ph.kind = PhaseKind::Elementwise;
    ph.name = "elementwise";
    for (i64 i = 0; i < slices; ++i) {
      NonlinearOp nl;
      nl.step = static_cast<int>(i);
      for (const StreamTraffic* s : dram_streams) {
        nl.read_bits[s->tensor] += share(s->read_words, i, slices) * s->bits;
        nl.write_bits[s->tensor] += share(s->write_words, i, slices) * s->bits;
      }
      add_nonlinear_share(nl, eng, parallel_nl, i, slices);
      add_totals(plan, nl);
      ph.nl.push_back(nl);
    }
    plan.phases.push_back(std::move(ph));
  }
  check_against(plan, analytical);
  return plan;
}

}  // namespace mixprec::sim::systemc
