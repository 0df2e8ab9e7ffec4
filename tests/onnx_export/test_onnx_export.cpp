// ONNX export (model/onnx_export.hpp, `mixprec export`): round trip through the importer, ONNX's
// checker (Debian's python3-onnx) and an independent NumPy evaluator of the exported graph
// (tests/onnx_export/onnx_numpy_eval.py) against mixprec's own forward pass.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <onnx/onnx_pb.h>

#include <cstring>

#include "core/onnx_import.hpp"
#include "core/scenario.hpp"
#include "model/graph.hpp"
#include "model/onnx_export.hpp"
#include "model/tensor_linear.hpp"
#include "model/trainer.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

const char* kPython = "/usr/bin/python3";

bool python_onnx_available() {
  static const bool ok =
      std::system((std::string(kPython) + " -c 'import onnx, numpy' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

// CNN (conv + BN + ReLU, max pool, conv + ReLU, global average) per frame, a BiLSTM over the
// frames, a linear head.
const char* kCnnLstm = R"({
  "name": "cnn_lstm", "batch": 2, "input": {"frames": 3, "channels": 3, "height": 8, "width": 8},
  "layers": [
    {"name": "c1", "kind": "conv2d", "out_channels": 4, "kernel": 3, "stride": 1, "padding": 1, "batchnorm": true, "relu": true},
    {"name": "p1", "kind": "pool", "pool": "max", "kernel": 2, "stride": 2},
    {"name": "c2", "kind": "conv2d", "out_channels": 6, "kernel": 3, "stride": 1, "padding": 1, "relu": true},
    {"name": "gap", "kind": "pool", "pool": "global_avg"},
    {"name": "frames_to_sequence", "kind": "frames_to_sequence"},
    {"name": "lstm", "kind": "lstm", "hidden": 5, "bidirectional": true, "return_sequences": false},
    {"name": "head", "kind": "linear", "out_features": 3}
  ]})";

// Sequences: a BiGRU (PyTorch's candidate), a per-step linear + ReLU, a sigmoid, a concat, a
// second GRU (ONNX's default candidate) read at its last state, a head.
const char* kGru = R"({
  "name": "gru_net", "batch": 2, "input": {"frames": 5, "features": 4},
  "layers": [
    {"name": "g1", "kind": "gru", "hidden": 5, "bidirectional": true, "return_sequences": true},
    {"name": "fc1", "kind": "linear", "out_features": 6, "relu": true},
    {"name": "sig", "kind": "elementwise", "op": "sigmoid"},
    {"name": "cat", "kind": "concat", "inputs": ["g1", "sig"]},
    {"name": "g2", "kind": "gru", "hidden": 4, "linear_before_reset": false, "return_sequences": false},
    {"name": "head", "kind": "linear", "out_features": 3}
  ]})";

std::string write_scenario(const std::string& dir, const char* network) {
  nlohmann::json sc = test::read_json(test::source_path("tests/onnx/data/cnn_bilstm.json"));
  sc["name"] = "export_test";
  sc["network"] = nlohmann::json::parse(network);
  const std::string path = dir + "/scenario.json";
  std::ofstream(path) << sc.dump(2);
  return path;
}

// A precision per layer from {layer: [weights, activations, recurrent_weights]}; others fp32.
std::vector<LayerPrecision> mixed(const Network& net, const std::map<std::string, std::array<int, 3>>& bits) {
  std::vector<LayerPrecision> p(net.layers.size(), LayerPrecision::uniform(NumFormat::Fp32, 32));
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    auto it = bits.find(net.layers[i].name);
    if (it == bits.end()) continue;
    p[i] = LayerPrecision{};
    p[i].weight_bits = it->second[0];
    p[i].activation_bits = p[i].output_bits = it->second[1];
    p[i].recurrent_weight_bits = it->second[2];
  }
  return p;
}

model::Tensor random_input(const model::Graph& g, std::uint64_t seed) {
  model::Tensor x(g.input_dims(g.network().batch));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = nd(rng);
  return x;
}

// Initialized weights; quantizer ranges and BatchNorm statistics from a few training-mode
// passes (as QAT leaves them); evaluation mode.
void calibrate(model::Graph& g) {
  std::mt19937_64 rng(7);
  g.init(rng);
  g.set_training(true);
  for (int k = 0; k < 4; ++k) g.forward(random_input(g, 100 + k));
  g.set_training(false);
}

std::vector<float> numpy_eval(const std::string& model, const model::Tensor& x, const std::string& dir) {
  nlohmann::json in;
  in["dims"] = {x.dims().n, x.dims().c, x.dims().h, x.dims().w};
  in["values"] = std::vector<float>(x.data(), x.data() + x.size());
  std::ofstream(dir + "/in.json") << in.dump();
  const std::string cmd = std::string(kPython) + " " + test::source_path("tests/onnx_export/onnx_numpy_eval.py") +
                          " " + model + " " + dir + "/in.json " + dir + "/out.json";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return test::read_json(dir + "/out.json").at("values").get<std::vector<float>>();
}

double max_abs_diff(const std::vector<float>& a, const model::Tensor& b) {
  REQUIRE(std::int64_t(a.size()) == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[std::int64_t(i)])));
  return m;
}

