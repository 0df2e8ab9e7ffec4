#include "core/network.hpp"

#include <cmath>

#include "core/errors.hpp"

namespace mixprec {

const char* to_string(LayerKind k) {
  switch (k) {
    case LayerKind::Conv2d: return "conv2d";
    case LayerKind::Linear: return "linear";
    case LayerKind::Lstm: return "lstm";
    case LayerKind::Pool: return "pool";
    case LayerKind::Add: return "add";
    case LayerKind::BatchNorm: return "batchnorm";
    case LayerKind::FramesToSequence: return "frames_to_sequence";
    case LayerKind::Gru: return "gru";
    case LayerKind::Elementwise: return "elementwise";
    case LayerKind::Concat: return "concat";
  }
  return "?";
}

const char* to_string(ElementwiseOp k) {
  switch (k) {
    case ElementwiseOp::Relu: return "relu";
    case ElementwiseOp::Sigmoid: return "sigmoid";
    case ElementwiseOp::Tanh: return "tanh";
    case ElementwiseOp::Mul: return "mul";
  }
  return "?";
}

const char* to_string(PoolKind k) {
  switch (k) {
    case PoolKind::Max: return "max";
    case PoolKind::Avg: return "avg";
    case PoolKind::GlobalAvg: return "global_avg";
  }
  return "?";
}

std::int64_t Layer::weight_count() const {
  switch (kind) {
    case LayerKind::Conv2d:
      return std::int64_t(out_channels) * (in.c / groups) * kernel_h * kernel_w;
    case LayerKind::Linear: return std::int64_t(out_features) * in.c;
    case LayerKind::Lstm: {
      int dirs = bidirectional ? 2 : 1;
      if (factorization.active())  // the factorized input matrix's cores + dense W_hh
        return make_tensor_network(factorization).parameter_count() + std::int64_t(4) * hidden * hidden;
      return std::int64_t(dirs) * 4 * hidden * (in.c + hidden);
    }
    case LayerKind::Gru: return std::int64_t(bidirectional ? 2 : 1) * 3 * hidden * (in.c + hidden);
    default: return 0;
  }
}

std::int64_t Layer::recurrent_weight_count() const {
  if (!is_recurrent(kind)) return 0;
  return std::int64_t(bidirectional ? 2 : 1) * gates() * hidden * hidden;
}

std::int64_t Layer::bias_count() const {
  switch (kind) {
    case LayerKind::Conv2d: return (bias || batchnorm) ? out_channels : 0;
    case LayerKind::Linear: return bias ? out_features : 0;
    // the gate biases, and initial_h and initial_c when the layer has an initial state
    case LayerKind::Lstm: return std::int64_t(bidirectional ? 2 : 1) * (initial_state ? 6 : 4) * hidden;
    // r, z, n input-side biases (with the r and z recurrent biases folded in) + b_hn
    case LayerKind::Gru: return std::int64_t(bidirectional ? 2 : 1) * 4 * hidden;
    case LayerKind::BatchNorm: return 2 * std::int64_t(in.c);
    default: return 0;
  }
}

int Network::find(const std::string& n) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == n) return static_cast<int>(i);
  return -1;
}

std::int64_t Network::parameter_count() const {
  std::int64_t p = 0;
  for (const auto& l : layers) p += l.weight_count() + l.bias_count();
  return p;
}

