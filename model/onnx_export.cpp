#include "model/onnx_export.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <map>
#include <memory>

#include "core/onnx_import.hpp"
#include "model/batchnorm2d.hpp"
#include "model/lstm.hpp"
#include "model/quant_lstm.hpp"
#include "model/quant.hpp"
#include "model/step_window.hpp"
#include "model/tensor_linear.hpp"

namespace mixprec::model {

namespace {

using I64 = std::int64_t;

// A computed tensor of the ONNX graph: its name and ONNX dims.
struct Value {
  std::string name;
  std::vector<I64> dims;
};

class Exporter {
 public:
  Exporter(Graph& g, std::string source, const OnnxExportOptions& opt)
      : g_(g), net_(g.network()), source_(std::move(source)), opt_(opt) {}
  OnnxExport run();

 private:
  [[noreturn]] void fail(const mixprec::Layer& l, const std::string& expected, const std::string& found) const {
    throw SpecError(source_, "layer \"" + l.name + "\"", expected, found);
  }
  Param& param(const std::string& name) const;
  const Param* find_param(const std::string& name) const;
  const LayerPrecision* precision(int i) const {
    return g_.quantized() && g_.precision()[size_t(i)].format != NumFormat::Fp32 ? &g_.precision()[size_t(i)] : nullptr;
  }

  // ---- graph building ----
  std::string fresh(const std::string& base);
  onnx::NodeProto& node(const std::string& op, const std::string& name, const std::vector<std::string>& in,
                        const std::vector<std::string>& out);
  std::string init_float(const std::string& name, const std::vector<I64>& dims, const std::vector<float>& v);
  std::string init_int(const std::string& name, int dtype, const std::vector<I64>& dims, const std::vector<I64>& v);
  Value reshape(const Value& x, const std::vector<I64>& dims, const std::string& name);
  Value unary(const std::string& op, const Value& x, const std::string& name);

  // Q(master) as an integer initializer -> Clip -> DequantizeLinear (axis 0), fp16 / bf16 values
  // -> Cast, or the float values; `onnx_dims` is the initializer's shape, whose first axis is
  // master's first (the output channels / rows the per-channel steps belong to).
  std::string quantized_weight(const mixprec::Layer& l, const std::string& tag, const Tensor& master,
                               const QuantSpec& spec, const std::string& step_param,
                               const std::vector<I64>& onnx_dims);
  // The layer's input as its input quantizer sees it (QuantizeLinear -> [Clip] -> DequantizeLinear).
  Value quantized_input(int i, const Value& x);
  // x as the activation quantizer `aq` of layer l computes it (Cast pair, QCDQ, or Div -> Clip ->
  // Round -> Mul), nodes named after the quantizer ("<layer>.input_q", "<layer>.<core>_out.input_q").
  Value quantized_activation(const mixprec::Layer& l, const ActQuant& aq, const Value& x);
  Value transpose(const Value& x, const std::vector<int>& perm, const std::string& name);
  // A quantized TT / HT input projection [B, T, F] -> [B, T, 4H] as FactorizedLinear runs it: per
  // contraction step Reshape -> Transpose -> MatMul with the QCDQ core, the product quantized.
  Value projection(const mixprec::Layer& l, FactorizedLinear& proj, const Value& x);

  void layer(int i);
  Value input_of(int i, int k) const { return out_.at(net_.layers[size_t(i)].inputs[size_t(k)]); }
  Value conv(int i, const Value& x);
  Value linear(int i, const Value& x);
  Value recurrent(int i, const Value& x);
  Value batchnorm(const std::string& prefix, const std::string& name, const Value& x, int channels);

  // Max |difference| between layer i's QuantLstm output and an fp32 LSTM (the ONNX operator's
  // float internals) with the same quantized weights and input, on random network inputs.
  // `proj`: a quantized TT / HT layer's input projection (the reference LSTM reads its output).
  double lstm_operator_difference(int i, FactorizedLinear* proj);
  // The unrolled quantized LSTM's function (kQuantLstmPrefix); returns its op_type.
  std::string quant_lstm_function(const mixprec::Layer& l, const LayerPrecision& p, I64 B, I64 T);

  Graph& g_;
  const Network& net_;
  std::string source_;
  OnnxExportOptions opt_;
  bool mixprec_domain_ = false;
  onnx::ModelProto model_;
  onnx::GraphProto* graph_ = nullptr;
  std::map<int, Value> out_;  // layer -> its output (-1: the network input)
  std::map<std::string, int> used_names_;
  std::map<std::string, Param*> params_;
  std::vector<std::unique_ptr<Param>> owned_;  // LSTM/GRU LSQ steps in ONNX's row order
  std::vector<std::string> notes_;
};

// The body of a model-local function: nodes with generated tensor names, constants as Constant
// nodes (functions have no initializers).
class Body {
 public:
  explicit Body(onnx::FunctionProto& f) : f_(f) {}
  std::vector<std::string> node(const std::string& op, const std::vector<std::string>& in, int outputs,
                                onnx::NodeProto** out_node = nullptr) {
    onnx::NodeProto* n = f_.add_node();
    n->set_op_type(op);
    for (const auto& s : in) n->add_input(s);
    std::vector<std::string> out;
    for (int k = 0; k < outputs; ++k) {
      out.push_back("t" + std::to_string(next_++));
      n->add_output(out.back());
    }
    if (out_node) *out_node = n;
    return out;
  }
  std::string op1(const std::string& op, const std::vector<std::string>& in, onnx::NodeProto** n = nullptr) {
    return node(op, in, 1, n)[0];
  }
  std::string constant(int dtype, const std::vector<I64>& dims, const std::string& raw) {
    onnx::NodeProto* n = nullptr;
    const std::string out = op1("Constant", {}, &n);
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    onnx::TensorProto* t = a->mutable_t();
    t->set_data_type(dtype);
    for (I64 d : dims) t->add_dims(d);
    t->set_raw_data(raw);
    return out;
  }
  std::string f32(float v) { return constant(onnx::TensorProto::FLOAT, {}, std::string(reinterpret_cast<const char*>(&v), 4)); }
  std::string i64s(const std::vector<I64>& v, bool scalar = false) {
    return constant(onnx::TensorProto::INT64, scalar ? std::vector<I64>{} : std::vector<I64>{I64(v.size())},
                    std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8));
  }
  std::string int_scalar(int dtype, I64 v) {
    if (dtype == onnx::TensorProto::INT8) return constant(dtype, {}, std::string(1, char(std::int8_t(v))));
    return constant(dtype, {}, std::string(1, char(std::uint8_t(v))));
  }

