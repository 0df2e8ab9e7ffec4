// SystemC model of a mapped loop nest's transfers (internal: sim/systemc/*.cpp only; the public
// entry is sim/systemc/nest_sim.hpp).
//
//   Loader ──(level-0 channel, shared)──► epoch e staged ──► Compute (epoch e: MAC steps and the
//     ▲ at most `slots` epochs ahead                          on-chip transfers, overlapped)
//     └───────────────────────────────────── Storer ◄── epoch e's level-0 write-backs
//
// Approximately timed: each process advances by whole transactions (a tensor's tiles of one
// epoch between two levels) with wait(sc_time); the level-0 channel is an sc_mutex that loads and
// write-backs take in turn, one transaction at a time. Every transaction's values are counted per
// level, tensor and action where they are moved; the engine prices those counts. The constructor
// only wires; the hierarchy and the mapping come with each job.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <systemc>

#include "sim/nest/nest.hpp"

namespace mixprec::sim::systemc::nest_model {

inline constexpr const char* kIdNest = "mixprec/systemc/nest";

enum Action : int { kRead = 0, kFill = 1, kUpdate = 2, kActions = 3 };
enum Phase : int { kLoad = 0, kCompute = 1, kStore = 2 };

// One access side of a transaction: `values` of dataspace `ds` at `level`, per instance.
struct Access {
  std::int8_t level = 0, ds = 0, action = kRead;
  std::int64_t values = 0;
};

// A transaction: a tensor's tiles moved between two levels during one epoch (its parent's side
// and its child's side). Its duration is the slowest side's bits over that level's bandwidth.
struct Transaction {
  std::int64_t epoch = 0;
  Phase phase = kCompute;
  std::array<Access, 3> side{};
  int n_sides = 0;
};

// Port of one level: bandwidths in bits per cycle (0 = unlimited), banks multiply them.
struct Port {
  double read_bits = 0, write_bits = 0, shared_bits = 0;
  int banks = 1;
};

struct NestJob {
  // Configuration.
  sc_core::sc_time cycle;                           // one clock period of the model
  std::int64_t epochs = 1;
  int slots = 1;                                    // epochs the loader may run ahead
  double compute_cycles_per_epoch = 0;              // MAC steps x cycles per MAC
  double latency_cycles = 0;                        // level-0 read latency
  int n_levels = 0;
  std::array<Port, nest::kMaxLevels> port{};
  std::array<std::array<int, nest::kMaxDataspaces>, nest::kMaxLevels> bits{};  // held bits
  std::vector<Transaction> transactions;            // sorted by (epoch, phase)
  std::vector<std::size_t> epoch_begin;             // epochs + 1 offsets into transactions

  // Observed.
  std::array<std::array<std::array<std::int64_t, kActions>, nest::kMaxDataspaces>, nest::kMaxLevels> moved{};
  sc_core::sc_time begin, end, first_compute, last_compute_end;
  double burst_stall = 0, load_wait = 0;  // cycles
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
  // Counts the transaction's values and returns its duration in cycles (slowest side).
  double execute(const Transaction& t);
  // Cycles level `l` needs for `read` and `write` bits.
  double port_cycles(int level, double read_bits, double write_bits) const;

  NestJob* job_ = nullptr;
  std::int64_t posted_ = 0;
  std::int64_t loaded_ = 0, computed_ = 0;  // epochs of the current job
  std::vector<sc_core::sc_time> ready_at_;
  sc_core::sc_mutex channel_;  // the level-0 channel: loads and write-backs take turns
  sc_core::sc_event job_posted_, loaded_ev_, computed_ev_, stored_ev_;
  std::array<std::int64_t, 3> started_{};  // jobs each process has started
};

// Runs `job` on the process's one elaborated model (sim/systemc/engine.cpp).
void run_nest_job(NestJob& job);

}  // namespace mixprec::sim::systemc::nest_model
