// Tensor-train / hierarchical-Tucker factorizations: parameter counts, contraction plans (against
// hand computation and brute force), scenario validation, workload and both engines.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/errors.hpp"
#include "core/factorization.hpp"
#include "core/scenario.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/engine.hpp"
#include "sim/workload.hpp"
#include "test_util.hpp"
#include "tensor/factorizations.hpp"

using namespace mixprec;

namespace {

using test::ht;
using test::tt;

// Fewest MACs over every permutation of the cores, and the first permutation reaching it.
std::pair<std::int64_t, std::vector<int>> brute_force(const TensorNetwork& tn) {
  std::vector<int> order(tn.cores.size());
  std::iota(order.begin(), order.end(), 0);
  std::int64_t best = -1;
  std::vector<int> best_order;
  do {
    const std::int64_t m = plan_contraction(tn, order).macs_per_row;
    if (best < 0 || m < best) {
      best = m;
      best_order = order;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  return {best, best_order};
}

}  // namespace

TEST_CASE("TT: parameters and MACs of a small train by hand", "[tensor]") {
  // W: (2*3) x (4*5), ranks 1-2-1. core1 (i1=2, j1=4, r1=2) = 16, core2 (r1=2, i2=3, j2=5) = 30.
  const TensorNetwork tn = make_tensor_network(tt({2, 3}, {4, 5}, {1, 2, 1}));
  CHECK(tn.parameter_count() == 46);
  CHECK(tn.in_features() == 6);
  CHECK(tn.out_features() == 20);
  // core1 first: (3 x 2)(2 x 8) = 48, then (4 x 6)(6 x 5) = 120.
  CHECK(plan_contraction(tn, {0, 1}).macs_per_row == 48 + 120);
  // core2 first: (2 x 3)(3 x 10) = 60, then (5 x 4)(4 x 4) = 80: the cheaper order.
  const ContractionPlan p = plan_min_macs(tn);
  CHECK(p.order == std::vector<int>{1, 0});
  CHECK(p.macs_per_row == 140);
  REQUIRE(p.steps.size() == 2);
  CHECK(p.steps[0].m == 2);
  CHECK(p.steps[0].k == 3);
  CHECK(p.steps[0].n == 10);
  CHECK(p.steps[1].m == 5);
  CHECK(p.steps[1].k == 4);
  CHECK(p.steps[1].n == 4);
  CHECK(describe_order(tn, p) == "tt_core2 > tt_core1");
}

TEST_CASE("TT: the 57,600 x 1,024 video matrix", "[tensor]") {
  Factorization f = tt({8, 20, 20, 18}, {4, 4, 4, 4}, {1, 4, 4, 4, 1});
  f.fold_gates = true;  // output modes 16 x 4 x 4 x 4 = 4 gates x 256
  CHECK(f.output_modes() == std::vector<int>{16, 4, 4, 4});
  const TensorNetwork tn = make_tensor_network(f);
  // 1*8*16*4 + 4*20*4*4 + 4*20*4*4 + 4*18*4*1
  CHECK(tn.parameter_count() == 512 + 1280 + 1280 + 288);
  CHECK(tn.in_features() * tn.out_features() == 57600LL * 1024);
  // Right to left: 8*20*20 x 18 x 16, 8*20*4 x 80 x 16, 8*4*4 x 80 x 16, 4*4*4 x 32 x 16.
  const std::int64_t r2l = 3200LL * 18 * 16 + 640LL * 80 * 16 + 128LL * 80 * 16 + 64LL * 32 * 16;
  CHECK(plan_contraction(tn, {3, 2, 1, 0}).macs_per_row == r2l);
  const ContractionPlan p = plan_min_macs(tn);
  CHECK(p.macs_per_row <= r2l);
  CHECK(p.macs_per_row == brute_force(tn).first);
}

TEST_CASE("HT: parameters of small trees by hand", "[tensor]") {
  // Two modes: leaves (2*4*2) + (3*5*3) and the root (r1 x r2) = 16 + 45 + 6.
  const TensorNetwork two = make_tensor_network(ht({2, 3}, {4, 5}, {2, 3}, {}));
  CHECK(two.parameter_count() == 67);
  // Four modes: 4 leaves of 2*2*2, nodes 1-2 and 3-4 of 3*2*2, the root 3*3.
  const TensorNetwork four = make_tensor_network(ht({2, 2, 2, 2}, {2, 2, 2, 2}, {2, 2, 2, 2}, {3, 3}));
  CHECK(four.parameter_count() == 32 + 12 + 12 + 9);
  std::vector<std::string> names;
  for (const auto& c : four.cores) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"ht_leaf1", "ht_leaf2", "ht_leaf3", "ht_leaf4", "ht_node3-4",
                                          "ht_node1-2", "ht_root"});
  // Three modes: the left child takes modes 1-2 (the larger half); one transfer rank.
  const TensorNetwork three = make_tensor_network(ht({2, 3, 4}, {1, 2, 3}, {2, 2, 2}, {5}));
  CHECK(three.parameter_count() == (2 * 1 * 2 + 3 * 2 * 2 + 4 * 3 * 2) + 5 * 2 * 2 + 5 * 2);
  // Hand MACs of one fixed order (leaf 1, leaf 2, node 1-2, leaf 3, root).
  // x: i1 i2 i3 = 2 3 4. leaf1: M = 3*4, K = 2, N = 1*2 -> 48; leaf2: M = 4*1*2, K = 3, N = 2*2
  // -> 96; node1-2: M = 4*1*2, K = 2*2, N = 5 -> 160; leaf3: M = 1*2*5, K = 4, N = 3*2 -> 240;
  // root: M = 1*2*3, K = 5*2, N = 1 -> 60.
  std::vector<int> order;
  for (const char* n : {"ht_leaf1", "ht_leaf2", "ht_node1-2", "ht_leaf3", "ht_root"})
    for (std::size_t c = 0; c < three.cores.size(); ++c)
      if (three.cores[c].name == n) order.push_back(int(c));
  CHECK(plan_contraction(three, order).macs_per_row == 48 + 96 + 160 + 240 + 60);
}

