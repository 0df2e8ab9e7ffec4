// ONNX import (core/onnx_import.hpp). How a graph becomes mixprec layers:
//
// * Constants. Initializers, Constant nodes and every node whose inputs are all constant are
//   evaluated here (the shape arithmetic exporters emit around recurrent layers: Shape of a
//   computed tensor is its static shape; Gather, Slice, Unsqueeze, Squeeze, Concat,
//   ConstantOfShape, Expand, Cast, Reshape, Transpose, arithmetic), so they never become layers.
// * Layout. A computed tensor is a mixprec layer's output seen through a view: its data sit in
//   mixprec's canonical order (images n,c,h,w; sequences batch,steps,features), split into
//   "atoms" (named factors of the dimensions: batch, steps, direction, channels, ...), and each
//   ONNX axis is a list of atoms. Transpose permutes axes, Reshape/Flatten/Squeeze/Unsqueeze
//   regroup them, so layout operators are absorbed without moving data. A consumer that reads
//   memory order (Conv, pools, Gemm's reduction axis, Add) requires the atoms in canonical
//   order; a recurrent layer reads by role (steps, batch, features), so the transposes
//   PyTorch puts around an LSTM cost nothing. A layout a consumer cannot read is refused.
// * Layers. Conv, Gemm, MatMul, LSTM, GRU, pools, Add, Mul, Concat, Sigmoid, Tanh and Relu
//   become layers; Relu and BatchNormalization fuse into the producing conv/linear when they
//   are its only reader; a bias Add after MatMul becomes the linear's bias.
// * Quantization. A DequantizeLinear of an integer initializer becomes float weights, with the
//   integer type's bits (or a Clip's narrower range: QCDQ) as the layer's weight bits; a
//   Quantize/DequantizeLinear pair on a computed tensor gives its reader's activation bits, and
//   so does Div(s) -> Clip -> Round -> Mul(s) (wider than 8 bits). FLOAT16 / BFLOAT16 weights
//   and a Cast to that type and back give the layer's format. A call of mixprec's quantized
//   LSTM function (`mixprec export`) is an LSTM with its gate and cell-state bits.
#include "core/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/errors.hpp"

