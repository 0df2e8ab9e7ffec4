// ONNX import (core/onnx_import.hpp): ONNX's own LSTM/GRU node tests (Debian's
// libonnx-testdata), PyTorch-exported models (tests/onnx/make_models.py), quantized (QDQ)
// graphs, the layer names and MACs of an imported network, and the exact errors.
#include <catch2/catch.hpp>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "core/errors.hpp"
#include "core/onnx_import.hpp"
#include "core/scenario.hpp"
#include "model/graph.hpp"
#include "model/trainer.hpp"
#include "sim/workload.hpp"
#include "onnx_builders.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

const std::string kNodeTests = "/usr/share/libonnx-testdata/data/node/";

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

onnx::TensorProto read_pb(const std::string& path) {
  onnx::TensorProto t;
  REQUIRE(t.ParseFromString(read_bytes(path)));
  return t;
}

std::vector<float> floats(const onnx::TensorProto& t) {
  std::vector<float> v;
  if (t.has_raw_data()) {
    v.resize(t.raw_data().size() / 4);
    std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
  } else {
    v.assign(t.float_data().begin(), t.float_data().end());
  }
  return v;
}

// A node test's model with its data inputs 1.. (W, R, B, ...) turned into initializers and
// only `output` kept as the graph output.
std::string node_test_model(const std::string& test, const std::string& output) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_bytes(kNodeTests + test + "/model.onnx")));
  onnx::GraphProto* g = m.mutable_graph();
  for (int i = 1; i < g->input_size(); ++i) {
    onnx::TensorProto t = read_pb(kNodeTests + test + "/test_data_set_0/input_" + std::to_string(i) + ".pb");
    t.set_name(g->input(i).name());
    *g->add_initializer() = t;
  }
  while (g->input_size() > 1) g->mutable_input()->RemoveLast();
  for (int i = g->output_size() - 1; i >= 0; --i)
    if (g->output(i).name() != output) g->mutable_output()->DeleteSubrange(i, 1);
  REQUIRE(g->output_size() == 1);
  return m.SerializeAsString();
}

// The imported network's forward pass (fp32, evaluation mode) on x in mixprec's input layout.
std::vector<float> forward(const OnnxImport& imp, const std::vector<float>& x) {
  const Network net = build_network(imp.network, "test.onnx");
  model::Graph g(net);
  g.set_training(false);
  model::assign_onnx_weights(g, imp, "test.onnx");
  model::Tensor in(g.input_dims(net.batch));
  REQUIRE(in.size() == std::int64_t(x.size()));
  std::copy(x.begin(), x.end(), in.data());
  const model::Tensor& y = g.forward(in);
  return std::vector<float>(y.data(), y.data() + y.size());
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

// [T, B, F] -> [B, T, F]
std::vector<float> time_to_batch_major(const std::vector<float>& x, int T, int B, int F) {
  std::vector<float> y(x.size());
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b)
      for (int f = 0; f < F; ++f) y[size_t((b * T + t) * F + f)] = x[size_t((t * B + b) * F + f)];
  return y;
}

}  // namespace

TEST_CASE("onnx node tests: LSTM and GRU reproduce ONNX's expected outputs to 1e-5", "[onnx]") {
  if (!std::ifstream(kNodeTests + "test_lstm_defaults/model.onnx").good()) {
    WARN("libonnx-testdata is not installed (apt-get install libonnx-testdata): skipped");
    return;
  }
  struct Case {
    const char* test;
    const char* output;
    bool time_major;  // layout 0
    const char* kind;
  };
  const Case cases[] = {
      {"test_lstm_defaults", "Y_h", true, "lstm"},      {"test_lstm_with_initial_bias", "Y_h", true, "lstm"},
      {"test_lstm_batchwise", "Y_h", false, "lstm"},    {"test_lstm_batchwise", "Y", false, "lstm"},
      {"test_gru_defaults", "Y_h", true, "gru"},        {"test_gru_with_initial_bias", "Y_h", true, "gru"},
      {"test_gru_seq_length", "Y_h", true, "gru"},      {"test_gru_batchwise", "Y_h", false, "gru"},
      {"test_gru_batchwise", "Y", false, "gru"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.test << " " << c.output) {
      const OnnxImport imp = import_onnx_bytes(node_test_model(c.test, c.output), c.test);
      REQUIRE(imp.network.layers.size() == 1);
      const Layer& l = imp.network.layers[0].layer;
      CHECK(std::string(to_string(l.kind)) == c.kind);
      CHECK(l.return_sequences == (std::string(c.output) == "Y"));
      if (l.kind == LayerKind::Gru) CHECK_FALSE(l.linear_before_reset);  // ONNX's default
      const onnx::TensorProto xt = read_pb(kNodeTests + c.test + "/test_data_set_0/input_0.pb");
      std::vector<float> x = floats(xt);
      if (c.time_major) x = time_to_batch_major(x, int(xt.dims(0)), int(xt.dims(1)), int(xt.dims(2)));
      const int out_index = std::string(c.output) == "Y" ? 0 : (std::string(c.test).find("batchwise") != std::string::npos ? 1 : 0);
      const std::vector<float> want =
          floats(read_pb(kNodeTests + c.test + "/test_data_set_0/output_" + std::to_string(out_index) + ".pb"));
      const double err = max_abs_diff(forward(imp, x), want);
      INFO(c.test << " max |diff| " << err);
      CHECK(err <= 1e-5);
    }
  }
}