 private:
  onnx::FunctionProto& f_;
  int next_ = 0;
};

Param& Exporter::param(const std::string& name) const {
  auto it = params_.find(name);
  MIXPREC_CHECK(it != params_.end(), "export: no parameter " + name);
  return *it->second;
}

const Param* Exporter::find_param(const std::string& name) const {
  auto it = params_.find(name);
  return it == params_.end() ? nullptr : it->second;
}

std::string Exporter::fresh(const std::string& base) {
  const int k = used_names_[base]++;
  return k == 0 ? base : base + "_" + std::to_string(k + 1);
}

onnx::NodeProto& Exporter::node(const std::string& op, const std::string& name, const std::vector<std::string>& in,
                                const std::vector<std::string>& out) {
  onnx::NodeProto* n = graph_->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  return *n;
}

void set_int(onnx::NodeProto& n, const std::string& name, I64 v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<I64>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (I64 x : v) a->add_ints(x);
}

void set_float(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void set_string(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

std::string Exporter::init_float(const std::string& name, const std::vector<I64>& dims, const std::vector<float>& v) {
  onnx::TensorProto* t = graph_->add_initializer();
  const std::string nm = fresh(name);
  t->set_name(nm);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (I64 d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  return nm;
}

std::string Exporter::init_int(const std::string& name, int dtype, const std::vector<I64>& dims,
                               const std::vector<I64>& v) {
  onnx::TensorProto* t = graph_->add_initializer();
  const std::string nm = fresh(name);
  t->set_name(nm);
  t->set_data_type(dtype);
  for (I64 d : dims) t->add_dims(d);
  std::string raw;
  for (I64 x : v) {
    switch (dtype) {
      case onnx::TensorProto::INT8: raw.push_back(char(std::int8_t(x))); break;
      case onnx::TensorProto::UINT8: raw.push_back(char(std::uint8_t(x))); break;
      case onnx::TensorProto::INT32: {
        const std::int32_t y = std::int32_t(x);
        raw.append(reinterpret_cast<const char*>(&y), 4);
        break;
      }
      default: {
        MIXPREC_CHECK(dtype == onnx::TensorProto::INT64, "export: integer type");
        raw.append(reinterpret_cast<const char*>(&x), 8);
      }
    }
  }
  t->set_raw_data(raw);
  return nm;
}

Value Exporter::reshape(const Value& x, const std::vector<I64>& dims, const std::string& name) {
  if (x.dims == dims) return x;
  const std::string nm = fresh(name);
  const std::string shape = init_int(nm + ".shape", onnx::TensorProto::INT64, {I64(dims.size())}, dims);
  node("Reshape", nm, {x.name, shape}, {nm});
  return Value{nm, dims};
}

Value Exporter::unary(const std::string& op, const Value& x, const std::string& name) {
  const std::string nm = fresh(name);
  node(op, nm, {x.name}, {nm});
  return Value{nm, x.dims};
}

// The container of an integer grid: int8 / uint8 up to 8 bits, int32 beyond (opset 17 has no
// int16 QuantizeLinear / DequantizeLinear).
int container(IntGrid g) {
  if (g.qmin >= -128 && g.qmax <= 127) return onnx::TensorProto::INT8;
  if (g.qmin >= 0 && g.qmax <= 255) return onnx::TensorProto::UINT8;
  return onnx::TensorProto::INT32;
}

// The 16 bits of a float already on the fp16 / bf16 grid (round_to_format's output).
std::uint16_t half_bits(float x, NumFormat f) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if (f == NumFormat::Bf16) return std::uint16_t(u >> 16);
  const std::uint16_t sign = std::uint16_t((u >> 16) & 0x8000u);
  const std::uint32_t a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) return std::uint16_t(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u));
  if (a >= 0x38800000u) return std::uint16_t(sign | (((a >> 23) - 112u) << 10) | ((a >> 13) & 0x3ffu));
  return std::uint16_t(sign | std::uint32_t(std::ldexp(std::fabs(x), 24)));  // subnormal: m * 2^-24
}

int onnx_float_type(NumFormat f) {
  return f == NumFormat::Bf16 ? onnx::TensorProto::BFLOAT16 : onnx::TensorProto::FLOAT16;
}

// A grid narrower than its container needs a Clip (the QCDQ convention that carries the bits).
bool narrower(IntGrid g, int dtype) {
  if (dtype == onnx::TensorProto::INT8) return g.qmin > -128 || g.qmax < 127;
  if (dtype == onnx::TensorProto::UINT8) return g.qmin > 0 || g.qmax < 255;
  return true;
}

std::string Exporter::quantized_weight(const mixprec::Layer& l, const std::string& tag, const Tensor& master,
                                       const QuantSpec& spec, const std::string& step_param,
                                       const std::vector<I64>& onnx_dims) {
  const std::string base = l.name + "." + tag;
  std::vector<float> values(master.data(), master.data() + master.size());
  if (spec.is_identity()) return init_float(base, onnx_dims, values);
  if (!spec.is_int()) {  // fp16 / bf16: the rounded values in that type, Cast to float
    round_to_format(values.data(), std::int64_t(values.size()), spec.format, values.data());
    onnx::TensorProto* t = graph_->add_initializer();
    const std::string h = fresh(base + "_" + to_string(spec.format));
    t->set_name(h);
    t->set_data_type(onnx_float_type(spec.format));
    for (I64 d : onnx_dims) t->add_dims(d);
    std::string raw;
    for (float v : values) {
      const std::uint16_t b = half_bits(v, spec.format);
      raw.append(reinterpret_cast<const char*>(&b), 2);
    }
    t->set_raw_data(raw);
    const std::string out = fresh(base + "_float");
    set_int(node("Cast", out, {h}, {out}), "to", onnx::TensorProto::FLOAT);
    return out;
  }
  // The steps exactly as the layer's forward takes them (max |w| per channel, LSQ, fixed point).
  WeightQuant wq(step_param, spec, g_.options().range, master.dims());
  if (Param* s = wq.step_param()) s->value.assign(param(step_param).value);
  Tensor shadow;
  wq.forward(master, shadow);
  const IntGrid grid = wq.grid();
  const int channels = master.n();
  const I64 per = master.dims().per_sample();
  std::vector<float> q(size_t(master.size()));
  for (int c = 0; c < channels; ++c)
    quantize_to_grid(master.data() + c * per, per, wq.steps()[size_t(c)], grid, q.data() + c * per);
  const int dt = container(grid);
  std::vector<I64> qi(q.begin(), q.end());
  const std::string qname = init_int(base + "_q", dt, onnx_dims, qi);
  const std::string lo = init_int(base + ".qmin", dt, {}, {grid.qmin});
  const std::string hi = init_int(base + ".qmax", dt, {}, {grid.qmax});
  const std::string clipped = fresh(base + "_clip");
  node("Clip", clipped, {qname, lo, hi}, {clipped});
  const std::string scale = init_float(base + ".scale", {I64(channels)}, wq.steps());
  const std::string out = fresh(base + "_dq");
  set_int(node("DequantizeLinear", out, {clipped, scale}, {out}), "axis", 0);
  return out;
}

Value Exporter::quantized_input(int i, const Value& x) {
  const ActQuant* aq = g_.input_quantizer(i);
  if (!aq) return x;
  return quantized_activation(net_.layers[size_t(i)], *aq, x);
}

Value Exporter::quantized_activation(const mixprec::Layer& l, const ActQuant& aq, const Value& x) {
  const std::string base = aq.name() + ".input";  // "<layer>.input", "<layer>.<core>_out.input"
  const QuantSpec& spec = aq.options().spec;
  if (!spec.is_int()) {  // fp16 / bf16: Cast there and back (round to nearest even)
    const std::string h = fresh(base + "_" + to_string(spec.format));
    set_int(node("Cast", h, {x.name}, {h}), "to", onnx_float_type(spec.format));
    const std::string f = fresh(base + "_float");
    set_int(node("Cast", f, {h}, {f}), "to", onnx::TensorProto::FLOAT);
    return Value{f, x.dims};
  }
  const IntGrid grid = aq.grid();
  const int dt = container(grid);
  const float step = aq.current_step();
  if (!(step > 0))
    throw SpecError(source_, "layer \"" + l.name + "\"",
                    "a range for the " + std::string(aq.name() == l.name ? "input" : "product") +
                        " quantizer (\"" + base + "_range\" or \"" + base +
                        "_step\"): a checkpoint trained quantization-aware at this precision",
                    "none (train with --precision first)");
  const std::string scale = init_float(base + ".scale", {}, {step});
  if (dt == onnx::TensorProto::INT32) {
    // No int16 QuantizeLinear at opset 17: mixprec's fake_quant as float operations.
    const std::string d = fresh(base + "_div");
    node("Div", d, {x.name, scale}, {d});
    const std::string lo = init_float(base + ".qmin", {}, {float(grid.qmin)});
    const std::string hi = init_float(base + ".qmax", {}, {float(grid.qmax)});
    const std::string c = fresh(base + "_clip");
    node("Clip", c, {d, lo, hi}, {c});
    const std::string r = fresh(base + "_round");
    node("Round", r, {c}, {r});
    const std::string m = fresh(base + "_mul");
    node("Mul", m, {r, scale}, {m});
    return Value{m, x.dims};
  }
  const std::string zp = init_int(base + ".zero_point", dt, {}, {0});
  std::string q = fresh(base + "_q");
  node("QuantizeLinear", q, {x.name, scale, zp}, {q});
  if (narrower(grid, dt)) {
    const std::string lo = init_int(base + ".qmin", dt, {}, {grid.qmin});
    const std::string hi = init_int(base + ".qmax", dt, {}, {grid.qmax});
    const std::string c = fresh(base + "_clip");
    node("Clip", c, {q, lo, hi}, {c});
    q = c;
  }
  const std::string dq = fresh(base + "_dq");
  node("DequantizeLinear", dq, {q, scale, zp}, {dq});
  return Value{dq, x.dims};
}

Value Exporter::transpose(const Value& x, const std::vector<int>& perm, const std::string& name) {
  bool identity = true;
  for (std::size_t k = 0; k < perm.size(); ++k) identity = identity && perm[k] == int(k);
  if (identity) return x;
  const std::string nm = fresh(name);
  std::vector<I64> p(perm.begin(), perm.end()), dims;
  for (int a : perm) dims.push_back(x.dims[size_t(a)]);
  set_ints(node("Transpose", nm, {x.name}, {nm}), "perm", p);
  return Value{nm, dims};
}

Value Exporter::projection(const mixprec::Layer& l, FactorizedLinear& proj, const Value& in) {
  const TensorNetwork& tn = proj.network();
  const ContractionPlan& plan = proj.plan();
  const I64 B = in.dims[0], T = in.dims[1], rows = B * T;
  const LayerPrecision& p = *precision(net_.find(l.name));
  const QuantSpec ws = projection_options(l.factorization, &p, g_.options().range).weight;
  // The cores as the layer quantizes them (per first axis, through master/shadow), each
  // permuted to its step's (contracted x added) matrix.
  std::vector<std::string> core_q;
  for (std::size_t c = 0; c < tn.cores.size(); ++c) {
    const Param& master = param(proj.core(int(c)).name);
    std::vector<I64> dims;
    for (int a : tn.cores[c].axes) dims.push_back(tn.axis_size[size_t(a)]);
    core_q.push_back(quantized_weight(l, tn.cores[c].name, master.value, ws, master.name + "_step", dims));
  }
  Value cur = in;
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const ContractionStep& st = plan.steps[s];
    const StepLayout& L = proj.step_layouts()[s];
    const std::string tag = l.name + "." + tn.cores[size_t(st.core)].name;
    std::vector<I64> state{rows};
    for (int a : L.state_axes) state.push_back(tn.axis_size[size_t(a)]);
    Value a = transpose(reshape(cur, state, tag + ".state"), L.a_perm, tag + ".a_perm");
    a = reshape(a, {rows * st.m, st.k}, tag + ".a");
    std::vector<I64> bd(L.b_dims.begin(), L.b_dims.end());
    Value b = transpose(Value{core_q[size_t(st.core)], bd}, L.b_perm, tag + ".b_perm");
    b = reshape(b, {st.k, st.n}, tag + ".b");
    const std::string nm = fresh(tag + ".matmul");
    node("MatMul", nm, {a.name, b.name}, {nm});
    cur = Value{nm, {rows * st.m, st.n}};
    if (const ActQuant* pq = proj.product_quantizer(s)) cur = quantized_activation(l, *pq, cur);
  }
  std::vector<I64> last{rows};
  for (int a : plan.final_axes) last.push_back(tn.axis_size[size_t(a)]);
  cur = transpose(reshape(cur, last, l.name + ".projection_modes"), proj.output_permutation(),
                  l.name + ".projection_out_perm");
  return reshape(cur, {B, T, I64(proj.out_features())}, l.name + ".projection");
}

