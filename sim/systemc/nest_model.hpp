// SystemC model of a mapped loop nest's transfers (internal: sim/systemc/*.cpp only; the public
// entry is sim/systemc/nest_sim.hpp).
//
//   Loader ──(level-0 channel, shared)──► tiles staged ──► Compute (epoch by epoch: MAC steps)
//     ▲ a tile's load may start once the buffer half it overwrites is free     │ started / done
//     └──────────────────────────────────────── Storer ◄── level-0 write-backs of tiles whose last epoch is done
//   Port l (one per on-chip level): moves its side of every on-chip transfer, in order, each
//   inside its window of epochs (open from the compute's start of `lo`, due before it starts
//   epoch hi + 1): a double-buffered level fills the next tile during the current one; a
//   single-buffered one, and operands streamed to the MACs, within the epoch they serve.
//
// Approximately timed: each process advances by whole transactions (a tensor's tiles of one
// epoch at one level) with wait(sc_time); the level-0 channel is a resource that loads and
// write-backs take in turn. Every transaction's values are counted per level, tensor and action
// where they are moved; the engine prices those counts. The constructor only wires; the
// hierarchy and the mapping come with each job.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <systemc>

#include "sim/nest/nest.hpp"

namespace mixprec::sim::systemc::nest_model {

inline constexpr const char* kIdNest = "mixprec/systemc/nest";

enum Action : int { kRead = 0, kFill = 1, kUpdate = 2, kActions = 3 };

// One access side of a transfer: `values` of dataspace `ds` at `level`, per instance.
// `handover`: a between-layer hand-over's value at the input-buffer level (the consumer's input
// read there instead of at level 0, the producer's output written there), counted apart
// (NestJob::handover_moved) at the stored bits (NestJob::handover_bits).
struct Access {
  std::int8_t level = 0, ds = 0, action = kRead;
  bool handover = false;
  std::int64_t values = 0;
};

// A level-0 transaction (a load, or a write-back), with both of its sides.
struct Transaction {
  std::int64_t epoch = 0;
  // A load may start once the compute has started epoch `after_started` (-1: at once) and
  // finished `after_computed` epochs; a write-back once it has finished `after_computed` epochs
  // (its tile's last epoch).
  std::int64_t after_started = -1, after_computed = 0;
  std::array<Access, 3> side{};
  int n_sides = 0;
  bool onchip = false;  // no level-0 side (a hand-over): neither the channel nor its latency
};

// An on-chip port's share of a transfer, movable inside its window [lo, hi] of epochs.
struct Item {
  std::int64_t lo = 0, hi = 0;
  Access access;
};

// Port of one level: bandwidths in bits per cycle (0 = unlimited), banks multiply them.
struct Port {
  double read_bits = 0, write_bits = 0, shared_bits = 0;
  int banks = 1;
};

inline constexpr int kMaxPorts = nest::kMaxLevels;

struct NestJob {
  // Configuration.
  sc_core::sc_time cycle;                           // one clock period of the model
  std::int64_t epochs = 1;
  double compute_cycles_per_epoch = 0;              // MAC steps x cycles per MAC
  double latency_cycles = 0;                        // level-0 read latency
  int n_levels = 0;
  std::array<Port, nest::kMaxLevels> port{};
  std::array<std::array<int, nest::kMaxDataspaces>, nest::kMaxLevels> bits{};  // held bits
  std::array<int, kActions> handover_bits{};       // bits of a hand-over access, per action
  std::vector<Transaction> loads, stores;           // in epoch order
  std::array<std::vector<Item>, kMaxPorts> items;   // per on-chip level, in window order
  // need[l][e]: items of port l that must be done before the compute starts epoch e.
  std::array<std::vector<std::size_t>, kMaxPorts> need;

  // Observed.
  std::array<std::array<std::array<std::int64_t, kActions>, nest::kMaxDataspaces>, nest::kMaxLevels> moved{};
  std::array<std::int64_t, kActions> handover_moved{};  // hand-over values moved, per action
  std::array<double, nest::kMaxLevels> busy{};      // cycles each level's port moved data
  sc_core::sc_time begin, end, first_compute, last_compute_end;
  double port_wait = 0, load_wait = 0;  // cycles the compute waited for on-chip ports / loads
  std::int64_t transactions_run = 0;
  bool done = false;
};

class NestAccelerator : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(NestAccelerator);
  explicit NestAccelerator(sc_core::sc_module_name name);
  // Host side, while the kernel is paused: runs the job to its end.
  void run(NestJob& job);

 private:
  void loader();
  void compute();
  void storer();
  void port(int level);
  void port1() { port(1); }
  void port2() { port(2); }
  void port3() { port(3); }
  void port4() { port(4); }
  void port5() { port(5); }
  void port6() { port(6); }
  void port7() { port(7); }
  // Counts a level-0 transaction's sides; returns the cycles each level's port needs for them.
  std::array<double, nest::kMaxLevels> transfer(const Transaction& t);
  // Counts the access and returns the cycles its bits take at its level's port.
  double move(const Access& a);
  // Counts the access; returns its bits.
  double count(const Access& a);
  // Moves a level-0 transaction: the channel (unless on chip) and every on-chip port it touches
  // at once, each held for its own cycles (the transfer streams: max, not the sum), in bursts.
  // A load (`load`) that is a prefetch moves in bursts, each once no port it writes into owes the
  // next epoch a transfer (must_yield).
  void dma(const Transaction& t, const std::array<double, nest::kMaxLevels>& cycles, bool load);
  bool must_yield(const Transaction& t) const;
  // Bursts a transfer of `cycles` moves in (an eighth of an epoch's compute each, at least one;
  // halving them changes no layer of the default scenario by more than 1.5%).
  int bursts(double cycles) const;
  // Time of burst k of `pieces` of a transfer of `cycles`.
  sc_core::sc_time share(double cycles, int k, int pieces) const;
  // Cycles level `l` needs for `read` and `write` bits.
  double port_cycles(int level, double read_bits, double write_bits) const;
  void wait_job(std::int64_t& handled);

  NestJob* job_ = nullptr;
  std::int64_t posted_ = 0;
  std::int64_t loaded_ = 0, started_ = 0, computed_ = 0, stored_ = 0;  // epochs of the current job
  std::array<std::size_t, kMaxPorts> done_{};                          // items done per port
  // busy_[0]: the level-0 channel (loads and write-backs take turns); busy_[l]: on-chip level l's
  // port (its items and the DMA transfers into or out of it). A transfer takes every resource it
  // needs at once, when all are free (a DMA transfer holding the channel while it waits for a
  // port would idle the channel, and the reverse the port).
  // Granted in request order: a request takes its resources once they are free and no older
  // waiting request needs any of them (the oldest request always proceeds: no deadlock, and a
  // transfer needing two resources is not starved by takers of one).
  std::array<bool, kMaxPorts> busy_{};
  struct Request {
    std::uint64_t ticket;
    std::uint32_t levels;
  };
  std::vector<Request> waiting_;
  std::uint64_t next_ticket_ = 0;
  sc_core::sc_event freed_ev_;
  void take(std::uint32_t levels);  // bit l: resource l
  void give(int level);
  sc_core::sc_event job_posted_, loaded_ev_, started_ev_, computed_ev_, port_ev_, stored_ev_;
};

// Runs `job` on the process's one elaborated model (sim/systemc/engine.cpp).
void run_nest_job(NestJob& job);

}  // namespace mixprec::sim::systemc::nest_model