namespace {

std::string shape_str(const Shape& s) {
  if (s.t > 1) return "[" + std::to_string(s.n) + " x " + std::to_string(s.t) + " steps x " +
                      std::to_string(s.c) + "]";
  return "[" + std::to_string(s.n) + " x " + std::to_string(s.c) + " x " + std::to_string(s.h) +
         " x " + std::to_string(s.w) + "]";
}

bool is_image(const Shape& s) { return s.t == 1; }

std::string modes_str(const std::vector<int>& modes) {
  std::string s;
  std::int64_t p = 1;
  for (int m : modes) {
    s += (s.empty() ? "" : " x ") + std::to_string(m);
    p *= m;
  }
  return s + " = " + std::to_string(p);
}

// A factorized input matrix must cover the layer's input features and hidden units exactly.
// (Counts, ranks and values were checked by the parser; these need the built shapes.)
void check_factorization(const Layer& l, const std::string& file) {
  const Factorization& f = l.factorization;
  std::int64_t in = 1, hid = 1;
  for (int m : f.input_modes) in *= m;
  for (int m : f.hidden_modes) hid *= m;
  if (in != l.in.c)
    throw SpecError(file, f.pointer + "/input_modes",
                    "modes whose product is the input features of layer \"" + l.name + "\" (" +
                        std::to_string(l.in.c) + ")",
                    modes_str(f.input_modes));
  if (hid != l.hidden)
    throw SpecError(file, f.pointer + "/hidden_modes",
                    "modes whose product is the hidden size of layer \"" + l.name + "\" (" +
                        std::to_string(l.hidden) + ")",
                    modes_str(f.hidden_modes));
  if (l.bidirectional)
    throw SpecError(file, f.pointer,
                    "a unidirectional lstm for a factorized input matrix (one set of cores)",
                    "a bidirectional lstm \"" + l.name + "\"");
}

// Computes l.out from l.in (already set); throws with `ptr` on impossible shapes.
void infer_shape(Layer& l, const Shape& in2, bool has_in2, const Network& net,
                 const std::string& file, const std::string& ptr) {
  const Shape& in = l.in;
  auto fail = [&](const std::string& expected, const std::string& found) {
    throw SpecError(file, ptr, expected, found);
  };
  Shape out = in;
  switch (l.kind) {
    case LayerKind::Conv2d: {
      if (!is_image(in)) fail("an image input [n x c x h x w] for conv2d", shape_str(in));
      if (in.c % l.groups != 0 || l.out_channels % l.groups != 0)
        fail("channels divisible by groups=" + std::to_string(l.groups),
             std::to_string(in.c) + " input and " + std::to_string(l.out_channels) +
                 " output channels");
      int oh = (in.h + 2 * l.padding - l.kernel_h) / l.stride + 1;
      int ow = (in.w + 2 * l.padding - l.kernel_w) / l.stride + 1;
      if (in.h + 2 * l.padding < l.kernel_h || in.w + 2 * l.padding < l.kernel_w || oh < 1 || ow < 1)
        fail("a kernel no larger than the padded input",
             std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) + " kernel on " +
                 shape_str(in) + " with padding " + std::to_string(l.padding));
      out.c = l.out_channels;
      out.h = oh;
      out.w = ow;
      break;
    }
    case LayerKind::Linear:
      if (in.h != 1 || in.w != 1)
        fail("a vector or sequence input for linear (use a global_avg pool first)", shape_str(in));
      out.c = l.out_features;
      break;
    case LayerKind::Lstm:
    case LayerKind::Gru:
      if (in.h != 1 || in.w != 1)
        fail(std::string("a sequence input for ") + to_string(l.kind), shape_str(in));
      if (l.factorization.active()) check_factorization(l, file);
      if (l.steps > in.t)
        throw SpecError(file, ptr + "/steps",
                        "a number of steps between 1 and the " + std::to_string(in.t) + " steps of the input of " +
                            to_string(l.kind) + " \"" + l.name + "\"",
                        std::to_string(l.steps));
      out.c = l.hidden * (l.bidirectional ? 2 : 1);
      if (!l.return_sequences) out.t = 1;
      break;
    case LayerKind::Elementwise:
      if (l.elementwise == ElementwiseOp::Mul) {
        if (!has_in2) fail("two inputs for elementwise mul", "one");
        if (in2 != in) fail("inputs of equal shape for mul", shape_str(in) + " and " + shape_str(in2));
      } else if (has_in2) {
        fail(std::string("one input for elementwise ") + to_string(l.elementwise), "two");
      }
      break;
    case LayerKind::Concat: {
      if (!has_in2) fail("two inputs for concat", "one");
      Shape a = in, b = in2;
      a.c = b.c = 0;
      if (a != b)
        fail("inputs that differ only in features/channels for concat",
             shape_str(in) + " and " + shape_str(in2));
      out.c = in.c + in2.c;
      break;
    }
    case LayerKind::Pool:
      if (!is_image(in)) fail("an image input for pooling", shape_str(in));
      if (l.pool == PoolKind::GlobalAvg) {
        out.h = out.w = 1;
      } else {
        if (in.h < l.pool_kernel || in.w < l.pool_kernel)
          fail("a pooling window no larger than the input",
               std::to_string(l.pool_kernel) + " on " + shape_str(in));
        out.h = (in.h - l.pool_kernel) / l.pool_stride + 1;
        out.w = (in.w - l.pool_kernel) / l.pool_stride + 1;
      }
      break;
    case LayerKind::Add:
      if (!has_in2) fail("two inputs for add", "one");
      if (in2 != in) fail("inputs of equal shape for add", shape_str(in) + " and " + shape_str(in2));
      break;
    case LayerKind::BatchNorm: break;
    case LayerKind::FramesToSequence:
      if (in.n % net.frames != 0 || in.t != 1)
        fail("n divisible by frames=" + std::to_string(net.frames), shape_str(in));
      out.n = in.n / net.frames;
      out.t = net.frames;
      // A frame that is still an image is flattened: its c x h x w values are one step's features.
      out.c = in.c * in.h * in.w;
      out.h = out.w = 1;
      break;
  }
  l.out = out;
}

