// HAWQ-style sensitivity: Hutchinson's trace against a Hessian known in closed form, and the
// quantization perturbation by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "core/errors.hpp"
#include "core/scenario.hpp"

#include "model/graph.hpp"
#include "model/loss.hpp"
#include "model/sensitivity.hpp"
#include "model/trainer.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::model;

namespace {
Network linear_net(int features, int outputs) {
  Scenario sc = test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "s",
    "hardware": {"clock_mhz": 100, "pe_array": {"rows": 4, "cols": 4, "mac": {"style": "bit_parallel"}},
      "buffers": {"weight": {"size_kib": 8}, "input": {"size_kib": 8}, "output": {"size_kib": 8}},
      "dram": {"bandwidth_gbps": 1}},
    "network": {"name": "lin", "input": {"frames": 1, "features": )" + std::to_string(features) + R"(},
      "layers": [{"name": "fc", "kind": "linear", "out_features": )" + std::to_string(outputs) + "}]}}");
  return sc.net;
}

Param* weight_of(Graph& g) {
  for (Param* p : g.params())
    if (p->role == ParamRole::Weight) return p;
  return nullptr;
}
}  // namespace

TEST_CASE("Hutchinson trace equals the closed-form Hessian trace of a linear MSE model", "[model][sensitivity]") {
  // Loss = mean over N x O outputs of (W x + b - t)^2 with inputs x_s = e_s (N = F samples):
  // the Hessian in W is diagonal, 2/(N O) per weight hit by a sample, so v^T H v is the trace
  // for every Rademacher v and the per-weight average is 2 / (O F).
  const int F = 6, O = 3;
  Network net = linear_net(F, O);
  Graph g(net);
  std::mt19937_64 rng(3);
  g.init(rng);
  std::vector<float> x(F * F, 0.0f), t(F * O);
  for (int s = 0; s < F; ++s) x[s * F + s] = 1.0f;
  for (int i = 0; i < F * O; ++i) t[i] = 0.1f * float(i % 5);
  MemorySource src(g.input_dims(1), x, {}, t, 1, false);
  SensitivityOptions opt;
  opt.samples = 2;
  opt.max_samples = F;
  opt.batch_size = F;
  opt.epsilon = 1e-2f;
  std::vector<double> tr = hessian_trace_per_weight(g, src, true, opt);
  REQUIRE(tr.size() == 1);
  CHECK(tr[0] == Approx(2.0 / (O * F)).epsilon(1e-3));
}

TEST_CASE("quantization perturbation by hand", "[model][sensitivity]") {
  Network net = linear_net(3, 1);
  Graph g(net);
  std::mt19937_64 rng(1);
  g.init(rng);
  Param* w = weight_of(g);
  REQUIRE(w != nullptr);
  const float row[3] = {0.6f, -1.0f, 0.3f};
  std::copy(row, row + 3, w->value.data());
  // 2 bits: symmetric grid {-1, 0, 1} with step max|w| = 1 -> Q = {1, -1, 0}: 0.4^2 + 0.3^2.
  CHECK(weight_perturbation(g, 0, LayerPrecision::uniform(NumFormat::Int, 2)) == Approx(0.25).epsilon(1e-6));
  const double e8 = weight_perturbation(g, 0, LayerPrecision::uniform(NumFormat::Int, 8));
  CHECK(e8 <= 3 * std::pow(0.5 / 127, 2));
  CHECK(e8 > 0);
  CHECK(weight_perturbation(g, 0, LayerPrecision::uniform(NumFormat::Fp32, 32)) == 0.0);
  // sensitivity = trace x perturbation; fewer bits never less sensitive here
  std::vector<LayerPrecision> opts{LayerPrecision::uniform(NumFormat::Int, 8), LayerPrecision::uniform(NumFormat::Int, 2)};
  std::vector<double> s = hessian_sensitivity(g, {0.5}, opts);
  CHECK(s[0] == Approx(0.5 * e8));
  CHECK(s[1] == Approx(0.5 * 0.25));
}

