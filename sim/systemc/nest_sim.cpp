// The SystemC simulation of a mapped loop nest (see nest_sim.hpp for the contract). This file
// reads the problem, architecture and mapping as plain values and never calls the nest analysis
// (sim/nest/nest.cpp).
#include "sim/systemc/nest_sim.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>
#include <vector>

#include "core/errors.hpp"
#include "sim/systemc/nest_model.hpp"

namespace mixprec::sim::systemc {

namespace nest_model {

using sc_core::sc_time;
using sc_core::sc_time_stamp;
using sc_core::SC_ZERO_TIME;

NestAccelerator::NestAccelerator(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_THREAD(loader);
  SC_THREAD(compute);
  SC_THREAD(storer);
}

void NestAccelerator::run(NestJob& job) {
  if (job.epochs < 1 || job.epoch_begin.size() != std::size_t(job.epochs) + 1 || job.slots < 1)
    SC_REPORT_ERROR(kIdNest, "nest job without epochs, epoch offsets or buffer slots");
  job_ = &job;
  job.done = false;
  loaded_ = computed_ = 0;
  ready_at_.assign(std::size_t(job.epochs), SC_ZERO_TIME);
  job.begin = sc_time_stamp();
  ++posted_;
  job_posted_.notify(SC_ZERO_TIME);
  sc_core::sc_start();
}

double NestAccelerator::port_cycles(int level, double read_bits, double write_bits) const {
  const Port& p = job_->port[std::size_t(level)];
  double c = 0;
  if (p.read_bits > 0) c = std::max(c, read_bits / (p.read_bits * p.banks));
  if (p.write_bits > 0) c = std::max(c, write_bits / (p.write_bits * p.banks));
  if (p.shared_bits > 0) c = std::max(c, (read_bits + write_bits) / (p.shared_bits * p.banks));
  return c;
}

double NestAccelerator::execute(const Transaction& t) {
  NestJob& j = *job_;
  std::array<double, nest::kMaxLevels> rd{}, wr{};
  for (int s = 0; s < t.n_sides; ++s) {
    const Access& a = t.side[std::size_t(s)];
    j.moved[std::size_t(a.level)][std::size_t(a.ds)][std::size_t(a.action)] += a.values;
    const double bits = double(a.values) * j.bits[std::size_t(a.level)][std::size_t(a.ds)];
    (a.action == kRead ? rd : wr)[std::size_t(a.level)] += bits;
  }
  double c = 0;
  for (int l = 0; l < j.n_levels; ++l)
    if (rd[std::size_t(l)] + wr[std::size_t(l)] > 0) c = std::max(c, port_cycles(l, rd[std::size_t(l)], wr[std::size_t(l)]));
  ++j.transactions_run;
  return c;
}

void NestAccelerator::loader() {
  std::int64_t handled = 0;
  for (;;) {
    while (posted_ == handled) wait(job_posted_);
    ++handled;
    NestJob& j = *job_;
    for (std::int64_t e = 0; e < j.epochs; ++e) {
      while (e - computed_ >= j.slots) wait(computed_ev_);
      bool any = false;
      for (std::size_t i = j.epoch_begin[std::size_t(e)]; i < j.epoch_begin[std::size_t(e) + 1]; ++i) {
        const Transaction& t = j.transactions[i];
        if (t.phase != kLoad) continue;
        channel_.lock();
        wait(j.cycle * execute(t));
        channel_.unlock();
        wait(SC_ZERO_TIME);  // let a waiting write-back take the channel next
        any = true;
      }
      ready_at_[std::size_t(e)] = sc_time_stamp() + (any ? j.cycle * j.latency_cycles : SC_ZERO_TIME);
      loaded_ = e + 1;
      loaded_ev_.notify(SC_ZERO_TIME);
    }
  }
}

void NestAccelerator::compute() {
  std::int64_t handled = 0;
  for (;;) {
    while (posted_ == handled) wait(job_posted_);
    ++handled;
    NestJob& j = *job_;
    for (std::int64_t e = 0; e < j.epochs; ++e) {
      while (loaded_ <= e) wait(loaded_ev_);
      const sc_time now = sc_time_stamp();
      if (ready_at_[std::size_t(e)] > now) {
        if (e > 0) j.load_wait += (ready_at_[std::size_t(e)] - now) / j.cycle;
        wait(ready_at_[std::size_t(e)] - now);
      }
      if (e == 0) j.first_compute = sc_time_stamp();
      // The epoch's on-chip transfers overlap its MAC steps: each level streams its share at its
      // bandwidth; the epoch lasts as long as the slowest of them and the compute.
      std::array<double, nest::kMaxLevels> rd{}, wr{};
      for (std::size_t i = j.epoch_begin[std::size_t(e)]; i < j.epoch_begin[std::size_t(e) + 1]; ++i) {
        const Transaction& t = j.transactions[i];
        if (t.phase != kCompute) continue;
        for (int s = 0; s < t.n_sides; ++s) {
          const Access& a = t.side[std::size_t(s)];
          j.moved[std::size_t(a.level)][std::size_t(a.ds)][std::size_t(a.action)] += a.values;
          const double bits = double(a.values) * j.bits[std::size_t(a.level)][std::size_t(a.ds)];
          (a.action == kRead ? rd : wr)[std::size_t(a.level)] += bits;
        }
        ++j.transactions_run;
      }
      double cycles = j.compute_cycles_per_epoch;
      for (int l = 0; l < j.n_levels; ++l)
        cycles = std::max(cycles, port_cycles(l, rd[std::size_t(l)], wr[std::size_t(l)]));
      j.burst_stall += cycles - j.compute_cycles_per_epoch;
      wait(j.cycle * cycles);
      j.last_compute_end = sc_time_stamp();
      computed_ = e + 1;
      computed_ev_.notify(SC_ZERO_TIME);
    }
  }
}

void NestAccelerator::storer() {
  std::int64_t handled = 0;
  for (;;) {
    while (posted_ == handled) wait(job_posted_);
    ++handled;
    NestJob& j = *job_;
    for (std::int64_t e = 0; e < j.epochs; ++e) {
      while (computed_ <= e) wait(computed_ev_);
      for (std::size_t i = j.epoch_begin[std::size_t(e)]; i < j.epoch_begin[std::size_t(e) + 1]; ++i) {
        const Transaction& t = j.transactions[i];
        if (t.phase != kStore) continue;
        channel_.lock();
        wait(j.cycle * execute(t));
        channel_.unlock();
        wait(SC_ZERO_TIME);  // let a waiting load take the channel next
      }
    }
    j.end = sc_time_stamp();
    j.done = true;
  }
}

}  // namespace nest_model

namespace {

using i64 = std::int64_t;
using nest_model::Access;
using nest_model::NestJob;
using nest_model::Transaction;

constexpr int kCompute = -1;  // the child "level" of the innermost keeping level

struct TLoop {
  int dim = 0, level = 0;
  i64 factor = 1, stride = 1;
};

// The mapping as loops: temporal loops outermost first, tile extents and spatial fan-outs.
struct Nest {
  int L = 0, D = 0, NDS = 0;
  std::vector<TLoop> loops;                      // temporal, outermost first
  std::array<int, nest::kMaxLevels + 1> above{};  // temporal loops of levels < l (a prefix)
  std::array<std::array<i64, nest::kMaxDims>, nest::kMaxLevels> ext{};  // tile extents at l
  std::array<i64, nest::kMaxLevels> fanout{};     // spatial factors of level l (product)
  std::array<std::array<i64, nest::kMaxDataspaces>, nest::kMaxLevels> shared_fanout{};  // of dims not indexing t
  std::array<i64, nest::kMaxLevels + 1> instances{};  // instances in use of level l (compute: L)
  std::array<std::uint32_t, nest::kMaxDataspaces> dims_of{};  // dims indexing t (bit mask)
};

i64 coef(const nest::Problem& p, const nest::ProjectionTerm& t) {
  return t.coefficient < 0 ? 1 : p.coefficients[std::size_t(t.coefficient)].value;
}

Nest build_nest(const nest::Problem& p, const nest::Architecture& a, const nest::Mapping& m) {
  Nest n;
  n.L = int(a.levels.size());
  n.D = int(p.dims.size());
  n.NDS = int(p.dataspaces.size());
  if (m.n_levels != n.L)
    throw SpecError("mapping", "/mapping", std::to_string(n.L) + " levels (one per storage level)",
                    std::to_string(m.n_levels));
  for (int t = 0; t < n.NDS; ++t)
    for (const nest::Rank& r : p.dataspaces[std::size_t(t)].ranks)
      for (const nest::ProjectionTerm& term : r.terms) n.dims_of[std::size_t(t)] |= 1u << term.dim;
  std::array<i64, nest::kMaxDims> cur{};
  cur.fill(1);
  std::vector<TLoop> inner_first;
  for (int l = n.L - 1; l >= 0; --l) {
    const nest::LevelMapping& lm = m.levels[std::size_t(l)];
    n.fanout[std::size_t(l)] = 1;
    n.shared_fanout[std::size_t(l)].fill(1);
    for (int d = 0; d < n.D; ++d) {
      const i64 f = lm.spatial_x[std::size_t(d)] * lm.spatial_y[std::size_t(d)];
      cur[std::size_t(d)] *= f;
      n.fanout[std::size_t(l)] *= f;
      for (int t = 0; t < n.NDS; ++t)
        if (!(n.dims_of[std::size_t(t)] >> d & 1u)) n.shared_fanout[std::size_t(l)][std::size_t(t)] *= f;
    }
    std::uint32_t seen = 0;
    for (int i = 0; i < n.D; ++i) {
      const int d = lm.permutation[std::size_t(i)];
      if (d < 0 || d >= n.D || (seen >> d & 1u))
        throw SpecError("mapping", "/mapping/levels/" + std::to_string(l) + "/permutation",
                        "a permutation of the problem's dimensions", "dimension index " + std::to_string(d));
      seen |= 1u << d;
      const i64 f = lm.temporal[std::size_t(d)];
      if (f < 1)
        throw SpecError("mapping", "/mapping/levels/" + std::to_string(l) + "/temporal",
                        "factors >= 1", std::to_string(f));
      if (f == 1) continue;
      inner_first.push_back(TLoop{d, l, f, cur[std::size_t(d)]});
      cur[std::size_t(d)] *= f;
    }
    n.ext[std::size_t(l)] = cur;
  }
  for (int d = 0; d < n.D; ++d)
    if (cur[std::size_t(d)] != p.bounds[std::size_t(d)])
      throw SpecError("mapping", "/mapping", "factors of " + p.dims[std::size_t(d)] + " whose product is its bound " +
                                                 std::to_string(p.bounds[std::size_t(d)]),
                      std::to_string(cur[std::size_t(d)]));
  n.loops.assign(inner_first.rbegin(), inner_first.rend());
  for (int l = 0; l <= n.L; ++l) {
    int k = 0;
    while (k < int(n.loops.size()) && n.loops[std::size_t(k)].level < l) ++k;
    n.above[std::size_t(l)] = k;
  }
  n.instances[0] = 1;
  for (int l = 0; l < n.L; ++l) n.instances[std::size_t(l) + 1] = n.instances[std::size_t(l)] * n.fanout[std::size_t(l)];
  return n;
}

// Footprint per rank of dataspace t over extents e (the box a tile spans).
std::vector<i64> rank_extents(const nest::Problem& p, int t, const std::array<i64, nest::kMaxDims>& e) {
  std::vector<i64> out;
  for (const nest::Rank& r : p.dataspaces[std::size_t(t)].ranks) {
    i64 x = 1;
    for (const nest::ProjectionTerm& term : r.terms) x += coef(p, term) * (e[std::size_t(term.dim)] - 1);
    out.push_back(x);
  }
  return out;
}

// What one instance of level l holding t went through (the walk's result).
struct Walk {
  i64 tile = 0;
  std::vector<i64> delivered;  // per epoch: values brought into the tile
  std::vector<i64> refilled;   // per epoch: of those, values of tiles seen before (outputs)
  i64 deliveries = 0, distinct_tiles = 0, steps = 0;
};

// Steps an odometer over the temporal loops above level l and follows t's tile (see the header:
// line-buffer reuse while the translation repeats).
Walk walk_tile(const nest::Problem& p, const Nest& n, int l, int t, int epoch_loops, i64 epochs) {
  Walk w;
  const std::vector<i64> ext = rank_extents(p, t, n.ext[std::size_t(l)]);
  const int R = int(ext.size());
  w.tile = 1;
  for (i64 e : ext) w.tile *= e;
  w.delivered.assign(std::size_t(epochs), 0);
  w.refilled.assign(std::size_t(epochs), 0);
  const bool rw = p.dataspaces[std::size_t(t)].read_write;
  const int nl = n.above[std::size_t(l)];
  // Epoch radix of each walked loop (loops at or beyond epoch_loops do not change the epoch).
  std::vector<i64> radix(std::size_t(nl), 0);
  {
    i64 r = 1;
    for (int k = epoch_loops - 1; k >= 0; --k) {
      if (k < nl) radix[std::size_t(k)] = r;
      r *= n.loops[std::size_t(k)].factor;
    }
  }
  // A tile's key for the visited set: its lower corner in mixed radix of the tensor's ranks.
  std::array<i64, nest::kMaxDims> full{};
  for (int d = 0; d < n.D; ++d) full[std::size_t(d)] = p.bounds[std::size_t(d)];
  const std::vector<i64> span = rank_extents(p, t, full);
  std::unordered_set<i64> visited;

  std::vector<i64> idx(std::size_t(nl), 0), origin(std::size_t(n.D), 0), lo(std::size_t(R), 0), next(static_cast<std::size_t>(R));
  std::vector<i64> last_move(std::size_t(R), 0);
  bool has_move = false;
  auto corner = [&](std::vector<i64>& out) {
    for (int r = 0; r < R; ++r) {
      i64 x = 0;
      for (const nest::ProjectionTerm& term : p.dataspaces[std::size_t(t)].ranks[std::size_t(r)].terms)
        x += coef(p, term) * origin[std::size_t(term.dim)];
      out[std::size_t(r)] = x;
    }
  };
  auto key = [&](const std::vector<i64>& c) {
    i64 k = 0;
    for (int r = 0; r < R; ++r) k = k * span[std::size_t(r)] + c[std::size_t(r)];
    return k;
  };
  auto record = [&](i64 epoch, i64 values, bool first_visit) {
    w.delivered[std::size_t(epoch)] += values;
    w.deliveries += values;
    if (rw) w.refilled[std::size_t(epoch)] += first_visit ? values - w.tile : values;
  };
  // The first tile is brought in whole.
  if (rw) visited.insert(key(lo));
  w.distinct_tiles = 1;
  record(0, w.tile, true);
  i64 epoch = 0;
  for (;;) {
    int k = nl - 1;
    while (k >= 0 && idx[std::size_t(k)] + 1 == n.loops[std::size_t(k)].factor) {
      const TLoop& lp = n.loops[std::size_t(k)];
      origin[std::size_t(lp.dim)] -= (lp.factor - 1) * lp.stride;
      epoch -= idx[std::size_t(k)] * radix[std::size_t(k)];
      idx[std::size_t(k)] = 0;
      --k;
    }
    if (k < 0) break;
    const TLoop& lp = n.loops[std::size_t(k)];
    ++idx[std::size_t(k)];
    origin[std::size_t(lp.dim)] += lp.stride;
    epoch += radix[std::size_t(k)];
    ++w.steps;
    corner(next);
    bool zero = true, same = has_move;
    i64 overlap = 1;
    for (int r = 0; r < R; ++r) {
      const i64 mv = next[std::size_t(r)] - lo[std::size_t(r)];
      zero = zero && mv == 0;
      same = same && mv == last_move[std::size_t(r)];
      const i64 o = ext[std::size_t(r)] - (mv < 0 ? -mv : mv);
      overlap *= o > 0 ? o : 0;
      last_move[std::size_t(r)] = mv;
    }
    i64 values;
    if (!has_move || same) {
      values = w.tile - overlap;  // the window slides: keep the overlap (0 new when stationary)
      has_move = true;
    } else {
      values = w.tile;  // another translation: the line buffer reloads its whole window
      has_move = false;
    }
    lo.swap(next);
    bool first = false;
    if (rw && !zero) {
      first = visited.insert(key(lo)).second;
      if (first) ++w.distinct_tiles;
    } else if (!rw && !zero) {
      ++w.distinct_tiles;
    }
    if (values > 0) record(epoch, values, first);
  }
  return w;
}

}  // namespace

NestSimResult simulate_nest(const nest::Problem& p, const nest::Architecture& a, const nest::Mapping& m,
                            const NestSimOptions& options) {
  const Nest n = build_nest(p, a, m);
  NestSimResult res;
  res.n_levels = n.L;
  i64 macs = 1;
  for (i64 b : p.bounds) macs *= b;
  res.macs = macs;
  res.utilized_compute = n.instances[std::size_t(n.L)];

  // Epochs: the longest prefix of the temporal loops whose iterations fit max_epochs.
  int epoch_loops = 0;
  i64 epochs = 1;
  while (epoch_loops < int(n.loops.size()) &&
         epochs * n.loops[std::size_t(epoch_loops)].factor <= std::max<i64>(1, options.max_epochs))
    epochs *= n.loops[std::size_t(epoch_loops++)].factor;
  i64 steps_per_epoch = 1;
  for (std::size_t k = std::size_t(epoch_loops); k < n.loops.size(); ++k) steps_per_epoch *= n.loops[k].factor;
  res.epochs = epochs;
  res.compute_cycles = double(steps_per_epoch * epochs) * options.cycles_per_mac;

  NestJob job;
  job.cycle = sc_core::sc_time(1, sc_core::SC_NS);
  job.epochs = epochs;
  job.compute_cycles_per_epoch = double(steps_per_epoch) * options.cycles_per_mac;
  job.latency_cycles = options.dram_latency_cycles;
  job.n_levels = n.L;
  for (int l = 0; l < n.L; ++l) {
    const nest::StorageLevel& s = a.levels[std::size_t(l)];
    job.port[std::size_t(l)] = nest_model::Port{s.read_bandwidth_bits, s.write_bandwidth_bits, s.shared_bandwidth_bits,
                                                std::max(1, s.banks)};
    for (int t = 0; t < n.NDS; ++t)
      job.bits[std::size_t(l)][std::size_t(t)] = s.word_bits > 0 ? s.word_bits : p.dataspaces[std::size_t(t)].bits;
  }

  // Per epoch transactions, built tensor by tensor over each tensor's chain of keeping levels.
  std::vector<std::vector<Transaction>> per_epoch(static_cast<std::size_t>(epochs));
  bool slots_ok = true;
  for (int t = 0; t < n.NDS; ++t) {
    const bool rw = p.dataspaces[std::size_t(t)].read_write;
    std::vector<int> chain;
    for (int l = 0; l < n.L; ++l)
      if (l == 0 || (m.levels[std::size_t(l)].keep_mask >> t & 1u)) {
        if (!(a.levels[std::size_t(l)].keep_mask >> t & 1u))
          throw SpecError("mapping", "/mapping/levels/" + std::to_string(l) + "/keep",
                          "data spaces level " + a.levels[std::size_t(l)].name + " may hold",
                          p.dataspaces[std::size_t(t)].name);
        chain.push_back(l);
      }
    std::vector<Walk> walks(std::size_t(n.L));
    for (int l : chain) {
      if (l == 0) {
        const std::vector<i64> ext = rank_extents(p, t, n.ext[0]);
        walks[0].tile = 1;
        for (i64 e : ext) walks[0].tile *= e;
        walks[0].distinct_tiles = 1;
      } else {
        walks[std::size_t(l)] = walk_tile(p, n, l, t, epoch_loops, epochs);
        res.tile_steps += walks[std::size_t(l)].steps;
        if (a.levels[std::size_t(l)].multiple_buffering < 2) slots_ok = false;
      }
    }
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const int l = chain[i];
      const int child = i + 1 < chain.size() ? chain[i + 1] : kCompute;
      const int child_end = child == kCompute ? n.L : child;
      i64 children = 1, shared = 1;
      for (int b = l; b < child_end; ++b) {
        children *= n.fanout[std::size_t(b)];
        shared *= n.shared_fanout[std::size_t(b)][std::size_t(t)];
      }
      const i64 distinct = children / shared;
      NestSimCounts& c = res.levels[std::size_t(l)].ds[std::size_t(t)];
      c.kept = true;
      c.tile_values = walks[std::size_t(l)].tile;
      c.instances = n.instances[std::size_t(l)];
      c.tiles_visited = walks[std::size_t(l)].distinct_tiles;
      // First updates of each value this instance ever holds read nothing (outputs).
      i64 elide = rw ? walks[std::size_t(l)].distinct_tiles * walks[std::size_t(l)].tile : 0;
      for (i64 e = 0; e < epochs; ++e) {
        const i64 child_in = child == kCompute ? steps_per_epoch : walks[std::size_t(child)].delivered[std::size_t(e)];
        const i64 served = child_in * distinct;
        Transaction tx;
        tx.epoch = e;
        if (!rw) {
          if (served > 0) tx.side[std::size_t(tx.n_sides++)] = Access{std::int8_t(l), std::int8_t(t), nest_model::kRead, served};
          if (child != kCompute && child_in > 0)
            tx.side[std::size_t(tx.n_sides++)] = Access{std::int8_t(child), std::int8_t(t), nest_model::kFill, child_in};
          tx.phase = l == 0 ? nest_model::kLoad : nest_model::kCompute;
          if (tx.n_sides > 0) per_epoch[std::size_t(e)].push_back(tx);
          continue;
        }
        // Outputs: the child's refills of partial sums come down (a load when the parent is
        // level 0); what the child received goes back up as the parent's updates, each a
        // read-modify-write except a value's first.
        if (child != kCompute) {
          const i64 refill = walks[std::size_t(child)].refilled[std::size_t(e)];
          if (refill > 0) {
            Transaction down;
            down.epoch = e;
            down.phase = l == 0 ? nest_model::kLoad : nest_model::kCompute;
            down.side[std::size_t(down.n_sides++)] = Access{std::int8_t(child), std::int8_t(t), nest_model::kFill, refill};
            per_epoch[std::size_t(e)].push_back(down);
          }
        }
        if (served > 0) {
          const i64 skip = std::min(elide, served);
          elide -= skip;
          tx.phase = l == 0 ? nest_model::kStore : nest_model::kCompute;
          tx.side[std::size_t(tx.n_sides++)] = Access{std::int8_t(l), std::int8_t(t), nest_model::kUpdate, served};
          if (served - skip > 0)
            tx.side[std::size_t(tx.n_sides++)] = Access{std::int8_t(l), std::int8_t(t), nest_model::kRead, served - skip};
          per_epoch[std::size_t(e)].push_back(tx);
        }
      }
    }
  }
  job.slots = slots_ok ? 2 : 1;
  job.epoch_begin.push_back(0);
  for (auto& v : per_epoch) {
    std::stable_sort(v.begin(), v.end(), [](const Transaction& x, const Transaction& y) { return x.phase < y.phase; });
    job.transactions.insert(job.transactions.end(), v.begin(), v.end());
    job.epoch_begin.push_back(job.transactions.size());
  }
  per_epoch.clear();

