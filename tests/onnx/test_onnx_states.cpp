// ONNX import of recurrent layers beyond a forward zero-state run over whole sequences:
// direction "reverse", constant initial states (initial_h / initial_c become the layer's
// parameters), sequence_lens; the refused forms with their exact messages; and the export of
// such layers. Reference: tests/onnx_export/onnx_numpy_eval.py (written from the ONNX operator
// specification, NumPy only) on models generated here.
#include <catch2/catch.hpp>

#include <map>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>

#include "core/errors.hpp"
#include "core/onnx_import.hpp"
#include "core/scenario.hpp"
#include "model/graph.hpp"
#include "model/onnx_export.hpp"
#include "model/trainer.hpp"
#include "sim/workload.hpp"
#include "onnx_builders.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

using I64 = std::int64_t;
const char* kPython = "/usr/bin/python3";

bool python_onnx_available() {
  static const bool ok =
      std::system((std::string(kPython) + " -c 'import onnx, numpy' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

std::vector<float> randoms(std::size_t n, std::uint64_t seed, float scale = 0.5f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}



void set_attr(onnx::NodeProto* n, const std::string& name, I64 v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void set_attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

// One LSTM (or GRU) node on the graph input: X [T, B, F] (layout 0) or [B, T, F] (layout 1),
// random W, R, B; the graph output is Y or Y_h.
struct RnnCase {
  std::string op = "LSTM", direction = "forward";
  int layout = 0;
  I64 T = 4, B = 2, F = 3, H = 5;
  bool read_y = false;                // Y (every step) or Y_h
  std::vector<float> h0, c0;          // initial_h / initial_c initializers (empty: absent)
  std::vector<I64> seq_lens;          // sequence_lens initializer (empty: absent)
  std::string graph_input;            // "sequence_lens", "initial_h" or "initial_c" as a graph input
  I64 D() const { return direction == "bidirectional" ? 2 : 1; }
  I64 G() const { return op == "LSTM" ? 4 : 3; }
  std::vector<I64> x_dims() const { return layout == 0 ? std::vector<I64>{T, B, F} : std::vector<I64>{B, T, F}; }
  std::vector<I64> state_dims() const { return layout == 0 ? std::vector<I64>{D(), B, H} : std::vector<I64>{B, D(), H}; }
};

onnx::ModelProto rnn_model(const RnnCase& c) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(14);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("rnn");
  test::value_info(g->add_input(), "x", c.x_dims());
  const I64 D = c.D(), G = c.G(), H = c.H;
  *g->add_initializer() = test::float_tensor("W", {D, G * H, c.F}, randoms(size_t(D * G * H * c.F), 1));
  *g->add_initializer() = test::float_tensor("R", {D, G * H, H}, randoms(size_t(D * G * H * H), 2));
  *g->add_initializer() = test::float_tensor("B", {D, 2 * G * H}, randoms(size_t(D * 2 * G * H), 3, 0.2f));
  std::vector<std::string> in{"x", "W", "R", "B", "", "", ""};
  if (!c.seq_lens.empty()) {
    onnx::TensorProto t;
    t.set_name("seq_lens");
    t.set_data_type(onnx::TensorProto::INT32);
    t.add_dims(I64(c.seq_lens.size()));
    for (I64 v : c.seq_lens) t.add_int32_data(int(v));
    *g->add_initializer() = t;
    in[4] = "seq_lens";
  }
  if (!c.h0.empty()) {
    *g->add_initializer() = test::float_tensor("h0", c.state_dims(), c.h0);
    in[5] = "h0";
  }
  if (!c.c0.empty()) {
    *g->add_initializer() = test::float_tensor("c0", c.state_dims(), c.c0);
    in[6] = "c0";
  }
  if (c.graph_input == "sequence_lens") {
    test::value_info(g->add_input(), "lens", {c.B}, onnx::TensorProto::INT32);
    in[4] = "lens";
  } else if (c.graph_input == "initial_h" || c.graph_input == "initial_c") {
    const std::string nm = c.graph_input == "initial_h" ? "h_in" : "c_in";
    test::value_info(g->add_input(), nm, c.state_dims());
    in[c.graph_input == "initial_h" ? 5 : 6] = nm;
  }
  if (c.op == "GRU") in.resize(6);
  while (!in.empty() && in.back().empty()) in.pop_back();
  onnx::NodeProto* n = g->add_node();
  n->set_name("rnn");
  n->set_op_type(c.op);
  for (const auto& s : in) n->add_input(s);
  n->add_output("Y");
  n->add_output("Y_h");
  set_attr(n, "hidden_size", H);
  set_attr(n, "direction", c.direction);
  set_attr(n, "layout", I64(c.layout));
  if (c.read_y)
    test::value_info(g->add_output(), "Y", c.layout == 0 ? std::vector<I64>{c.T, D, c.B, H} : std::vector<I64>{c.B, c.T, D, H});
  else
    test::value_info(g->add_output(), "Y_h", c.state_dims());
  return m;
}

// The imported network's evaluation-mode forward pass on x (mixprec's layout [B, T, F]).
std::vector<float> mixprec_forward(const OnnxImport& imp, const std::vector<float>& x) {
  const Network net = build_network(imp.network, "s.onnx");
  model::Graph g(net);
  g.set_training(false);
  model::assign_onnx_weights(g, imp, "s.onnx");
  model::Tensor in(g.input_dims(net.batch));
  REQUIRE(in.size() == I64(x.size()));
  std::copy(x.begin(), x.end(), in.data());
  const model::Tensor& y = g.forward(in);
  return std::vector<float>(y.data(), y.data() + y.size());
}

// The NumPy evaluator on `m` with the graph input's values in memory order.
std::vector<float> numpy_forward(const onnx::ModelProto& m, const std::vector<float>& x, const std::string& dir) {
  {
    std::ofstream f(dir + "/m.onnx", std::ios::binary);
    f << m.SerializeAsString();
  }
  nlohmann::json in;
  in["values"] = x;
  std::ofstream(dir + "/in.json") << in.dump();
  const std::string cmd = std::string(kPython) + " " + test::source_path("tests/onnx_export/onnx_numpy_eval.py") + " " +
                          dir + "/m.onnx " + dir + "/in.json " + dir + "/out.json";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return test::read_json(dir + "/out.json").at("values").get<std::vector<float>>();
}

// [T, B, F] <-> [B, T, F] (and [T, D, B, H] -> [B, T, D, H] for a layout-0 Y, [D, B, H] ->
// [B, D, H] for Y_h: mixprec's output order).
std::vector<float> swap01(const std::vector<float>& v, I64 a, I64 b, I64 inner) {
  std::vector<float> y(v.size());
  for (I64 i = 0; i < a; ++i)
    for (I64 j = 0; j < b; ++j)
      std::copy_n(v.begin() + (i * b + j) * inner, inner, y.begin() + (j * a + i) * inner);
  return y;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

// Imports c's model, runs mixprec and the NumPy reference on one random input; max |diff|.
double import_vs_reference(const RnnCase& c, const std::string& dir, Layer* layer_out = nullptr) {
  const onnx::ModelProto m = rnn_model(c);
  const OnnxImport imp = import_onnx_bytes(m.SerializeAsString(), "s.onnx");
  REQUIRE(imp.network.layers.size() == 1);
  if (layer_out) *layer_out = imp.network.layers[0].layer;
  const std::vector<float> x_onnx = randoms(size_t(c.T * c.B * c.F), 11, 1.0f);
  const std::vector<float> x_mix = c.layout == 0 ? swap01(x_onnx, c.T, c.B, c.F) : x_onnx;
  std::vector<float> want = numpy_forward(m, x_onnx, dir);
  if (c.layout == 0) {
    if (c.read_y) {  // [T, D, B, H] -> [T, B, D, H] -> [B, T, D, H]
      std::vector<float> y(want.size());
      for (I64 t = 0; t < c.T; ++t) {
        const std::vector<float> part(want.begin() + t * c.D() * c.B * c.H, want.begin() + (t + 1) * c.D() * c.B * c.H);
        const std::vector<float> sw = swap01(part, c.D(), c.B, c.H);
        std::copy(sw.begin(), sw.end(), y.begin() + t * c.D() * c.B * c.H);
      }
      want = swap01(y, c.T, c.B, c.D() * c.H);
    } else {
      want = swap01(want, c.D(), c.B, c.H);
    }
  }
  return max_abs_diff(mixprec_forward(imp, x_mix), want);
}

std::string import_error(const RnnCase& c) {
  try {
    import_onnx_bytes(rnn_model(c).SerializeAsString(), "s.onnx");
  } catch (const SpecError& e) {
    return e.what();
  }
  return "(imported)";
}

// A Gather node "pick" of the recurrent node's Y at step `index` (an INT64 initializer "idx"),
// made the graph's output "last" in place of Y.
void gather_step_of_y(onnx::GraphProto& g, std::int64_t index) {
  onnx::TensorProto idx;
  idx.set_name("idx");
  idx.set_data_type(onnx::TensorProto::INT64);
  idx.add_int64_data(index);
  *g.add_initializer() = idx;
  onnx::NodeProto* n = g.add_node();
  n->set_name("pick");
  n->set_op_type("Gather");
  n->add_input("Y");
  n->add_input("idx");
  n->add_output("last");
  g.mutable_output(0)->set_name("last");
}

}  // namespace

TEST_CASE("onnx: reverse, initial states and full sequence_lens match the ONNX reference", "[onnx][onnx_states]") {
  if (!python_onnx_available()) {
    WARN("/usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx): skipped");
    return;
  }
  const std::string dir = test::temp_dir("onnx_states");
  RnnCase c;
  const I64 H = c.H;
  SECTION("reverse LSTM, layout 0, every step (Y)") {
    c.direction = "reverse";
    c.read_y = true;
    Layer l;
    const double err = import_vs_reference(c, dir, &l);
    WARN("max |mixprec - NumPy(ONNX)| = " << err);
    CHECK(err <= 1e-5);
    CHECK(l.reverse);
    CHECK_FALSE(l.bidirectional);
    CHECK_FALSE(l.initial_state);
  }
  SECTION("reverse LSTM, layout 1, final state (Y_h)") {
    c.direction = "reverse";
    c.layout = 1;
    const double err = import_vs_reference(c, dir);
    WARN("max |mixprec - NumPy(ONNX)| = " << err);
    CHECK(err <= 1e-5);
  }
  SECTION("bidirectional LSTM with initial states, layout 0, Y_h") {
    c.direction = "bidirectional";
    const std::vector<float> h = randoms(size_t(2 * H), 5), cc = randoms(size_t(2 * H), 6);
    for (I64 d = 0; d < 2; ++d)  // [D, B, H], the same rows for both sequences
      for (I64 b = 0; b < c.B; ++b) {
        c.h0.insert(c.h0.end(), h.begin() + d * H, h.begin() + (d + 1) * H);
        c.c0.insert(c.c0.end(), cc.begin() + d * H, cc.begin() + (d + 1) * H);
      }
    Layer l;
    const double err = import_vs_reference(c, dir, &l);
    WARN("max |mixprec - NumPy(ONNX)| = " << err);
    CHECK(err <= 1e-5);
    CHECK(l.initial_state);
    CHECK(l.bias_count() == 2 * 6 * H);  // gate biases + initial_h + initial_c per direction
  }
  SECTION("bidirectional LSTM with initial states, layout 1, every step (Y)") {
    c.direction = "bidirectional";
    c.layout = 1;
    c.read_y = true;
    const std::vector<float> h = randoms(size_t(2 * H), 7), cc = randoms(size_t(2 * H), 8);
    for (I64 b = 0; b < c.B; ++b) {  // [B, D, H]
      c.h0.insert(c.h0.end(), h.begin(), h.end());
      c.c0.insert(c.c0.end(), cc.begin(), cc.end());
    }
    const double err = import_vs_reference(c, dir);
    WARN("max |mixprec - NumPy(ONNX)| = " << err);
    CHECK(err <= 1e-5);
  }
  SECTION("reverse LSTM with only initial_h and sequence_lens all equal to T") {
    c.direction = "reverse";
    c.layout = 1;
    c.seq_lens = {c.T, c.T};
    const std::vector<float> h = randoms(size_t(H), 9);
    for (I64 b = 0; b < c.B; ++b) c.h0.insert(c.h0.end(), h.begin(), h.end());
    const double err = import_vs_reference(c, dir);
    WARN("max |mixprec - NumPy(ONNX)| = " << err);
    CHECK(err <= 1e-5);
  }
  SECTION("all-zero initial states import as no initial state") {
    c.h0.assign(size_t(c.B * H), 0.0f);
    c.c0.assign(size_t(c.B * H), 0.0f);
    Layer l;
    CHECK(import_vs_reference(c, dir, &l) <= 1e-5);
    CHECK_FALSE(l.initial_state);
  }
  SECTION("reverse GRU, layout 1, Y") {
    c.op = "GRU";
    c.direction = "reverse";
    c.layout = 1;
    c.read_y = true;
    const double err = import_vs_reference(c, dir);
    WARN("max |mixprec - NumPy(ONNX)| = " << err);
    CHECK(err <= 1e-5);
  }
}

TEST_CASE("onnx: one sequence_lens L < T for the batch imports as steps and matches the ONNX reference",
          "[onnx][onnx_states]") {
  // ONNX (operator specification): the recurrence runs the first L steps (the reverse direction
  // from step L - 1 down to 0), Y is zero at steps L..T-1, Y_h is the state after its last step.
  // Reference: the NumPy evaluator's sequence_lens, per sequence, written from the specification.
  if (!python_onnx_available()) {
    WARN("/usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx): skipped");
    return;
  }
  const std::string dir = test::temp_dir("onnx_states_steps");
  for (const char* op : {"LSTM", "GRU"})
    for (const char* direction : {"forward", "reverse"})
      for (bool read_y : {true, false})
        for (int layout : {0, 1}) {
          RnnCase c;
          c.op = op;
          c.direction = direction;
          c.read_y = read_y;
          c.layout = layout;
          c.seq_lens = {3, 3};
          INFO(op << " " << direction << (read_y ? " Y" : " Y_h") << " layout " << layout);
          Layer l;
          const double err = import_vs_reference(c, dir, &l);
          CHECK(err <= 1e-5);
          CHECK(l.steps == 3);
          CHECK(l.reverse == (std::string(direction) == "reverse"));
          CHECK(l.return_sequences == read_y);
        }
  SECTION("bidirectional LSTM with initial states, Y and Y_h, L = 1 and 2") {
    for (I64 L : {1, 2})
      for (bool read_y : {true, false}) {
        RnnCase c;
        c.direction = "bidirectional";
        c.layout = 1;
        c.read_y = read_y;
        c.seq_lens = {L, L};
        const std::vector<float> h = randoms(size_t(2 * c.H), 7), cc = randoms(size_t(2 * c.H), 8);
        for (I64 b = 0; b < c.B; ++b) {  // [B, D, H]
          c.h0.insert(c.h0.end(), h.begin(), h.end());
          c.c0.insert(c.c0.end(), cc.begin(), cc.end());
        }
        INFO("L " << L << (read_y ? " Y" : " Y_h"));
        Layer l;
        CHECK(import_vs_reference(c, dir, &l) <= 1e-5);
        CHECK(l.steps == L);
        CHECK(l.initial_state);
      }
  }
  SECTION("the NumPy reference's Y is zero after step L - 1 and mixprec's is too") {
    RnnCase c;
    c.layout = 1;
    c.read_y = true;
    c.seq_lens = {2, 2};
    const onnx::ModelProto m = rnn_model(c);
    const std::vector<float> x = randoms(size_t(c.T * c.B * c.F), 11, 1.0f);
    const std::vector<float> want = numpy_forward(m, x, dir);
    const std::vector<float> got = mixprec_forward(import_onnx_bytes(m.SerializeAsString(), "s.onnx"), x);
    REQUIRE(got.size() == size_t(c.B * c.T * c.H));
    for (I64 b = 0; b < c.B; ++b)
      for (I64 t = 0; t < c.T; ++t)
        for (I64 j = 0; j < c.H; ++j) {
          const size_t k = size_t((b * c.T + t) * c.H + j);
          if (t >= 2) {
            CHECK(got[k] == 0.0f);
            CHECK(want[k] == 0.0f);
          } else {
            CHECK(got[k] != 0.0f);
          }
        }
  }
  SECTION("a Gather of the forward layer's final step L - 1 of Y is its final state") {
    RnnCase c;  // layout 0: Y is [T, D, B, H], Gather's default axis 0 picks a step
    c.read_y = true;
    c.seq_lens = {3, 3};
    onnx::ModelProto m = rnn_model(c);
    onnx::GraphProto* g = m.mutable_graph();
    gather_step_of_y(*g, 3);
    // Step 3 of Y is zero (past the 3 steps run), not the final state.
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "s.onnx"),
                      "s.onnx: node \"pick\" (Gather): expected step 2 of the layer \"rnn\" (its final state: it runs "
                      "the first 3 steps, sequence_lens), found step 3 of 4");
    g->mutable_initializer(g->initializer_size() - 1)->set_int64_data(0, 2);
    const OnnxImport imp = import_onnx_bytes(m.SerializeAsString(), "s.onnx");
    REQUIRE(imp.network.layers.size() == 1);
    CHECK_FALSE(imp.network.layers[0].layer.return_sequences);
    CHECK(imp.network.layers[0].layer.steps == 3);
  }
  SECTION("mixprec import writes steps and the scenario reads it back") {
    RnnCase c;
    c.op = "GRU";
    c.direction = "reverse";
    c.seq_lens = {2, 2};
    const OnnxImport imp = import_onnx_bytes(rnn_model(c).SerializeAsString(), "s.onnx");
    const std::string json = network_spec_to_json(imp.network);
    CHECK(json.find("\"steps\": 2") != std::string::npos);
    nlohmann::json sc = test::read_json(test::source_path("tests/onnx/data/cnn_bilstm.json"));
    sc["network"] = nlohmann::json::parse(json);
    const Scenario s = test::scenario_from_text(sc.dump());
    REQUIRE(s.net.layers.size() == 1);
    CHECK(s.net.layers[0].steps == 2);
    CHECK(s.net.layers[0].recurrent_steps() == 2);
    CHECK(s.net.layers[0].in.t == 4);
  }
}

TEST_CASE("onnx: unsupported sequence_lens and initial states are refused with exact messages", "[onnx][onnx_states]") {
  RnnCase c;
  const std::string expected =
      "expected sequence_lens absent or a constant initializer with one length from 1 to the 4 steps for the whole "
      "batch (the layer's steps: mixprec does not mask sequences of different lengths), found ";
  SECTION("constant sequence lengths that differ across the batch") {
    c.seq_lens = {4, 3};
    CHECK(import_error(c) == "s.onnx: node \"rnn\" (LSTM): " + expected + "lengths that differ across the batch (4, 3)");
  }
  SECTION("lengths longer than the steps, or zero") {
    c.seq_lens = {5, 5};
    CHECK(import_error(c) == "s.onnx: node \"rnn\" (LSTM): " + expected + "a length 5");
    c.seq_lens = {0, 0};
    CHECK(import_error(c) == "s.onnx: node \"rnn\" (LSTM): " + expected + "a length 0");
  }
  SECTION("sequence_lens as a graph input") {
    c.graph_input = "sequence_lens";
    CHECK(import_error(c) ==
          "s.onnx: node \"rnn\" (LSTM): expected sequence_lens absent or a constant initializer with one length "
          "from 1 to the number of steps for the whole batch (the layer's steps: mixprec does not mask sequences of "
          "different lengths), found the graph input \"lens\"");
  }
  SECTION("initial_h as a graph input") {
    c.graph_input = "initial_h";
    CHECK(import_error(c) ==
          "s.onnx: node \"rnn\" (LSTM): expected initial_h absent or a constant initializer (it becomes the layer's "
          "initial-state parameter; a state given at run time is not an input mixprec's LSTM has), found the graph "
          "input \"h_in\"");
  }
  SECTION("initial_c as a graph input") {
    c.graph_input = "initial_c";
    CHECK(import_error(c) ==
          "s.onnx: node \"rnn\" (LSTM): expected initial_c absent or a constant initializer (it becomes the layer's "
          "initial-state parameter; a state given at run time is not an input mixprec's LSTM has), found the graph "
          "input \"c_in\"");
  }
  SECTION("initial states that differ between the sequences of the batch") {
    c.h0 = randoms(size_t(c.B * c.H), 4);
    CHECK(import_error(c) ==
          "s.onnx: node \"rnn\" (LSTM): expected initial_h the same for every sequence of the batch (mixprec's "
          "initial state is one vector per direction, a layer parameter), found different values for sequences 0 "
          "and 1");
  }
  SECTION("initial_h of the wrong dims") {
    c.h0 = randoms(size_t(c.H), 4);
    CHECK_THROWS_WITH(import_onnx_bytes([&] {
                        onnx::ModelProto m = rnn_model(c);
                        onnx::TensorProto* t = m.mutable_graph()->mutable_initializer(3);
                        t->clear_dims();
                        t->add_dims(1);
                        t->add_dims(1);
                        t->add_dims(c.H);
                        return m.SerializeAsString();
                      }(),
                                        "s.onnx"),
                      "s.onnx: node \"rnn\" (LSTM): expected initial_h of dims [1, 2, 5], found [1, 1, 5]");
  }
  SECTION("a GRU's non-zero initial state") {
    c.op = "GRU";
    c.h0.assign(size_t(c.B * c.H), 0.5f);
    CHECK(import_error(c) ==
          "s.onnx: node \"rnn\" (GRU): expected initial_h absent or all zeros (mixprec's GRU starts from a zero "
          "state), found non-zero values");
  }
  SECTION("the last step of a reverse layer's Y") {
    c.direction = "reverse";
    c.read_y = true;
    onnx::ModelProto m = rnn_model(c);
    onnx::GraphProto* g = m.mutable_graph();
    gather_step_of_y(*g, -1);
    CHECK_THROWS_WITH(import_onnx_bytes(m.SerializeAsString(), "s.onnx"),
                      "s.onnx: node \"pick\" (Gather): expected step 0 of the reverse layer \"rnn\" (its final state; "
                      "its step 3 has read one input), found step 3 of 4");
    // Step 0 is its final state: the layer's return_sequences false.
    g->mutable_initializer(g->initializer_size() - 1)->set_int64_data(0, 0);
    const OnnxImport imp = import_onnx_bytes(m.SerializeAsString(), "s.onnx");
    REQUIRE(imp.network.layers.size() == 1);
    CHECK_FALSE(imp.network.layers[0].layer.return_sequences);
  }
  SECTION("the CLI exits 2 with the message") {
    const std::string dir = test::temp_dir("onnx_states_cli");
    c.seq_lens = {4, 2};
    {
      std::ofstream f(dir + "/short.onnx", std::ios::binary);
      f << rnn_model(c).SerializeAsString();
    }
    const test::RunResult r = test::run_cli("import " + dir + "/short.onnx");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("short.onnx: node \"rnn\" (LSTM): " + expected + "lengths that differ across the batch (4, 2)") !=
          std::string::npos);
  }
}

