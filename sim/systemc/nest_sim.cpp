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
  SC_THREAD(port1);
  SC_THREAD(port2);
  SC_THREAD(port3);
  SC_THREAD(port4);
  SC_THREAD(port5);
  SC_THREAD(port6);
  SC_THREAD(port7);
}

void NestAccelerator::run(NestJob& job) {
  bool ok = job.epochs >= 1 && job.n_levels >= 1 && job.n_levels <= kMaxPorts;
  for (int l = 0; ok && l < kMaxPorts; ++l) ok = job.need[std::size_t(l)].size() == std::size_t(job.epochs) + 1;
  if (!ok) SC_REPORT_ERROR(kIdNest, "nest job without epochs, levels or per-epoch port requirements");
  job_ = &job;
  job.done = false;
  loaded_ = started_ = computed_ = stored_ = 0;
  done_.fill(0);
  busy_.fill(false);
  waiting_.clear();
  job.begin = sc_time_stamp();
  ++posted_;
  job_posted_.notify(SC_ZERO_TIME);
  sc_core::sc_start();
}

void NestAccelerator::wait_job(std::int64_t& handled) {
  while (posted_ == handled) wait(job_posted_);
  ++handled;
}

double NestAccelerator::port_cycles(int level, double read_bits, double write_bits) const {
  const Port& p = job_->port[std::size_t(level)];
  double c = 0;
  if (p.read_bits > 0) c = std::max(c, read_bits / (p.read_bits * p.banks));
  if (p.write_bits > 0) c = std::max(c, write_bits / (p.write_bits * p.banks));
  if (p.shared_bits > 0) c = std::max(c, (read_bits + write_bits) / (p.shared_bits * p.banks));
  return c;
}

std::array<double, nest::kMaxLevels> NestAccelerator::transfer(const Transaction& t) {
  std::array<double, nest::kMaxLevels> rd{}, wr{}, cycles{};
  NestJob& j = *job_;
  for (int s = 0; s < t.n_sides; ++s) {
    const Access& a = t.side[std::size_t(s)];
    const double bits = count(a);
    (a.action == kRead ? rd : wr)[std::size_t(a.level)] += bits;
  }
  for (int l = 0; l < j.n_levels; ++l)
    if (rd[std::size_t(l)] + wr[std::size_t(l)] > 0) {
      cycles[std::size_t(l)] = port_cycles(l, rd[std::size_t(l)], wr[std::size_t(l)]);  // sides at one level share it
      j.busy[std::size_t(l)] += cycles[std::size_t(l)];
    }
  ++j.transactions_run;
  return cycles;
}

double NestAccelerator::count(const Access& a) {
  NestJob& j = *job_;
  if (a.handover) {
    j.handover_moved[std::size_t(a.action)] += a.values;
    return double(a.values) * j.handover_bits[std::size_t(a.action)];
  }
  j.moved[std::size_t(a.level)][std::size_t(a.ds)][std::size_t(a.action)] += a.values;
  return double(a.values) * j.bits[std::size_t(a.level)][std::size_t(a.ds)];
}

double NestAccelerator::move(const Access& a) {
  NestJob& j = *job_;
  const double bits = count(a);
  const double c = a.action == kRead ? port_cycles(a.level, bits, 0) : port_cycles(a.level, 0, bits);
  j.busy[std::size_t(a.level)] += c;
  return c;
}

void NestAccelerator::take(std::uint32_t levels) {
  const std::uint64_t ticket = next_ticket_++;
  waiting_.push_back(Request{ticket, levels});
  auto granted = [&] {
    for (int l = 0; l < kMaxPorts; ++l)
      if ((levels >> l & 1u) && busy_[std::size_t(l)]) return false;
    for (const Request& r : waiting_)
      if (r.ticket < ticket && (r.levels & levels) != 0) return false;
    return true;
  };
  while (!granted()) wait(freed_ev_);
  for (int l = 0; l < kMaxPorts; ++l)
    if (levels >> l & 1u) busy_[std::size_t(l)] = true;
  waiting_.erase(std::find_if(waiting_.begin(), waiting_.end(), [&](const Request& r) { return r.ticket == ticket; }));
}