// The largest |NumPy(ONNX file) - mixprec forward| over the random inputs of seeds 1..inputs.
double numpy_worst(const std::string& path, model::Graph& g, const std::string& dir, int inputs) {
  double worst = 0;
  for (std::uint64_t seed = 1; seed <= std::uint64_t(inputs); ++seed) {
    const model::Tensor x = random_input(g, seed);
    worst = std::max(worst, max_abs_diff(numpy_eval(path, x, dir), g.forward(x)));
  }
  return worst;
}

// Every initial-state parameter (".initial_h", ".initial_c") drawn from N(0, 0.5^2), seeded: a
// zero state exports as none. Returns how many there are.
int randomize_initial_states(model::Graph& g, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  int states = 0;
  for (model::Param* p : g.params())
    if (p->name.find(".initial_") != std::string::npos) {
      for (std::int64_t j = 0; j < p->value.size(); ++j) p->value[j] = nd(rng);
      ++states;
    }
  return states;
}

// One way to export a network of recurrent layers: its per-layer bits (weights, activations,
// recurrent weights; none: fp32) and the LSTM form.
struct LstmForm {
  const char* name;
  std::map<std::string, std::array<int, 3>> bits;
  model::LstmExport lstm;
};

std::string checker(const std::string& model) {
  const std::string cmd = std::string(kPython) +
                          " -c 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); "
                          "print(\"ok\")' " + model + " 2>&1";
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[512];
  while (fgets(buf, sizeof buf, f)) out += buf;
  pclose(f);
  return out;
}

// The re-imported network equals the exported one: names, kinds, wiring, shapes, attributes;
// the imported precision (applied over the defaults) has the exported weight, activation and
// recurrent-weight bits of every quantized layer.
void check_round_trip(const Network& net, const std::vector<LayerPrecision>& prec, const std::string& bytes) {
  const OnnxImport imp = import_onnx_bytes(bytes, "exported.onnx");
  const Network back = build_network(imp.network, "exported.onnx");
  CHECK(back.batch == net.batch);
  CHECK(back.frames == net.frames);
  CHECK(back.input == net.input);
  REQUIRE(back.layers.size() == net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& a = net.layers[i];
    const Layer& b = back.layers[i];
    INFO("layer " << a.name);
    CHECK(b.name == a.name);
    CHECK(b.kind == a.kind);
    CHECK(b.inputs == a.inputs);
    CHECK(b.in == a.in);
    CHECK(b.out == a.out);
    CHECK(b.relu == a.relu);
    CHECK(b.batchnorm == a.batchnorm);
    CHECK(b.hidden == a.hidden);
    CHECK(b.bidirectional == a.bidirectional);
    CHECK(b.return_sequences == a.return_sequences);
    CHECK(b.reverse == a.reverse);
    CHECK(b.initial_state == a.initial_state);
    CHECK(b.steps == a.steps);
    if (a.kind == LayerKind::Gru) CHECK(b.linear_before_reset == a.linear_before_reset);
    CHECK(b.weight_count() == a.weight_count());
    CHECK(b.bias_count() == a.bias_count());
  }
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& a = net.layers[i];
    INFO("layer " << a.name);
    const PrecisionOverride* o = nullptr;
    for (const PrecisionOverride& p : imp.precision)
      if (p.match == a.name) o = &p;
    const bool quantized = !prec.empty() && prec[i].format != NumFormat::Fp32 && a.has_weights();
    CHECK((o != nullptr) == quantized);
    if (!o || !quantized) continue;
    LayerPrecision r;
    o->patch.apply_to(r);
    CHECK(r.format == prec[i].format);
    if (r.format != NumFormat::Int) continue;
    CHECK(r.weight_bits == prec[i].weight_bits);
    CHECK(r.activation_bits == prec[i].activation_bits);
    if (is_recurrent(a.kind)) CHECK(r.recurrent_weight_bits == prec[i].recurrent_weight_bits);
  }
}

// A TT and an HT LSTM (their input projections factorized), a head.
const char* kTtNet = R"({
  "name": "tt_net", "batch": 2, "input": {"frames": 3, "features": 12},
  "layers": [
    {"name": "lstm", "kind": "lstm", "hidden": 8,
     "factorization": {"kind": "tt", "input_modes": [3, 4], "hidden_modes": [2, 4], "ranks": [1, 3, 1]}},
    {"name": "head", "kind": "linear", "out_features": 3}
  ]})";
const char* kHtNet = R"({
  "name": "ht_net", "batch": 2, "input": {"frames": 3, "features": 12},
  "layers": [
    {"name": "lstm", "kind": "lstm", "hidden": 8,
     "factorization": {"kind": "ht", "input_modes": [3, 2, 2], "hidden_modes": [2, 2, 2], "leaf_ranks": [2, 2, 2],
                       "transfer_ranks": [2]}},
    {"name": "head", "kind": "linear", "out_features": 3}
  ]})";

Scenario factorized_scenario(const std::string& dir, const char* net) {
  nlohmann::json scj = test::read_json(write_scenario(dir, net));
  scj["cost_model"] = {{"engine", "analytical"}};  // the mapping engine does not map TT / HT steps
  std::ofstream(dir + "/scenario.json") << scj.dump(2);
  return load_scenario(dir + "/scenario.json");
}

struct Case {
  std::string name;
  const char* network;
  std::map<std::string, std::array<int, 3>> bits;  // empty: fp32
  double tolerance;
  std::map<std::string, NumFormat> floats = {};    // fp16 / bf16 layers
  bool lsq = false;                                // learned step sizes instead of running ranges
};

}  // namespace

