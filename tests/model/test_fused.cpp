// Fused BatchNormReLU / AddReLU against the unfused pairs: identical values and gradients.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "gradcheck.hpp"
#include "model/add.hpp"
#include "model/fused.hpp"
#include "model/relu.hpp"

using namespace mixprec::model;

TEST_CASE("fused: BatchNormReLU equals BatchNorm2d then ReLU", "[model][fused]") {
  std::mt19937_64 rng(1);
  for (bool training : {true, false}) {
    BatchNorm2d bn("x.bn", {3, 1e-5, 0.1});
    ReLU relu("x.relu");
    BatchNormReLU fused("x.bn", {3, 1e-5, 0.1});
    for (Layer* l : std::vector<Layer*>{&bn, &relu, &fused}) l->set_training(training);
    Tensor gb(3, 1), bb(3, 1);
    testing::fill_uniform(gb, 0.5f, 1.5f, rng);
    testing::fill_uniform(bb, -0.5f, 0.5f, rng);
    bn.gamma().value.assign(gb);
    bn.beta().value.assign(bb);
    fused.gamma().value.assign(gb);
    fused.beta().value.assign(bb);
    Tensor x(4, 3, 5, 7), dy(4, 3, 5, 7), t, y1, y2, dt, dx1, dx2;
    testing::fill_uniform(x, -2, 2, rng);
    testing::fill_uniform(dy, -1, 1, rng);
    bn.forward(x, t);
    relu.forward(t, y1);
    fused.forward(x, y2);
    CHECK(y1.vec() == y2.vec());
    relu.backward(dy, &dt);
    bn.backward(dt, &dx1);
    fused.backward(dy, &dx2);
    CHECK(dx1.vec() == dx2.vec());
    CHECK(bn.gamma().grad.vec() == fused.gamma().grad.vec());
    CHECK(bn.beta().grad.vec() == fused.beta().grad.vec());
    CHECK(bn.running_mean().vec() == fused.buffers()[0]->value.vec());
    CHECK(bn.running_var().vec() == fused.buffers()[1]->value.vec());
  }
  BatchNormReLU f("cnn.stem.bn", {2, 1e-5, 0.1});
  CHECK(f.params()[0]->name == "cnn.stem.bn.gamma");
  CHECK(f.buffers()[1]->name == "cnn.stem.bn.running_var");
  // Gradient check (inputs kept away from the ReLU's kink by the check's tolerance).
  std::vector<Tensor> inputs{Tensor(3, 2, 4, 4)};
  testing::fill_uniform(inputs[0], -1, 1, rng);
  testing::GradCheckOptions fine;
  fine.eps = 1e-3;  // small steps: a ReLU kink within eps of an output would spoil the difference
  for (const auto& r : testing::check_layer(f, inputs, {}, fine)) {
    INFO(r.str());
    CHECK(r.ok);
  }
}

TEST_CASE("fused: AddReLU equals Add then ReLU, and lets NaN through", "[model][fused]") {
  std::mt19937_64 rng(2);
  Tensor a(2, 3, 4, 4), b(2, 3, 4, 4), dy(2, 3, 4, 4), s, y1, y2, ds, da1, db1, da2, db2;
  testing::fill_uniform(a, -1, 1, rng);
  testing::fill_uniform(b, -1, 1, rng);
  testing::fill_uniform(dy, -1, 1, rng);
  Add add("r");
  ReLU relu("r.relu");
  AddReLU fused("r");
  add.forward({&a, &b}, s);
  relu.forward(s, y1);
  fused.forward({&a, &b}, y2);
  CHECK(y1.vec() == y2.vec());
  relu.backward(dy, &ds);
  add.backward(ds, {&da1, &db1});
  fused.backward(dy, {&da2, &db2});
  CHECK(da1.vec() == da2.vec());
  CHECK(db1.vec() == db2.vec());
  a[5] = std::nanf("");
  fused.forward({&a, &b}, y2);
  CHECK(std::isnan(y2[5]));
}
