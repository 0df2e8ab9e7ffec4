// ONNX models: `mixprec import M.onnx` and `network: {"onnx": ...}` (import_onnx_bytes, the one
// entry point every ONNX reader calls). Protobuf parse failures, truncated tensors, impossible
// shapes and unsupported operators must all be SpecErrors naming the file and the node.
#include "core/onnx_import.hpp"
#include "fuzz/fuzz_contract.hpp"

void fuzz_one(const std::string& bytes) { (void)mixprec::import_onnx_bytes(bytes, "fuzz.onnx"); }
