#include "sim/systemc/engine.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>

#include <systemc>

#if defined(__SANITIZE_ADDRESS__)
#define MIXPREC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MIXPREC_ASAN 1
#endif
#endif
#if defined(MIXPREC_ASAN)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include "core/errors.hpp"
#include "sim/analytical.hpp"
#include "sim/systemc/fpga_model.hpp"
#include "sim/systemc/modules.hpp"
#include "sim/systemc/nest_model.hpp"
#include "sim/systemc/plan.hpp"
#include "sim/systemc/trace.hpp"
#include "sim/workload.hpp"

// The SystemC library calls sc_main from its own main(); mixprec has its own main and runs the
// kernel through sim::systemc::simulate, so this entry point is never used.
int sc_main(int, char*[]) {
  SC_REPORT_ERROR("mixprec/systemc/sc_main", "mixprec drives the SystemC kernel itself; sc_main is not used");
  return 1;
}

namespace mixprec::sim::systemc {

namespace {

using model::Job;
using model::JobConfig;
using model::LayerRun;

// The DMA moves at most this many bytes before the channel passes to the next requester.
constexpr std::int64_t kDescriptorBytes = 2048;

std::atomic<int> g_elaborations{0};
std::atomic<std::int64_t> g_jobs{0};

// SystemC 2.3.4 announces its coroutine switches to AddressSanitizer (weak references to the
// fiber API) but announces the main stack with unknown bounds, so after sc_start() returns ASan
// believes the caller's stack is empty: every later exception on it then draws a false
// "stack-buffer-underflow" from __asan_handle_no_return. Re-announcing the caller's real stack
// (a switch to the same stack) restores ASan's view. Sanitizer builds only.
void announce_caller_stack() {
#if defined(MIXPREC_ASAN)
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  std::size_t size = 0;
  const int rc = pthread_attr_getstack(&attr, &bottom, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0) return;
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

// The process's one elaborated model. Built on first use (setting the environment before the
// kernel prints anything) and never destroyed: the kernel's global context outlives static
// destructors, so tearing modules down at exit would race it.
class Simulator {
 public:
  static Simulator& instance() {
    static Simulator* s = new Simulator();
    return *s;
  }

  // Runs one job to completion. The caller holds mutex().
  void run(Job& job) {
    if (broken_) throw InternalError("the SystemC model stopped after an earlier failure: " + broken_reason_);
    try {
      top_->run(job);
    } catch (const sc_core::sc_report& e) {
      announce_caller_stack();
      fail(std::string("SystemC model: ") + e.what());
    }
    announce_caller_stack();
    if (!job.done) fail("the SystemC model went idle before the job finished (deadlock)");
    ++g_jobs;
  }

  // Runs one FPGA job to completion. The caller holds mutex().
  void run_fpga(fpga_model::FpgaJob& job) {
    if (broken_) throw InternalError("the SystemC model stopped after an earlier failure: " + broken_reason_);
    try {
      fpga_->run(job);
    } catch (const sc_core::sc_report& e) {
      announce_caller_stack();
      fail(std::string("SystemC FPGA model: ") + e.what());
    }
    announce_caller_stack();
    if (!job.done) fail("the SystemC FPGA model went idle before the job finished (deadlock)");
    ++g_jobs;
  }

  // Runs one loop-nest job to completion. The caller holds mutex().
  void run_nest(nest_model::NestJob& job) {
    if (broken_) throw InternalError("the SystemC model stopped after an earlier failure: " + broken_reason_);
    try {
      nest_->run(job);
    } catch (const sc_core::sc_report& e) {
      announce_caller_stack();
      fail(std::string("SystemC loop-nest model: ") + e.what());
    }
    announce_caller_stack();
    if (!job.done) fail("the SystemC loop-nest model went idle before the job finished (deadlock)");
    ++g_jobs;
  }

  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }

 private:
  Simulator() {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    // A model failure is reported by exception (turned into InternalError), never printed.
    sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_THROW);
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    top_ = new model::Accelerator("mixprec_accelerator");
    // Every model is elaborated here, once: the kernel allows a single elaboration.
    fpga_ = new fpga_model::FpgaLstm("mixprec_fpga_lstm");
    nest_ = new nest_model::NestAccelerator("mixprec_loop_nest");
    ++g_elaborations;
    // Trace timestamps read sc_time values as picoseconds: the default resolution.
    MIXPREC_CHECK(sc_core::sc_get_time_resolution() == sc_core::sc_time(1, sc_core::SC_PS),
                  "SystemC time resolution is 1 ps");
  }