void NestAccelerator::give(int level) {
  busy_[std::size_t(level)] = false;
  freed_ev_.notify(SC_ZERO_TIME);
}

int NestAccelerator::bursts(double cycles) const {
  const double burst = std::max(1.0, job_->compute_cycles_per_epoch / 8);
  return std::max(1, int(std::ceil(cycles / burst - 1e-9)));
}

sc_time NestAccelerator::share(double cycles, int k, int pieces) const {
  // Differences of the rounded running total: the bursts add up to the transfer's time exactly.
  return job_->cycle * (cycles * (k + 1) / pieces) - job_->cycle * (cycles * k / pieces);
}

bool NestAccelerator::must_yield(const Transaction& t) const {
  const NestJob& j = *job_;
  if (t.epoch <= started_) return false;  // needed by the next epoch: a demand fetch
  const std::size_t next = std::size_t(std::min(started_, j.epochs));
  for (int s = 0; s < t.n_sides; ++s) {
    const std::size_t l = std::size_t(t.side[std::size_t(s)].level);
    if (l > 0 && done_[l] < j.need[l][next]) return true;
  }
  return false;
}

void NestAccelerator::dma(const Transaction& t, const std::array<double, nest::kMaxLevels>& c, bool load) {
  // A DMA transfer streams: its words are written into the receiving level (or read from the
  // sending one) while the channel moves the next ones, so it ends at max(channel, port)
  // cycles, not at their sum (moving it over the channel first and through the port after
  // charged both). It takes the channel and its ports together (take: in request order, when all
  // are free) and gives each back once its own share has moved.
  //
  // It moves in bursts (bursts()), as every port transfer does, so transfers sharing a port or
  // the channel interleave instead of one waiting for the whole of another. A prefetch (a load
  // of a tile for a later epoch than the next one) yields to demand transfers: each of its
  // bursts waits until no port it writes into owes the next epoch a transfer (operands and
  // partial sums of the epoch in progress), so it fills the ports' idle time instead of taking
  // turns with the demand transfers and stretching the epoch.
  double longest = 0;
  for (int l = 0; l < job_->n_levels; ++l) longest = std::max(longest, c[std::size_t(l)]);
  const int pieces = bursts(longest);
  for (int k = 0; k < pieces; ++k) {
    if (load)
      while (must_yield(t)) wait(port_ev_ | started_ev_);
    std::array<std::pair<sc_time, int>, nest::kMaxLevels + 1> held{};  // (share, level); level 0: the channel
    int n = 0;
    std::uint32_t need = 0;
    for (int l = t.onchip ? 1 : 0; l < job_->n_levels; ++l)
      if (l == 0 || c[std::size_t(l)] > 0) {
        need |= 1u << l;
        held[std::size_t(n++)] = {share(c[std::size_t(l)], k, pieces), l};
      }
    take(need);
    // Shortest share first (insertion sort of at most kMaxLevels entries).
    for (int a = 1; a < n; ++a)
      for (int b = a; b > 0 && held[std::size_t(b)].first < held[std::size_t(b - 1)].first; --b)
        std::swap(held[std::size_t(b)], held[std::size_t(b - 1)]);
    sc_time elapsed = SC_ZERO_TIME;
    for (int i = 0; i < n; ++i) {
      const auto [d, l] = held[std::size_t(i)];
      if (d > elapsed) {
        wait(d - elapsed);
        elapsed = d;
      }
      give(l);
    }
    if (k + 1 < pieces) wait(SC_ZERO_TIME);  // let a waiting transfer in between bursts
  }
}

void NestAccelerator::loader() {
  std::int64_t handled = 0;
  for (;;) {
    wait_job(handled);
    NestJob& j = *job_;
    std::size_t i = 0;
    for (std::int64_t e = 0; e < j.epochs; ++e) {
      for (; i < j.loads.size() && j.loads[i].epoch == e; ++i) {
        const Transaction& t = j.loads[i];
        // The DMA knows the schedule and issues each request ahead, so its data lands as soon as
        // the buffer slot it overwrites is free; only the first data waits the latency.
        while (started_ <= t.after_started || computed_ < t.after_computed) wait(started_ev_ | computed_ev_);
        const sc_time lands = j.begin + j.cycle * j.latency_cycles;
        if (!t.onchip && lands > sc_time_stamp()) wait(lands - sc_time_stamp());
        dma(t, transfer(t), true);
        wait(SC_ZERO_TIME);  // let a waiting write-back take the channel next
      }
      loaded_ = e + 1;
      loaded_ev_.notify(SC_ZERO_TIME);
    }
  }
}