namespace {

// Weights with orthogonal columns: W^T W is diagonal, so v^T W^T W v is its trace for every
// Rademacher v and the estimate is exact (up to float rounding).
void set_weights(Graph& g, const std::vector<float>& w, const std::vector<float>& bias) {
  for (Param* p : g.params()) {
    if (p->role == ParamRole::Weight) std::copy(w.begin(), w.end(), p->value.data());
    if (p->role == ParamRole::Bias) std::copy(bias.begin(), bias.end(), p->value.data());
  }
}

}  // namespace

TEST_CASE("activation Hessian trace of a linear MSE layer equals the closed form 2 tr(W^T W) / (O F)", "[model][sensitivity]") {
  // Loss = mean over N x O outputs of (W x + b - t)^2. One sample's loss is |W x + b - t|^2 / O,
  // whose Hessian in x is 2 W^T W / O: per input value, 2 tr(W^T W) / (O F), for any x.
  const int F = 3, O = 4, N = 6;
  Network net = linear_net(F, O);
  Graph g(net);
  const std::vector<float> w{0.5f, 0, 0, 0, -1.5f, 0, 0, 0, 2.0f, 0, 0, 0};  // O x F
  set_weights(g, w, {0.1f, -0.2f, 0.3f, 0.0f});
  std::vector<float> x(N * F), t(N * O);
  for (int i = 0; i < N * F; ++i) x[i] = 0.1f * float((i * 7) % 11) - 0.5f;
  for (int i = 0; i < N * O; ++i) t[i] = 0.05f * float(i % 3);
  MemorySource src(g.input_dims(1), x, {}, t, 1, false);
  const std::vector<Batch> data = take_batches(src, N, 4);  // two batches: 4 + 2
  REQUIRE(data.size() == 2);
  SensitivityOptions opt;
  opt.samples = 3;
  opt.sign_patterns = 2;  // the input and weight blocks in different groups: no cross terms
  opt.epsilon = 1e-2f;
  const HessianTraces tr = hessian_traces(g, data, true, opt);
  const double expected = 2.0 * (0.25 + 2.25 + 4.0) / (O * F);
  CHECK(tr.activation[0] == Approx(expected).epsilon(1e-3));
  // One Walsh pattern keeps the weight/input cross terms: still unbiased, no longer exact.
  opt.sign_patterns = 1;
  CHECK(hessian_traces(g, data, true, opt).activation[0] != Approx(expected).epsilon(1e-3));
  // The same numbers whatever the thread count.
  opt.sign_patterns = 2;
  opt.threads = 2;
  const HessianTraces tr2 = hessian_traces(g, data, true, opt);
  CHECK(tr2.activation[0] == tr.activation[0]);
  CHECK(tr2.weight[0] == tr.weight[0]);
}

TEST_CASE("activation perturbation: QAT's per-tensor quantizer on calibrated ranges, by hand", "[model][sensitivity]") {
  const int F = 2;
  Network net = linear_net(F, 1);
  Graph g(net);
  set_weights(g, {1.0f, 1.0f}, {0.0f});
  // Calibration batch: max |x| = 0.7, so the signed 4-bit grid [-8, 7] has step 0.1.
  MemorySource cal_src(g.input_dims(1), {0.7f, -0.2f, 0.3f, 0.1f}, {}, {0, 0}, 1, false);
  // Data: 0.25 -> 0.2 (0.05); -0.36 -> -0.4 (0.04); 0.9 clips to 0.7 (0.2); 0.0 exact.
  MemorySource data_src(g.input_dims(1), {0.25f, -0.36f, 0.9f, 0.0f}, {}, {0, 0}, 1, false);
  const std::vector<Batch> cal = take_batches(cal_src, 2, 2), data = take_batches(data_src, 2, 2);
  const std::vector<LayerPrecision> opts{LayerPrecision::uniform(NumFormat::Int, 4),
                                         LayerPrecision::uniform(NumFormat::Fp32, 32)};
  const std::vector<double> p = activation_perturbation(g, cal, data, opts);
  REQUIRE(p.size() == 2);
  CHECK(p[0] == Approx((0.05 * 0.05 + 0.04 * 0.04 + 0.2 * 0.2) / 2).epsilon(1e-4));  // mean over 2 samples
  CHECK(p[1] == 0.0);
  // The Hessian sensitivity adds trace x perturbation for the inputs to the weight term.
  HessianTraces tr{{0.5}, {3.0}};
  const SensitivityTerms t = hessian_sensitivity(g, tr, p, opts);
  CHECK(t.activation[0] == Approx(3.0 * p[0]));
  CHECK(t.weight[0] == Approx(0.5 * weight_perturbation(g, 0, opts[0])));
  CHECK(t.total[0] == Approx(t.weight[0] + t.activation[0]));
  CHECK(t.total[1] == 0.0);
}

