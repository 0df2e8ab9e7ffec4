#include "sim/systemc/modules.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>
#include <string>

namespace mixprec::sim::systemc::model {

using sc_core::sc_time_stamp;
using sc_core::SC_ZERO_TIME;

namespace {

// Thread stacks: SystemC's default (64 KiB) is tight once sanitizers instrument the frames.
constexpr std::size_t kStackBytes = 256 * 1024;
// One word of slack when checking that data fits a slot: a training operand's distinct
// elements are rounded up per tile.
constexpr double kSlotSlackBits = 64;

// Simulated time in picoseconds: the kernel's default resolution, which mixprec never changes
// (checked when the model is built).
double ps(const sc_time& t) { return t.to_double(); }

std::string describe(const char* what, const LayerRun* lr) {
  std::ostringstream s;
  s << what;
  if (lr && lr->plan) s << " (layer \"" << lr->plan->name << "\")";
  return s.str();
}

template <typename... Args>
void add_slice(LayerRun& lr, Lane lane, const std::string& name, const sc_time& begin, const sc_time& end,
               Args... args) {
  if (lr.job->trace) lr.job->trace->slice(lane, name, ps(begin), ps(end), lr.index, args...);
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const LoadCmd& c) { return os << "load#" << c.seq; }
std::ostream& operator<<(std::ostream& os, const TileCmd& c) { return os << "tile#" << c.seq; }
std::ostream& operator<<(std::ostream& os, const Ready& c) { return os << "ready#" << c.seq << "@" << c.at; }
std::ostream& operator<<(std::ostream& os, const StoreCmd& c) { return os << "store#" << c.seq; }
std::ostream& operator<<(std::ostream& os, const StreamCmd& c) { return os << "stream#" << c.seq; }
std::ostream& operator<<(std::ostream& os, const NlCmd& c) { return os << "nl#" << c.seq; }

// --- DramChannel ------------------------------------------------------------------------------

DramChannel::DramChannel(sc_core::sc_module_name name) : sc_module(name) {}

void DramChannel::configure(const JobConfig& cfg) {
  burst_time_ = cfg.burst_time;
  latency_ = cfg.dram_latency;
  burst_bytes_ = cfg.burst_bytes;
  descriptor_bursts_ = cfg.descriptor_bursts;
}

sc_time DramChannel::transfer(std::int64_t bits, std::size_t tensor, bool write, LayerRun& layer) {
  if (bits <= 0 || tensor >= kTensors)
    SC_REPORT_ERROR(kIdDram, describe("transfer of no data or of an unknown tensor", &layer).c_str());
  if (burst_time_ == SC_ZERO_TIME) SC_REPORT_ERROR(kIdDram, "channel used before it was configured");
  std::int64_t bursts = ((bits + 7) / 8 + burst_bytes_ - 1) / burst_bytes_;
  sc_time waited = SC_ZERO_TIME;
  // Reservation model: a descriptor starts when the channel is free; requesters that arrive
  // while it is busy queue behind it in arrival order, so they take turns descriptor by
  // descriptor. Any wait here is behind another requester (this one's previous descriptor has
  // already left).
  while (bursts > 0) {
    const std::int64_t n = std::min(bursts, descriptor_bursts_);
    const sc_time now = sc_time_stamp();
    const sc_time start = std::max(now, next_free_);
    waited += start - now;
    next_free_ = start + burst_time_ * double(n);
    sc_core::wait(next_free_ - now);
    bursts -= n;
    ++layer.transfers;
  }
  (write ? layer.write_bits : layer.read_bits)[tensor] += bits;
  return waited;
}

// --- SlotBuffer -------------------------------------------------------------------------------

SlotBuffer::SlotBuffer(sc_core::sc_module_name name) : sc_module(name) {}

void SlotBuffer::configure(int slots, double first_bits, double second_bits) {
  if (free_ != slots_) SC_REPORT_ERROR(kIdBuffer, (std::string(name()) + ": reconfigured while a slot is held").c_str());
  slots_ = free_ = slots;
  first_bits_ = first_bits;
  second_bits_ = second_bits;
  last_release_contention_ = SC_ZERO_TIME;
}

sc_time SlotBuffer::acquire(std::int64_t bits_first, std::int64_t bits_second) {
  if (double(bits_first) > first_bits_ + kSlotSlackBits || double(bits_second) > second_bits_ + kSlotSlackBits) {
    std::ostringstream s;
    s << name() << ": " << bits_first << " + " << bits_second << " bits do not fit a slot of " << first_bits_
      << " + " << second_bits_ << " bits";
    SC_REPORT_ERROR(kIdBuffer, s.str().c_str());
  }
  bool waited = false;
  while (free_ == 0) {
    waited = true;
    sc_core::wait(freed_);
  }
  --free_;
  return waited ? last_release_contention_ : SC_ZERO_TIME;
}

void SlotBuffer::release(const sc_time& contention) {
  if (free_ >= slots_) SC_REPORT_ERROR(kIdBuffer, (std::string(name()) + ": released a slot that was not held").c_str());
  ++free_;
  last_release_contention_ = contention;
  freed_.notify();
}

// --- RingBuffer -------------------------------------------------------------------------------

RingBuffer::RingBuffer(sc_core::sc_module_name name) : sc_module(name) {}

void RingBuffer::configure(double capacity_bits) {
  if (used_bits_ != 0) SC_REPORT_ERROR(kIdBuffer, (std::string(name()) + ": reconfigured while holding data").c_str());
  capacity_bits_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(capacity_bits));
}

std::int64_t RingBuffer::clamp(std::int64_t bits) const { return std::min(bits, capacity_bits_); }

void RingBuffer::reserve(std::int64_t bits) {
  const std::int64_t need = clamp(bits);
  while (used_bits_ + need > capacity_bits_) sc_core::wait(freed_);
  used_bits_ += need;
}

void RingBuffer::free(std::int64_t bits) {
  const std::int64_t give = clamp(bits);
  if (give > used_bits_) SC_REPORT_ERROR(kIdBuffer, (std::string(name()) + ": freed more than it holds").c_str());
  used_bits_ -= give;
  freed_.notify();
}

// --- Dma --------------------------------------------------------------------------------------

Dma::Dma(sc_core::sc_module_name name) : sc_module(name) {
  SC_THREAD(load_thread);
  set_stack_size(kStackBytes);
  SC_THREAD(store_thread);
  set_stack_size(kStackBytes);
  SC_THREAD(stream_thread);
  set_stack_size(kStackBytes);
  SC_THREAD(nl_store_thread);
  set_stack_size(kStackBytes);
}

// Stages each tile's operands: waits for a free operand slot (double buffering: at most one
// tile ahead of the PE array), fetches its weight and input tiles, and hands the PE array a
// record of when the data is usable (the read latency overlaps the next descriptors).
void Dma::load_thread() {
  constexpr std::size_t kW = static_cast<std::size_t>(Tensor::Weights), kI = static_cast<std::size_t>(Tensor::Inputs);
  for (;;) {
    const LoadCmd c = load_in.read();
    LayerRun& lr = *c.phase->layer;
    operand_buffer->acquire(c.op->load_bits[kW], c.op->load_bits[kI]);
    const sc_time begin = sc_time_stamp();
    sc_time contention = SC_ZERO_TIME;
    std::int64_t bits = 0;
    for (std::size_t t = 0; t < kTensors; ++t)
      if (c.op->load_bits[t] > 0) {
        contention += dram->transfer(c.op->load_bits[t], t, false, lr);
        bits += c.op->load_bits[t];
      }
    add_slice(lr, Lane::DmaLoad, "load tile", begin, sc_time_stamp(), c.seq, bits);
    staged_out.write(Ready{c.seq, sc_time_stamp() + dram->read_latency(), contention});
  }
}

sc_time Dma::write_all(const StoreCmd& c, Lane lane) {
  LayerRun& lr = *c.phase->layer;
  const sc_time begin = sc_time_stamp();
  sc_time contention = SC_ZERO_TIME;
  std::int64_t bits = 0;
  for (std::size_t t = 0; t < kTensors; ++t)
    if (c.bits[t] > 0) {
      contention += dram->transfer(c.bits[t], t, true, lr);
      bits += c.bits[t];
    }
  add_slice(lr, lane, lane == Lane::DmaWriteBack ? "write-back" : "write", begin, sc_time_stamp(), c.seq, bits);
  return contention;
}

// Writes finished output tiles back; a tile's output slot frees once its data has left.
void Dma::store_thread() {
  for (;;) {
    const StoreCmd c = store_in.read();
    const sc_time contention = write_all(c, Lane::DmaWriteBack);
    if (c.releases_output_slot) output_buffer->release(contention);
    done->complete(*c.phase);
  }
}

// Slices for the nonlinear unit (prefetched into the stream buffer's slots), or a layer's
// background streams (optimizer state while the PE array computes).
void Dma::stream_thread() {
  for (;;) {
    const StreamCmd c = stream_in.read();
    if (!c.layer || (!c.background && !c.op)) SC_REPORT_ERROR(kIdController, "stream command without work");
    LayerRun& lr = *c.layer;
    if (c.background) {
      const LayerPlan& p = *lr.plan;
      for (int write = 0; write < 2; ++write) {
        const sc_time begin = sc_time_stamp();
        std::int64_t bits = 0;
        for (std::size_t t = 0; t < kTensors; ++t) {
          const std::int64_t b = write ? p.background_write_bits[t] : p.background_read_bits[t];
          if (b > 0) {
            dram->transfer(b, t, write != 0, lr);
            bits += b;
          }
        }
        if (bits > 0)
          add_slice(lr, write ? Lane::DmaStreamWrite : Lane::DmaStreamRead, "background stream", begin,
                    sc_time_stamp(), -1, bits);
      }
      done->complete(lr);
      continue;
    }
    std::int64_t bits = 0;
    for (std::int64_t b : c.op->read_bits) bits += b;
    stream_buffer->reserve(bits);
    const sc_time begin = sc_time_stamp();
    sc_time contention = SC_ZERO_TIME;
    for (std::size_t t = 0; t < kTensors; ++t)
      if (c.op->read_bits[t] > 0) contention += dram->transfer(c.op->read_bits[t], t, false, lr);
    add_slice(lr, Lane::DmaStreamRead, "slice read", begin, sc_time_stamp(), c.seq, bits);
    stream_staged_out.write(Ready{c.seq, sc_time_stamp() + dram->read_latency(), contention});
  }
}

void Dma::nl_store_thread() {
  for (;;) {
    const StoreCmd c = nl_store_in.read();
    write_all(c, Lane::DmaStreamWrite);
    done->complete(*c.phase);
  }
}

// --- PeArray ----------------------------------------------------------------------------------

PeArray::PeArray(sc_core::sc_module_name name) : sc_module(name) {
  SC_THREAD(run);
  set_stack_size(kStackBytes);
}

// Idle time of the PE array while it is the phase's critical engine: before its first tile it
// is the pipeline's fill (prologue); later, the share of the wait that the awaited transfer
// spent behind other requesters is contention, the rest is DRAM bandwidth/latency.
void PeArray::idle(PhaseRun& ph, const sc_time& waited, const sc_time& contention) {
  if (ph.critical != Engine::PeArray || waited == SC_ZERO_TIME) return;
  const double w = waited / cycle_;
  if (!ph.critical_started) {
    ph.fill_drain += w;
    return;
  }
  const double c = std::min(w, contention / cycle_);
  ph.contention += c;
  ph.dram += w - c;
}

void PeArray::run() {
  for (;;) {
    const TileCmd c = tiles_in.read();
    PhaseRun& ph = *c.phase;
    LayerRun& lr = *ph.layer;
    const TileOp& op = *c.op;
    if (op.opens_output) {
      const sc_time t0 = sc_time_stamp();
      const sc_time contention = output_buffer->acquire(0, 0);
      idle(ph, sc_time_stamp() - t0, contention);
    }
    if (op.waits_hidden) {
      const sc_time t0 = sc_time_stamp();
      hidden_in.read();
      if (ph.critical == Engine::PeArray) ph.recurrent += (sc_time_stamp() - t0) / cycle_;
    }
    if (op.loads()) {
      const sc_time t0 = sc_time_stamp();
      const Ready r = staged_in.read();
      if (r.seq != c.seq) {
        std::ostringstream s;
        s << "tile " << c.seq << " found the data of tile " << r.seq << " staged";
        SC_REPORT_ERROR(kIdPe, describe(s.str().c_str(), &lr).c_str());
      }
      if (r.at > sc_time_stamp()) sc_core::wait(r.at - sc_time_stamp());
      idle(ph, sc_time_stamp() - t0, r.contention);
    }
    const sc_time begin = sc_time_stamp();
    sc_core::wait(cycle_ * op.compute_cycles);
    if (ph.critical == Engine::PeArray) {
      ph.busy += op.compute_cycles;
      ph.critical_started = true;
      ph.critical_last_end = sc_time_stamp();
    }
    add_slice(lr, Lane::PeArray, op.step >= 0 ? "step " + std::to_string(op.step) + " tile" : "tile", begin,
              sc_time_stamp(), c.seq, 0, op.compute_cycles);
    lr.macs += op.macs;
    ++lr.tiles;
    if (op.loads()) operand_buffer->release(SC_ZERO_TIME);
    if (op.store_bits > 0) {
      StoreCmd s;
      s.bits[static_cast<std::size_t>(Tensor::Outputs)] = op.store_bits;
      s.phase = &ph;
      s.seq = c.seq;
      s.releases_output_slot = op.closes_output;
      store_out.write(s);
    } else if (op.closes_output) {
      output_buffer->release(SC_ZERO_TIME);  // consumed on chip (LSTM gates)
    }
    if (op.feeds_nonlinear) gates_out.write(static_cast<int>(c.seq));
    done->complete(ph);
  }
}

// --- NonlinearUnit ----------------------------------------------------------------------------

NonlinearUnit::NonlinearUnit(sc_core::sc_module_name name) : sc_module(name) {
  SC_THREAD(run);
  set_stack_size(kStackBytes);
}

void NonlinearUnit::run() {
  for (;;) {
    const NlCmd c = cmds_in.read();
    PhaseRun& ph = *c.phase;
    LayerRun& lr = *ph.layer;
    const bool critical = ph.critical == Engine::Nonlinear;
    if (c.waits_gates) gates_in.read();  // the PE array is the critical engine here
    if (c.waits_stream) {
      const sc_time t0 = sc_time_stamp();
      const Ready r = stream_staged_in.read();
      if (r.seq != c.seq) {
        std::ostringstream s;
        s << "slice " << c.seq << " found the data of slice " << r.seq << " staged";
        SC_REPORT_ERROR(kIdNonlinear, describe(s.str().c_str(), &lr).c_str());
      }
      if (r.at > sc_time_stamp()) sc_core::wait(r.at - sc_time_stamp());
      if (critical) {
        const double w = (sc_time_stamp() - t0) / cycle_;
        if (!ph.critical_started) {
          ph.fill_drain += w;
        } else {
          const double ct = std::min(w, r.contention / cycle_);
          ph.contention += ct;
          ph.dram += w - ct;
        }
      }
    }
    const sc_time begin = sc_time_stamp();
    if (c.op->cycles > 0) sc_core::wait(cycle_ * c.op->cycles);
    if (critical) {
      ph.busy += c.op->cycles;
      ph.critical_started = true;
      ph.critical_last_end = sc_time_stamp();
    }
    if (c.op->cycles > 0)
      add_slice(lr, Lane::Nonlinear, c.op->step >= 0 && ph.plan->kind == PhaseKind::Recurrent
                                         ? "step " + std::to_string(c.op->step) + " gates"
                                         : std::string("slice"),
                begin, sc_time_stamp(), c.op->step, 0, c.op->cycles);
    lr.nonlinear_ops += c.op->ops;
    if (c.frees_stream_bits > 0) stream_buffer->free(c.frees_stream_bits);
    if (c.gives_hidden) hidden_out.write(static_cast<int>(c.seq));
    bool writes = false;
    for (std::int64_t b : c.op->write_bits) writes = writes || b > 0;
    if (writes) {
      StoreCmd s;
      s.bits = c.op->write_bits;
      s.phase = &ph;
      s.seq = c.seq;
      store_out.write(s);
    }
    done->complete(ph);
  }
}

// --- Controller -------------------------------------------------------------------------------

Controller::Controller(sc_core::sc_module_name name) : sc_module(name) {
  SC_THREAD(run);
  set_stack_size(kStackBytes);
}

void Controller::submit(Job& job) {
  jobs_.push_back(&job);
  job_posted_.notify(SC_ZERO_TIME);
}

void Controller::complete(PhaseRun& phase) {
  if (--phase.outstanding < 0) SC_REPORT_ERROR(kIdController, describe("more completions than operations", phase.layer).c_str());
  op_done_.notify();
}

void Controller::complete(LayerRun& layer) {
  if (--layer.outstanding < 0) SC_REPORT_ERROR(kIdController, describe("more completions than streams", &layer).c_str());
  op_done_.notify();
}

void Controller::run() {
  for (;;) {
    while (jobs_.empty()) wait(job_posted_);
    Job& job = *jobs_.front();
    jobs_.pop_front();
    job.begin = sc_time_stamp();
    for (LayerRun& lr : job.layers) run_layer(job, lr);
    job.end = sc_time_stamp();
    job.done = true;
  }
}

void Controller::run_layer(Job& job, LayerRun& lr) {
  const LayerPlan& lp = *lr.plan;
  lr.begin = sc_time_stamp();
  bool background = false;
  for (std::size_t t = 0; t < kTensors; ++t)
    background = background || lp.background_read_bits[t] > 0 || lp.background_write_bits[t] > 0;
  if (background) {
    ++lr.outstanding;
    StreamCmd s;
    s.layer = &lr;
    s.background = true;
    stream_out.write(s);
  }
  sc_time phases_end = lr.begin;
  for (const PhasePlan& pp : lp.phases) {
    PhaseRun& ph = job.phases.emplace_back();
    ph.layer = &lr;
    ph.plan = &pp;
    ph.critical = pp.kind == PhaseKind::Elementwise ? Engine::Nonlinear : Engine::PeArray;
    run_phase(ph);
    phases_end = ph.end;
    if (ph.critical == Engine::PeArray) lr.compute += ph.busy; else lr.nonlinear += ph.busy;
    lr.fill_drain += ph.fill_drain;
    lr.dram += ph.dram;
    lr.contention += ph.contention;
    lr.recurrent += ph.recurrent;
  }
  while (lr.outstanding > 0) wait(op_done_);
  lr.end = sc_time_stamp();
  lr.dram += (lr.end - phases_end) / job.config.cycle;  // background streams outlasting the work
  add_slice(lr, Lane::Layers, lp.name, lr.begin, lr.end, -1, 0, (lr.end - lr.begin) / job.config.cycle);
}

void Controller::run_phase(PhaseRun& ph) {
  const PhasePlan& pp = *ph.plan;
  LayerRun& lr = *ph.layer;
  const JobConfig& cfg = lr.job->config;
  ph.begin = sc_time_stamp();
  // Every operation of the phase reports completion once: tiles, their write-backs, NL ops
  // and the NL ops' writes.
  int expected = 0;
  for (const TileOp& op : pp.tiles) expected += 1 + (op.store_bits > 0 ? 1 : 0);
  for (const NonlinearOp& op : pp.nl) {
    bool writes = false;
    for (std::int64_t b : op.write_bits) writes = writes || b > 0;
    expected += 1 + (writes ? 1 : 0);
  }
  ph.outstanding = expected;

  auto read_bits = [](const NonlinearOp& op) { return op.read_bits[0] + op.read_bits[1] + op.read_bits[2]; };
  auto issue_nl = [&](std::size_t j, bool waits_gates) {
    const NonlinearOp& op = pp.nl[j];
    NlCmd n;
    n.op = &op;
    n.phase = &ph;
    n.seq = ++seq_;
    n.waits_gates = waits_gates;
    n.waits_stream = read_bits(op) > 0;
    if (pp.kind == PhaseKind::Recurrent) {
      // A step's slice of the input projection is read once, before its first direction, and
      // stays until its last direction is done.
      n.gives_hidden = op.step < pp.steps - 1;
      if (op.group == pp.groups - 1) n.frees_stream_bits = read_bits(pp.nl[j - static_cast<std::size_t>(op.group)]);
    } else {
      n.frees_stream_bits = read_bits(op);
    }
    if (n.waits_stream) {
      StreamCmd s;
      s.layer = &lr;
      s.op = &op;
      s.seq = n.seq;
      stream_out.write(s);
    }
    nl_out.write(n);
  };

  std::size_t next_nl = 0;
  for (const TileOp& op : pp.tiles) {
    const std::int64_t seq = ++seq_;
    if (op.loads()) load_out.write(LoadCmd{&op, &ph, seq});
    tiles_out.write(TileCmd{&op, &ph, seq});
    if (op.feeds_nonlinear) {
      if (next_nl >= pp.nl.size()) SC_REPORT_ERROR(kIdController, describe("a step without gate math", &lr).c_str());
      issue_nl(next_nl++, true);
    }
  }
  for (; next_nl < pp.nl.size(); ++next_nl) {
    if (pp.kind == PhaseKind::Recurrent) SC_REPORT_ERROR(kIdController, describe("gate math without a step", &lr).c_str());
    issue_nl(next_nl, false);
  }
  while (ph.outstanding > 0) wait(op_done_);
  ph.end = sc_time_stamp();

  // The tail after the critical engine's last busy cycle: the last write-back (fill/drain), or
  // the last step's gate math and h (the recurrence).
  const double total = (ph.end - ph.begin) / cfg.cycle;
  const double drain = ph.critical_started ? (ph.end - ph.critical_last_end) / cfg.cycle : total;
  (pp.kind == PhaseKind::Recurrent ? ph.recurrent : ph.fill_drain) += drain;
  const double residual = total - (ph.busy + ph.fill_drain + ph.dram + ph.contention + ph.recurrent);
  if (residual < -1e-6 * std::max(1.0, total))
    SC_REPORT_ERROR(kIdController, describe("idle time attributed twice", &lr).c_str());
  if (residual > 0) ph.dram += residual;  // idle without a recorded cause (command hand-off)
  add_slice(lr, Lane::Layers, to_string(pp.kind) + std::string(" ") + pp.name, ph.begin, ph.end, -1, 0, total);
}

// --- Accelerator ------------------------------------------------------------------------------

namespace {
constexpr int kCommandDepth = 16;  // commands the controller may run ahead of an engine
constexpr int kStagedDepth = 4;    // >= slots: staged-data records in flight
}  // namespace

Accelerator::Accelerator(sc_core::sc_module_name name)
    : sc_module(name),
      load_q_("load_q", kCommandDepth),
      tile_q_("tile_q", kCommandDepth),
      staged_q_("staged_q", kStagedDepth),
      stream_staged_q_("stream_staged_q", kStagedDepth),
      store_q_("store_q", kStagedDepth),
      nl_store_q_("nl_store_q", kCommandDepth),
      stream_q_("stream_q", kCommandDepth),
      nl_q_("nl_q", kCommandDepth),
      gates_q_("gates_q", kStagedDepth),
      hidden_q_("hidden_q", kStagedDepth),
      dram_("dram"),
      operands_("operand_buffers"),
      outputs_("output_buffer"),
      streams_("stream_buffer"),
      dma_("dma"),
      pe_("pe_array"),
      nl_("nonlinear_unit"),
      ctrl_("controller") {
  ctrl_.load_out(load_q_);
  ctrl_.tiles_out(tile_q_);
  ctrl_.stream_out(stream_q_);
  ctrl_.nl_out(nl_q_);

  dma_.dram(dram_);
  dma_.operand_buffer(operands_);
  dma_.output_buffer(outputs_);
  dma_.stream_buffer(streams_);
  dma_.done(ctrl_);
  dma_.load_in(load_q_);
  dma_.staged_out(staged_q_);
  dma_.store_in(store_q_);
  dma_.stream_in(stream_q_);
  dma_.stream_staged_out(stream_staged_q_);
  dma_.nl_store_in(nl_store_q_);

  pe_.tiles_in(tile_q_);
  pe_.staged_in(staged_q_);
  pe_.store_out(store_q_);
  pe_.gates_out(gates_q_);
  pe_.hidden_in(hidden_q_);
  pe_.operand_buffer(operands_);
  pe_.output_buffer(outputs_);
  pe_.done(ctrl_);

  nl_.cmds_in(nl_q_);
  nl_.stream_staged_in(stream_staged_q_);
  nl_.gates_in(gates_q_);
  nl_.hidden_out(hidden_q_);
  nl_.store_out(nl_store_q_);
  nl_.stream_buffer(streams_);
  nl_.done(ctrl_);
}

void Accelerator::run(Job& job) {
  const JobConfig& cfg = job.config;
  dram_.configure(cfg);
  operands_.configure(cfg.operand_slots, cfg.weight_slot_bits, cfg.input_slot_bits);
  outputs_.configure(cfg.output_slots, 0, 0);
  streams_.configure(cfg.stream_buffer_bits);
  pe_.configure(cfg);
  nl_.configure(cfg);
  ctrl_.submit(job);
  sc_core::sc_start();
}

}  // namespace mixprec::sim::systemc::model