namespace mixprec {

const std::vector<std::string>& onnx_supported_operators() {
  static const std::vector<std::string> ops{
      "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant",
      "ConstantOfShape", "Conv", "DequantizeLinear", "Div", "Dropout", "Expand", "Flatten",
      "GRU", "Gather", "Gemm", "GlobalAveragePool", "Identity", "LSTM", "MatMul", "MaxPool",
      "Mul", "QLinearConv", "QLinearMatMul", "QuantizeLinear", "Relu", "Reshape", "Round", "Shape",
      "Sigmoid", "Slice", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze"};
  return ops;
}

const std::vector<int>& onnx_gate_blocks(LayerKind recurrent_kind) {
  static const std::vector<int> lstm{0, 2, 3, 1}, gru{1, 0, 2};
  return recurrent_kind == LayerKind::Gru ? gru : lstm;
}

namespace {

using I64 = std::int64_t;

// A call of mixprec's quantized LSTM function (onnx_import.hpp kQuantLstmPrefix).
bool is_quant_lstm(const onnx::NodeProto& n) {
  return n.domain() == kMixprecOnnxDomain && n.op_type().rfind(kQuantLstmPrefix, 0) == 0;
}

std::string join_ops() {
  std::string s;
  for (const auto& o : onnx_supported_operators()) s += (s.empty() ? "" : ", ") + o;
  return s;
}

std::string dims_str(const std::vector<I64>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

// Constants the importer creates itself while folding shape arithmetic (ConstantOfShape, Expand of
// a constant) are small in real models; a file asking for more is refused before allocating.
constexpr I64 kMaxFoldedElements = I64(1) << 24;

// The element count of a shape; one beyond int64 (a file's absurd dims) saturates at the largest
// int64, which no real shape matches, so the caller's shape check reports it.
I64 product(const std::vector<I64>& d) {
  I64 p = 1;
  for (I64 x : d)
    if (__builtin_mul_overflow(p, x, &p)) return std::numeric_limits<I64>::max();
  return p;
}

// ---- values -------------------------------------------------------------------------------

struct Const {
  std::vector<I64> dims;
  std::vector<double> v;
  bool is_int = false;
  int dtype = 1;  // onnx::TensorProto::DataType of the source
  int qbits = 0;  // > 0: integer values of a quantized tensor (their grid's bits)
  NumFormat ffmt = NumFormat::Fp32;  // a FLOAT16 / BFLOAT16 source: the values' float format
  I64 size() const { return I64(v.size()); }
};

struct Atom {
  int id = 0;
  I64 size = 1;
  char role = 'c';  // n batch, t steps, c features/channels, d direction, h, w
};
using Axis = std::vector<Atom>;

struct Act {
  int producer = -1;       // index into the layer list; -1: the network input
  bool seq = false;        // canonical order is (batch, steps, features) rather than (n, c, h, w)
  std::vector<Atom> canon;  // atoms in memory order
  std::vector<Axis> axes;   // the ONNX view
  bool sole = true;         // the only path from the producer's output (for fusions)
  int act_bits = 0;         // bits from a Quantize/DequantizeLinear pair (0: none)
  bool quantized = false;   // integer values (after QuantizeLinear, before DequantizeLinear)
  double scale = 1, zero_point = 0;
  std::string view_node;    // the last layout node on the path from the producer ("" none)
  // A fake quantization wider than 8 bits, Div(s) -> Clip(lo, hi) -> Round -> Mul(s) (what
  // `mixprec export` writes where no int8/uint8 QuantizeLinear fits): the steps seen so far
  // (1 after Div, 2 after Clip, 3 after Round), the step s and the Clip's bits.
  int rounding = 0;
  double round_scale = 0;
  int round_bits = 0;
  // Cast(to FLOAT16 / BFLOAT16) -> Cast(to FLOAT): the format between the casts (pending) and,
  // once back in float, the reader's activation format.
  NumFormat cast_fmt = NumFormat::Fp32, act_fmt = NumFormat::Fp32;
};

// The next operator of a Div -> Clip -> Round -> Mul fake quantization at step `stage`.
const char* rounding_next(int stage) {
  return stage == 1 ? "Clip" : stage == 2 ? "Round" : "Mul";
}

// What a recurrent node's sequence_lens and initial states must be (T < 0: not known yet).
std::string sequence_lens_expected(I64 T) {
  return "sequence_lens absent or a constant initializer with one length from 1 to " +
         (T < 0 ? std::string("the number of steps") : "the " + std::to_string(T) + " steps") +
         " for the whole batch (the layer's steps: mixprec does not mask sequences of different lengths)";
}

std::string initial_state_expected(const std::string& what, bool gru) {
  if (gru) return what + " absent or all zeros (mixprec's GRU starts from a zero state)";
  return what + " absent or a constant initializer (it becomes the layer's initial-state parameter; a state "
                "given at run time is not an input mixprec's LSTM has)";
}

struct Value {
  bool is_const = false;
  Const c;
  Act a;
};

bool same_ids(const std::vector<Atom>& x, const std::vector<Atom>& y) {
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i].id != y[i].id) return false;
  return true;
}

std::vector<Atom> flat(const Act& a) {
  std::vector<Atom> f;
  for (const Axis& ax : a.axes) f.insert(f.end(), ax.begin(), ax.end());
  return f;
}

I64 axis_size(const Axis& ax) {
  I64 p = 1;
  for (const Atom& t : ax) p *= t.size;
  return p;
}

std::vector<I64> act_dims(const Act& a) {
  std::vector<I64> d;
  for (const Axis& ax : a.axes) d.push_back(axis_size(ax));
  return d;
}

bool in_roles(const Atom& t, const char* roles) { return std::strchr(roles, t.role) != nullptr; }

std::vector<Atom> with_roles(const std::vector<Atom>& atoms, const char* roles) {
  std::vector<Atom> out;
  for (const Atom& t : atoms)
    if (in_roles(t, roles)) out.push_back(t);
  return out;
}

I64 prod_atoms(const std::vector<Atom>& atoms) {
  I64 p = 1;
  for (const Atom& t : atoms) p *= t.size;
  return p;
}

// ---- tensors ------------------------------------------------------------------------------

class Importer {
 public:
  Importer(const std::string& file) : file_(file) {}
  OnnxImport run(const std::string& bytes);

 private:
  [[noreturn]] void fail_node(const onnx::NodeProto& n, const std::string& expected, const std::string& found) const {
    throw SpecError(file_, node_label(n), expected, found);
  }
  [[noreturn]] void fail_graph(const std::string& where, const std::string& expected, const std::string& found) const {
    throw SpecError(file_, where, expected, found);
  }
  static std::string node_label(const onnx::NodeProto& n) {
    return "node \"" + n.name() + "\" (" + n.op_type() + ")";
  }

  Const tensor_const(const onnx::TensorProto& t, const std::string& where) const;
  const Value& value(const onnx::NodeProto& n, int i) const;
  bool has_input(const onnx::NodeProto& n, int i) const { return i < n.input_size() && !n.input(i).empty(); }
  const Const& cin(const onnx::NodeProto& n, int i, const std::string& what) const;
  const Act& ain(const onnx::NodeProto& n, int i) const;
  void set_out(const onnx::NodeProto& n, int i, Value v);
  void set_act(const onnx::NodeProto& n, int i, Act a) {
    Value v;
    v.a = std::move(a);
    set_out(n, i, std::move(v));
  }
  void set_const(const onnx::NodeProto& n, int i, Const c) {
    Value v;
    v.is_const = true;
    v.c = std::move(c);
    set_out(n, i, std::move(v));
  }

  // attributes
  const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) const;
  I64 attr_int(const onnx::NodeProto& n, const std::string& name, I64 dflt) const;
  double attr_float(const onnx::NodeProto& n, const std::string& name, double dflt) const;
  std::string attr_str(const onnx::NodeProto& n, const std::string& name, const std::string& dflt) const;
  std::vector<I64> attr_ints(const onnx::NodeProto& n, const std::string& name) const;

  // graph building
  Atom atom(I64 size, char role) { return Atom{next_atom_++, size, role}; }
  void push_axis_atom(Axis& ax, I64 size, char role) {
    if (size != 1) ax.push_back(atom(size, role));
  }
  std::string unique_name(const onnx::NodeProto& n);
  int add_layer(const onnx::NodeProto& n, Layer l, const std::vector<const Act*>& inputs,
                const std::string& name = "");
  Act output_act(int layer, bool seq, std::vector<Atom> canon, std::vector<Axis> axes) {
    Act a;
    a.producer = layer;
    a.seq = seq;
    a.canon = std::move(canon);
    a.axes = std::move(axes);
    return a;
  }
  std::string producer_name(int p) const { return p < 0 ? "input" : spec_.layers[size_t(p)].layer.name; }
  Layer& layer_of(int p) { return spec_.layers[size_t(p)].layer; }
  bool sole_reader(const onnx::NodeProto& n, const Act& a) const {
    return a.producer >= 0 && a.sole && uses_.at(n.input(0)) == 1;
  }
  void add_tensor(std::vector<ImportedTensor>& to, const std::string& name, std::array<int, 4> dims,
                  std::vector<float> v) {
    to.push_back(ImportedTensor{name, dims, std::move(v)});
  }
  PrecisionPatch& patch_for(const std::string& layer);
  void note_bits(const std::string& layer, const Act& in, const Const* w, const Const* r);

  Act ensure_vector(const onnx::NodeProto& n, const Act& a);
  Act ensure_sequence(const onnx::NodeProto& n, const Act& a);

  // operators
  void constant_op(const onnx::NodeProto& n);
  void view_op(const onnx::NodeProto& n);
  void conv(const onnx::NodeProto& n, bool qlinear);
  void linear(const onnx::NodeProto& n, bool qlinear);
  void recurrent(const onnx::NodeProto& n);
  void pool(const onnx::NodeProto& n);
  void batchnorm(const onnx::NodeProto& n);
  void elementwise(const onnx::NodeProto& n);
  void concat(const onnx::NodeProto& n);
  void quant(const onnx::NodeProto& n);
  void gather_act(const onnx::NodeProto& n);

  std::string file_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> uses_;
  std::set<std::string> names_;
  NetworkSpec spec_;
  OnnxImport out_;
  std::map<std::string, std::size_t> patch_index_;
  int next_atom_ = 1;
  int opset_ = 0;
  std::string input_name_;
};

// Element counts and raw sizes are checked before any value is read.
Const Importer::tensor_const(const onnx::TensorProto& t, const std::string& where) const {
  Const c;
  for (I64 d : t.dims()) {
    if (d < 0 || d > (I64(1) << 31)) fail_graph(where, "tensor dimensions in [0, 2^31]", std::to_string(d));
    c.dims.push_back(d);
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    fail_graph(where, "tensor data inside the file", "external data (save the model with all tensors in one file)");
  const I64 n = product(c.dims);
  if (n > (I64(1) << 28)) fail_graph(where, "a tensor of at most 2^28 elements", std::to_string(n));
  const int dt = t.data_type();
  c.dtype = dt;
  const bool raw = t.has_raw_data();
  auto check_count = [&](I64 have) {
    if (have != n)
      fail_graph(where, std::to_string(n) + " values for dims " + dims_str(c.dims),
                 std::to_string(have) + " (truncated or malformed tensor)");
  };
  c.v.resize(size_t(n));
  auto from_raw = [&](std::size_t esz, auto read) {
    const std::string& r = t.raw_data();
    if (r.size() != esz * size_t(n))
      fail_graph(where, std::to_string(esz * size_t(n)) + " bytes of raw data for dims " + dims_str(c.dims),
                 std::to_string(r.size()) + " (truncated or malformed tensor)");
    for (I64 i = 0; i < n; ++i) c.v[size_t(i)] = read(r.data() + size_t(i) * esz);
  };
  switch (dt) {
    case onnx::TensorProto::FLOAT:
      if (raw) {
        from_raw(4, [](const char* p) { float f; std::memcpy(&f, p, 4); return double(f); });
      } else {
        check_count(t.float_data_size());
        for (I64 i = 0; i < n; ++i) c.v[size_t(i)] = t.float_data(int(i));
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (raw) {
        from_raw(8, [](const char* p) { double f; std::memcpy(&f, p, 8); return f; });
      } else {
        check_count(t.double_data_size());
        for (I64 i = 0; i < n; ++i) c.v[size_t(i)] = t.double_data(int(i));
      }
      break;
    case onnx::TensorProto::INT64:
      c.is_int = true;
      if (raw) {
        from_raw(8, [](const char* p) { std::int64_t f; std::memcpy(&f, p, 8); return double(f); });
      } else {
        check_count(t.int64_data_size());
        for (I64 i = 0; i < n; ++i) c.v[size_t(i)] = double(t.int64_data(int(i)));
      }
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::BOOL: {
      c.is_int = true;
      if (dt == onnx::TensorProto::INT8 || dt == onnx::TensorProto::UINT8) c.qbits = 8;
      if (dt == onnx::TensorProto::INT16 || dt == onnx::TensorProto::UINT16) c.qbits = 16;
      if (raw) {
        switch (dt) {
          case onnx::TensorProto::INT32:
            from_raw(4, [](const char* p) { std::int32_t f; std::memcpy(&f, p, 4); return double(f); });
            break;
          case onnx::TensorProto::INT8:
            from_raw(1, [](const char* p) { return double(static_cast<std::int8_t>(*p)); });
            break;
          case onnx::TensorProto::INT16:
            from_raw(2, [](const char* p) { std::int16_t f; std::memcpy(&f, p, 2); return double(f); });
            break;
          case onnx::TensorProto::UINT16:
            from_raw(2, [](const char* p) { std::uint16_t f; std::memcpy(&f, p, 2); return double(f); });
            break;
          default:
            from_raw(1, [](const char* p) { return double(static_cast<std::uint8_t>(*p)); });
        }
      } else {
        check_count(t.int32_data_size());
        for (I64 i = 0; i < n; ++i) c.v[size_t(i)] = double(t.int32_data(int(i)));
      }
      break;
    }
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: {
      // 16-bit floats: raw little-endian halves, or one per int32_data entry.
      const bool bf = dt == onnx::TensorProto::BFLOAT16;
      c.ffmt = bf ? NumFormat::Bf16 : NumFormat::Fp16;
      auto decode = [bf](std::uint32_t h) {
        if (bf) {
          const std::uint32_t u = h << 16;
          float f;
          std::memcpy(&f, &u, 4);
          return double(f);
        }
        const int e = int(h >> 10) & 0x1f, m = int(h & 0x3ff);
        const double v = e == 0    ? std::ldexp(double(m), -24)
                         : e == 31 ? (m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity())
                                   : std::ldexp(double(m + 1024), e - 25);
        return (h & 0x8000) ? -v : v;
      };
      if (raw) {
        from_raw(2, [&](const char* p) { std::uint16_t h; std::memcpy(&h, p, 2); return decode(h); });
      } else {
        check_count(t.int32_data_size());
        for (I64 i = 0; i < n; ++i) c.v[size_t(i)] = decode(std::uint32_t(t.int32_data(int(i))) & 0xffffu);
      }
      break;
    }
    default:
      fail_graph(where, "a tensor of type float, float16, bfloat16, double, int8, uint8, int16, uint16, int32, int64 or bool",
                 "data type " + std::to_string(dt));
  }
  return c;
}

const Value& Importer::value(const onnx::NodeProto& n, int i) const {
  if (!has_input(n, i)) fail_node(n, "input " + std::to_string(i), "none");
  auto it = values_.find(n.input(i));
  if (it == values_.end())
    fail_node(n, "input \"" + n.input(i) + "\" to be a graph input, an initializer or an earlier node's output",
              "no such tensor (the graph is not in topological order or the name is dangling)");
  return it->second;
}

const Const& Importer::cin(const onnx::NodeProto& n, int i, const std::string& what) const {
  const Value& v = value(n, i);
  if (!v.is_const)
    fail_node(n, what + " (input " + std::to_string(i) + " \"" + n.input(i) + "\") as a constant tensor",
              "a computed tensor");
  return v.c;
}

const Act& Importer::ain(const onnx::NodeProto& n, int i) const {
  const Value& v = value(n, i);
  if (v.is_const)
    fail_node(n, "input " + std::to_string(i) + " \"" + n.input(i) + "\" to be a computed tensor",
              "a constant (an operator on constants only is folded; this one mixes constants where data are expected)");
  if (v.a.cast_fmt != NumFormat::Fp32 && n.op_type() != "Cast")
    fail_node(n, std::string("a float input (Cast back to float after the Cast to ") + to_string(v.a.cast_fmt) + ")",
              std::string("a ") + to_string(v.a.cast_fmt) + " tensor");
  if (v.a.rounding != 0 && n.op_type() != rounding_next(v.a.rounding))
    fail_node(n, std::string("the fake quantization Div -> Clip -> Round -> Mul of its input completed (next: ") +
                     rounding_next(v.a.rounding) + ")",
              "a " + n.op_type() + " after its " + (v.a.rounding == 1 ? "Div" : v.a.rounding == 2 ? "Clip" : "Round"));
  return v.a;
}

void Importer::set_out(const onnx::NodeProto& n, int i, Value v) {
  if (i >= n.output_size() || n.output(i).empty()) return;
  values_[n.output(i)] = std::move(v);
}

const onnx::AttributeProto* Importer::attr(const onnx::NodeProto& n, const std::string& name) const {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

I64 Importer::attr_int(const onnx::NodeProto& n, const std::string& name, I64 dflt) const {
  const auto* a = attr(n, name);
  if (!a) return dflt;
  if (a->type() != onnx::AttributeProto::INT) fail_node(n, "attribute " + name + " of type int", "another type");
  return a->i();
}

double Importer::attr_float(const onnx::NodeProto& n, const std::string& name, double dflt) const {
  const auto* a = attr(n, name);
  if (!a) return dflt;
  if (a->type() != onnx::AttributeProto::FLOAT) fail_node(n, "attribute " + name + " of type float", "another type");
  return a->f();
}

std::string Importer::attr_str(const onnx::NodeProto& n, const std::string& name, const std::string& dflt) const {
  const auto* a = attr(n, name);
  if (!a) return dflt;
  if (a->type() != onnx::AttributeProto::STRING) fail_node(n, "attribute " + name + " of type string", "another type");
  return a->s();
}

std::vector<I64> Importer::attr_ints(const onnx::NodeProto& n, const std::string& name) const {
  const auto* a = attr(n, name);
  if (!a) return {};
  if (a->type() != onnx::AttributeProto::INTS) fail_node(n, "attribute " + name + " of type ints", "another type");
  return std::vector<I64>(a->ints().begin(), a->ints().end());
}

std::string Importer::unique_name(const onnx::NodeProto& n) {
  std::string s;
  for (char ch : n.name()) {
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
    s += ok ? ch : (ch == '/' || ch == ':') ? '.' : '_';
  }
  while (!s.empty() && (s.front() == '.' || s.front() == '_')) s.erase(s.begin());
  while (!s.empty() && s.back() == '.') s.pop_back();
  if (s.empty() || s == "input") {
    std::string op = n.op_type();
    std::transform(op.begin(), op.end(), op.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    s = op;
  }
  std::string u = s;
  for (int k = 2; names_.count(u); ++k) u = s + "_" + std::to_string(k);
  names_.insert(u);
  return u;
}

int Importer::add_layer(const onnx::NodeProto& n, Layer l, const std::vector<const Act*>& inputs,
                        const std::string& name) {
  LayerSpec ls;
  l.name = name.empty() ? unique_name(n) : name;
  ls.pointer = node_label(n);
  ls.layer = std::move(l);
  for (const Act* a : inputs) ls.input_names.push_back(producer_name(a->producer));
  ls.inputs_is_list = inputs.size() > 1;
  spec_.layers.push_back(std::move(ls));
  return int(spec_.layers.size()) - 1;
}

PrecisionPatch& Importer::patch_for(const std::string& layer) {
  auto it = patch_index_.find(layer);
  if (it == patch_index_.end()) {
    PrecisionOverride o;
    o.match = layer;
    o.pointer = "/network/onnx (quantization of layer \"" + layer + "\")";
    out_.precision.push_back(o);
    it = patch_index_.emplace(layer, out_.precision.size() - 1).first;
  }
  return out_.precision[it->second].patch;
}

void Importer::note_bits(const std::string& layer, const Act& in, const Const* w, const Const* r) {
  if (in.act_fmt != NumFormat::Fp32) patch_for(layer).format = in.act_fmt;
  if (w && w->ffmt != NumFormat::Fp32) patch_for(layer).format = w->ffmt;
  if (in.act_bits > 0) {
    PrecisionPatch& p = patch_for(layer);
    p.format = NumFormat::Int;
    p.activation_bits = in.act_bits;
  }
  if (w && w->qbits > 0) {
    PrecisionPatch& p = patch_for(layer);
    p.format = NumFormat::Int;
    p.weight_bits = w->qbits;
  }
  if (r && r->qbits > 0) {
    PrecisionPatch& p = patch_for(layer);
    p.format = NumFormat::Int;
    p.recurrent_weight_bits = r->qbits;
  }
}

// ---- constant folding -----------------------------------------------------------------------

std::vector<I64> strides_of(const std::vector<I64>& d) {
  std::vector<I64> s(d.size(), 1);
  for (int i = int(d.size()) - 2; i >= 0; --i) s[size_t(i)] = s[size_t(i) + 1] * d[size_t(i) + 1];
  return s;
}

I64 norm_axis(I64 axis, std::size_t rank) { return axis < 0 ? axis + I64(rank) : axis; }

Const broadcast_binary(const Const& a, const Const& b, const std::function<double(double, double)>& f,
                       bool* ok) {
  const std::size_t r = std::max(a.dims.size(), b.dims.size());
  std::vector<I64> da(r, 1), db(r, 1), dout(r, 1);
  std::copy(a.dims.begin(), a.dims.end(), da.begin() + I64(r - a.dims.size()));
  std::copy(b.dims.begin(), b.dims.end(), db.begin() + I64(r - b.dims.size()));
  *ok = true;
  for (std::size_t i = 0; i < r; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) *ok = false;
    dout[i] = std::max(da[i], db[i]);
  }
  Const c;
  if (!*ok) return c;
  c.dims = dout;
  c.is_int = a.is_int && b.is_int;
  const I64 n = product(dout);
  c.v.resize(size_t(n));
  const auto so = strides_of(dout), sa = strides_of(da), sb = strides_of(db);
  for (I64 i = 0; i < n; ++i) {
    I64 ia = 0, ib = 0, rem = i;
    for (std::size_t k = 0; k < r; ++k) {
      const I64 idx = rem / so[k];
      rem %= so[k];
      if (da[k] != 1) ia += idx * sa[k];
      if (db[k] != 1) ib += idx * sb[k];
    }
    c.v[size_t(i)] = f(a.v[size_t(ia)], b.v[size_t(ib)]);
  }
  return c;
}

Const transpose_const(const Const& a, const std::vector<I64>& perm) {
  Const c = a;
  const std::size_t r = a.dims.size();
  for (std::size_t i = 0; i < r; ++i) c.dims[i] = a.dims[size_t(perm[i])];
  const auto si = strides_of(a.dims), so = strides_of(c.dims);
  for (I64 i = 0; i < a.size(); ++i) {
    I64 rem = i, src = 0;
    for (std::size_t k = 0; k < r; ++k) {
      const I64 idx = rem / so[k];
      rem %= so[k];
      src += idx * si[size_t(perm[k])];
    }
    c.v[size_t(i)] = a.v[size_t(src)];
  }
  return c;
}

void Importer::constant_op(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  auto in = [&](int i) -> const Const& { return cin(n, i, "input"); };
  auto ints_input = [&](int i, const std::string& what) {
    const Const& c = cin(n, i, what);
    std::vector<I64> v;
    for (double x : c.v) v.push_back(I64(std::llround(x)));
    return v;
  };
  Const out;
  if (op == "Constant") {
    const auto* a = attr(n, "value");
    if (!a || a->type() != onnx::AttributeProto::TENSOR) {
      if (const auto* vi = attr(n, "value_ints")) {
        out.is_int = true;
        for (I64 x : vi->ints()) out.v.push_back(double(x));
        out.dims = {I64(out.v.size())};
      } else if (const auto* vf = attr(n, "value_float")) {
        out.v = {vf->f()};
      } else if (const auto* vi1 = attr(n, "value_int")) {
        out.is_int = true;
        out.v = {double(vi1->i())};
      } else {
        fail_node(n, "a tensor, value_int(s) or value_float attribute", "none of them");
      }
    } else {
      out = tensor_const(a->t(), node_label(n));
    }
  } else if (op == "Identity" || op == "Dropout") {
    out = in(0);
  } else if (op == "Cast") {
    out = in(0);
    const I64 to = attr_int(n, "to", 1);
    out.is_int = to != onnx::TensorProto::FLOAT && to != onnx::TensorProto::DOUBLE &&
                 to != onnx::TensorProto::FLOAT16 && to != onnx::TensorProto::BFLOAT16;
    if (out.is_int)
      for (double& x : out.v) x = std::trunc(x);
  } else if (op == "Shape") {
    out.is_int = true;
    for (I64 d : value(n, 0).c.dims) out.v.push_back(double(d));
    out.dims = {I64(out.v.size())};
  } else if (op == "ConstantOfShape") {
    const std::vector<I64> shape = ints_input(0, "shape");
    out.dims = shape;
    double fill = 0;
    if (const auto* a = attr(n, "value")) {
      const Const v = tensor_const(a->t(), node_label(n));
      if (v.size() != 1) fail_node(n, "a one-element value", std::to_string(v.size()) + " elements");
      fill = v.v[0];
      out.is_int = v.is_int;
    }
    for (I64 d : shape)
      if (d < 0) fail_node(n, "a non-negative shape", dims_str(shape));
    const bool sizes_ok = std::all_of(shape.begin(), shape.end(), [](I64 x) { return x >= 0; });
    if (!sizes_ok || product(shape) > kMaxFoldedElements)
      fail_node(n, "non-negative sizes of at most 2^24 elements in all", dims_str(shape));
    out.v.assign(size_t(product(shape)), fill);
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    out = in(0);
    std::vector<I64> axes = opset_ >= 13 && has_input(n, 1) ? ints_input(1, "axes") : attr_ints(n, "axes");
    if (op == "Unsqueeze") {
      const std::size_t r = out.dims.size() + axes.size();
      for (I64& a : axes) a = norm_axis(a, r);
      std::sort(axes.begin(), axes.end());
      for (I64 a : axes) {
        if (a < 0 || a > I64(out.dims.size())) fail_node(n, "axes within the output rank", std::to_string(a));
        out.dims.insert(out.dims.begin() + a, 1);
      }
    } else {
      std::vector<I64> d;
      for (std::size_t i = 0; i < out.dims.size(); ++i) {
        const bool listed = std::find_if(axes.begin(), axes.end(), [&](I64 a) {
                              return norm_axis(a, out.dims.size()) == I64(i);
                            }) != axes.end();
        if ((axes.empty() && out.dims[i] == 1) || listed) {
          if (out.dims[i] != 1) fail_node(n, "axes of size 1 to squeeze", dims_str(out.dims));
          continue;
        }
        d.push_back(out.dims[i]);
      }
      out.dims = d;
    }
  } else if (op == "Reshape" || op == "Flatten" || op == "Expand") {
    const Const& a = in(0);
    out = a;
    if (op == "Flatten") {
      const I64 axis = norm_axis(attr_int(n, "axis", 1), a.dims.size());
      I64 outer = 1;
      for (I64 i = 0; i < axis; ++i) outer *= a.dims[size_t(i)];
      out.dims = {outer, outer ? a.size() / outer : 0};
    } else if (op == "Reshape") {
      std::vector<I64> shape = ints_input(1, "shape");
      I64 known = 1;
      int infer = -1;
      for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 0 && i < a.dims.size()) shape[i] = a.dims[i];
        if (shape[i] < -1 || shape[i] > std::max<I64>(a.size(), 1))
          fail_node(n, "shape entries of -1, 0 or at most the input's " + std::to_string(a.size()) + " elements",
                    dims_str(shape));
        if (shape[i] == -1) infer = int(i);
        else if (__builtin_mul_overflow(known, shape[i], &known))
          fail_node(n, "a shape of " + std::to_string(a.size()) + " elements", dims_str(shape));
      }
      if (infer >= 0 && known > 0) shape[size_t(infer)] = a.size() / known;
      if (product(shape) != a.size()) fail_node(n, "a shape of " + std::to_string(a.size()) + " elements", dims_str(shape));
      out.dims = shape;
    } else {
      const std::vector<I64> shape = ints_input(1, "shape");
      Const ones;
      ones.dims = shape;
      const bool sizes_ok = std::all_of(shape.begin(), shape.end(), [](I64 x) { return x >= 0; });
      if (!sizes_ok || product(shape) > kMaxFoldedElements)
        fail_node(n, "non-negative sizes of at most 2^24 elements in all", dims_str(shape));
      ones.v.assign(size_t(product(shape)), 0.0);
      ones.is_int = a.is_int;
      bool ok = true;
      out = broadcast_binary(a, ones, [](double x, double) { return x; }, &ok);
      if (!ok) fail_node(n, "a shape " + dims_str(a.dims) + " broadcasts to", dims_str(shape));
    }
  } else if (op == "Transpose") {
    const Const& a = in(0);
    std::vector<I64> perm = attr_ints(n, "perm");
    if (perm.empty())
      for (I64 i = I64(a.dims.size()) - 1; i >= 0; --i) perm.push_back(i);
    if (perm.size() != a.dims.size()) fail_node(n, "a permutation of " + std::to_string(a.dims.size()) + " axes", dims_str(perm));
    out = transpose_const(a, perm);
  } else if (op == "Gather") {
    const Const& a = in(0);
    const Const& idx = in(1);
    if (a.dims.empty()) fail_node(n, "data of rank >= 1", "a scalar");
    const I64 axis = norm_axis(attr_int(n, "axis", 0), a.dims.size());
    if (axis < 0 || axis >= I64(a.dims.size())) fail_node(n, "an axis within the data's rank", std::to_string(axis));
    const I64 len = a.dims[size_t(axis)];
    I64 outer = 1, inner = 1;
    for (I64 i = 0; i < axis; ++i) outer *= a.dims[size_t(i)];
    for (std::size_t i = size_t(axis) + 1; i < a.dims.size(); ++i) inner *= a.dims[i];
    out.is_int = a.is_int;
    out.dims.assign(a.dims.begin(), a.dims.begin() + axis);
    out.dims.insert(out.dims.end(), idx.dims.begin(), idx.dims.end());
    out.dims.insert(out.dims.end(), a.dims.begin() + axis + 1, a.dims.end());
    for (I64 o = 0; o < outer; ++o)
      for (double xi : idx.v) {
        I64 k = I64(std::llround(xi));
        if (k < 0) k += len;
        if (k < 0 || k >= len) fail_node(n, "indices in [-" + std::to_string(len) + ", " + std::to_string(len) + ")", std::to_string(I64(xi)));
        for (I64 i = 0; i < inner; ++i) out.v.push_back(a.v[size_t((o * len + k) * inner + i)]);
      }
  } else if (op == "Slice") {
    const Const& a = in(0);
    const std::vector<I64> starts = ints_input(1, "starts"), ends = ints_input(2, "ends");
    std::vector<I64> axes, steps;
    if (has_input(n, 3)) axes = ints_input(3, "axes");
    if (has_input(n, 4)) steps = ints_input(4, "steps");
    if (axes.empty())
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(I64(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      fail_node(n, "starts, ends, axes and steps of equal length", "different lengths");
    const std::size_t r = a.dims.size();
    std::vector<I64> lo(r, 0), st(r, 1), cnt = a.dims;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const I64 ax = norm_axis(axes[i], r);
      if (ax < 0 || ax >= I64(r)) fail_node(n, "axes within rank " + std::to_string(r), std::to_string(axes[i]));
      const I64 dim = a.dims[size_t(ax)], step = steps[i];
      if (step <= 0) fail_node(n, "positive slice steps", std::to_string(step));
      auto clampi = [&](I64 x) { return std::max<I64>(0, std::min(dim, x < 0 ? x + dim : x)); };
      const I64 b = clampi(starts[i]), e = clampi(ends[i]);
      lo[size_t(ax)] = b;
      st[size_t(ax)] = step;
      cnt[size_t(ax)] = e > b ? (e - b + step - 1) / step : 0;
    }
    out.is_int = a.is_int;
    out.dims = cnt;
    const auto so = strides_of(cnt), si = strides_of(a.dims);
    for (I64 i = 0; i < product(cnt); ++i) {
      I64 rem = i, src = 0;
      for (std::size_t k = 0; k < r; ++k) {
        const I64 idx = rem / so[k];
        rem %= so[k];
        src += (lo[k] + idx * st[k]) * si[k];
      }
      out.v.push_back(a.v[size_t(src)]);
    }
  } else if (op == "Concat") {
    const I64 axis0 = attr_int(n, "axis", 0);
    const Const& first = in(0);
    const I64 axis = norm_axis(axis0, first.dims.size());
    if (axis < 0 || axis >= I64(first.dims.size())) fail_node(n, "an axis within rank", std::to_string(axis0));
    out.dims = first.dims;
    out.dims[size_t(axis)] = 0;
    out.is_int = true;
    I64 outer = 1;
    for (I64 i = 0; i < axis; ++i) outer *= first.dims[size_t(i)];
    std::vector<const Const*> parts;
    for (int i = 0; i < n.input_size(); ++i) {
      const Const& c = in(i);
      if (c.dims.size() != first.dims.size()) fail_node(n, "inputs of equal rank", dims_str(c.dims));
      for (std::size_t k = 0; k < c.dims.size(); ++k)
        if (I64(k) != axis && c.dims[k] != first.dims[k]) fail_node(n, "inputs that differ only along the axis", dims_str(c.dims));
      out.dims[size_t(axis)] += c.dims[size_t(axis)];
      out.is_int = out.is_int && c.is_int;
      parts.push_back(&c);
    }
    for (I64 o = 0; o < outer; ++o)
      for (const Const* c : parts) {
        const I64 chunk = outer ? c->size() / outer : 0;
        out.v.insert(out.v.end(), c->v.begin() + o * chunk, c->v.begin() + (o + 1) * chunk);
      }
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    bool ok = true;
    const bool integer = in(0).is_int && in(1).is_int;
    std::function<double(double, double)> f;
    if (op == "Add") f = [](double x, double y) { return x + y; };
    if (op == "Sub") f = [](double x, double y) { return x - y; };
    if (op == "Mul") f = [](double x, double y) { return x * y; };
    if (op == "Div") f = [integer](double x, double y) {
      if (y == 0) return integer ? 0.0 : x / y;
      return integer ? std::trunc(x / y) : x / y;
    };
    out = broadcast_binary(in(0), in(1), f, &ok);
    if (!ok) fail_node(n, "broadcastable shapes", dims_str(in(0).dims) + " and " + dims_str(in(1).dims));
  } else if (op == "DequantizeLinear") {
    const Const& q = in(0);
    const Const& s = in(1);
    const Const zero;
    const Const& z = has_input(n, 2) ? in(2) : zero;
    out.dims = q.dims;
    out.qbits = q.qbits;
    const I64 axis = norm_axis(attr_int(n, "axis", 1), q.dims.size());
    I64 inner = 1;
    for (std::size_t k = size_t(std::max<I64>(axis, 0)) + 1; k < q.dims.size(); ++k) inner *= q.dims[k];
    for (I64 i = 0; i < q.size(); ++i) {
      I64 ch = 0;
      if (s.size() > 1) {
        if (axis < 0 || axis >= I64(q.dims.size()) || s.size() != q.dims[size_t(axis)])
          fail_node(n, "one scale per channel along axis " + std::to_string(axis), std::to_string(s.size()) + " scales");
        ch = (i / inner) % q.dims[size_t(axis)];
      }
      const double zp = z.size() > 1 ? z.v[size_t(ch)] : z.size() == 1 ? z.v[0] : 0.0;
      out.v.push_back((q.v[size_t(i)] - zp) * s.v[size_t(ch)]);
    }
  } else if (op == "QuantizeLinear") {
    const Const& x = in(0);
    const Const& s = in(1);
    Const zero;
    zero.v = {0};
    const Const& z = has_input(n, 2) ? in(2) : zero;
    // The zero point's type decides the grid: int8 [-128, 127], otherwise uint8 [0, 255].
    const bool s8 = has_input(n, 2) && in(2).dtype == onnx::TensorProto::INT8;
    const double lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
    out.dims = x.dims;
    out.is_int = true;
    out.dtype = s8 ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
    out.qbits = 8;
    const I64 axis = norm_axis(attr_int(n, "axis", 1), x.dims.size());
    I64 inner = 1;
    for (std::size_t k = size_t(std::max<I64>(axis, 0)) + 1; k < x.dims.size(); ++k) inner *= x.dims[k];
    for (I64 i = 0; i < x.size(); ++i) {
      I64 ch = 0;
      if (s.size() > 1) ch = (i / inner) % std::max<I64>(1, x.dims[size_t(std::max<I64>(axis, 0))]);
      const double zp = z.size() > 1 ? z.v[size_t(ch)] : z.v[0];
      const double q = std::nearbyint(x.v[size_t(i)] / s.v[size_t(std::min<I64>(ch, s.size() - 1))]) + zp;
      out.v.push_back(std::min(hi, std::max(lo, q)));
    }
  } else if (op == "Clip") {
    out = in(0);
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    if (opset_ >= 11) {
      if (has_input(n, 1)) lo = in(1).v.at(0);
      if (has_input(n, 2)) hi = in(2).v.at(0);
    } else {
      lo = attr_float(n, "min", lo);
      hi = attr_float(n, "max", hi);
    }
    for (double& x : out.v) x = std::min(hi, std::max(lo, x));
    if (out.is_int && std::isfinite(lo) && std::isfinite(hi) && hi > lo)
      out.qbits = int(std::ceil(std::log2(hi - lo + 1)));
  } else {
    fail_node(n, "an operator that folds on constant inputs (" + join_ops() + ")", op);
  }
  set_const(n, 0, std::move(out));
}


// ---- layout operators on computed tensors -----------------------------------------------

// Regroups a's atoms (in view order) into axes of the given sizes, splitting an atom where an
// axis boundary falls inside it (the outer part first, as row-major order does); false when a
// boundary cannot fall there.
bool regroup(Act& a, const std::vector<I64>& dims, int& next_atom) {
  std::vector<Atom> atoms = flat(a);
  std::vector<Axis> axes;
  std::size_t k = 0;
  for (I64 d : dims) {
    Axis ax;
    I64 need = d;
    while (need > 1) {
      if (k >= atoms.size()) return false;
      Atom t = atoms[k];
      if (t.size <= need) {
        if (need % t.size != 0) return false;
        need /= t.size;
        ax.push_back(t);
        ++k;
      } else {
        if (t.size % need != 0) return false;
        Atom outer{next_atom++, need, t.role}, inner{next_atom++, t.size / need, t.role};
        for (std::size_t c = 0; c < a.canon.size(); ++c)
          if (a.canon[c].id == t.id) {
            a.canon[c] = outer;
            a.canon.insert(a.canon.begin() + I64(c) + 1, inner);
            break;
          }
        ax.push_back(outer);
        atoms[k] = inner;
        need = 1;
      }
    }
    axes.push_back(ax);
  }
  if (k != atoms.size()) return false;
  a.axes = axes;
  return true;
}

void Importer::view_op(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  const Act& in = ain(n, 0);
  Act a = in;
  a.sole = in.sole && uses_[n.input(0)] == 1;
  const std::vector<I64> d = act_dims(in);
  if (op == "Shape") {
    Const c;
    c.is_int = true;
    for (I64 x : d) c.v.push_back(double(x));
    c.dims = {I64(c.v.size())};
    set_const(n, 0, std::move(c));
    return;
  }
  if (op == "Identity" || op == "Dropout") {
    if (op == "Dropout" && n.output_size() > 1 && !n.output(1).empty() && uses_[n.output(1)] > 0)
      fail_node(n, "no reader of the dropout mask (inference graph)", "a reader of \"" + n.output(1) + "\"");
  } else if (op == "Cast") {
    // Cast to FLOAT16 / BFLOAT16 and back: the reader's activations in that format (export's
    // convention for fp16 / bf16 layers).
    const I64 to = attr_int(n, "to", 1);
    const bool half = to == onnx::TensorProto::FLOAT16 || to == onnx::TensorProto::BFLOAT16;
    if (half && in.cast_fmt == NumFormat::Fp32 && !in.quantized) {
      a.cast_fmt = to == onnx::TensorProto::FLOAT16 ? NumFormat::Fp16 : NumFormat::Bf16;
    } else if (to == onnx::TensorProto::FLOAT) {
      if (in.cast_fmt != NumFormat::Fp32) a.act_fmt = in.cast_fmt;
      a.cast_fmt = NumFormat::Fp32;
    } else {
      fail_node(n, "a cast of a computed tensor to float (to = 1), or to float16 / bfloat16 and back",
                "to = " + std::to_string(to));
    }
  } else if (op == "Transpose") {
    std::vector<I64> perm = attr_ints(n, "perm");
    if (perm.empty())
      for (I64 i = I64(d.size()) - 1; i >= 0; --i) perm.push_back(i);
    std::vector<I64> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i] != I64(i) || perm.size() != d.size())
        fail_node(n, "a permutation of the " + std::to_string(d.size()) + " axes of " + dims_str(d), dims_str(perm));
    std::vector<Axis> axes;
    for (I64 p : perm) axes.push_back(in.axes[size_t(p)]);
    a.axes = axes;
  } else if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
    std::vector<I64> shape;
    const I64 total = product(d);
    if (op == "Flatten") {
      const I64 axis = norm_axis(attr_int(n, "axis", 1), d.size());
      if (axis < 0 || axis > I64(d.size())) fail_node(n, "an axis in [0, rank]", std::to_string(axis));
      I64 outer = 1;
      for (I64 i = 0; i < axis; ++i) outer *= d[size_t(i)];
      shape = {outer, total / outer};
    } else if (op == "Reshape") {
      const Const& s = cin(n, 1, "shape");
      I64 known = 1;
      int infer = -1;
      for (std::size_t i = 0; i < s.v.size(); ++i) {
        // -1 (inferred), 0 (copied) or a dimension no larger than the input's element count.
        if (!(s.v[i] >= -1 && s.v[i] <= double(std::max<I64>(total, 1))))
          fail_node(n, "shape entries of -1, 0 or at most the input's " + std::to_string(total) + " elements",
                    nlohmann::json(s.v[i]).dump());
        I64 x = I64(std::llround(s.v[i]));
        if (x == 0 && attr_int(n, "allowzero", 0) == 0) {
          if (i >= d.size()) fail_node(n, "a 0 (copy) only where the input has that axis", dims_str(d));
          x = d[i];
        }
        if (x == -1) infer = int(i);
        else if (__builtin_mul_overflow(known, x, &known))
          fail_node(n, "a shape of " + std::to_string(total) + " elements for input " + dims_str(d), "more");
        shape.push_back(x);
      }
      if (infer >= 0 && known > 0) shape[size_t(infer)] = total / known;
      if (product(shape) != total)
        fail_node(n, "a shape of " + std::to_string(total) + " elements for input " + dims_str(d), dims_str(shape));
    } else {
      std::vector<I64> axes = opset_ >= 13 && has_input(n, 1)
                                  ? [&] {
                                      std::vector<I64> v;
                                      for (double x : cin(n, 1, "axes").v) v.push_back(I64(std::llround(x)));
                                      return v;
                                    }()
                                  : attr_ints(n, "axes");
      shape = d;
      if (op == "Unsqueeze") {
        const std::size_t r = d.size() + axes.size();
        for (I64& x : axes) x = norm_axis(x, r);
        std::sort(axes.begin(), axes.end());
        for (I64 x : axes) {
          if (x < 0 || x > I64(shape.size())) fail_node(n, "axes within the output rank", std::to_string(x));
          shape.insert(shape.begin() + x, 1);
        }
      } else {
        std::vector<I64> kept;
        for (std::size_t i = 0; i < d.size(); ++i) {
          bool listed = false;
          for (I64 x : axes) listed = listed || norm_axis(x, d.size()) == I64(i);
          if ((axes.empty() && d[i] == 1) || listed) {
            if (d[i] != 1) fail_node(n, "axes of size 1 to squeeze in " + dims_str(d), "axis " + std::to_string(i));
            continue;
          }
          kept.push_back(d[i]);
        }
        shape = kept;
      }
    }
    if (!regroup(a, shape, next_atom_))
      fail_node(n, "a reshape that regroups whole dimensions of " + dims_str(d) +
                       " (mixprec keeps batch, steps, directions and features apart)",
                dims_str(shape));
  } else {
    fail_node(n, "a layout operator", op);
  }
  if (op != "Cast" && op != "Identity" && op != "Dropout") a.view_node = n.name();  // a layout change
  set_act(n, 0, std::move(a));
}