  [[noreturn]] void fail(const std::string& why) {
    broken_ = true;
    broken_reason_ = why;
    throw InternalError(why);
  }

  model::Accelerator* top_ = nullptr;
  fpga_model::FpgaLstm* fpga_ = nullptr;
  nest_model::NestAccelerator* nest_ = nullptr;
  bool broken_ = false;
  std::string broken_reason_;
};

JobConfig job_config(const HardwareSpec& hw, double bytes_per_cycle) {
  JobConfig c;
  c.cycle = sc_core::sc_time(1e6 / hw.clock_mhz, sc_core::SC_PS);
  c.dram_latency = sc_core::sc_time(hw.dram.latency_ns, sc_core::SC_NS);
  c.burst_bytes = hw.dram.burst_bytes;
  c.burst_time = c.cycle * (double(hw.dram.burst_bytes) / bytes_per_cycle);
  c.descriptor_bursts = std::max<std::int64_t>(1, kDescriptorBytes / hw.dram.burst_bytes);
  auto slot = [](const BufferSpec& b) { return b.size_bytes() * 8.0 * (b.double_buffered ? 0.5 : 1.0); };
  const bool dbuf = hw.weight_buffer.double_buffered && hw.input_buffer.double_buffered;
  c.operand_slots = dbuf ? 2 : 1;
  c.output_slots = hw.output_buffer.double_buffered ? 2 : 1;
  c.weight_slot_bits = slot(hw.weight_buffer);
  c.input_slot_bits = slot(hw.input_buffer);
  c.stream_buffer_bits = slot(hw.input_buffer);
  return c;
}

}  // namespace

int elaborations() { return g_elaborations; }

void run_fpga_job(fpga_model::FpgaJob& job) {
  std::lock_guard<std::mutex> lock(Simulator::mutex());
  Simulator::instance().run_fpga(job);
}
std::int64_t jobs_run() { return g_jobs; }

void nest_model::run_nest_job(nest_model::NestJob& job) {
  std::lock_guard<std::mutex> lock(Simulator::mutex());
  Simulator::instance().run_nest(job);
}