Value Exporter::batchnorm(const std::string& prefix, const std::string& name, const Value& x, int channels) {
  auto buffer = [&](const std::string& b) -> const Tensor& {
    for (Buffer* buf : g_.buffers())
      if (buf->name == prefix + "." + b) return buf->value;
    throw InternalError("export: no buffer " + prefix + "." + b);
  };
  auto vec = [](const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.size()); };
  const I64 C = channels;
  const std::string gamma = init_float(prefix + ".gamma", {C}, vec(param(prefix + ".gamma").value));
  const std::string beta = init_float(prefix + ".beta", {C}, vec(param(prefix + ".beta").value));
  const std::string mean = init_float(prefix + ".running_mean", {C}, vec(buffer("running_mean")));
  const std::string var = init_float(prefix + ".running_var", {C}, vec(buffer("running_var")));
  const std::string nm = fresh(name);
  set_float(node("BatchNormalization", nm, {x.name, gamma, beta, mean, var}, {nm}), "epsilon",
            float(BatchNorm2dOptions{channels}.eps));
  return Value{nm, x.dims};
}

Value Exporter::conv(int i, const Value& in) {
  const mixprec::Layer& l = net_.layers[size_t(i)];
  if (in.dims.size() != 4) fail(l, "an image input [N, C, H, W]", std::to_string(in.dims.size()) + "-D");
  const Value x = quantized_input(i, in);
  const LayerPrecision* p = precision(i);
  const Tensor& w = param(l.name + ".weight").value;
  const QuantSpec ws = p ? quant_spec(p->weights(), false, p->fraction_bits) : QuantSpec{};
  const std::string wname =
      quantized_weight(l, "weight", w, ws, l.name + ".weight_step", {w.n(), w.dims().c, w.dims().h, w.dims().w});
  std::vector<std::string> ins{x.name, wname};
  if (l.bias) {
    const Tensor& b = param(l.name + ".bias").value;
    ins.push_back(init_float(l.name + ".bias", {b.size()}, std::vector<float>(b.data(), b.data() + b.size())));
  }
  const std::string nm = fresh(l.name);
  onnx::NodeProto& n = node("Conv", nm, ins, {nm + ".out"});
  set_ints(n, "kernel_shape", {l.kernel_h, l.kernel_w});
  set_ints(n, "strides", {l.stride, l.stride});
  set_ints(n, "pads", {l.padding, l.padding, l.padding, l.padding});
  set_int(n, "group", l.groups);
  Value y{nm + ".out", {l.out.n, l.out.c, l.out.h, l.out.w}};
  if (l.batchnorm) y = batchnorm(l.name + ".bn", l.name + ".bn", y, l.out_channels);
  if (l.relu) y = unary("Relu", y, l.name + ".relu");
  return y;
}

