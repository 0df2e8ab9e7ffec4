// The graph builder: core's Network -> trainable layers, parameter names, fan-out gradient sums,
// a whole-network gradient check on a tiny ResNet + BiLSTM, and QAT graphs.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <set>

#include "core/scenario.hpp"
#include "gradcheck.hpp"
#include "model/graph.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::model;

namespace {

// The default scenario's template shrunk: 2 stages (one with a downsample), 1 block each,
// 3 frames of 2 x 8 x 8, a 2-layer BiLSTM with 3 hidden units, 3 classes.
Scenario tiny_scenario(const std::string& precision_default = R"({"format": "fp32", "weights": null, "activations": null})") {
  return test::default_scenario_with(R"({
    "network": {"batch": 2, "input": {"frames": 3, "channels": 2, "height": 8, "width": 8},
                "cnn": {"stage_widths": [4, 8], "stage_strides": [1, 2], "blocks_per_stage": 1},
                "lstm": {"hidden": 3, "layers": 2, "bidirectional": true}, "classes": 3},
    "precision": {"default": )" + precision_default + R"(, "layers": []}})");
}

struct Selected {
  Param* p;
  std::int64_t index;
};

}  // namespace

TEST_CASE("graph: layers and parameter names follow core's network", "[model][graph]") {
  const Scenario sc = tiny_scenario();
  Graph g(sc.net);
  CHECK(g.layer_count() == int(sc.net.layers.size()));
  std::set<std::string> names;
  const auto& layers = g.param_layers();
  const auto params = g.params();
  REQUIRE(layers.size() == params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string& layer = sc.net.layers[size_t(layers[i])].name;
    // "<core layer name>.<local>"
    CHECK(params[i]->name.compare(0, layer.size() + 1, layer + ".") == 0);
    names.insert(params[i]->name);
  }
  CHECK(names.size() == params.size());
  for (const char* n : {"cnn.stem.weight", "cnn.stem.bn.gamma", "cnn.stage2.block0.downsample.weight",
                        "lstm.l0.weight_ih", "lstm.l1.weight_hh_reverse", "head.weight", "head.bias"})
    CHECK(names.count(n) == 1);
  std::set<std::string> buffers;
  for (Buffer* b : g.buffers()) buffers.insert(b->name);
  CHECK(buffers.count("cnn.stage1.block0.conv1.bn.running_mean") == 1);
  // Shapes: input (batch*frames, c, h, w); output (batch, classes).
  CHECK(g.input_dims(2) == Dims{6, 2, 8, 8});
  Tensor x(g.input_dims(2));
  std::mt19937_64 rng(1);
  g.init(rng);
  testing::fill_uniform(x, -1, 1, rng);
  const Tensor& y = g.forward(x);
  CHECK(y.dims() == Dims{2, 3, 1, 1});
}

TEST_CASE("graph: whole-network gradient check on a tiny ResNet + BiLSTM from core",
          "[model][graph]") {
  const Scenario sc = tiny_scenario();
  Graph g(sc.net);
  std::mt19937_64 rng(2);
  g.init(rng);
  Tensor x(g.input_dims(2));
  testing::fill_uniform(x, -1, 1, rng);
  Tensor r(2, 3);
  testing::fill_uniform(r, -1, 1, rng);
  const auto loss = [&]() {
    const Tensor& y = g.forward(x);
    double s = 0;
    for (std::int64_t i = 0; i < y.size(); ++i) s += double(r[i]) * y[i];
    return s;
  };
  loss();
  g.zero_grad();
  g.backward(r);
  // Up to 10 elements of every parameter tensor (first, last and random ones).
  std::vector<Selected> sel;
  for (Param* p : g.params()) {
    const std::int64_t n = p->value.size();
    std::set<std::int64_t> idx{0, n - 1};
    while (std::int64_t(idx.size()) < std::min<std::int64_t>(10, n)) idx.insert(std::int64_t(rng() % std::uint64_t(n)));
    for (std::int64_t i : idx) sel.push_back({p, i});
  }
  double diff2 = 0, an2 = 0;
  int bad = 0;
  const double eps = 3e-3;
  for (const Selected& s : sel) {
    float& v = s.p->value[s.index];
    const float saved = v;
    v = float(saved + eps);
    const double lp = loss();
    v = float(saved - eps);
    const double lm = loss();
    v = saved;
    const double fd = (lp - lm) / (2 * eps);
    const double an = s.p->grad[s.index];
    diff2 += (fd - an) * (fd - an);
    an2 += an * an;
    if (std::abs(fd - an) > 2e-3 + 2e-2 * std::max(std::abs(fd), std::abs(an))) {
      ++bad;
      WARN(s.p->name << "[" << s.index << "]: fd " << fd << " analytic " << an);
    }
  }
  CHECK(sel.size() > 200);
  CHECK(bad == 0);
  CHECK(std::sqrt(diff2 / an2) < 1e-2);
}

