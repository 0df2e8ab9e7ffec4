// Behaviour of the tensor and the layers beyond their gradients: shapes, names, statistics,
// hand-computed values, API contracts.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "model/model.hpp"

using namespace mixprec::model;
using mixprec::InternalError;

namespace {
Tensor random_tensor(Dims d, std::uint64_t seed) {
  Tensor t(d);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < t.size(); ++i) t[i] = u(rng);
  return t;
}
}  // namespace

TEST_CASE("tensor: layout, views, resize", "[model][tensor]") {
  Tensor t(2, 3, 4, 5);
  CHECK(t.size() == 120);
  t.at(1, 2, 3, 4) = 7.0f;
  CHECK(t[119] == 7.0f);
  t.at(0, 1, 0, 2) = 3.0f;
  CHECK(t[1 * 20 + 2] == 3.0f);

  Tensor s = Tensor::sequence(2, 3, 4);
  CHECK(s.dims() == Dims{2, 3, 4, 1});
  CHECK(s.batch() == 2);
  CHECK(s.steps() == 3);
  CHECK(s.features() == 4);
  s.seq(1, 2, 3) = 1.0f;
  CHECK(s[(1 * 3 + 2) * 4 + 3] == 1.0f);

  // A (batch*frames, c, 1, 1) CNN output is a (batch, frames, c) sequence without copying.
  Tensor frames(6, 5, 1, 1);
  frames.at(4, 3, 0, 0) = 2.0f;
  frames.reshape({2, 3, 5, 1});
  CHECK(frames.seq(1, 1, 3) == 2.0f);
  CHECK_THROWS_AS(frames.reshape({2, 3, 4, 1}), InternalError);

  const float* before = t.data();
  t.resize(1, 3, 4, 5);  // smaller: keeps the buffer
  CHECK(t.data() == before);
  CHECK(t.matrix(12, 5).rows() == 12);
  CHECK_THROWS_AS(t.matrix(7, 7), InternalError);

  mixprec::Shape img;
  img.n = 8;
  img.c = 3;
  img.h = 4;
  img.w = 4;
  CHECK(dims_of(img) == Dims{8, 3, 4, 4});
  mixprec::Shape seq;
  seq.n = 2;
  seq.t = 5;
  seq.c = 16;
  CHECK(dims_of(seq) == Dims{2, 5, 16, 1});
}

TEST_CASE("layers: names, roles and shapes for a network graph", "[model][layers]") {
  Conv2d conv("cnn.stage1.block0.conv1", {16, 32, 3, 3, 2, 1, 1, false});
  CHECK(conv.name() == "cnn.stage1.block0.conv1");
  CHECK(std::string(conv.kind()) == "conv2d");
  REQUIRE(conv.params().size() == 1);
  CHECK(conv.params()[0]->name == "cnn.stage1.block0.conv1.weight");
  CHECK(conv.params()[0]->role == ParamRole::Weight);
  CHECK(conv.weight().value.dims() == Dims{32, 16, 3, 3});
  CHECK(conv.output_dims({4, 16, 16, 16}) == Dims{4, 32, 8, 8});
  CHECK_THROWS_AS(conv.output_dims({4, 8, 16, 16}), InternalError);

  Lstm lstm("lstm.l0", {64, 32, true, true, true});
  std::vector<std::string> names;
  for (Param* p : lstm.params()) names.push_back(p->name);
  CHECK(names == std::vector<std::string>{"lstm.l0.weight_ih", "lstm.l0.weight_hh", "lstm.l0.bias",
                                          "lstm.l0.weight_ih_reverse", "lstm.l0.weight_hh_reverse",
                                          "lstm.l0.bias_reverse"});
  CHECK(lstm.params()[1]->role == ParamRole::RecurrentWeight);
  CHECK(lstm.output_dims({4, 8, 64, 1}) == Dims{4, 8, 64, 1});
  Lstm last("lstm.l1", {64, 32, true, false, true});
  CHECK(last.output_dims({4, 8, 64, 1}) == Dims{4, 64, 1, 1});

  CHECK(last.output_dims({4, 64, 1, 1}) == Dims{4, 64, 1, 1});  // one step
  CHECK_THROWS_AS(last.output_dims({4, 8, 16, 2}), InternalError);

  Linear head("head", {64, 5, true});
  CHECK(head.output_dims({4, 64, 1, 1}) == Dims{4, 5, 1, 1});
  CHECK(head.output_dims({4, 16, 2, 2}) == Dims{4, 5, 1, 1});  // flattened
  CHECK(head.output_dims({4, 7, 64, 1}) == Dims{4, 7, 5, 1});  // per step
  CHECK_THROWS_AS(head.output_dims({4, 4, 32, 1}), InternalError);
  CHECK(head.params()[1]->name == "head.bias");
  CHECK_FALSE(head.params()[1]->decay);

  BatchNorm2d bn("cnn.stem.bn", {8, 1e-5, 0.1});
  CHECK(bn.buffers()[0]->name == "cnn.stem.bn.running_mean");
  CHECK(bn.params()[0]->role == ParamRole::NormScale);

  Add add("cnn.stage1.block0.add");
  CHECK(add.arity() == 2);
  MaxPool2d mp("cnn.stem.pool", {3, 2, 1});
  CHECK(mp.output_dims({2, 8, 16, 16}) == Dims{2, 8, 8, 8});
  GlobalAvgPool gap("cnn.pool");
  CHECK(gap.output_dims({2, 8, 4, 4}) == Dims{2, 8, 1, 1});
}