Value Exporter::linear(int i, const Value& in) {
  const mixprec::Layer& l = net_.layers[size_t(i)];
  // Gemm reads [rows, features]: a sequence's steps become rows, an [N, C, 1, 1] image a vector.
  const bool seq = in.dims.size() == 3;
  const I64 rows = seq ? in.dims[0] * in.dims[1] : in.dims[0];
  I64 K = 1;
  for (std::size_t k = seq ? 2 : 1; k < in.dims.size(); ++k) K *= in.dims[k];
  Value x = reshape(in, {rows, K}, l.name + ".rows");
  x = quantized_input(i, x);
  const LayerPrecision* p = precision(i);
  const Tensor& w = param(l.name + ".weight").value;
  const QuantSpec ws = p ? quant_spec(p->weights(), false, p->fraction_bits) : QuantSpec{};
  const std::string wname = quantized_weight(l, "weight", w, ws, l.name + ".weight_step", {w.n(), w.dims().c});
  std::vector<std::string> ins{x.name, wname};
  if (l.bias) {
    const Tensor& b = param(l.name + ".bias").value;
    ins.push_back(init_float(l.name + ".bias", {b.size()}, std::vector<float>(b.data(), b.data() + b.size())));
  }
  const std::string nm = fresh(l.name);
  set_int(node("Gemm", nm, ins, {nm + ".out"}), "transB", 1);
  Value y{nm + ".out", {rows, l.out_features}};
  if (l.relu) y = unary("Relu", y, l.name + ".relu");
  if (seq) y = reshape(y, {in.dims[0], in.dims[1], l.out_features}, l.name + ".steps");
  return y;
}