// ---- layers -------------------------------------------------------------------------------

void relabel(Act& a, const char* roles, char to) {
  for (Atom& t : a.canon)
    if (in_roles(t, roles)) t.role = to;
  for (Axis& ax : a.axes)
    for (Atom& t : ax)
      if (in_roles(t, roles)) t.role = to;
}

bool physical(const Act& a) { return same_ids(flat(a), a.canon); }

// An image whose rows and columns a linear or recurrent layer reads as features: a
// frames_to_sequence layer (a view of the same memory: (batch*frames, c, h, w) -> (batch,
// frames, c*h*w)).
Act Importer::ensure_vector(const onnx::NodeProto& n, const Act& a) {
  if (a.seq || with_roles(a.canon, "hw").empty()) return a;
  return ensure_sequence(n, a);
}

Act Importer::ensure_sequence(const onnx::NodeProto& n, const Act& a) {
  if (a.seq) return a;
  const std::vector<Atom> t = with_roles(a.canon, "t");
  const bool has_hw = !with_roles(a.canon, "hw").empty();
  if (t.empty() && !has_hw) return a;  // a vector: a one-step sequence as it is
  const I64 frames = prod_atoms(t);
  // The steps must be the inner factor of the samples, right after the batch.
  std::vector<Atom> nt = with_roles(a.canon, "nt");
  bool t_inner = true;
  for (std::size_t i = 0; i + t.size() < nt.size(); ++i) t_inner = t_inner && nt[i].role == 'n';
  if (frames != spec_.frames || !t_inner)
    fail_node(n, "frames of the network input (" + std::to_string(spec_.frames) + " per sample) as the inner part of the samples axis",
              "samples that are not (batch, frames)");
  Layer l;
  l.kind = LayerKind::FramesToSequence;
  onnx::NodeProto fake;
  // A layout node named "...frames_to_sequence" (as `mixprec export` writes it) names the layer.
  const std::string tag = "frames_to_sequence";
  const std::string& v = a.view_node;
  const bool named = v.size() >= tag.size() && v.compare(v.size() - tag.size(), tag.size(), tag) == 0;
  fake.set_name(named ? v : n.name() + ".frames_to_sequence");
  fake.set_op_type("frames_to_sequence");
  const int idx = add_layer(fake, l, {&a});
  Act o = a;
  o.producer = idx;
  o.seq = spec_.frames > 1;
  relabel(o, "hw", 'c');
  o.sole = true;
  out_.notes.push_back("layer \"" + layer_of(idx).name + "\": frames_to_sequence inserted before " +
                       node_label(n) + " (no data moves)");
  return o;
}

