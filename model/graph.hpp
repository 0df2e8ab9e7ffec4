// A trainable graph built from core's network description (core/network.hpp).
//
// Every core layer becomes one node, a short chain of engine layers:
//   conv2d            [input quantizer] -> Conv2d [-> BatchNorm2d "<name>.bn"] [-> ReLU]
//                     (batchnorm + relu: the fused BatchNormReLU "<name>.bn", model/fused.hpp)
//   linear            [input quantizer] -> Linear [-> ReLU]
//   lstm              [input quantizer] -> Lstm (fp32) or QuantLstm (any other precision)
//   pool              MaxPool2d / AvgPool2d / GlobalAvgPool
//   add               Add, or the fused AddReLU
//   batchnorm         BatchNorm2d
//   frames_to_sequence  (batch*frames, c, 1, 1) -> (batch, frames, c, 1), a copy
// (In evaluation mode fp32 conv + BN [+ ReLU] nodes fold the BN: GraphOptions::fold_batchnorm.)
// Parameters keep the core layer's name as prefix ("cnn.stage1.block0.conv1.weight",
// "cnn.stem.bn.gamma", "lstm.l0.weight_hh_reverse", "head.bias"), so per-layer precision, cost
// tables (sim/) and checkpoints all speak the same names.
//
// Quantization-aware training: with a precision vector (one LayerPrecision per core layer, as
// core::resolve_precision returns), each conv/linear/lstm layer whose format is not fp32
// fake-quantizes its input activations (per tensor; unsigned when the producer ends in a ReLU,
// through pools and frames_to_sequence) and its weights (per output channel) through
// master/shadow weights: the optimizer updates the fp32 master ("<layer>.weight"), the layer
// computes with Q(master), and the straight-through estimator maps the gradient back. BatchNorm
// is not folded during training (it is applied in float after the quantized convolution).
//
// Integer evaluation (set_integer_eval): in evaluation mode, conv and linear layers of integer
// format run a true integer GEMM (model/int_eval.hpp) on the quantized inputs and weights and
// rescale the int32/int64 accumulator; bias, BatchNorm, ReLU and everything else stay in float.
//
// Contract: forward() caches what backward() needs; backward() accumulates parameter gradients
// (until zero_grad()), summing activation gradients where one output feeds several layers.
#pragma once
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/precision.hpp"
#include "model/int_eval.hpp"
#include "model/layer.hpp"
#include "model/quant.hpp"

namespace mixprec::model {

struct GraphOptions {
  RangeMethod range = RangeMethod::RunningMinMax;  // QAT ranges
  // Evaluation mode: fp32 conv + BatchNorm [+ ReLU] run as one convolution with the BN folded
  // into weights and bias (w' = w gamma / sqrt(var + eps), b' = beta - mean gamma /
  // sqrt(var + eps)), as inference hardware (and sim/) does; equal up to float rounding.
  // Quantized layers never fold (their training semantics quantize the unfolded weights).
  bool fold_batchnorm = true;
};

class Graph {
 public:
  // precision: empty (fp32 everywhere, no quantizers) or one entry per core layer.
  Graph(const Network& net, std::vector<LayerPrecision> precision = {},
        const GraphOptions& opt = {});
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  const Network& network() const { return net_; }
  const std::vector<LayerPrecision>& precision() const { return precision_; }
  const GraphOptions& options() const { return opt_; }
  // The quantizer of a layer's input activations (QAT conv/linear/recurrent layers), else null:
  // ONNX export (model/onnx_export.hpp) writes its grid and step.
  const ActQuant* input_quantizer(int layer) const;
  bool quantized() const { return !precision_.empty(); }
  int layer_count() const { return int(nodes_.size()); }

  // Input dims for `batch` samples: (batch*frames, c, h, w) for image input,
  // (batch, steps, features, 1) for sequence input.
  Dims input_dims(int batch) const;
  // Samples in an input tensor of these dims (inverse of input_dims).
  int batch_of(const Dims& input) const;

