#include "sim/systemc/fpga_model.hpp"
#include <algorithm>

namespace mixprec::sim::systemc::fpga_model {

using sc_core::SC_ZERO_TIME;
using sc_core::sc_time_stamp;

namespace {
constexpr std::size_t kStackBytes = 256 * 1024;
}

FpgaLstm::FpgaLstm(sc_core::sc_module_name name) : sc_module(name) {
  SC_THREAD(controller);
  set_stack_size(kStackBytes);
  SC_THREAD(unit0);
  set_stack_size(kStackBytes);
  SC_THREAD(unit1);
  set_stack_size(kStackBytes);
  SC_THREAD(unit2);
  set_stack_size(kStackBytes);
  SC_THREAD(unit3);
  set_stack_size(kStackBytes);
  SC_THREAD(elementwise);
  set_stack_size(kStackBytes);
}

void FpgaLstm::run(FpgaJob& job) {
  if (job.units < 1 || job.units > kMaxUnits || job.rounds < 1 || job.hidden < 1 || job.steps < 1)
    SC_REPORT_ERROR(kIdFpga, "job outside the elaborated model (1 to 4 working MAC units)");
  job_ = &job;
  job.activity.assign(size_t(job.layers), sim::fpga::Activity{});
  job.done = false;
  ++posted_;  // read by the controller, which may not be waiting yet (first run)
  job_posted_.notify(SC_ZERO_TIME);
  sc_core::sc_start();
}

void FpgaLstm::wait_cycles(std::int64_t n) {
  if (n > 0) wait(job_->cycle * double(n));
}

void FpgaLstm::controller() {
  std::int64_t handled = 0;
  for (;;) {
    while (posted_ == handled) wait(job_posted_);
    ++handled;
    FpgaJob& job = *job_;
    auto& lstm = job.activity[size_t(job.lstm_layer)];
    for (std::int64_t b = 0; b < job.batch; ++b) {
      const sc_core::sc_time t0 = sc_time_stamp();
      // The host's start handshake, then the sample's input window into the state RAM; only
      // then do the units see the new sample.
      wait_cycles(job.handshake + job.input_load);
      lstm.state_writes += job.steps * job.inputs;
      h_written_ = 0;
      ++sample_;
      sample_started_.notify(SC_ZERO_TIME);
      wait(lstm_done_);
      lstm.cycles += (sc_time_stamp() - t0) / job.cycle;
      // The linear head on the MAC units: outputs spread over the units, each output's products
      // serial on its unit, the h operand broadcast to the units working together.
      for (const FpgaJob::Head& h : job.heads) {
        auto& a = job.activity[size_t(h.layer)];
        const sc_core::sc_time t1 = sc_time_stamp();
        wait_cycles(job.head_overhead);
        for (std::int64_t o0 = 0; o0 < h.outputs; o0 += job.units) {
          const std::int64_t outs = std::min<std::int64_t>(job.units, h.outputs - o0);
          for (std::int64_t k = 0; k < h.inputs; ++k) {
            wait_cycles(job.pipelined ? 1 : job.cycles_per_product);
            a.macs += outs;
            a.weight_reads += outs;
            a.state_reads += 1;
          }
          if (job.pipelined) wait_cycles(job.cycles_per_product - 1);
          a.weight_reads += outs;  // bias preloads
          a.state_writes += outs;
        }
        a.cycles += (sc_time_stamp() - t1) / job.cycle;
        a.busy_cycles = a.cycles;
      }
    }
    lstm.stall_cycles = lstm.cycles - lstm.busy_cycles;
    job.done = true;
  }
}

void FpgaLstm::gate_unit(int u) {
  std::int64_t seen = 0;
  for (;;) {
    while (sample_ == seen) wait(sample_started_);
    seen = sample_;
    FpgaJob& job = *job_;
    if (u >= job.units) continue;
    auto& a = job.activity[size_t(job.lstm_layer)];
    const std::int64_t P = job.inputs + job.hidden;
    std::int64_t n = 0;
    for (std::int64_t t = 0; t < job.steps; ++t) {
      wait_cycles(job.step_overhead);
      for (std::int64_t j = 0; j < job.hidden; ++j, ++n) {
        wait_cycles(job.job_overhead);  // accumulator clear + bias preload
        for (int r = 0; r < job.rounds; ++r) {
          const int gate = u + r * job.units;
          if (gate >= 4) break;  // a unit with fewer gates is done early (unit 0 sets the pace)
          if (r > 0) wait_cycles(job.gate_switch);
          a.weight_reads += 1;  // bias preload into the accumulator
          for (std::int64_t k = 0; k < P; ++k) {
            if (k >= job.inputs && t > 0) {
              // h_{t-1}[k - I] must have been written by the element-wise unit.
              const std::int64_t need = (t - 1) * job.hidden + (k - job.inputs) + 1;
              while (h_written_ < need) wait(h_event_);
            }
            const sc_core::sc_time p0 = sc_time_stamp();
            wait_cycles(job.pipelined ? 1 : job.cycles_per_product);
            a.macs += 1;
            a.weight_reads += 1;
            if (u == 0) {
              if (r == 0) a.state_reads += 1;  // operand fetched once, broadcast to the units
              a.busy_cycles += (sc_time_stamp() - p0) / job.cycle;
            }
          }
          if (job.pipelined) {
            const sc_core::sc_time p0 = sc_time_stamp();
            wait_cycles(job.cycles_per_product - 1);
            if (u == 0) a.busy_cycles += (sc_time_stamp() - p0) / job.cycle;
          }
        }
        to_ew_[u]->write(n);  // waits while the element-wise unit holds the previous result
        if (!job.overlap)
          while (h_written_ < n + 1) wait(h_event_);
      }
    }
  }
}

void FpgaLstm::elementwise() {
  std::int64_t seen = 0;
  for (;;) {
    while (sample_ == seen) wait(sample_started_);
    seen = sample_;
    FpgaJob& job = *job_;
    auto& a = job.activity[size_t(job.lstm_layer)];
    const std::int64_t jobs = job.steps * job.hidden;
    for (std::int64_t n = 0; n < jobs; ++n) {
      for (int u = 0; u < job.units; ++u) {
        const std::int64_t got = to_ew_[u]->read();
        if (got != n) SC_REPORT_ERROR(kIdFpga, "gate results arrived out of order");
      }
      wait_cycles(job.ew_cycles);
      a.lut_lookups += 5;   // i, f, g, o and tanh(c)
      a.ew_macs += 2;       // f c, + i g
      a.ew_multiplies += 1; // o tanh(c)
      a.state_reads += 1;   // c
      a.state_writes += 2;  // h, c
      ++h_written_;
      h_event_.notify(SC_ZERO_TIME);
    }
    lstm_done_.notify(SC_ZERO_TIME);
  }
}

}  // namespace mixprec::sim::systemc::fpga_model
