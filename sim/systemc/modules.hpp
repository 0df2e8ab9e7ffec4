// SystemC modules of the accelerator model (internal: only sim/systemc/*.cpp include this).
//
//   Controller ──LoadCmd──► Dma.load ──► DramChannel ◄── Dma.store ◄──StoreCmd── PeArray
//       │                     │ Ready (tile i staged)                           ▲   │ gates
//       ├──TileCmd──────────────────────────────────────────────────────────────┘   ▼
//       ├──StreamCmd──► Dma.stream ──Ready (slice staged)──► NonlinearUnit ──h──► PeArray
//       └──NlCmd──────────────────────────────────────────► NonlinearUnit ──StoreCmd──► Dma.nl_store
//
// Approximately timed: processes advance by whole transfers (DMA descriptors) and whole tiles
// with wait(sc_time); modules hand work to each other through sc_fifo channels; the operand and
// output buffers are slot channels (two slots when double-buffered: the DMA stages tile i+1 while the PE array computes tile i), the stream buffer a ring of slices the DMA
// prefetches as far ahead as its space allows. Every module's constructor only wires; timing
// comes from the job (configure()), so one elaborated model serves every design point.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <vector>

#include <systemc>

#include "sim/systemc/plan.hpp"
#include "sim/systemc/trace.hpp"