  // Default initialization of every layer, in network order, from rng.
  void init(std::mt19937_64& rng);
  void set_training(bool on);
  bool training() const { return training_; }
  // Evaluation-mode integer arithmetic for integer-format conv/linear layers.
  void set_integer_eval(bool on, const IntEvalOptions& opt = {});
  bool integer_eval() const { return integer_eval_; }

  const Tensor& forward(const Tensor& x);
  void backward(const Tensor& dy);
  void zero_grad();

  // Trainable parameters in network order (masters when quantized); stable across calls.
  std::vector<Param*> params();
  std::vector<Buffer*> buffers();
  // Index of the core layer each entry of params() belongs to.
  const std::vector<int>& param_layers();

  // Diagnostics after forward/backward: the first core layer (network order) whose output has
  // a non-finite value, and the first (in backward order) whose output gradient or parameter
  // gradients have one. -1 when all are finite.
  int first_nonfinite_output() const;
  int first_nonfinite_gradient();
  const Tensor& output(int layer) const;

  // ---- Sensitivity support (model/sensitivity.hpp); additive, off unless asked for. ----
  // True when the input that `layer` reads is known >= 0 (its QAT input quantizer is unsigned).
  bool input_nonnegative(int layer) const { return is_nonnegative(net_.layers[size_t(layer)].inputs[0]); }
  // Adds `delta` (dims of the input; null: none) to the input (0) that `layer` reads, for that
  // layer only: other readers of the same producer see the unperturbed value. The tensor must
  // outlive the forward/backward that use it.
  void set_input_perturbation(int layer, const Tensor* delta);
  // With capture on, backward() also keeps, for every layer with weights, the gradient of the
  // loss with respect to its input 0 as that layer alone passes it back (before it is summed
  // with other readers' gradients); for the first layer, the network input's gradient.
  void set_input_gradient_capture(bool on);
  const Tensor& input_gradient(int layer) const;
  // Calibration: in evaluation mode, the range-tracking quantizers (input quantizers, QuantLstm
  // cell ranges) update their running statistics as in training, while everything else
  // (BatchNorm, dropout) stays in evaluation. set_training() ends it.
  void set_calibration(bool on);
  // Evaluation of layers first..last (last < 0: to the end): a layer >= first that reads an
  // earlier layer i takes *earlier[i] instead (the output of a graph of the same network on the
  // same input x, e.g. an fp32 prefix shared by many quantized suffixes). Returns the output of
  // the last layer run. Forward only: no backward() after it.
  const Tensor& forward_from(int first, const Tensor& x, const std::vector<const Tensor*>& earlier,
                             int last = -1);

  // Optional per-layer thread CPU time of forward and backward, accumulated until reset.
  struct LayerTime {
    double forward_s = 0, backward_s = 0;
    long calls = 0;
  };
  void set_profiling(bool on);
  const std::vector<LayerTime>& layer_times() const { return times_; }

 private:
  struct Node;
  Node& node(int i) { return *nodes_[size_t(i)]; }
  void build_node(int i);
  bool is_nonnegative(int layer) const;  // output known >= 0 (ReLU, pools of such)
  const Tensor& run_forward(int first, int last, const Tensor& x, const std::vector<const Tensor*>& earlier);
  void node_forward(Node& n, const Tensor* a, const Tensor* b);
  void folded_forward(Node& n, const Tensor& x);
  // Writes gradients of the node's inputs into dx0 / dx1 (null: not needed).
  void node_backward(Node& n, Tensor* dx0, Tensor* dx1);

  Network net_;
  std::vector<LayerPrecision> precision_;
  GraphOptions opt_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Param*> params_;
  std::vector<int> param_layers_;
  bool training_ = true;
  bool integer_eval_ = false;
  IntEvalOptions int_opt_;
  Tensor scratch_[2];  // input gradients added into a producer's gradient
  bool capture_input_grads_ = false;
  bool partial_forward_ = false;  // the last forward was forward_from: no backward
  bool profiling_ = false;
  std::vector<LayerTime> times_;
};

}  // namespace mixprec::model