TEST_CASE("the planned order is the brute-force optimum (TT and HT)", "[tensor]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> mode(1, 6), rank(1, 5), dims(2, 4);
  for (int trial = 0; trial < 40; ++trial) {
    const int d = dims(rng);
    std::vector<int> in, out;
    for (int k = 0; k < d; ++k) {
      in.push_back(mode(rng));
      out.push_back(mode(rng));
    }
    Factorization f;
    if (trial % 2 == 0) {
      std::vector<int> r{1};
      for (int k = 1; k < d; ++k) r.push_back(rank(rng));
      r.push_back(1);
      f = tt(in, out, r);
    } else {
      std::vector<int> leaf, transfer;
      for (int k = 0; k < d; ++k) leaf.push_back(rank(rng));
      for (int k = 0; k + 2 < d; ++k) transfer.push_back(rank(rng));
      f = ht(in, out, leaf, transfer);
    }
    const TensorNetwork tn = make_tensor_network(f);
    const auto [best, best_order] = brute_force(tn);
    const ContractionPlan p = plan_min_macs(tn);
    INFO("trial " << trial << " " << to_string(f.kind) << " d=" << d);
    CHECK(p.macs_per_row == best);
    CHECK(p.order == best_order);  // ties: the lexicographically first order
  }
}