void Importer::conv(const onnx::NodeProto& n, bool qlinear) {
  const Act& x = ain(n, 0);
  const int wi = qlinear ? 3 : 1;
  Const w = cin(n, wi, "the weights W");
  if (qlinear) {
    if (!x.quantized) fail_node(n, "a quantized input (QuantizeLinear output)", "a float tensor");
    const Const& ws = cin(n, 4, "w_scale");
    const Const& wz = cin(n, 5, "w_zero_point");
    const I64 per = w.dims.empty() ? 0 : w.size() / std::max<I64>(1, w.dims[0]);
    for (I64 i = 0; i < w.size(); ++i) {
      const I64 m = per ? i / per : 0;
      const double s = ws.size() > 1 ? ws.v.at(size_t(m)) : ws.v.at(0);
      const double z = wz.size() > 1 ? wz.v.at(size_t(m)) : wz.size() ? wz.v[0] : 0.0;
      w.v[size_t(i)] = (w.v[size_t(i)] - z) * s;
    }
  }
  if (x.seq || x.axes.size() != 4)
    fail_node(n, "a 2-D convolution on an image [N, C, H, W]", "input " + dims_str(act_dims(x)));
  if (!physical(x))
    fail_node(n, "its input in memory order [N, C, H, W] (mixprec moves no data for a Transpose before a Conv)",
              "a transposed view " + dims_str(act_dims(x)));
  const char* roles[4] = {"nt", "cd", "h", "w"};
  for (int k = 0; k < 4; ++k)
    for (const Atom& t : x.axes[size_t(k)])
      if (!in_roles(t, roles[k]))
        fail_node(n, "an image input [N, C, H, W]", "a tensor " + dims_str(act_dims(x)) + " whose axes mix other dimensions");
  const std::vector<I64> xd = act_dims(x);
  if (w.dims.size() != 4) fail_node(n, "4-D weights [M, C/group, kH, kW]", dims_str(w.dims));
  const I64 group = attr_int(n, "group", 1);
  if (group < 1 || xd[1] % group != 0 || w.dims[0] % group != 0 || w.dims[1] * group != xd[1])
    fail_node(n, "weights [M, C/group, kH, kW] with C = " + std::to_string(xd[1]) + ", group = " + std::to_string(group),
              dims_str(w.dims));
  const std::string auto_pad = attr_str(n, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    fail_node(n, "auto_pad NOTSET or VALID (explicit pads)", auto_pad);
  std::vector<I64> strides = attr_ints(n, "strides"), pads = attr_ints(n, "pads"), dil = attr_ints(n, "dilations");
  if (strides.empty()) strides = {1, 1};
  if (pads.empty()) pads = {0, 0, 0, 0};
  if (dil.empty()) dil = {1, 1};
  const std::vector<I64> ks = attr_ints(n, "kernel_shape");
  if (!ks.empty() && (ks.size() != 2 || ks[0] != w.dims[2] || ks[1] != w.dims[3]))
    fail_node(n, "kernel_shape equal to the weights' " + dims_str({w.dims[2], w.dims[3]}), dims_str(ks));
  if (strides.size() != 2 || strides[0] != strides[1])
    fail_node(n, "equal strides along height and width", "strides " + dims_str(strides));
  if (pads.size() != 4 || !std::all_of(pads.begin(), pads.end(), [&](I64 p) { return p == pads[0]; }))
    fail_node(n, "equal padding on all four sides", "pads " + dims_str(pads));
  if (dil.size() != 2 || dil[0] != 1 || dil[1] != 1)
    fail_node(n, "dilations [1, 1] (mixprec's conv2d has no dilation)", "dilations " + dims_str(dil));
  Layer l;
  l.kind = LayerKind::Conv2d;
  l.out_channels = int(w.dims[0]);
  l.kernel_h = int(w.dims[2]);
  l.kernel_w = int(w.dims[3]);
  l.stride = int(strides[0]);
  l.padding = int(pads[0]);
  l.groups = int(group);
  const int bi = qlinear ? 8 : 2;
  l.bias = has_input(n, bi);
  const I64 oh = (xd[2] + 2 * l.padding - l.kernel_h) / l.stride + 1;
  const I64 ow = (xd[3] + 2 * l.padding - l.kernel_w) / l.stride + 1;
  if (oh < 1 || ow < 1 || xd[2] + 2 * l.padding < l.kernel_h || xd[3] + 2 * l.padding < l.kernel_w)
    fail_node(n, "a kernel no larger than the padded input", dims_str({w.dims[2], w.dims[3]}) + " on " + dims_str(xd));
  const int idx = add_layer(n, l, {&x});
  const std::string& name = layer_of(idx).name;
  add_tensor(out_.params, name + ".weight", {int(w.dims[0]), int(w.dims[1]), int(w.dims[2]), int(w.dims[3])},
             std::vector<float>(w.v.begin(), w.v.end()));
  if (l.bias) {
    Const b = cin(n, bi, "the bias B");
    if (b.size() != w.dims[0]) fail_node(n, std::to_string(w.dims[0]) + " bias values", std::to_string(b.size()));
    if (qlinear) {
      const Const& xs = value(n, 1).c;
      const Const& ws = cin(n, 4, "w_scale");
      for (I64 m = 0; m < b.size(); ++m)
        b.v[size_t(m)] *= xs.v.at(0) * (ws.size() > 1 ? ws.v.at(size_t(m)) : ws.v.at(0));
    }
    add_tensor(out_.params, name + ".bias", {int(b.size()), 1, 1, 1}, std::vector<float>(b.v.begin(), b.v.end()));
  }
  Const wq = w;
  if (qlinear) wq.qbits = 8;
  note_bits(name, x, &wq, nullptr);
  Axis an = x.axes[0], ac, ah, aw;
  push_axis_atom(ac, w.dims[0], 'c');
  push_axis_atom(ah, oh, 'h');
  push_axis_atom(aw, ow, 'w');
  std::vector<Atom> canon = an;
  for (const Axis* ax : {&ac, &ah, &aw}) canon.insert(canon.end(), ax->begin(), ax->end());
  Act o = output_act(idx, false, canon, {an, ac, ah, aw});
  if (qlinear) {
    o.quantized = true;
    o.act_bits = 8;
    o.scale = cin(n, 6, "y_scale").v.at(0);
  }
  set_act(n, 0, std::move(o));
}

void Importer::linear(const onnx::NodeProto& n, bool qlinear) {
  const std::string& op = n.op_type();
  const Act x = ensure_vector(n, ain(n, 0));
  if (qlinear && !x.quantized) fail_node(n, "a quantized input (QuantizeLinear output)", "a float tensor");
  const int wi = qlinear ? 3 : 1;
  if (!value(n, wi).is_const)
    fail_node(n, "a constant right-hand matrix (weights)", "a computed tensor (products of two computed tensors, e.g. attention, are not supported)");
  Const w = cin(n, wi, "the weights");
  const std::vector<I64> xd = act_dims(x);
  if (xd.size() < 2) fail_node(n, "an input of rank >= 2", dims_str(xd));
  if (op == "Gemm" && xd.size() != 2) fail_node(n, "a 2-D input [M, K]", dims_str(xd));
  if (w.dims.size() != 2) fail_node(n, "a 2-D weight matrix", dims_str(w.dims));
  bool trans_b = false;
  double alpha = 1, beta = 1;
  if (op == "Gemm") {
    if (attr_int(n, "transA", 0) != 0) fail_node(n, "transA = 0", "transA = 1");
    trans_b = attr_int(n, "transB", 0) != 0;
    alpha = attr_float(n, "alpha", 1.0);
    beta = attr_float(n, "beta", 1.0);
  }
  if (qlinear) {  // b [K, N]: per-column scales
    const Const& bs = cin(n, 4, "b_scale");
    const Const& bz = cin(n, 5, "b_zero_point");
    for (I64 i = 0; i < w.size(); ++i) {
      const I64 col = i % w.dims[1];
      const double s = bs.size() > 1 ? bs.v.at(size_t(col)) : bs.v.at(0);
      const double z = bz.size() > 1 ? bz.v.at(size_t(col)) : bz.size() ? bz.v[0] : 0.0;
      w.v[size_t(i)] = (w.v[size_t(i)] - z) * s;
    }
  }
  const I64 K = trans_b ? w.dims[1] : w.dims[0], N = trans_b ? w.dims[0] : w.dims[1];
  if (K != xd.back()) fail_node(n, "weights with K = " + std::to_string(xd.back()) + " rows", dims_str(w.dims));
  // The reduction axis must be the producer's features, in their memory order.
  const std::vector<Atom> feats = with_roles(x.canon, x.seq ? "cd" : "cdhw");
  if (!same_ids(x.axes.back(), feats))
    fail_node(n, "the last axis of " + dims_str(xd) + " to be the features of the producing layer \"" +
                     producer_name(x.producer) + "\" in memory order",
              "a view that mixes them with other dimensions (batch, steps) or reorders them");
  Layer l;
  l.kind = LayerKind::Linear;
  l.out_features = int(N);
  const int ci = op == "Gemm" ? 2 : -1;
  l.bias = ci >= 0 && has_input(n, ci);
  const int idx = add_layer(n, l, {&x});
  const std::string& name = layer_of(idx).name;
  std::vector<float> wt(size_t(N * K));
  for (I64 o = 0; o < N; ++o)
    for (I64 k = 0; k < K; ++k)
      wt[size_t(o * K + k)] = float(alpha * (trans_b ? w.v[size_t(o * K + k)] : w.v[size_t(k * N + o)]));
  add_tensor(out_.params, name + ".weight", {int(N), int(K), 1, 1}, std::move(wt));
  if (l.bias) {
    const Const& c = cin(n, ci, "the bias C");
    if (c.size() != N && c.size() != 1)
      fail_node(n, "a bias C of " + std::to_string(N) + " values (one per output)", dims_str(c.dims));
    std::vector<float> b(static_cast<std::size_t>(N));
    for (I64 o = 0; o < N; ++o) b[size_t(o)] = float(beta * (c.size() == 1 ? c.v[0] : c.v[size_t(o)]));
    add_tensor(out_.params, name + ".bias", {int(N), 1, 1, 1}, std::move(b));
  }
  Const wq = w;
  if (qlinear) wq.qbits = 8;
  note_bits(name, x, &wq, nullptr);
  Axis out_ax;
  push_axis_atom(out_ax, N, 'c');
  std::vector<Atom> canon;
  for (const Atom& t : x.canon)
    if (!in_roles(t, x.seq ? "cd" : "cdhw")) canon.push_back(t);
  canon.insert(canon.end(), out_ax.begin(), out_ax.end());
  std::vector<Axis> axes(x.axes.begin(), x.axes.end() - 1);
  axes.push_back(out_ax);
  Act o = output_act(idx, x.seq, canon, axes);
  if (qlinear) {
    o.quantized = true;
    o.act_bits = 8;
    o.scale = cin(n, 6, "y_scale").v.at(0);
  }
  set_act(n, 0, std::move(o));
}

void Importer::recurrent(const onnx::NodeProto& n) {
  const bool gru = n.op_type() == "GRU";
  const int G = gru ? 3 : 4;
  const I64 H = attr_int(n, "hidden_size", 0);
  if (H < 1) fail_node(n, "a positive hidden_size attribute", std::to_string(H));
  const std::string dir = attr_str(n, "direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    fail_node(n, "direction forward, reverse or bidirectional", dir);
  const I64 D = dir == "bidirectional" ? 2 : 1;
  const I64 layout = attr_int(n, "layout", 0);
  if (layout != 0 && layout != 1) fail_node(n, "layout 0 or 1", std::to_string(layout));
  if (attr(n, "clip")) fail_node(n, "no cell clip (mixprec's cells do not clip)", "clip = " + std::to_string(attr_float(n, "clip", 0)));
  if (attr_int(n, "input_forget", 0) != 0) fail_node(n, "input_forget = 0", "input_forget = 1");
  if (const auto* acts = attr(n, "activations")) {
    std::vector<std::string> want = gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                        : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    for (int i = 0; i < acts->strings_size(); ++i)
      if (acts->strings(i) != want[size_t(i) % want.size()])
        fail_node(n, "the default activations (" + std::string(gru ? "Sigmoid, Tanh" : "Sigmoid, Tanh, Tanh") + ")",
                  "activation " + acts->strings(i));
  }
  const Act x = ensure_sequence(n, ain(n, 0));
  const std::vector<I64> xd = act_dims(x);
  if (xd.size() != 3) fail_node(n, "a 3-D input X", dims_str(xd));
  const std::vector<Atom> nt = with_roles(x.canon, "n"), tt = with_roles(x.canon, "t"),
                          ff = with_roles(x.canon, x.seq ? "cd" : "cdhw");
  const Axis& ax_t = x.axes[layout == 0 ? 0 : 1];
  const Axis& ax_n = x.axes[layout == 0 ? 1 : 0];
  if (!same_ids(ax_t, tt) || !same_ids(ax_n, nt) || !same_ids(x.axes[2], ff))
    fail_node(n, std::string("X as ") + (layout == 0 ? "[steps, batch, features]" : "[batch, steps, features]") +
                     " of the producer \"" + producer_name(x.producer) + "\" (layout " + std::to_string(layout) + ")",
              "a view " + dims_str(xd) + " whose axes are other dimensions");
  const I64 T = prod_atoms(tt), B = prod_atoms(nt), F = prod_atoms(ff);
  const Const& W = cin(n, 1, "W");
  const Const& R = cin(n, 2, "R");
  if (W.dims != std::vector<I64>{D, G * H, F}) fail_node(n, "W of dims " + dims_str({D, G * H, F}), dims_str(W.dims));
  if (R.dims != std::vector<I64>{D, G * H, H}) fail_node(n, "R of dims " + dims_str({D, G * H, H}), dims_str(R.dims));
  Const Bc;
  Bc.dims = {D, 2 * G * H};
  Bc.v.assign(size_t(D * 2 * G * H), 0.0);
  if (has_input(n, 3)) {
    Bc = cin(n, 3, "B");
    if (Bc.dims != std::vector<I64>{D, 2 * G * H}) fail_node(n, "B of dims " + dims_str({D, 2 * G * H}), dims_str(Bc.dims));
  }
  int steps = 0;  // the layer's `steps`: 0, every step
  if (has_input(n, 4)) {
    const Value& v = value(n, 4);
    if (!v.is_const) fail_node(n, sequence_lens_expected(T), "the computed tensor \"" + n.input(4) + "\"");
    std::vector<I64> lens;
    for (double len : v.c.v) lens.push_back(I64(len));
    const bool equal = std::all_of(lens.begin(), lens.end(), [&](I64 len) { return len == lens[0]; });
    // One length L < T for the whole batch: ONNX runs the first L steps of every sequence (Y
    // zero after them, Y_h the state after step L - 1, after step 0 for the reverse direction,
    // which starts at step L - 1): the layer's `steps`.
    if (!lens.empty() && equal && lens[0] >= 1 && lens[0] < T) steps = int(lens[0]);
    if (!equal) {
      std::string list;
      for (I64 len : lens) list += (list.empty() ? "" : ", ") + std::to_string(len);
      fail_node(n, sequence_lens_expected(T), "lengths that differ across the batch (" + list + ")");
    }
    for (I64 len : lens)
      if (len != T && steps == 0) fail_node(n, sequence_lens_expected(T), "a length " + std::to_string(len));
  }
  // Initial states: constants, one vector per direction (equal rows across the batch).
  std::vector<float> h0, c0;  // D x H each when the layer has an initial state
  auto initial = [&](int i, const char* what, std::vector<float>& out) {
    if (!has_input(n, i)) return false;
    const Value& v = value(n, i);
    if (!v.is_const) fail_node(n, initial_state_expected(what, gru), "the computed tensor \"" + n.input(i) + "\"");
    if (std::all_of(v.c.v.begin(), v.c.v.end(), [](double z) { return z == 0; })) return false;
    if (gru) fail_node(n, initial_state_expected(what, gru), "non-zero values");
    const std::vector<I64> want = layout == 0 ? std::vector<I64>{D, B, H} : std::vector<I64>{B, D, H};
    if (v.c.dims != want) fail_node(n, std::string(what) + " of dims " + dims_str(want), dims_str(v.c.dims));
    out.assign(size_t(D * H), 0.0f);
    for (I64 d = 0; d < D; ++d)
      for (I64 b = 0; b < B; ++b)
        for (I64 j = 0; j < H; ++j) {
          const double z = v.c.v[size_t(layout == 0 ? (d * B + b) * H + j : (b * D + d) * H + j)];
          if (b == 0) out[size_t(d * H + j)] = float(z);
          else if (float(z) != out[size_t(d * H + j)])
            fail_node(n, std::string(what) + " the same for every sequence of the batch (mixprec's initial state is one "
                         "vector per direction, a layer parameter)",
                      "different values for sequences 0 and " + std::to_string(b));
        }
    return true;
  };
  const bool has_h0 = initial(5, "initial_h", h0);
  const bool has_c0 = !gru && initial(6, "initial_c", c0);
  if (has_h0 || has_c0) {
    if (h0.empty()) h0.assign(size_t(D * H), 0.0f);
    if (c0.empty()) c0.assign(size_t(D * H), 0.0f);
  }
  if (!gru) {
    const Value* p = has_input(n, 7) ? &value(n, 7) : nullptr;
    if (p && (!p->is_const || std::any_of(p->c.v.begin(), p->c.v.end(), [](double z) { return z != 0; })))
      fail_node(n, "peephole weights P absent or all zeros (mixprec's LSTM has no peepholes)",
                p->is_const ? "non-zero values" : "a computed tensor");
  }
  auto used = [&](int i) { return i < n.output_size() && !n.output(i).empty() && uses_[n.output(i)] > 0; };
  if (!gru && used(2)) fail_node(n, "no reader of the cell state Y_c", "a reader of \"" + n.output(2) + "\"");
  if (used(0) && used(1))
    fail_node(n, "readers of either Y (every step) or Y_h (the final state), not both", "readers of both");
  Layer l;
  l.kind = gru ? LayerKind::Gru : LayerKind::Lstm;
  l.hidden = int(H);
  l.bidirectional = D == 2;
  l.reverse = dir == "reverse";
  l.initial_state = !h0.empty();
  l.steps = steps;
  l.return_sequences = used(0);
  if (gru) l.linear_before_reset = attr_int(n, "linear_before_reset", 0) != 0;
  const int idx = add_layer(n, l, {&x});
  const std::string name = layer_of(idx).name;
  const std::vector<int>& perm = onnx_gate_blocks(l.kind);
  for (I64 d = 0; d < D; ++d) {
    const std::string sfx = d == 1 ? "_reverse" : "";
    std::vector<float> wih, whh, bias, bhn;
    for (int g = 0; g < G; ++g) {
      const I64 src = perm[size_t(g)];
      for (I64 j = 0; j < H; ++j) {
        const I64 row = src * H + j;
        for (I64 k = 0; k < F; ++k) wih.push_back(float(W.v[size_t((d * G * H + row) * F + k)]));
        for (I64 k = 0; k < H; ++k) whh.push_back(float(R.v[size_t((d * G * H + row) * H + k)]));
        const double wb = Bc.v[size_t(d * 2 * G * H + row)], rb = Bc.v[size_t(d * 2 * G * H + G * H + row)];
        if (gru && src == 2) {  // candidate: b_in stays, b_hn is applied with the recurrent product
          bias.push_back(float(wb));
          bhn.push_back(float(rb));
        } else {
          bias.push_back(float(wb + rb));
        }
      }
    }
    add_tensor(out_.params, name + ".weight_ih" + sfx, {int(G * H), int(F), 1, 1}, std::move(wih));
    add_tensor(out_.params, name + ".weight_hh" + sfx, {int(G * H), int(H), 1, 1}, std::move(whh));
    add_tensor(out_.params, name + ".bias" + sfx, {int(G * H), 1, 1, 1}, std::move(bias));
    if (gru) add_tensor(out_.params, name + ".bias_hn" + sfx, {int(H), 1, 1, 1}, std::move(bhn));
    if (l.initial_state) {
      add_tensor(out_.params, name + ".initial_h" + sfx, {int(H), 1, 1, 1},
                 std::vector<float>(h0.begin() + d * H, h0.begin() + (d + 1) * H));
      add_tensor(out_.params, name + ".initial_c" + sfx, {int(H), 1, 1, 1},
                 std::vector<float>(c0.begin() + d * H, c0.begin() + (d + 1) * H));
    }
  }
  note_bits(name, x, &W, &R);
  if (is_quant_lstm(n)) {  // its gate and cell-state grids
    PrecisionPatch& p = patch_for(name);
    if (!p.format) p.format = NumFormat::Int;
    const I64 gb = attr_int(n, "gate_bits", 0), cb = attr_int(n, "cell_state_bits", 0);
    if (gb < 2 || gb > 16 || cb < 2 || cb > 16)
      fail_node(n, "gate_bits and cell_state_bits of 2 to 16", std::to_string(gb) + " and " + std::to_string(cb));
    p.gate_bits = int(gb);
    p.cell_state_bits = int(cb);
  }
  Axis ad, ah;
  push_axis_atom(ad, D, 'd');
  push_axis_atom(ah, H, 'c');
  std::vector<Atom> feat = ad;
  feat.insert(feat.end(), ah.begin(), ah.end());
  if (l.return_sequences) {
    std::vector<Atom> canon = nt;
    canon.insert(canon.end(), tt.begin(), tt.end());
    canon.insert(canon.end(), feat.begin(), feat.end());
    std::vector<Axis> axes = layout == 0 ? std::vector<Axis>{tt, ad, nt, ah} : std::vector<Axis>{nt, tt, ad, ah};
    set_act(n, 0, output_act(idx, true, canon, axes));
  } else {
    std::vector<Atom> canon = nt;
    canon.insert(canon.end(), feat.begin(), feat.end());
    std::vector<Axis> axes = layout == 0 ? std::vector<Axis>{ad, nt, ah} : std::vector<Axis>{nt, ad, ah};
    set_act(n, 1, output_act(idx, false, canon, axes));
  }
}

void Importer::pool(const onnx::NodeProto& n) {
  const Act& x = ain(n, 0);
  if (x.seq || x.axes.size() != 4 || !physical(x))
    fail_node(n, "an image [N, C, H, W] in memory order", dims_str(act_dims(x)));
  const std::vector<I64> xd = act_dims(x);
  Layer l;
  l.kind = LayerKind::Pool;
  I64 oh = 1, ow = 1;
  if (n.op_type() == "GlobalAveragePool") {
    l.pool = PoolKind::GlobalAvg;
  } else {
    l.pool = n.op_type() == "MaxPool" ? PoolKind::Max : PoolKind::Avg;
    const std::vector<I64> ks = attr_ints(n, "kernel_shape");
    std::vector<I64> st = attr_ints(n, "strides"), pads = attr_ints(n, "pads"), dil = attr_ints(n, "dilations");
    if (ks.size() != 2 || ks[0] != ks[1]) fail_node(n, "a square 2-D kernel_shape", dims_str(ks));
    if (st.empty()) st = {1, 1};
    if (st.size() != 2 || st[0] != st[1]) fail_node(n, "equal strides", dims_str(st));
    if (!std::all_of(pads.begin(), pads.end(), [](I64 p) { return p == 0; }))
      fail_node(n, "no padding (mixprec's pools have none)", "pads " + dims_str(pads));
    if (!std::all_of(dil.begin(), dil.end(), [](I64 p) { return p == 1; })) fail_node(n, "no dilation", dims_str(dil));
    if (attr_int(n, "ceil_mode", 0) != 0) fail_node(n, "ceil_mode 0", "ceil_mode 1");
    const std::string ap = attr_str(n, "auto_pad", "NOTSET");
    if (ap != "NOTSET" && ap != "VALID") fail_node(n, "auto_pad NOTSET or VALID", ap);
    if (n.output_size() > 1 && !n.output(1).empty() && uses_[n.output(1)] > 0)
      fail_node(n, "no reader of the max indices", "a reader of \"" + n.output(1) + "\"");
    l.pool_kernel = int(ks[0]);
    l.pool_stride = int(st[0]);
    if (xd[2] < ks[0] || xd[3] < ks[0]) fail_node(n, "a window no larger than the input", dims_str(ks) + " on " + dims_str(xd));
    oh = (xd[2] - ks[0]) / st[0] + 1;
    ow = (xd[3] - ks[0]) / st[0] + 1;
  }
  const int idx = add_layer(n, l, {&x});
  note_bits(layer_of(idx).name, x, nullptr, nullptr);
  Axis ah, aw;
  push_axis_atom(ah, oh, 'h');
  push_axis_atom(aw, ow, 'w');
  std::vector<Atom> canon = x.axes[0];
  canon.insert(canon.end(), x.axes[1].begin(), x.axes[1].end());
  canon.insert(canon.end(), ah.begin(), ah.end());
  canon.insert(canon.end(), aw.begin(), aw.end());
  set_act(n, 0, output_act(idx, false, canon, {x.axes[0], x.axes[1], ah, aw}));
}

void Importer::batchnorm(const onnx::NodeProto& n) {
  const Act& x = ain(n, 0);
  if (attr_int(n, "training_mode", 0) != 0) fail_node(n, "training_mode 0 (an inference graph)", "training_mode 1");
  for (int i = 1; i < n.output_size(); ++i)
    if (!n.output(i).empty() && uses_[n.output(i)] > 0)
      fail_node(n, "no reader of the running statistics outputs", "a reader of \"" + n.output(i) + "\"");
  if (x.seq || x.axes.size() < 2 || !physical(x) || !same_ids(x.axes[1], with_roles(x.canon, "cd")))
    fail_node(n, "an image or vector [N, C, ...] in memory order", dims_str(act_dims(x)));
  const I64 C = axis_size(x.axes[1]);
  const Const& gamma = cin(n, 1, "scale");
  const Const& beta = cin(n, 2, "B");
  Const mean = cin(n, 3, "input_mean");
  Const var = cin(n, 4, "input_var");
  for (const Const* c : std::initializer_list<const Const*>{&gamma, &beta, &mean, &var})
    if (c->size() != C) fail_node(n, std::to_string(C) + " values per statistic (one per channel)", std::to_string(c->size()));
  // The training engine's BatchNorm uses eps = 1e-5; another epsilon moves into the variance.
  const double eps = attr_float(n, "epsilon", 1e-5);
  for (double& v : var.v) v += eps - 1e-5;
  std::string prefix;
  Act o = x;
  o.sole = true;
  if (x.producer >= 0 && layer_of(x.producer).kind == LayerKind::Conv2d && !layer_of(x.producer).batchnorm &&
      !layer_of(x.producer).relu && sole_reader(n, x)) {
    Layer& c = layer_of(x.producer);
    prefix = c.name + ".bn";
    if (c.bias) {  // BN(conv + b) = BN'(conv) with the mean shifted by b
      auto it = std::find_if(out_.params.begin(), out_.params.end(),
                             [&](const ImportedTensor& t) { return t.name == c.name + ".bias"; });
      for (I64 k = 0; k < C; ++k) mean.v[size_t(k)] -= it->values[size_t(k)];
      out_.params.erase(it);
      c.bias = false;
    }
    c.batchnorm = true;
    out_.notes.push_back(node_label(n) + ": folded into conv2d \"" + c.name + "\"");
  } else {
    Layer l;
    l.kind = LayerKind::BatchNorm;
    const int idx = add_layer(n, l, {&x});
    prefix = layer_of(idx).name;
    o.producer = idx;
  }
  auto f = [](const Const& c) { return std::vector<float>(c.v.begin(), c.v.end()); };
  add_tensor(out_.params, prefix + ".gamma", {int(C), 1, 1, 1}, f(gamma));
  add_tensor(out_.params, prefix + ".beta", {int(C), 1, 1, 1}, f(beta));
  add_tensor(out_.buffers, prefix + ".running_mean", {int(C), 1, 1, 1}, f(mean));
  add_tensor(out_.buffers, prefix + ".running_var", {int(C), 1, 1, 1}, f(var));
  set_act(n, 0, std::move(o));
}

// Two computed tensors read element by element: both in memory order with equal dimensions.
void check_pair(const Importer& imp, const Act& a, const Act& b, const std::function<void(const std::string&, const std::string&)>& fail) {
  (void)imp;
  std::vector<I64> sa, sb;
  for (const Atom& t : a.canon) sa.push_back(t.size);
  for (const Atom& t : b.canon) sb.push_back(t.size);
  if (!physical(a) || !physical(b) || act_dims(a) != act_dims(b) || sa != sb || a.seq != b.seq)
    fail("two inputs of equal dimensions, both in their producers' memory order (no broadcasting)",
         dims_str(act_dims(a)) + " and " + dims_str(act_dims(b)));
}

void Importer::elementwise(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  const bool binary = op == "Add" || op == "Mul";
  if (binary && value(n, 1).is_const && !value(n, 0).is_const) {
    // A bias after MatMul (PyTorch's nn.Linear at some opsets): the linear layer's bias.
    const Act& x = ain(n, 0);
    const Const& c = cin(n, 1, "bias");
    if (op == "Add" && x.producer >= 0 && layer_of(x.producer).kind == LayerKind::Linear &&
        !layer_of(x.producer).bias && !layer_of(x.producer).relu && sole_reader(n, x) && !x.axes.empty() &&
        x.axes.back().size() == 1 && !x.canon.empty() && x.axes.back()[0].id == x.canon.back().id &&
        c.size() == layer_of(x.producer).out_features && c.size() == (c.dims.empty() ? 1 : c.dims.back())) {
      Layer& l = layer_of(x.producer);
      l.bias = true;
      add_tensor(out_.params, l.name + ".bias", {int(c.size()), 1, 1, 1}, std::vector<float>(c.v.begin(), c.v.end()));
      Act o = x;
      o.sole = true;
      set_act(n, 0, std::move(o));
      return;
    }
    fail_node(n, std::string("a computed second input (") + op +
                     " with a constant is supported only as the bias of the preceding MatMul)",
              "a constant " + dims_str(c.dims));
  }
  const Act& x = ain(n, 0);
  Layer l;
  l.kind = LayerKind::Elementwise;
  if (op == "Relu") {
    if (x.producer >= 0 && sole_reader(n, x)) {
      Layer& p = layer_of(x.producer);
      if ((p.kind == LayerKind::Conv2d || p.kind == LayerKind::Linear || p.kind == LayerKind::Add) && !p.relu) {
        p.relu = true;
        Act o = x;
        o.sole = true;
        set_act(n, 0, std::move(o));
        return;
      }
    }
    l.elementwise = ElementwiseOp::Relu;
  } else if (op == "Sigmoid") {
    l.elementwise = ElementwiseOp::Sigmoid;
  } else if (op == "Tanh") {
    l.elementwise = ElementwiseOp::Tanh;
  } else {
    l.elementwise = ElementwiseOp::Mul;
    if (op == "Add") l.kind = LayerKind::Add;
  }
  std::vector<const Act*> ins{&x};
  if (binary) {
    const Act& y = ain(n, 1);
    check_pair(*this, x, y, [&](const std::string& e, const std::string& f) { fail_node(n, e, f); });
    ins.push_back(&y);
  }
  const int idx = add_layer(n, l, ins);
  note_bits(layer_of(idx).name, x, nullptr, nullptr);
  Act o = x;
  o.producer = idx;
  o.sole = true;
  o.act_bits = 0;
  o.act_fmt = NumFormat::Fp32;
  set_act(n, 0, std::move(o));
}

void Importer::concat(const onnx::NodeProto& n) {
  if (n.input_size() != 2) fail_node(n, "two computed inputs to concatenate", std::to_string(n.input_size()));
  const Act& a = ain(n, 0);
  const Act& b = ain(n, 1);
  const std::vector<I64> da = act_dims(a), db = act_dims(b);
  const I64 axis = norm_axis(attr_int(n, "axis", 0), da.size());
  auto bad = [&](const std::string& why) {
    fail_node(n, "two tensors in memory order joined along their features (" + why + ")",
              dims_str(da) + " and " + dims_str(db) + " along axis " + std::to_string(axis));
  };
  if (axis < 0 || axis >= I64(da.size()) || da.size() != db.size() || a.seq != b.seq) bad("equal rank");
  if (!physical(a) || !physical(b)) bad("no transposed view");
  const char* fr = a.seq ? "cd" : "cd";
  if (!same_ids(a.axes[size_t(axis)], with_roles(a.canon, fr)) || !same_ids(b.axes[size_t(axis)], with_roles(b.canon, fr)))
    bad("the axis must be the channels/features");
  for (std::size_t k = 0; k < da.size(); ++k)
    if (I64(k) != axis && da[k] != db[k]) bad("other axes equal");
  Layer l;
  l.kind = LayerKind::Concat;
  const int idx = add_layer(n, l, {&a, &b});
  Axis ac;
  push_axis_atom(ac, da[size_t(axis)] + db[size_t(axis)], 'c');
  Act o = a;
  o.producer = idx;
  o.sole = true;
  o.act_bits = 0;
  o.act_fmt = NumFormat::Fp32;
  std::vector<Atom> canon;
  bool placed = false;
  for (const Atom& t : a.canon) {
    if (in_roles(t, fr)) {
      if (!placed) canon.insert(canon.end(), ac.begin(), ac.end());
      placed = true;
    } else {
      canon.push_back(t);
    }
  }
  o.canon = canon;
  o.axes[size_t(axis)] = ac;
  set_act(n, 0, std::move(o));
}

void Importer::quant(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  const Act& x = ain(n, 0);
  Act o = x;
  o.sole = x.sole && uses_[n.input(0)] == 1;
  if (op == "Div" || op == "Round" || op == "Mul") {  // Div(s) -> Clip -> Round -> Mul(s)
    if (op == "Div") {
      if (x.quantized || x.rounding != 0) fail_node(n, "a float input", "a quantized tensor");
      const Const& s = cin(n, 1, "B");
      if (s.size() != 1 || !(s.v[0] > 0))
        fail_node(n, "a division by one positive step (a fake quantization Div -> Clip -> Round -> Mul)",
                  s.size() == 1 ? std::to_string(s.v[0]) : std::to_string(s.size()) + " values");
      o.rounding = 1;
      o.round_scale = s.v[0];
    } else if (op == "Round") {
      if (x.rounding != 2)
        fail_node(n, "a Round between the Clip and the Mul of a fake quantization Div -> Clip -> Round -> Mul",
                  "a Round of another tensor");
      o.rounding = 3;
    } else {
      const Const& s = cin(n, 1, "B");
      if (s.size() != 1 || s.v[0] != x.round_scale)
        fail_node(n, "a Mul by the step the Div divided by (" + std::to_string(x.round_scale) + ")",
                  s.size() == 1 ? std::to_string(s.v[0]) : std::to_string(s.size()) + " values");
      o.rounding = 0;
      o.act_bits = x.round_bits;
    }
    set_act(n, 0, std::move(o));
    return;
  }
  if (op == "QuantizeLinear") {
    if (x.quantized) fail_node(n, "a float input", "an already quantized tensor");
    const Const& s = cin(n, 1, "y_scale");
    if (s.size() != 1) fail_node(n, "a per-tensor scale for a computed tensor", std::to_string(s.size()) + " scales");
    o.quantized = true;
    o.act_bits = 8;
    o.scale = s.v[0];
    o.zero_point = has_input(n, 2) ? cin(n, 2, "y_zero_point").v.at(0) : 0.0;
  } else if (op == "DequantizeLinear") {
    if (!x.quantized) fail_node(n, "a quantized input (QuantizeLinear or QLinear output)", "a float tensor");
    o.quantized = false;
  } else {  // Clip
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    if (opset_ >= 11) {
      if (has_input(n, 1)) lo = cin(n, 1, "min").v.at(0);
      if (has_input(n, 2)) hi = cin(n, 2, "max").v.at(0);
    } else {
      lo = attr_float(n, "min", lo);
      hi = attr_float(n, "max", hi);
    }
    if (x.rounding == 1) {
      if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo || lo != std::floor(lo) || hi != std::floor(hi))
        fail_node(n, "finite integer bounds min < max after a Div (a fake quantization Div -> Clip -> Round -> Mul)",
                  std::to_string(lo) + ", " + std::to_string(hi));
      o.rounding = 2;
      o.round_bits = int(std::ceil(std::log2(hi - lo + 1)));
    } else if (x.quantized) {
      if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo)
        fail_node(n, "finite integer bounds min < max on a quantized tensor", std::to_string(lo) + ", " + std::to_string(hi));
      o.act_bits = int(std::ceil(std::log2(hi - lo + 1)));
    } else if (lo == 0 && !std::isfinite(hi)) {
      onnx::NodeProto relu = n;
      relu.set_op_type("Relu");
      elementwise(relu);
      return;
    } else {
      fail_node(n, "a Clip of a quantized tensor (QCDQ) or Clip(min = 0) (a ReLU)",
                "bounds " + std::to_string(lo) + ", " + std::to_string(hi) + " on a float tensor");
    }
  }
  set_act(n, 0, std::move(o));
}

