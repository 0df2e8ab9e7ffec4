// HAWQ-style sensitivity: Hutchinson's trace against a Hessian known in closed form, and the
// quantization perturbation by hand.
#include <catch2/catch.hpp>

#include "core/scenario.hpp"
#include "model/graph.hpp"
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