TEST_CASE("measured sensitivity equals the loss difference evaluated by hand", "[model][sensitivity]") {
  // One linear layer y = W x + b, MSE against the fp32 outputs (fp32 loss 0). At w2a4: weights
  // on the per-row grid {-1, 0, 1} * max |row|, inputs on the signed 4-bit grid whose step is
  // max |x| / 7 over the calibration batch.
  const int F = 3, O = 2;
  Network net = linear_net(F, O);
  Graph g(net);
  const std::vector<float> w{0.8f, -0.3f, 0.5f, -0.2f, 0.6f, 0.1f};
  const std::vector<float> b{0.05f, -0.1f};
  set_weights(g, w, b);
  const std::vector<float> x{0.7f, -0.33f, 0.12f, 0.26f, 0.5f, -0.61f};
  std::vector<float> t(4);
  for (int s = 0; s < 2; ++s)
    for (int o = 0; o < O; ++o) {
      float y = b[o];
      for (int f = 0; f < F; ++f) y += w[o * F + f] * x[s * F + f];
      t[s * O + o] = y;
    }
  MemorySource src(g.input_dims(1), x, {}, t, 1, false);
  const std::vector<Batch> data = take_batches(src, 2, 2);
  const LayerPrecision opt = [] {
    LayerPrecision p = LayerPrecision::uniform(NumFormat::Int, 8);
    p.weight_bits = 2;
    p.activation_bits = 4;
    return p;
  }();
  // By hand.
  const float wq[6] = {0.8f, 0.0f, 0.8f, 0.0f, 0.6f, 0.0f};  // rows: max 0.8 / 0.6, step = max
  const float step = 0.7f / 7.0f;
  double sq = 0;
  for (int s = 0; s < 2; ++s)
    for (int o = 0; o < O; ++o) {
      double y = b[o];
      for (int f = 0; f < F; ++f) {
        const double q = std::max(-8.0, std::min(7.0, double(std::nearbyint(x[s * F + f] / step)))) * step;
        y += double(wq[o * F + f]) * q;
      }
      sq += (y - t[s * O + o]) * (y - t[s * O + o]);
    }
  const double expected = sq / 4;  // mean over N x O outputs; the fp32 loss is 0
  CHECK(mean_loss(g, data, true) == Approx(0.0).margin(1e-12));
  const std::vector<double> m = measured_sensitivity(g, data, data, true, {opt}, 1);
  REQUIRE(m.size() == 1);
  CHECK(m[0] == Approx(expected).epsilon(1e-5));
  CHECK(m[0] > 0.01);
}