double Exporter::lstm_operator_difference(int i, FactorizedLinear* proj) {
  const mixprec::Layer& l = net_.layers[size_t(i)];
  const LayerPrecision& p = g_.precision()[size_t(i)];
  LstmOptions o;
  o.input_size = proj ? 4 * l.hidden : l.in.c * l.in.h * l.in.w;
  o.projected_input = proj != nullptr;
  o.hidden = l.hidden;
  o.bidirectional = l.bidirectional;
  o.return_sequences = l.return_sequences;
  o.reverse = l.reverse;
  o.initial_state = l.initial_state;
  Lstm ref(l.name, o);
  ref.set_training(false);
  for (Param* q : ref.params()) {
    const Param& master = param(q->name);
    const bool recurrent = q->name.find(".weight_hh") != std::string::npos;
    if (q->role == ParamRole::Bias) {
      q->value.assign(master.value);
      continue;
    }
    // The shadow weights exactly as QuantLstm computes them (LSQ steps when it has them).
    const Operand op = recurrent ? p.recurrent_weights() : p.weights();
    std::string step = q->name;
    step.insert(step.find(recurrent ? ".weight_hh" : ".weight_ih") + 10, "_step");
    WeightQuant wq(step, quant_spec(op, false, p.fraction_bits), g_.options().range, master.value.dims());
    if (Param* s = wq.step_param()) s->value.assign(param(step).value);
    wq.forward(master.value, q->value);
  }
  const ActQuant* aq = g_.input_quantizer(i);
  // core Layer::steps < T: the reference runs the same first steps (model/step_window.hpp).
  const int L = l.recurrent_steps(), T = l.in.t;
  StepWindow keep(l.name + ".first_steps", StepWindow::Mode::Keep, L, T);
  StepWindow pad(l.name + ".zero_steps", StepWindow::Mode::Pad, L, T);
  std::mt19937_64 rng(17);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  double worst = 0;
  for (int k = 0; k < 4; ++k) {
    Tensor x(g_.input_dims(net_.batch));
    for (std::int64_t j = 0; j < x.size(); ++j) x[j] = nd(rng);
    g_.forward(x);
    const Tensor& in = l.inputs[0] < 0 ? x : g_.output(l.inputs[0]);
    Tensor xq(in.dims());
    if (aq && aq->options().spec.is_int())
      fake_quant(in.data(), in.size(), aq->current_step(), aq->grid(), xq.data());
    else if (aq)
      round_to_format(in.data(), in.size(), aq->options().spec.format, xq.data());
    else
      xq.assign(in);
    if (L < T) {
      Tensor xs;
      keep.forward(xq, xs);
      xq.assign(xs);
    }
    Tensor y;
    if (proj) {
      Tensor xp;
      proj->forward(xq, xp);
      ref.forward(xp, y);
    } else {
      ref.forward(xq, y);
    }
    if (L < T && l.return_sequences) {
      Tensor yp;
      pad.forward(y, yp);
      y.assign(yp);
    }
    const Tensor& want = g_.output(i);
    for (std::int64_t j = 0; j < y.size(); ++j) worst = std::max(worst, double(std::fabs(y[j] - want[j])));
  }
  return worst;
}

std::string Exporter::quant_lstm_function(const mixprec::Layer& l, const LayerPrecision& p, I64 B, I64 T) {
  std::string id;
  for (char ch : l.name) id += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  const std::string op = fresh(std::string(kQuantLstmPrefix) + "_" + id);  // unique per layer
  onnx::FunctionProto* f = model_.add_functions();
  f->set_name(op);
  f->set_domain(kMixprecOnnxDomain);
  const std::string grids = p.format == NumFormat::Int
                                ? "gates on " + std::to_string(p.gate_bits) + " bits, cell state on " +
                                      std::to_string(p.cell_state_bits) + ", hidden state on " +
                                      std::to_string(p.activation_bits)
                                : std::string("gates, cell and hidden state rounded to ") + to_string(p.format);
  f->set_doc_string("mixprec QuantLstm \"" + l.name + "\" (model/quant_lstm.hpp): the ONNX LSTM operator's "
                    "interface (layout 1, gate blocks i, o, f, c), steps unrolled, " + grids);
  for (const char* in : {"X", "W", "R", "B"}) f->add_input(in);
  // sequence_lens: the layer's steps L for every sequence (Layer::steps; T without it).
  const I64 L = l.recurrent_steps();
  if (l.initial_state || L < T) f->add_input("sequence_lens");
  if (l.initial_state)
    for (const char* in : {"initial_h", "initial_c"}) f->add_input(in);  // [B, D, H]
  for (const char* out : {"Y", "Y_h"}) f->add_output(out);
  for (const char* a : {"hidden_size", "direction", "layout", "gate_bits", "cell_state_bits"}) f->add_attribute(a);
  auto* os = f->add_opset_import();
  os->set_domain("");
  os->set_version(kOnnxExportOpset);
  mixprec_domain_ = true;

  Body b(*f);
  const QuantSpec gate = quant_spec(p.gates(), false, p.fraction_bits);
  const QuantSpec cell = quant_spec(p.cell_state(), false, p.fraction_bits);
  const QuantSpec hidden = quant_spec(p.activations(), false, p.fraction_bits);
  // clamp(rne(x / step)) * step: QCDQ in an int8/uint8 container, else the same float
  // operations as mixprec's fake_quant (Div, Clip, Round half to even, Mul).
  auto quant = [&](const std::string& x, const QuantSpec& spec, StepGrid sg) {
    if (!spec.is_int() && !spec.is_identity()) {  // fp16 / bf16: Cast there and back
      onnx::NodeProto* c = nullptr;
      const std::string h = b.op1("Cast", {x}, &c);
      set_int(*c, "to", onnx_float_type(spec.format));
      const std::string f = b.op1("Cast", {h}, &c);
      set_int(*c, "to", onnx::TensorProto::FLOAT);
      return f;
    }
    if (!spec.is_int() || sg.step == 0.0f) return x;
    const int dt = container(sg.grid);
    const std::string scale = b.f32(sg.step);
    if (dt == onnx::TensorProto::INT32) {
      std::string v = b.op1("Div", {x, scale});
      v = b.op1("Clip", {v, b.f32(float(sg.grid.qmin)), b.f32(float(sg.grid.qmax))});
      v = b.op1("Round", {v});
      return b.op1("Mul", {v, scale});
    }
    const std::string zp = b.int_scalar(dt, 0);
    std::string q = b.op1("QuantizeLinear", {x, scale, zp});
    if (narrower(sg.grid, dt)) q = b.op1("Clip", {q, b.int_scalar(dt, sg.grid.qmin), b.int_scalar(dt, sg.grid.qmax)});
    return b.op1("DequantizeLinear", {q, scale, zp});
  };
  const StepGrid sig = gate.is_int() ? lstm_sigmoid_grid(gate) : StepGrid{};
  const StepGrid tnh = gate.is_int() ? lstm_tanh_grid(gate) : StepGrid{};
  const StepGrid hq = hidden.is_int() ? lstm_tanh_grid(hidden) : StepGrid{};
  const I64 H = l.hidden, D = l.bidirectional ? 2 : 1;
  std::vector<std::string> ys, yhs;
  for (I64 d = 0; d < D; ++d) {
    const std::string sfx = d == 1 ? "_reverse" : "";
    const Tensor* range = nullptr;
    for (Buffer* buf : g_.buffers())
      if (buf->name == l.name + ".cell_range" + sfx) range = &buf->value;
    const StepGrid cq = cell.is_int() ? lstm_cell_grid(cell, range ? *range : Tensor()) : StepGrid{};
    onnx::NodeProto* n = nullptr;
    const std::string dix = b.i64s({d}, true);
    const std::string Wd = b.op1("Gather", {"W", dix}, &n);
    set_int(*n, "axis", 0);
    const std::string Rd = b.op1("Gather", {"R", dix}, &n);
    set_int(*n, "axis", 0);
    const std::string Bd = b.op1("Gather", {"B", dix}, &n);
    set_int(*n, "axis", 0);
    const std::string wb = b.op1("Slice", {Bd, b.i64s({0}), b.i64s({4 * H}), b.i64s({0})});
    const std::string rb = b.op1("Slice", {Bd, b.i64s({4 * H}), b.i64s({8 * H}), b.i64s({0})});
    const std::string bias = b.op1("Add", {wb, rb});
    const std::string split = b.i64s({H, H, H, H});
    std::vector<std::string> steps(static_cast<std::size_t>(T), std::string());
    std::string h, c;
    if (l.initial_state) {  // this direction's rows of initial_h, initial_c
      h = b.op1("Gather", {"initial_h", dix}, &n);
      set_int(*n, "axis", 1);
      c = b.op1("Gather", {"initial_c", dix}, &n);
      set_int(*n, "axis", 1);
    }
    // The first L steps (ONNX's sequence_lens: the reverse direction starts at step L - 1); Y
    // is zero at steps L..T-1.
    for (I64 t = L; t < T; ++t)
      steps[size_t(t)] = b.constant(onnx::TensorProto::FLOAT, {B, 1, 1, H}, std::string(size_t(B * H) * sizeof(float), '\0'));
    for (I64 k = 0; k < L; ++k) {
      const I64 t = d == 1 || l.reverse ? L - 1 - k : k;
      const std::string xt = b.op1("Gather", {"X", b.i64s({t}, true)}, &n);
      set_int(*n, "axis", 1);
      std::string a = b.op1("Gemm", {xt, Wd, bias}, &n);  // x W^T + b, then + h R^T as mixprec
      set_int(*n, "transB", 1);
      if (k > 0 || l.initial_state) {
        a = b.op1("Gemm", {h, Rd, a}, &n);
        set_int(*n, "transB", 1);
      }
      const std::vector<std::string> gates = b.node("Split", {a, split}, 4, &n);  // i, o, f, c
      set_int(*n, "axis", 1);
      const std::string i = quant(b.op1("Sigmoid", {gates[0]}), gate, sig);
      const std::string o = quant(b.op1("Sigmoid", {gates[1]}), gate, sig);
      const std::string fg = quant(b.op1("Sigmoid", {gates[2]}), gate, sig);
      const std::string g = quant(b.op1("Tanh", {gates[3]}), gate, tnh);
      std::string cr = b.op1("Mul", {i, g});
      if (k > 0 || l.initial_state) cr = b.op1("Add", {b.op1("Mul", {fg, c}), cr});
      c = quant(cr, cell, cq);
      h = quant(b.op1("Mul", {o, b.op1("Tanh", {c})}), hidden, hq);
      steps[size_t(t)] = b.op1("Unsqueeze", {h, b.i64s({1, 2})});  // [B, 1, 1, H]
    }
    const std::string y = b.op1("Concat", steps, &n);
    set_int(*n, "axis", 1);
    ys.push_back(y);
    yhs.push_back(b.op1("Unsqueeze", {h, b.i64s({1})}));  // [B, 1, H]
  }
  onnx::NodeProto* n = nullptr;
  const std::string y = b.op1("Concat", ys, &n);
  set_int(*n, "axis", 2);
  const std::string yh = b.op1("Concat", yhs, &n);
  set_int(*n, "axis", 1);
  b.node("Identity", {y}, 0, &n);
  n->add_output("Y");
  b.node("Identity", {yh}, 0, &n);
  n->add_output("Y_h");
  return op;
}