namespace mixprec::sim::systemc::model {

using sc_core::sc_time;

// Report message ids.
inline constexpr const char* kIdDram = "mixprec/systemc/dram";
inline constexpr const char* kIdBuffer = "mixprec/systemc/buffer";
inline constexpr const char* kIdPe = "mixprec/systemc/pe_array";
inline constexpr const char* kIdNonlinear = "mixprec/systemc/nonlinear";
inline constexpr const char* kIdController = "mixprec/systemc/controller";

// Hardware timing and buffer geometry of one job, read by the modules when the job starts.
struct JobConfig {
  sc_time cycle;                 // one clock period
  sc_time dram_latency;          // request to first data of a read
  sc_time burst_time;            // one burst over the channel (burst bytes / bandwidth)
  std::int64_t burst_bytes = 64;
  std::int64_t descriptor_bursts = 32;  // bursts the DMA moves before yielding the channel
  int operand_slots = 2, output_slots = 2;
  double weight_slot_bits = 0, input_slot_bits = 0, stream_buffer_bits = 0;
};

enum class Engine { PeArray, Nonlinear };

struct Job;
struct LayerRun;

// Run record of one phase. The phase's critical engine (the PE array for products, the NL unit
// for elementwise slices) attributes each of its idle intervals to a cause.
struct PhaseRun {
  LayerRun* layer = nullptr;
  const PhasePlan* plan = nullptr;
  Engine critical = Engine::PeArray;
  int outstanding = 0;
  sc_time begin, end, critical_last_end;
  bool critical_started = false;
  double busy = 0, fill_drain = 0, dram = 0, contention = 0, recurrent = 0;  // cycles
};

// Run record of one layer: what the modules observed.
struct LayerRun {
  Job* job = nullptr;
  const LayerPlan* plan = nullptr;
  int index = 0;
  int outstanding = 0;  // background streams still moving
  sc_time begin, end;
  std::array<std::int64_t, kTensors> read_bits{}, write_bits{};
  std::int64_t transfers = 0, macs = 0, nonlinear_ops = 0, tiles = 0;
  double compute = 0, nonlinear = 0, fill_drain = 0, dram = 0, contention = 0, recurrent = 0;
};

struct Job {
  JobConfig config;
  const std::vector<LayerPlan>* plans = nullptr;
  std::vector<LayerRun> layers;
  std::deque<PhaseRun> phases;  // stable addresses
  TraceRecorder* trace = nullptr;
  sc_time begin, end;
  bool done = false;
};

// --- commands ---------------------------------------------------------------------------------
struct LoadCmd {
  const TileOp* op = nullptr;
  PhaseRun* phase = nullptr;
  std::int64_t seq = 0;
};
struct TileCmd {
  const TileOp* op = nullptr;
  PhaseRun* phase = nullptr;
  std::int64_t seq = 0;
};
// Data staged on chip: usable from `at` (after the DRAM latency); `contention` is how long its
// transfers waited behind other requesters.
struct Ready {
  std::int64_t seq = 0;
  sc_time at, contention;
};
struct StoreCmd {
  std::array<std::int64_t, kTensors> bits{};
  PhaseRun* phase = nullptr;
  std::int64_t seq = 0;
  bool releases_output_slot = false;
};
struct StreamCmd {
  LayerRun* layer = nullptr;
  const NonlinearOp* op = nullptr;  // slice reads for the NL unit, unless
  bool background = false;          // the layer's background streams
  std::int64_t seq = 0;
};
struct NlCmd {
  const NonlinearOp* op = nullptr;
  PhaseRun* phase = nullptr;
  std::int64_t seq = 0;
  bool waits_gates = false, waits_stream = false, gives_hidden = false;
  std::int64_t frees_stream_bits = 0;  // stream-buffer space freed after the op
};
std::ostream& operator<<(std::ostream& os, const LoadCmd& c);
std::ostream& operator<<(std::ostream& os, const TileCmd& c);
std::ostream& operator<<(std::ostream& os, const Ready& c);
std::ostream& operator<<(std::ostream& os, const StoreCmd& c);
std::ostream& operator<<(std::ostream& os, const StreamCmd& c);
std::ostream& operator<<(std::ostream& os, const NlCmd& c);

// --- interfaces -------------------------------------------------------------------------------
// The shared DRAM channel. Contract: transfer() moves `bits` of `tensor` in descriptors of at
// most JobConfig::descriptor_bursts bursts, taking turns with the other requesters, and returns
// when its last burst has left the channel (reads: data usable read_latency() later; writes are
// posted). It returns the time spent waiting behind other requesters' descriptors.
class DramIf : public virtual sc_core::sc_interface {
 public:
  virtual sc_time transfer(std::int64_t bits, std::size_t tensor, bool write, LayerRun& layer) = 0;
  virtual const sc_time& read_latency() const = 0;
};

// A buffer cut into slots. Contract: acquire() blocks until a slot is free and checks that the
// data fits it (an overflow is an impossible state: the tiling was chosen to fit); it returns
// the contention reported by the release that freed the slot it waited for (zero if no wait).
class SlotIf : public virtual sc_core::sc_interface {
 public:
  virtual sc_time acquire(std::int64_t bits_first, std::int64_t bits_second) = 0;
  virtual void release(const sc_time& contention) = 0;
};

// A buffer used as a ring of variable-size slices (the stream buffer: elementwise operands and
// LSTM input-projection slices). Contract: reserve() blocks until `bits` are free; a slice
// larger than the whole buffer streams through it and is modelled as occupying all of it.
class SpaceIf : public virtual sc_core::sc_interface {
 public:
  virtual void reserve(std::int64_t bits) = 0;
  virtual void free(std::int64_t bits) = 0;
};

class CompletionIf : public virtual sc_core::sc_interface {
 public:
  virtual void complete(PhaseRun& phase) = 0;
  virtual void complete(LayerRun& layer) = 0;
};

// --- modules ----------------------------------------------------------------------------------
class DramChannel : public sc_core::sc_module, public DramIf {
 public:
  explicit DramChannel(sc_core::sc_module_name name);
  void configure(const JobConfig& cfg);
  sc_time transfer(std::int64_t bits, std::size_t tensor, bool write, LayerRun& layer) override;
  const sc_time& read_latency() const override { return latency_; }

 private:
  sc_time burst_time_, latency_;
  std::int64_t burst_bytes_ = 64, descriptor_bursts_ = 32;
  sc_time next_free_;  // the channel is reserved up to here
};

class SlotBuffer : public sc_core::sc_module, public SlotIf {
 public:
  explicit SlotBuffer(sc_core::sc_module_name name);
  // Two capacities per slot (operand buffer: weights and inputs; others: one, the second 0).
  void configure(int slots, double first_bits, double second_bits);
  sc_time acquire(std::int64_t bits_first, std::int64_t bits_second) override;
  void release(const sc_time& contention) override;

 private:
  int slots_ = 0, free_ = 0;
  double first_bits_ = 0, second_bits_ = 0;
  sc_time last_release_contention_;
  sc_core::sc_event freed_;
};

class RingBuffer : public sc_core::sc_module, public SpaceIf {
 public:
  explicit RingBuffer(sc_core::sc_module_name name);
  void configure(double capacity_bits);
  void reserve(std::int64_t bits) override;
  void free(std::int64_t bits) override;