TEST_CASE("layers: parameter grads accumulate, input grads are overwritten", "[model][layers]") {
  Linear lin("fc", {3, 2, true});
  std::mt19937_64 rng(1);
  lin.init(rng);
  const Tensor x = random_tensor({4, 3, 1, 1}, 2);
  Tensor y, dx;
  lin.forward(x, y);
  const Tensor dy = random_tensor(y.dims(), 3);
  lin.zero_grad();
  lin.backward(dy, dx);
  const Eigen::VectorXf g1 = lin.weight().grad.vec();
  const Eigen::VectorXf dx1 = dx.vec();
  lin.backward(dy, dx);
  CHECK(lin.weight().grad.vec().isApprox(2.0f * g1));
  CHECK(dx.vec() == dx1);
  lin.backward(dy, nullptr);  // no input gradient wanted
  CHECK(lin.weight().grad.vec().isApprox(3.0f * g1));
  lin.zero_grad();
  CHECK(lin.weight().grad.vec().isZero());
}

TEST_CASE("layers: backward rejects a dy of the wrong shape", "[model][layers]") {
  Conv2d conv("conv", {2, 2, 3, 3, 1, 1, 1, true});
  Tensor y, dx;
  conv.forward(random_tensor({1, 2, 4, 4}, 1), y);
  CHECK_THROWS_AS(conv.backward(Tensor(1, 2, 3, 3), dx), InternalError);
}

TEST_CASE("BatchNorm2d: normalizes, tracks running statistics, evaluates with them",
          "[model][layers]") {
  BatchNorm2d bn("bn", {2, 1e-5, 0.1});
  Tensor x(4, 2, 3, 3);
  std::mt19937_64 rng(4);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int n = 0; n < 4; ++n)
    for (int i = 0; i < 9; ++i) {
      x.at(n, 0, i / 3, i % 3) = 3.0f + 2.0f * nd(rng);
      x.at(n, 1, i / 3, i % 3) = -1.0f + 0.5f * nd(rng);
    }
  Tensor y;
  bn.forward(x, y);
  for (int c = 0; c < 2; ++c) {
    double sum = 0, sq = 0, xs = 0, xsq = 0;
    for (int n = 0; n < 4; ++n)
      for (int i = 0; i < 9; ++i) {
        const double v = y.at(n, c, i / 3, i % 3), u = x.at(n, c, i / 3, i % 3);
        sum += v;
        sq += v * v;
        xs += u;
        xsq += u * u;
      }
    CHECK(sum / 36 == Approx(0.0).margin(1e-5));
    CHECK(sq / 36 == Approx(1.0).epsilon(1e-3));
    const double mean = xs / 36, var_unbiased = (xsq - 36 * mean * mean) / 35;
    CHECK(bn.running_mean()[c] == Approx(0.1 * mean).epsilon(1e-4));
    CHECK(bn.running_var()[c] == Approx(0.9 + 0.1 * var_unbiased).epsilon(1e-4));
  }
  bn.set_training(false);
  const Tensor mean_before = [&] {
    Tensor t;
    t.assign(bn.running_mean());
    return t;
  }();
  bn.forward(x, y);
  CHECK(bn.running_mean().vec() == mean_before.vec());  // evaluation does not update
  const double expect = (x[0] - bn.running_mean()[0]) / std::sqrt(bn.running_var()[0] + 1e-5);
  CHECK(y[0] == Approx(expect).epsilon(1e-5));
}

TEST_CASE("pooling: values by hand", "[model][layers]") {
  Tensor x(1, 1, 4, 4);
  for (int i = 0; i < 16; ++i) x[i] = float(i);  // row-major 0..15
  Tensor y;
  MaxPool2d mp("mp", {2, 2, 0});
  mp.forward(x, y);
  CHECK(y.dims() == Dims{1, 1, 2, 2});
  CHECK(std::vector<float>(y.data(), y.data() + 4) == std::vector<float>{5, 7, 13, 15});
  Tensor dx;
  mp.backward(Tensor(Dims{1, 1, 2, 2}), dx);
  AvgPool2d ap("ap", {2, 2, 0});
  ap.forward(x, y);
  CHECK(std::vector<float>(y.data(), y.data() + 4) == std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f});
  // Padding: avg counts padded zeros, max ignores them.
  AvgPool2d app("app", {3, 2, 1});
  app.forward(x, y);
  CHECK(y[0] == Approx((0 + 1 + 4 + 5) / 9.0));
  MaxPool2d mpp("mpp", {3, 2, 1});
  mpp.forward(x, y);
  CHECK(y[0] == 5.0f);
  GlobalAvgPool gap("gap");
  gap.forward(x, y);
  CHECK(y[0] == Approx(7.5f));
}

