#include <catch2/catch.hpp>

#include "core/scenario.hpp"
#include "test_util.hpp"

using namespace mixprec;

TEST_CASE("default scenario builds the ResNet-18 variant + 2-layer BiLSTM", "[scenario][network]") {
  Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  const Network& n = sc.net;
  // stem + 4 stages x 2 blocks x (conv1, conv2, add) + 3 downsamples + pool + reshape + 2 lstm + head
  REQUIRE(n.layers.size() == 1 + 4 * 2 * 3 + 3 + 1 + 1 + 2 + 1);
  CHECK(n.layers[0].name == "cnn.stem");
  CHECK(n.layers[0].in == Shape{8, 3, 16, 16, 1});  // batch 1 x 8 frames
  const Layer& s4 = n.layers[n.find("cnn.stage4.block1.conv2")];
  CHECK(s4.out == Shape{8, 128, 2, 2, 1});  // 16 -> 16 -> 8 -> 4 -> 2
  CHECK(n.find("cnn.stage1.block0.downsample") == -1);  // 16 -> 16 channels, stride 1
  CHECK(n.find("cnn.stage2.block0.downsample") >= 0);
  const Layer& seq = n.layers[n.find("frames_to_sequence")];
  CHECK(seq.out == Shape{1, 128, 1, 1, 8});
  const Layer& l0 = n.layers[n.find("lstm.l0")];
  CHECK(l0.out == Shape{1, 128, 1, 1, 8});  // 2 x 64, whole sequence
  CHECK(l0.weight_count() == 2 * 4 * 64 * (128 + 64));
  const Layer& l1 = n.layers[n.find("lstm.l1")];
  CHECK(l1.out == Shape{1, 128, 1, 1, 1});  // last step
  CHECK(n.layers.back().name == "head");
  CHECK(n.layers.back().out == Shape{1, 5, 1, 1, 1});
  // residual add consumes conv2 and the downsample
  const Layer& add = n.layers[n.find("cnn.stage2.block0.add")];
  CHECK(n.layers[add.inputs[0]].name == "cnn.stage2.block0.conv2");
  CHECK(n.layers[add.inputs[1]].name == "cnn.stage2.block0.downsample");
}

TEST_CASE("precision defaults and pattern overrides resolve in order", "[scenario][precision]") {
  Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  auto at = [&](const std::string& name) { return sc.layer_precision[sc.net.find(name)]; };
  CHECK(at("cnn.stem").weight_bits == 8);
  CHECK(at("cnn.stage2.block1.conv1").weight_bits == 4);
  CHECK(at("cnn.stage2.block1.conv1").activation_bits == 8);
  CHECK(at("cnn.stage3.block0.conv2").activation_bits == 4);
  CHECK(at("lstm.l1").cell_state_bits == 16);
  CHECK(at("lstm.l1").recurrent_weight_bits == 8);
  CHECK(at("head").weight_bits == 8);
}

TEST_CASE("glob patterns", "[precision]") {
  CHECK(glob_match("cnn.*", "cnn.stage1.block0.conv1"));
  CHECK(glob_match("cnn.stage?.block0.*", "cnn.stage3.block0.add"));
  CHECK_FALSE(glob_match("cnn.stage1.*", "cnn.stage2.block0.conv1"));
  CHECK(glob_match("*conv2", "cnn.stage4.block1.conv2"));
  CHECK_FALSE(glob_match("head", "heads"));
  CHECK(glob_match("*", ""));
}

TEST_CASE("LSTM-specific precision fields and later overrides win", "[precision]") {
  Scenario sc = test::default_scenario_with(R"({"precision": {"default": {"weights": 6},
     "layers": [{"match": "lstm.*", "weights": 4, "recurrent_weights": 8, "cell_state": 12, "gates": 6},
                {"match": "lstm.l1", "weights": 2}]}})");
  auto p0 = sc.layer_precision[sc.net.find("lstm.l0")];
  auto p1 = sc.layer_precision[sc.net.find("lstm.l1")];
  CHECK(p0.weight_bits == 4);
  CHECK(p0.recurrent_weight_bits == 8);
  CHECK(p0.cell_state_bits == 12);
  CHECK(p0.gate_bits == 6);
  // `weights` sets input and recurrent weights unless recurrent_weights is given in the same entry
  CHECK(p1.weight_bits == 2);
  CHECK(p1.recurrent_weight_bits == 2);
  CHECK(sc.layer_precision[sc.net.find("cnn.stem")].weight_bits == 6);
}

TEST_CASE("float formats fix their widths", "[precision]") {
  Scenario sc = test::default_scenario_with(R"({"precision": {"layers": [{"match": "head", "format": "bf16"}]}})");
  auto p = sc.layer_precision[sc.net.find("head")];
  CHECK(p.format == NumFormat::Bf16);
  CHECK(p.weights().bits == 16);
  CHECK(p.weights().is_float());
}

TEST_CASE("precision files round-trip through precision_to_json", "[precision]") {
  Scenario sc = test::default_scenario_with(R"({"precision": {"layers": [{"match": "cnn.stage4.*", "weights": 3, "activations": 5}]}})");
  json j = precision_to_json(sc.net, sc.layer_precision);
  CHECK(j["mixprec_precision"] == 1);
  JsonCtx ctx{"roundtrip.json"};
  PrecisionSpec back = parse_precision(j, ctx, "");
  auto resolved = resolve_precision(back, sc.net, "roundtrip.json");
  for (std::size_t i = 0; i < sc.net.layers.size(); ++i) {
    if (!sc.net.layers[i].has_weights() && sc.net.layers[i].kind != LayerKind::Add &&
        sc.net.layers[i].kind != LayerKind::Pool)
      continue;
    INFO(sc.net.layers[i].name);
    CHECK(resolved[i] == sc.layer_precision[i]);
  }
}

TEST_CASE("plain LSTM template", "[network]") {
  Scenario sc = test::default_scenario_with(R"({"network": {"template": "lstm", "input": {"frames": 6, "features": 1,
      "channels": null, "height": null, "width": null}, "cnn": null, "lstm": {"hidden": 20, "layers": 1, "bidirectional": false},
      "classes": 1}, "search": {"fixed_layers": []}, "precision": {"layers": []}})");
  REQUIRE(sc.net.layers.size() == 2);
  CHECK(sc.net.layers[0].name == "lstm.l0");
  CHECK(sc.net.layers[0].in == Shape{1, 1, 1, 1, 6});
  CHECK(sc.net.layers[0].weight_count() == 4 * 20 * 21);
  CHECK(sc.net.layers[1].out == Shape{1, 1, 1, 1, 1});
}

TEST_CASE("unknown keys suggest the near match, typos of required keys too", "[scenario]") {
  try {
    test::default_scenario_with(R"({"hardware": {"dram": {"bandwith_gbps": 3}}})");
    FAIL("accepted");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) ==
          "patched.json: /hardware/dram/bandwith_gbps: expected a known key (did you mean \"bandwidth_gbps\"?), "
          "found unknown key \"bandwith_gbps\"");
  }
}

TEST_CASE("JSON reader utilities", "[json]") {
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(nearest("clok_mhz", {"clock_mhz", "name"}) == "clock_mhz");
  CHECK(nearest("zzzzzz", {"clock_mhz", "name"}).empty());
  CHECK(pointer_join("/a", "b/c~d") == "/a/b~1c~0d");
}