TEST_CASE("onnx node tests: LSTM peepholes are refused with the node and the reason", "[onnx]") {
  if (!std::ifstream(kNodeTests + "test_lstm_with_peepholes/model.onnx").good()) {
    WARN("libonnx-testdata is not installed: skipped");
    return;
  }
  CHECK_THROWS_WITH(import_onnx_bytes(node_test_model("test_lstm_with_peepholes", "Y_h"), "peep.onnx"),
                    "peep.onnx: node \"\" (LSTM): expected peephole weights P absent or all zeros (mixprec's LSTM "
                    "has no peepholes), found non-zero values");
}

namespace {

struct TorchIo {
  std::vector<float> input, output;
};

TorchIo torch_io(const std::string& name) {
  const nlohmann::json j = test::read_json(test::source_path("tests/onnx/data/" + name + "_io.json"));
  return TorchIo{j.at("input").get<std::vector<float>>(), j.at("output").get<std::vector<float>>()};
}

}  // namespace

TEST_CASE("onnx: PyTorch CNN-BiLSTM at opsets 11, 13, 17 imports and matches PyTorch to 1e-4", "[onnx]") {
  const TorchIo io = torch_io("cnn_bilstm");
  for (int opset : {11, 13, 17}) {
    DYNAMIC_SECTION("opset " << opset) {
      const std::string path = test::source_path("tests/onnx/data/cnn_bilstm_opset" + std::to_string(opset) + ".onnx");
      const OnnxImport imp = import_onnx_file(path);
      const Network net = build_network(imp.network, path);
      // Names are the sanitized node names; BN was folded by the exporter, ReLUs fuse, the
      // shape arithmetic around the LSTM folds away, a frames_to_sequence view is inserted.
      std::vector<std::string> names, kinds;
      for (const Layer& l : net.layers) {
        names.push_back(l.name);
        kinds.push_back(to_string(l.kind));
      }
      CHECK(names == std::vector<std::string>{"conv1.Conv", "pool.MaxPool", "conv2.Conv", "gap.GlobalAveragePool",
                                              "lstm.LSTM.frames_to_sequence", "lstm.LSTM", "head.Gemm"});
      CHECK(kinds == std::vector<std::string>{"conv2d", "pool", "conv2d", "pool", "frames_to_sequence", "lstm", "linear"});
      CHECK(net.layers[0].relu);
      CHECK(net.layers[2].relu);
      CHECK(net.layers[5].bidirectional);
      CHECK_FALSE(net.layers[5].return_sequences);  // Y_h
      CHECK(net.batch == 2);
      CHECK(net.frames == 4);
      CHECK(net.layers.back().out == Shape{2, 5, 1, 1, 1});
      const double err = max_abs_diff(forward(imp, io.input), io.output);
      INFO("max |diff| " << err);
      CHECK(err <= 1e-4);
    }
  }
}