TEST_CASE("Dropout: seeded masks, scaling, identity in evaluation", "[model][layers]") {
  Tensor x(1, 100000);
  x.fill(1.0f);
  Dropout drop("drop", 0.25, 11);
  Tensor y1, y2;
  drop.forward(x, y1);
  int zeros = 0, wrong_scale = 0;
  double sum = 0;
  for (std::int64_t i = 0; i < y1.size(); ++i) {
    if (y1[i] == 0.0f)
      ++zeros;
    else if (y1[i] != float(1.0 / 0.75))
      ++wrong_scale;
    sum += y1[i];
  }
  CHECK(wrong_scale == 0);
  CHECK(zeros / 100000.0 == Approx(0.25).margin(0.01));
  CHECK(sum / 100000.0 == Approx(1.0).margin(0.01));  // expectation preserved
  drop.forward(x, y2);
  CHECK(y1.vec() != y2.vec());  // a fresh mask per forward
  drop.reseed(11);
  drop.forward(x, y2);
  CHECK(y1.vec() == y2.vec());  // same seed, same mask
  Tensor dx;
  drop.backward(x, dx);
  CHECK(dx.vec() == y1.vec());
  drop.set_training(false);
  drop.forward(x, y2);
  CHECK(y2.vec() == x.vec());
}

TEST_CASE("Add: sum and in-place use", "[model][layers]") {
  Add add("add");
  Tensor a = random_tensor({2, 3, 2, 2}, 1), b = random_tensor({2, 3, 2, 2}, 2), y;
  add.forward({&a, &b}, y);
  CHECK(y.vec().isApprox(a.vec() + b.vec()));
  const Eigen::VectorXf expect = a.vec() + b.vec();
  add.forward({&a, &b}, a);  // y may alias an input (residual in place)
  CHECK(a.vec().isApprox(expect));
  Tensor da, db;
  add.backward(b, {&da, &db});
  CHECK(da.vec() == b.vec());
  CHECK(db.vec() == b.vec());
  Tensor c(2, 3, 2, 1);
  CHECK_THROWS_AS(add.forward({&a, &c}, y), InternalError);
}

TEST_CASE("Lstm: last step equals the matching step of the whole sequence", "[model][layers]") {
  Lstm seq("l", {3, 4, true, true, true}), last("l", {3, 4, true, false, true});
  std::mt19937_64 r1(5), r2(5);
  seq.init(r1);
  last.init(r2);
  const Tensor x = random_tensor({2, 5, 3, 1}, 6);
  Tensor ys, yl;
  seq.forward(x, ys);
  last.forward(x, yl);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 4; ++j) {
      CHECK(yl[b * 8 + j] == ys.seq(b, 4, j));          // forward direction: step T-1
      CHECK(yl[b * 8 + 4 + j] == ys.seq(b, 0, 4 + j));  // reverse direction: step 0
    }
}

TEST_CASE("losses: values by hand", "[model][loss]") {
  SoftmaxCrossEntropy ce;
  Tensor logits(2, 4);  // all zero: every class 1/4
  CHECK(ce.forward(logits, {0, 3}) == Approx(std::log(4.0)));
  logits.at(0, 2, 0, 0) = 1000.0f;  // stable for huge logits
  logits.at(1, 1, 0, 0) = 5.0f;
  const double l = ce.forward(logits, {2, 0});
  CHECK(std::isfinite(l));
  CHECK(l == Approx((0.0 + (std::log(std::exp(5.0) + 3.0) - 0.0)) / 2).epsilon(1e-6));
  CHECK(ce.correct() == 1);
  CHECK_THROWS_AS(ce.forward(logits, {0, 4}), InternalError);

  MseLoss mse;
  Tensor p(1, 3), t(1, 3);
  p.vec() << 1.0f, 2.0f, 3.0f;
  t.vec() << 1.0f, 0.0f, 0.0f;
  CHECK(mse.forward(p, t) == Approx((0.0 + 4.0 + 9.0) / 3.0));
}

TEST_CASE("Sequential: chains layers, collects parameters, propagates mode", "[model][layers]") {
  Sequential net("cnn");
  net.emplace<Conv2d>("cnn.conv", Conv2dOptions{1, 2, 3, 3, 1, 1, 1, false});
  auto& bn = net.emplace<BatchNorm2d>("cnn.bn", BatchNorm2dOptions{2, 1e-5, 0.1});
  net.emplace<ReLU>("cnn.relu");
  net.emplace<Dropout>("cnn.drop", 0.5, 3);
  CHECK(net.params().size() == 3);
  CHECK(net.buffers().size() == 2);
  CHECK(net.output_dims({2, 1, 4, 4}) == Dims{2, 2, 4, 4});
  net.set_training(false);
  CHECK_FALSE(bn.training());
  CHECK_THROWS_AS(net.add(std::make_unique<Add>("cnn.add")), InternalError);
}
