// ONNX export of a trained (mixed-precision) model: `mixprec export` (docs/onnx.md).
//
// The graph is written as mixprec evaluates it, at opset 17 (Debian's ONNX 1.12: no int4/int16
// tensor types), in the QCDQ convention (Brevitas's "QuantizeLinear -> Clip ->
// DequantizeLinear"), so a runtime and mixprec's own importer read the bitwidths from the graph:
//  * weights of an integer-format layer: the integers q of mixprec's per-output-channel
//    symmetric grid as an int8 initializer (9-16 bits: int32), a Clip to the grid
//    [-(2^(b-1) - 1), 2^(b-1) - 1] ([-2^(b-1), 2^(b-1) - 1] for fixed point) in that container,
//    and a DequantizeLinear with the per-channel steps (axis 0), i.e. exactly Q(master);
//  * input activations of an integer-format layer: QuantizeLinear (the quantizer's step, zero
//    point 0 of type int8 for the signed grid, uint8 for the unsigned one after a ReLU), a Clip
//    to [-2^(b-1), 2^(b-1) - 1] or [0, 2^b - 1] when that is narrower than the container, and
//    DequantizeLinear: mixprec's fake quantization clamp(rne(x / s)) * s; 9-16 bits (no int16
//    QuantizeLinear at opset 17): Div(s) -> Clip(qmin, qmax) -> Round -> Mul(s), the same float
//    operations as fake_quant;
//  * fp16 / bf16 layers: weights as FLOAT16 / BFLOAT16 initializers -> Cast to float, input
//    activations (and a QAT LSTM's gates, cell and hidden state) Cast to that type and back:
//    the round-to-nearest-even of mixprec's round_to_format;
//  * conv2d -> Conv (+ BatchNormalization, + Relu), linear -> Gemm (transB) (+ Relu), pools,
//    add, elementwise, concat and batchnorm as their ONNX operators, frames_to_sequence as a
//    Reshape named after the layer; biases and BatchNorm in float (as mixprec applies them);
//  * gru -> the ONNX GRU operator (layout 1, the gate blocks reordered through core's
//    onnx_gate_blocks, the bias in Wb, b_hn in Rb), weights quantized as above: mixprec's QAT
//    GRU quantizes its weights and input only, so this is what it trains;
//  * lstm -> by default (LstmExport::Quantized) a model-local function with the LSTM operator's
//    interface whose body unrolls the steps as QuantLstm computes them: Gemm, Sigmoid / Tanh,
//    gates quantized on their fixed grids, c = f c + i g on the cell's grid, h = o tanh(c) on
//    h's grid (2-8 bits: QuantizeLinear -> [Clip] -> DequantizeLinear; 9-16 bits, e.g. the
//    16-bit cell state: Div -> Clip -> Round -> Mul, the same float operations as mixprec's
//    fake quantization); LstmExport::Operator: the ONNX LSTM operator, whose gates and cell
//    state are float (a QAT LSTM's internal quantization is then not in the graph: a note
//    says so, tests/onnx_export/ measures the difference).
// Node names are the layer names, so `mixprec import` gives the layer list back.
//
// An fp32 factorized (TT / HT) LSTM input matrix is written as its dense product (import reads a
// dense LSTM back). A quantized one as FactorizedLinear runs it, before the LSTM (either form):
// per contraction step Reshape -> Transpose -> MatMul with the core as a QCDQ (fp16 / bf16:
// Cast) initializer, each product but the last through its activation quantizer (nodes
// "<layer>.<core>_out.input_*"), then the LSTM reads the projection through W = the 4H x 4H
// gate-block permutation in float (x W^T = x exactly). The quantized products make the map
// non-linear, so no dense W computes it. Refused (SpecError naming the layer): a quantized layer
// whose input (or product) quantizer has no range (a checkpoint not trained at this precision). With LstmExport::Operator, a QAT LSTM's note carries the difference measured on
// that layer's output (an fp32 LSTM with the same quantized weights and input, 4 random inputs).
#pragma once
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "model/graph.hpp"

namespace mixprec::model {

inline constexpr int kOnnxExportOpset = 17;

// How an LSTM is written: Quantized (default) computes what mixprec trained, the steps unrolled
// in a model-local function (core/onnx_import.hpp kQuantLstmPrefix) with gates, cell state and
// hidden state quantized as QuantLstm does; Operator is the standard ONNX LSTM operator
// (weights quantized, internals in float) for runtimes that need it.
enum class LstmExport { Quantized, Operator };

struct OnnxExportOptions {
  LstmExport lstm = LstmExport::Quantized;
};

struct OnnxExport {
  std::string bytes;               // a serialized onnx.ModelProto
  std::vector<std::string> notes;  // what the ONNX graph computes differently, per layer
};

// `g`: weights and quantizer state loaded (evaluation mode is set here). `source` names the
// checkpoint in errors (SpecError: "SOURCE: layer \"x\": expected ..., found ...").
OnnxExport export_onnx(Graph& g, const std::string& source, const OnnxExportOptions& opt = {});

}  // namespace mixprec::model