NetworkCost network_cost(const HardwareSpec& hw, const energy::EnergyModel& em, const Network& net,
                         const std::vector<LayerPrecision>& precision, Phase phase,
                         std::vector<LayerSimStats>* stats, std::string* trace_json,
                         const std::string& trace_title) {
  MIXPREC_CHECK(precision.size() == net.layers.size(), "one precision per layer");
  const AnalyticalEngine eng(hw, em);
  // The analytical record carries the access counts and their energy (shared accounting).
  NetworkCost nc = eng.network_cost(net, precision, phase);
  if (stats) stats->clear();
  if (!nc.fits) return nc;

  std::vector<LayerPlan> plans;
  plans.reserve(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const LayerWork work = derive_work(net, static_cast<int>(i), precision[i], phase, &hw);
    plans.push_back(plan_layer(eng, net, work, nc.layers[i]));
  }

  // The model (and the kernel, with its banner disabled) exists before any SystemC value does.
  std::lock_guard<std::mutex> lock(Simulator::mutex());
  Simulator& sim = Simulator::instance();
  Job job;
  job.config = job_config(hw, eng.dram_bytes_per_cycle());
  job.plans = &plans;
  job.layers.resize(plans.size());
  for (std::size_t i = 0; i < plans.size(); ++i) {
    job.layers[i].job = &job;
    job.layers[i].plan = &plans[i];
    job.layers[i].index = static_cast<int>(i);
  }
  std::unique_ptr<TraceRecorder> rec;
  if (trace_json) {
    rec = std::make_unique<TraceRecorder>(sc_core::sc_time_stamp().to_double());
    job.trace = rec.get();
  }
  sim.run(job);
  if (trace_json) {
    std::vector<std::string> names;
    for (const Layer& l : net.layers) names.push_back(l.name);
    *trace_json = rec->to_json(names, trace_title);
  }

  for (std::size_t i = 0; i < plans.size(); ++i) {
    const LayerPlan& p = plans[i];
    const LayerRun& lr = job.layers[i];
    LayerCost& lc = nc.layers[i];
    const std::string where = "layer \"" + p.name + "\": ";
    for (std::size_t t = 0; t < kTensors; ++t) {
      MIXPREC_CHECK(lr.read_bits[t] == p.dram_read_bits[t], where + "DRAM reads moved differ from the plan");
      MIXPREC_CHECK(lr.write_bits[t] == p.dram_write_bits[t], where + "DRAM writes moved differ from the plan");
    }
    MIXPREC_CHECK(lr.macs == p.macs && lr.tiles == p.tiles, where + "tiles computed differ from the plan");
    MIXPREC_CHECK(lr.nonlinear_ops == p.nonlinear_ops, where + "nonlinear ops differ from the plan");
    MIXPREC_CHECK(std::fabs(lr.compute - p.compute_cycles) <= 1e-6 * std::max(1.0, p.compute_cycles),
                  where + "PE busy cycles differ from the plan");

    const double cycles = (lr.end - lr.begin) / job.config.cycle;
    const double ideal = lc.utilization * lc.cycles;  // MAC cycles at full array throughput
    lc.cycles = cycles;
    lc.compute_cycles = lr.compute;
    lc.utilization = cycles > 0 ? ideal / cycles : 0;
    lc.stalls.dram_stall_cycles = lr.dram;
    lc.stalls.contention_cycles = lr.contention;
    lc.stalls.fill_drain_cycles = p.fill_cycles + lr.fill_drain;
    lc.stalls.recurrent_cycles = lr.recurrent;
    lc.energy_pj[static_cast<std::size_t>(Component::Static)] = static_energy_pj(hw, cycles);

    if (stats) {
      LayerSimStats s;
      s.cycles = cycles;
      s.compute_cycles = lr.compute;
      s.nonlinear_cycles = lr.nonlinear;
      s.pipeline_fill_drain_cycles = lr.fill_drain;
      s.stalls = lc.stalls;
      s.dram_read_bits = lr.read_bits;
      s.dram_write_bits = lr.write_bits;
      s.macs = lr.macs;
      s.nonlinear_ops = lr.nonlinear_ops;
      s.tiles = lr.tiles;
      s.dram_descriptors = lr.transfers;
      stats->push_back(s);
    }
  }
  finalize(nc, hw.clock_mhz);
  return nc;
}

SystemCResult simulate(const Scenario& sc, const std::vector<LayerPrecision>& precision, const SimOptions& options) {
  MIXPREC_CHECK(precision.size() == sc.net.layers.size(), "one precision per layer");
  if (sc.hardware.kind == HardwareKind::Fpga) return simulate_fpga(sc, precision, options);
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  SystemCResult r;
  r.result.engine = "systemc";
  const auto t0 = std::chrono::steady_clock::now();
  r.result.cost = network_cost(sc.hardware, em, sc.net, precision, sc.phase, &r.layers,
                               options.trace ? &r.trace_json : nullptr,
                               "mixprec: " + sc.name + " on " + sc.hardware.name);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& lc : r.result.cost.layers)
    if (!lc.fits)
      throw SpecError(sc.file, "/hardware/buffers",
                      "buffers large enough for layer \"" + lc.name + "\" at " +
                          std::to_string(lc.precision.weight_bits) + "-bit weights",
                      lc.fail_reason);
  r.simulated_cycles = r.result.cost.cycles;
  if (options.baselines)
    for (const Baseline& b : standard_baselines()) {
      std::vector<LayerPrecision> uni(sc.net.layers.size(), b.precision);
      const NetworkCost c = network_cost(sc.hardware, em, sc.net, uni, sc.phase);
      r.result.baselines.push_back(BaselineResult{b.name, c.fits ? c.energy_uj : 0.0, c.latency_ms});
    }
  return r;
}

}  // namespace mixprec::sim::systemc