 private:
  std::int64_t clamp(std::int64_t bits) const;
  std::int64_t capacity_bits_ = 0, used_bits_ = 0;
  sc_core::sc_event freed_;
};

class Dma : public sc_core::sc_module {
 public:
  sc_core::sc_port<DramIf> dram;
  sc_core::sc_port<SlotIf> operand_buffer, output_buffer;
  sc_core::sc_port<SpaceIf> stream_buffer;
  sc_core::sc_port<CompletionIf> done;
  sc_core::sc_fifo_in<LoadCmd> load_in;
  sc_core::sc_fifo_out<Ready> staged_out;          // to the PE array
  sc_core::sc_fifo_in<StoreCmd> store_in;          // PE array outputs
  sc_core::sc_fifo_in<StreamCmd> stream_in;
  sc_core::sc_fifo_out<Ready> stream_staged_out;   // to the NL unit
  sc_core::sc_fifo_in<StoreCmd> nl_store_in;       // NL unit outputs

  SC_HAS_PROCESS(Dma);
  explicit Dma(sc_core::sc_module_name name);

 private:
  void load_thread();
  void store_thread();
  void stream_thread();
  void nl_store_thread();
  sc_time write_all(const StoreCmd& c, Lane lane);
};

class PeArray : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<TileCmd> tiles_in;
  sc_core::sc_fifo_in<Ready> staged_in;
  sc_core::sc_fifo_out<StoreCmd> store_out;
  sc_core::sc_fifo_out<int> gates_out;
  sc_core::sc_fifo_in<int> hidden_in;
  sc_core::sc_port<SlotIf> operand_buffer, output_buffer;
  sc_core::sc_port<CompletionIf> done;

  SC_HAS_PROCESS(PeArray);
  explicit PeArray(sc_core::sc_module_name name);
  void configure(const JobConfig& cfg) { cycle_ = cfg.cycle; }

 private:
  void run();
  void idle(PhaseRun& ph, const sc_time& waited, const sc_time& contention);
  sc_time cycle_;
};

class NonlinearUnit : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<NlCmd> cmds_in;
  sc_core::sc_fifo_in<Ready> stream_staged_in;
  sc_core::sc_fifo_in<int> gates_in;
  sc_core::sc_fifo_out<int> hidden_out;
  sc_core::sc_fifo_out<StoreCmd> store_out;
  sc_core::sc_port<SpaceIf> stream_buffer;
  sc_core::sc_port<CompletionIf> done;

  SC_HAS_PROCESS(NonlinearUnit);
  explicit NonlinearUnit(sc_core::sc_module_name name);
  void configure(const JobConfig& cfg) { cycle_ = cfg.cycle; }

 private:
  void run();
  sc_time cycle_;
};

class Controller : public sc_core::sc_module, public CompletionIf {
 public:
  sc_core::sc_fifo_out<LoadCmd> load_out;
  sc_core::sc_fifo_out<TileCmd> tiles_out;
  sc_core::sc_fifo_out<StreamCmd> stream_out;
  sc_core::sc_fifo_out<NlCmd> nl_out;

  SC_HAS_PROCESS(Controller);
  explicit Controller(sc_core::sc_module_name name);
  // Host side, while the kernel is paused: queue a job; sc_start() then runs it to the end.
  void submit(Job& job);
  void complete(PhaseRun& phase) override;
  void complete(LayerRun& layer) override;

 private:
  void run();
  void run_layer(Job& job, LayerRun& lr);
  void run_phase(PhaseRun& ph);
  std::deque<Job*> jobs_;
  sc_core::sc_event job_posted_, op_done_;
  std::int64_t seq_ = 0;
};

// The accelerator: every module and channel, wired once.
class Accelerator : public sc_core::sc_module {
 public:
  explicit Accelerator(sc_core::sc_module_name name);
  // Host side: configures the modules for the job's hardware and runs the kernel until idle.
  void run(Job& job);

 private:
  sc_core::sc_fifo<LoadCmd> load_q_;
  sc_core::sc_fifo<TileCmd> tile_q_;
  sc_core::sc_fifo<Ready> staged_q_, stream_staged_q_;
  sc_core::sc_fifo<StoreCmd> store_q_, nl_store_q_;
  sc_core::sc_fifo<StreamCmd> stream_q_;
  sc_core::sc_fifo<NlCmd> nl_q_;
  sc_core::sc_fifo<int> gates_q_, hidden_q_;
  DramChannel dram_;
  SlotBuffer operands_, outputs_;
  RingBuffer streams_;
  Dma dma_;
  PeArray pe_;
  NonlinearUnit nl_;
  Controller ctrl_;
};

}  // namespace mixprec::sim::systemc::model