void NestAccelerator::port(int level) {
  std::int64_t handled = 0;
  for (;;) {
    wait_job(handled);
    NestJob& j = *job_;
    const std::vector<Item>& items = j.items[std::size_t(level)];
    for (std::size_t i = 0; i < items.size(); ++i) {
      while (started_ <= items[i].lo) wait(started_ev_);
      // In bursts, so that the DMA transfers sharing the port interleave with the item instead
      // of waiting for all of it (an epoch's operands and the next tile's fill share the port
      // within the epoch, as the hardware's arbiter interleaves them).
      const double cycles = move(items[i].access);
      const int pieces = bursts(cycles);
      for (int k = 0; k < pieces; ++k) {
        if (k > 0) wait(SC_ZERO_TIME);
        take(1u << level);
        wait(share(cycles, k, pieces));
        give(level);
      }
      ++j.transactions_run;
      done_[std::size_t(level)] = i + 1;
      port_ev_.notify(SC_ZERO_TIME);
      wait(SC_ZERO_TIME);  // let a waiting load take the port next
    }
  }
}

void NestAccelerator::compute() {
  std::int64_t handled = 0;
  for (;;) {
    wait_job(handled);
    NestJob& j = *job_;
    for (std::int64_t e = 0; e < j.epochs; ++e) {
      sc_time now = sc_time_stamp();
      while (loaded_ <= e) wait(loaded_ev_);
      if (e > 0) j.load_wait += (sc_time_stamp() - now) / j.cycle;
      // Every on-chip transfer due before this epoch has been moved.
      now = sc_time_stamp();
      for (int l = 1; l < j.n_levels; ++l)
        while (done_[std::size_t(l)] < j.need[std::size_t(l)][std::size_t(e)]) wait(port_ev_);
      if (e > 0) j.port_wait += (sc_time_stamp() - now) / j.cycle;
      if (e == 0) j.first_compute = sc_time_stamp();
      started_ = e + 1;
      started_ev_.notify(SC_ZERO_TIME);
      wait(j.cycle * j.compute_cycles_per_epoch);
      j.last_compute_end = sc_time_stamp();
      computed_ = e + 1;
      computed_ev_.notify(SC_ZERO_TIME);
    }
    // The transfers due with the last epoch.
    const sc_time now = sc_time_stamp();
    for (int l = 1; l < j.n_levels; ++l)
      while (done_[std::size_t(l)] < j.need[std::size_t(l)][std::size_t(j.epochs)]) wait(port_ev_);
    j.port_wait += (sc_time_stamp() - now) / j.cycle;
    j.last_compute_end = sc_time_stamp();
    computed_ = j.epochs + 1;  // the compute side is finished
    computed_ev_.notify(SC_ZERO_TIME);
  }
}