TEST_CASE("graph hooks for sensitivities: forward_from on the earlier layers' outputs equals the full forward", "[model][sensitivity][graph]") {
  const Scenario sc = test::default_scenario_with(R"({
    "network": {"input": {"frames": 2, "channels": 3, "height": 8, "width": 8},
                "cnn": {"stage_widths": [4, 8], "stage_strides": [1, 2], "blocks_per_stage": 1},
                "lstm": {"hidden": 4}},
    "precision": {"layers": []}})");
  GraphOptions go;
  go.fold_batchnorm = false;
  Graph g(sc.net, {}, go);
  std::mt19937_64 rng(5);
  g.init(rng);
  g.set_training(false);
  Tensor x(g.input_dims(3));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = nd(rng);

  // forward_from(l) on the earlier layers' outputs reproduces the full forward bit for bit.
  Tensor full;
  full.assign(g.forward(x));
  Graph h(sc.net, {}, go);
  std::vector<Param*> gp = g.params(), hp = h.params();
  for (std::size_t i = 0; i < gp.size(); ++i) hp[i]->value.assign(gp[i]->value);
  h.set_training(false);
  std::vector<const Tensor*> earlier;
  for (int i = 0; i < g.layer_count(); ++i) earlier.push_back(&g.output(i));
  for (int l = 0; l < g.layer_count(); ++l) {
    const Tensor& y = h.forward_from(l, x, earlier);
    REQUIRE(y.dims() == full.dims());
    CHECK(std::equal(y.data(), y.data() + y.size(), full.data()));
  }
  CHECK_THROWS_AS(h.backward(full), InternalError);  // forward only
}

TEST_CASE("graph hooks for sensitivities: a reader's own input gradient matches a finite difference of its perturbation", "[model][sensitivity][graph]") {
  // Smooth (no ReLU), with a fan-out: conv a feeds conv b and the add; sum = b(a) + a.
  const Scenario sc = test::default_scenario_with(R"({
    "network": {"template": null, "batch": 1, "input": {"frames": 1, "channels": 1, "height": 4, "width": 4},
                "cnn": null, "lstm": null, "classes": null,
                "layers": [
                  {"name": "a", "kind": "conv2d", "out_channels": 2, "kernel": 3, "padding": 1},
                  {"name": "b", "kind": "conv2d", "out_channels": 2, "kernel": 3, "padding": 1},
                  {"name": "sum", "kind": "add", "inputs": ["b", "a"]},
                  {"name": "pool", "kind": "pool", "pool": "global_avg"},
                  {"name": "head", "kind": "linear", "out_features": 3}]},
    "precision": {"default": {"format": "fp32", "weights": null, "activations": null}, "layers": []},
    "search": {"fixed_layers": []}})");
  Graph g(sc.net);
  std::mt19937_64 rng(3);
  g.init(rng);
  g.set_training(false);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Tensor x(g.input_dims(2));
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = nd(rng);
  const std::vector<int> labels{2, 0};
  const int l = sc.net.find("b"), producer = sc.net.find("a");
  SoftmaxCrossEntropy ce;
  auto loss_with = [&](int layer, const Tensor* delta) {
    g.set_input_perturbation(layer, delta);
    const double v = ce.forward(g.forward(x), labels);
    g.set_input_perturbation(layer, nullptr);
    return v;
  };
  g.set_input_gradient_capture(true);
  Tensor dy;
  ce.forward(g.forward(x), labels);
  ce.backward(dy);
  g.backward(dy);
  const Tensor grad = g.input_gradient(l);
  REQUIRE(grad.dims() == g.output(producer).dims());
  Tensor u(grad.dims()), plus(u.dims()), minus(u.dims());
  for (std::int64_t i = 0; i < u.size(); ++i) u[i] = nd(rng);
  const float h = 1e-2f;
  plus.vec() = h * u.vec();
  minus.vec() = -h * u.vec();
  double analytic = 0;
  for (std::int64_t i = 0; i < u.size(); ++i) analytic += double(u[i]) * grad[i];
  const double fd = (loss_with(l, &plus) - loss_with(l, &minus)) / (2.0 * h);
  CHECK(fd == Approx(analytic).epsilon(1e-3));
  // Perturbing a's output for every reader is another derivative: the captured gradient is b's
  // alone, not the sum over b and the add.
  Tensor xp, xm;
  const Tensor a_out = g.output(producer);
  std::vector<const Tensor*> earlier(size_t(g.layer_count()), nullptr);
  xp.assign(a_out);
  xp.vec() += plus.vec();
  earlier[size_t(producer)] = &xp;
  const double lp = ce.forward(g.forward_from(l, x, earlier), labels);
  xm.assign(a_out);
  xm.vec() += minus.vec();
  earlier[size_t(producer)] = &xm;
  const double lm = ce.forward(g.forward_from(l, x, earlier), labels);
  CHECK(std::fabs((lp - lm) / (2.0 * h) - analytic) > 1e-3 * std::fabs(analytic) + 1e-6);
  // The first layer's captured gradient is the network input's.
  const Tensor& gx = g.input_gradient(0);
  REQUIRE(gx.dims() == x.dims());
  Tensor ux(x.dims()), xplus, xminus;
  for (std::int64_t i = 0; i < ux.size(); ++i) ux[i] = nd(rng);
  double an_x = 0;
  for (std::int64_t i = 0; i < ux.size(); ++i) an_x += double(ux[i]) * gx[i];
  xplus.assign(x);
  xplus.vec() += h * ux.vec();
  xminus.assign(x);
  xminus.vec() -= h * ux.vec();
  const double fd_x = (ce.forward(g.forward(xplus), labels) - ce.forward(g.forward(xminus), labels)) / (2.0 * h);
  CHECK(fd_x == Approx(an_x).epsilon(1e-3));
}