TEST_CASE("onnx export: round trip, ONNX checker and a NumPy evaluation match mixprec", "[onnx][onnx_export]") {
  const std::vector<Case> cases{
      {"cnn_lstm fp32", kCnnLstm, {}, 1e-5},
      // Conv/linear QCDQ at 2-8 bits: the graph is mixprec's fake quantization exactly.
      {"cnn_lstm int, fp32 lstm", kCnnLstm, {{"c1", {4, 8, 8}}, {"c2", {2, 6, 8}}, {"head", {8, 5, 8}}}, 1e-5},
      // GRU: mixprec quantizes its weights and input only, as the ONNX GRU with QCDQ weights.
      {"gru int", kGru, {{"g1", {6, 8, 5}}, {"fc1", {3, 4, 8}}, {"g2", {8, 7, 4}}, {"head", {5, 8, 8}}}, 1e-5},
      // 9-16-bit weights (int32 container) and activations (Div -> Clip -> Round -> Mul).
      {"cnn_lstm wide", kCnnLstm, {{"c1", {12, 10, 8}}, {"c2", {16, 16, 8}}, {"head", {9, 12, 8}}}, 1e-5},
      // fp16 / bf16 layers (Cast pairs), the QAT LSTM in fp16 (its internals rounded too).
      {"cnn_lstm float16", kCnnLstm, {{"c1", {4, 8, 8}}}, 1e-5,
       {{"c2", NumFormat::Fp16}, {"lstm", NumFormat::Fp16}, {"head", NumFormat::Bf16}}},
      {"gru bfloat16", kGru, {{"fc1", {6, 6, 8}}}, 1e-5, {{"g1", NumFormat::Bf16}, {"g2", NumFormat::Fp16}}},
      // LSQ steps (train --lsq), the QAT LSTM unrolled.
      {"cnn_lstm lsq", kCnnLstm, {{"c1", {4, 8, 8}}, {"c2", {3, 5, 8}}, {"lstm", {6, 7, 5}}, {"head", {8, 6, 8}}}, 1e-5, {}, true},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string dir = test::temp_dir("onnx_export");
      const Scenario sc = load_scenario(write_scenario(dir, c.network));
      std::vector<LayerPrecision> prec = c.bits.empty() ? std::vector<LayerPrecision>{} : mixed(sc.net, c.bits);
      for (const auto& [layer, fmt] : c.floats)
        prec[size_t(sc.net.find(layer))] = LayerPrecision::uniform(fmt, float_format_bits(fmt));
      model::GraphOptions gopt;
      if (c.lsq) gopt.range = model::RangeMethod::Lsq;
      model::Graph g(sc.net, prec, gopt);
      calibrate(g);
      const model::OnnxExport e = model::export_onnx(g, "test.ckpt");
      CHECK(e.notes.empty());
      const std::string path = dir + "/model.onnx";
      std::ofstream(path, std::ios::binary) << e.bytes;
      check_round_trip(sc.net, prec, e.bytes);
      {
        // The re-imported weights (dequantized) re-quantize to the same integers: with the
        // quantizer ranges and LSQ steps ONNX does not carry (import drops scales) copied over,
        // the imported model computes what the exported one did.
        model::Graph back(sc.net, prec, gopt);
        const std::vector<std::string> missing =
            model::assign_onnx_weights(back, import_onnx_bytes(e.bytes, "exported.onnx"), "exported.onnx");
        std::map<std::string, const model::Buffer*> orig;
        for (const model::Buffer* b : g.buffers()) orig[b->name] = b;
        for (model::Buffer* b : back.buffers())
          if (b->name.find("_range") != std::string::npos) b->value.assign(orig.at(b->name)->value);
        std::map<std::string, const model::Param*> steps;  // LSQ steps (params)
        for (model::Param* q : g.params()) steps[q->name] = q;
        for (model::Param* q : back.params())
          if (q->name.find("_step") != std::string::npos) q->value.assign(steps.at(q->name)->value);
        for (const std::string& m : missing)
          CHECK((m.find("_range") != std::string::npos || m.find("_step") != std::string::npos));
        back.set_training(false);
        double worst = 0;
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
          const model::Tensor x = random_input(g, seed);
          const model::Tensor& y = g.forward(x);
          worst = std::max(worst, max_abs_diff(std::vector<float>(y.data(), y.data() + y.size()), back.forward(x)));
        }
        WARN(c.name << ": export -> import -> mixprec forward vs the original: max |difference| = " << worst);
        CHECK(worst <= c.tolerance);
      }
      if (!python_onnx_available()) {
        WARN("skipped the ONNX checker and the NumPy evaluation: /usr/bin/python3 lacks onnx or numpy "
             "(apt-get install python3-onnx python3-numpy)");
        continue;
      }
      CHECK(checker(path) == "ok\n");
      const double worst = numpy_worst(path, g, dir, 4);
      WARN(c.name << ": max |NumPy(ONNX) - mixprec| over 4 inputs = " << worst);
      CHECK(worst <= c.tolerance);
    }
  }
}

