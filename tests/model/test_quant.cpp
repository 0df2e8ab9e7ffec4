// Quantizers: fast kernels held bit-for-bit to the scalar references, grids, running ranges,
// straight-through and LSQ gradients, gradient quantization, the quantized LSTM.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "gradcheck.hpp"
#include "model/lstm.hpp"
#include "model/quant.hpp"
#include "model/quant_lstm.hpp"

using namespace mixprec;
using namespace mixprec::model;

namespace {

std::uint32_t bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

float from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// Interesting floats: specials, format boundaries, ties, and random bit patterns.
std::vector<float> probe_values() {
  std::vector<float> v{0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.99f, 65520.0f, -65520.0f,
                       65536.0f, 1e30f, -1e30f, std::numeric_limits<float>::max(),
                       std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity(), std::ldexp(1.0f, -14),
                       std::ldexp(1.0f, -24), std::ldexp(1.0f, -25), std::ldexp(3.0f, -26),
                       std::ldexp(1.0f, -126), std::ldexp(1.0f, -149), std::ldexp(1.0f, -133),
                       std::ldexp(3.0f, -135)};
  // Ties and near-ties at 1 for both formats.
  for (int k = 0; k < 8; ++k) {
    v.push_back(1.0f + float(k) * std::ldexp(1.0f, -11));
    v.push_back(1.0f + float(k) * std::ldexp(1.0f, -8));
    v.push_back(-(1.0f + float(k) * std::ldexp(1.0f, -11)));
  }
  // Every float around the fp16 subnormal/normal boundary and the overflow threshold.
  for (std::uint32_t u = bits(std::ldexp(1.0f, -14)) - 3000; u < bits(std::ldexp(1.0f, -14)) + 3000; ++u)
    v.push_back(from_bits(u));
  for (std::uint32_t u = bits(65504.0f) - 2000; u < bits(65536.0f) + 10; ++u) v.push_back(from_bits(u));
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300000; ++i) {
    const float x = from_bits(std::uint32_t(rng()));
    if (!std::isnan(x)) v.push_back(x);
  }
  // Values in the ranges that matter (weights, activations, gradients).
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (int i = 0; i < 100000; ++i) v.push_back(n(rng) * std::ldexp(1.0f, int(rng() % 40) - 30));
  return v;
}

}  // namespace

TEST_CASE("quant: fp16/bf16 rounding is bit-identical to the reference", "[model][quant]") {
  const std::vector<float> v = probe_values();
  std::size_t mismatches16 = 0, mismatches_bf = 0;
  for (float x : v) {
    if (bits(round_to_fp16(x)) != bits(reference::round_to_fp16(x))) ++mismatches16;
    if (bits(round_to_bf16(x)) != bits(reference::round_to_bf16(x))) ++mismatches_bf;
  }
  CHECK(mismatches16 == 0);
  CHECK(mismatches_bf == 0);
  // The bulk kernel equals the scalar one.
  std::vector<float> y(v.size());
  round_to_format(v.data(), std::int64_t(v.size()), NumFormat::Fp16, y.data());
  std::size_t bulk = 0;
  for (std::size_t i = 0; i < v.size(); ++i) bulk += bits(y[i]) != bits(reference::round_to_fp16(v[i]));
  CHECK(bulk == 0);
  // NaN stays NaN.
  CHECK(std::isnan(round_to_fp16(std::nanf(""))));
  CHECK(std::isnan(round_to_bf16(std::nanf(""))));
}

TEST_CASE("quant: fp16/bf16 rounding known values", "[model][quant]") {
  // Ties go to the even significand.
  CHECK(round_to_fp16(1.0f + std::ldexp(1.0f, -11)) == 1.0f);
  CHECK(round_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 1.0f + std::ldexp(1.0f, -9));
  CHECK(round_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 1.0f);
  CHECK(round_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 1.0f + std::ldexp(1.0f, -6));
  // Overflow, largest finite, subnormals.
  CHECK(round_to_fp16(65519.0f) == 65504.0f);
  CHECK(std::isinf(round_to_fp16(65520.0f)));
  CHECK(round_to_fp16(std::ldexp(1.0f, -25)) == 0.0f);  // tie between 0 and 2^-24: even (0)
  CHECK(round_to_fp16(std::ldexp(3.0f, -26)) == std::ldexp(1.0f, -24));
  CHECK(std::signbit(round_to_fp16(-1e-10f)));
#ifdef __FLT16_MAX__
  // An independent oracle: the compiler's own float -> _Float16 conversion (round to nearest even).
  std::mt19937_64 rng(3);
  std::size_t bad = 0;
  for (int i = 0; i < 100000; ++i) {
    const float x = from_bits(std::uint32_t(rng()));
    if (std::isnan(x)) continue;
    const float oracle = float(static_cast<_Float16>(x));
    bad += bits(oracle) != bits(round_to_fp16(x));
  }
  CHECK(bad == 0);
#endif
}