TEST_CASE("graph: a fan-out activation receives the sum of its consumers' gradients",
          "[model][graph]") {
  // Explicit layers: conv a feeds conv b and the add; add = b(a) + a.
  const Scenario sc = test::default_scenario_with(R"({
    "network": {"template": null, "batch": 1, "input": {"frames": 1, "channels": 1, "height": 4, "width": 4},
                "cnn": null, "lstm": null, "classes": null,
                "layers": [
                  {"name": "a", "kind": "conv2d", "out_channels": 2, "kernel": 3, "padding": 1},
                  {"name": "b", "kind": "conv2d", "out_channels": 2, "kernel": 3, "padding": 1},
                  {"name": "sum", "kind": "add", "inputs": ["b", "a"]},
                  {"name": "pool", "kind": "pool", "pool": "global_avg"},
                  {"name": "head", "kind": "linear", "out_features": 2}]},
    "precision": {"default": {"format": "fp32", "weights": null, "activations": null}, "layers": []},
    "search": {"fixed_layers": []}})");
  Graph g(sc.net);
  std::mt19937_64 rng(3);
  g.init(rng);
  Tensor x(g.input_dims(1));
  testing::fill_uniform(x, -1, 1, rng);
  Tensor r(1, 2);
  r[0] = 1.0f;
  r[1] = -0.5f;
  const auto loss = [&]() {
    const Tensor& y = g.forward(x);
    return double(r[0]) * y[0] + double(r[1]) * y[1];
  };
  loss();
  g.zero_grad();
  g.backward(r);
  Param* wa = g.params()[0];
  REQUIRE(wa->name == "a.weight");
  std::vector<double> an(wa->grad.data(), wa->grad.data() + wa->grad.size());
  const auto res = testing::check_gradient("a.weight", wa->value.data(), wa->value.size(), an, loss);
  INFO(res.str());
  CHECK(res.ok);
}

TEST_CASE("graph: QAT graph uses master weights, 16-bit QAT stays close to fp32",
          "[model][graph]") {
  const Scenario fp = tiny_scenario();
  const Scenario q16 = tiny_scenario(R"({"format": "int", "weights": 16, "activations": 16,
                                         "cell_state": 16, "gates": 16})");
  Graph a(fp.net), b(q16.net, q16.layer_precision);
  std::mt19937_64 r1(4), r2(4);
  a.init(r1);
  b.init(r2);
  const auto pa = a.params(), pb = b.params();
  // Same parameter order for the fp32 parameters; QAT adds no trainable step (running ranges).
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    CHECK(pa[i]->name == pb[i]->name);
    CHECK(pa[i]->value.vec() == pb[i]->value.vec());
  }
  std::set<std::string> bufs;
  for (Buffer* buf : b.buffers()) bufs.insert(buf->name);
  CHECK(bufs.count("cnn.stage1.block0.conv1.input_range") == 1);
  CHECK(bufs.count("lstm.l0.cell_range_reverse") == 1);
  Tensor x(a.input_dims(2));
  testing::fill_uniform(x, -1, 1, r1);
  const Tensor ya = a.forward(x);
  b.forward(x);  // initializes the cell-state ranges
  const Tensor yb = b.forward(x);
  for (std::int64_t i = 0; i < ya.size(); ++i) CHECK(yb[i] == Approx(ya[i]).margin(5e-3));
  // LSQ adds one step per quantized input and one per output channel of each weight.
  GraphOptions lsq;
  lsq.range = RangeMethod::Lsq;
  Graph c(q16.net, q16.layer_precision, lsq);
  std::set<std::string> names;
  for (Param* p : c.params()) names.insert(p->name);
  CHECK(names.count("cnn.stem.input_step") == 1);
  CHECK(names.count("cnn.stem.weight_step") == 1);
  CHECK(names.count("lstm.l1.weight_hh_step_reverse") == 1);
}

TEST_CASE("graph: non-finite outputs are located by layer", "[model][graph]") {
  const Scenario sc = tiny_scenario();
  Graph g(sc.net);
  std::mt19937_64 rng(5);
  g.init(rng);
  Tensor x(g.input_dims(2));
  testing::fill_uniform(x, -1, 1, rng);
  g.forward(x);
  CHECK(g.first_nonfinite_output() == -1);
  const int k = sc.net.find("cnn.stage2.block0.conv2");
  for (Param* p : g.params())
    if (p->name == "cnn.stage2.block0.conv2.weight") p->value[3] = std::nanf("");
  g.forward(x);
  CHECK(g.first_nonfinite_output() == k);
}

TEST_CASE("graph: evaluation folds BatchNorm into the convolution, up to float rounding",
          "[model][graph]") {
  const Scenario sc = tiny_scenario();
  GraphOptions unfolded;
  unfolded.fold_batchnorm = false;
  Graph a(sc.net), b(sc.net, {}, unfolded);
  std::mt19937_64 r1(6), r2(6);
  a.init(r1);
  b.init(r2);
  Tensor x(a.input_dims(2));
  testing::fill_uniform(x, -1, 1, r1);
  for (int i = 0; i < 3; ++i) {  // training forwards: non-trivial running statistics
    a.forward(x);
    b.forward(x);
  }
  a.set_training(false);
  b.set_training(false);
  const Tensor ya = a.forward(x), yb = b.forward(x);
  for (std::int64_t i = 0; i < ya.size(); ++i) CHECK(ya[i] == Approx(yb[i]).epsilon(1e-4).margin(1e-5));
  // The folded path cannot be differentiated; the unfolded one can.
  Tensor dy(ya.dims());
  dy.fill(1.0f);
  CHECK_THROWS_AS(a.backward(dy), InternalError);
  CHECK_NOTHROW(b.backward(dy));
}
