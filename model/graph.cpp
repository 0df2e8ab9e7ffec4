#include "model/graph.hpp"

#include <cmath>
#include <ctime>

#include "model/add.hpp"
#include "model/avgpool2d.hpp"
#include "model/batchnorm2d.hpp"
#include "model/conv2d.hpp"
#include "model/fused.hpp"
#include "model/elementwise.hpp"
#include "model/global_avg_pool.hpp"
#include "model/gru.hpp"
#include "model/linear.hpp"
#include "model/lstm.hpp"
#include "model/sequential.hpp"
#include "model/step_window.hpp"
#include "model/tensor_linear.hpp"
#include "model/maxpool2d.hpp"
#include "model/quant_lstm.hpp"
#include "model/relu.hpp"

namespace mixprec::model {

namespace {

bool all_finite(const Tensor& t) {
  const float* p = t.data();
  for (std::int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

}  // namespace

struct Graph::Node {
  const mixprec::Layer* spec = nullptr;
  int index = 0;
  std::vector<Layer*> stages;         // forward order; stage 0 may take two inputs (Add)
  std::unique_ptr<ActQuant> in_q;
  std::unique_ptr<Layer> op;
  std::vector<std::unique_ptr<Layer>> post;  // BatchNorm2d, ReLU, or the fused BatchNormReLU
  // Weight fake quantization (conv/linear): master weights the optimizer sees; op's own weight
  // parameter holds Q(master).
  std::unique_ptr<WeightQuant> w_q;
  std::unique_ptr<Param> master;
  Param* shadow = nullptr;
  bool int_capable = false;           // integer-format conv/linear
  std::vector<Tensor> acts;           // output of stage k (k < last)
  std::vector<Tensor> grads;          // gradient of stage k's input (k >= 1)
  Tensor out, gout;
  bool gout_set = false;
  std::vector<Param*> params;
  std::vector<Buffer*> buffers;
  // integer evaluation scratch
  Tensor qx, qw;
  std::vector<std::int64_t> acc;
  // evaluation with the BatchNorm folded into the convolution
  std::unique_ptr<Conv2d> folded;
  bool fold_relu = false;
  bool folded_last = false;  // the last forward was folded: no backward possible
  // sensitivity support: a perturbation of input 0 (this node's copy), the captured gradient
  const Tensor* in_delta = nullptr;
  Tensor perturbed_in, in_grad;
};

Graph::Graph(const Network& net, std::vector<LayerPrecision> precision, const GraphOptions& opt)
    : net_(net), precision_(std::move(precision)), opt_(opt) {
  MIXPREC_CHECK(!net_.layers.empty(), "graph: empty network");
  MIXPREC_CHECK(precision_.empty() || precision_.size() == net_.layers.size(),
                "graph: " + std::to_string(precision_.size()) + " precisions for " +
                    std::to_string(net_.layers.size()) + " layers");
  for (std::size_t i = 0; i < net_.layers.size(); ++i) build_node(int(i));
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    for (Param* p : nodes_[i]->params) {
      params_.push_back(p);
      param_layers_.push_back(int(i));
    }
}

Graph::~Graph() = default;

bool Graph::is_nonnegative(int layer) const {
  if (layer < 0) return false;
  const mixprec::Layer& l = net_.layers[size_t(layer)];
  switch (l.kind) {
    case LayerKind::Conv2d:
    case LayerKind::Linear:
    case LayerKind::Add: return l.relu;
    case LayerKind::Pool:
    case LayerKind::FramesToSequence: return is_nonnegative(l.inputs[0]);
    case LayerKind::Elementwise: return l.elementwise == ElementwiseOp::Relu || l.elementwise == ElementwiseOp::Sigmoid;
    default: return false;
  }
}

void Graph::build_node(int i) {
  auto n = std::make_unique<Node>();
  const mixprec::Layer& l = net_.layers[size_t(i)];
  n->spec = &l;
  n->index = i;
  const bool quant = !precision_.empty() && precision_[size_t(i)].format != NumFormat::Fp32 &&
                     (l.kind == LayerKind::Conv2d || l.kind == LayerKind::Linear ||
                      is_recurrent(l.kind));
  const LayerPrecision p = quant ? precision_[size_t(i)] : LayerPrecision{};
  if (quant) {
    ActQuantOptions ao;
    ao.spec = quant_spec(p.activations(), is_nonnegative(l.inputs[0]), p.fraction_bits);
    ao.range = opt_.range;
    n->in_q = std::make_unique<ActQuant>(l.name, ao);
  }
  const Dims in = dims_of(l.in);
  switch (l.kind) {
    case LayerKind::Conv2d: {
      Conv2dOptions o;
      o.in_channels = l.in.c;
      o.out_channels = l.out_channels;
      o.kernel_h = l.kernel_h;
      o.kernel_w = l.kernel_w;
      o.stride = l.stride;
      o.padding = l.padding;
      o.groups = l.groups;
      o.bias = l.bias;
      auto conv = std::make_unique<Conv2d>(l.name, o);
      n->shadow = &conv->weight();
      n->op = std::move(conv);
      const BatchNorm2dOptions bo{l.out_channels};
      if (l.batchnorm && l.relu) {
        n->post.push_back(std::make_unique<BatchNormReLU>(l.name + ".bn", bo));
      } else {
        if (l.batchnorm) n->post.push_back(std::make_unique<BatchNorm2d>(l.name + ".bn", bo));
        if (l.relu) n->post.push_back(std::make_unique<ReLU>(l.name + ".relu"));
      }
      break;
    }
    case LayerKind::Linear: {
      const int in_features = int(l.in.c) * l.in.h * l.in.w;
      auto lin = std::make_unique<Linear>(l.name, LinearOptions{in_features, l.out_features, l.bias});
      n->shadow = &lin->weight();
      n->op = std::move(lin);
      if (l.relu) n->post.push_back(std::make_unique<ReLU>(l.name + ".relu"));
      break;
    }
    case LayerKind::Lstm: {
      LstmOptions o;
      o.input_size = l.in.c * l.in.h * l.in.w;
      o.hidden = l.hidden;
      o.bidirectional = l.bidirectional;
      o.return_sequences = l.return_sequences;
      o.reverse = l.reverse;
      o.initial_state = l.initial_state;
      o.bias = true;
      std::unique_ptr<FactorizedLinear> proj;
      if (l.factorization.active()) {
        // TT / HT input projection (cores at the weight bits), then the cell without W_ih.
        proj = std::make_unique<FactorizedLinear>(l.name, projection_options(l.factorization, quant ? &p : nullptr,
                                                                               opt_.range));
        o.input_size = int(proj->out_features());
        o.projected_input = true;
      }
      if (quant) {
        QuantLstmOptions q;
        q.lstm = o;
        q.weight = quant_spec(p.weights(), false, p.fraction_bits);
        q.recurrent_weight = quant_spec(p.recurrent_weights(), false, p.fraction_bits);
        q.gate = quant_spec(p.gates(), false, p.fraction_bits);
        q.cell = quant_spec(p.cell_state(), false, p.fraction_bits);
        q.hidden = quant_spec(p.activations(), false, p.fraction_bits);
        q.range = opt_.range;
        n->op = std::make_unique<QuantLstm>(l.name, q);
      } else {
        n->op = std::make_unique<Lstm>(l.name, o);
      }
      if (proj) {
        auto seq = std::make_unique<Sequential>(l.name);
        seq->add(std::move(proj));
        seq->add(std::move(n->op));
        n->op = std::move(seq);
      }
      break;
    }
    case LayerKind::Pool: {
      const Pool2dOptions po{l.pool_kernel, l.pool_stride, 0};
      if (l.pool == PoolKind::Max)
        n->op = std::make_unique<MaxPool2d>(l.name, po);
      else if (l.pool == PoolKind::Avg)
        n->op = std::make_unique<AvgPool2d>(l.name, po);
      else
        n->op = std::make_unique<GlobalAvgPool>(l.name);
      break;
    }
    case LayerKind::Add:
      if (l.relu)
        n->op = std::make_unique<AddReLU>(l.name);
      else
        n->op = std::make_unique<Add>(l.name);
      break;
    case LayerKind::BatchNorm:
      n->op = std::make_unique<BatchNorm2d>(l.name, BatchNorm2dOptions{in.c});
      break;
    case LayerKind::FramesToSequence: break;
    case LayerKind::Gru: {
      GruOptions o;
      o.input_size = l.in.c * l.in.h * l.in.w;
      o.hidden = l.hidden;
      o.bidirectional = l.bidirectional;
      o.return_sequences = l.return_sequences;
      o.linear_before_reset = l.linear_before_reset;
      o.reverse = l.reverse;
      if (quant) {
        o.weight = quant_spec(p.weights(), false, p.fraction_bits);
        o.recurrent_weight = quant_spec(p.recurrent_weights(), false, p.fraction_bits);
      }
      o.range = opt_.range;
      n->op = std::make_unique<Gru>(l.name, o);
      break;
    }
    case LayerKind::Elementwise: n->op = std::make_unique<Elementwise>(l.name, l.elementwise); break;
    case LayerKind::Concat: {
      const Dims od = dims_of(l.out);
      n->op = std::make_unique<Concat>(l.name, l.out.t > 1 ? l.out.t : 1, Dims{1, od.c, od.h, od.w});
      break;
    }
  }
  // core Layer::steps < T: the cell runs the first steps only (model/step_window.hpp).
  if (is_recurrent(l.kind)) n->op = with_step_window(std::move(n->op), l.recurrent_steps(), l.in.t, l.return_sequences);
  // Conv/linear weight quantization through master/shadow weights.
  if (quant && n->shadow) {
    n->w_q = std::make_unique<WeightQuant>(l.name + ".weight_step", quant_spec(p.weights(), false, p.fraction_bits),
                                           opt_.range, n->shadow->value.dims());
    n->master = std::make_unique<Param>(n->shadow->name, n->shadow->role,
                                        n->shadow->value.dims(), n->shadow->decay);
    n->int_capable = p.format == NumFormat::Int;
  }
  if (n->in_q) n->stages.push_back(n->in_q.get());
  if (n->op) n->stages.push_back(n->op.get());
  for (auto& p : n->post) n->stages.push_back(p.get());
  n->acts.resize(n->stages.size());
  n->grads.resize(n->stages.size());
  // Parameters: the op's (master in place of the shadow), then BN, then quantizer steps.
  if (n->op) {
    for (Param* q : n->op->params()) n->params.push_back(q == n->shadow && n->master ? n->master.get() : q);
    for (Buffer* b : n->op->buffers()) n->buffers.push_back(b);
  }
  for (auto& p : n->post) {
    for (Param* q : p->params()) n->params.push_back(q);
    for (Buffer* b : p->buffers()) n->buffers.push_back(b);
  }
  if (n->in_q) {
    for (Param* q : n->in_q->params()) n->params.push_back(q);
    for (Buffer* b : n->in_q->buffers()) n->buffers.push_back(b);
  }
  if (n->w_q && n->w_q->step_param()) n->params.push_back(n->w_q->step_param());
  nodes_.push_back(std::move(n));
}

Dims Graph::input_dims(int batch) const {
  const Shape& s = net_.input;
  if (s.t > 1) return Dims{batch, s.t, s.c * s.h * s.w, 1};
  return Dims{batch * net_.frames, s.c, s.h, s.w};
}

int Graph::batch_of(const Dims& d) const {
  if (net_.input.t > 1) return d.n;
  return d.n / net_.frames;
}

void Graph::init(std::mt19937_64& rng) {
  for (auto& n : nodes_) {
    if (n->op) n->op->init(rng);
    for (auto& p : n->post) p->init(rng);
    if (n->master) n->master->value.assign(n->shadow->value);
  }
}

void Graph::set_training(bool on) {
  training_ = on;
  for (auto& n : nodes_)
    for (Layer* s : n->stages) s->set_training(on);
}

void Graph::set_integer_eval(bool on, const IntEvalOptions& opt) {
  integer_eval_ = on;
  int_opt_ = opt;
}

std::vector<Param*> Graph::params() { return params_; }

const std::vector<int>& Graph::param_layers() { return param_layers_; }

std::vector<Buffer*> Graph::buffers() {
  std::vector<Buffer*> out;
  for (auto& n : nodes_)
    for (Buffer* b : n->buffers) out.push_back(b);
  return out;
}

void Graph::zero_grad() {
  for (Param* p : params_) p->grad.set_zero();
}

const Tensor& Graph::output(int layer) const { return nodes_[size_t(layer)]->out; }

const ActQuant* Graph::input_quantizer(int layer) const { return nodes_[size_t(layer)]->in_q.get(); }

void Graph::set_profiling(bool on) {
  profiling_ = on;
  times_.assign(nodes_.size(), LayerTime{});
}

namespace {
// CPU time of the calling thread: profiles stay meaningful on a loaded machine.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
}  // namespace

const Tensor& Graph::forward(const Tensor& x) {
  static const std::vector<const Tensor*> none;
  partial_forward_ = false;
  return run_forward(0, layer_count() - 1, x, none);
}

const Tensor& Graph::forward_from(int first, const Tensor& x, const std::vector<const Tensor*>& earlier,
                                  int last) {
  if (last < 0) last = layer_count() - 1;
  MIXPREC_CHECK(first >= 0 && first <= last && last < layer_count(),
                "forward_from: layers " + std::to_string(first) + ".." + std::to_string(last));
  MIXPREC_CHECK(!training_, "forward_from is for evaluation");
  partial_forward_ = true;
  return run_forward(first, last, x, earlier);
}

const Tensor& Graph::run_forward(int first, int last, const Tensor& x,
                                 const std::vector<const Tensor*>& earlier) {
  MIXPREC_CHECK(x.dims().per_sample() == input_dims(1).per_sample(),
                "graph " + net_.name + ": input " + x.dims().str() + " does not match " +
                    input_dims(1).str() + " per sample");
  auto source = [&](int i) -> const Tensor* {
    if (i < 0) return &x;
    if (i >= first) return &node(i).out;
    MIXPREC_CHECK(size_t(i) < earlier.size() && earlier[size_t(i)] != nullptr,
                  "forward_from: no output given for layer " + net_.layers[size_t(i)].name);
    return earlier[size_t(i)];
  };
  for (std::size_t k = size_t(first); k <= size_t(last); ++k) {
    Node& n = *nodes_[k];
    const auto& in = n.spec->inputs;
    const Tensor* a = source(in[0]);
    const Tensor* b = in.size() > 1 ? source(in[1]) : nullptr;
    if (n.in_delta) {
      MIXPREC_CHECK(n.in_delta->dims() == a->dims(), n.spec->name + ": perturbation " +
                                                         n.in_delta->dims().str() + " of input " + a->dims().str());
      n.perturbed_in.assign(*a);
      n.perturbed_in.vec() += n.in_delta->vec();
      a = &n.perturbed_in;
    }
    if (!profiling_) {
      node_forward(n, a, b);
      continue;
    }
    const double t0 = thread_seconds();
    node_forward(n, a, b);
    times_[size_t(n.index)].forward_s += thread_seconds() - t0;
    ++times_[size_t(n.index)].calls;
  }
  return nodes_[size_t(last)]->out;
}

void Graph::node_forward(Node& n, const Tensor* a, const Tensor* b) {
  if (n.spec->kind == LayerKind::FramesToSequence) {
    const Dims d = a->dims();
    MIXPREC_CHECK(d.n % net_.frames == 0,
                  n.spec->name + ": input " + d.str() + " is not (batch*frames, c, h, w)");
    n.out.assign(*a);
    // Each frame's c x h x w values become one step's features (row-major, c slowest).
    n.out.reshape(Dims{d.n / net_.frames, net_.frames, d.c * d.h * d.w, 1});
    return;
  }
  if (!training_ && opt_.fold_batchnorm && !n.w_q && n.spec->kind == LayerKind::Conv2d &&
      n.spec->batchnorm && n.stages.size() <= 2 + size_t(n.in_q ? 1 : 0)) {
    folded_forward(n, *a);
    n.folded_last = true;
    return;
  }
  n.folded_last = false;
  if (n.w_q) n.w_q->forward(n.master->value, n.shadow->value);
  const bool int_path = n.int_capable && integer_eval_ && !training_;
  const Tensor* cur = a;
  const std::size_t last = n.stages.size() - 1;
  for (std::size_t k = 0; k < n.stages.size(); ++k) {
    Tensor& dst = k == last ? n.out : n.acts[k];
    Layer* s = n.stages[k];
    if (s->arity() == 2) {
      s->forward(Inputs{cur, b}, dst);
    } else if (int_path && s == n.op.get()) {
      // Integer GEMM on the grids the fake-quantized forward uses.
      const LayerPrecision& p = precision_[size_t(n.index)];
      const float sa = n.in_q->last_step();
      const std::vector<float>& sw = n.w_q->steps();
      const Tensor& x = *a;  // the raw input: quantize_to_grid gives the in_q's integers
      n.qx.resize(x.dims());
      quantize_to_grid(x.data(), x.size(), sa, n.in_q->grid(), n.qx.data());
      const Tensor& w = n.master->value;
      n.qw.resize(w.dims());
      const std::int64_t per = w.dims().per_sample();
      for (int c = 0; c < w.n(); ++c)
        quantize_to_grid(w.data() + c * per, per, sw[size_t(c)], n.w_q->grid(),
                         n.qw.data() + c * per);
      IntGemmSpec gs;
      gs.weight_bits = p.weight_bits;
      gs.activation_bits = p.activation_bits;
      gs.overflow = int_opt_.overflow;
      const Tensor* bias = nullptr;
      Dims od;
      std::int64_t per_out = 1;  // accumulator entries per output channel group
      if (auto* conv = dynamic_cast<Conv2d*>(n.op.get())) {
        const Conv2dOptions& o = conv->options();
        gs.acc_bits = accumulator_bits(p.accumulator_bits, p.weight_bits, p.activation_bits,
                                       std::int64_t(o.in_channels / o.groups) * o.kernel_h * o.kernel_w);
        int_conv2d(n.qx, n.qw, o, gs, n.acc, od);
        per_out = std::int64_t(od.h) * od.w;
        if (o.bias) bias = &conv->bias().value;
      } else {
        auto* lin = dynamic_cast<Linear*>(n.op.get());
        MIXPREC_CHECK(lin != nullptr, n.spec->name + ": integer path needs conv or linear");
        gs.acc_bits = accumulator_bits(p.accumulator_bits, p.weight_bits, p.activation_bits,
                                       lin->options().in_features);
        int_linear(n.qx, n.qw, gs, n.acc);
        od = lin->output_dims(x.dims());
        if (lin->options().bias) bias = &lin->bias().value;
      }
      dst.resize(od);
      const int channels = w.n();
      for (std::int64_t i = 0; i < dst.size(); ++i) {
        const int c = int((i / per_out) % channels);
        double v = double(n.acc[size_t(i)]) * (double(sw[size_t(c)]) * double(sa));
        if (bias) v += (*bias)[c];
        dst[i] = float(v);
      }
    } else {
      s->forward(*cur, dst);
    }
    cur = &dst;
  }
}

void Graph::folded_forward(Node& n, const Tensor& x) {
  auto* conv = static_cast<Conv2d*>(n.op.get());
  const Conv2dOptions& o = conv->options();
  if (!n.folded) {
    Conv2dOptions fo = o;
    fo.bias = true;
    n.folded = std::make_unique<Conv2d>(n.spec->name, fo);
    n.folded->set_training(false);
  }
  // BN in evaluation: y = scale (x - mean) + beta, scale = gamma / sqrt(var + eps) (computed in
  // double, as BatchNorm2d does).
  const Tensor *gamma, *beta, *mean, *var;
  double eps;
  Layer* post = n.post[0].get();
  if (auto* f = dynamic_cast<BatchNormReLU*>(post)) {
    gamma = &f->gamma().value;
    beta = &f->beta().value;
    mean = &f->running_mean();
    var = &f->running_var();
    eps = f->options().eps;
    n.fold_relu = true;
  } else {
    auto* b = dynamic_cast<BatchNorm2d*>(post);
    MIXPREC_CHECK(b != nullptr, n.spec->name + ": folding needs a BatchNorm2d");
    gamma = &b->gamma().value;
    beta = &b->beta().value;
    mean = &b->running_mean();
    var = &b->running_var();
    eps = b->options().eps;
    n.fold_relu = n.post.size() > 1;
  }
  const Tensor& w = conv->weight().value;
  Tensor& fw = n.folded->weight().value;
  Tensor& fb = n.folded->bias().value;
  const std::int64_t per = w.dims().per_sample();
  for (int c = 0; c < o.out_channels; ++c) {
    const float inv = float(1.0 / std::sqrt(double((*var)[c]) + eps));
    const float scale = (*gamma)[c] * inv;
    for (std::int64_t i = 0; i < per; ++i) fw[c * per + i] = w[c * per + i] * scale;
    const float b0 = o.bias ? conv->bias().value[c] : 0.0f;
    fb[c] = (*beta)[c] + (b0 - (*mean)[c]) * scale;
  }
  n.folded->forward(x, n.out);
  if (n.fold_relu) {
    float* p = n.out.data();
    for (std::int64_t i = 0; i < n.out.size(); ++i) p[i] = p[i] < 0.0f ? 0.0f : p[i];
  }
}

void Graph::set_input_perturbation(int layer, const Tensor* delta) {
  MIXPREC_CHECK(layer >= 0 && layer < layer_count(), "perturbation of layer " + std::to_string(layer));
  node(layer).in_delta = delta;
}

void Graph::set_input_gradient_capture(bool on) { capture_input_grads_ = on; }

const Tensor& Graph::input_gradient(int layer) const { return nodes_[size_t(layer)]->in_grad; }

void Graph::set_calibration(bool on) {
  for (auto& n : nodes_) {
    if (n->in_q) n->in_q->set_training(on || training_);
    // A QuantLstm: alone, after a factorized projection or within a step window.
    const bool quant_cell = n->spec->kind == LayerKind::Lstm && n->in_q;
    if (n->op && quant_cell) n->op->set_training(on || training_);
  }
}

void Graph::backward(const Tensor& dy) {
  MIXPREC_CHECK(!partial_forward_, "graph backward after forward_from");
  for (auto& n : nodes_) n->gout_set = false;
  Node& last = *nodes_.back();
  MIXPREC_CHECK(dy.dims() == last.out.dims(),
                "graph backward: dy " + dy.dims().str() + " != output " + last.out.dims().str());
  last.gout.assign(dy);
  last.gout_set = true;
  for (int i = int(nodes_.size()) - 1; i >= 0; --i) {
    Node& n = node(i);
    if (!n.gout_set) continue;  // output unused
    const auto& in = n.spec->inputs;
    Tensor* dx[2] = {nullptr, nullptr};
    bool direct[2] = {false, false};
    for (std::size_t j = 0; j < in.size() && j < 2; ++j) {
      if (in[j] < 0) continue;  // the network input needs no gradient
      Node& p = node(in[j]);
      const bool same_as_first = j == 1 && in[0] == in[1];
      if (!p.gout_set && !same_as_first) {
        dx[j] = &p.gout;
        direct[j] = true;
      } else {
        dx[j] = &scratch_[j];
      }
    }
    const bool capture = capture_input_grads_ && n.spec->has_weights();
    if (capture && in[0] < 0) dx[0] = &n.in_grad;  // the network input's gradient
    const double t0 = profiling_ ? thread_seconds() : 0.0;
    node_backward(n, dx[0], dx[1]);
    if (profiling_) times_[size_t(i)].backward_s += thread_seconds() - t0;
    if (capture && in[0] >= 0) n.in_grad.assign(*dx[0]);  // before other readers add theirs
    for (std::size_t j = 0; j < in.size() && j < 2; ++j) {
      if (in[j] < 0) continue;
      Node& p = node(in[j]);
      if (direct[j]) {
        p.gout_set = true;
      } else {
        MIXPREC_CHECK(p.gout.dims() == dx[j]->dims(), n.spec->name + ": gradient dims");
        p.gout.vec() += dx[j]->vec();
      }
    }
  }
}

void Graph::node_backward(Node& n, Tensor* dx0, Tensor* dx1) {
  if (n.spec->kind == LayerKind::FramesToSequence) {
    if (!dx0) return;
    const Dims d = n.gout.dims();
    const Shape& f = n.spec->in;  // a frame: c x h x w (flattened in the forward pass)
    dx0->assign(n.gout);
    dx0->reshape(Dims{d.n * d.c, f.c, f.h, f.w});
    return;
  }
  MIXPREC_CHECK(!n.folded_last, n.spec->name + ": backward after an evaluation forward with "
                                               "folded BatchNorm (use GraphOptions::fold_batchnorm "
                                               "= false to differentiate in evaluation mode)");
  const Tensor* g = &n.gout;
  for (std::size_t k = n.stages.size() - 1; k >= 1; --k) {
    n.stages[k]->backward(*g, &n.grads[k]);
    g = &n.grads[k];
  }
  Layer* s0 = n.stages[0];
  if (s0->arity() == 2)
    s0->backward(*g, InputGrads{dx0, dx1});
  else
    s0->backward(*g, dx0);
  if (n.w_q) {
    n.w_q->backward(n.master->value, n.shadow->grad, n.master->grad);
    n.shadow->grad.set_zero();
  }
}

int Graph::first_nonfinite_output() const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (!all_finite(nodes_[i]->out)) return int(i);
  return -1;
}

int Graph::first_nonfinite_gradient() {
  for (int i = int(nodes_.size()) - 1; i >= 0; --i) {
    Node& n = node(i);
    if (n.gout_set && !all_finite(n.gout)) return i;
    for (Param* p : n.params)
      if (!all_finite(p->grad)) return i;
  }
  return -1;
}

}  // namespace mixprec::model