TEST_CASE("onnx: a reverse LSTM with an initial state is priced as a forward one, builds from JSON and round-trips",
          "[onnx][onnx_states]") {
  RnnCase c;
  c.direction = "reverse";
  c.layout = 1;
  const std::vector<float> h = randoms(size_t(c.H), 21);
  for (I64 b = 0; b < c.B; ++b) c.h0.insert(c.h0.end(), h.begin(), h.end());
  const OnnxImport imp = import_onnx_bytes(rnn_model(c).SerializeAsString(), "s.onnx");
  const Network net = build_network(imp.network, "s.onnx");
  RnnCase f = c;
  f.direction = "forward";
  f.h0.clear();
  const Network fwd = build_network(import_onnx_bytes(rnn_model(f).SerializeAsString(), "f.onnx").network, "f.onnx");
  auto macs = [](const Network& n) {
    const sim::LayerWork w = sim::derive_work(n, 0, LayerPrecision{}, Phase::Inference);
    I64 m = 0;
    for (const auto& g : w.gemms) m += g.macs();
    I64 ops = 0;
    for (const auto& e : w.nonlinear) ops += e.ops;
    return std::make_pair(m, ops);
  };
  CHECK(macs(net) == macs(fwd));
  CHECK(macs(net).first == c.B * c.T * 4 * c.H * (c.F + c.H));  // h_{-1} W_hh is priced at every step already
  // The explicit layer list (mixprec import) carries the new keys and builds the same layer.
  const std::string json = network_spec_to_json(imp.network);
  CHECK(json.find("\"reverse\": true") != std::string::npos);
  CHECK(json.find("\"initial_state\": true") != std::string::npos);
  auto scenario_with = [](const nlohmann::json& network) {  // the hardware of cnn_bilstm.json
    nlohmann::json sc = test::read_json(test::source_path("tests/onnx/data/cnn_bilstm.json"));
    sc["network"] = network;
    return test::scenario_from_text(sc.dump());
  };
  const Scenario s = scenario_with(nlohmann::json::parse(json));
  REQUIRE(s.net.layers.size() == 1);
  CHECK(s.net.layers[0].reverse);
  CHECK(s.net.layers[0].initial_state);
  // A bidirectional reverse layer is refused by the scenario parser.
  CHECK_THROWS_WITH(scenario_with(nlohmann::json::parse(R"({"name": "n", "batch": 1, "input": {"frames": 3,
      "features": 2}, "layers": [{"name": "l", "kind": "lstm", "hidden": 2, "bidirectional": true, "reverse": true}]})")),
                    "inline.json: /network/layers/0/reverse: expected false for a bidirectional layer (its second "
                    "direction already reads the steps in reverse), found true");
}

