// The fast layers against the scalar reference kernels in model/reference.*.
// Stated tolerance: |fast - reference| <= 1e-5 * (1 + |reference|) per element. The reference
// accumulates in double; the fast path's float GEMM over K <= 72 products of values <= 1 keeps
// its rounding error near K * 2^-24 ~ 5e-6 in the worst case and far less typically.
#include <catch2/catch.hpp>
#include <random>

#include "model/model.hpp"
#include "model/reference.hpp"

using namespace mixprec::model;

namespace {

constexpr double kTol = 1e-5;

Tensor random_tensor(Dims d, std::uint64_t seed) {
  Tensor t(d);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < t.size(); ++i) t[i] = u(rng);
  return t;
}

void randomize(Layer& layer, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (Param* p : layer.params())
    for (std::int64_t i = 0; i < p->value.size(); ++i) p->value[i] = u(rng);
}

double max_violation(const Tensor& fast, const Tensor& ref) {
  REQUIRE(fast.dims() == ref.dims());
  double worst = 0;
  for (std::int64_t i = 0; i < ref.size(); ++i) {
    const double err = std::abs(double(fast[i]) - ref[i]);
    worst = std::max(worst, err / (1.0 + std::abs(double(ref[i]))));
  }
  return worst;
}

}  // namespace

TEST_CASE("reference: Conv2d matches the scalar convolution", "[model][reference]") {
  struct Case {
    Conv2dOptions o;
    Dims in;
  };
  const std::vector<Case> cases{
      {{3, 5, 3, 3, 1, 1, 1, true}, {2, 3, 7, 6}},
      {{4, 6, 3, 3, 2, 1, 2, false}, {3, 4, 9, 9}},
      {{2, 3, 5, 3, 3, 2, 1, true}, {2, 2, 8, 7}},
      {{8, 8, 3, 3, 1, 1, 8, true}, {2, 8, 5, 5}},     // depthwise
      {{4, 4, 1, 1, 2, 0, 1, true}, {5, 4, 6, 6}},     // 1x1 stride 2 (ResNet downsample)
      {{3, 2, 7, 7, 2, 3, 1, false}, {1, 3, 10, 10}},  // ResNet stem shape
  };
  int idx = 0;
  for (const auto& c : cases) {
    for (std::int64_t budget : {std::int64_t(0), std::int64_t(1), std::int64_t(300)}) {
      DYNAMIC_SECTION("case " << idx << " col budget " << budget) {
        Conv2d conv("conv", c.o);
        if (budget > 0) conv.set_col_budget_floats(budget);
        randomize(conv, 100 + idx);
        const Tensor x = random_tensor(c.in, 200 + idx);
        Tensor y, ref;
        conv.forward(x, y);
        reference::conv2d(x, conv.weight().value, c.o.bias ? &conv.bias().value : nullptr, c.o,
                          ref);
        CHECK(max_violation(y, ref) <= kTol);
      }
    }
    ++idx;
  }
}

TEST_CASE("reference: a wrong convolution fails the comparison", "[model][reference]") {
  // The comparison is sensitive: swapping two kernel taps breaks it.
  const Conv2dOptions o{2, 2, 3, 3, 1, 1, 1, false};
  Conv2d conv("conv", o);
  randomize(conv, 7);
  const Tensor x = random_tensor({1, 2, 4, 4}, 8);
  Tensor y, ref;
  conv.forward(x, y);
  Tensor w_swapped;
  w_swapped.assign(conv.weight().value);
  std::swap(w_swapped.at(0, 0, 0, 0), w_swapped.at(0, 0, 2, 2));
  reference::conv2d(x, w_swapped, nullptr, o, ref);
  CHECK(max_violation(y, ref) > kTol);
}

TEST_CASE("reference: Linear matches the scalar matrix-vector product", "[model][reference]") {
  SECTION("flattened input") {
    Linear lin("fc", {24, 7, true});
    randomize(lin, 1);
    const Tensor x = random_tensor({5, 2, 3, 4}, 2);
    Tensor y, ref;
    lin.forward(x, y);
    reference::linear(x, lin.weight().value, &lin.bias().value, ref);
    CHECK(y.dims() == Dims{5, 7, 1, 1});
    CHECK(max_violation(y, ref) <= kTol);
  }
  SECTION("per sequence step") {
    Linear lin("fc", {6, 3, false});
    randomize(lin, 3);
    const Tensor x = random_tensor({2, 5, 6, 1}, 4);
    Tensor y, ref;
    lin.forward(x, y);
    reference::linear(x, lin.weight().value, nullptr, ref);
    CHECK(y.dims() == Dims{2, 5, 3, 1});
    CHECK(max_violation(y, ref) <= kTol);
  }
}

TEST_CASE("reference: Lstm matches repeated scalar LSTM cells", "[model][reference]") {
  int idx = 0;
  for (bool bidir : {false, true})
    for (bool seq : {false, true}) {
      DYNAMIC_SECTION("bidirectional " << bidir << " return_sequences " << seq) {
        const LstmOptions o{5, 6, bidir, seq, true};
        Lstm lstm("lstm", o);
        randomize(lstm, 300 + idx);
        const Tensor x = random_tensor({3, 7, 5, 1}, 400 + idx);
        Tensor y, ref;
        lstm.forward(x, y);
        const reference::LstmWeights fw{&lstm.weight_ih(0).value, &lstm.weight_hh(0).value,
                                        &lstm.bias(0).value};
        reference::LstmWeights bw{};
        if (bidir) bw = {&lstm.weight_ih(1).value, &lstm.weight_hh(1).value, &lstm.bias(1).value};
        reference::lstm(x, o, fw, bidir ? &bw : nullptr, ref);
        CHECK(y.dims() ==
              (seq ? Dims{3, 7, (bidir ? 12 : 6), 1} : Dims{3, (bidir ? 12 : 6), 1, 1}));
        CHECK(max_violation(y, ref) <= kTol);
      }
      ++idx;
    }
}

TEST_CASE("reference: LSTM cell by hand", "[model][reference]") {
  // hidden 1, input 1: a = [w_i x + u_i h + b_i, ...]; checks the reference itself.
  Tensor w_ih(4, 1), w_hh(4, 1), b(4, 1);
  w_ih.vec() << 0.5f, -0.25f, 1.0f, 2.0f;
  w_hh.vec() << 0.1f, 0.2f, -0.3f, 0.4f;
  b.vec() << 0.0f, 1.0f, 0.0f, -1.0f;
  const float x = 0.8f, h_prev = -0.5f, c_prev = 0.3f;
  float h, c;
  reference::lstm_cell(&x, &h_prev, &c_prev, w_ih, w_hh, &b, 1, 1, &h, &c);
  const auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  const double i = sig(0.5 * 0.8 + 0.1 * -0.5), f = sig(-0.25 * 0.8 + 0.2 * -0.5 + 1.0);
  const double g = std::tanh(1.0 * 0.8 - 0.3 * -0.5), o = sig(2.0 * 0.8 + 0.4 * -0.5 - 1.0);
  const double c_exp = f * 0.3 + i * g;
  CHECK(c == Approx(c_exp).epsilon(1e-6));
  CHECK(h == Approx(o * std::tanh(c_exp)).epsilon(1e-6));
}