TEST_CASE("output divergence: KL of softmax outputs and mean squared difference, by hand", "[model][sensitivity]") {
  Tensor ref(Dims{2, 2, 1, 1}), y(Dims{2, 2, 1, 1});
  // Sample 0: ref logits (0, 0) -> p = (0.5, 0.5); y logits (ln 3, 0) -> q = (0.75, 0.25).
  // KL = 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25) = 0.5 ln(4/3) = 0.143841.
  // Sample 1: identical logits -> 0.
  ref[0] = 0, ref[1] = 0, ref[2] = 1.5f, ref[3] = -2;
  y[0] = float(std::log(3.0)), y[1] = 0, y[2] = 1.5f, y[3] = -2;
  CHECK(output_divergence(y, ref, 2, false) == Approx(0.5 * std::log(4.0 / 3.0) / 2).epsilon(1e-6));
  CHECK(output_divergence(ref, ref, 2, false) == Approx(0.0).margin(1e-12));
  // Regression: mean of squared differences over the 4 outputs.
  CHECK(output_divergence(y, ref, 2, true) == Approx(std::log(3.0) * std::log(3.0) / 4).epsilon(1e-6));
}

namespace {

Network net_from_layers(const std::string& input, const std::string& layers) {
  Scenario sc = test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "s",
    "hardware": {"clock_mhz": 100, "pe_array": {"rows": 4, "cols": 4, "mac": {"style": "bit_parallel"}},
      "buffers": {"weight": {"size_kib": 8}, "input": {"size_kib": 8}, "output": {"size_kib": 8}},
      "dram": {"bandwidth_gbps": 1}},
    "network": {"name": "n", "input": )" + input + R"(, "layers": )" + layers + "}}");
  return sc.net;
}

