#!/usr/bin/python3
"""A small NumPy evaluator of ONNX graphs, written from the ONNX operator specifications
(https://github.com/onnx/onnx/blob/v1.12.0/docs/Operators.md), independent of mixprec's C++
and of any ONNX runtime (none is packaged for Debian 12). The onnx package only parses the file.

It runs the operators `mixprec export` writes (and no others: anything else is an error):
QuantizeLinear, DequantizeLinear, Clip, Conv, BatchNormalization, Gemm, MatMul, LSTM, GRU, MaxPool,
AveragePool, GlobalAveragePool, Relu, Sigmoid, Tanh, Add, Mul, Div, Round, Concat, Reshape,
Identity, Transpose, Constant, Gather, Slice, Split, Unsqueeze, Cast (float, float16, bfloat16), and calls of model-local functions (the
quantized LSTM), whose bodies it runs.
All arithmetic is float32, as the graph's tensors are.

    onnx_numpy_eval.py MODEL.onnx IN.json OUT.json
IN.json: {"dims": [...], "values": [...]} for the graph's one input (values in memory order, read
as the input's declared shape); OUT.json gets the same for its one output.
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper

F32 = np.float32


class Bf16:
    """A bfloat16 tensor (NumPy has none): its values as float32, already on the bf16 grid."""

    def __init__(self, values):
        self.values = values


def round_bf16(x):
    """float32 -> the nearest bfloat16 (ties to even), by the bit pattern; NaN/inf kept."""
    u = np.asarray(x, F32).view(np.uint32).astype(np.uint64)
    finite = (u & 0x7F800000) != 0x7F800000
    r = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    r = np.where(finite, r, u)
    return r.astype(np.uint32).view(F32)


def tensor(t):
    if t.data_type == onnx.TensorProto.BFLOAT16:
        raw = np.frombuffer(t.raw_data, np.uint16) if t.raw_data else np.asarray(t.int32_data, np.uint16)
        return Bf16((raw.astype(np.uint32) << 16).view(F32).reshape(tuple(t.dims)))
    return numpy_helper.to_array(t)


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def per_axis(v, x, axis):
    """A scale / zero point broadcast along `axis` of x (per-tensor when it is a scalar)."""
    v = np.asarray(v)
    if v.ndim == 0 or v.size == 1:
        return v.reshape(())
    shape = [1] * x.ndim
    shape[axis] = v.size
    return v.reshape(shape)


def quantize_linear(x, scale, zp, axis):
    zp_dtype = zp.dtype if zp is not None else np.uint8
    zp_v = zp.astype(np.int64) if zp is not None else np.zeros((), np.int64)
    lo, hi = (np.iinfo(zp_dtype).min, np.iinfo(zp_dtype).max)
    q = np.rint(x / per_axis(scale, x, axis).astype(F32)).astype(np.int64)  # round half to even
    q = q + per_axis(zp_v, x, axis)
    return np.clip(q, lo, hi).astype(zp_dtype)


def dequantize_linear(q, scale, zp, axis):
    zp_v = zp.astype(np.int64) if zp is not None else np.zeros((), np.int64)
    d = (q.astype(np.int64) - per_axis(zp_v, q, axis)).astype(F32)
    return d * per_axis(scale, q, axis).astype(F32)


def conv(x, w, b, a):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    group = a.get("group", 1)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ValueError("Conv: auto_pad not supported here")
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, m, oh, ow), F32)
    mg = m // group
    for g in range(group):
        xs = xp[:, g * cg:(g + 1) * cg]
        # im2col: (n, oh, ow, cg*kh*kw)
        cols = np.empty((n, oh, ow, cg, kh, kw), F32)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, :, :, i, j] = xs[:, :, i * dh:i * dh + sh * oh:sh, j * dw:j * dw + sw * ow:sw].transpose(0, 2, 3, 1)
        wg = w[g * mg:(g + 1) * mg].reshape(mg, -1)
        y[:, g * mg:(g + 1) * mg] = (cols.reshape(n, oh, ow, -1) @ wg.T).transpose(0, 3, 1, 2)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def pool(x, a, kind):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    if any(a.get("pads", [0, 0, 0, 0])):
        raise ValueError("pool: padding not supported here")
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    win = np.stack([x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] for i in range(kh) for j in range(kw)])
    return win.max(axis=0) if kind == "max" else win.mean(axis=0, dtype=F32).astype(F32)


def sigmoid(x):
    return (F32(1) / (F32(1) + np.exp(-x))).astype(F32)


def recurrent(op, X, W, R, B, a, seq_lens=None, h0=None, c0=None):
    """ONNX LSTM / GRU (default activations, no peepholes). sequence_lens: sequence b runs its
    first seq_lens[b] steps (the reverse direction from step seq_lens[b] - 1), Y is 0 after them
    and Y_h is the state after its last step; initial_h / initial_c: the state before the first
    step ([D, batch, H], or [batch, D, H] at layout 1), else zero."""
    layout = a.get("layout", 0)
    if layout == 0:
        X = X.transpose(1, 0, 2)  # -> [batch, seq, input]
        h0 = None if h0 is None else h0.transpose(1, 0, 2)  # -> [batch, D, H]
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    H = a["hidden_size"]
    D = 2 if direction == "bidirectional" else 1
    G = 4 if op == "LSTM" else 3
    batch, T, _ = X.shape
    if B is None:
        B = np.zeros((D, 2 * G * H), F32)
    Y = np.zeros((batch, T, D, H), F32)
    Yh = np.zeros((batch, D, H), F32)
    for d in range(D):
        rev = direction == "reverse" or d == 1
        Wd, Rd, Wb, Rb = W[d], R[d], B[d, :G * H], B[d, G * H:]
        h = np.zeros((batch, H), F32) if h0 is None else h0[:, d].astype(F32)
        c = np.zeros((batch, H), F32) if c0 is None else c0[:, d].astype(F32)
        lens = np.full(batch, T) if seq_lens is None else np.asarray(seq_lens).astype(np.int64)
        for k in range(T):
            # each sequence's step k: t = k forward, lens - 1 - k reverse (past its end: no step)
            t_b = lens - 1 - k if rev else np.full(batch, k)
            live = k < lens
            t_safe = np.where(live, t_b, 0)
            h_prev, c_prev = h, c
            xw = X[np.arange(batch), t_safe] @ Wd.T
            if op == "LSTM":  # gate blocks i, o, f, c
                g = xw + h @ Rd.T + Wb + Rb
                i, o, f, cc = (g[:, n * H:(n + 1) * H] for n in range(4))
                c = (sigmoid(f) * c + sigmoid(i) * np.tanh(cc)).astype(F32)
                h = (sigmoid(o) * np.tanh(c)).astype(F32)
            else:  # gate blocks z, r, h
                hr = h @ Rd.T
                z = sigmoid(xw[:, :H] + hr[:, :H] + Wb[:H] + Rb[:H])
                r = sigmoid(xw[:, H:2 * H] + hr[:, H:2 * H] + Wb[H:2 * H] + Rb[H:2 * H])
                if a.get("linear_before_reset", 0):
                    n_ = np.tanh(xw[:, 2 * H:] + r * (hr[:, 2 * H:] + Rb[2 * H:]) + Wb[2 * H:])
                else:
                    n_ = np.tanh(xw[:, 2 * H:] + (r * h) @ Rd[2 * H:].T + Rb[2 * H:] + Wb[2 * H:])
                h = ((F32(1) - z) * n_ + z * h).astype(F32)
            m = live[:, None]
            h = np.where(m, h, h_prev)
            if op == "LSTM":
                c = np.where(m, c, c_prev)
            for b in np.nonzero(live)[0]:
                Y[b, t_b[b], d] = h[b]
        Yh[:, d] = h
    if layout == 0:
        return Y.transpose(1, 2, 0, 3), Yh.transpose(1, 0, 2)
    return Y, Yh


def run_nodes(nodes, env, functions):
    for n in nodes:
        a = attrs(n)
        ins = [env[i] if i else None for i in n.input]
        ins += [None] * 8
        op = n.op_type
        fn = functions.get((n.domain, op))
        if fn is not None:
            # A model-local function: its body on its formal inputs (attributes are not
            # referenced by the bodies mixprec writes).
            inner = {formal: env[actual] for formal, actual in zip(fn.input, n.input) if actual}
            run_nodes(fn.node, inner, functions)
            out = [inner[o] for o in fn.output]
        elif op == "QuantizeLinear":
            out = [quantize_linear(ins[0], ins[1], ins[2], a.get("axis", 1))]
        elif op == "DequantizeLinear":
            out = [dequantize_linear(ins[0], ins[1], ins[2], a.get("axis", 1))]
        elif op == "Clip":
            v = ins[0]
            lo = ins[1] if ins[1] is not None else None
            hi = ins[2] if ins[2] is not None else None
            out = [np.clip(v, lo, hi).astype(v.dtype)]
        elif op == "Conv":
            out = [conv(ins[0], ins[1], ins[2], a)]
        elif op == "BatchNormalization":
            x_, s, b, m, var = ins[:5]
            sh = (1, -1) + (1,) * (x_.ndim - 2)
            eps = F32(a.get("epsilon", 1e-5))
            out = [((x_ - m.reshape(sh)) / np.sqrt(var.reshape(sh) + eps) * s.reshape(sh) + b.reshape(sh)).astype(F32)]
        elif op == "Gemm":
            A, Bm, C = ins[:3]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                Bm = Bm.T
            y = F32(a.get("alpha", 1.0)) * (A @ Bm)
            if C is not None:
                y = y + F32(a.get("beta", 1.0)) * C
            out = [y.astype(F32)]
        elif op == "MatMul":  # 2-D operands only (mixprec's TT / HT contraction steps)
            if ins[0].ndim != 2 or ins[1].ndim != 2:
                raise ValueError("node %r: MatMul of %d-D and %d-D operands is not in this evaluator"
                                 % (n.name, ins[0].ndim, ins[1].ndim))
            out = [(ins[0] @ ins[1]).astype(F32)]
        elif op in ("LSTM", "GRU"):
            if op == "GRU" and ins[6] is not None:
                raise ValueError("GRU has no initial_c")
            Y, Yh = recurrent(op, ins[0], ins[1], ins[2], ins[3], a, ins[4], ins[5], ins[6] if op == "LSTM" else None)
            out = [Y, Yh]
        elif op == "MaxPool":
            out = [pool(ins[0], a, "max")]
        elif op == "AveragePool":
            out = [pool(ins[0], a, "avg")]
        elif op == "GlobalAveragePool":
            out = [ins[0].mean(axis=(2, 3), keepdims=True, dtype=F32).astype(F32)]
        elif op == "Relu":
            out = [np.maximum(ins[0], F32(0))]
        elif op == "Sigmoid":
            out = [sigmoid(ins[0])]
        elif op == "Tanh":
            out = [np.tanh(ins[0])]
        elif op == "Add":
            out = [ins[0] + ins[1]]
        elif op == "Mul":
            out = [ins[0] * ins[1]]
        elif op == "Concat":
            out = [np.concatenate([v for v in ins if v is not None], axis=a["axis"])]
        elif op == "Reshape":
            shape = [int(s) for s in ins[1]]
            shape = [ins[0].shape[k] if s == 0 else s for k, s in enumerate(shape)]
            out = [ins[0].reshape(shape)]
        elif op == "Identity":
            out = [ins[0]]
        elif op == "Transpose":
            perm = a.get("perm")
            out = [np.transpose(ins[0], None if perm is None else [int(k) for k in perm])]
        elif op == "Constant":
            out = [tensor(a["value"])]
        elif op == "Cast":
            v = ins[0].values if isinstance(ins[0], Bf16) else ins[0]
            to = a["to"]
            if to == onnx.TensorProto.FLOAT:
                out = [v.astype(F32)]
            elif to == onnx.TensorProto.FLOAT16:
                out = [v.astype(np.float16)]  # round to nearest even, overflow to inf
            elif to == onnx.TensorProto.BFLOAT16:
                out = [Bf16(round_bf16(v))]
            else:
                raise ValueError("node %r: Cast to type %d is not in this evaluator" % (n.name, to))
        elif op == "Gather":
            out = [np.take(ins[0], ins[1], axis=a.get("axis", 0))]
        elif op == "Slice":
            data, starts, ends = ins[0], ins[1], ins[2]
            axes = ins[3] if ins[3] is not None else range(len(starts))
            steps = ins[4] if ins[4] is not None else [1] * len(starts)
            idx = [slice(None)] * data.ndim
            for s_, e_, ax, st in zip(starts, ends, axes, steps):
                idx[int(ax)] = slice(int(s_), int(e_), int(st))
            out = [data[tuple(idx)]]
        elif op == "Split":
            cuts = np.cumsum(ins[1])[:-1]
            out = np.split(ins[0], cuts, axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            v = ins[0]
            for ax in sorted(int(k) for k in ins[1]):
                v = np.expand_dims(v, ax)
            out = [v]
        elif op == "Div":
            out = [(ins[0] / ins[1]).astype(F32)]
        elif op == "Round":
            out = [np.rint(ins[0])]  # half to even
        else:
            raise ValueError("node %r: operator %s is not in this evaluator" % (n.name, op))
        for name, v in zip(n.output, out):
            if name:
                env[name] = v


def run(model, x):
    g = model.graph
    env = {t.name: tensor(t) for t in g.initializer}
    env[g.input[0].name] = x.astype(F32)
    functions = {(f.domain, f.name): f for f in model.functions}
    run_nodes(g.node, env, functions)
    return env[g.output[0].name]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    model = onnx.load(sys.argv[1])
    with open(sys.argv[2]) as f:
        j = json.load(f)
    # The values in memory order, read as the graph's declared input shape (mixprec's tensors
    # carry 4 dims: (batch, steps, features, 1) is the graph's [batch, steps, features]).
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = np.asarray(j["values"], F32).reshape(dims)
    y = run(model, x)
    with open(sys.argv[3], "w") as f:
        json.dump({"dims": list(y.shape), "values": [float(v) for v in y.ravel()]}, f)


if __name__ == "__main__":
    main()
