// The SystemC engine for fpga scenarios: builds a job from the architecture's schedule, runs it
// on the elaborated FpgaLstm model and prices the observed events with the shared accounting.
#include <chrono>

#include "core/errors.hpp"
#include "sim/fpga.hpp"
#include "sim/systemc/engine.hpp"
#include "sim/systemc/fpga_model.hpp"

namespace mixprec::sim::systemc {

namespace {

NetworkCost run_fpga(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                     std::vector<LayerSimStats>* stats) {
  const fpga::Prepared pr = fpga::prepare(sc, precision);
  const fpga::Schedule& s = pr.sched;
  fpga_model::FpgaJob job;
  job.cycle = sc_core::sc_time(1e6 / sc.hardware.clock_mhz, sc_core::SC_PS);
  job.units = s.units;
  job.rounds = s.rounds;
  job.cycles_per_product = s.cycles_per_product;
  job.pipelined = s.pipelined;
  job.overlap = s.overlap;
  job.inputs = s.shape.inputs;
  job.hidden = s.shape.hidden;
  job.steps = s.shape.steps;
  job.batch = s.shape.batch;
  job.ew_cycles = s.ew_cycles;
  job.step_overhead = s.control.step_cycles;
  job.job_overhead = s.control.job_cycles;
  job.gate_switch = s.control.gate_switch_cycles;
  job.head_overhead = s.control.head_cycles;
  job.handshake = s.control.host_handshake_cycles;
  job.input_load = s.input_load_cycles;
  job.lstm_layer = s.shape.lstm_layer;
  job.layers = int(sc.net.layers.size());
  for (const auto& h : s.heads) job.heads.push_back({h.layer, h.inputs, h.outputs});
  run_fpga_job(job);
  MIXPREC_CHECK(job.done, "the FPGA SystemC model went idle before the job finished");
  // The modules must have seen exactly the work the architecture implies.
  const std::vector<fpga::Activity> expect = fpga::analytical_activity(s, sc.net);
  for (std::size_t i = 0; i < expect.size(); ++i)
    MIXPREC_CHECK(job.activity[i] == expect[i],
                  "layer \"" + sc.net.layers[i].name + "\": events counted by the SystemC model differ from the workload");
  NetworkCost nc = fpga::price(pr.spec, sc.hardware.clock_mhz, pr.power, sc.net, precision, job.activity);
  if (stats) {
    stats->clear();
    for (std::size_t i = 0; i < nc.layers.size(); ++i) {
      LayerSimStats st;
      st.cycles = nc.layers[i].cycles;
      st.compute_cycles = nc.layers[i].compute_cycles;
      st.stalls = nc.layers[i].stalls;
      st.macs = nc.layers[i].macs;
      st.nonlinear_ops = nc.layers[i].nonlinear_ops;
      stats->push_back(st);
    }
  }
  return nc;
}

}  // namespace

SystemCResult simulate_fpga(const Scenario& sc, const std::vector<LayerPrecision>& precision,
                            const SimOptions& options) {
  if (options.trace)
    throw UsageError("--trace is not available for fpga scenarios (the FPGA model records no timeline)");
  SystemCResult r;
  r.result.engine = "systemc";
  const auto t0 = std::chrono::steady_clock::now();
  r.result.cost = run_fpga(sc, precision, &r.layers);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.simulated_cycles = r.result.cost.cycles;
  if (options.baselines)
    for (const auto& [name, p] : fpga::baselines()) {
      const std::vector<LayerPrecision> uni(sc.net.layers.size(), p);
      const NetworkCost c = run_fpga(sc, uni, nullptr);
      r.result.baselines.push_back(BaselineResult{name, c.energy_uj, c.latency_ms});
    }
  return r;
}

}  // namespace mixprec::sim::systemc
