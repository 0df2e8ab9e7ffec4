// TtLinear / HtLinear: forward against a scalar reference of the product matrix, finite-difference
// gradient checks (cores and input), fake-quantized cores, and the LSTM with a projected input.
#include <catch2/catch.hpp>

#include <random>

#include "model/gradcheck.hpp"
#include "model/graph.hpp"
#include "model/lstm.hpp"
#include "model/quant.hpp"
#include "model/sequential.hpp"
#include "model/tensor_linear.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::model;
using mixprec::model::testing::check_layer;
using mixprec::model::testing::fill_uniform;

namespace {

// W (out x in) by summing, for every assignment of every axis, the product of one entry per
// core: the definition of the tensor network, written for obviousness.
Tensor reference_weight(FactorizedLinear& l, bool quantized_cores = false, int bits = 0) {
  const TensorNetwork& tn = l.network();
  const std::size_t axes = tn.axis_size.size();
  const std::int64_t in = l.in_features(), out = l.out_features();
  std::vector<Tensor> cores;
  for (std::size_t c = 0; c < tn.cores.size(); ++c) {
    Tensor v = l.core(int(c)).value;
    if (quantized_cores) {  // per first axis, symmetric, max |w|
      const IntGrid g = symmetric_grid(bits);
      const std::int64_t per = v.dims().per_sample();
      for (int ch = 0; ch < v.n(); ++ch) {
        float m = 0;
        for (std::int64_t i = 0; i < per; ++i) m = std::max(m, std::abs(v[ch * per + i]));
        const float s = step_for_max_abs(m, g);
        for (std::int64_t i = 0; i < per; ++i) v[ch * per + i] = reference::fake_quant(v[ch * per + i], s, g);
      }
    }
    cores.push_back(v);
  }
  Tensor w(Dims{int(out), int(in), 1, 1});
  w.set_zero();
  std::vector<int> a(axes, 0);
  while (true) {
    double prod = 1;
    for (std::size_t c = 0; c < tn.cores.size(); ++c) {
      std::int64_t idx = 0;
      for (int ax : tn.cores[c].axes) idx = idx * tn.axis_size[size_t(ax)] + a[size_t(ax)];
      prod *= cores[c][idx];
    }
    std::int64_t i = 0, o = 0;
    for (int ax : tn.input_axes) i = i * tn.axis_size[size_t(ax)] + a[size_t(ax)];
    for (int ax : tn.output_axes) o = o * tn.axis_size[size_t(ax)] + a[size_t(ax)];
    w[o * in + i] += float(prod);
    std::size_t k = 0;
    for (; k < axes; ++k) {
      if (++a[k] < tn.axis_size[k]) break;
      a[k] = 0;
    }
    if (k == axes) break;
  }
  return w;
}

void check_forward(FactorizedLinear& l, const Tensor& w_ref) {
  std::mt19937_64 rng(3);
  const int F = int(l.in_features()), O = int(l.out_features());
  Tensor x(Dims{2, 3, F, 1});
  fill_uniform(x, -1, 1, rng);
  Tensor y;
  l.forward(x, y);
  REQUIRE(y.dims() == Dims{2, 3, O, 1});
  for (int r = 0; r < 6; ++r)
    for (int o = 0; o < O; ++o) {
      double s = 0;
      for (int i = 0; i < F; ++i) s += double(x[r * F + i]) * w_ref[std::int64_t(o) * F + i];
      INFO("row " << r << " output " << o);
      CHECK(y[std::int64_t(r) * O + o] == Approx(s).margin(1e-5));
    }
}

void check_grads(model::Layer& l, int features) {
  std::mt19937_64 rng(5);
  std::vector<Tensor> in{Tensor(Dims{2, 3, features, 1})};
  fill_uniform(in[0], -1, 1, rng);
  for (const auto& r : check_layer(l, in)) {
    INFO(r.str());
    CHECK(r.ok);
  }
}

}  // namespace

TEST_CASE("TtLinear computes x W^T of its tensor train", "[tensor][model]") {
  TtLinear l("tt", {2, 3, 2}, {3, 2, 2}, {1, 2, 3, 1});
  std::mt19937_64 rng(1);
  l.init(rng);
  const Tensor w = reference_weight(l);
  check_forward(l, w);
  // dense_weight() (contracting the identity) is the same matrix.
  const Tensor d = l.dense_weight();
  for (std::int64_t i = 0; i < w.size(); ++i) CHECK(d[i] == Approx(w[i]).margin(1e-6));
  CHECK(l.params().size() == 3);
  CHECK(l.params()[0]->name == "tt.tt_core1");
}