TEST_CASE("onnx export: a QAT LSTM, unrolled with its quantized gates and cell state (default) and as the ONNX LSTM operator",
          "[onnx][onnx_export]") {
  const std::string dir = test::temp_dir("onnx_export_lstm");
  const Scenario sc = load_scenario(write_scenario(dir, kCnnLstm));
  std::vector<LayerPrecision> prec =
      mixed(sc.net, {{"c1", {8, 8, 8}}, {"c2", {6, 8, 8}}, {"lstm", {6, 8, 5}}, {"head", {8, 8, 8}}});
  const int lstm = sc.net.find("lstm");
  prec[size_t(lstm)].gate_bits = 7;
  prec[size_t(lstm)].cell_state_bits = 12;  // 9-16 bits: the Div / Clip / Round / Mul form
  model::Graph g(sc.net, prec);
  calibrate(g);
  const model::OnnxExport q = model::export_onnx(g, "test.ckpt");
  CHECK(q.notes.empty());
  model::OnnxExportOptions op_form;
  op_form.lstm = model::LstmExport::Operator;
  const model::OnnxExport o = model::export_onnx(g, "test.ckpt", op_form);
  REQUIRE(o.notes.size() == 1);
  const std::string head =
      "layer \"lstm\": the ONNX LSTM operator computes gates, cell state and hidden state in float (mixprec "
      "quantizes them to 7, 12 and 8 bits); measured on this layer's output for 4 random N(0, 1) network inputs: "
      "max |difference| ";
  REQUIRE(o.notes[0].compare(0, head.size(), head) == 0);
  const double measured = std::stod(o.notes[0].substr(head.size()));
  WARN("the export note's measured LSTM-layer difference: " << measured);
  CHECK(measured > 1e-3);
  CHECK(measured <= 0.1);
  // Both forms import as the same network; the unrolled one also carries the gate and cell bits.
  check_round_trip(sc.net, prec, q.bytes);
  check_round_trip(sc.net, prec, o.bytes);
  const OnnxImport imp = import_onnx_bytes(q.bytes, "q.onnx");
  LayerPrecision back;
  for (const PrecisionOverride& p : imp.precision)
    if (p.match == "lstm") p.patch.apply_to(back);
  CHECK(back.gate_bits == 7);
  CHECK(back.cell_state_bits == 12);
  const std::string qpath = dir + "/quantized.onnx", opath = dir + "/operator.onnx";
  std::ofstream(qpath, std::ios::binary) << q.bytes;
  std::ofstream(opath, std::ios::binary) << o.bytes;
  if (!python_onnx_available()) {
    WARN("skipped: /usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx python3-numpy)");
    return;
  }
  CHECK(checker(qpath) == "ok\n");
  CHECK(checker(opath) == "ok\n");
  double worst_q = 0, worst_o = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const model::Tensor x = random_input(g, seed);
    const model::Tensor& y = g.forward(x);
    worst_q = std::max(worst_q, max_abs_diff(numpy_eval(qpath, x, dir), y));
    worst_o = std::max(worst_o, max_abs_diff(numpy_eval(opath, x, dir), y));
  }
  WARN("QAT LSTM unrolled (default): max |NumPy(ONNX) - mixprec| = " << worst_q
       << "; as the ONNX LSTM operator: " << worst_o);
  CHECK(worst_q <= 1e-5);
  CHECK(worst_o > 1e-3);  // the operator's float internals really differ
  CHECK(worst_o <= 0.1);
}

TEST_CASE("onnx export: reverse layers and LSTM initial states (both LSTM forms) round-trip and match NumPy",
          "[onnx][onnx_export][onnx_states]") {
  // A reverse GRU, a reverse LSTM with an initial state (every step), a BiLSTM with initial
  // states (final states), a head.
  const char* kStates = R"({
    "name": "states_net", "batch": 2, "input": {"frames": 5, "features": 4},
    "layers": [
      {"name": "g0", "kind": "gru", "hidden": 4, "reverse": true, "return_sequences": true},
      {"name": "r1", "kind": "lstm", "hidden": 5, "reverse": true, "initial_state": true, "return_sequences": true},
      {"name": "b2", "kind": "lstm", "hidden": 3, "bidirectional": true, "initial_state": true},
      {"name": "head", "kind": "linear", "out_features": 3}
    ]})";
  const std::string dir = test::temp_dir("onnx_export_states");
  const Scenario sc = load_scenario(write_scenario(dir, kStates));
  const std::vector<LstmForm> forms{
      {"fp32", {}, model::LstmExport::Quantized},
      {"int, QAT LSTMs unrolled", {{"g0", {6, 8, 5}}, {"r1", {5, 7, 6}}, {"b2", {8, 6, 4}}, {"head", {8, 8, 8}}},
       model::LstmExport::Quantized},
      {"int, LSTM operator", {{"g0", {6, 8, 5}}, {"head", {8, 8, 8}}}, model::LstmExport::Operator},
  };
  for (const LstmForm& f : forms) {
    SECTION(f.name) {
      const std::vector<LayerPrecision> prec = f.bits.empty() ? std::vector<LayerPrecision>{} : mixed(sc.net, f.bits);
      model::Graph g(sc.net, prec);
      calibrate(g);
      CHECK(randomize_initial_states(g, 3) == 6);  // r1: h, c; b2: h, c per direction
      model::OnnxExportOptions opt;
      opt.lstm = f.lstm;
      const model::OnnxExport e = model::export_onnx(g, "test.ckpt", opt);
      check_round_trip(sc.net, prec, e.bytes);
      // The imported initial states are the exported ones.
      const OnnxImport imp = import_onnx_bytes(e.bytes, "exported.onnx");
      std::map<std::string, std::vector<float>> back;
      for (const ImportedTensor& t : imp.params) back[t.name] = t.values;
      for (model::Param* p : g.params())
        if (p->name.find(".initial_") != std::string::npos) {
          INFO(p->name);
          REQUIRE(back.count(p->name) == 1);
          CHECK(back[p->name] == std::vector<float>(p->value.data(), p->value.data() + p->value.size()));
        }
      const std::string path = dir + "/states.onnx";
      std::ofstream(path, std::ios::binary) << e.bytes;
      if (!python_onnx_available()) {
        WARN("skipped: /usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx python3-numpy)");
        continue;
      }
      CHECK(checker(path) == "ok\n");
      const double worst = numpy_worst(path, g, dir, 3);
      WARN(f.name << ": reverse / initial-state layers, max |NumPy(ONNX) - mixprec| = " << worst);
      CHECK(worst <= 1e-5);
    }
  }
}

