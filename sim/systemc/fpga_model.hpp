// SystemC model of the FPGA LSTM template (internal: sim/systemc/*.cpp only). Cycle-level and
// event-driven where the closed form (sim/fpga.hpp) assumes a schedule:
//
//   Controller ──start sample──► GateUnit x4 ──gate results (1-deep)──► Elementwise ──h, c──► state RAM
//        ▲                          │ fetch h_{t-1}[k]: waits until the element-wise unit wrote it ▲
//        └──── last h of the sample ◄───────────────────────────────────────────────────────────┘
//        └──► linear head on the MAC units (after the last h)
//
// Each gate unit takes the products of its gate(s) one at a time (cycles_per_product cycles, or
// one per cycle pipelined), fetching x_t[k] or h_{t-1}[k] from the state RAM; an h operand the
// element-wise unit has not written yet stalls the unit. Results go to the element-wise unit
// through a one-deep register per unit (a unit with a full register waits); without overlap a
// unit waits for the element-wise unit to finish before it starts the next job. The modules
// count every event (products, ROM and RAM accesses, table lookups, element-wise operations);
// the engine prices those counts with the shared accounting (sim::fpga::price). Constructors
// only wire; timing comes from the job, so one elaborated model serves every design point.
#pragma once
#include <cstdint>
#include <vector>

#include <systemc>

#include "sim/fpga.hpp"

namespace mixprec::sim::systemc::fpga_model {

inline constexpr const char* kIdFpga = "mixprec/systemc/fpga";
inline constexpr int kMaxUnits = 4;

struct FpgaJob {
  // Configuration (from sim::fpga::Schedule).
  sc_core::sc_time cycle;
  int units = 4, rounds = 1, cycles_per_product = 2;
  bool pipelined = false, overlap = true;
  std::int64_t inputs = 0, hidden = 0, steps = 0, batch = 1, ew_cycles = 5;
  // State-machine overheads (sim::fpga::Schedule::control): before each step, at the start of
  // each job, between a unit's gates, before the head; per inference the host handshake and the
  // input window's load.
  std::int64_t step_overhead = 0, job_overhead = 0, gate_switch = 0, head_overhead = 0;
  std::int64_t handshake = 0, input_load = 0;
  struct Head {
    int layer = -1;
    std::int64_t inputs = 0, outputs = 0;
  };
  std::vector<Head> heads;
  int lstm_layer = 0, layers = 0;
  // Observed, one entry per network layer.
  std::vector<sim::fpga::Activity> activity;
  bool done = false;
};

class FpgaLstm : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(FpgaLstm);
  explicit FpgaLstm(sc_core::sc_module_name name);
  // Host side, while the kernel is paused: runs the job to completion.
  void run(FpgaJob& job);

 private:
  void controller();
  void unit0() { gate_unit(0); }
  void unit1() { gate_unit(1); }
  void unit2() { gate_unit(2); }
  void unit3() { gate_unit(3); }
  void gate_unit(int u);
  void elementwise();
  void wait_cycles(std::int64_t n);

  FpgaJob* job_ = nullptr;
  std::int64_t posted_ = 0;            // jobs submitted
  std::int64_t sample_ = 0;            // samples started (threads compare with their own count)
  std::int64_t h_written_ = 0;         // element-wise jobs finished in this sample
  sc_core::sc_event job_posted_, sample_started_, h_event_, lstm_done_;
  // One-deep result registers between each MAC unit and the element-wise unit.
  sc_core::sc_fifo<std::int64_t> q0_{"to_elementwise_0", 1}, q1_{"to_elementwise_1", 1},
      q2_{"to_elementwise_2", 1}, q3_{"to_elementwise_3", 1};
  sc_core::sc_fifo<std::int64_t>* to_ew_[kMaxUnits] = {&q0_, &q1_, &q2_, &q3_};
};

}  // namespace mixprec::sim::systemc::fpga_model

namespace mixprec::sim::systemc {
// Runs one FPGA job on the process's elaborated model (sim/systemc/engine.cpp owns the single
// elaboration; calls are serialized like the accelerator's).
void run_fpga_job(fpga_model::FpgaJob& job);
}  // namespace mixprec::sim::systemc