// Tr(H_W_l) / n_l of the mean loss over `data` by central differences of the gradient, one
// weight coordinate at a time (the reference for the Gauss-Newton traces).
std::vector<double> fd_hessian_trace(Graph& g, const std::vector<Batch>& data, bool regression, float h) {
  const std::int64_t N = [&] {
    std::int64_t n = 0;
    for (const Batch& b : data) n += b.size;
    return n;
  }();
  g.set_training(false);
  SoftmaxCrossEntropy ce;
  MseLoss mse;
  Tensor dy, t;
  auto grad = [&](Param* p, std::int64_t e) {
    g.zero_grad();
    for (const Batch& b : data) {
      const Tensor& y = g.forward(b.x);
      const double scale = double(b.size) / double(N);
      if (regression) {
        t.resize(y.dims());
        std::copy(b.targets.begin(), b.targets.end(), t.data());
        mse.forward(y, t);
        mse.backward(dy, scale);
      } else {
        ce.forward(y, b.labels);
        ce.backward(dy, scale);
      }
      g.backward(dy);
    }
    return double(p->grad[e]);
  };
  std::vector<double> tr(size_t(g.layer_count()), 0.0), n(size_t(g.layer_count()), 0.0);
  std::vector<Param*> ps = g.params();
  const std::vector<int>& owner = g.param_layers();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i]->role != ParamRole::Weight && ps[i]->role != ParamRole::RecurrentWeight) continue;
    for (std::int64_t e = 0; e < ps[i]->value.size(); ++e) {
      const float w0 = ps[i]->value[e];
      ps[i]->value[e] = w0 + h;
      const double gp = grad(ps[i], e);
      ps[i]->value[e] = w0 - h;
      const double gm = grad(ps[i], e);
      ps[i]->value[e] = w0;
      tr[size_t(owner[i])] += (gp - gm) / (2.0 * double(h));
      n[size_t(owner[i])] += 1;
    }
  }
  for (std::size_t l = 0; l < tr.size(); ++l)
    if (n[l] > 0) tr[l] /= n[l];
  return tr;
}

}  // namespace

TEST_CASE("Gauss-Newton traces of a linear MSE model equal the closed-form Hessian traces", "[model][sensitivity]") {
  // Loss = mean over N x O outputs of (W x + b - t)^2: quadratic, so G = H exactly. Weights:
  // sum_s 2 |x_s|^2 / (N O) per output row, / (O F) per weight; inputs: 2 tr(W^T W) / (O F).
  const int F = 3, O = 4, N = 6;
  Network net = linear_net(F, O);
  Graph g(net);
  const std::vector<float> w{0.5f, 0.2f, 0, 0, -1.5f, 0, 0.3f, 0, 2.0f, 0, 0, -0.4f};  // O x F
  set_weights(g, w, {0.1f, -0.2f, 0.3f, 0.0f});
  std::vector<float> x(N * F), t(N * O);
  for (int i = 0; i < N * F; ++i) x[i] = 0.1f * float((i * 7) % 11) - 0.5f;
  for (int i = 0; i < N * O; ++i) t[i] = 0.05f * float(i % 3);
  MemorySource src(g.input_dims(1), x, {}, t, 1, false);
  const std::vector<Batch> data = take_batches(src, N, 4);
  SensitivityOptions opt;
  const HessianTraces tr = ggn_traces(g, data, true, opt);
  double xx = 0, ww = 0;
  for (float v : x) xx += double(v) * double(v);
  for (float v : w) ww += double(v) * double(v);
  CHECK(tr.weight[0] == Approx(2.0 * xx / N / (O * F)).epsilon(1e-5));
  CHECK(tr.activation[0] == Approx(2.0 * ww / (O * F)).epsilon(1e-5));
  CHECK(fd_hessian_trace(g, data, true, 1e-2f)[0] == Approx(tr.weight[0]).epsilon(1e-3));
}