struct Builder {
  const NetworkSpec& spec;
  const std::string& file;
  Network net;

  void add(Layer l, std::vector<int> inputs, const std::string& ptr) {
    if (net.find(l.name) >= 0)
      throw SpecError(file, ptr, "a unique layer name", "a second layer named \"" + l.name + "\"");
    l.inputs = std::move(inputs);
    l.in = l.inputs[0] < 0 ? net.input : net.layers[l.inputs[0]].out;
    Shape in2;
    bool has2 = l.inputs.size() > 1;
    if (has2) in2 = l.inputs[1] < 0 ? net.input : net.layers[l.inputs[1]].out;
    infer_shape(l, in2, has2, net, file, ptr);
    net.layers.push_back(std::move(l));
  }
  int last() const { return static_cast<int>(net.layers.size()) - 1; }
};

Layer conv(const std::string& name, int out_c, int k, int stride, int pad, bool relu) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::Conv2d;
  l.out_channels = out_c;
  l.kernel_h = l.kernel_w = k;
  l.stride = stride;
  l.padding = pad;
  l.batchnorm = true;
  l.bias = false;
  l.relu = relu;
  return l;
}

Layer lstm_layer(const std::string& name, int hidden, bool bidir, bool seq) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::Lstm;
  l.hidden = hidden;
  l.bidirectional = bidir;
  l.return_sequences = seq;
  return l;
}

void build_recurrent_tail(Builder& b, const std::string& ptr) {
  const NetworkSpec& s = b.spec;
  for (int i = 0; i < s.lstm_layers; ++i) {
    Layer l = lstm_layer("lstm.l" + std::to_string(i), s.lstm_hidden, s.lstm_bidirectional,
                         i + 1 < s.lstm_layers);
    if (i == 0) l.factorization = s.lstm_factorization;  // the input-to-hidden matrix of layer 0
    b.add(l, {b.last()}, ptr);
  }
  Layer head;
  head.name = "head";
  head.kind = LayerKind::Linear;
  head.out_features = s.classes;
  b.add(head, {b.last()}, ptr);
}

