#!/usr/bin/env python3
"""PyTorch peer of mixprec_bench's BM_TrainStep/reference, BM_TrainStep/qat and
BM_Inference/reference (bench/bench_train.cpp): the same model, batch and thread count.

Model (scenarios/venue_cnn_lstm.json): a per-frame ResNet-18 variant, widths 16-32-64-128,
3x3 stem (conv-BN-ReLU), 4 stages x 2 basic blocks (strides 1-2-2-2; a 1x1 conv + BN
downsample where the shape changes), global average pool; the 128-d features of T = 8 frames
of 3 x 16 x 16 go through a two-layer bidirectional LSTM (64 hidden per direction), the last
step (forward direction's final state and reverse direction's final state, as mixprec) feeds a
linear head to 5 classes. Batch 32 (256 frames), FP32, AdamW (lr 1e-3, weight decay 1e-4),
cross-entropy.

QAT peer: fake quantization at 8 bits of every conv/linear input (per tensor, running min/max
with momentum 0.1, unsigned after ReLU) and weight (symmetric per output channel), and of the
LSTM inputs and weights. PyTorch's fused LSTM cannot fake-quantize gates, cell state and hidden
state inside the cell, which mixprec's QAT LSTM does; the figures are therefore a lower bound
for PyTorch on the full mixprec QAT scheme. mixprec's 8-bit gradient quantization is not
modelled either.

Only for the comparison: python3-torch (Debian) is never a dependency of mixprec.
Run: python3 bench/peers/pytorch_train_step.py [--threads 1 2] [--seconds 5]
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, FRAMES, CH, H, W = 32, 8, 3, 16, 16
WIDTHS, STRIDES, BLOCKS = (16, 32, 64, 128), (1, 2, 2, 2), 2
HIDDEN, CLASSES = 64, 5


class FakeQuantAct(nn.Module):
    """Per-tensor activation fake quantization, EMA of min/max (momentum 0.1)."""

    def __init__(self, bits=8, unsigned=False):
        super().__init__()
        self.bits, self.unsigned = bits, unsigned
        self.register_buffer("lo", torch.zeros(()))
        self.register_buffer("hi", torch.zeros(()))
        self.register_buffer("init", torch.zeros(()))

    def forward(self, x):
        if self.training:
            lo, hi = x.detach().min(), x.detach().max()
            if self.init.item() == 0:
                self.lo.copy_(lo), self.hi.copy_(hi), self.init.fill_(1)
            else:
                self.lo.mul_(0.9).add_(0.1 * lo), self.hi.mul_(0.9).add_(0.1 * hi)
        if self.unsigned:
            qmin, qmax = 0, 2 ** self.bits - 1
            scale = torch.clamp(self.hi, min=1e-8) / qmax
        else:
            qmin, qmax = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
            scale = torch.clamp(torch.maximum(self.lo.abs(), self.hi.abs()), min=1e-8) / qmax
        return torch.fake_quantize_per_tensor_affine(x, float(scale), 0, qmin, qmax)


def fake_quant_weight(w, bits=8):
    """Symmetric per-output-channel fake quantization, step = max|w| / (2^(b-1) - 1)."""
    q = 2 ** (bits - 1) - 1
    flat = w.detach().reshape(w.shape[0], -1)
    scale = torch.clamp(flat.abs().amax(dim=1), min=1e-8) / q
    zero = torch.zeros(w.shape[0], dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(w, scale, zero, 0, -q, q)


class QConv(nn.Conv2d):
    def __init__(self, *a, qat=False, unsigned=False, **k):
        super().__init__(*a, **k)
        self.qat = qat
        self.act = FakeQuantAct(unsigned=unsigned) if qat else None

    def forward(self, x):
        if not self.qat:
            return super().forward(x)
        return self._conv_forward(self.act(x), fake_quant_weight(self.weight), self.bias)


def conv_bn(cin, cout, k, stride, qat, unsigned):
    return nn.Sequential(QConv(cin, cout, k, stride, k // 2, bias=False, qat=qat, unsigned=unsigned),
                         nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, qat):
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride, qat, True)
        self.conv2 = conv_bn(cout, cout, 3, 1, qat, True)
        self.down = conv_bn(cin, cout, 1, stride, qat, True) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class Net(nn.Module):
    def __init__(self, qat=False):
        super().__init__()
        self.qat = qat
        self.stem = conv_bn(CH, WIDTHS[0], 3, 1, qat, False)
        blocks, cin = [], WIDTHS[0]
        for w, s in zip(WIDTHS, STRIDES):
            for b in range(BLOCKS):
                blocks.append(BasicBlock(cin, w, s if b == 0 else 1, qat))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.lstm = nn.LSTM(WIDTHS[-1], HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * HIDDEN, CLASSES)
        if qat:
            self.lstm_in = FakeQuantAct(unsigned=True)
            self.head_in = FakeQuantAct(unsigned=False)

    def forward(self, x):  # x: (B*T, C, H, W)
        y = self.blocks(F.relu(self.stem(x)))
        y = y.mean(dim=(2, 3)).reshape(-1, FRAMES, WIDTHS[-1])
        if self.qat:
            y = self.lstm_in(y)
            weights = [fake_quant_weight(p) if p.dim() == 2 else p for p in self.lstm._flat_weights]
            _, h, _ = torch._VF.lstm(y, (torch.zeros(4, y.shape[0], HIDDEN),
                                             torch.zeros(4, y.shape[0], HIDDEN)),
                                         weights, True, 2, 0.0, self.training, True, True)
            feat = self.head_in(torch.cat([h[-2], h[-1]], dim=1))
            return F.linear(feat, fake_quant_weight(self.head.weight), self.head.bias)
        _, (h, _) = self.lstm(y)
        return self.head(torch.cat([h[-2], h[-1]], dim=1))


def timeit(fn, seconds):
    fn()  # warm-up
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds and n >= 3:
            return el / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    torch.manual_seed(1)
    x = torch.randn(BATCH * FRAMES, CH, H, W)
    labels = torch.randint(0, CLASSES, (BATCH,))
    print(f"torch {torch.__version__}, batch {BATCH} x {FRAMES} frames of {CH}x{H}x{W}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, qat in (("reference", False), ("qat", True)):
            net = Net(qat)
            opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
            net.train()

            def step():
                opt.zero_grad(set_to_none=False)
                F.cross_entropy(net(x), labels).backward()
                opt.step()

            ms = timeit(step, args.seconds) * 1e3
            print(f"TrainStep/{name}/threads:{threads}  {ms:9.1f} ms  {BATCH / ms * 1e3:7.1f} samples/s")
        net = Net(False).eval()

        def infer():
            with torch.no_grad():
                net(x)

        ms = timeit(infer, args.seconds) * 1e3
        print(f"Inference/reference/threads:{threads}  {ms:9.1f} ms  {BATCH / ms * 1e3:7.1f} samples/s")


if __name__ == "__main__":
    main()
