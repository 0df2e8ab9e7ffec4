#include "sim/workload.hpp"

#include <algorithm>
#include <cmath>

#include "core/factorization.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost.hpp"

namespace mixprec::sim {

std::int64_t GemmOp::a_elements() const {
  if (geom.conv) return std::int64_t(geom.images) * geom.in_h * geom.in_w * geom.in_c;
  return static_cast<std::int64_t>(std::ceil(double(m) * double(k) / geom.reuse));
}

namespace {

Operand fp32() { return Operand{NumFormat::Fp32, 32}; }

int acc_for(const LayerPrecision& p, const Operand& a, const Operand& b, std::int64_t k) {
  return p.accumulator_bits > 0 ? p.accumulator_bits : energy::accumulator_bits(b, a, k);
}

GemmOp gemm(const std::string& pass, std::int64_t m, std::int64_t n, std::int64_t k, Operand a,
            Operand b, Operand out, const LayerPrecision& p) {
  GemmOp g;
  g.pass = pass;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.b = b;
  g.out = out;
  g.acc_bits = acc_for(p, a, b, k);
  return g;
}

void add_nl(LayerWork& w, NonlinearKind kind, std::int64_t ops, Operand op, int serial = 1) {
  if (ops > 0) w.nonlinear.push_back(NonlinearWork{kind, ops, op, serial});
}

void add_stream(LayerWork& w, std::int64_t reads, std::int64_t writes, int bits, int tensor,
                bool dram = true) {
  if (reads > 0 || writes > 0) w.streams.push_back(StreamTraffic{reads, writes, bits, tensor, dram});
}

// Optimizer step (AdamW) for `count` FP32 master weights: read w, m, v and the gradient,
// write w, m, v and the re-quantized weights; ~5 multiplies and 5 adds per weight.
void optimizer_work(LayerWork& w, std::int64_t count, const LayerPrecision& p) {
  const int wt = static_cast<int>(Tensor::Weights);
  add_stream(w, 3 * count, 3 * count, 32, wt);
  add_stream(w, count, 0, p.gradients().bits, wt);
  add_stream(w, 0, count, p.weights().bits, wt);
  add_nl(w, NonlinearKind::Multiply, 5 * count, fp32());
  add_nl(w, NonlinearKind::Add, 5 * count, fp32());
  // Gradient quantization from the FP32 accumulation buffer: one scale and one rounding add.
  add_nl(w, NonlinearKind::Multiply, count, fp32());
  add_nl(w, NonlinearKind::Add, count, fp32());
}

// One op per output element on the nonlinear unit, `inputs` tensors read and one written;
// training moves the output gradient back to each input.
void elementwise_work(LayerWork& w, const Layer& l, const LayerPrecision& p, bool train, NonlinearKind kind,
                      int inputs) {
  const int in_t = static_cast<int>(Tensor::Inputs), out_t = static_cast<int>(Tensor::Outputs);
  add_nl(w, kind, l.out.elements(), p.activations());
  add_stream(w, inputs * l.out.elements(), 0, p.activations().bits, in_t);
  add_stream(w, 0, l.out.elements(), p.outputs().bits, out_t);
  if (train) add_stream(w, l.out.elements(), inputs * l.out.elements(), p.gradients().bits, out_t);
}

void conv_work(LayerWork& w, const Network& net, const Layer& l, const LayerPrecision& p,
               Phase phase) {
  const int g = l.groups;
  const std::int64_t m = std::int64_t(l.out.n) * l.out.h * l.out.w;
  const std::int64_t n = l.out_channels / g;
  const std::int64_t k = std::int64_t(l.in.c / g) * l.kernel_h * l.kernel_w;
  GemmOp f = gemm("forward", m, n, k, p.activations(), p.weights(), p.outputs(), p);
  f.groups = g;
  f.geom.conv = true;
  f.geom.images = l.in.n;
  f.geom.in_h = l.in.h;
  f.geom.in_w = l.in.w;
  f.geom.in_c = l.in.c / g;
  f.geom.kh = l.kernel_h;
  f.geom.kw = l.kernel_w;
  f.geom.stride = l.stride;
  f.geom.out_h = l.out.h;
  f.geom.out_w = l.out.w;
  f.geom.pad = l.padding;
  w.gemms.push_back(f);
  if (phase != Phase::Training) return;
  const double reuse = std::max(1.0, double(l.kernel_h * l.kernel_w) / (l.stride * l.stride));
  if (l.inputs[0] >= 0) {  // no input gradient for the network input
    GemmOp bd = gemm("backward_data", std::int64_t(l.in.n) * l.in.h * l.in.w, l.in.c / g,
                     std::int64_t(n) * l.kernel_h * l.kernel_w, p.gradients(), p.weights(),
                     p.gradients(), p);
    bd.groups = g;
    bd.geom.reuse = double(l.kernel_h * l.kernel_w);
    w.gemms.push_back(bd);
  }
  GemmOp wg = gemm("weight_grad", k, n, m, p.activations(), p.gradients(), fp32(), p);
  wg.groups = g;
  wg.geom.reuse = reuse;
  w.gemms.push_back(wg);
  const std::int64_t out_elems = l.out.elements();
  if (l.batchnorm) {  // batch norm is not folded while training: 4 ops/elem fwd, 6 bwd
    add_nl(w, NonlinearKind::Multiply, 5 * out_elems, fp32());
    add_nl(w, NonlinearKind::Add, 5 * out_elems, fp32());
  }
  if (l.relu) add_nl(w, NonlinearKind::Multiply, out_elems, p.gradients());
  optimizer_work(w, l.weight_count(), p);
  (void)net;
}

void linear_work(LayerWork& w, const Layer& l, const LayerPrecision& p, Phase phase) {
  const std::int64_t m = std::int64_t(l.in.n) * l.in.t;
  const std::int64_t n = l.out_features, k = l.in.c;
  w.gemms.push_back(gemm("forward", m, n, k, p.activations(), p.weights(), p.outputs(), p));
  if (phase != Phase::Training) return;
  if (l.inputs[0] >= 0)
    w.gemms.push_back(gemm("backward_data", m, k, n, p.gradients(), p.weights(), p.gradients(), p));
  w.gemms.push_back(gemm("weight_grad", k, n, m, p.activations(), p.gradients(), fp32(), p));
  if (l.relu) add_nl(w, NonlinearKind::Multiply, m * n, p.gradients());
  optimizer_work(w, l.weight_count(), p);
}

// A factorized input projection (core/factorization.hpp): one GEMM per contraction step of the
// MAC-minimal plan, named after its core ("tt_core3", "ht_leaf1", ...). The input rows stream
// from DRAM into the first step and the gate pre-activations of the last step go back to DRAM
// (as a dense projection's do); an intermediate product stays on chip when it fits the input
// buffer (half of it when double-buffered), else it makes a round trip through DRAM. Every
// tensor of a step is at the layer's activation bits, every core at its weight bits;
// re-layouts between steps are address generation (free).
// Without hardware (derive_work's short form) every intermediate goes through DRAM.
// "tt_step2_core3", "ht_step3_node1-2": step `s` (0-based) of the plan and the core it contracts.
std::string step_name(const TensorNetwork& tn, const ContractionPlan& plan, std::size_t s) {
  const std::string& core = tn.cores[size_t(plan.steps[s].core)].name;  // "tt_core3", "ht_leaf1", ...
  const std::size_t us = core.find('_');
  return core.substr(0, us) + "_step" + std::to_string(s + 1) + "_" + core.substr(us + 1);
}

void factorized_projection(LayerWork& w, const Layer& l, const LayerPrecision& p, std::int64_t rows,
                           const HardwareSpec* hw) {
  const TensorNetwork tn = make_tensor_network(l.factorization);
  const ContractionPlan plan = plan_min_macs(tn);
  const double on_chip_bits =
      hw ? hw->input_buffer.size_bytes() * 8.0 * (hw->input_buffer.double_buffered ? 0.5 : 1.0) : 0.0;
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const ContractionStep& st = plan.steps[s];
    GemmOp g = gemm(tn.cores[size_t(st.core)].name, rows * st.m, st.n, st.k, p.activations(),
                    p.weights(), p.activations(), p);
    const bool last = s + 1 == plan.steps.size();
    const bool keep = !last && double(rows) * double(st.result_per_row()) * p.activations().bits <= on_chip_bits;
    g.out_to_dram = !keep;
    g.step = step_name(tn, plan, s);
    if (s > 0) g.a_from_dram = w.gemms.back().out_to_dram;
    w.gemms.push_back(g);
  }
}

// Training: the steps in reverse, each a core gradient (A^T dOut: k x n, reduced over the rows)
// and, except for the first step on the network input, the gradient of its input (dOut B^T).
void factorized_projection_backward(LayerWork& w, const Layer& l, const LayerPrecision& p,
                                    std::int64_t rows) {
  const TensorNetwork tn = make_tensor_network(l.factorization);
  const ContractionPlan plan = plan_min_macs(tn);
  for (std::size_t s = plan.steps.size(); s-- > 0;) {
    const ContractionStep& st = plan.steps[s];
    const std::string& core = tn.cores[size_t(st.core)].name;
    w.gemms.push_back(gemm("weight_grad_" + core, st.k, st.n, rows * st.m, p.activations(),
                           p.gradients(), fp32(), p));
    w.gemms.back().step = step_name(tn, plan, s);
    if (s > 0 || l.inputs[0] >= 0) {
      w.gemms.push_back(gemm("backward_data_" + core, rows * st.m, st.k, st.n, p.gradients(),
                             p.weights(), p.gradients(), p));
      w.gemms.back().step = step_name(tn, plan, s);
    }
  }
}

// LSTM (4 gates) and GRU (3 gates: r, z, n): the same GEMMs with G gates; the element-wise
// work per cell differs.
void recurrent_work(LayerWork& w, const Layer& l, const LayerPrecision& p, Phase phase,
                    const HardwareSpec* hw) {
  const int dirs = l.bidirectional ? 2 : 1;
  const bool gru = l.kind == LayerKind::Gru;
  const std::int64_t G = l.gates();
  // Only the steps the recurrence runs (Layer::recurrent_steps) read inputs and cost MACs and
  // nonlinear operations; a sequence output still holds every input step (zero after them).
  const std::int64_t batch = l.in.n, steps = l.recurrent_steps(), f = l.in.c, h = l.hidden;
  const int out_t = static_cast<int>(Tensor::Outputs), in_t = static_cast<int>(Tensor::Inputs);
  w.serial_steps = true;
  w.steps = static_cast<int>(steps);
  // Input projection for all steps and both directions at once (no recurrence in it).
  if (l.factorization.active()) {
    factorized_projection(w, l, p, batch * steps, hw);
  } else {
    GemmOp ip = gemm("input_proj", batch * steps, G * h * dirs, f, p.activations(), p.weights(),
                     p.activations(), p);
    w.gemms.push_back(ip);
  }
  // Recurrent products, one step at a time; the directions are independent groups.
  GemmOp rc = gemm("recurrent", batch, G * h, h, p.activations(), p.recurrent_weights(),
                   p.gates(), p);
  rc.groups = dirs;
  rc.repeats = static_cast<int>(steps);
  rc.a_from_dram = false;
  rc.out_to_dram = false;
  rc.b_resident = true;
  w.gemms.push_back(rc);
  // Each step reads back its slice of the input projection.
  add_stream(w, batch * steps * G * h * dirs, 0, p.activations().bits, in_t);
  const std::int64_t cells = batch * steps * h * dirs;
  const int serial = static_cast<int>(steps);
  if (gru) {
    add_nl(w, NonlinearKind::Sigmoid, 2 * cells, p.gates(), serial);        // r, z
    add_nl(w, NonlinearKind::Tanh, cells, p.gates(), serial);               // n
    // r*(W_hn h + b_hn), (1-z)*n, z*h; + b_hn, x_n + ..., 1 - z, (1-z)*n + z*h
    add_nl(w, NonlinearKind::Multiply, 3 * cells, p.activations(), serial);
    add_nl(w, NonlinearKind::Add, 4 * cells, p.activations(), serial);
    // The hidden state h_{t-1} (read by z*h) lives in the output buffer.
    add_stream(w, cells, cells, p.activations().bits, out_t, false);
  } else {
    add_nl(w, NonlinearKind::Sigmoid, 3 * cells, p.gates(), serial);          // i, f, o
    add_nl(w, NonlinearKind::Tanh, 2 * cells, p.gates(), serial);             // g, tanh(c)
    add_nl(w, NonlinearKind::Multiply, 3 * cells, p.cell_state(), serial);    // f*c, i*g, o*tanh(c)
    add_nl(w, NonlinearKind::Add, cells, p.cell_state(), serial);             // c = f*c + i*g
    // Cell state lives in the output buffer: one read and one write per cell per step.
    add_stream(w, cells, cells, p.cell_state().bits, out_t, false);
  }
  // Hidden states written back (every output step, or the last one): with `steps` < T the
  // sequence output's zero steps are written too (its reader reads T steps).
  const std::int64_t out_steps = l.return_sequences ? l.out.t : 1;
  add_stream(w, 0, batch * out_steps * h * dirs, p.outputs().bits, out_t);
  if (phase != Phase::Training) return;
  // Backpropagation through time: the same products transposed, plus the weight gradients.
  GemmOp rb = gemm("backward_recurrent", batch, h, G * h, p.gradients(), p.recurrent_weights(),
                   p.gradients(), p);
  rb.groups = dirs;
  rb.repeats = static_cast<int>(steps);
  rb.a_from_dram = false;
  rb.out_to_dram = false;
  rb.b_resident = true;
  w.gemms.push_back(rb);
  if (l.factorization.active()) {
    factorized_projection_backward(w, l, p, batch * steps);
  } else {
    if (l.inputs[0] >= 0)
      w.gemms.push_back(gemm("backward_data", batch * steps, f, G * h * dirs, p.gradients(),
                             p.weights(), p.gradients(), p));
    w.gemms.push_back(gemm("weight_grad", f, G * h * dirs, batch * steps, p.activations(),
                           p.gradients(), fp32(), p));
  }
  GemmOp wr = gemm("weight_grad_recurrent", h, G * h, batch * steps, p.activations(),
                   p.gradients(), fp32(), p);
  wr.groups = dirs;
  w.gemms.push_back(wr);
  // Gate derivatives: ~2x the forward elementwise work, serialized like the forward pass
  // (GRU: the 11 products and 5 sums of model/gru.cpp's step).
  add_nl(w, NonlinearKind::Multiply, (gru ? 11 : 8) * cells, p.gradients(), serial);
  add_nl(w, NonlinearKind::Add, (gru ? 5 : 4) * cells, p.gradients(), serial);
  // Saved gates and cell states (GRU: r, z, n and the reset product) for BPTT: written
  // forward, read backward.
  const std::int64_t saved = (gru ? 4 : 5) * cells;
  add_stream(w, saved, saved, p.gates().bits, out_t);
  optimizer_work(w, l.weight_count(), p);
}

}  // namespace

