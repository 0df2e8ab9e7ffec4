// The GRU layer (model/gru.hpp) and the element-wise / concat layers import needs: finite-
// difference gradient checks, a hand-computed step, QAT weights on their grid, and pricing.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "core/scenario.hpp"
#include "model/elementwise.hpp"
#include "model/graph.hpp"
#include "model/gru.hpp"
#include "model/gradcheck.hpp"
#include "sim/workload.hpp"

using namespace mixprec;
using namespace mixprec::model;
using namespace mixprec::model::testing;

namespace {

void require_all(const std::vector<GradCheckResult>& results) {
  for (const auto& r : results) {
    INFO(r.str());
    CHECK(r.ok);
  }
}

void randomize(model::Layer& layer, std::uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  for (Param* p : layer.params()) fill_uniform(p->value, -scale, scale, rng);
}

Tensor random_tensor(Dims d, std::uint64_t seed) {
  Tensor t(d);
  std::mt19937_64 rng(seed);
  fill_uniform(t, -1.0f, 1.0f, rng);
  return t;
}

}  // namespace

TEST_CASE("gradcheck: Gru", "[model][gradcheck][gru]") {
  int idx = 0;
  for (bool lbr : {true, false})
    for (bool bidir : {false, true})
      for (bool seq : {false, true}) {
        DYNAMIC_SECTION("linear_before_reset " << lbr << " bidirectional " << bidir << " return_sequences " << seq) {
          GruOptions o;
          o.input_size = 3;
          o.hidden = 4;
          o.bidirectional = bidir;
          o.return_sequences = seq;
          o.linear_before_reset = lbr;
          Gru gru("gru", o);
          randomize(gru, 50 + idx, 0.8f);
          std::vector<Tensor> in{random_tensor({2, 4, 3, 1}, 60 + idx)};
          require_all(check_layer(gru, in));
        }
        ++idx;
      }
}

TEST_CASE("gru: one step by hand (both candidate forms)", "[model][gru]") {
  // One input feature, one hidden unit, two steps, x = (1, -2); weights [r z n].
  for (bool lbr : {true, false}) {
    GruOptions o;
    o.input_size = 1;
    o.hidden = 1;
    o.return_sequences = true;
    o.linear_before_reset = lbr;
    Gru gru("g", o);
    const float wi[3] = {0.5f, -0.3f, 0.8f}, wh[3] = {0.4f, 0.2f, -0.6f}, b[3] = {0.1f, 0.05f, -0.2f}, bhn = 0.3f;
    auto ps = gru.params();  // weight_ih, weight_hh, bias, bias_hn
    for (int g = 0; g < 3; ++g) {
      ps[0]->value[g] = wi[g];
      ps[1]->value[g] = wh[g];
      ps[2]->value[g] = b[g];
    }
    ps[3]->value[0] = bhn;
    Tensor x(Dims{1, 2, 1, 1});
    x[0] = 1.0f;
    x[1] = -2.0f;
    Tensor y;
    gru.forward(x, y);
    double h = 0;
    auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    for (int t = 0; t < 2; ++t) {
      const double xv = x[t];
      const double r = sig(wi[0] * xv + b[0] + wh[0] * h), z = sig(wi[1] * xv + b[1] + wh[1] * h);
      const double n = lbr ? std::tanh(wi[2] * xv + b[2] + r * (wh[2] * h + bhn))
                           : std::tanh(wi[2] * xv + b[2] + wh[2] * (r * h) + bhn);
      h = (1 - z) * n + z * h;
      CHECK(y[t] == Approx(h).margin(1e-6));
    }
  }
}