TEST_CASE("quant: integer grids", "[model][quant]") {
  CHECK(symmetric_grid(2) == IntGrid{-1, 1});
  CHECK(symmetric_grid(8) == IntGrid{-127, 127});
  CHECK(symmetric_grid(16) == IntGrid{-32767, 32767});
  CHECK(activation_grid(8, true) == IntGrid{0, 255});
  CHECK(activation_grid(4, false) == IntGrid{-8, 7});
  CHECK_THROWS_AS(symmetric_grid(1), InternalError);
  CHECK_THROWS_AS(activation_grid(17, true), InternalError);
}

TEST_CASE("quant: fake_quant is bit-identical to the reference for bits 2-16", "[model][quant]") {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::size_t mismatches = 0, checked = 0;
  for (int b = 2; b <= 16; ++b) {
    for (int uns = 0; uns < 2; ++uns) {
      const IntGrid g = uns ? activation_grid(b, true) : symmetric_grid(b);
      for (int trial = 0; trial < 4; ++trial) {
        const float step = std::ldexp(1.0f + float(rng() % 1000) / 1000.0f, -int(rng() % 12));
        std::vector<float> x;
        for (int i = 0; i < 2000; ++i) x.push_back(n(rng) * step * float(g.qmax) * 0.7f);
        // Exact ties (k + 1/2) * step, the clip boundaries and beyond them.
        for (int k = -40; k < 40; ++k) x.push_back((float(k) + 0.5f) * step);
        x.push_back(float(g.qmax) * step * 1.5f);
        x.push_back(float(g.qmin) * step * 1.5f - step);
        x.push_back(std::numeric_limits<float>::infinity());
        x.push_back(-std::numeric_limits<float>::infinity());
        std::vector<float> y(x.size()), q(x.size());
        fake_quant(x.data(), std::int64_t(x.size()), step, g, y.data());
        quantize_to_grid(x.data(), std::int64_t(x.size()), step, g, q.data());
        for (std::size_t i = 0; i < x.size(); ++i) {
          const float ref = reference::fake_quant(x[i], step, g);
          mismatches += bits(y[i]) != bits(ref);
          mismatches += bits(q[i] * step) != bits(ref);
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 100000);
  CHECK(mismatches == 0);
  // Round half to even, clipping.
  const IntGrid g = symmetric_grid(4);  // [-7, 7]
  CHECK(reference::fake_quant(2.5f, 1.0f, g) == 2.0f);
  CHECK(reference::fake_quant(3.5f, 1.0f, g) == 4.0f);
  CHECK(reference::fake_quant(-2.5f, 1.0f, g) == -2.0f);
  CHECK(reference::fake_quant(100.0f, 1.0f, g) == 7.0f);
  CHECK(std::isnan(reference::fake_quant(std::nanf(""), 1.0f, g)));
  float nan = std::nanf(""), out = 0;
  fake_quant(&nan, 1, 1.0f, g, &out);
  CHECK(std::isnan(out));
}

TEST_CASE("quant: ActQuant running min/max (EMA) and unsigned grids", "[model][quant]") {
  ActQuantOptions o;
  o.spec = QuantSpec{NumFormat::Int, 4, true};
  ActQuant q("conv", o);
  REQUIRE(q.buffers().size() == 1);
  CHECK(q.buffers()[0]->name == "conv.input_range");
  Tensor x(1, 4), y;
  for (int i = 0; i < 4; ++i) x[i] = float(i);  // max 3
  q.forward(x, y);
  CHECK(q.current_step() == Approx(3.0f / 15.0f));
  for (int i = 0; i < 4; ++i) x[i] = float(2 * i);  // max 6: EMA 0.9 * 3 + 0.1 * 6 = 3.3
  q.forward(x, y);
  CHECK(q.current_step() == Approx(3.3f / 15.0f));
  for (int i = 0; i < 4; ++i) {
    const float v = y[i] / q.last_step();
    CHECK(v == std::nearbyint(v));
    CHECK(v >= 0.0f);
    CHECK(v <= 15.0f);
  }
  // Evaluation uses the stored range and does not update it.
  q.set_training(false);
  for (int i = 0; i < 4; ++i) x[i] = 100.0f;
  q.forward(x, y);
  CHECK(q.current_step() == Approx(3.3f / 15.0f));
  CHECK(y[0] == Approx(15.0f * 3.3f / 15.0f));  // clipped to the top of the grid
}

TEST_CASE("quant: straight-through estimator passes inside the range, zero where clipped",
          "[model][quant]") {
  ActQuantOptions o;
  o.spec = QuantSpec{NumFormat::Int, 3, false};  // [-4, 3]
  o.range = RangeMethod::Lsq;
  ActQuant q("lin", o);
  q.params()[0]->value[0] = 0.5f;  // range [-2, 1.5]
  Tensor x(1, 6), y, dy(1, 6), dx;
  const float xs[6] = {-3.0f, -1.9f, 0.26f, 1.2f, 1.5f, 4.0f};
  for (int i = 0; i < 6; ++i) {
    x[i] = xs[i];
    dy[i] = float(i + 1);
  }
  q.forward(x, y);
  q.backward(dy, &dx);
  // The surrogate whose derivative STE is: clamp(x, -2, 1.5): slope 1 inside, 0 outside.
  const float expect[6] = {0, 2, 3, 4, 5, 0};
  for (int i = 0; i < 6; ++i) CHECK(dx[i] == expect[i]);
}

TEST_CASE("quant: LSQ step gradient matches finite differences of its surrogate",
          "[model][quant]") {
  // LSQ's step gradient is the derivative of F(s) = s * clamp(x / s, qmin, qmax) + s * c, with
  // c = rne(x / s0) - x / s0 held constant inside the range (the straight-through part) and 0
  // where clipped, times g = 1 / sqrt(N Qp). Central differences of F in double must match it.
  std::mt19937_64 rng(5);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const IntGrid g = activation_grid(4, false);
  ActQuantOptions o;
  o.spec = QuantSpec{NumFormat::Int, 4, false};
  o.range = RangeMethod::Lsq;
  ActQuant q("l", o);
  Tensor x(3, 20), y, dy(3, 20), dx;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    x[i] = n(rng);
    dy[i] = n(rng);
  }
  const float s0 = 0.21f;
  q.params()[0]->value[0] = s0;
  q.forward(x, y);
  q.params()[0]->grad.set_zero();
  q.backward(dy, &dx);
  const double analytic = q.params()[0]->grad[0];
  const double gscale = 1.0 / std::sqrt(20.0 * g.qmax);
  auto F = [&](double s) {
    double sum = 0;
    for (std::int64_t i = 0; i < x.size(); ++i) {
      const double v0 = double(x[i]) / s0;
      const bool inside = v0 >= g.qmin && v0 <= g.qmax;
      const double c = inside ? std::nearbyint(double(float(x[i] / s0))) - v0 : 0.0;
      const double v = std::min(std::max(double(x[i]) / s, double(g.qmin)), double(g.qmax));
      sum += double(dy[i]) * (s * v + s * c);
    }
    return sum * gscale;
  };
  const double h = 1e-6;
  const double fd = (F(s0 + h) - F(s0 - h)) / (2 * h);
  CHECK(analytic == Approx(fd).epsilon(1e-3));
  // Some values were clipped and some were not, so both branches were exercised.
  int clipped = 0;
  for (std::int64_t i = 0; i < x.size(); ++i) clipped += dx[i] == 0.0f;
  CHECK(clipped > 0);
  CHECK(clipped < x.size());
}

TEST_CASE("quant: weight quantizer is per output channel, LSQ weight steps get gradients",
          "[model][quant]") {
  Tensor w(2, 3), shadow;
  const float ws[6] = {0.1f, -0.2f, 0.3f, 4.0f, -8.0f, 2.0f};
  for (int i = 0; i < 6; ++i) w[i] = ws[i];
  WeightQuant q("c.weight_step", QuantSpec{NumFormat::Int, 4, false}, RangeMethod::RunningMinMax,
                w.dims());
  q.forward(w, shadow);
  CHECK(q.steps()[0] == Approx(0.3f / 7));
  CHECK(q.steps()[1] == Approx(8.0f / 7));
  CHECK(shadow[2] == Approx(0.3f));
  CHECK(shadow[4] == Approx(-8.0f));
  Tensor gs(2, 3), gm(2, 3);
  gs.fill(1.0f);
  q.backward(w, gs, gm);
  for (int i = 0; i < 6; ++i) CHECK(gm[i] == 1.0f);  // max-abs steps never clip

  WeightQuant l("c.weight_step", QuantSpec{NumFormat::Int, 3, false}, RangeMethod::Lsq, w.dims());
  REQUIRE(l.step_param() != nullptr);
  l.step_param()->value.fill(0.5f);  // grid [-3, 3] * 0.5: clips 4, -8, 2 (row 1)
  l.forward(w, shadow);
  gm.set_zero();
  l.backward(w, gs, gm);
  CHECK(gm[0] == 1.0f);
  CHECK(gm[3] == 0.0f);
  CHECK(gm[4] == 0.0f);
  // Row 1: every value clipped: d/ds = qmax + qmin + qmax = 3, times 1 / sqrt(3 * 3).
  CHECK(l.step_param()->grad[1] == Approx(3.0 / 3.0));
}

TEST_CASE("quant: gradient quantization, nearest and stochastic", "[model][quant]") {
  std::mt19937_64 rng(1);
  std::vector<float> g{0.5f, -1.0f, 0.26f, 0.0f};
  quantize_gradient(g.data(), 4, Operand{NumFormat::Int, 3}, GradRounding::Nearest, rng);
  // grid [-3, 3], step 1/3
  CHECK(g[0] == Approx(2.0f / 3));
  CHECK(g[1] == Approx(-1.0f));
  CHECK(g[2] == Approx(1.0f / 3));
  CHECK(g[3] == 0.0f);
  // Stochastic rounding is unbiased: the mean of many roundings of 0.1 (on a grid of step 1/3
  // set by the element 1.0) approaches 0.1; every result is on the grid.
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::vector<float> v{0.1f, 1.0f};
    quantize_gradient(v.data(), 2, Operand{NumFormat::Int, 3}, GradRounding::Stochastic, rng);
    CHECK((v[0] == 0.0f || v[0] == Approx(1.0f / 3)));
    sum += v[0];
  }
  CHECK(sum / n == Approx(0.1).margin(0.01));
  // Seeded: the same seed gives the same roundings.
  std::mt19937_64 a(9), b(9);
  std::vector<float> x{0.3f, -0.7f, 0.11f, 1.0f}, y = x;
  quantize_gradient(x.data(), 4, Operand{NumFormat::Int, 4}, GradRounding::Stochastic, a);
  quantize_gradient(y.data(), 4, Operand{NumFormat::Int, 4}, GradRounding::Stochastic, b);
  CHECK(x == y);
  // Float formats: nearest = fp16 rounding; fp32 unchanged.
  std::vector<float> f{1.0f + std::ldexp(1.0f, -12)};
  quantize_gradient(f.data(), 1, Operand{NumFormat::Fp16, 16}, GradRounding::Nearest, rng);
  CHECK(f[0] == 1.0f);
  std::vector<float> h{1.0f + std::ldexp(1.0f, -12)};
  quantize_gradient(h.data(), 1, Operand{NumFormat::Fp32, 32}, GradRounding::Nearest, rng);
  CHECK(h[0] == 1.0f + std::ldexp(1.0f, -12));
}

namespace {

QuantLstmOptions qlstm_options(NumFormat f, int bits, bool bidir, bool seq) {
  QuantLstmOptions o;
  o.lstm = LstmOptions{5, 4, bidir, seq, true};
  const QuantSpec s{f, bits, false};
  o.weight = o.recurrent_weight = o.gate = o.cell = o.hidden = s;
  return o;
}

void copy_weights(QuantLstm& q, Lstm& l) {
  for (int d = 0; d < q.directions(); ++d) {
    l.weight_ih(d).value.assign(q.weight_ih(d).value);
    l.weight_hh(d).value.assign(q.weight_hh(d).value);
    l.bias(d).value.assign(q.bias(d).value);
  }
}

// q and l (same weights) give the same outputs on a random sequence; q's gradients pass the
// finite-difference check.
void check_equal_outputs_and_gradients(QuantLstm& q, Lstm& l, std::mt19937_64& rng) {
  Tensor x = Tensor::sequence(2, 3, 5), yq, yl;
  testing::fill_uniform(x, -1, 1, rng);
  q.forward(x, yq);
  l.forward(x, yl);
  REQUIRE(yq.dims() == yl.dims());
  for (std::int64_t i = 0; i < yq.size(); ++i) CHECK(yq[i] == Approx(yl[i]).margin(1e-6));
  std::vector<Tensor> inputs{x};
  for (const auto& r : testing::check_layer(q, inputs)) {
    INFO(r.str());
    CHECK(r.ok);
  }
}

}  // namespace

TEST_CASE("quant: QuantLstm at fp32 equals Lstm and passes the gradient check", "[model][quant]") {
  for (int variant = 0; variant < 2; ++variant) {
    const bool bidir = variant == 0, seq = variant == 0;
    QuantLstm q("lstm.l0", qlstm_options(NumFormat::Fp32, 32, bidir, seq));
    Lstm l("lstm.l0", LstmOptions{5, 4, bidir, seq, true});
    std::mt19937_64 rng(3);
    q.init(rng);
    copy_weights(q, l);
    check_equal_outputs_and_gradients(q, l, rng);
  }
}

TEST_CASE("quant: QuantLstm at fp32 equals Lstm when reverse and with an initial state", "[model][quant][onnx_states]") {
  for (int variant = 0; variant < 2; ++variant) {
    const bool bidir = variant == 1;
    QuantLstmOptions qo = qlstm_options(NumFormat::Fp32, 32, bidir, variant == 0);
    qo.lstm.reverse = !bidir;
    qo.lstm.initial_state = true;
    QuantLstm q("lstm.l0", qo);
    Lstm l("lstm.l0", qo.lstm);
    std::mt19937_64 rng(5);
    q.init(rng);
    std::vector<Param*> qp = q.params(), lp = l.params();
    REQUIRE(qp.size() == lp.size());
    for (std::size_t i = 0; i < qp.size(); ++i) {
      REQUIRE(qp[i]->name == lp[i]->name);
      if (qp[i]->name.find(".initial_") != std::string::npos) testing::fill_uniform(qp[i]->value, -1, 1, rng);
      lp[i]->value.assign(qp[i]->value);
    }
    check_equal_outputs_and_gradients(q, l, rng);
  }
}

TEST_CASE("quant: QuantLstm puts gates, cell state and h on their grids", "[model][quant]") {
  QuantLstmOptions o = qlstm_options(NumFormat::Int, 8, false, true);
  o.gate.bits = 4;
  o.hidden.bits = 5;
  o.cell.bits = 6;
  QuantLstm q("lstm", o);
  std::mt19937_64 rng(4);
  q.init(rng);
  Tensor x = Tensor::sequence(3, 4, 5), y;
  testing::fill_uniform(x, -1, 1, rng);
  q.forward(x, y);  // first training batch: sets the cell range
  REQUIRE(q.buffers().size() == 1);
  CHECK(q.buffers()[0]->value[1] == 1.0f);
  q.forward(x, y);
  // h on the symmetric 5-bit grid of step 1/15.
  for (std::int64_t i = 0; i < y.size(); ++i) {
    const float v = y[i] * 15.0f;
    CHECK(std::fabs(v - std::nearbyint(v)) < 1e-4f);
  }
  // 16-bit everything: close to the fp32 LSTM.
  QuantLstm q16("lstm", qlstm_options(NumFormat::Int, 16, false, true));
  Lstm l("lstm", LstmOptions{5, 4, false, true, true});
  std::mt19937_64 rng2(4);
  q16.init(rng2);
  copy_weights(q16, l);
  Tensor a, b;
  q16.forward(x, a);
  q16.forward(x, a);
  l.forward(x, b);
  for (std::int64_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).margin(2e-3));
}

TEST_CASE("quant: precisions QAT cannot train are named", "[model][quant]") {
  mixprec::Network net;
  mixprec::Layer conv;
  conv.name = "cnn.stem";
  conv.kind = mixprec::LayerKind::Conv2d;
  mixprec::Layer pool;
  pool.name = "cnn.pool";
  pool.kind = mixprec::LayerKind::Pool;
  net.layers = {conv, pool};
  std::vector<LayerPrecision> p(2, LayerPrecision::uniform(NumFormat::Int, 8));
  CHECK(qat_unsupported(net, p).empty());
  CHECK(qat_unsupported(net, {}).empty());
  p[0].weight_bits = 1;
  CHECK(qat_unsupported(net, p) ==
        "layer \"cnn.stem\": weights at 1 integer bits; quantization-aware training supports 2 to 16");
  p[0].weight_bits = 8;
  p[0].gradient_bits = 32;
  CHECK(qat_unsupported(net, p).find("gradients at 32") != std::string::npos);
  p[1].weight_bits = 1;  // a pool has no quantized operands
  p[0].gradient_bits = 8;
  CHECK(qat_unsupported(net, p).empty());
}