TEST_CASE("onnx: PyTorch GRU (linear_before_reset 1) read at its last step matches PyTorch to 1e-4", "[onnx]") {
  const TorchIo io = torch_io("gru_last");
  for (int opset : {11, 14}) {
    DYNAMIC_SECTION("opset " << opset) {
      const std::string path = test::source_path("tests/onnx/data/gru_last_opset" + std::to_string(opset) + ".onnx");
      const OnnxImport imp = import_onnx_file(path);
      const Network net = build_network(imp.network, path);
      REQUIRE(net.layers.size() == 2);
      CHECK(net.layers[0].kind == LayerKind::Gru);
      CHECK(net.layers[0].linear_before_reset);
      CHECK_FALSE(net.layers[0].return_sequences);  // o[:, -1] of a unidirectional GRU
      CHECK(net.layers[0].in == Shape{2, 6, 1, 1, 5});
      const double err = max_abs_diff(forward(imp, io.input), io.output);
      INFO("max |diff| " << err);
      CHECK(err <= 1e-4);
    }
  }
}

TEST_CASE("onnx: the imported CNN-BiLSTM's MACs equal a hand count", "[onnx]") {
  const std::string path = test::source_path("tests/onnx/data/cnn_bilstm_opset13.onnx");
  const Network net = build_network(import_onnx_file(path).network, path);
  // conv1: 8 frames x 8x8 outputs x 8 channels x (3 x 3x3); conv2: 8 x 4x4 x 16 x (8 x 3x3);
  // BiLSTM: input projection 8 rows x (4 gates x 12 x 2 directions) x 16 features, recurrence
  // 2 directions x 4 steps x batch 2 x 48 x 12; head 2 x 5 x 24.
  const std::int64_t conv1 = 8 * 64 * 8 * 27, conv2 = 8 * 16 * 16 * 72;
  const std::int64_t lstm = 8 * 96 * 16 + 2 * 4 * 2 * 48 * 12, head = 2 * 5 * 24;
  CHECK(conv1 + conv2 + lstm + head == 279792);
  const std::vector<std::int64_t> want{conv1, 0, conv2, 0, 0, lstm, head};
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const sim::LayerWork w = sim::derive_work(net, int(i), LayerPrecision{}, Phase::Inference);
    std::int64_t macs = 0;
    for (const auto& g : w.gemms) macs += g.macs();
    INFO(net.layers[i].name);
    CHECK(macs == want[i]);
  }
}

TEST_CASE("onnx: a scenario with network {onnx} validates and simulates", "[onnx]") {
  const test::RunResult r =
      test::run_cli("simulate " + test::source_path("tests/onnx/data/cnn_bilstm.json") + " --format json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::int64_t macs = 0;
  for (const auto& l : j.at("layers")) macs += l.at("macs").get<std::int64_t>();
  CHECK(macs == 279792);
  CHECK(j.at("layers").at(5).at("name") == "lstm.LSTM");
  CHECK(j.at("total").at("energy_uj").get<double>() > 0);
}

namespace {


onnx::TensorProto int8_tensor(const std::string& name, std::vector<std::int64_t> dims, const std::vector<int>& v) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT8);
  for (auto d : dims) t.add_dims(d);
  for (int x : v) t.add_int32_data(x);
  return t;
}

onnx::NodeProto* node(onnx::GraphProto* g, const std::string& name, const std::string& op,
                      std::vector<std::string> in, std::vector<std::string> out) {
  onnx::NodeProto* n = g->add_node();
  n->set_name(name);
  n->set_op_type(op);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}


// x [1, 4] -> (QuantizeLinear int8, Clip [-8, 7], DequantizeLinear) -> MatMul with weights
// DequantizeLinear(Clip(int8 W, -2, 1)) -> y [1, 3]: activations at 4 bits, weights at 2.
onnx::ModelProto qdq_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("qdq");
  test::value_info(g->add_input(), "x", {1, 4});
  test::value_info(g->add_output(), "y", {1, 3});
  *g->add_initializer() = test::float_tensor("s_x", {}, {0.1f});
  *g->add_initializer() = int8_tensor("z_x", {}, {0});
  *g->add_initializer() = int8_tensor("lo", {}, {-8});
  *g->add_initializer() = int8_tensor("hi", {}, {7});
  *g->add_initializer() = int8_tensor("wq", {4, 3}, {1, -2, 0, 1, 1, -1, -2, 0, 1, 0, 1, -1});
  *g->add_initializer() = int8_tensor("wlo", {}, {-2});
  *g->add_initializer() = int8_tensor("whi", {}, {1});
  *g->add_initializer() = test::float_tensor("s_w", {}, {0.5f});
  node(g, "q", "QuantizeLinear", {"x", "s_x", "z_x"}, {"xq"});
  node(g, "clip", "Clip", {"xq", "lo", "hi"}, {"xc"});
  node(g, "dq", "DequantizeLinear", {"xc", "s_x", "z_x"}, {"xd"});
  node(g, "wclip", "Clip", {"wq", "wlo", "whi"}, {"wc"});
  node(g, "wdq", "DequantizeLinear", {"wc", "s_w"}, {"w"});
  node(g, "fc/MatMul", "MatMul", {"xd", "w"}, {"y"});
  return m;
}

}  // namespace