TEST_CASE("onnx export: layers running the first steps (steps < T) write sequence_lens, round-trip and match NumPy",
          "[onnx][onnx_export][onnx_states][steps]") {
  // A GRU over the first 3 of 5 steps (every step out: zero after step 2), a reverse LSTM with
  // an initial state over the first 4 (from step 3 down to 0), a BiLSTM over the first 2 (final
  // states), a head. Exported with sequence_lens = the steps for every sequence (the ONNX
  // operators and mixprec's unrolled QAT LSTM function alike); the NumPy evaluator runs
  // sequence_lens per the ONNX specification.
  const char* kSteps = R"({
    "name": "steps_net", "batch": 2, "input": {"frames": 5, "features": 4},
    "layers": [
      {"name": "g0", "kind": "gru", "hidden": 4, "steps": 3, "return_sequences": true},
      {"name": "r1", "kind": "lstm", "hidden": 5, "reverse": true, "initial_state": true, "steps": 4, "return_sequences": true},
      {"name": "b2", "kind": "lstm", "hidden": 3, "bidirectional": true, "steps": 2},
      {"name": "head", "kind": "linear", "out_features": 3}
    ]})";
  const std::string dir = test::temp_dir("onnx_export_steps");
  const Scenario sc = load_scenario(write_scenario(dir, kSteps));
  const std::vector<LstmForm> forms{
      {"fp32", {}, model::LstmExport::Quantized},
      {"int, QAT LSTMs unrolled", {{"g0", {6, 8, 5}}, {"r1", {5, 7, 6}}, {"b2", {8, 6, 4}}, {"head", {8, 8, 8}}},
       model::LstmExport::Quantized},
      {"int, LSTM operator", {{"g0", {6, 8, 5}}, {"r1", {5, 7, 6}}, {"head", {8, 8, 8}}}, model::LstmExport::Operator},
  };
  for (const LstmForm& f : forms) {
    SECTION(f.name) {
      const std::vector<LayerPrecision> prec = f.bits.empty() ? std::vector<LayerPrecision>{} : mixed(sc.net, f.bits);
      model::Graph g(sc.net, prec);
      calibrate(g);
      const bool op = f.lstm == model::LstmExport::Operator;
      CHECK(randomize_initial_states(g, 3) == 2);  // r1: h, c
      // mixprec's own output: g0's steps 3 and 4 are zero.
      const model::Tensor x0 = random_input(g, 9);
      g.forward(x0);
      const model::Tensor& y0 = g.output(0);
      REQUIRE(y0.dims() == model::Dims{2, 5, 4, 1});
      for (int b = 0; b < 2; ++b)
        for (int t = 0; t < 5; ++t) {
          INFO("g0 sequence " << b << " step " << t);
          int nonzero = 0;
          for (int j = 0; j < 4; ++j) nonzero += y0[(b * 5 + t) * 4 + j] != 0.0f;
          if (t >= 3) CHECK(nonzero == 0);
          else CHECK(nonzero > 0);
        }
      model::OnnxExportOptions opt;
      opt.lstm = f.lstm;
      const model::OnnxExport e = model::export_onnx(g, "test.ckpt", opt);
      check_round_trip(sc.net, prec, e.bytes);
      const std::string path = dir + "/steps.onnx";
      std::ofstream(path, std::ios::binary) << e.bytes;
      if (!python_onnx_available()) {
        WARN("skipped: /usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx python3-numpy)");
        continue;
      }
      CHECK(checker(path) == "ok\n");
      const double worst = numpy_worst(path, g, dir, 3);
      WARN(f.name << ": layers with steps < T, max |NumPy(ONNX) - mixprec| = " << worst);
      if (op) {  // r1 quantized, exported as the float operator: the note measures it on the same 4 steps
        REQUIRE(e.notes.size() == 1);
        const std::string head = "layer \"r1\": the ONNX LSTM operator computes gates, cell state and hidden state in float";
        REQUIRE(e.notes[0].compare(0, head.size(), head) == 0);
        const double measured = std::stod(e.notes[0].substr(e.notes[0].rfind(' ') + 1));
        WARN("the export note's measured r1 difference: " << measured);
        CHECK(measured <= 0.1);
        CHECK(worst <= 0.1);
      } else {
        CHECK(worst <= 1e-5);
      }
    }
  }
}

