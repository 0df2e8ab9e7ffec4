// Finite-difference gradient checks for every layer and loss, w.r.t. inputs and parameters.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/network.hpp"
#include "gradcheck.hpp"
#include "model/gru.hpp"
#include "model/model.hpp"
#include "model/step_window.hpp"

using namespace mixprec::model;
using namespace mixprec::model::testing;

namespace {

void require_all(const std::vector<GradCheckResult>& results) {
  REQUIRE(!results.empty());
  for (const auto& r : results) {
    INFO(r.str());
    CHECK(r.ok);
  }
}

void randomize_params(Layer& layer, std::uint64_t seed, float scale = 0.5f) {
  std::mt19937_64 rng(seed);
  for (Param* p : layer.params()) fill_uniform(p->value, -scale, scale, rng);
}

Tensor random_tensor(Dims d, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(d);
  std::mt19937_64 rng(seed);
  fill_uniform(t, lo, hi, rng);
  return t;
}

}  // namespace

TEST_CASE("gradcheck: the checker rejects wrong gradients", "[model][gradcheck]") {
  // f(x) = sum(x^3 + 2 x), f' = 3x^2 + 2.
  std::vector<float> x{0.3f, -0.7f, 1.1f, 0.05f};
  const auto f = [&]() {
    double s = 0;
    for (float v : x) s += double(v) * v * v + 2.0 * v;
    return s;
  };
  std::vector<double> good;
  for (float v : x) good.push_back(3.0 * v * v + 2.0);
  CHECK(check_gradient("good", x.data(), 4, good, f).ok);

  auto sign = good;  // one element with the wrong sign
  sign[1] = -sign[1];
  CHECK_FALSE(check_gradient("sign", x.data(), 4, sign, f).ok);
  auto missing = good;  // a missing term (the derivative of 2x)
  for (double& g : missing) g -= 2.0;
  CHECK_FALSE(check_gradient("missing term", x.data(), 4, missing, f).ok);
  auto scaled = good;  // a wrong factor of 1.1
  for (double& g : scaled) g *= 1.1;
  CHECK_FALSE(check_gradient("scale", x.data(), 4, scaled, f).ok);
  auto zero = good;  // a gradient that was never written
  zero[3] = 0.0;
  CHECK_FALSE(check_gradient("zero", x.data(), 4, zero, f).ok);
}

TEST_CASE("gradcheck: the checker rejects a corrupted layer gradient", "[model][gradcheck]") {
  // Same harness as the layer checks, with a Linear layer whose weight gradient is perturbed
  // by one wrong-sign element after backward: the check must flag the weight.
  Linear lin("fc", {3, 2, true});
  randomize_params(lin, 1);
  Tensor x = random_tensor({2, 3, 1, 1}, 2);
  Tensor y, r, dx;
  lin.forward(x, y);
  r = random_tensor(y.dims(), 3);
  lin.zero_grad();
  lin.backward(r, dx);
  std::vector<double> grad = to_double(lin.weight().grad);
  const auto loss = [&]() {
    lin.forward(x, y);
    double s = 0;
    for (std::int64_t i = 0; i < y.size(); ++i) s += double(r[i]) * y[i];
    return s;
  };
  CHECK(check_gradient("w", lin.weight().value.data(), 6, grad, loss).ok);
  grad[4] = -grad[4];
  CHECK_FALSE(check_gradient("w", lin.weight().value.data(), 6, grad, loss).ok);
}

TEST_CASE("gradcheck: Conv2d", "[model][gradcheck]") {
  struct Case {
    Conv2dOptions o;
    Dims in;
  };
  const std::vector<Case> cases{
      {{2, 3, 3, 3, 1, 1, 1, true}, {2, 2, 5, 5}},   // same padding
      {{2, 4, 3, 2, 2, 1, 1, true}, {3, 2, 6, 5}},   // stride 2, non-square kernel
      {{4, 2, 3, 3, 1, 0, 2, false}, {2, 4, 4, 4}},  // groups, no bias, no padding
      {{3, 3, 1, 1, 1, 0, 3, true}, {2, 3, 3, 3}},   // depthwise 1x1
  };
  int idx = 0;
  for (const auto& c : cases) {
    for (std::int64_t budget : {std::int64_t(0), std::int64_t(1)}) {  // batched / per-sample GEMM
      DYNAMIC_SECTION("case " << idx << " budget " << budget) {
        Conv2d conv("conv", c.o);
        if (budget > 0) conv.set_col_budget_floats(budget);
        randomize_params(conv, 10 + idx);
        std::vector<Tensor> in{random_tensor(c.in, 20 + idx)};
        require_all(check_layer(conv, in));
      }
    }
    ++idx;
  }
}