void build_resnet18_bilstm(Builder& b) {
  const NetworkSpec& s = b.spec;
  const std::string ptr = "/network";
  if (s.stage_widths.size() != s.stage_strides.size())
    throw SpecError(b.file, "/network/stage_strides",
                    "as many strides as stage_widths (" + std::to_string(s.stage_widths.size()) + ")",
                    std::to_string(s.stage_strides.size()));
  auto width = [&](int w) {
    return std::max(1, static_cast<int>(std::lround(w * s.width_multiplier)));
  };
  b.add(conv("cnn.stem", width(s.stage_widths[0]), 3, 1, 1, true), {-1}, ptr);
  int in_c = width(s.stage_widths[0]);
  for (std::size_t st = 0; st < s.stage_widths.size(); ++st) {
    int w = width(s.stage_widths[st]);
    for (int blk = 0; blk < s.blocks_per_stage; ++blk) {
      std::string pre = "cnn.stage" + std::to_string(st + 1) + ".block" + std::to_string(blk);
      int stride = blk == 0 ? s.stage_strides[st] : 1;
      int block_in = b.last();
      b.add(conv(pre + ".conv1", w, 3, stride, 1, true), {block_in}, ptr);
      b.add(conv(pre + ".conv2", w, 3, 1, 1, false), {b.last()}, ptr);
      int main_path = b.last();
      int shortcut = block_in;
      if (stride != 1 || in_c != w) {
        b.add(conv(pre + ".downsample", w, 1, stride, 0, false), {block_in}, ptr);
        shortcut = b.last();
      }
      Layer add;
      add.name = pre + ".add";
      add.kind = LayerKind::Add;
      add.relu = true;
      b.add(add, {main_path, shortcut}, ptr);
      in_c = w;
    }
  }
  Layer pool;
  pool.name = "cnn.pool";
  pool.kind = LayerKind::Pool;
  pool.pool = PoolKind::GlobalAvg;
  b.add(pool, {b.last()}, ptr);
  Layer seq;
  seq.name = "frames_to_sequence";
  seq.kind = LayerKind::FramesToSequence;
  b.add(seq, {b.last()}, ptr);
  build_recurrent_tail(b, ptr);
}

}  // namespace

Network build_network(const NetworkSpec& spec, const std::string& file) {
  Builder b{spec, file, {}};
  b.net.name = spec.name;
  b.net.batch = spec.batch;
  b.net.frames = spec.frames;
  if (spec.features > 0) {
    b.net.input = Shape{spec.batch, spec.features, 1, 1, spec.frames};
  } else {
    b.net.input = Shape{spec.batch * spec.frames, spec.channels, spec.height, spec.width, 1};
  }
  if (spec.template_name == "resnet18_bilstm") {
    if (spec.features > 0)
      throw SpecError(file, "/network/input/features", "no features for the image template resnet18_bilstm",
                      std::to_string(spec.features));
    build_resnet18_bilstm(b);
  } else if (spec.template_name == "lstm") {
    if (spec.features <= 0)
      throw SpecError(file, "/network/input", "a sequence input with \"features\" for the lstm template",
                      "an image input");
    build_recurrent_tail(b, "/network");
  } else {
    for (const LayerSpec& ls : spec.layers) {
      std::vector<int> inputs;
      if (ls.input_names.empty()) {
        inputs.push_back(b.last());  // previous layer, or -1 (network input) for the first
      } else {
        for (std::size_t i = 0; i < ls.input_names.size(); ++i) {
          const std::string& nm = ls.input_names[i];
          if (nm == "input") {
            inputs.push_back(-1);
            continue;
          }
          int idx = b.net.find(nm);
          if (idx < 0) {
            std::vector<std::string> names{"input"};
            for (const auto& l : b.net.layers) names.push_back(l.name);
            std::string known;
            for (const auto& n : names) known += (known.empty() ? "\"" : ", \"") + n + "\"";
            std::string p = ls.inputs_is_list ? ls.pointer + "/inputs/" + std::to_string(i)
                                               : ls.pointer + "/input";
            throw SpecError(file, p, "the name of an earlier layer (" + known + ")",
                            "\"" + nm + "\"");
          }
          inputs.push_back(idx);
        }
      }
      b.add(ls.layer, inputs, ls.pointer);
    }
    if (b.net.layers.empty())
      throw SpecError(file, "/network/layers", "at least one layer", "an empty list");
  }
  return std::move(b.net);
}

}  // namespace mixprec