TEST_CASE("gru: quantization-aware weights sit on their grid", "[model][gru]") {
  GruOptions o;
  o.input_size = 3;
  o.hidden = 2;
  o.weight = quant_spec(Operand{NumFormat::Int, 4});
  o.recurrent_weight = quant_spec(Operand{NumFormat::Int, 3});
  Gru q("q", o);
  std::mt19937_64 rng(3);
  q.init(rng);
  GruOptions f = o;
  f.weight = f.recurrent_weight = QuantSpec{};
  Gru fp("q", f);
  for (std::size_t i = 0; i < q.params().size(); ++i) fp.params()[i]->value.assign(q.params()[i]->value);
  std::vector<Tensor> in{random_tensor({2, 3, 3, 1}, 9)};
  Tensor yq, yf;
  q.forward(in[0], yq);
  fp.forward(in[0], yf);
  double diff = 0;
  for (std::int64_t i = 0; i < yq.size(); ++i) diff = std::max(diff, double(std::abs(yq[i] - yf[i])));
  CHECK(diff > 1e-4);  // 3- and 4-bit weights change the output
  CHECK(diff < 0.5);
  // Straight-through gradients reach the fp32 masters.
  Tensor dy(yq.dims()), dx;
  dy.vec().setOnes();
  q.backward(dy, &dx);
  CHECK(q.params()[0]->grad.vec().norm() > 0);
  CHECK(q.params()[1]->grad.vec().norm() > 0);
}

TEST_CASE("gradcheck: Elementwise and Concat", "[model][gradcheck]") {
  for (ElementwiseOp op : {ElementwiseOp::Sigmoid, ElementwiseOp::Tanh, ElementwiseOp::Mul}) {
    DYNAMIC_SECTION(to_string(op)) {
      Elementwise e("e", op);
      std::vector<Tensor> in{random_tensor({2, 3, 2, 1}, 1)};
      if (op == ElementwiseOp::Mul) in.push_back(random_tensor({2, 3, 2, 1}, 2));
      require_all(check_layer(e, in));
    }
  }
  SECTION("concat of two sequences along features") {
    Concat c("c", 3, Dims{1, 3, 5, 1});
    std::vector<Tensor> in{random_tensor({2, 3, 2, 1}, 3), random_tensor({2, 3, 3, 1}, 4)};
    Tensor y;
    c.forward(Inputs{&in[0], &in[1]}, y);
    CHECK(y.dims() == Dims{2, 3, 5, 1});
    // Each row (a step): 2 features of the first input, then 3 of the second.
    CHECK(y[2] == in[1][0]);
    CHECK(y[5] == in[0][2]);
    CHECK(y[7] == in[1][3]);
    require_all(check_layer(c, in));
  }
}

TEST_CASE("gru: priced like the LSTM with three gates", "[sim][gru]") {
  Network net;
  net.batch = 2;
  net.frames = 5;
  net.input = Shape{2, 6, 1, 1, 5};
  mixprec::Layer l;
  l.name = "gru";
  l.kind = LayerKind::Gru;
  l.hidden = 8;
  l.bidirectional = true;
  l.inputs = {-1};
  l.in = net.input;
  l.out = Shape{2, 16, 1, 1, 1};
  net.layers.push_back(l);
  const sim::LayerWork w = sim::derive_work(net, 0, LayerPrecision{}, Phase::Inference);
  REQUIRE(w.gemms.size() == 2);
  CHECK(w.gemms[0].macs() == 2 * 5 * (3 * 8 * 2) * 6);     // input projection: B*T x 3H*D x F
  CHECK(w.gemms[1].macs() == 2 * (3 * 8) * 8 * 2 * 5);     // recurrence: B x 3H x H, D groups, T steps
  std::int64_t sig = 0, tanh_ops = 0, mul = 0, add = 0;
  for (const auto& n : w.nonlinear) {
    if (n.kind == sim::NonlinearKind::Sigmoid) sig += n.ops;
    if (n.kind == sim::NonlinearKind::Tanh) tanh_ops += n.ops;
    if (n.kind == sim::NonlinearKind::Multiply) mul += n.ops;
    if (n.kind == sim::NonlinearKind::Add) add += n.ops;
  }
  const std::int64_t cells = 2 * 5 * 8 * 2;
  CHECK(sig == 2 * cells);
  CHECK(tanh_ops == cells);
  CHECK(mul == 3 * cells);
  CHECK(add == 4 * cells);
  CHECK(net.layers[0].weight_count() == 2 * 3 * 8 * (6 + 8));
  CHECK(net.layers[0].bias_count() == 2 * 4 * 8);
}