TEST_CASE("onnx: a QDQ (QCDQ) model imports with the bits it carries", "[onnx]") {
  const OnnxImport imp = import_onnx_bytes(qdq_model().SerializeAsString(), "qdq.onnx");
  REQUIRE(imp.network.layers.size() == 1);
  CHECK(imp.network.layers[0].layer.name == "fc.MatMul");
  REQUIRE(imp.precision.size() == 1);
  const PrecisionPatch& p = imp.precision[0].patch;
  CHECK(imp.precision[0].match == "fc.MatMul");
  CHECK(p.format == NumFormat::Int);
  CHECK(p.activation_bits == 4);  // Clip [-8, 7]
  CHECK(p.weight_bits == 2);      // Clip [-2, 1]
  // Weights: dequantized, clipped, transposed to (out, in): row 0 = column 0 of W.
  REQUIRE(imp.params.size() == 1);
  CHECK(imp.params[0].name == "fc.MatMul.weight");
  REQUIRE(imp.params[0].values.size() == 12);
  CHECK(std::vector<float>(imp.params[0].values.begin(), imp.params[0].values.begin() + 4) ==
        std::vector<float>{0.5f, 0.5f, -1.0f, 0.0f});
  // A scenario on the model: the layer resolves to those bits, the scenario's overrides win.
  const std::string dir = test::temp_dir("onnx_qdq");
  {
    std::ofstream(dir + "/qdq.onnx", std::ios::binary) << qdq_model().SerializeAsString();
  }
  const std::string sc_text = test::read_json(test::source_path("tests/onnx/data/cnn_bilstm.json")).dump();
  nlohmann::json sc = nlohmann::json::parse(sc_text);
  sc["network"] = {{"onnx", "qdq.onnx"}};
  std::ofstream(dir + "/s.json") << sc.dump();
  const Scenario s = load_scenario(dir + "/s.json");
  CHECK(s.layer_precision[0].activation_bits == 4);
  CHECK(s.layer_precision[0].weight_bits == 2);
  sc["precision"] = {{"layers", {{{"match", "fc.MatMul"}, {"weights", 6}}}}};
  std::ofstream(dir + "/s2.json") << sc.dump();
  const Scenario s2 = load_scenario(dir + "/s2.json");
  CHECK(s2.layer_precision[0].activation_bits == 4);
  CHECK(s2.layer_precision[0].weight_bits == 6);
}