TEST_CASE("steps: out-of-range values and other layer kinds are refused with file, pointer, expected and found",
          "[onnx_states][lstm][gru][steps]") {
  auto error = [](const std::string& layer) {
    nlohmann::json sc = test::read_json(test::source_path("tests/onnx/data/cnn_bilstm.json"));
    sc["network"] = nlohmann::json::parse(R"({"name": "n", "batch": 1, "input": {"frames": 4, "features": 2},
        "layers": [)" + layer + "]}");
    try {
      test::scenario_from_text(sc.dump());
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(error(R"({"name": "l", "kind": "lstm", "hidden": 2, "steps": 0})") ==
        "inline.json: /network/layers/0/steps: expected an integer >= 1, found number 0");
  CHECK(error(R"({"name": "g", "kind": "gru", "hidden": 2, "steps": -1})") ==
        "inline.json: /network/layers/0/steps: expected an integer >= 1, found number -1");
  CHECK(error(R"({"name": "l", "kind": "lstm", "hidden": 2, "steps": 5})") ==
        "inline.json: /network/layers/0/steps: expected a number of steps between 1 and the 4 steps of the input of "
        "lstm \"l\", found 5");
  CHECK(error(R"({"name": "g", "kind": "gru", "hidden": 2, "reverse": true, "steps": 9})") ==
        "inline.json: /network/layers/0/steps: expected a number of steps between 1 and the 4 steps of the input of "
        "gru \"g\", found 9");
  CHECK(error(R"({"name": "f", "kind": "linear", "out_features": 2, "steps": 2})") ==
        "inline.json: /network/layers/0/steps: expected no steps for a linear layer (only lstm and gru run a number "
        "of steps), found the key");
  CHECK(error(R"({"name": "l", "kind": "lstm", "hidden": 2, "steps": 4})") == "(accepted)");
  CHECK(error(R"({"name": "l", "kind": "lstm", "hidden": 2, "steps": 1, "bidirectional": true})") == "(accepted)");
}

TEST_CASE("onnx: an imported model goes through import, validate, search, train, eval, reproduce --quick, sweep and export",
          "[onnx][onnx_states][onnx_e2e]") {
  if (!python_onnx_available()) {
    WARN("/usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx): skipped");
    return;
  }
  const std::string dir = test::temp_dir("onnx_e2e");
  // A per-frame CNN + reverse LSTM with a constant initial state + head, written by onnx.helper.
  REQUIRE(std::system((std::string(kPython) + " " + test::source_path("tests/onnx/make_e2e_model.py") + " " + dir +
                       "/m.onnx").c_str()) == 0);
  // The scenario around it: the hardware of tests/onnx/data/cnn_bilstm.json, the venue
  // generator's occupancy task (3 channels of a 6 x 6 grid, 5 classes), a tiny training and search.
  nlohmann::json base = test::read_json(test::source_path("tests/onnx/data/cnn_bilstm.json"));
  base["name"] = "onnx_e2e";
  base.erase("network");
  base["precision"] = nlohmann::json::parse(R"({"default": {"format": "int", "weights": 8, "activations": 8, "gradients": 8}})");
  base["data"] = nlohmann::json::parse(R"({"source": "venue_generator", "task": "occupancy", "seed": 1, "samples": 96,
                                           "horizon_steps": 1})");
  base["training"] = nlohmann::json::parse(R"({"epochs": 1, "batch_size": 16, "learning_rate": 0.003, "seed": 1})");
  base["search"] = nlohmann::json::parse(R"({"weight_bits": [2, 3, 4, 6, 8, 16], "activation_bits": [4, 6, 8, 16],
                                             "solver": "exact", "sensitivity": "hessian", "fixed_layers": ["head"]})");
  // The input frames' DRAM traffic dominates this tiny network: 0.6 of int8's energy (the
  // default) is out of reach, 0.8 is not.
  base["constraints"] = nlohmann::json::parse(R"({"energy_budget": {"fraction": 0.8}})");
  base["report"] = nlohmann::json::parse(R"({"out_dir": ")" + dir + R"(/results", "formats": ["json"]})");
  std::ofstream(dir + "/base.json") << base.dump(2);

  const std::string sc = dir + "/scenario.json";
  auto run = [&](const std::string& args) {
    const test::RunResult r = test::run_cli(args);
    INFO("mixprec " << args << "\n" << r.err << r.out);
    REQUIRE(r.exit_code == 0);
    return r;
  };
  run("import " + dir + "/m.onnx --into " + dir + "/base.json --out " + sc);
  const nlohmann::json written = test::read_json(sc);
  std::vector<std::string> names;
  for (const auto& l : written.at("network").at("layers")) names.push_back(l.at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"conv", "gap", "lstm.frames_to_sequence", "lstm", "head"});
  const nlohmann::json& lstm = written.at("network").at("layers").at(3);
  CHECK(lstm.at("reverse") == true);
  CHECK(lstm.at("initial_state") == true);
  run("validate " + sc);
  const test::RunResult sim = run("simulate " + sc + " --format json");
  const nlohmann::json sj = nlohmann::json::parse(sim.out);
  // conv: 4 frames x 6x6 x 4 channels x 27; LSTM: 4 steps x 4 gates x 6 x (4 + 6); head 5 x 6
  std::int64_t macs = 0;
  for (const auto& l : sj.at("layers")) macs += l.at("macs").get<std::int64_t>();
  CHECK(macs == 4 * 36 * 4 * 27 + 4 * 24 * 10 + 30);
  // Sensitivities from the ONNX file's weights (--checkpoint takes a .onnx file).
  const test::RunResult search =
      run("search " + sc + " --checkpoint " + dir + "/m.onnx --budget 0.8 --format json --out " + dir + "/search");
  const nlohmann::json pj = nlohmann::json::parse(search.out);
  REQUIRE(pj.at("chosen").at("layers").size() == 5);
  CHECK(pj.at("chosen").at("layers").at(3).at("name") == "lstm");
  CHECK(pj.at("chosen").at("feasible") == true);
  CHECK(pj.at("chosen").at("energy_uj").get<double>() <= pj.at("budget").at("energy_uj").get<double>());
  {
    // The scenario form network: {"onnx": ...} with nothing trained: search uses the file's weights.
    nlohmann::json direct = base;
    direct["name"] = "onnx_e2e_direct";
    direct["network"] = {{"onnx", "m.onnx"}};
    std::ofstream(dir + "/direct.json") << direct.dump(2);
    const test::RunResult d = run("search " + dir + "/direct.json --budget 0.8 --format json --out " + dir + "/search2");
    CHECK(d.err.find("using the weights of " + dir + "/m.onnx") != std::string::npos);
    CHECK(nlohmann::json::parse(d.out).at("chosen").at("layers") == pj.at("chosen").at("layers"));
  }
  run("train " + sc + " --init-from " + dir + "/m.onnx --out " + dir + "/run --no-progress");
  const test::RunResult ev = run("eval " + sc + " --checkpoint " + dir + "/run/best.ckpt --format json");
  CHECK(nlohmann::json::parse(ev.out).contains("accuracy"));
  run("eval " + sc + " --checkpoint " + dir + "/m.onnx --format json");
  run("reproduce " + sc + " --quick --out " + dir + "/rep --no-progress --threads 2");
  const nlohmann::json report = test::read_json(dir + "/rep/report.json");
  CHECK(report.at("verdict").at("summary").get<std::string>().find("Against uniform int8") != std::string::npos);
  // A sweep over the imported scenario: two array sizes at the scenario's precision.
  std::ofstream(dir + "/sweep.json") << R"({"mixprec_sweep": 1, "name": "onnx_arrays", "base": "scenario.json",
    "axes": [{"name": "array", "keys": ["/hardware/pe_array/rows", "/hardware/pe_array/cols"], "values": [8, 16]}],
    "compute": {"kind": "simulate", "precision": "scenario"}})";
  run("sweep " + dir + "/sweep.json --out " + dir + "/sweep --quiet");
  std::ifstream points(dir + "/sweep/points.jsonl");
  int lines = 0;
  for (std::string line; std::getline(points, line);) lines += line.empty() ? 0 : 1;
  CHECK(lines == 2);
  // The chosen mixed precision, trained quantization-aware and exported back to ONNX: the
  // re-imported graph carries the chosen bits of every free weight layer.
  run("train " + sc + " --precision " + dir + "/search/precision.json --init-from " + dir +
      "/run/best.ckpt --epochs 1 --out " + dir + "/qat --no-progress");
  run("export " + sc + " --checkpoint " + dir + "/qat/best.ckpt --precision " + dir + "/search/precision.json --out " +
      dir + "/chosen.onnx");
  const nlohmann::json back = nlohmann::json::parse(run("import " + dir + "/chosen.onnx").out);
  std::map<std::string, nlohmann::json> back_layer;
  for (const auto& l : back.at("precision").at("layers")) back_layer[l.at("match").get<std::string>()] = l;
  for (const auto& l : pj.at("chosen").at("layers")) {
    const std::string name = l.at("name").get<std::string>();
    if (name != "conv" && name != "lstm") continue;
    INFO(name << ": chosen " << l.dump() << "\nre-imported " << back.at("precision").dump());
    REQUIRE(back_layer.count(name) == 1);
    CHECK(back_layer[name].at("weights") == l.at("weights"));
    CHECK(back_layer[name].at("activations") == l.at("activations"));
  }
}