TEST_CASE("video scenarios: parameters, workload steps and both engines", "[tensor][sim]") {
  const Scenario dense = load_scenario(test::source_path("scenarios/video_dense_lstm.json"));
  const Scenario tts = load_scenario(test::source_path("scenarios/video_tt_lstm.json"));
  const Scenario hts = load_scenario(test::source_path("scenarios/video_ht_lstm.json"));
  const Layer& ld = dense.net.layers[size_t(dense.net.find("lstm.l0"))];
  const Layer& lt = tts.net.layers[size_t(tts.net.find("lstm.l0"))];
  const Layer& lh = hts.net.layers[size_t(hts.net.find("lstm.l0"))];
  CHECK(ld.weight_count() == 4LL * 256 * (57600 + 256));
  CHECK(lt.weight_count() == 3360 + 4LL * 256 * 256);
  // HT: leaves 8*16*4, 20*4*4, 20*4*4, 18*4*4; nodes 4*4*4 twice; the root 4*4.
  CHECK(lh.weight_count() == (512 + 320 + 320 + 288) + 64 + 64 + 16 + 4LL * 256 * 256);
  CHECK(dense.net.parameter_count() - tts.net.parameter_count() == ld.weight_count() - lt.weight_count());

  // The workload has one GEMM per planned contraction step, named after its core, then the
  // dense recurrent product; MACs add up to the plan.
  const LayerPrecision& p = tts.layer_precision[size_t(tts.net.find("lstm.l0"))];
  const sim::LayerWork w =
      sim::derive_work(tts.net, tts.net.find("lstm.l0"), p, tts.phase, &tts.hardware);
  const TensorNetwork tn = make_tensor_network(lt.factorization);
  const ContractionPlan plan = plan_min_macs(tn);
  REQUIRE(w.gemms.size() == plan.steps.size() + 1);
  std::int64_t macs = 0;
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    CHECK(w.gemms[s].pass == tn.cores[size_t(plan.steps[s].core)].name);
    CHECK(w.gemms[s].m == 6 * plan.steps[s].m);
    CHECK(w.gemms[s].b.bits == p.weight_bits);
    macs += w.gemms[s].macs();
  }
  CHECK(macs == 6 * plan.macs_per_row);
  CHECK(w.gemms.front().a_from_dram);   // the frames come from DRAM
  CHECK(w.gemms[plan.steps.size() - 1].out_to_dram);  // gate pre-activations, as a dense projection
  CHECK(w.gemms.back().pass == "recurrent");

  // Both engines price the same work: the SystemC plan is checked tile by tile against the
  // analytical record; cycles and energy agree closely.
  for (const Scenario* sc : {&tts, &hts}) {
    const auto a = sim::simulate_analytical(*sc, sc->layer_precision);
    const auto s = sim::systemc::simulate(*sc, sc->layer_precision, {});
    INFO(sc->name);
    CHECK(s.result.cost.macs == a.cost.macs);
    CHECK(s.result.cost.energy_uj == Approx(a.cost.energy_uj).epsilon(0.01));
    CHECK(s.result.cost.cycles == Approx(a.cost.cycles).epsilon(0.05));
  }
}

TEST_CASE("factorized LSTM beats the dense one on the video workload", "[tensor][sim]") {
  auto cost = [](const char* f) {
    const Scenario sc = load_scenario(test::source_path(f));
    return sim::simulate_analytical(sc, sc.layer_precision).cost;
  };
  const auto d = cost("scenarios/video_dense_lstm.json"), t = cost("scenarios/video_tt_lstm.json"),
             h = cost("scenarios/video_ht_lstm.json");
  CHECK(t.macs < d.macs / 10);
  CHECK(h.macs < d.macs / 10);
  CHECK(t.energy_uj < d.energy_uj / 10);
  CHECK(t.cycles < d.cycles);
  CHECK(h.cycles < d.cycles);
}

namespace {

const char* kVideo = R"({
  "mixprec_scenario": 1, "name": "v",
  "hardware": {"clock_mhz": 1000, "pe_array": {"rows": 4, "cols": 4, "mac": {"style": "bit_parallel"}},
    "buffers": {"weight": {"size_kib": 64}, "input": {"size_kib": 256}, "output": {"size_kib": 256}},
    "dram": {"bandwidth_gbps": 12.8}},
  "network": {"template": "lstm", "input": {"frames": 6, "features": 57600},
    "lstm": {"hidden": 256, "layers": 1, "bidirectional": false, "factorization": FACT}, "classes": 11},
  "cost_model": {"engine": "analytical"}
})";