void Importer::gather_act(const onnx::NodeProto& n) {
  const Act& x = ain(n, 0);
  const Const& idx = cin(n, 1, "indices");
  const std::vector<I64> d = act_dims(x);
  const I64 axis = norm_axis(attr_int(n, "axis", 0), d.size());
  if (axis < 0 || axis >= I64(d.size())) fail_node(n, "an axis within rank " + std::to_string(d.size()), std::to_string(axis));
  if (idx.size() != 1 || !idx.dims.empty())
    fail_node(n, "one scalar index (a selected step)", "indices " + dims_str(idx.dims));
  I64 k = I64(std::llround(idx.v[0]));
  const I64 len = d[size_t(axis)];
  if (k < 0) k += len;
  if (k < 0 || k >= len) fail_node(n, "an index in [0, " + std::to_string(len) + ")", std::to_string(I64(idx.v[0])));
  Act o = x;
  o.sole = x.sole && uses_[n.input(0)] == 1;
  const Axis& ax = x.axes[size_t(axis)];
  if (ax.empty()) {  // an axis of size 1: the gather only drops it
    o.axes.erase(o.axes.begin() + axis);
    set_act(n, 0, std::move(o));
    return;
  }
  const std::vector<Atom> tt = with_roles(x.canon, "t");
  const bool steps = x.seq && same_ids(ax, tt);
  if (!steps)
    fail_node(n, "a selected step of a recurrent layer's output (or an axis of size 1)",
              "an index into axis " + std::to_string(axis) + " of " + dims_str(d));
  Layer& p = layer_of(x.producer);
  if (is_recurrent(p.kind) && p.reverse && k != 0)
    fail_node(n, "step 0 of the reverse layer \"" + p.name + "\" (its final state; its step " +
                     std::to_string(len - 1) + " has read one input)",
              "step " + std::to_string(k) + " of " + std::to_string(len));
  if (is_recurrent(p.kind) && !p.reverse && p.steps > 0 && k != p.steps - 1)
    fail_node(n, "step " + std::to_string(p.steps - 1) + " of the layer \"" + p.name + "\" (its final state: it runs the first " +
                     std::to_string(p.steps) + " steps, sequence_lens)",
              "step " + std::to_string(k) + " of " + std::to_string(len));
  if (!is_recurrent(p.kind) || (!p.reverse && p.steps == 0 && k != len - 1))
    fail_node(n, "the last step of a recurrent layer's output", "step " + std::to_string(k) + " of " + std::to_string(len));
  if (p.bidirectional)
    fail_node(n, "the last step of a unidirectional layer (the reverse direction's output at the last step has read "
                 "one input; take the final states Y_h instead, e.g. PyTorch's h_n)",
              "the last step of the bidirectional layer \"" + p.name + "\"");
  if (!o.sole) fail_node(n, "the only reader of the recurrent layer's steps", "other readers of \"" + p.name + "\"");
  p.return_sequences = false;
  o.seq = false;
  o.canon.clear();
  for (const Atom& t : x.canon)
    if (t.role != 't') o.canon.push_back(t);
  o.axes.erase(o.axes.begin() + axis);
  set_act(n, 0, std::move(o));
}


