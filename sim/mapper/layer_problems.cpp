#include "sim/mapper/layer_problems.hpp"

#include "sim/workload.hpp"

namespace mixprec::sim::nest {

std::vector<LayerNest> layer_nests(const Network& net, int layer, const LayerPrecision& p,
                                   const HardwareSpec* hw) {
  const LayerWork w = derive_work(net, layer, p, Phase::Inference, hw);
  std::vector<LayerNest> out;
  for (const GemmOp& g : w.gemms) {
    LayerNest n;
    n.pass = g.pass;
    if (g.geom.conv) {
      ConvShape s;
      s.n = g.geom.images;
      s.k = g.n;
      s.c = g.geom.in_c;
      s.p = g.geom.out_h;
      s.q = g.geom.out_w;
      s.r = g.geom.kh;
      s.s = g.geom.kw;
      s.h_stride = s.w_stride = g.geom.stride;
      s.groups = g.groups;
      s.weight_bits = g.b.bits;
      s.input_bits = g.a.bits;
      s.output_bits = g.out.bits;
      n.problem = make_conv(s);
      n.repeats = g.repeats;
    } else {
      n.problem = make_gemm(g.m, g.n, g.k, g.a.bits, g.b.bits, g.out.bits);
      n.repeats = std::int64_t(g.repeats) * g.groups;  // groups: identical independent GEMMs
    }
    n.problem.name = net.layers[static_cast<std::size_t>(layer)].name + "." + g.pass;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace mixprec::sim::nest