TEST_CASE("HtLinear computes x W^T of its dimension tree", "[tensor][model]") {
  HtLinear l("ht", {2, 3, 2, 2}, {2, 1, 3, 2}, {2, 2, 3, 2}, {3, 2});
  std::mt19937_64 rng(2);
  l.init(rng);
  check_forward(l, reference_weight(l));
  HtLinear three("ht3", {2, 3, 2}, {2, 3, 2}, {2, 2, 2}, {3});
  three.init(rng);
  check_forward(three, reference_weight(three));
}

TEST_CASE("TtLinear and HtLinear gradients match finite differences", "[tensor][model][gradcheck]") {
  std::mt19937_64 rng(4);
  TtLinear t("tt", {2, 3, 2}, {3, 2, 2}, {1, 2, 3, 1});
  t.init(rng);
  check_grads(t, 12);
  HtLinear h("ht", {2, 3, 2, 2}, {2, 1, 3, 2}, {2, 2, 3, 2}, {3, 2});
  h.init(rng);
  check_grads(h, 24);
}

TEST_CASE("a TT projection feeding an LSTM without W_ih: gradients", "[tensor][model][gradcheck]") {
  // 4 gates x hidden 3 = 12 = 3 x 2 x 2 output modes.
  Sequential s("lstm.l0");
  s.emplace<TtLinear>("lstm.l0", std::vector<int>{2, 3, 2}, std::vector<int>{3, 2, 2},
                      std::vector<int>{1, 2, 2, 1});
  LstmOptions o;
  o.input_size = 12;
  o.hidden = 3;
  o.return_sequences = true;
  o.projected_input = true;
  s.emplace<Lstm>("lstm.l0", o);
  std::mt19937_64 rng(6);
  s.init(rng);
  std::vector<std::string> names;
  for (Param* p : s.params()) names.push_back(p->name);
  CHECK(names == std::vector<std::string>{"lstm.l0.tt_core1", "lstm.l0.tt_core2", "lstm.l0.tt_core3",
                                          "lstm.l0.weight_hh", "lstm.l0.bias"});
  check_grads(s, 12);
}

TEST_CASE("quantized cores: the layer computes with fake-quantized cores", "[tensor][model][quant]") {
  QuantSpec q;
  q.format = NumFormat::Int;
  q.bits = 4;
  TtLinear l("tt", {2, 3, 2}, {3, 2, 2}, {1, 2, 3, 1}, q);
  std::mt19937_64 rng(8);
  l.init(rng);
  const Tensor exact = reference_weight(l);
  const Tensor quant = reference_weight(l, true, 4);
  double diff = 0;
  for (std::int64_t i = 0; i < exact.size(); ++i) diff += std::abs(exact[i] - quant[i]);
  CHECK(diff > 1e-3);  // 4-bit cores change the matrix
  check_forward(l, quant);
}

TEST_CASE("a TT-LSTM graph from a scenario trains end to end (shapes, parameter names)", "[tensor][model]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  const int li = sc.net.find("lstm");
  REQUIRE(li >= 0);
  REQUIRE(sc.net.layers[size_t(li)].factorization.active());
  for (bool quant : {false, true}) {
    Graph g(sc.net, quant ? sc.layer_precision : std::vector<LayerPrecision>{});
    std::mt19937_64 rng(1);
    g.init(rng);
    std::int64_t weights = 0;
    for (Param* p : g.params())
      if (p->role == ParamRole::Weight || p->role == ParamRole::RecurrentWeight) weights += p->value.size();
    // Trainable weights are exactly what the network description counts.
    std::int64_t described = 0;
    for (const auto& l : sc.net.layers) described += l.weight_count();
    CHECK(weights == described);
    Tensor x(g.input_dims(2));
    fill_uniform(x, -1, 1, rng);
    g.set_training(true);
    const Tensor& y = g.forward(x);
    CHECK(y.dims() == Dims{2, 5, 1, 1});
    Tensor dy(y.dims());
    fill_uniform(dy, -1, 1, rng);
    g.zero_grad();
    g.backward(dy);
    double gsum = 0;
    for (Param* p : g.params())
      if (p->name == "lstm.tt_core1") gsum += p->grad.vec().cwiseAbs().sum();
    CHECK(gsum > 0);
  }
}