TEST_CASE("onnx: unsupported operators and malformed files give exact errors", "[onnx]") {
  SECTION("an unsupported operator names the node, the type, the file and the supported list") {
    onnx::ModelProto m = qdq_model();
    onnx::NodeProto* n = m.mutable_graph()->mutable_node(5);
    n->set_op_type("Softmax");
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "m.onnx"),
                      "m.onnx: node \"fc/MatMul\" (Softmax): expected a supported operator (Add, AveragePool, "
                      "BatchNormalization, Cast, Clip, Concat, Constant, ConstantOfShape, Conv, DequantizeLinear, "
                      "Div, Dropout, Expand, Flatten, GRU, Gather, Gemm, GlobalAveragePool, Identity, LSTM, MatMul, "
                      "MaxPool, Mul, QLinearConv, QLinearMatMul, QuantizeLinear, Relu, Reshape, Round, Shape, Sigmoid, "
                      "Slice, Squeeze, Sub, Tanh, Transpose, Unsqueeze), found \"Softmax\"");
  }
  SECTION("an empty file") {
    CHECK_THROWS_WITH(import_onnx_bytes("", "e.onnx"),
                      "e.onnx: /: expected an ONNX model (a serialized onnx.ModelProto), found an empty file");
  }
  SECTION("bytes that are not a model") {
    CHECK_THROWS_WITH(import_onnx_bytes(std::string("\xff\xff\xff\xff not onnx", 13), "x.onnx"),
                      "x.onnx: /: expected an ONNX model (a serialized onnx.ModelProto), found bytes that do not "
                      "parse as one (truncated or not an ONNX file)");
  }
  SECTION("every truncation of a real model is a SpecError, never a crash") {
    const std::string full = read_bytes(test::source_path("tests/onnx/data/gru_last_opset14.onnx"));
    int errors = 0;
    for (std::size_t cut = 0; cut < full.size(); cut += 7) {
      try {
        import_onnx_bytes(full.substr(0, cut), "t.onnx");
      } catch (const SpecError& e) {
        ++errors;
        CHECK(std::string(e.what()).rfind("t.onnx: ", 0) == 0);
      }
    }
    CHECK(errors == int((full.size() + 6) / 7));
  }
  SECTION("a tensor whose raw data is shorter than its dims") {
    onnx::ModelProto m = qdq_model();
    onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(4);
    w->clear_int32_data();
    w->set_raw_data(std::string(5, '\0'));
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "r.onnx"),
                      "r.onnx: initializer \"wq\": expected 12 bytes of raw data for dims [4, 3], found 5 (truncated "
                      "or malformed tensor)");
  }
  SECTION("a graph with two network inputs") {
    onnx::ModelProto m = qdq_model();
    test::value_info(m.mutable_graph()->add_input(), "x2", {1, 4});
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "i.onnx"),
                      "i.onnx: /graph/input: expected one network input (every other graph input an initializer), "
                      "found 2 (\"x\", \"x2\")");
  }
  SECTION("a dangling input name") {
    onnx::ModelProto m = qdq_model();
    m.mutable_graph()->mutable_node(5)->set_input(1, "nowhere");
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "d.onnx"),
                      "d.onnx: node \"fc/MatMul\" (MatMul): expected input \"nowhere\" to be a graph input, an "
                      "initializer or an earlier node's output, found no such tensor (the graph is not in "
                      "topological order or the name is dangling)");
  }
  SECTION("the CLI exits 2 with the message") {
    const std::string dir = test::temp_dir("onnx_err");
    std::ofstream(dir + "/bad.onnx") << "not an onnx file";
    const test::RunResult r = test::run_cli("import " + dir + "/bad.onnx");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad.onnx: /: expected an ONNX model") != std::string::npos);
  }
}

TEST_CASE("onnx: the last step of a bidirectional LSTM is refused with the reason", "[onnx]") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  test::value_info(g->add_input(), "x", {3, 1, 2});  // [T, B, F] into a layout-0 LSTM
  test::value_info(g->add_output(), "last", {1, 2, 1});
  *g->add_initializer() = test::float_tensor("W", {2, 8, 2}, std::vector<float>(32, 0.1f));
  *g->add_initializer() = test::float_tensor("R", {2, 8, 2}, std::vector<float>(32, 0.1f));
  onnx::TensorProto idx;
  idx.set_name("idx");
  idx.set_data_type(onnx::TensorProto::INT64);
  idx.add_int64_data(-1);
  *g->add_initializer() = idx;
  onnx::NodeProto* l = node(g, "rnn", "LSTM", {"x", "W", "R"}, {"Y"});
  auto* a = l->add_attribute();
  a->set_name("hidden_size");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(2);
  auto* d = l->add_attribute();
  d->set_name("direction");
  d->set_type(onnx::AttributeProto::STRING);
  d->set_s("bidirectional");
  node(g, "pick", "Gather", {"Y", "idx"}, {"last"});
  CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "b.onnx"),
                    "b.onnx: node \"pick\" (Gather): expected the last step of a unidirectional layer (the reverse "
                    "direction's output at the last step has read one input; take the final states Y_h instead, "
                    "e.g. PyTorch's h_n), found the last step of the bidirectional layer \"rnn\"");
}

