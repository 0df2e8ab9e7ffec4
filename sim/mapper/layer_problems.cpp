#include "sim/mapper/layer_problems.hpp"

#include "core/errors.hpp"
#include "sim/workload.hpp"

namespace mixprec::sim::nest {

namespace {

// The forward convolution's shape (its GemmOp's geometry) at the given bits.
ConvShape conv_shape(const GemmOp& forward, std::int64_t out_channels, int weight_bits, int input_bits,
                     int output_bits) {
  const InputGeometry& g = forward.geom;
  ConvShape s;
  s.n = g.images;
  s.k = out_channels;
  s.c = g.in_c;
  s.p = g.out_h;
  s.q = g.out_w;
  s.r = g.kh;
  s.s = g.kw;
  s.h_stride = s.w_stride = g.stride;
  s.groups = forward.groups;
  s.weight_bits = weight_bits;
  s.input_bits = input_bits;
  s.output_bits = output_bits;
  return s;
}

// The pass's name in the nest: a factorized projection's steps by their step ("tt_step2_core3",
// its training passes "tt_step2_core3.weight_grad" / ".backward_data"), every other GEMM by its pass.
std::string nest_pass(const GemmOp& g) {
  if (g.step.empty()) return g.pass;
  for (const char* p : {"weight_grad", "backward_data"})
    if (g.pass.rfind(p, 0) == 0) return g.step + "." + p;
  return g.step;
}

}  // namespace

std::vector<LayerNest> layer_nests(const Network& net, int layer, const LayerPrecision& p,
                                   const HardwareSpec* hw, Phase phase) {
  const LayerWork w = derive_work(net, layer, p, phase, hw);
  const Layer& l = net.layers[static_cast<std::size_t>(layer)];
  std::vector<LayerNest> out;
  for (const GemmOp& g : w.gemms) {
    LayerNest n;
    n.pass = nest_pass(g);
    const GemmOp& fwd = w.gemms.front();  // a convolution's forward GEMM carries its geometry
    if (g.geom.conv) {
      n.problem = make_conv(conv_shape(g, g.n, g.b.bits, g.a.bits, g.out.bits));
      n.repeats = g.repeats;
    } else if (l.kind == LayerKind::Conv2d && g.pass == "backward_data") {
      // dX = the transposed convolution of dY with the flipped filters: over the input's positions
      // (P x Q = H x W), output channels C, reduction K R S, stride 1 over the zero-inserted dY
      // (its zero products are counted, as the GEMM view's M = N H W counts them).
      ConvShape s = conv_shape(fwd, g.n, g.b.bits, g.a.bits, g.out.bits);
      s.c = fwd.n;
      s.p = fwd.geom.in_h;
      s.q = fwd.geom.in_w;
      s.h_stride = s.w_stride = 1;
      n.problem = make_conv(s);
      n.repeats = g.repeats;
    } else if (l.kind == LayerKind::Conv2d && g.pass == "weight_grad") {
      // dW = X (*) dY over the forward dims: X at the GEMM's A bits, dY at B's, dW at Z's.
      n.problem = make_conv_weight_grad(conv_shape(fwd, fwd.n, g.out.bits, g.a.bits, g.b.bits));
      n.repeats = g.repeats;
    } else {
      n.problem = make_gemm(g.m, g.n, g.k, g.a.bits, g.b.bits, g.out.bits);
      n.repeats = std::int64_t(g.repeats) * g.groups;  // groups: identical independent GEMMs
    }
    MIXPREC_CHECK(n.problem.macs() * n.repeats == g.macs(),
                  "the loop nest of " + l.name + "." + n.pass + " has the GEMM's MACs");
    n.problem.name = l.name + "." + n.pass;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace mixprec::sim::nest