Value Exporter::recurrent(int i, const Value& in) {
  const mixprec::Layer& l = net_.layers[size_t(i)];
  // A TT / HT input matrix. fp32: written as its dense product (ONNX's LSTM has no factorized
  // form; import then reads a dense LSTM). Quantized: the projection as mixprec runs it (QCDQ
  // cores, a MatMul per contraction step, each product but the last quantized at the activation
  // bits: not a linear map, so no dense matrix computes it), read by the LSTM (operator or
  // unrolled function) through W = the 4H x 4H gate-block permutation in float, x W^T = x
  // exactly, as QuantLstm adds the projection to its bias unchanged.
  Tensor dense_ih;
  std::unique_ptr<FactorizedLinear> proj;
  const LayerPrecision* p = precision(i);
  if (l.factorization.active()) {
    proj = std::make_unique<FactorizedLinear>(l.name, projection_options(l.factorization, p, g_.options().range));
    for (Param* c : proj->params()) c->value.assign(param(c->name).value);
    if (p) {
      std::map<std::string, const Buffer*> bufs;
      for (const Buffer* b : g_.buffers()) bufs[b->name] = b;
      for (Buffer* b : proj->buffers()) b->value.assign(bufs.at(b->name)->value);
      proj->set_training(false);
      dense_ih = Tensor(Dims{4 * l.hidden, 4 * l.hidden, 1, 1});
      for (int k = 0; k < 4 * l.hidden; ++k) dense_ih[std::int64_t(k) * 4 * l.hidden + k] = 1.0f;
    } else {
      dense_ih = proj->dense_weight();
    }
  }
  const bool projected = proj && p;
  const bool gru = l.kind == LayerKind::Gru;
  Value x = in;
  if (x.dims.size() == 2) x = reshape(x, {x.dims[0], 1, x.dims[1]}, l.name + ".steps");
  if (x.dims.size() != 3) fail(l, "a sequence input [B, T, F]", std::to_string(x.dims.size()) + "-D");
  x = quantized_input(i, x);
  if (projected) x = projection(l, *proj, x);
  const I64 B = x.dims[0], T = x.dims[1], F = x.dims[2], H = l.hidden, G = l.gates(), D = l.bidirectional ? 2 : 1;
  const QuantSpec ws = p ? quant_spec(p->weights(), false, p->fraction_bits) : QuantSpec{};
  const QuantSpec rs = p ? quant_spec(p->recurrent_weights(), false, p->fraction_bits) : QuantSpec{};
  const std::vector<int>& blocks = onnx_gate_blocks(l.kind);
  // mixprec's (G*H, K) matrices of every direction, rows moved to ONNX's gate blocks and stacked
  // as (D*G*H, K): one quantization channel per row, as mixprec's per-row steps.
  auto stacked = [&](const std::string& what, I64 K) {
    Tensor m(Dims{int(D * G * H), int(K), 1, 1});
    for (I64 d = 0; d < D; ++d) {
      const Tensor& src = what == std::string("weight_ih") && dense_ih.size() > 0
                              ? dense_ih
                              : param(l.name + "." + what + (d == 1 ? "_reverse" : "")).value;
      for (I64 g = 0; g < G; ++g)
        for (I64 j = 0; j < H; ++j)
          std::copy_n(src.data() + (g * H + j) * K, K, m.data() + ((d * G + blocks[size_t(g)]) * H + j) * K);
    }
    return m;
  };
  // The steps of both directions, in the same row order (LSQ steps are per row too).
  auto steps_param = [&](const std::string& what) {
    const std::string nm = l.name + "." + what + "_step";
    if (!find_param(nm)) return nm;  // not LSQ: WeightQuant takes max |w| per row
    Param& s = param(nm);
    auto merged = std::make_unique<Param>(nm + ".onnx_rows", s.role, Dims{int(D * G * H), 1, 1, 1}, false);
    for (I64 d = 0; d < D; ++d) {
      const Tensor& src = param(nm + (d == 1 ? "_reverse" : "")).value;
      for (I64 g = 0; g < G; ++g)
        std::copy_n(src.data() + g * H, H, merged->value.data() + (d * G + blocks[size_t(g)]) * H);
    }
    params_[merged->name] = merged.get();
    owned_.push_back(std::move(merged));
    return nm + ".onnx_rows";
  };
  const Tensor Wm = stacked("weight_ih", F), Rm = stacked("weight_hh", H);
  std::string W = projected ? init_float(l.name + ".W", {D * G * H, F}, std::vector<float>(Wm.data(), Wm.data() + Wm.size()))
                            : quantized_weight(l, "W", Wm, ws, steps_param("weight_ih"), {D * G * H, F});
  std::string R = quantized_weight(l, "R", Rm, rs, steps_param("weight_hh"), {D * G * H, H});
  W = reshape(Value{W, {D * G * H, F}}, {D, G * H, F}, l.name + ".W").name;
  R = reshape(Value{R, {D * G * H, H}}, {D, G * H, H}, l.name + ".R").name;
  // B = [Wb, Rb]: mixprec's one bias (LSTM: b_ih + b_hh; GRU: r, z and b_in) as Wb; GRU's b_hn in
  // Rb's candidate block.
  std::vector<float> bias(size_t(D * 2 * G * H), 0.0f);
  for (I64 d = 0; d < D; ++d) {
    const std::string sfx = d == 1 ? "_reverse" : "";
    const Tensor& b = param(l.name + ".bias" + sfx).value;
    for (I64 g = 0; g < G; ++g)
      for (I64 j = 0; j < H; ++j) bias[size_t(d * 2 * G * H + blocks[size_t(g)] * H + j)] = b[g * H + j];
    if (gru) {
      const Tensor& bhn = param(l.name + ".bias_hn" + sfx).value;
      for (I64 j = 0; j < H; ++j) bias[size_t(d * 2 * G * H + G * H + blocks[2] * H + j)] = bhn[j];
    }
  }
  const std::string Bn = init_float(l.name + ".B", {D, 2 * G * H}, bias);
  std::vector<std::string> inputs{x.name, W, R, Bn};
  const bool quant_fn = !gru && p && opt_.lstm == LstmExport::Quantized;
  // sequence_lens: the layer's steps L < T for every sequence (core Layer::steps: ONNX runs the
  // first L steps, Y zero after them); else none for the operator and every length T for the
  // function call (ONNX's shape inference needs a typed tensor at each input a function declares).
  const I64 L = l.recurrent_steps();
  if (l.initial_state || L < T)
    inputs.push_back(quant_fn || L < T ? init_int(l.name + ".sequence_lens", onnx::TensorProto::INT32, {B},
                                                  std::vector<I64>(size_t(B), L))
                                       : "");
  if (l.initial_state) {  // [B, D, H] (layout 1): the layer's one vector per direction for every sequence
    for (const char* what : {"initial_h", "initial_c"}) {
      std::vector<float> v(size_t(B * D * H));
      for (I64 d = 0; d < D; ++d) {
        const Tensor& s0 = param(l.name + "." + what + (d == 1 ? "_reverse" : "")).value;
        for (I64 bi = 0; bi < B; ++bi) std::copy_n(s0.data(), H, v.begin() + (bi * D + d) * H);
      }
      inputs.push_back(init_float(l.name + "." + what, {B, D, H}, v));
    }
  }
  const std::string nm = fresh(l.name);
  const std::string y = nm + ".Y", yh = nm + ".Y_h";
  onnx::NodeProto& n = node(quant_fn ? quant_lstm_function(l, *p, B, T) : gru ? "GRU" : "LSTM", nm, inputs, {y, yh});
  set_int(n, "hidden_size", H);
  set_int(n, "layout", 1);
  set_string(n, "direction", D == 2 ? "bidirectional" : l.reverse ? "reverse" : "forward");
  if (gru) set_int(n, "linear_before_reset", l.linear_before_reset ? 1 : 0);
  if (quant_fn) {
    n.set_domain(kMixprecOnnxDomain);
    set_int(n, "gate_bits", p->gate_bits);
    set_int(n, "cell_state_bits", p->cell_state_bits);
  } else if (p && !gru) {
    const std::string what = p->format == NumFormat::Int
                                 ? "quantizes them to " + std::to_string(p->gate_bits) + ", " +
                                       std::to_string(p->cell_state_bits) + " and " + std::to_string(p->activation_bits) + " bits"
                                 : std::string("rounds them to ") + to_string(p->format);
    char diff[32];
    std::snprintf(diff, sizeof diff, "%.3g", lstm_operator_difference(i, projected ? proj.get() : nullptr));
    notes_.push_back("layer \"" + l.name + "\": the ONNX LSTM operator computes gates, cell state and hidden state in "
                     "float (mixprec " + what + "); measured on this layer's output for 4 random N(0, 1) network "
                     "inputs: max |difference| " + diff);
  }
  if (l.return_sequences) return reshape(Value{y, {B, T, D, H}}, {B, T, D * H}, l.name + ".sequence");
  return reshape(Value{yh, {B, D, H}}, {B, D * H}, l.name + ".final");
}