TEST_CASE("onnx export: an fp32 TT / HT LSTM is written as its dense product",
          "[onnx][onnx_export]") {
  for (const char* net : {kTtNet, kHtNet}) {
    const std::string name = nlohmann::json::parse(net).at("name");
    SECTION(name) {
      const std::string dir = test::temp_dir("onnx_export_tt");
      const Scenario sc = factorized_scenario(dir, net);
      model::Graph g(sc.net);
      calibrate(g);
      const model::OnnxExport e = model::export_onnx(g, "tt.ckpt");
      // Re-imported: a dense LSTM of the same shapes; its weights computed with mixprec's dense
      // LSTM give the factorized model's outputs.
      const OnnxImport imp = import_onnx_bytes(e.bytes, "tt.onnx");
      const Network back = build_network(imp.network, "tt.onnx");
      REQUIRE(back.layers.size() == 2);
      CHECK_FALSE(back.layers[0].factorization.active());
      CHECK(back.layers[0].out == sc.net.layers[0].out);
      model::Graph dense(back);
      model::assign_onnx_weights(dense, imp, "tt.onnx");
      dense.set_training(false);
      double worst = 0;
      for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const model::Tensor x = random_input(g, seed);
        const model::Tensor& y = g.forward(x);
        worst = std::max(worst, max_abs_diff(std::vector<float>(y.data(), y.data() + y.size()), dense.forward(x)));
      }
      WARN(name << ": factorized model vs its exported dense LSTM re-imported: max |difference| = " << worst);
      CHECK(worst <= 1e-5);
      if (python_onnx_available()) {
        const std::string path = dir + "/tt.onnx";
        std::ofstream(path, std::ios::binary) << e.bytes;
        CHECK(checker(path) == "ok\n");
        const double w2 = numpy_worst(path, g, dir, 3);
        WARN(name << ": max |NumPy(ONNX) - mixprec| = " << w2);
        CHECK(w2 <= 1e-5);
      }
    }
  }
}

TEST_CASE("onnx export: a quantized TT / HT LSTM, its projection contracted as mixprec runs it (QCDQ cores, quantized products)",
          "[onnx][onnx_export]") {
  struct Form {
    const char* name;
    std::array<int, 3> bits;  // weights (cores), activations (input and products, h), recurrent weights
    bool lsq;
    NumFormat format;
  };
  const std::vector<Form> forms{
      {"int8 products", {6, 8, 6}, false, NumFormat::Int},
      // 12-bit products and input: Div -> Clip -> Round -> Mul; LSQ steps for cores and products.
      {"12-bit products, lsq", {5, 12, 6}, true, NumFormat::Int},
      {"fp16", {16, 16, 16}, false, NumFormat::Fp16},
  };
  for (const char* net : {kTtNet, kHtNet})
    for (const Form& f : forms) {
      const std::string name = nlohmann::json::parse(net).at("name").get<std::string>() + " " + f.name;
      SECTION(name) {
        const std::string dir = test::temp_dir("onnx_export_qtt");
        const Scenario sc = factorized_scenario(dir, net);
        std::vector<LayerPrecision> prec = mixed(sc.net, {{"lstm", f.bits}, {"head", {8, 8, 8}}});
        if (f.format != NumFormat::Int) prec[0] = LayerPrecision::uniform(f.format, float_format_bits(f.format));
        model::GraphOptions gopt;
        if (f.lsq) gopt.range = model::RangeMethod::Lsq;
        model::Graph g(sc.net, prec, gopt);
        calibrate(g);
        const model::OnnxExport e = model::export_onnx(g, "q.ckpt");
        CHECK(e.notes.empty());
        // The graph: one MatMul per contraction step of the plan, each core a QCDQ (int) or
        // FLOAT16 (fp16) initializer, each product but the last quantized.
        const model::FactorizedLinear proj(
            "lstm", model::projection_options(sc.net.layers[0].factorization, &prec[0], gopt.range));
        const std::size_t steps = proj.plan().steps.size(), cores = proj.network().cores.size();
        onnx::ModelProto m;
        REQUIRE(m.ParseFromString(e.bytes));
        std::size_t matmuls = 0, core_dq = 0, products = 0;
        for (const onnx::NodeProto& n : m.graph().node()) {
          const std::string& nm = n.name();
          if (n.op_type() == "MatMul" && nm.rfind("lstm.", 0) == 0) ++matmuls;
          const bool to_float = n.op_type() == "DequantizeLinear" ||
                                (n.op_type() == "Cast" && nm.size() > 6 && nm.substr(nm.size() - 6) == "_float");
          if (to_float && nm.rfind("lstm.", 0) == 0 && nm.rfind("lstm.R", 0) != 0 && nm.find(".input") == std::string::npos)
            ++core_dq;
          const bool product = nm.find("_out.input") != std::string::npos;
          if (product && (to_float || n.op_type() == "Mul")) ++products;
        }
        CHECK(matmuls == steps);
        CHECK(core_dq == cores);
        CHECK(products == steps - 1);
        // mixprec's importer has no factorized layer: the contraction's first MatMul, which reads
        // the input's features split into modes, is refused with its reason.
        const bool tt = net == kTtNet;  // the plan's first step: TT core 2 (mode 4), HT leaf 3 (mode 2)
        CHECK_THROWS_WITH(import_onnx_bytes(e.bytes, "q.onnx"),
                          std::string("q.onnx: node \"lstm.") + (tt ? "tt_core2" : "ht_leaf3") +
                              ".matmul\" (MatMul): expected the last axis of " + (tt ? "[18, 4]" : "[36, 2]") +
                              " to be the features of the producing layer \"input\" in memory order, found a view "
                              "that mixes them with other dimensions (batch, steps) or reorders them");
        const std::string path = dir + "/q.onnx";
        std::ofstream(path, std::ios::binary) << e.bytes;
        // The operator form: the same projection, the ONNX LSTM operator's float cell, with the
        // difference measured on the layer's output in its note.
        model::OnnxExportOptions op_form;
        op_form.lstm = model::LstmExport::Operator;
        const model::OnnxExport o = model::export_onnx(g, "q.ckpt", op_form);
        REQUIRE(o.notes.size() == 1);
        const std::string head = "layer \"lstm\": the ONNX LSTM operator computes gates, cell state and hidden state in "
                                 "float (mixprec ";
        CHECK(o.notes[0].compare(0, head.size(), head) == 0);
        const std::string opath = dir + "/op.onnx";
        std::ofstream(opath, std::ios::binary) << o.bytes;
        if (!python_onnx_available()) {
          WARN("skipped: /usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx python3-numpy)");
          continue;
        }
        CHECK(checker(path) == "ok\n");
        CHECK(checker(opath) == "ok\n");
        double worst = 0, worst_op = 0;
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
          const model::Tensor x = random_input(g, seed);
          worst = std::max(worst, max_abs_diff(numpy_eval(path, x, dir), g.forward(x)));
          worst_op = std::max(worst_op, max_abs_diff(numpy_eval(opath, x, dir), g.forward(x)));
        }
        WARN(name << ": quantized TT / HT LSTM, max |NumPy(ONNX) - mixprec| = " << worst << " (LSTM operator form: "
                  << worst_op << "; its note: " << o.notes[0].substr(o.notes[0].rfind(' ') + 1) << ")");
        CHECK(worst <= 1e-5);
        CHECK(worst_op > worst);  // the operator's float cell really differs
      }
    }
}

