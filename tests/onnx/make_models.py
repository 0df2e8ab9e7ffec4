#!/usr/bin/python3
"""Builds the small PyTorch models the ONNX import tests read, exports them with
torch.onnx.export at several opsets, and writes PyTorch's outputs for fixed inputs.

Run once with Debian's python3-torch (1.13) from the repository root:
    /usr/bin/python3 tests/onnx/make_models.py
The .onnx files and data/*_io.json are committed; torch is not a build or test dependency.
"""
import json
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


class CnnBiLstm(nn.Module):
    """Per-frame CNN (conv+BN+ReLU, max pool, conv+ReLU, global average pool) over T frames,
    a bidirectional LSTM over the frame features, a linear head on the final states h_n."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.lstm = nn.LSTM(16, 12, batch_first=True, bidirectional=True)
        self.head = nn.Linear(24, 5)

    def forward(self, x):  # x: [B, T, 3, 8, 8]
        b, t = x.shape[0], x.shape[1]
        y = x.reshape(b * t, 3, 8, 8)
        y = self.pool(torch.relu(self.bn1(self.conv1(y))))
        y = self.gap(torch.relu(self.conv2(y)))
        y = y.reshape(b, t, 16)
        _, (h, _) = self.lstm(y)            # h: [2, B, 12]
        h = h.transpose(0, 1).reshape(b, 24)  # [forward | reverse] per sample
        return self.head(h)


class GruLast(nn.Module):
    """A GRU (PyTorch's linear_before_reset form) read at its last step, a linear head."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):  # x: [B, T, 6]
        o, _ = self.gru(x)
        return self.head(o[:, -1])


def export(model, x, name, opsets):
    model.eval()
    with torch.no_grad():
        y = model(x)
    for opset in opsets:
        path = os.path.join(OUT, f"{name}_opset{opset}.onnx")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                          do_constant_folding=True)
        print("wrote", path, os.path.getsize(path), "bytes")
    io = {"input_dims": list(x.shape), "input": [round(float(v), 8) for v in x.flatten()],
          "output_dims": list(y.shape), "output": [float(v) for v in y.flatten()],
          "torch": torch.__version__}
    with open(os.path.join(OUT, f"{name}_io.json"), "w") as f:
        json.dump(io, f)


def main():
    torch.manual_seed(7)
    m = CnnBiLstm()
    with torch.no_grad():  # non-trivial BatchNorm statistics
        m.bn1.running_mean.uniform_(-0.2, 0.2)
        m.bn1.running_var.uniform_(0.5, 1.5)
        m.bn1.weight.uniform_(0.5, 1.5)
        m.bn1.bias.uniform_(-0.2, 0.2)
    x = torch.round(torch.randn(2, 4, 3, 8, 8) * 1e6) / 1e6
    export(m, x, "cnn_bilstm", [11, 13, 17])
    g = GruLast()
    xg = torch.round(torch.randn(2, 5, 6) * 1e6) / 1e6
    export(g, xg, "gru_last", [11, 14])


if __name__ == "__main__":
    main()