TEST_CASE("gradcheck: BatchNorm2d", "[model][gradcheck]") {
  BatchNorm2d bn("bn", {3, 1e-5, 0.1});
  randomize_params(bn, 5);
  for (int i = 0; i < 3; ++i) bn.gamma().value[i] += 1.0f;
  SECTION("training: batch statistics") {
    std::vector<Tensor> in{random_tensor({3, 3, 2, 2}, 6)};
    require_all(check_layer(bn, in));
  }
  SECTION("evaluation: running statistics") {
    bn.running_mean().vec() << 0.1f, -0.2f, 0.3f;
    bn.running_var().vec() << 0.5f, 1.5f, 2.0f;
    bn.set_training(false);
    std::vector<Tensor> in{random_tensor({2, 3, 2, 2}, 7)};
    require_all(check_layer(bn, in));
  }
}

TEST_CASE("gradcheck: ReLU", "[model][gradcheck]") {
  ReLU relu("relu");
  std::vector<Tensor> in{Tensor(Dims{2, 3, 2, 2})};
  std::mt19937_64 rng(8);
  fill_away_from_zero(in[0], 0.1f, rng);  // |x| >= 0.1 > eps: no difference straddles the kink
  require_all(check_layer(relu, in));
}

// Distinct values 0.05 apart, shuffled: each window's maximum is unique by more than 2 eps.
static Tensor spaced_tensor(Dims d, std::uint64_t seed) {
  Tensor t(d);
  std::vector<float> v(size_t(t.size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = -1.0f + 0.05f * float(i);
  std::mt19937_64 rng(seed);
  std::shuffle(v.begin(), v.end(), rng);
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

TEST_CASE("gradcheck: MaxPool2d", "[model][gradcheck]") {
  SECTION("2x2 stride 2") {
    MaxPool2d pool("pool", {2, 2, 0});
    std::vector<Tensor> in{spaced_tensor({2, 2, 4, 4}, 9)};
    require_all(check_layer(pool, in));
  }
  SECTION("3x3 stride 2 padding 1 (overlapping windows)") {
    MaxPool2d pool("pool", {3, 2, 1});
    std::vector<Tensor> in{spaced_tensor({1, 2, 5, 5}, 10)};
    require_all(check_layer(pool, in));
  }
}

TEST_CASE("gradcheck: AvgPool2d", "[model][gradcheck]") {
  SECTION("2x2 stride 2") {
    AvgPool2d pool("pool", {2, 2, 0});
    std::vector<Tensor> in{random_tensor({2, 2, 4, 4}, 11)};
    require_all(check_layer(pool, in));
  }
  SECTION("3x3 stride 2 padding 1") {
    AvgPool2d pool("pool", {3, 2, 1});
    std::vector<Tensor> in{random_tensor({1, 2, 5, 5}, 12)};
    require_all(check_layer(pool, in));
  }
}

TEST_CASE("gradcheck: GlobalAvgPool", "[model][gradcheck]") {
  GlobalAvgPool gap("gap");
  std::vector<Tensor> in{random_tensor({2, 3, 3, 2}, 13)};
  require_all(check_layer(gap, in));
}

TEST_CASE("gradcheck: Add", "[model][gradcheck]") {
  Add add("add");
  std::vector<Tensor> in{random_tensor({2, 3, 2, 2}, 14), random_tensor({2, 3, 2, 2}, 15)};
  require_all(check_layer(add, in));
}

TEST_CASE("gradcheck: Linear", "[model][gradcheck]") {
  SECTION("flattened image input") {
    Linear lin("fc", {12, 4, true});
    randomize_params(lin, 16);
    std::vector<Tensor> in{random_tensor({3, 3, 2, 2}, 17)};
    require_all(check_layer(lin, in));
  }
  SECTION("per step of a sequence, no bias") {
    Linear lin("fc", {3, 2, false});
    randomize_params(lin, 18);
    std::vector<Tensor> in{random_tensor({2, 4, 3, 1}, 19)};
    require_all(check_layer(lin, in));
  }
}

TEST_CASE("gradcheck: Lstm", "[model][gradcheck]") {
  int idx = 0;
  for (bool bidir : {false, true})
    for (bool seq : {false, true}) {
      DYNAMIC_SECTION("bidirectional " << bidir << " return_sequences " << seq) {
        Lstm lstm("lstm.l0", {3, 4, bidir, seq, true});
        randomize_params(lstm, 30 + idx, 0.8f);
        std::vector<Tensor> in{random_tensor({2, 4, 3, 1}, 40 + idx)};
        require_all(check_layer(lstm, in));
      }
      ++idx;
    }
}

TEST_CASE("gradcheck: Lstm reverse and with an initial state", "[model][gradcheck][onnx_states]") {
  int idx = 0;
  for (bool bidir : {false, true})
    for (bool seq : {false, true}) {
      DYNAMIC_SECTION("bidirectional " << bidir << " return_sequences " << seq) {
        LstmOptions o{3, 4, bidir, seq, true};
        o.reverse = !bidir;
        o.initial_state = true;  // initial_h / initial_c get gradients through the first step
        Lstm lstm("lstm.l0", o);
        randomize_params(lstm, 60 + idx, 0.8f);
        std::vector<Tensor> in{random_tensor({2, 4, 3, 1}, 70 + idx)};
        require_all(check_layer(lstm, in));
      }
      ++idx;
    }
}

TEST_CASE("gradcheck: Lstm and Gru running the first steps of their input (core Layer::steps)",
          "[model][gradcheck][lstm][gru][steps]") {
  // As Graph builds a layer with steps 2 of 4: the cell within its step window. The gradient of
  // the input's steps 2 and 3 is zero (their finite differences are), Y's steps 2, 3 are zero.
  int idx = 0;
  for (const char* kind : {"lstm", "gru"})
    for (int dir : {0, 1, 2})  // forward, reverse, bidirectional
      for (bool seq : {false, true}) {
        DYNAMIC_SECTION(kind << " direction " << dir << " return_sequences " << seq) {
          std::unique_ptr<Layer> cell;
          if (std::string(kind) == "lstm") {
            LstmOptions o{3, 4, dir == 2, seq, true};
            o.reverse = dir == 1;
            o.initial_state = dir != 0;
            cell = std::make_unique<Lstm>("rnn", o);
          } else {
            GruOptions o;
            o.input_size = 3;
            o.hidden = 4;
            o.bidirectional = dir == 2;
            o.reverse = dir == 1;
            o.return_sequences = seq;
            cell = std::make_unique<Gru>("rnn", o);
          }
          std::unique_ptr<Layer> layer = with_step_window(std::move(cell), 2, 4, seq);
          randomize_params(*layer, 90 + idx, 0.8f);
          std::vector<Tensor> in{random_tensor({2, 4, 3, 1}, 100 + idx)};
          require_all(check_layer(*layer, in));
          Tensor y;
          layer->forward(in[0], y);
          const int D = dir == 2 ? 2 : 1;
          CHECK(y.dims() == (seq ? Dims{2, 4, D * 4, 1} : Dims{2, D * 4, 1, 1}));
          if (seq)
            for (int b = 0; b < 2; ++b)
              for (int t = 2; t < 4; ++t)
                for (int j = 0; j < D * 4; ++j) CHECK(y[(std::int64_t(b) * 4 + t) * D * 4 + j] == 0.0f);
        }
        ++idx;
      }
}

TEST_CASE("graph: quantized (QAT) LSTM and GRU with steps 2 of 4 train through their first steps only",
          "[model][lstm][gru][steps]") {
  // QuantLstm's and the QAT Gru's straight-through gradients have no finite-difference check;
  // what the step window must give them: Y zero at steps 2, 3 (forward, training mode), no
  // gradient reaching input steps 2, 3, a gradient at steps 0, 1 and finite weight gradients.
  for (const char* kind : {"lstm", "gru"})
    for (bool reverse : {false, true}) {
      DYNAMIC_SECTION(kind << (reverse ? " reverse" : " forward")) {
        mixprec::NetworkSpec spec;
        spec.batch = 2;
        spec.frames = 4;
        spec.features = 3;
        mixprec::LayerSpec ls;
        ls.pointer = "/network/layers/0";
        ls.layer.name = "rnn";
        ls.layer.kind = std::string(kind) == "lstm" ? mixprec::LayerKind::Lstm : mixprec::LayerKind::Gru;
        ls.layer.hidden = 4;
        ls.layer.reverse = reverse;
        ls.layer.return_sequences = true;
        ls.layer.steps = 2;
        spec.layers.push_back(ls);
        const mixprec::Network net = mixprec::build_network(spec, "t.json");
        Graph g(net, {mixprec::LayerPrecision::uniform(mixprec::NumFormat::Int, 8)});
        std::mt19937_64 rng(5);
        g.init(rng);
        g.set_training(true);
        g.set_input_gradient_capture(true);
        const Tensor x = random_tensor(g.input_dims(2), 17);
        const Tensor& y = g.forward(x);
        REQUIRE(y.dims() == (Dims{2, 4, 4, 1}));
        Tensor dy(y.dims());
        for (std::int64_t i = 0; i < dy.size(); ++i) dy[i] = 1.0f;
        g.zero_grad();
        g.backward(dy);
        const Tensor& dx = g.input_gradient(0);
        REQUIRE(dx.dims() == x.dims());
        for (int b = 0; b < 2; ++b)
          for (int t = 0; t < 4; ++t) {
            double yabs = 0, gabs = 0;
            for (int j = 0; j < 4; ++j) yabs += std::fabs(y[(std::int64_t(b) * 4 + t) * 4 + j]);
            for (int j = 0; j < 3; ++j) gabs += std::fabs(dx[(std::int64_t(b) * 4 + t) * 3 + j]);
            INFO("sequence " << b << " step " << t);
            CHECK((yabs == 0) == (t >= 2));
            CHECK((gabs == 0) == (t >= 2));
          }
        int weights = 0;
        for (Param* p : g.params()) {
          if (p->role != ParamRole::Weight && p->role != ParamRole::RecurrentWeight) continue;
          double sum = 0;
          for (std::int64_t i = 0; i < p->grad.size(); ++i) sum += std::fabs(p->grad[i]);
          INFO(p->name);
          CHECK(std::isfinite(sum));
          CHECK(sum > 0);
          ++weights;
        }
        CHECK(weights == 2);
      }
    }
}

TEST_CASE("gradcheck: Dropout", "[model][gradcheck]") {
  Dropout drop("drop", 0.5, 7);
  std::vector<Tensor> in{random_tensor({2, 3, 2, 2}, 20)};
  SECTION("training: the same mask on every forward") {
    require_all(check_layer(drop, in, [&] { drop.reseed(123); }));
  }
  SECTION("evaluation: identity") {
    drop.set_training(false);
    require_all(check_layer(drop, in));
  }
}

TEST_CASE("gradcheck: Sequential conv-bn-avgpool-gap-linear", "[model][gradcheck]") {
  Sequential net("net");
  net.emplace<Conv2d>("net.conv", Conv2dOptions{2, 3, 3, 3, 1, 1, 1, false});
  net.emplace<BatchNorm2d>("net.bn", BatchNorm2dOptions{3, 1e-5, 0.1});
  net.emplace<AvgPool2d>("net.pool", Pool2dOptions{2, 2, 0});
  net.emplace<GlobalAvgPool>("net.gap");
  net.emplace<Linear>("net.head", LinearOptions{3, 2, true});
  std::mt19937_64 rng(21);
  net.init(rng);
  std::vector<Tensor> in{random_tensor({3, 2, 4, 4}, 22)};
  require_all(check_layer(net, in));
}

TEST_CASE("gradcheck: softmax cross-entropy", "[model][gradcheck]") {
  Tensor logits = random_tensor({3, 4, 1, 1}, 23, -2.0f, 2.0f);
  const std::vector<int> labels{2, 0, 3};
  SoftmaxCrossEntropy ce;
  ce.forward(logits, labels);
  Tensor g;
  ce.backward(g);
  const auto loss = [&] { return ce.forward(logits, labels); };
  const auto r = check_gradient("ce", logits.data(), logits.size(), to_double(g), loss);
  INFO(r.str());
  CHECK(r.ok);

  SECTION("per-step logits of a sequence, scaled") {
    Tensor seq = random_tensor({2, 3, 4, 1}, 24, -2.0f, 2.0f);
    const std::vector<int> l{0, 1, 2, 3, 1, 0};
    ce.forward(seq, l);
    ce.backward(g, 0.5);
    const auto loss2 = [&] { return 0.5 * ce.forward(seq, l); };
    const auto r2 = check_gradient("ce seq", seq.data(), seq.size(), to_double(g), loss2);
    INFO(r2.str());
    CHECK(r2.ok);
  }
}

TEST_CASE("gradcheck: MSE", "[model][gradcheck]") {
  Tensor pred = random_tensor({2, 3, 2, 1}, 25);
  Tensor target = random_tensor({2, 3, 2, 1}, 26);
  MseLoss mse;
  mse.forward(pred, target);
  Tensor g;
  mse.backward(g);
  const auto loss = [&] { return mse.forward(pred, target); };
  const auto r = check_gradient("mse", pred.data(), pred.size(), to_double(g), loss);
  INFO(r.str());
  CHECK(r.ok);
}