void Exporter::layer(int i) {
  const mixprec::Layer& l = net_.layers[size_t(i)];
  Value x = input_of(i, 0);
  Value y;
  switch (l.kind) {
    case LayerKind::Conv2d: y = conv(i, x); break;
    case LayerKind::Linear: y = linear(i, x); break;
    case LayerKind::Lstm:
    case LayerKind::Gru: y = recurrent(i, x); break;
    case LayerKind::Pool: {
      if (x.dims.size() != 4) fail(l, "an image input [N, C, H, W]", std::to_string(x.dims.size()) + "-D");
      const std::string nm = fresh(l.name);
      if (l.pool == PoolKind::GlobalAvg) {
        node("GlobalAveragePool", nm, {x.name}, {nm + ".out"});
      } else {
        onnx::NodeProto& n = node(l.pool == PoolKind::Max ? "MaxPool" : "AveragePool", nm, {x.name}, {nm + ".out"});
        set_ints(n, "kernel_shape", {l.pool_kernel, l.pool_kernel});
        set_ints(n, "strides", {l.pool_stride, l.pool_stride});
      }
      y = Value{nm + ".out", {x.dims[0], x.dims[1], l.out.h, l.out.w}};
      break;
    }
    case LayerKind::Add:
    case LayerKind::Elementwise:
    case LayerKind::Concat: {
      const bool two = l.inputs.size() > 1;
      Value b = two ? input_of(i, 1) : Value{};
      if (two && b.dims != x.dims && l.kind != LayerKind::Concat)
        fail(l, "two inputs of equal ONNX dims", "different dims");
      std::string op = "Add";
      if (l.kind == LayerKind::Concat) op = "Concat";
      if (l.kind == LayerKind::Elementwise)
        op = l.elementwise == ElementwiseOp::Relu      ? "Relu"
             : l.elementwise == ElementwiseOp::Sigmoid ? "Sigmoid"
             : l.elementwise == ElementwiseOp::Tanh    ? "Tanh"
                                                        : "Mul";
      const std::string nm = fresh(l.name);
      std::vector<std::string> ins{x.name};
      if (two) ins.push_back(b.name);
      onnx::NodeProto& n = node(op, nm, ins, {nm + ".out"});
      y = Value{nm + ".out", x.dims};
      if (l.kind == LayerKind::Concat) {
        const I64 axis = x.dims.size() == 3 ? 2 : 1;  // the features / channels
        set_int(n, "axis", axis);
        y.dims[size_t(axis)] += b.dims[size_t(axis)];
      }
      if (l.kind == LayerKind::Add && l.relu) y = unary("Relu", y, l.name + ".relu");
      break;
    }
    case LayerKind::BatchNorm:
      if (x.dims.size() != 4) fail(l, "an image input [N, C, H, W]", std::to_string(x.dims.size()) + "-D");
      y = batchnorm(l.name, l.name, x, l.in.c);
      break;
    case LayerKind::FramesToSequence:
      // Named after the layer: import names the frames_to_sequence layer it inserts after it.
      y = reshape(x, {l.out.n, l.out.t, l.out.c}, l.name);
      break;
  }
  out_[i] = y;
}