OnnxImport Importer::run(const std::string& bytes) {
  onnx::ModelProto model;
  if (bytes.empty() || bytes.size() > (std::size_t(1) << 31) || !model.ParseFromString(bytes))
    fail_graph("/", "an ONNX model (a serialized onnx.ModelProto)",
               bytes.empty() ? "an empty file" : "bytes that do not parse as one (truncated or not an ONNX file)");
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = int(o.version());
  if (opset_ < 7 || opset_ > 18)
    fail_graph("/opset_import", "an ai.onnx opset from 7 to 18", opset_ == 0 ? "none" : std::to_string(opset_));
  const onnx::GraphProto& g = model.graph();
  const auto& functions = model.functions();
  if (g.node_size() == 0) fail_graph("/graph", "a graph with nodes", "none");
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) fail_graph("/graph/initializer", "named initializers", "an initializer without a name");
    Value v;
    v.is_const = true;
    v.c = tensor_const(t, "initializer \"" + t.name() + "\"");
    values_[t.name()] = std::move(v);
  }
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& i : g.input())
    if (!values_.count(i.name())) inputs.push_back(&i);
  // A graph input read as a recurrent node's sequence_lens or initial state: that node's error.
  for (const auto* i : inputs)
    for (const auto& n : g.node())
      if (n.op_type() == "LSTM" || n.op_type() == "GRU" || is_quant_lstm(n))
        for (int k = 4; k <= 6 && k < n.input_size(); ++k)
          if (n.input(k) == i->name()) {
            const std::string what = k == 4 ? "sequence_lens" : k == 5 ? "initial_h" : "initial_c";
            const I64 T = -1;
            fail_node(n, k == 4 ? sequence_lens_expected(T) : initial_state_expected(what, n.op_type() == "GRU"),
                      "the graph input \"" + i->name() + "\"");
          }
  if (inputs.size() != 1) {
    std::string names;
    for (const auto* i : inputs) names += (names.empty() ? "\"" : ", \"") + i->name() + "\"";
    fail_graph("/graph/input", "one network input (every other graph input an initializer)",
               std::to_string(inputs.size()) + (names.empty() ? "" : " (" + names + ")"));
  }
  for (const auto& n : g.node())
    for (const auto& i : n.input())
      if (!i.empty()) ++uses_[i];
  for (const auto& o : g.output()) ++uses_[o.name()];

  // The network input and its view.
  const onnx::ValueInfoProto& in = *inputs[0];
  input_name_ = in.name();
  if (!in.type().has_tensor_type() || in.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
    fail_graph("input \"" + in.name() + "\"", "a float tensor", "another type");
  std::vector<I64> d;
  for (const auto& dim : in.type().tensor_type().shape().dim()) {
    if (dim.has_dim_value() && dim.dim_value() > 0) {
      d.push_back(dim.dim_value());
    } else if (d.empty()) {  // a symbolic batch: one sample
      d.push_back(1);
      out_.notes.push_back("input \"" + in.name() + "\": symbolic batch dimension \"" + dim.dim_param() + "\" taken as 1");
    } else {
      fail_graph("input \"" + in.name() + "\"", "static dimensions after the batch", "a symbolic dimension \"" + dim.dim_param() + "\"");
    }
  }
  for (I64 x : d)
    if (x > 1000000) fail_graph("input \"" + in.name() + "\"", "dimensions up to 10^6", dims_str(d));
  bool time_major = false;
  for (const auto& n : g.node())
    if ((n.op_type() == "LSTM" || n.op_type() == "GRU") && n.input_size() > 0 && n.input(0) == in.name() &&
        attr_int(n, "layout", 0) == 0)
      time_major = true;
  Act x;
  x.producer = -1;
  spec_.batch = int(d.empty() ? 1 : d[0]);
  spec_.frames = 1;
  if (d.size() == 2) {  // [N, F]
    Axis an, ac;
    push_axis_atom(an, d[0], 'n');
    push_axis_atom(ac, d[1], 'c');
    x.canon = an;
    x.canon.insert(x.canon.end(), ac.begin(), ac.end());
    x.axes = {an, ac};
    spec_.features = int(d[1]);
  } else if (d.size() == 3) {  // [B, T, F], or [T, B, F] read directly by a layout-0 LSTM/GRU
    const I64 B = time_major ? d[1] : d[0], T = time_major ? d[0] : d[1];
    Axis an, at, ac;
    push_axis_atom(an, B, 'n');
    push_axis_atom(at, T, 't');
    push_axis_atom(ac, d[2], 'c');
    x.seq = true;
    x.canon = an;
    x.canon.insert(x.canon.end(), at.begin(), at.end());
    x.canon.insert(x.canon.end(), ac.begin(), ac.end());
    x.axes = time_major ? std::vector<Axis>{at, an, ac} : std::vector<Axis>{an, at, ac};
    spec_.batch = int(B);
    spec_.frames = int(T);
    spec_.features = int(d[2]);
    if (time_major)
      out_.notes.push_back("input \"" + in.name() + "\": time-major [steps, batch, features]; mixprec reads it as [batch, steps, features]");
  } else if (d.size() == 4 || d.size() == 5) {  // [N, C, H, W] or [B, T, C, H, W]
    const std::size_t o = d.size() - 4;
    Axis an, at, ac, ah, aw;
    push_axis_atom(an, d[0], 'n');
    if (o) push_axis_atom(at, d[1], 't');
    push_axis_atom(ac, d[o + 1], 'c');
    push_axis_atom(ah, d[o + 2], 'h');
    push_axis_atom(aw, d[o + 3], 'w');
    for (const Axis* ax : {&an, &at, &ac, &ah, &aw}) x.canon.insert(x.canon.end(), ax->begin(), ax->end());
    x.axes = o ? std::vector<Axis>{an, at, ac, ah, aw} : std::vector<Axis>{an, ac, ah, aw};
    spec_.frames = o ? int(d[1]) : 1;
    spec_.channels = int(d[o + 1]);
    spec_.height = int(d[o + 2]);
    spec_.width = int(d[o + 3]);
  } else {
    fail_graph("input \"" + in.name() + "\"",
               "an input [N, F], [B, T, F], [N, C, H, W] or [B, T, C, H, W]", dims_str(d));
  }
  {
    Value v;
    v.a = x;
    values_[in.name()] = std::move(v);
  }

  static const std::set<std::string> view_ops{"Identity", "Dropout", "Cast", "Transpose", "Reshape",
                                              "Flatten", "Squeeze", "Unsqueeze", "Shape"};
  const std::vector<std::string>& supported = onnx_supported_operators();
  for (const auto& n : g.node()) {
    const std::string& op = n.op_type();
    if (is_quant_lstm(n)) {
      if (!std::any_of(functions.begin(), functions.end(),
                       [&](const auto& f) { return f.domain() == n.domain() && f.name() == op; }))
        fail_node(n, "the model-local function \"" + op + "\" it calls (mixprec's quantized LSTM)", "none in the model");
    } else if ((!n.domain().empty() && n.domain() != "ai.onnx") ||
               std::find(supported.begin(), supported.end(), op) == supported.end())
      fail_node(n, "a supported operator (" + join_ops() + ")",
                "\"" + op + "\"" + (n.domain().empty() ? "" : " of domain \"" + n.domain() + "\""));
    for (const auto& o : n.output())
      if (!o.empty() && values_.count(o)) fail_node(n, "outputs with new names", "a second tensor named \"" + o + "\"");
    bool all_const = true;
    for (int i = 0; i < n.input_size(); ++i)
      if (!n.input(i).empty()) all_const = all_const && value(n, i).is_const;
    if (op == "Constant" || (all_const && n.input_size() > 0)) {
      constant_op(n);
    } else if (op == "Conv" || op == "QLinearConv") {
      conv(n, op == "QLinearConv");
    } else if (op == "Gemm" || op == "MatMul" || op == "QLinearMatMul") {
      linear(n, op == "QLinearMatMul");
    } else if (op == "LSTM" || op == "GRU" || is_quant_lstm(n)) {
      recurrent(n);
    } else if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool") {
      pool(n);
    } else if (op == "BatchNormalization") {
      batchnorm(n);
    } else if (op == "Round" || (op == "Div" && value(n, 1).is_const) ||
               (op == "Mul" && value(n, 1).is_const && !value(n, 0).is_const && value(n, 0).a.rounding == 3)) {
      quant(n);
    } else if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Add" || op == "Mul") {
      elementwise(n);
    } else if (op == "Concat") {
      concat(n);
    } else if (op == "QuantizeLinear" || op == "DequantizeLinear" || op == "Clip") {
      quant(n);
    } else if (op == "Gather") {
      gather_act(n);
    } else if (view_ops.count(op)) {
      view_op(n);
    } else {
      fail_node(n, "constant inputs (" + op + " is folded on constants only)", "a computed input");
    }
  }
  if (spec_.layers.empty()) fail_graph("/graph", "at least one layer (Conv, Gemm, MatMul, LSTM, GRU, ...)", "none");
  if (g.output_size() != 1) {
    std::string names;
    for (const auto& o : g.output()) names += (names.empty() ? "\"" : ", \"") + o.name() + "\"";
    fail_graph("/graph/output", "one graph output (the network's prediction)",
               std::to_string(g.output_size()) + (names.empty() ? "" : " (" + names + ")"));
  }
  auto it = values_.find(g.output(0).name());
  if (it == values_.end() || it->second.is_const || it->second.a.producer != int(spec_.layers.size()) - 1)
    fail_graph("output \"" + g.output(0).name() + "\"", "the output of the graph's last layer",
               it == values_.end() ? "a tensor no node produces" : it->second.is_const ? "a constant" : "an earlier layer's output");
  if (it->second.a.quantized)
    fail_graph("output \"" + g.output(0).name() + "\"", "a float output (DequantizeLinear after the last quantized layer)", "an integer tensor");
  std::string nm = g.name();
  for (char& ch : nm)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.')) ch = '_';
  spec_.name = nm.empty() ? "onnx" : nm;
  out_.network = spec_;
  return std::move(out_);
}

}  // namespace

