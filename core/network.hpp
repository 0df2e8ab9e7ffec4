// The network description: one source of truth for layer names and shapes. The training
// engine builds trainable layers from it; sim/ derives its workload from it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/factorization.hpp"
#include "core/precision.hpp"

namespace mixprec {

// Gru: gated recurrent unit (Cho et al. 2014), gate order r, z, n as PyTorch.
// Elementwise: relu / sigmoid / tanh of one input or the product of two (nonlinear unit).
// Concat: two inputs joined along the feature (channel) axis (data movement).
enum class LayerKind { Conv2d, Linear, Lstm, Pool, Add, BatchNorm, FramesToSequence, Gru, Elementwise, Concat };
enum class PoolKind { Max, Avg, GlobalAvg };
enum class ElementwiseOp { Relu, Sigmoid, Tanh, Mul };

const char* to_string(LayerKind k);
const char* to_string(PoolKind k);
const char* to_string(ElementwiseOp k);
// Layers with an input-to-hidden and a hidden-to-hidden matrix (LSTM, GRU).
inline bool is_recurrent(LayerKind k) { return k == LayerKind::Lstm || k == LayerKind::Gru; }

// Activation tensor shape. Images: n samples (batch x frames) of c x h x w.
// Sequences: n = batch, t steps of c features (h = w = 1). Vectors: t = h = w = 1.
struct Shape {
  int n = 1, c = 1, h = 1, w = 1, t = 1;
  std::int64_t elements() const { return std::int64_t(n) * c * h * w * t; }
  bool operator==(const Shape& o) const {
    return n == o.n && c == o.c && h == o.h && w == o.w && t == o.t;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

struct Layer {
  std::string name;
  LayerKind kind = LayerKind::Conv2d;
  std::vector<int> inputs;  // indices of producer layers; -1 is the network input
  Shape in, out;            // shape of inputs[0] and of the output

  // conv2d
  int out_channels = 0, kernel_h = 1, kernel_w = 1, stride = 1, padding = 0, groups = 1;
  bool batchnorm = false;  // a BatchNorm2d after the conv (folded for inference)
  // linear
  int out_features = 0;
  // conv2d / linear / add: ReLU on the output (free in hardware: a comparator on write-back)
  bool relu = false;
  bool bias = true;
  // lstm / gru
  int hidden = 0;
  bool bidirectional = false;
  bool return_sequences = false;
  // One direction that reads the steps last to first (ONNX direction "reverse"); its final
  // state is the one after step 0, and a sequence output holds step t's state at t.
  bool reverse = false;
  // lstm / gru: the recurrence runs over the first `steps` steps of the input only (ONNX's
  // sequence_lens, one length for the whole batch): a sequence output is zero at steps >= steps,
  // the final state is the one after step steps - 1 (after step 0 for a reverse layer, which
  // starts at step steps - 1). 0: every step of the input. 1 <= steps <= in.t when given.
  int steps = 0;
  // lstm: the state before the first step is a parameter per direction (initial_h, initial_c,
  // one vector of `hidden` each, the same for every sequence), not zero.
  bool initial_state = false;
  // lstm: a tensor-train / hierarchical-Tucker input-to-hidden matrix (core/factorization.hpp)
  Factorization factorization;
  // gru: the candidate's recurrent product is taken before the reset gate multiplies it,
  // n = tanh(W_n x + b_in + r * (R_n h + b_hn)) (PyTorch, ONNX linear_before_reset = 1); false:
  // n = tanh(W_n x + b_in + R_n (r * h) + b_hn) (ONNX's default).
  bool linear_before_reset = true;
  // elementwise
  ElementwiseOp elementwise = ElementwiseOp::Relu;
  // pool
  PoolKind pool = PoolKind::Max;
  int pool_kernel = 2, pool_stride = 2;

  bool has_weights() const {
    return kind == LayerKind::Conv2d || kind == LayerKind::Linear || is_recurrent(kind);
  }
  int gates() const { return kind == LayerKind::Gru ? 3 : 4; }  // recurrent layers
  // Steps the recurrence runs (recurrent layers): `steps` when given, else every input step.
  int recurrent_steps() const { return steps > 0 ? steps : in.t; }
  std::int64_t weight_count() const;     // trainable weights (excluding biases)
  std::int64_t recurrent_weight_count() const;  // LSTM/GRU hidden-to-hidden part of weight_count
  std::int64_t bias_count() const;
};

struct Network {
  std::string name;
  int batch = 1;
  int frames = 1;      // T: frames per sample for per-frame CNNs, steps for pure sequence models
  Shape input;         // network input shape (n already includes batch x frames for CNNs)
  std::vector<Layer> layers;

  int find(const std::string& name) const;  // -1 when absent
  std::int64_t parameter_count() const;
};

// Parsed `network` section: a template with parameters, or an explicit layer list.
struct LayerSpec {
  std::string pointer;  // JSON pointer of this layer entry
  Layer layer;          // kind-specific fields filled; shapes filled by build_network
  std::vector<std::string> input_names;  // empty: the previous layer (or the network input)
  bool inputs_is_list = false;           // given as "inputs": [...] rather than "input"
};

struct NetworkSpec {
  std::string name = "network";
  std::string template_name;  // "resnet18_bilstm" | "lstm" | "" (explicit layers)
  int batch = 1;
  // input: frames of channels x height x width (CNN), or steps x features (sequence models)
  int frames = 8, channels = 3, height = 16, width = 16;
  int features = 0;  // > 0 for sequence inputs (no CNN front end)
  // resnet18_bilstm template parameters
  std::vector<int> stage_widths{16, 32, 64, 128};
  double width_multiplier = 1.0;
  int blocks_per_stage = 2;
  std::vector<int> stage_strides{1, 2, 2, 2};
  // recurrent part (both templates)
  int lstm_hidden = 64;
  int lstm_layers = 2;
  bool lstm_bidirectional = true;
  Factorization lstm_factorization;  // the first LSTM layer's input matrix (none by default)
  int classes = 5;
  std::vector<LayerSpec> layers;  // explicit form
  // Imported from an ONNX file (`network: {"onnx": ...}`, core/onnx_import.hpp): its resolved
  // path (errors about the layers name it) and the precisions its quantization nodes carry.
  std::string onnx_path;
  std::vector<PrecisionOverride> onnx_precision;
};

}  // namespace mixprec

namespace mixprec {
// Expands a template or resolves an explicit layer list: names, producer indices and shapes.
// Shape errors (kernel larger than its padded input, mismatched residual add, an LSTM fed an
// image, ...) throw SpecError at the offending layer's JSON pointer in `file`.
Network build_network(const NetworkSpec& spec, const std::string& file);
}  // namespace mixprec
