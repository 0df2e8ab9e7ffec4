// Integer evaluation: the integer GEMM kernels against scalar loops, the accumulator width and
// overflow policies, and integer evaluation of a network against its fake-quantized forward.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "core/scenario.hpp"
#include "gradcheck.hpp"
#include "model/graph.hpp"
#include "model/int_eval.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::model;

namespace {

Tensor random_ints(Dims d, int lo, int hi, std::mt19937_64& rng) {
  Tensor t(d);
  for (std::int64_t i = 0; i < t.size(); ++i) t[i] = float(lo + int(rng() % std::uint64_t(hi - lo + 1)));
  return t;
}

// conv (int8, no BN, ReLU, bias) -> global average pool -> linear head.
Scenario conv_linear_scenario(const std::string& conv_precision) {
  return test::default_scenario_with(R"({
    "network": {"template": null, "batch": 2, "input": {"frames": 1, "channels": 3, "height": 6, "width": 6},
                "cnn": null, "lstm": null, "classes": null,
                "layers": [
                  {"name": "conv", "kind": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1, "relu": true},
                  {"name": "pool", "kind": "pool", "pool": "global_avg"},
                  {"name": "head", "kind": "linear", "out_features": 3}]},
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8},
                  "layers": [{"match": "conv", )" + conv_precision + R"(}]},
    "search": {"fixed_layers": []}})");
}

}  // namespace

TEST_CASE("int eval: accumulator width and overflow policies", "[model][int_eval]") {
  CHECK(ceil_log2(1) == 0);
  CHECK(ceil_log2(2) == 1);
  CHECK(ceil_log2(3) == 2);
  CHECK(ceil_log2(1024) == 10);
  CHECK(ceil_log2(1025) == 11);
  CHECK(accumulator_bits(0, 8, 8, 144) == 24);
  CHECK(accumulator_bits(0, 4, 4, 1) == 8);
  CHECK(accumulator_bits(20, 8, 8, 144) == 20);
  using O = AccumulatorOverflow;
  CHECK(apply_accumulator(1000, 8, O::Saturate) == 127);
  CHECK(apply_accumulator(-1000, 8, O::Saturate) == -128);
  CHECK(apply_accumulator(100, 8, O::Saturate) == 100);
  CHECK(apply_accumulator(128, 8, O::Wrap) == -128);
  CHECK(apply_accumulator(255, 8, O::Wrap) == -1);
  CHECK(apply_accumulator(256, 8, O::Wrap) == 0);
  CHECK(apply_accumulator(-129, 8, O::Wrap) == 127);
  CHECK(apply_accumulator(std::int64_t(1) << 40, 64, O::Saturate) == std::int64_t(1) << 40);
}

TEST_CASE("int eval: integer convolution equals the scalar reference exactly", "[model][int_eval]") {
  std::mt19937_64 rng(1);
  struct Case {
    Conv2dOptions o;
    Dims in;
    int wb, ab;
    int acc;  // 0: derived
    AccumulatorOverflow ov;
  };
  const std::vector<Case> cases{
      {{4, 6, 3, 3, 1, 1, 1, false}, {2, 4, 7, 6}, 8, 8, 0, AccumulatorOverflow::Saturate},
      {{4, 6, 3, 3, 2, 1, 2, false}, {2, 4, 7, 7}, 4, 6, 0, AccumulatorOverflow::Saturate},
      {{3, 5, 1, 1, 1, 0, 1, false}, {1, 3, 5, 5}, 8, 8, 12, AccumulatorOverflow::Saturate},
      {{4, 4, 3, 3, 1, 1, 1, false}, {1, 4, 5, 5}, 8, 8, 14, AccumulatorOverflow::Wrap},
      // 16 x 16 bits with K = 288: 32 + 9 bits needs the int64 path.
      {{32, 4, 3, 3, 1, 1, 1, false}, {1, 32, 4, 4}, 16, 16, 0, AccumulatorOverflow::Saturate},
  };
  for (const Case& c : cases) {
    const int wq = (1 << (c.wb - 1)) - 1;
    const Tensor qx = random_ints(c.in, 0, (1 << c.ab) - 1, rng);
    const Tensor qw = random_ints(Dims{c.o.out_channels, c.o.in_channels / c.o.groups, c.o.kernel_h, c.o.kernel_w},
                                  -wq, wq, rng);
    IntGemmSpec s;
    s.weight_bits = c.wb;
    s.activation_bits = c.ab;
    s.acc_bits = accumulator_bits(c.acc, c.wb, c.ab,
                                  std::int64_t(c.o.in_channels / c.o.groups) * c.o.kernel_h * c.o.kernel_w);
    s.overflow = c.ov;
    std::vector<std::int64_t> fast, ref;
    Dims od;
    int_conv2d(qx, qw, c.o, s, fast, od);
    reference::int_conv2d(qx, qw, c.o, s, ref);
    CHECK(fast == ref);
    if (c.acc > 0) {
      // The narrow accumulators really overflowed somewhere (the policy mattered).
      s.acc_bits = 64;
      std::vector<std::int64_t> wide;
      reference::int_conv2d(qx, qw, c.o, s, wide);
      CHECK(wide != ref);
    }
  }
}