std::string error_of(const std::string& fact) {
  std::string text = kVideo;
  text.replace(text.find("FACT"), 4, fact);
  try {
    test::scenario_from_text(text);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("bad factorizations are rejected with the pointer and the expectation", "[tensor][scenario]") {
  const std::string ok_tt = R"({"kind": "tt", "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4], "ranks": [1, 4, 4, 4, 1]})";
  CHECK(error_of(ok_tt) == "no error");
  CHECK(error_of(R"({"kind": "tt", "input_modes": [8, 20, 20, 19], "hidden_modes": [4, 4, 4, 4], "ranks": [1, 4, 4, 4, 1]})") ==
        "inline.json: /network/lstm/factorization/input_modes: expected modes whose product is the input features "
        "of layer \"lstm.l0\" (57600), found 8 x 20 x 20 x 19 = 60800");
  CHECK(error_of(R"({"kind": "tt", "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 2], "ranks": [1, 4, 4, 4, 1]})") ==
        "inline.json: /network/lstm/factorization/hidden_modes: expected modes whose product is the hidden size "
        "of layer \"lstm.l0\" (256), found 4 x 4 x 4 x 2 = 128");
  CHECK(error_of(R"({"kind": "tt", "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4], "ranks": [1, 4, 4, 1]})") ==
        "inline.json: /network/lstm/factorization/ranks: expected 5 ranks r0 .. r4 for 4 modes, found 4");
  CHECK(error_of(R"({"kind": "tt", "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4], "ranks": [2, 4, 4, 4, 1]})") ==
        "inline.json: /network/lstm/factorization/ranks/0: expected 1 (a tensor train starts and ends with rank 1), found 2");
  const std::string zero_rank = error_of(
      R"({"kind": "tt", "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4], "ranks": [1, 4, 0, 4, 1]})");
  CHECK(zero_rank.rfind("inline.json: /network/lstm/factorization/ranks/2: expected", 0) == 0);
  CHECK(error_of(R"({"kind": "tt", "input_modes": [8, 20, 20, 18], "hidden_modes": [16, 4, 4], "ranks": [1, 4, 4, 4, 1]})") ==
        "inline.json: /network/lstm/factorization/hidden_modes: expected as many modes as input_modes (4), found 3");
  CHECK(error_of(R"({"kind": "ht", "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4], "leaf_ranks": [4, 4, 4, 4], "transfer_ranks": [4]})") ==
        "inline.json: /network/lstm/factorization/transfer_ranks: expected 2 transfer ranks (the internal nodes below "
        "the root of the balanced dimension tree over 4 modes, breadth-first), found 1");
  CHECK(error_of(R"({"kind": "ht", "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4], "ranks": [1, 4, 4, 4, 1]})") ==
        "inline.json: /network/lstm/factorization/ranks: expected only keys of factorization kind \"ht\", found \"ranks\", "
        "which belongs to the other kind");
  CHECK(error_of(R"({"kind": "cp", "input_modes": [57600], "hidden_modes": [256]})").rfind(
            "inline.json: /network/lstm/factorization/kind: expected one of \"tt\", \"ht\"", 0) == 0);
  CHECK(error_of(R"({"kind": "tt", "input_modes": [57600], "hidden_modes": [256], "ranks": [1, 1]})") ==
        "inline.json: /network/lstm/factorization/input_modes: expected 2 to 8 modes, found 1");
  // A factorized bidirectional LSTM has no single input matrix.
  std::string bi = kVideo;
  bi.replace(bi.find("\"bidirectional\": false"), 22, "\"bidirectional\": true");
  bi.replace(bi.find("FACT"), 4, ok_tt);
  try {
    test::scenario_from_text(bi);
    FAIL("accepted a factorized bidirectional lstm");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) ==
          "inline.json: /network/lstm/factorization: expected a unidirectional lstm for a factorized input matrix "
          "(one set of cores), found a bidirectional lstm \"lstm.l0\"");
  }
}

TEST_CASE("tensor command prints the figures and the ratios", "[tensor][cli]") {
  const std::string files = test::source_path("scenarios/video_dense_lstm.json") + " " +
                            test::source_path("scenarios/video_tt_lstm.json") + " " +
                            test::source_path("scenarios/video_ht_lstm.json");
  const test::RunResult r = test::run_cli("tensor " + files + " --format json");
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  REQUIRE(j["scenarios"].size() == 3);
  REQUIRE(j["ratios"].size() == 2);
  const auto& d = j["scenarios"][0];
  const auto& t = j["scenarios"][1];
  CHECK(t["input_matrix_parameters"] == 3360);
  CHECK(d["input_matrix_parameters"] == 57600LL * 1024);
  CHECK(j["ratios"][0]["input_matrix_parameters"].get<double>() == Approx(57600.0 * 1024 / 3360));
  CHECK(j["ratios"][0]["macs"].get<double>() ==
        Approx(d["macs"].get<double>() / t["macs"].get<double>()));
  CHECK(t["frames_per_second"].get<double>() ==
        Approx(6 / (t["latency_ms"].get<double>() * 1e-3)));
  CHECK(t["energy_per_frame_uj"].get<double>() == Approx(t["energy_uj"].get<double>() / 6));
  REQUIRE(t["factorized_layers"].size() == 1);
  CHECK(t["factorized_layers"][0]["macs"].get<std::int64_t>() <=
        t["factorized_layers"][0]["macs_reverse_order"].get<std::int64_t>());
  // A bad file: exit 2 with the message.
  const test::RunResult bad = test::run_cli("tensor /nonexistent.json");
  CHECK(bad.exit_code == 2);
}