TEST_CASE("onnx export: refusals name the layer, what was expected and what was found", "[onnx_export]") {
  const std::string dir = test::temp_dir("onnx_export_bad");
  const Scenario sc = load_scenario(write_scenario(dir, kCnnLstm));
  {
    // A quantized layer whose input quantizer never saw data.
    model::Graph g(sc.net, mixed(sc.net, {{"head", {8, 8, 8}}}));
    std::mt19937_64 rng(1);
    g.init(rng);
    CHECK_THROWS_WITH(model::export_onnx(g, "m.ckpt"),
                      "m.ckpt: layer \"head\": expected a range for the input quantizer (\"head.input_range\" or "
                      "\"head.input_step\"): a checkpoint trained quantization-aware at this precision, found none "
                      "(train with --precision first)");
  }
}

TEST_CASE("onnx export: mixprec train, export, import and eval from the command line", "[onnx_export]") {
  const std::string dir = test::temp_dir("onnx_export_cli");
  const std::string sc = write_scenario(dir, kCnnLstm);
  std::ofstream(dir + "/p.json") << R"({"mixprec_precision": 1, "default": {"format": "int", "weights": 8, "activations": 8},
    "layers": [{"match": "c2", "weights": 4, "activations": 6}, {"match": "lstm", "weights": 5, "recurrent_weights": 6}]})";
  const test::RunResult t = test::run_cli("train " + sc + " --precision " + dir + "/p.json --synthetic 16 --epochs 1 --out " +
                                          dir + "/run --no-progress");
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const test::RunResult e = test::run_cli("export " + sc + " --checkpoint " + dir + "/run/best.ckpt --precision " + dir +
                                          "/p.json --out " + dir + "/m.onnx");
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(e.err.find("wrote " + dir + "/m.onnx (7 layers, opset 17, precision " + dir + "/p.json)") != std::string::npos);
  CHECK(e.err.find("note:") == std::string::npos);  // the default LSTM form is what mixprec trained
  const test::RunResult imp = test::run_cli("import " + dir + "/m.onnx");
  REQUIRE(imp.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(imp.out);
  std::vector<std::string> names;
  for (const auto& l : j.at("network").at("layers")) names.push_back(l.at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"c1", "p1", "c2", "gap", "frames_to_sequence", "lstm", "head"});
  const nlohmann::json& layers = j.at("precision").at("layers");
  REQUIRE(layers.size() == 4);
  CHECK(layers[1] == nlohmann::json::parse(R"({"match": "c2", "format": "int", "weights": 4, "activations": 6})"));
  CHECK(layers[2] ==
        nlohmann::json::parse(R"({"match": "lstm", "format": "int", "weights": 5, "activations": 8,
                                   "recurrent_weights": 6, "gates": 8, "cell_state": 16})"));
  // --lstm operator: the ONNX LSTM operator, with a note on what it computes differently.
  const test::RunResult op = test::run_cli("export " + sc + " --checkpoint " + dir + "/run/best.ckpt --precision " + dir +
                                           "/p.json --lstm operator --out " + dir + "/op.onnx");
  REQUIRE(op.exit_code == 0);
  CHECK(op.err.find("note: layer \"lstm\": the ONNX LSTM operator computes gates, cell state and hidden state in "
                    "float (mixprec quantizes them to 8, 16 and 8 bits); measured on this layer's output for 4 random "
                    "N(0, 1) network inputs: max |difference| ") != std::string::npos);
  // The exported file evaluates through the scenario (weights dequantized from the graph).
  const test::RunResult ev = test::run_cli("eval " + sc + " --checkpoint " + dir + "/m.onnx --synthetic 16 --format json");
  INFO(ev.err);
  CHECK(ev.exit_code == 0);
  // An FP32 checkpoint has no quantizer ranges: exit 2 naming the checkpoint and the layer.
  const test::RunResult f = test::run_cli("train " + sc + " --synthetic 16 --epochs 1 --out " + dir + "/fp32 --no-progress");
  REQUIRE(f.exit_code == 0);
  const test::RunResult bad = test::run_cli("export " + sc + " --checkpoint " + dir + "/fp32/best.ckpt --precision " + dir +
                                            "/p.json --out " + dir + "/bad.onnx");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "error: " + dir + "/fp32/best.ckpt: layer \"c1\": expected a range for the input quantizer "
                   "(\"c1.input_range\" or \"c1.input_step\"): a checkpoint trained quantization-aware at this "
                   "precision, found none (train with --precision first)\n");
  std::ifstream none(dir + "/bad.onnx");
  CHECK(!none.good());
}