LayerWork derive_work(const Network& net, int index, const LayerPrecision& p, Phase phase) {
  return derive_work(net, index, p, phase, nullptr);
}

LayerWork derive_work(const Network& net, int index, const LayerPrecision& p, Phase phase,
                      const HardwareSpec* hw) {
  const Layer& l = net.layers[index];
  LayerWork w;
  w.layer = index;
  const int in_t = static_cast<int>(Tensor::Inputs), out_t = static_cast<int>(Tensor::Outputs);
  const bool train = phase == Phase::Training;
  switch (l.kind) {
    case LayerKind::Conv2d: conv_work(w, net, l, p, phase); break;
    case LayerKind::Linear: linear_work(w, l, p, phase); break;
    case LayerKind::Lstm:
    case LayerKind::Gru: recurrent_work(w, l, p, phase, hw); break;
    case LayerKind::Pool: {
      const std::int64_t window =
          l.pool == PoolKind::GlobalAvg ? std::int64_t(l.in.h) * l.in.w
                                        : std::int64_t(l.pool_kernel) * l.pool_kernel;
      add_nl(w, NonlinearKind::Add, l.out.elements() * window, p.activations());
      add_stream(w, l.in.elements(), 0, p.activations().bits, in_t);
      add_stream(w, 0, l.out.elements(), p.outputs().bits, out_t);
      if (train) {
        add_nl(w, NonlinearKind::Add, l.in.elements(), p.gradients());
        add_stream(w, l.out.elements(), l.in.elements(), p.gradients().bits, out_t);
      }
      break;
    }
    case LayerKind::Add: elementwise_work(w, l, p, train, NonlinearKind::Add, 2); break;
    case LayerKind::Elementwise: {
      // A standalone ReLU is a comparison per element: priced as an add on the nonlinear unit.
      const ElementwiseOp op = l.elementwise;
      const NonlinearKind k = op == ElementwiseOp::Sigmoid ? NonlinearKind::Sigmoid
                              : op == ElementwiseOp::Tanh  ? NonlinearKind::Tanh
                              : op == ElementwiseOp::Mul   ? NonlinearKind::Multiply
                                                           : NonlinearKind::Add;
      elementwise_work(w, l, p, train, k, op == ElementwiseOp::Mul ? 2 : 1);
      // Training: the derivative (sigmoid y(1-y), tanh 1-y^2, the product's other input) per element.
      if (train) add_nl(w, NonlinearKind::Multiply, (op == ElementwiseOp::Relu ? 1 : 2) * l.out.elements(), p.gradients());
      break;
    }
    case LayerKind::Concat:
      // Data movement: both inputs read, the joined tensor written (gradients split back).
      add_stream(w, l.out.elements(), 0, p.activations().bits, in_t);
      add_stream(w, 0, l.out.elements(), p.outputs().bits, out_t);
      if (train) add_stream(w, l.out.elements(), l.out.elements(), p.gradients().bits, out_t);
      break;
    case LayerKind::BatchNorm:
      // Folded into the preceding layer's weights for inference: no work of its own.
      if (train) {
        add_nl(w, NonlinearKind::Multiply, 5 * l.out.elements(), fp32());
        add_nl(w, NonlinearKind::Add, 5 * l.out.elements(), fp32());
        add_stream(w, 2 * l.in.elements(), 2 * l.out.elements(), 32, out_t);
      }
      break;
    case LayerKind::FramesToSequence: break;  // a view: no data moves
  }
  return w;
}

}  // namespace mixprec::sim
