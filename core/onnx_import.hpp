// ONNX import: an ONNX model file -> mixprec's network description, its weights and the
// precisions its quantization nodes carry (docs/onnx.md).
//
// The reader lives in core/ because it only produces core values (a NetworkSpec with an
// explicit layer list, named float tensors, precision overrides); it depends on Debian's
// libonnx-dev (onnx_proto) and libprotobuf, not on any mixprec library above core/. The
// scenario parser (`network: {"onnx": "m.onnx"}`), `mixprec import`, the weight loaders of
// model/ (`train --init-from m.onnx`, `eval --checkpoint m.onnx`) and the fuzz target all call
// the one entry point import_onnx_bytes.
//
// Contract: any byte string either imports or throws SpecError whose what() names the file,
// the node ("node \"name\" (OpType)") or the graph part, what was expected and what was found.
// Nothing else escapes (protobuf parse failures, truncated tensors, impossible shapes and
// unsupported operators are all SpecErrors); never a silent zero-cost node.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/precision.hpp"

namespace mixprec {

// A weight or buffer under the training engine's parameter names (model/graph.hpp):
// "<layer>.weight", "<layer>.bias", "<layer>.weight_ih", "<layer>.weight_hh",
// "<layer>.bias_hn" (GRU), "..._reverse", "<layer>.bn.gamma", "<layer>.bn.running_mean", ...
struct ImportedTensor {
  std::string name;
  std::array<int, 4> dims{0, 1, 1, 1};  // model::Dims order (n, c, h, w)
  std::vector<float> values;
};

struct OnnxImport {
  NetworkSpec network;  // an explicit layer list (template_name empty) and the input shape
  std::vector<ImportedTensor> params, buffers;
  // Bits carried by QuantizeLinear/DequantizeLinear pairs (with an optional Clip narrowing the
  // range: QCDQ) and QLinearConv/QLinearMatMul, one entry per quantized layer.
  std::vector<PrecisionOverride> precision;
  std::vector<std::string> notes;  // operators absorbed or folded, e.g. layout changes
};

// The one gate mapping between ONNX's recurrent operators and mixprec's layers: ONNX stores the
// gate blocks of W, R and B as LSTM i, o, f, c and GRU z, r, h; mixprec's order is LSTM i, f,
// g, o and GRU r, z, n. onnx_gate_blocks(kind)[g] is the ONNX block that holds mixprec's gate g
// (import reads block [g], export writes mixprec's gate g there).
const std::vector<int>& onnx_gate_blocks(LayerKind recurrent_kind);

// mixprec's quantized LSTM in ONNX (`mixprec export`'s default LSTM form): a call, in this
// domain, of a model-local function named kQuantLstmPrefix + "_" + layer whose inputs, outputs
// and attributes (hidden_size, direction, layout 1) are the ONNX LSTM operator's, plus the
// integer attributes gate_bits and cell_state_bits; its body computes the steps with gates,
// cell state and hidden state quantized as QuantLstm trains them (model/quant_lstm.hpp). Import
// reads it as an lstm layer with those bits.
inline constexpr const char* kMixprecOnnxDomain = "mixprec";
inline constexpr const char* kQuantLstmPrefix = "QuantLSTM";

// The operator types import accepts (the list error messages give).
const std::vector<std::string>& onnx_supported_operators();

// `bytes`: the serialized ModelProto; `file` names it in errors. Throws SpecError.
OnnxImport import_onnx_bytes(const std::string& bytes, const std::string& file);
// Reads `path` (SpecError when unreadable) and imports it.
OnnxImport import_onnx_file(const std::string& path);

// The explicit `layers` list of a network description as scenario JSON text (for
// `mixprec import --out`): `{"name", "batch", "input", "layers": [...]}`.
std::string network_spec_to_json(const NetworkSpec& spec, int indent = 2);

}  // namespace mixprec