TEST_CASE("onnx export: import refuses broken export conventions with the node and the reason", "[onnx][onnx_export]") {
  const std::string dir = test::temp_dir("onnx_export_conv");
  const Scenario sc = load_scenario(write_scenario(dir, kCnnLstm));
  model::Graph g(sc.net, mixed(sc.net, {{"c1", {8, 12, 8}}, {"lstm", {6, 8, 5}}}));
  calibrate(g);
  const std::string bytes = model::export_onnx(g, "m.ckpt").bytes;
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes));
  SECTION("a quantized LSTM call without its function") {
    m.clear_functions();
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "m.onnx"),
                      "m.onnx: node \"lstm\" (QuantLSTM_lstm): expected the model-local function \"QuantLSTM_lstm\" it "
                      "calls (mixprec's quantized LSTM), found none in the model");
  }
  SECTION("a Div -> Clip -> Mul without its Round") {
    onnx::GraphProto* gp = m.mutable_graph();
    for (onnx::NodeProto& n : *gp->mutable_node())
      if (n.name() == "c1.input_mul") n.set_input(0, "c1.input_clip");
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "m.onnx"),
                      "m.onnx: node \"c1.input_mul\" (Mul): expected the fake quantization Div -> Clip -> Round -> Mul "
                      "of its input completed (next: Round), found a Mul after its Clip");
  }
  SECTION("a Mul by another step") {
    onnx::GraphProto* gp = m.mutable_graph();
    // Copy the scale under another name, at twice its value (adding to the repeated field after
    // the loop: add_initializer() may move the elements a loop reference points to).
    onnx::TensorProto copy;
    for (const onnx::TensorProto& t : gp->initializer())
      if (t.name() == "c1.input.scale") copy = t;
    REQUIRE(copy.name() == "c1.input.scale");
    float s;
    std::memcpy(&s, copy.raw_data().data(), 4);
    const float twice = 2 * s;
    copy.set_raw_data(std::string(reinterpret_cast<const char*>(&twice), 4));
    copy.set_name("other_scale");
    *gp->add_initializer() = copy;
    for (onnx::NodeProto& n : *gp->mutable_node())
      if (n.name() == "c1.input_mul") n.set_input(1, "other_scale");
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "m.onnx"),
                      Catch::StartsWith("m.onnx: node \"c1.input_mul\" (Mul): expected a Mul by the step the Div divided by ("));
  }
}

TEST_CASE("onnx export: the resnet18_bilstm template (residual adds, stacked BiLSTMs) at mixed precision", "[onnx][onnx_export]") {
  const Scenario sc = test::default_scenario_with(std::string(R"({"network": )") + test::kTinyNetworkPatch +
                                                  R"(, "precision": {"layers": []}})");
  std::vector<LayerPrecision> prec(sc.net.layers.size());
  for (std::size_t i = 0; i < prec.size(); ++i) {
    prec[i].weight_bits = 2 + int(i % 7);        // 2..8
    prec[i].activation_bits = 3 + int(i % 6);    // 3..8
    prec[i].recurrent_weight_bits = 4 + int(i % 5);
  }
  model::Graph g(sc.net, prec);
  calibrate(g);
  const model::OnnxExport e = model::export_onnx(g, "t.ckpt");
  CHECK(e.notes.empty());
  check_round_trip(sc.net, prec, e.bytes);
  if (!python_onnx_available()) {
    WARN("skipped: /usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx python3-numpy)");
    return;
  }
  const std::string dir = test::temp_dir("onnx_export_template");
  const std::string path = dir + "/model.onnx";
  std::ofstream(path, std::ios::binary) << e.bytes;
  CHECK(checker(path) == "ok\n");
  const double worst = numpy_worst(path, g, dir, 2);
  WARN("resnet18_bilstm (tiny) at mixed 2-8 bits: max |NumPy(ONNX) - mixprec| = " << worst << " ("
       << sc.net.layers.size() << " layers)");
  CHECK(worst <= 1e-5);
}
