#include "sim/analytical.hpp"

#include <algorithm>
#include <cmath>

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

// Candidate tile sizes along one dimension: the full extent, then halvings (rounded up).
template <typename F>
void for_halvings(i64 full, i64 min_value, F&& f) {
  i64 prev = -1;
  for (i64 v = full; v >= std::max<i64>(1, min_value); v = ceil_div(v, 2)) {
    if (v == prev) break;
    f(v);
    prev = v;
    if (v == 1) break;
  }
}

// Geometry of one M-tile choice.
struct MTile {
  i64 mt = 0;          // output positions per tile
  i64 a_pass = 0;      // A elements fetched for one pass over all M tiles (one K tile's share
                       // is a_pass * kt / k)
  i64 tiles = 0;       // number of M tiles (per group)
  i64 mt_last = 0;     // size of the last tile
};

// Largest M tile whose A and output tiles fit, and the A traffic of one pass over M.
bool choose_m(const GemmOp& g, i64 kt, i64 nt, double cap_a, double cap_o, int out_bits, MTile& r) {
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
  r.mt = mt;
  r.tiles = ceil_div(g.m, mt);
  r.mt_last = g.m - (r.tiles - 1) * mt;
  r.a_pass = static_cast<i64>(std::ceil(double(g.m) * double(g.k) / g.geom.reuse));
  return true;
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
  const i64 R = hw_.pe_array.rows, C = hw_.pe_array.cols;
  const double ppc = energy::products_per_cycle(hw_.pe_array.mac, g.b, g.a);
  const i64 p_up = ppc >= 1 ? static_cast<i64>(ppc) : 1;           // products per PE per cycle
  const i64 slow = ppc >= 1 ? 1 : static_cast<i64>(std::ceil(1.0 / ppc - 1e-9));  // cycles per product
  const double cap_w = cap_bits(hw_.weight_buffer), cap_a = cap_bits(hw_.input_buffer),
               cap_o = cap_bits(hw_.output_buffer);
  const int out_bits = g.acc_bits;  // partial sums accumulate in the output buffer

  // --- choose the tiling: fewest DRAM bits, then fewest tiles ---------------------------------
  const i64 kmin = g.geom.conv ? i64(g.geom.kh) * g.geom.kw : 1;
  const i64 kfull = g.k;
  double best_bits = -1;
  i64 best_tiles = 0;
  MTile best_m;
  i64 best_w_dram = 0, best_a_dram = 0;
  auto consider_k = [&](i64 kt) {
    const i64 nk = ceil_div(kfull, kt);
    for_halvings(g.n, 1, [&](i64 nt) {
      if (double(kt) * nt * g.b.bits > cap_w) return;
      MTile mt;
      if (!choose_m(g, kt, nt, cap_a, cap_o, out_bits, mt)) return;
      const i64 nn = ceil_div(g.n, nt), nm = mt.tiles;
      const i64 w_all = g.k * g.n;
      for (int order = 0; order < 2; ++order) {
        const bool n_outer = order == 0;
        i64 w_dram, a_dram;
        if (n_outer) {
          w_dram = w_all * ((nk == 1 || nm == 1) ? 1 : nm);
          a_dram = mt.a_pass * ((nn == 1 && nk == 1) ? 1 : nn);
          if (nk == 1 && nn == 1) a_dram = mt.a_pass;
        } else {
          a_dram = mt.a_pass * ((nk == 1 || nn == 1) ? 1 : nn);
          w_dram = w_all * ((nm == 1 && nk == 1) ? 1 : nm);
          if (nk == 1 && nm == 1) w_dram = w_all;
        }
        if (!g.a_from_dram) a_dram = 0;
        const double bits = double(w_dram) * g.b.bits + double(a_dram) * g.a.bits;
        const i64 tiles = nm * nn * nk;
        if (best_bits < 0 || bits < best_bits - 1e-9 ||
            (std::fabs(bits - best_bits) <= 1e-9 && tiles < best_tiles)) {
          best_bits = bits;
          best_tiles = tiles;
          best_m = mt;
          best_w_dram = w_dram;
          best_a_dram = a_dram;
          r.tiling = Tiling{mt.mt, nt, kt, n_outer, tiles};
        }
      }
    });
  };
  if (g.geom.conv) {
    for_halvings(g.geom.in_c, 1, [&](i64 cin_t) { consider_k(cin_t * kmin); });
  } else {
    for_halvings(kfull, 1, consider_k);
  }
  if (best_bits < 0) {
    r.fits = false;
    return r;
  }
  const Tiling& t = r.tiling;
  const i64 nm = best_m.tiles, nn = ceil_div(g.n, t.n), nk = ceil_div(g.k, t.k);
  const double groups = g.groups, reps = g.repeats;

  // --- compute cycles: exact sum over full and remainder tiles --------------------------------
  // Conv row-band tiles repeat per image; fold arithmetic uses the band size and the last band.
  // Conv row bands repeat per image: (bands - 1) full bands and one last band per image.
  i64 m_full_tiles, m_last = best_m.mt_last;
  if (g.geom.conv && best_m.mt < i64(g.geom.out_h) * g.geom.out_w)
    m_full_tiles = (ceil_div(g.geom.out_h * i64(g.geom.out_w), best_m.mt) - 1) * g.geom.images;
  else
    m_full_tiles = nm - 1;
  const i64 m_last_tiles = nm - m_full_tiles;
  const i64 n_last = g.n - (nn - 1) * t.n, k_last = g.k - (nk - 1) * t.k;
  const double fold_overhead = double(2 * R + C - 2);
  double compute = 0, fill = 0;
  i64 wbuf_reads = 0, abuf_reads = 0;
  for (int mi = 0; mi < 2; ++mi)
    for (int ni = 0; ni < 2; ++ni)
      for (int ki = 0; ki < 2; ++ki) {
        const i64 cm = mi ? m_last_tiles : m_full_tiles, cn = ni ? 1 : nn - 1, ck = ki ? 1 : nk - 1;
        const i64 count = cm * cn * ck;
        if (count <= 0) continue;
        const i64 mt = mi ? m_last : t.m, ntl = ni ? n_last : t.n, ktl = ki ? k_last : t.k;
        double folds, stream;
        if (hw_.pe_array.dataflow == Dataflow::WeightStationary) {
          folds = double(ceil_div(ktl, R * p_up)) * ceil_div(ntl, C);
          stream = double(mt) * slow;
          wbuf_reads += count * ktl * ntl;
        } else {
          folds = double(ceil_div(mt, R)) * ceil_div(ntl, C);
          stream = double(ceil_div(ktl, p_up)) * slow;
          wbuf_reads += count * ktl * ntl * ceil_div(mt, R);
        }
        abuf_reads += count * mt * ktl * ceil_div(ntl, C);
        compute += count * folds * (fold_overhead + stream);
        fill += count * folds * fold_overhead;
      }
  r.compute_cycles = compute * groups * reps;
  r.fill_drain_cycles = fill * groups * reps;

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
  r.buffer[W].add_reads(static_cast<i64>(wbuf_reads * groups * reps), g.b.bits);
  const i64 a_fill = g.a_from_dram ? best_a_dram : g.m * g.k;  // on-chip operands are copied in
  r.buffer[I].add_writes(static_cast<i64>(a_fill * groups * reps), g.a.bits);
  r.buffer[I].add_reads(static_cast<i64>(abuf_reads * groups * reps), g.a.bits);
  // Partial sums: one accumulation pass per reduction fold (weight-stationary) or per K tile
  // (output-stationary, sums held in the PEs within a tile); then one read for write-back.
  i64 acc_passes;
  if (hw_.pe_array.dataflow == Dataflow::WeightStationary)
    acc_passes = (nk - 1) * ceil_div(t.k, R * p_up) + ceil_div(k_last, R * p_up);
  else
    acc_passes = nk;
  const double oe = double(out_elems) * groups * reps;
  r.buffer[O].add_writes(static_cast<i64>(oe * acc_passes), g.acc_bits);
  r.buffer[O].add_reads(static_cast<i64>(oe * (acc_passes - 1)), g.acc_bits);
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
      lc.energy_pj[size_t(Component::Dram)] +=
          double(s.read_words + s.write_words) * s.bits * em_.dram_pj_per_bit(hw_.dram);
    } else {
      lc.buffer[O].add_reads(s.read_words, s.bits);
      lc.buffer[O].add_writes(s.write_words, s.bits);
      lc.energy_pj[size_t(Component::OutputBuffer)] +=
          double(s.read_words) * em_.buffer_access_pj(energy::BufferId::Output, hw_.output_buffer, s.bits, false) +
          double(s.write_words) * em_.buffer_access_pj(energy::BufferId::Output, hw_.output_buffer, s.bits, true);
    }
  }
  const double stream_cycles = stream_bits > 0 ? transfer_cycles(stream_bits) + latency_cycles_ : 0;
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