TEST_CASE("int eval: integer network evaluation matches the fake-quantized forward",
          "[model][int_eval]") {
  const Scenario sc = conv_linear_scenario(R"("weights": 8)");
  Graph g(sc.net, sc.layer_precision);
  std::mt19937_64 rng(2);
  g.init(rng);
  Tensor x(g.input_dims(2));
  testing::fill_uniform(x, -1, 1, rng);
  g.forward(x);  // training mode: running ranges
  g.forward(x);
  g.set_training(false);
  const Tensor fake = g.forward(x);
  g.set_integer_eval(true);
  const Tensor integer = g.forward(x);
  REQUIRE(fake.dims() == integer.dims());
  // The fake-quantized path sums K <= 36 float products of grid values; the integer path is
  // exact: they differ by float rounding only (the derived accumulator never overflows).
  for (std::int64_t i = 0; i < fake.size(); ++i)
    CHECK(integer[i] == Approx(fake[i]).epsilon(1e-5).margin(1e-6));
}

TEST_CASE("int eval: a narrow accumulator saturates as documented", "[model][int_eval]") {
  const Scenario sc = conv_linear_scenario(R"("weights": 8, "accumulator": 12)");
  Graph g(sc.net, sc.layer_precision);
  std::mt19937_64 rng(3);
  g.init(rng);
  Tensor x(g.input_dims(2));
  testing::fill_uniform(x, -1, 1, rng);
  g.forward(x);
  g.set_training(false);
  g.forward(x);
  const Tensor fake = g.output(0);
  g.set_integer_eval(true);
  g.forward(x);
  const Tensor integer = g.output(0);
  // Expected: relu(sat12(sum qw qx) * sw * sa + b) with the graph's steps.
  Param* w = nullptr;
  Param* b = nullptr;
  for (Param* p : g.params()) {
    if (p->name == "conv.weight") w = p;
    if (p->name == "conv.bias") b = p;
  }
  REQUIRE(w);
  REQUIRE(b);
  float lo = 0, hi = 0;
  for (Buffer* buf : g.buffers())
    if (buf->name == "conv.input_range") {
      lo = buf->value[0];
      hi = buf->value[1];
    }
  const IntGrid ag = activation_grid(8, false), wg = symmetric_grid(8);
  const float sa = step_for_max_abs(std::max(std::fabs(lo), std::fabs(hi)), ag);
  Tensor qx(x.dims()), qw(w->value.dims());
  quantize_to_grid(x.data(), x.size(), sa, ag, qx.data());
  std::vector<float> sw;
  const std::int64_t per = w->value.dims().per_sample();
  for (int c = 0; c < w->value.n(); ++c) {
    float m = 0;
    for (std::int64_t i = 0; i < per; ++i) m = std::max(m, std::fabs(w->value[c * per + i]));
    sw.push_back(step_for_max_abs(m, wg));
    quantize_to_grid(w->value.data() + c * per, per, sw.back(), wg, qw.data() + c * per);
  }
  IntGemmSpec s;
  s.acc_bits = 12;
  std::vector<std::int64_t> acc;
  reference::int_conv2d(qx, qw, Conv2dOptions{3, 4, 3, 3, 1, 1, 1, true}, s, acc);
  REQUIRE(std::int64_t(acc.size()) == integer.size());
  double worst_vs_fake = 0;
  for (std::int64_t i = 0; i < integer.size(); ++i) {
    const int c = int((i / 36) % 4);
    const double v = double(acc[size_t(i)]) * (double(sw[size_t(c)]) * double(sa)) + b->value[c];
    CHECK(integer[i] == float(std::max(0.0, double(float(v)))));
    worst_vs_fake = std::max(worst_vs_fake, std::fabs(double(integer[i]) - fake[i]));
  }
  // Saturation changed results visibly: the test can tell the policies apart.
  CHECK(worst_vs_fake > 0.05);
}