OnnxImport import_onnx_bytes(const std::string& bytes, const std::string& file) {
  try {
    return Importer(file).run(bytes);
  } catch (const SpecError&) {
    throw;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc on absurd sizes: still bad input
    throw SpecError(file, "/", "a well-formed ONNX model", std::string("a file that fails to import (") + e.what() + ")");
  }
}

OnnxImport import_onnx_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw SpecError(path, "/", "a readable ONNX file", "a file that cannot be opened");
  std::ostringstream ss;
  ss << f.rdbuf();
  return import_onnx_bytes(ss.str(), path);
}

std::string network_spec_to_json(const NetworkSpec& spec, int indent) {
  using json = nlohmann::ordered_json;
  json j;
  j["name"] = spec.name;
  j["batch"] = spec.batch;
  json in;
  if (spec.frames != 1 || spec.features > 0) in["frames"] = spec.frames;
  if (spec.features > 0) {
    in["features"] = spec.features;
  } else {
    in["channels"] = spec.channels;
    in["height"] = spec.height;
    in["width"] = spec.width;
  }
  j["input"] = in;
  json layers = json::array();
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& ls = spec.layers[i];
    const Layer& l = ls.layer;
    json e;
    e["name"] = l.name;
    e["kind"] = to_string(l.kind);
    if (ls.input_names.size() == 1) {
      const bool previous = i == 0 ? ls.input_names[0] == "input" : ls.input_names[0] == spec.layers[i - 1].layer.name;
      if (!previous) e["input"] = ls.input_names[0];
    } else if (!ls.input_names.empty()) {
      e["inputs"] = ls.input_names;
    }
    switch (l.kind) {
      case LayerKind::Conv2d:
        e["out_channels"] = l.out_channels;
        if (l.kernel_h != l.kernel_w)
          throw SpecError("", ls.pointer, "a square kernel for the scenario form", std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w));
        e["kernel"] = l.kernel_h;
        e["stride"] = l.stride;
        e["padding"] = l.padding;
        if (l.groups != 1) e["groups"] = l.groups;
        e["batchnorm"] = l.batchnorm;
        e["relu"] = l.relu;
        e["bias"] = l.bias;
        break;
      case LayerKind::Linear:
        e["out_features"] = l.out_features;
        e["relu"] = l.relu;
        e["bias"] = l.bias;
        break;
      case LayerKind::Lstm:
      case LayerKind::Gru:
        e["hidden"] = l.hidden;
        e["bidirectional"] = l.bidirectional;
        e["return_sequences"] = l.return_sequences;
        if (l.kind == LayerKind::Gru) e["linear_before_reset"] = l.linear_before_reset;
        if (l.reverse) e["reverse"] = true;
        if (l.steps > 0) e["steps"] = l.steps;
        if (l.initial_state) e["initial_state"] = true;
        break;
      case LayerKind::Pool:
        e["pool"] = to_string(l.pool);
        if (l.pool != PoolKind::GlobalAvg) {
          e["kernel"] = l.pool_kernel;
          e["stride"] = l.pool_stride;
        }
        break;
      case LayerKind::Add: e["relu"] = l.relu; break;
      case LayerKind::Elementwise: e["op"] = to_string(l.elementwise); break;
      case LayerKind::BatchNorm:
      case LayerKind::FramesToSequence:
      case LayerKind::Concat: break;
    }
    layers.push_back(e);
  }
  j["layers"] = layers;
  return j.dump(indent);
}

}  // namespace mixprec
