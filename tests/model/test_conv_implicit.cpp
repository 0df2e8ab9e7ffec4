// The implicit-GEMM convolution path (same padding, stride 1, large maps) against the scalar
// reference convolution, and its gradients by finite differences.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "gradcheck.hpp"
#include "model/conv2d.hpp"
#include "model/conv_implicit.hpp"
#include "model/reference.hpp"

using namespace mixprec::model;

TEST_CASE("implicit conv: chosen only for same-padded stride-1 convolutions on large maps",
          "[model][conv_implicit]") {
  CHECK(ImplicitConv::applies(Conv2dOptions{4, 4, 3, 3, 1, 1, 1, false}, Dims{2, 4, 16, 16}));
  CHECK(ImplicitConv::applies(Conv2dOptions{4, 4, 5, 5, 1, 2, 1, false}, Dims{2, 4, 32, 32}));
  CHECK_FALSE(ImplicitConv::applies(Conv2dOptions{4, 4, 3, 3, 2, 1, 1, false}, Dims{2, 4, 16, 16}));
  CHECK_FALSE(ImplicitConv::applies(Conv2dOptions{4, 4, 3, 3, 1, 0, 1, false}, Dims{2, 4, 16, 16}));
  CHECK_FALSE(ImplicitConv::applies(Conv2dOptions{4, 4, 3, 3, 1, 1, 2, false}, Dims{2, 4, 16, 16}));
  CHECK_FALSE(ImplicitConv::applies(Conv2dOptions{4, 4, 3, 3, 1, 1, 1, false}, Dims{2, 4, 4, 4}));
}

TEST_CASE("implicit conv: forward and backward match the reference and finite differences",
          "[model][conv_implicit]") {
  std::mt19937_64 rng(1);
  for (const auto& c : std::vector<std::pair<Conv2dOptions, Dims>>{
           {{3, 5, 3, 3, 1, 1, 1, true}, {3, 3, 16, 15}},
           {{2, 3, 5, 5, 1, 2, 1, false}, {1, 2, 32, 30}}}) {
    Conv2d conv("c", c.first);
    REQUIRE(ImplicitConv::applies(c.first, c.second));
    conv.init(rng);
    testing::fill_uniform(conv.bias().value, -1, 1, rng);
    Tensor x(c.second), y, ref;
    testing::fill_uniform(x, -1, 1, rng);
    conv.forward(x, y);
    reference::conv2d(x, conv.weight().value, c.first.bias ? &conv.bias().value : nullptr, c.first, ref);
    REQUIRE(y.dims() == ref.dims());
    double worst = 0;
    for (std::int64_t i = 0; i < y.size(); ++i)
      worst = std::max(worst, std::abs(double(y[i]) - ref[i]) / (1.0 + std::abs(double(ref[i]))));
    CHECK(worst < 1e-5);
    // Gradients w.r.t. input, weight and bias.
    std::vector<Tensor> inputs{x};
    for (const auto& r : testing::check_layer(conv, inputs)) {
      INFO(r.str());
      CHECK(r.ok);
    }
  }
}