OnnxExport Exporter::run() {
  g_.set_training(false);
  for (Param* p : g_.params()) params_[p->name] = p;
  model_.set_ir_version(8);
  model_.set_producer_name("mixprec");
  model_.set_producer_version("export");
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(kOnnxExportOpset);
  graph_ = model_.mutable_graph();
  graph_->set_name(net_.name);

  // The network input: [B, T, F] sequences, [B, T, C, H, W] frames (then samples = B*T),
  // [N, C, H, W] images, [N, F] vectors.
  const Shape& s = net_.input;
  bool image = s.h * s.w > 1, recurrent_reader = false;
  for (const mixprec::Layer& l : net_.layers)
    for (int k : l.inputs)
      if (k < 0) {
        image = image || l.kind == LayerKind::Conv2d || l.kind == LayerKind::Pool || l.kind == LayerKind::BatchNorm;
        recurrent_reader = recurrent_reader || is_recurrent(l.kind);
      }
  std::vector<I64> in_dims;
  Value x;
  if (s.t > 1 || (!image && recurrent_reader)) {
    in_dims = {s.n, s.t, I64(s.c) * s.h * s.w};
    x = Value{"input", in_dims};
  } else if (image && net_.frames > 1) {
    in_dims = {s.n / net_.frames, net_.frames, s.c, s.h, s.w};
    x = Value{"input", in_dims};
  } else if (image) {
    in_dims = {s.n, s.c, s.h, s.w};
    x = Value{"input", in_dims};
  } else {
    in_dims = {s.n, I64(s.c) * s.h * s.w};
    x = Value{"input", in_dims};
  }
  auto declare = [](onnx::ValueInfoProto* v, const std::string& name, const std::vector<I64>& dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (I64 d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  declare(graph_->add_input(), "input", in_dims);
  used_names_["input"] = 1;
  if (in_dims.size() == 5) x = reshape(x, {s.n, s.c, s.h, s.w}, "input.frames");
  out_[-1] = x;
  for (int i = 0; i < int(net_.layers.size()); ++i) layer(i);
  // The graph output "output", as the last layer computes it.
  Value y = out_.at(int(net_.layers.size()) - 1);
  node("Identity", "output", {y.name}, {"output"});
  declare(graph_->add_output(), "output", y.dims);
  if (mixprec_domain_) {
    auto* md = model_.add_opset_import();
    md->set_domain(kMixprecOnnxDomain);
    md->set_version(1);
  }
  OnnxExport e;
  MIXPREC_CHECK(model_.SerializeToString(&e.bytes), "export: protobuf serialization");
  e.notes = notes_;
  return e;
}

}  // namespace

OnnxExport export_onnx(Graph& g, const std::string& source, const OnnxExportOptions& opt) {
  return Exporter(g, source, opt).run();
}

}  // namespace mixprec::model
