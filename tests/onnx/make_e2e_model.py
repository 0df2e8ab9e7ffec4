#!/usr/bin/python3
"""A small per-frame CNN + reverse LSTM (with a constant initial state) + linear head, written
with onnx.helper, for the end-to-end command-line test (tests/onnx/test_onnx_states.cpp):
input [1, 4, 3, 6, 6] frames (the venue generator's channels and a 6 x 6 grid), 5 classes.

    /usr/bin/python3 make_e2e_model.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

B, T, C, S, K, H, CLASSES = 1, 4, 3, 6, 4, 6, 5


def main():
    rng = np.random.default_rng(17)

    def init(name, shape, scale=0.3, dtype=np.float32):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(dtype), name)

    inits = [
        init("conv.W", (K, C, 3, 3)), init("conv.B", (K,), 0.1),
        init("lstm.W", (1, 4 * H, K)), init("lstm.R", (1, 4 * H, H)), init("lstm.B", (1, 8 * H), 0.1),
        numpy_helper.from_array(np.tile(rng.standard_normal((1, 1, H)).astype(np.float32) * 0.3, (B, 1, 1)), "lstm.h0"),
        numpy_helper.from_array(np.tile(rng.standard_normal((1, 1, H)).astype(np.float32) * 0.3, (B, 1, 1)), "lstm.c0"),
        init("head.W", (CLASSES, H)), init("head.B", (CLASSES,), 0.1),
        numpy_helper.from_array(np.array([B * T, C, S, S], np.int64), "frames_shape"),
        numpy_helper.from_array(np.array([B, T, K], np.int64), "seq_shape"),
        numpy_helper.from_array(np.array([B, H], np.int64), "final_shape"),
    ]
    nodes = [
        helper.make_node("Reshape", ["x", "frames_shape"], ["frames"], name="frames"),
        helper.make_node("Conv", ["frames", "conv.W", "conv.B"], ["c"], name="conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Reshape", ["g", "seq_shape"], ["seq"], name="to_sequence"),
        helper.make_node("LSTM", ["seq", "lstm.W", "lstm.R", "lstm.B", "", "lstm.h0", "lstm.c0"], ["Y", "Y_h"],
                         name="lstm", hidden_size=H, direction="reverse", layout=1),
        helper.make_node("Reshape", ["Y_h", "final_shape"], ["hf"], name="final"),
        helper.make_node("Gemm", ["hf", "head.W", "head.B"], ["y"], name="head", transB=1),
    ]
    graph = helper.make_graph(nodes, "e2e", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, T, C, S, S])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [B, CLASSES])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


if __name__ == "__main__":
    main()