TEST_CASE("onnx: import writes the explicit layer list and the scenario form builds the same network", "[onnx]") {
  const std::string dir = test::temp_dir("onnx_cli");
  const std::string model = test::source_path("tests/onnx/data/cnn_bilstm_opset13.onnx");
  const test::RunResult r = test::run_cli("import " + model + " --into " +
                                          test::source_path("tests/onnx/data/cnn_bilstm.json") + " --out " + dir + "/s.json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = test::read_json(dir + "/s.json");
  CHECK(j.at("network").at("layers").size() == 7);
  CHECK(j.at("network").at("layers").at(5).at("kind") == "lstm");
  const Scenario a = load_scenario(dir + "/s.json");
  const Scenario b = load_scenario(test::source_path("tests/onnx/data/cnn_bilstm.json"));
  REQUIRE(a.net.layers.size() == b.net.layers.size());
  for (std::size_t i = 0; i < a.net.layers.size(); ++i) {
    CHECK(a.net.layers[i].name == b.net.layers[i].name);
    CHECK(a.net.layers[i].out == b.net.layers[i].out);
  }
  CHECK(a.net.parameter_count() == b.net.parameter_count());
}

TEST_CASE("onnx: load_weights reads a .onnx path (train --init-from, eval --checkpoint)", "[onnx]") {
  const std::string path = test::source_path("tests/onnx/data/cnn_bilstm_opset13.onnx");
  const Scenario sc = load_scenario(test::source_path("tests/onnx/data/cnn_bilstm.json"));
  model::Graph g(sc.net);
  g.set_training(false);
  const std::vector<std::string> missing = model::load_weights(g, path);
  CHECK(missing.empty());
  const TorchIo io = torch_io("cnn_bilstm");
  model::Tensor in(g.input_dims(sc.net.batch));
  std::copy(io.input.begin(), io.input.end(), in.data());
  const model::Tensor& y = g.forward(in);
  CHECK(max_abs_diff(std::vector<float>(y.data(), y.data() + y.size()), io.output) <= 1e-4);
  // Another network's file is refused, naming the first differing layer.
  model::Graph other(sc.net);
  CHECK_THROWS_WITH(model::load_weights(other, test::source_path("tests/onnx/data/gru_last_opset14.onnx")),
                    Catch::Contains("the ONNX graph has 2 layers, the scenario's network 7"));
}

TEST_CASE("onnx: train --init-from and eval --checkpoint take the ONNX weights", "[onnx]") {
  const std::string dir = test::temp_dir("onnx_train");
  const std::string sc = test::source_path("tests/onnx/data/cnn_bilstm.json");
  const std::string model = test::source_path("tests/onnx/data/cnn_bilstm_opset13.onnx");
  const test::RunResult e1 = test::run_cli("eval " + sc + " --checkpoint " + model + " --synthetic 16 --format json");
  INFO(e1.err);
  REQUIRE(e1.exit_code == 0);
  const test::RunResult e2 = test::run_cli("eval " + sc + " --checkpoint " + model + " --synthetic 16 --format json");
  REQUIRE(e2.exit_code == 0);
  const double loss = nlohmann::json::parse(e1.out).at("loss").get<double>();
  CHECK(loss == nlohmann::json::parse(e2.out).at("loss").get<double>());  // deterministic
  const test::RunResult t = test::run_cli("train " + sc + " --init-from " + model + " --synthetic 16 --epochs 1 --out " +
                                          dir + "/run --no-progress");
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const nlohmann::json s = test::read_json(dir + "/run/summary.json");
  CHECK(s.dump().find("cnn_bilstm_opset13.onnx") != std::string::npos);  // initialized_from
  // A scenario whose network is not the file's: exit 2 with the reason.
  const test::RunResult bad = test::run_cli("eval " + sc + " --checkpoint " +
                                            test::source_path("tests/onnx/data/gru_last_opset14.onnx") + " --synthetic 16");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("the ONNX graph has 2 layers, the scenario's network 7") != std::string::npos);
}