  nest_model::run_nest_job(job);

  res.transactions = job.transactions_run;
  res.cycles = (job.end - job.begin) / job.cycle;
  res.prologue_cycles = (job.first_compute - job.begin) / job.cycle;
  res.epilogue_cycles = (job.end - job.last_compute_end) / job.cycle;
  res.burst_stall_cycles = job.burst_stall;
  res.load_wait_cycles = job.load_wait;

  // Counts from what the model moved; energy from the counts.
  double total = 0;
  for (int l = 0; l < n.L; ++l) {
    const nest::StorageLevel& s = a.levels[std::size_t(l)];
    NestSimLevel& lv = res.levels[std::size_t(l)];
    double rd_bits = 0, wr_bits = 0, e = 0;
    bool any = false;
    for (int t = 0; t < n.NDS; ++t) {
      NestSimCounts& c = lv.ds[std::size_t(t)];
      const auto& mv = job.moved[std::size_t(l)][std::size_t(t)];
      c.reads = mv[nest_model::kRead];
      c.fills = mv[nest_model::kFill];
      c.updates = mv[nest_model::kUpdate];
      if (!c.kept) continue;
      any = true;
      const int bits = job.bits[std::size_t(l)][std::size_t(t)];
      rd_bits += double(c.reads) * bits;
      wr_bits += double(c.fills + c.updates) * bits;
      const i64 vpb = std::max(1, s.block_bits / bits);
      auto vec = [vpb](i64 x) { return double((x + vpb - 1) / vpb); };
      c.energy_pj = (vec(c.reads) * s.read_pj + vec(c.fills) * s.write_pj + vec(c.updates) * s.update_pj) * double(c.instances);
      e += c.energy_pj;
    }
    double bw_cycles = 0;
    {
      const nest_model::Port& pt = job.port[std::size_t(l)];
      if (pt.read_bits > 0) bw_cycles = std::max(bw_cycles, rd_bits / (pt.read_bits * pt.banks));
      if (pt.write_bits > 0) bw_cycles = std::max(bw_cycles, wr_bits / (pt.write_bits * pt.banks));
      if (pt.shared_bits > 0) bw_cycles = std::max(bw_cycles, (rd_bits + wr_bits) / (pt.shared_bits * pt.banks));
    }
    lv.transfer_cycles = bw_cycles;
    lv.leak_pj = s.leak_pj * res.cycles * double(any ? n.instances[std::size_t(l)] : 1);
    lv.energy_pj = e + lv.leak_pj;
    total += lv.energy_pj;
  }
  res.compute_energy_pj = double(macs) * a.compute.energy_pj;
  res.energy_pj = total + res.compute_energy_pj;
  return res;
}

}  // namespace mixprec::sim::systemc