TEST_CASE("Gauss-Newton traces of a ReLU classifier equal its Hessian traces by finite differences", "[model][sensitivity]") {
  // Softmax cross-entropy after linear and ReLU layers: the network is piecewise linear, so
  // away from kinks the loss's Hessian is J^T H_out J exactly.
  const int F = 4, N = 10;
  Network net = net_from_layers(R"({"frames": 1, "features": 4})",
                                R"([{"name": "fc1", "kind": "linear", "out_features": 6, "relu": true},
                                    {"name": "fc2", "kind": "linear", "out_features": 3}])");
  Graph g(net);
  std::mt19937_64 rng(7);
  g.init(rng);
  std::vector<float> x(N * F);
  std::vector<int> labels(N);
  for (int i = 0; i < N * F; ++i) x[i] = 0.37f * float((i * 13) % 17) / 17.0f * 4 - 0.7f;
  for (int i = 0; i < N; ++i) labels[i] = (i * 5) % 3;
  MemorySource src(g.input_dims(1), x, labels, {}, 1, false);
  const std::vector<Batch> data = take_batches(src, N, 4);
  SensitivityOptions opt;
  const HessianTraces tr = ggn_traces(g, data, false, opt);
  const std::vector<double> fd = fd_hessian_trace(g, data, false, 1e-3f);
  REQUIRE(tr.weight.size() == 2);
  for (int l = 0; l < 2; ++l) {
    CHECK(tr.weight[size_t(l)] > 0);
    CHECK(std::fabs(fd[size_t(l)] - tr.weight[size_t(l)]) <= 0.02 * tr.weight[size_t(l)]);  // relative error bound
  }
  // Deterministic, and the same whatever the thread count.
  opt.threads = 3;
  const HessianTraces tr3 = ggn_traces(g, data, false, opt);
  CHECK(tr3.weight == tr.weight);
  CHECK(tr3.activation == tr.activation);
}

TEST_CASE("Gauss-Newton traces of a CNN-LSTM are non-negative and thread-independent", "[model][sensitivity]") {
  const int T = 3, F = 2, N = 5;
  Network net = net_from_layers(R"({"frames": 3, "channels": 2, "height": 1, "width": 1})",
                                R"([{"name": "conv", "kind": "conv2d", "out_channels": 4, "kernel": 1, "relu": true},
                                    {"name": "seq", "kind": "frames_to_sequence"},
                                    {"name": "lstm", "kind": "lstm", "hidden": 5},
                                    {"name": "head", "kind": "linear", "out_features": 3}])");
  Graph g(net);
  std::mt19937_64 rng(11);
  g.init(rng);
  std::vector<float> x(N * T * F);
  std::vector<int> labels(N);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * float((i * 7) % 13) - 0.6f;
  for (int i = 0; i < N; ++i) labels[i] = i % 3;
  MemorySource src(g.input_dims(1), x, labels, {}, 1, false);
  const std::vector<Batch> data = take_batches(src, N, 2);
  SensitivityOptions opt;
  const HessianTraces tr = ggn_traces(g, data, false, opt);
  int positive = 0;
  for (std::size_t l = 0; l < tr.weight.size(); ++l) {
    CHECK(tr.weight[l] >= 0);
    CHECK(tr.activation[l] >= 0);
    positive += tr.weight[l] > 0;
  }
  CHECK(positive == 3);  // conv, lstm, head
  opt.threads = 2;
  const HessianTraces tr2 = ggn_traces(g, data, false, opt);
  CHECK(tr2.weight == tr.weight);
  CHECK(tr2.activation == tr.activation);
}

TEST_CASE("search.sensitivity accepts ggn and names the pointer, expected and found otherwise", "[model][sensitivity][scenario]") {
  const std::string dir = test::temp_dir("sens_method");
  const Scenario sc = load_scenario(test::write_default_scenario_with(dir + "/ggn.json", R"({"search": {"sensitivity": "ggn"}})"));
  CHECK(sc.search.sensitivity == "ggn");
  const std::string bad = test::write_default_scenario_with(dir + "/bad.json", R"({"search": {"sensitivity": "fisher"}})");
  try {
    load_scenario(bad);
    FAIL("a bad sensitivity method loads");
  } catch (const SpecError& e) {
    const std::string what = e.what();
    CHECK(what.find("/search/sensitivity") != std::string::npos);
    CHECK(what.find("ggn") != std::string::npos);
    CHECK(what.find("fisher") != std::string::npos);
  }
}