TEST_CASE("onnx: Conv + BatchNormalization (own epsilon) + Relu fold into one conv2d and match a direct computation", "[onnx]") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  test::value_info(g->add_input(), "x", {1, 2, 4, 4});
  test::value_info(g->add_output(), "y", {1, 3, 4, 4});
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto rnd = [&](int n, float lo, float hi) {
    std::vector<float> v(size_t(n), 0.0f);
    for (float& x : v) x = lo + (hi - lo) * (0.5f * (u(rng) + 1.0f));
    return v;
  };
  const std::vector<float> W = rnd(54, -1, 1), B = rnd(3, -0.5f, 0.5f), gam = rnd(3, 0.5f, 1.5f), bet = rnd(3, -0.3f, 0.3f),
                           mu = rnd(3, -0.2f, 0.2f), var = rnd(3, 0.5f, 1.5f), X = rnd(32, -1, 1);
  *g->add_initializer() = test::float_tensor("W", {3, 2, 3, 3}, W);
  *g->add_initializer() = test::float_tensor("B", {3}, B);
  *g->add_initializer() = test::float_tensor("gamma", {3}, gam);
  *g->add_initializer() = test::float_tensor("beta", {3}, bet);
  *g->add_initializer() = test::float_tensor("mean", {3}, mu);
  *g->add_initializer() = test::float_tensor("var", {3}, var);
  onnx::NodeProto* c = node(g, "conv", "Conv", {"x", "W", "B"}, {"c"});
  auto* pads = c->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  onnx::NodeProto* bn = node(g, "bn", "BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"b"});
  auto* eps = bn->add_attribute();
  eps->set_name("epsilon");
  eps->set_type(onnx::AttributeProto::FLOAT);
  eps->set_f(1e-3f);
  node(g, "relu", "Relu", {"b"}, {"y"});
  const OnnxImport imp = import_onnx_bytes(m.SerializeAsString(), "bn.onnx");
  REQUIRE(imp.network.layers.size() == 1);
  const Layer& l = imp.network.layers[0].layer;
  CHECK(l.batchnorm);
  CHECK(l.relu);
  CHECK_FALSE(l.bias);  // moved into the BatchNorm mean
  std::vector<float> want(48);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        double s = B[size_t(o)];
        for (int ci = 0; ci < 2; ++ci)
          for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) {
              const int y = i + a - 1, x = j + b - 1;
              if (y < 0 || y >= 4 || x < 0 || x >= 4) continue;
              s += double(W[size_t(((o * 2 + ci) * 3 + a) * 3 + b)]) * X[size_t((ci * 4 + y) * 4 + x)];
            }
        const double v = gam[size_t(o)] * (s - mu[size_t(o)]) / std::sqrt(double(var[size_t(o)]) + 1e-3) + bet[size_t(o)];
        want[size_t((o * 4 + i) * 4 + j)] = float(std::max(0.0, v));
      }
  CHECK(max_abs_diff(forward(imp, X), want) <= 1e-5);
}

TEST_CASE("onnx: QLinearConv imports as a conv2d with dequantized weights, its bias and 8-bit precision", "[onnx]") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  test::value_info(g->add_input(), "x", {1, 1, 3, 3});
  test::value_info(g->add_output(), "y", {1, 2, 2, 2});
  onnx::TensorProto zp_u8;
  zp_u8.set_name("zx");
  zp_u8.set_data_type(onnx::TensorProto::UINT8);
  zp_u8.add_int32_data(128);
  *g->add_initializer() = zp_u8;
  zp_u8.set_name("zy");
  *g->add_initializer() = zp_u8;
  *g->add_initializer() = test::float_tensor("sx", {}, {0.1f});
  *g->add_initializer() = test::float_tensor("sy", {}, {0.2f});
  *g->add_initializer() = int8_tensor("w", {2, 1, 2, 2}, {1, -2, 3, -4, 5, 6, -7, 8});
  *g->add_initializer() = test::float_tensor("sw", {2}, {0.05f, 0.5f});  // per output channel
  *g->add_initializer() = int8_tensor("zw", {}, {0});
  onnx::TensorProto b;
  b.set_name("b");
  b.set_data_type(onnx::TensorProto::INT32);
  b.add_dims(2);
  b.add_int32_data(100);
  b.add_int32_data(-20);
  *g->add_initializer() = b;
  node(g, "q", "QuantizeLinear", {"x", "sx", "zx"}, {"xq"});
  node(g, "qconv", "QLinearConv", {"xq", "sx", "zx", "w", "sw", "zw", "sy", "zy", "b"}, {"yq"});
  node(g, "dq", "DequantizeLinear", {"yq", "sy", "zy"}, {"y"});
  const OnnxImport imp = import_onnx_bytes(m.SerializeAsString(), "ql.onnx");
  REQUIRE(imp.network.layers.size() == 1);
  CHECK(imp.network.layers[0].layer.kind == LayerKind::Conv2d);
  REQUIRE(imp.params.size() == 2);
  CHECK(imp.params[0].values[1] == Approx(-0.1f));  // -2 * 0.05
  CHECK(imp.params[0].values[4] == Approx(2.5f));   // 5 * 0.5
  CHECK(imp.params[1].values[0] == Approx(100 * 0.1 * 0.05));
  CHECK(imp.params[1].values[1] == Approx(-20 * 0.1 * 0.5));
  REQUIRE(imp.precision.size() == 1);
  CHECK(imp.precision[0].patch.activation_bits == 8);
  CHECK(imp.precision[0].patch.weight_bits == 8);
}