void NestAccelerator::storer() {
  std::int64_t handled = 0;
  for (;;) {
    wait_job(handled);
    NestJob& j = *job_;
    // In the order their tiles are finished (NestJob::stores is sorted by after_computed).
    // A tile goes out once its last update is in: the compute has finished its last epoch and
    // the ports have moved the updates due with it (they may lag the MACs).
    auto updated = [&](std::int64_t after) {
      if (computed_ < after) return false;
      for (int l = 1; l < j.n_levels; ++l)
        if (done_[std::size_t(l)] < j.need[std::size_t(l)][std::size_t(after)]) return false;
      return true;
    };
    for (const Transaction& t : j.stores) {
      while (!updated(t.after_computed)) wait(computed_ev_ | port_ev_);
      dma(t, transfer(t), false);  // level-0 sides (and a hand-over's)
      wait(SC_ZERO_TIME);  // let a waiting load take the channel next
    }
    while (computed_ <= j.epochs) wait(computed_ev_);
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

Nest build_nest(const nest::Problem& p, const nest::Architecture& a, const nest::Mapping& m, const std::string& file) {
  Nest n;
  n.L = int(a.levels.size());
  n.D = int(p.dims.size());
  n.NDS = int(p.dataspaces.size());
  if (m.n_levels != n.L)
    throw SpecError(file, "/mapping", std::to_string(n.L) + " levels (one per storage level)",
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
        throw SpecError(file, "/mapping/levels/" + std::to_string(l) + "/permutation",
                        "a permutation of the problem's dimensions", "dimension index " + std::to_string(d));
      seen |= 1u << d;
      const i64 f = lm.temporal[std::size_t(d)];
      if (f < 1)
        throw SpecError(file, "/mapping/levels/" + std::to_string(l) + "/temporal",
                        "factors >= 1", std::to_string(f));
      if (f == 1) continue;
      inner_first.push_back(TLoop{d, l, f, cur[std::size_t(d)]});
      cur[std::size_t(d)] *= f;
    }
    n.ext[std::size_t(l)] = cur;
  }
  for (int d = 0; d < n.D; ++d)
    if (cur[std::size_t(d)] != p.bounds[std::size_t(d)])
      throw SpecError(file, "/mapping", "factors of " + p.dims[std::size_t(d)] + " whose product is its bound " +
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
  const Nest n = build_nest(p, a, m, options.file);
  const std::string& file = options.file;
  NestSimResult res;
  res.n_levels = n.L;
  i64 macs = 1;
  for (i64 b : p.bounds) macs *= b;
  res.macs = macs;
  res.utilized_compute = n.instances[std::size_t(n.L)];

  // Epochs: the longest prefix of the temporal loops whose iterations fit max_epochs.
  i64 total_steps = 1;
  for (const TLoop& lp : n.loops) total_steps *= lp.factor;
  int epoch_loops = 0;
  i64 epochs = 1;
  while (epoch_loops < int(n.loops.size())) {
    const i64 f = n.loops[std::size_t(epoch_loops)].factor;
    if (epochs * f > std::max<i64>(1, options.max_epochs)) break;
    if (epochs >= options.min_epochs && total_steps / (epochs * f) < options.min_epoch_steps) break;
    epochs *= f;
    ++epoch_loops;
  }
  const i64 steps_per_epoch = total_steps / epochs;
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
  const int hl = options.handover_level;
  if (hl >= 0) {
    MIXPREC_CHECK(hl < n.L && options.input_dataspace < n.NDS && options.output_dataspace < n.NDS &&
                      (options.input_dataspace < 0 || options.input_stored_bits > 0),
                  "a hand-over level, data spaces and stored bits of this nest");
    job.handover_bits[nest_model::kRead] = options.input_stored_bits;
    if (options.output_dataspace >= 0)
      job.handover_bits[nest_model::kFill] = p.dataspaces[std::size_t(options.output_dataspace)].bits;
  }
  const bool in_handover = hl >= 0 && options.input_dataspace >= 0;
  const bool out_handover = hl >= 0 && options.output_dataspace >= 0;

  // The transfers, tensor by tensor over each tensor's chain of keeping levels: level-0 sides go
  // to the loader (fills) and the storer (write-backs), on-chip sides to their level's port with
  // the window of epochs the level's buffering allows.
  using nest_model::Item;
  std::vector<Transaction> loads, stores;
  for (int t = 0; t < n.NDS; ++t) {
    const bool rw = p.dataspaces[std::size_t(t)].read_write;
    std::vector<int> chain;
    for (int l = 0; l < n.L; ++l)
      if (l == 0 || (m.levels[std::size_t(l)].keep_mask >> t & 1u)) {
        if (!(a.levels[std::size_t(l)].keep_mask >> t & 1u))
          throw SpecError(file, "/mapping/levels/" + std::to_string(l) + "/keep",
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
      // The child's deliveries (its tile changes there). A multiple-buffered child holds as many
      // tiles as its capacity allows (a ring of tiles, at least two): the tile for delivery j may
      // move once the compute has started the epoch of delivery j - (slots - 1), whose arrival
      // freed the slot j reuses. prev_in[e]: that epoch (-1: at once); next_in[e]: the next
      // delivery after e (a drain's deadline); last_of[e]: the last epoch the tile delivered in
      // e is in use (its values' last updates), the epoch before the next delivery.
      const bool child_buffered = child != kCompute && a.levels[std::size_t(child)].multiple_buffering >= 2;
      std::vector<i64> prev_in(std::size_t(epochs), -1), next_in(std::size_t(epochs), epochs - 1);
      std::vector<i64> last_of(static_cast<std::size_t>(epochs));
      for (i64 e = 0; e < epochs; ++e) last_of[std::size_t(e)] = e;  // the MACs: within the epoch
      if (child != kCompute) {
        const nest::StorageLevel& cs = a.levels[std::size_t(child)];
        i64 tile_bits = 0;
        for (int u = 0; u < n.NDS; ++u)
          if (m.levels[std::size_t(child)].keep_mask >> u & 1u) {
            const std::vector<i64> ext = rank_extents(p, u, n.ext[std::size_t(child)]);
            i64 values = 1;
            for (i64 x : ext) values *= x;
            tile_bits += values * job.bits[std::size_t(child)][std::size_t(u)];
          }
        const i64 slots = cs.depth <= 0 || tile_bits <= 0 ? epochs + 1
                                                          : std::max<i64>(2, cs.capacity_bits() / tile_bits);
        const std::vector<i64>& dl = walks[std::size_t(child)].delivered;
        std::vector<i64> arrivals;
        for (i64 e = 0; e < epochs; ++e)
          if (dl[std::size_t(e)] > 0) {
            const i64 j = i64(arrivals.size());
            prev_in[std::size_t(e)] = j - (slots - 1) >= 0 ? arrivals[std::size_t(j - (slots - 1))] : -1;
            arrivals.push_back(e);
          }
        for (i64 e = epochs - 2, nxt = epochs - 1; e >= 0; --e) {
          if (dl[std::size_t(e + 1)] > 0) nxt = e + 1;
          next_in[std::size_t(e)] = nxt;
        }
        for (i64 e = epochs - 1, nxt = epochs; e >= 0; --e) {
          last_of[std::size_t(e)] = nxt - 1;
          if (dl[std::size_t(e)] > 0) nxt = e;
        }
      }
      // A fill of the child's tile for epoch e: double-buffered, it may move while the previous
      // tile is in use (from the epoch that tile arrived); otherwise within epoch e (operands
      // streamed to the MACs too).
      auto fill_window = [&](i64 e) { return child_buffered ? std::make_pair(prev_in[std::size_t(e)], e - 1) : std::make_pair(e, e); };
      auto load = [&](i64 e, std::initializer_list<Access> sides, bool onchip) {
        Transaction tx;
        tx.epoch = e;
        tx.onchip = onchip;
        if (child == kCompute) tx.after_started = e - 1;  // operands prefetched one epoch ahead
        else if (child_buffered) tx.after_started = prev_in[std::size_t(e)];
        else tx.after_computed = e;
        for (const Access& s : sides) tx.side[std::size_t(tx.n_sides++)] = s;
        loads.push_back(tx);
      };
      auto item = [&](int level, std::pair<i64, i64> w, const Access& acc) {
        job.items[std::size_t(level)].push_back(Item{w.first, w.second, acc});
      };
      const auto L8 = std::int8_t(l), T8 = std::int8_t(t), C8 = std::int8_t(child);
      // First updates of each value this instance ever holds read nothing (outputs): skip[e] of
      // the updates served in epoch e. They are placed where the values are first touched, which
      // decides which transfer (and so which epoch's port or channel time) carries the
      // read-modify-write reads; piling them all on the first epochs' updates made the early
      // write-backs light and the later ones heavy, a timing error (the totals are the same).
      // Below a child, the values a child's tile brings in for the first time (its first visit
      // of that tile, over the whole run) are first updated here when that tile goes back up;
      // with the MACs below, a value is first touched when this level's own tile first holds it.
      // Level 0 above the MACs has no walk: in order. Any rest (tiles that do not line up) goes
      // to the earliest updates still reading, as before.
      std::vector<i64> served_in(std::size_t(epochs), 0), skip(std::size_t(epochs), 0);
      if (rw) {
        i64 elide = walks[std::size_t(l)].distinct_tiles * walks[std::size_t(l)].tile;
        for (i64 e = 0; e < epochs; ++e) {
          const i64 child_in = child == kCompute ? steps_per_epoch : walks[std::size_t(child)].delivered[std::size_t(e)];
          served_in[std::size_t(e)] = child_in * distinct;
          i64 first = served_in[std::size_t(e)];
          if (child != kCompute) {
            const Walk& cw = walks[std::size_t(child)];
            first = (cw.delivered[std::size_t(e)] - cw.refilled[std::size_t(e)]) * distinct;
          } else if (l != 0) {
            const Walk& w = walks[std::size_t(l)];
            first = w.delivered[std::size_t(e)] - w.refilled[std::size_t(e)];
          }
          const i64 k = std::max<i64>(0, std::min({elide, first, served_in[std::size_t(e)]}));
          skip[std::size_t(e)] = k;
          elide -= k;
        }
        for (i64 e = 0; e < epochs && elide > 0; ++e) {
          const i64 k = std::min(elide, served_in[std::size_t(e)] - skip[std::size_t(e)]);
          skip[std::size_t(e)] += k;
          elide -= k;
        }
      }
      // A hand-over's output: the last update of each value at level 0 (the last `tile` values
      // updated there in the run) goes to the hand-over level instead.
      std::vector<i64> final_values(std::size_t(epochs), 0);
      if (rw && l == 0 && out_handover && t == options.output_dataspace) {
        i64 left = walks[0].tile;
        for (i64 e = epochs - 1; e >= 0 && left > 0; --e) {
          const i64 child_in = child == kCompute ? steps_per_epoch : walks[std::size_t(child)].delivered[std::size_t(e)];
          const i64 f = std::min(left, child_in * distinct);
          final_values[std::size_t(e)] = f;
          left -= f;
        }
      }
      for (i64 e = 0; e < epochs; ++e) {
        const i64 child_in = child == kCompute ? steps_per_epoch : walks[std::size_t(child)].delivered[std::size_t(e)];
        const i64 served = child_in * distinct;
        if (!rw) {
          if (served == 0) continue;
          // A hand-over's input: read where it already is instead of at level 0.
          const bool h = l == 0 && in_handover && t == options.input_dataspace;
          const Access rd = h ? Access{std::int8_t(hl), T8, nest_model::kRead, true, served}
                              : Access{L8, T8, nest_model::kRead, false, served};
          if (child == kCompute) {
            if (l == 0) load(e, {rd}, h);
            else item(l, {e, e}, rd);
            continue;
          }
          const Access fill{C8, T8, nest_model::kFill, false, child_in};
          if (l == 0) {
            load(e, {rd, fill}, h);
          } else {
            item(l, fill_window(e), rd);
            item(child, fill_window(e), fill);
          }
          continue;
        }
        // Outputs: the child's refills of partial sums come down (a load when the parent is
        // level 0); what the child received goes back up as the parent's updates, each a
        // read-modify-write except a value's first.
        if (child != kCompute) {
          const i64 refill = walks[std::size_t(child)].refilled[std::size_t(e)];
          if (refill > 0) {
            const Access fill{C8, T8, nest_model::kFill, false, refill};
            if (l == 0) load(e, {fill}, false);
            else item(child, fill_window(e), fill);
          }
        }
        if (served == 0) continue;
        const i64 fin = final_values[std::size_t(e)];
        const Access up{L8, T8, nest_model::kUpdate, false, served - fin};
        const Access rd{L8, T8, nest_model::kRead, false, served - skip[std::size_t(e)]};
        // The tile's values go up once its last update is done: after its last epoch, not after
        // the epoch it arrived in (a tile in use over several epochs was written back early).
        const i64 last = last_of[std::size_t(e)];
        if (l == 0) {
          Transaction tx;
          tx.epoch = e;
          tx.after_computed = last + 1;
          if (up.values > 0) tx.side[std::size_t(tx.n_sides++)] = up;
          if (rd.values > 0) tx.side[std::size_t(tx.n_sides++)] = rd;
          if (fin > 0)
            tx.side[std::size_t(tx.n_sides++)] = Access{std::int8_t(hl), T8, nest_model::kFill, true, fin};
          tx.onchip = up.values == 0 && rd.values == 0;
          stores.push_back(tx);
        } else {
          // A double-buffered child drains a tile while it works on the next one (from the
          // start of the epoch after the tile's last, due before the one after; the run's last
          // tile within the last epoch); a single-buffered one within the tile's last epoch.
          const std::pair<i64, i64> w = child_buffered ? std::make_pair(std::min(last + 1, epochs - 1), next_in[std::size_t(e)])
                                                       : std::make_pair(last, last);
          item(l, w, up);
          if (rd.values > 0) item(l, w, rd);
        }
      }
    }
  }
  auto by_epoch = [](const Transaction& x, const Transaction& y) { return x.epoch < y.epoch; };
  std::stable_sort(loads.begin(), loads.end(), by_epoch);
  std::stable_sort(stores.begin(), stores.end(),
                   [](const Transaction& x, const Transaction& y) { return x.after_computed < y.after_computed; });
  job.loads = std::move(loads);
  job.stores = std::move(stores);
  for (int l = 0; l < nest_model::kMaxPorts; ++l) {
    std::vector<Item>& items = job.items[std::size_t(l)];
    std::stable_sort(items.begin(), items.end(),
                     [](const Item& x, const Item& y) { return x.lo != y.lo ? x.lo < y.lo : x.hi < y.hi; });
    // need[e] = items up to the last one due before epoch e (hi <= e - 1), in port order.
    std::vector<std::size_t> last(std::size_t(epochs) + 1, 0);
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::size_t h = std::size_t(std::min(items[i].hi, epochs - 1) + 1);
      last[h] = std::max(last[h], i + 1);
    }
    std::vector<std::size_t>& need = job.need[std::size_t(l)];
    need.assign(std::size_t(epochs) + 1, 0);
    std::size_t run = 0;
    for (i64 e = 0; e <= epochs; ++e) {
      run = std::max(run, last[std::size_t(e)]);
      need[std::size_t(e)] = run;
    }
  }

  nest_model::run_nest_job(job);

  res.transactions = job.transactions_run;
  res.cycles = (job.end - job.begin) / job.cycle;
  res.prologue_cycles = (job.first_compute - job.begin) / job.cycle;
  res.epilogue_cycles = (job.end - job.last_compute_end) / job.cycle;
  res.port_wait_cycles = job.port_wait;
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
    if (l == hl) {
      // The hand-over's accesses at this level, at their stored bits.
      NestSimHandover& h = res.handover;
      h.reads = job.handover_moved[nest_model::kRead];
      h.writes = job.handover_moved[nest_model::kFill];
      h.read_bits = job.handover_bits[nest_model::kRead];
      h.write_bits = job.handover_bits[nest_model::kFill];
      auto vec = [&](i64 x, int bits) {
        const i64 vpb = std::max(1, s.block_bits / std::max(1, bits));
        return double((x + vpb - 1) / vpb);
      };
      h.energy_pj = vec(h.reads, h.read_bits) * s.read_pj + vec(h.writes, h.write_bits) * s.write_pj;
      e += h.energy_pj;
      rd_bits += double(h.reads) * h.read_bits;
      wr_bits += double(h.writes) * h.write_bits;
    }
    double bw_cycles = 0;
    {
      const nest_model::Port& pt = job.port[std::size_t(l)];
      if (pt.read_bits > 0) bw_cycles = std::max(bw_cycles, rd_bits / (pt.read_bits * pt.banks));
      if (pt.write_bits > 0) bw_cycles = std::max(bw_cycles, wr_bits / (pt.write_bits * pt.banks));
      if (pt.shared_bits > 0) bw_cycles = std::max(bw_cycles, (rd_bits + wr_bits) / (pt.shared_bits * pt.banks));
    }
    lv.transfer_cycles = bw_cycles;
    lv.busy_cycles = job.busy[std::size_t(l)];
    lv.leak_pj = s.leak_pj * res.cycles * double(any ? n.instances[std::size_t(l)] : 1);
    lv.energy_pj = e + lv.leak_pj;
    total += lv.energy_pj;
  }
  res.compute_energy_pj = double(macs) * a.compute.energy_pj;
  res.energy_pj = total + res.compute_energy_pj;
  return res;
}

}  // namespace mixprec::sim::systemc