TEST_CASE("quantized products: each intermediate product is fake-quantized at the activation bits", "[tensor][model][quant]") {
  // A two-core train: one intermediate product, computed here by hand for whichever core the
  // plan applies first, quantized per tensor on the signed grid of its first batch's range.
  const int I1 = 3, I2 = 4, J1 = 2, J2 = 3, R = 2, rows = 5;
  for (int bits : {3, 8}) {
    FactorizedLinearOptions o;
    o.factorization.kind = FactorizationKind::TensorTrain;
    o.factorization.input_modes = {I1, I2};
    o.factorization.hidden_modes = {J1, J2};
    o.factorization.ranks = {1, R, 1};
    o.factorization.fold_gates = false;
    o.product.format = NumFormat::Int;
    o.product.bits = bits;
    FactorizedLinear l("tt", o);
    std::mt19937_64 rng(11);
    l.init(rng);
    l.set_training(true);
    const Tensor& c1 = l.core(0).value;  // (i1, j1, r)
    const Tensor& c2 = l.core(1).value;  // (r, i2, j2)
    Tensor x(Dims{rows, I1 * I2, 1, 1});
    fill_uniform(x, -1, 1, rng);
    Tensor y;
    l.forward(x, y);
    const bool core1_first = l.plan().order[0] == 0;
    // P, the first step's product, indexed (row, a, b, c) by the free axes of the hand formula.
    std::vector<double> p;
    if (core1_first) {  // P[row, i2, j1, r] = sum_i1 x c1
      for (int n = 0; n < rows; ++n)
        for (int i2 = 0; i2 < I2; ++i2)
          for (int j1 = 0; j1 < J1; ++j1)
            for (int r = 0; r < R; ++r) {
              double s = 0;
              for (int i1 = 0; i1 < I1; ++i1) s += double(x[n * I1 * I2 + i1 * I2 + i2]) * c1[(i1 * J1 + j1) * R + r];
              p.push_back(s);
            }
    } else {  // P[row, i1, r, j2] = sum_i2 x c2
      for (int n = 0; n < rows; ++n)
        for (int i1 = 0; i1 < I1; ++i1)
          for (int r = 0; r < R; ++r)
            for (int j2 = 0; j2 < J2; ++j2) {
              double s = 0;
              for (int i2 = 0; i2 < I2; ++i2) s += double(x[n * I1 * I2 + i1 * I2 + i2]) * c2[(r * I2 + i2) * J2 + j2];
              p.push_back(s);
            }
    }
    double m = 0;
    for (double v : p) m = std::max(m, std::abs(v));
    const IntGrid g = activation_grid(bits, false);
    const float step = step_for_max_abs(float(m), g);
    std::vector<double> q;
    for (double v : p) q.push_back(reference::fake_quant(float(v), step, g));
    double unquantized_diff = 0;
    for (int n = 0; n < rows; ++n)
      for (int j1 = 0; j1 < J1; ++j1)
        for (int j2 = 0; j2 < J2; ++j2) {
          double want = 0, exact = 0;
          if (core1_first) {
            for (int i2 = 0; i2 < I2; ++i2)
              for (int r = 0; r < R; ++r) {
                const std::size_t k = size_t(((n * I2 + i2) * J1 + j1) * R + r);
                want += q[k] * c2[(r * I2 + i2) * J2 + j2];
                exact += p[k] * c2[(r * I2 + i2) * J2 + j2];
              }
          } else {
            for (int i1 = 0; i1 < I1; ++i1)
              for (int r = 0; r < R; ++r) {
                const std::size_t k = size_t(((n * I1 + i1) * R + r) * J2 + j2);
                want += q[k] * c1[(i1 * J1 + j1) * R + r];
                exact += p[k] * c1[(i1 * J1 + j1) * R + r];
              }
          }
          INFO("bits " << bits << " row " << n << " output " << j1 * J2 + j2);
          CHECK(y[n * J1 * J2 + j1 * J2 + j2] == Approx(want).margin(1e-5));
          unquantized_diff += std::abs(want - exact);
        }
    if (bits == 3) CHECK(unquantized_diff > 1e-2);  // 3-bit products change the output
    // Named like an input quantizer of the first core applied ("tt.tt_core<k>_out").
    REQUIRE(l.buffers().size() == 1);
    CHECK(l.buffers()[0]->name == "tt.tt_core" + std::to_string(l.plan().order[0] + 1) + "_out.input_range");
  }
}

TEST_CASE("a QAT TT-LSTM graph quantizes its products and gradients reach every core", "[tensor][model][quant]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  Graph g(sc.net, sc.layer_precision);
  std::vector<std::string> names;
  for (Buffer* b : g.buffers()) names.push_back(b->name);
  // Two intermediate products for three cores.
  CHECK(std::count_if(names.begin(), names.end(), [](const std::string& n) {
          return n.find("_out.input_range") != std::string::npos;
        }) == 2);
  std::mt19937_64 rng(2);
  g.init(rng);
  g.set_training(true);
  Tensor x(g.input_dims(2));
  fill_uniform(x, 0, 1, rng);
  const Tensor& y = g.forward(x);
  Tensor dy(y.dims());
  fill_uniform(dy, -1, 1, rng);
  g.zero_grad();
  g.backward(dy);
  for (Param* p : g.params())
    if (p->name.rfind("lstm.tt_core", 0) == 0) CHECK(p->grad.vec().cwiseAbs().sum() > 0);
}
