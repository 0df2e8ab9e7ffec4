#include "core/scenario.hpp"

#include <algorithm>
#include <fstream>

#include "core/fpga_parse.hpp"
#include "core/onnx_import.hpp"

namespace mixprec {

namespace {

const Range kPositive{std::nullopt, std::nullopt, 0.0};
const Range kAtLeast1{1.0, std::nullopt, std::nullopt};
const Range kNonNeg{0.0, std::nullopt, std::nullopt};
const Range kBits{1.0, 32.0, std::nullopt};
const Range kFraction{std::nullopt, 1.0, 0.0};

std::string dirname_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? std::string(".") : path.substr(0, pos == 0 ? 1 : pos);
}

// --- precision -----------------------------------------------------------------------------

const std::vector<std::string> kPatchKeys{"format", "weights", "activations", "output",
                                          "recurrent_weights", "cell_state", "gates",
                                          "accumulator", "gradients", "fraction_bits"};

PrecisionPatch parse_patch(ObjectReader& r) {
  PrecisionPatch p;
  if (r.has("format")) p.format = parse_format(r.any("format"), r.ctx(), r.at("format"));
  p.weight_bits = r.opt_integer("weights", kBits);
  p.activation_bits = r.opt_integer("activations", kBits);
  p.output_bits = r.opt_integer("output", kBits);
  p.recurrent_weight_bits = r.opt_integer("recurrent_weights", kBits);
  p.cell_state_bits = r.opt_integer("cell_state", kBits);
  p.gate_bits = r.opt_integer("gates", kBits);
  p.accumulator_bits = r.opt_integer("accumulator", Range{1.0, 64.0, std::nullopt});
  p.gradient_bits = r.opt_integer("gradients", kBits);
  p.fraction_bits = r.opt_integer("fraction_bits", Range{0.0, 31.0, std::nullopt});
  if (p.format && *p.format != NumFormat::Int) {
    // Float formats fix their own widths; integer bit counts beside them would be ignored.
    for (const char* k : {"weights", "activations", "output", "recurrent_weights", "cell_state", "gates",
                          "fraction_bits"})
      if (r.has(k))
        r.fail(k, std::string("no bit count with format \"") + to_string(*p.format) +
                      "\" (its width is fixed)",
               describe_json(r.any(k)));
  }
  return p;
}

// --- hardware ------------------------------------------------------------------------------

BufferSpec parse_buffer(const json& v, const JsonCtx& ctx, const std::string& ptr) {
  ObjectReader r(v, ctx, ptr);
  BufferSpec b;
  b.size_kib = r.number("size_kib", kPositive);
  b.row_bits = r.integer_or("row_bits", 64, Range{8.0, 4096.0, std::nullopt});
  b.banks = r.integer_or("banks", 1, kAtLeast1);
  b.double_buffered = r.boolean_or("double_buffered", true);
  r.finish();
  return b;
}

MacSpec parse_mac(const json& v, const JsonCtx& ctx, const std::string& ptr) {
  ObjectReader r(v, ctx, ptr);
  MacSpec m;
  std::string style = r.choice("style", {"bit_parallel", "composable", "bit_serial"});
  std::vector<std::string> all{"style", "native_bits", "brick_bits", "fused_bits",
                               "serial_operand", "serial_bits_per_cycle"};
  if (style == "bit_parallel") {
    m.style = MacStyle::BitParallel;
    m.native_bits = r.integer_or("native_bits", 8, Range{1.0, 32.0, std::nullopt});
  } else if (style == "composable") {
    m.style = MacStyle::Composable;
    m.brick_bits = r.integer_or("brick_bits", 2, Range{1.0, 16.0, std::nullopt});
    m.fused_bits = r.integer_or("fused_bits", 8, Range{1.0, 32.0, std::nullopt});
    if (m.fused_bits % m.brick_bits != 0)
      r.fail("fused_bits", "a multiple of brick_bits (" + std::to_string(m.brick_bits) + ")",
             std::to_string(m.fused_bits));
  } else {
    m.style = MacStyle::BitSerial;
    m.serial_operand =
        r.choice_or("serial_operand", "activations", {"activations", "both"}) == "both"
            ? SerialOperand::Both
            : SerialOperand::Activations;
    m.serial_bits_per_cycle = r.integer_or("serial_bits_per_cycle", 1, Range{1.0, 16.0, std::nullopt});
  }
  for (const auto& k : all)
    if (r.has(k) && k != "style") {
      // A key of another style is not silently ignored.
      bool used = (m.style == MacStyle::BitParallel && k == "native_bits") ||
                  (m.style == MacStyle::Composable && (k == "brick_bits" || k == "fused_bits")) ||
                  (m.style == MacStyle::BitSerial &&
                   (k == "serial_operand" || k == "serial_bits_per_cycle"));
      if (!used)
        r.fail(k, "only keys of mac style \"" + style + "\"",
               "\"" + k + "\", which belongs to another mac style");
    }
  r.finish(all);
  return m;
}

HardwareSpec parse_hardware(const json& v, const JsonCtx& ctx, const std::string& scenario_path) {
  HardwareSpec h;
  if (v.is_object() && v.contains("kind") && v["kind"] == "fpga") {
    h.kind = HardwareKind::Fpga;
    h.fpga = parse_fpga_hardware(v, ctx, scenario_path, h.name, h.clock_mhz);
    return h;
  }
  ObjectReader r(v, ctx, "/hardware");
  if (r.has("kind")) r.choice("kind", {"asic", "fpga"});
  h.name = r.string_or("name", "accelerator");
  h.technology_nm = r.integer_or("technology_nm", 45, Range{3.0, 1000.0, std::nullopt});
  h.clock_mhz = r.number("clock_mhz", kPositive);
  {
    ObjectReader a(r.object("pe_array"), ctx, "/hardware/pe_array");
    h.pe_array.rows = a.integer("rows", Range{1.0, 4096.0, std::nullopt});
    h.pe_array.cols = a.integer("cols", Range{1.0, 4096.0, std::nullopt});
    h.pe_array.dataflow =
        a.choice_or("dataflow", "weight_stationary", {"weight_stationary", "output_stationary"}) ==
                "output_stationary"
            ? Dataflow::OutputStationary
            : Dataflow::WeightStationary;
    h.pe_array.register_file_bytes = a.integer_or("register_file_bytes", 64, kAtLeast1);
    h.pe_array.accumulator_bits =
        a.integer_or("accumulator_bits", 32, Range{1.0, 64.0, std::nullopt});
    h.pe_array.mac = parse_mac(a.object("mac"), ctx, "/hardware/pe_array/mac");
    a.finish();
  }
  {
    ObjectReader b(r.object("buffers"), ctx, "/hardware/buffers");
    h.weight_buffer = parse_buffer(b.object("weight"), ctx, "/hardware/buffers/weight");
    h.input_buffer = parse_buffer(b.object("input"), ctx, "/hardware/buffers/input");
    h.output_buffer = parse_buffer(b.object("output"), ctx, "/hardware/buffers/output");
    b.finish();
  }
  {
    ObjectReader d(r.object("dram"), ctx, "/hardware/dram");
    h.dram.kind = d.string_or("kind", "lpddr4");
    h.dram.bandwidth_gbps = d.number("bandwidth_gbps", kPositive);
    h.dram.latency_ns = d.number_or("latency_ns", 100, kNonNeg);
    h.dram.burst_bytes = d.integer_or("burst_bytes", 64, kAtLeast1);
    if (auto e = d.opt_number("energy_pj_per_bit", kPositive)) h.dram.energy_pj_per_bit = e;
    d.finish();
  }
  if (r.has("nonlinear_unit")) {
    ObjectReader n(r.object("nonlinear_unit"), ctx, "/hardware/nonlinear_unit");
    h.nonlinear.lanes = n.integer_or("lanes", 16, kAtLeast1);
    h.nonlinear.cycles_per_op = n.integer_or("cycles_per_op", 1, kAtLeast1);
    n.finish();
  }
  r.accept("nonlinear_unit");
  if (r.has("energy")) {
    ObjectReader e(r.object("energy"), ctx, "/hardware/energy");
    h.energy.table = e.string_or("table", "horowitz_45nm");
    h.energy.hierarchy = e.choice_or("hierarchy", "horowitz", {"horowitz", "eyeriss"}) == "eyeriss"
                             ? MemoryHierarchyModel::Eyeriss
                             : MemoryHierarchyModel::Horowitz;
    h.energy.static_power_mw = e.number_or("static_power_mw", 0, kNonNeg);
    e.finish();
  }
  r.accept("energy");
  h.energy.table_path_base = dirname_of(scenario_path);
  r.finish();
  return h;
}

// --- network -------------------------------------------------------------------------------

// A factorized LSTM input matrix (core/factorization.hpp). Products of the modes are checked
// against the layer's shapes when the network is built.
Factorization parse_factorization(const json& v, const JsonCtx& ctx, const std::string& ptr) {
  ObjectReader r(v, ctx, ptr);
  Factorization f;
  f.pointer = ptr;
  const std::string kind = r.choice("kind", {"tt", "ht"});
  f.kind = kind == "tt" ? FactorizationKind::TensorTrain : FactorizationKind::HierarchicalTucker;
  const Range mode{1.0, 1e6, std::nullopt}, rank{1.0, 4096.0, std::nullopt};
  r.array("input_modes");  // missing or misspelt: the reader's message
  f.input_modes = r.int_list_or("input_modes", {}, mode);
  const int d = int(f.input_modes.size());
  if (d < 2 || d > kMaxFactorModes)
    r.fail("input_modes", "2 to " + std::to_string(kMaxFactorModes) + " modes", std::to_string(d));
  r.array("hidden_modes");
  f.hidden_modes = r.int_list_or("hidden_modes", {}, mode);
  if (int(f.hidden_modes.size()) != d)
    r.fail("hidden_modes", "as many modes as input_modes (" + std::to_string(d) + ")",
           std::to_string(f.hidden_modes.size()));
  auto other_kind = [&](const char* key) {
    if (r.has(key))
      r.fail(key, "only keys of factorization kind \"" + kind + "\"",
             std::string("\"") + key + "\", which belongs to the other kind");
  };
  if (f.kind == FactorizationKind::TensorTrain) {
    other_kind("leaf_ranks");
    other_kind("transfer_ranks");
    r.array("ranks");
    f.ranks = r.int_list_or("ranks", {}, rank);
    if (int(f.ranks.size()) != d + 1)
      r.fail("ranks", std::to_string(d + 1) + " ranks r0 .. r" + std::to_string(d) + " for " +
                          std::to_string(d) + " modes",
             std::to_string(f.ranks.size()));
    for (int k : {0, d})
      if (f.ranks[size_t(k)] != 1)
        throw SpecError(ctx.file, pointer_join(r.at("ranks"), size_t(k)),
                        "1 (a tensor train starts and ends with rank 1)", std::to_string(f.ranks[size_t(k)]));
  } else {
    other_kind("ranks");
    r.array("leaf_ranks");
    f.leaf_ranks = r.int_list_or("leaf_ranks", {}, rank);
    if (int(f.leaf_ranks.size()) != d)
      r.fail("leaf_ranks", std::to_string(d) + " leaf ranks (one per mode)", std::to_string(f.leaf_ranks.size()));
    if (d > 2) r.array("transfer_ranks");
    f.transfer_ranks = r.int_list_or("transfer_ranks", {}, rank);
    if (int(f.transfer_ranks.size()) != d - 2)
      r.fail("transfer_ranks",
             std::to_string(d - 2) + " transfer ranks (the internal nodes below the root of the " +
                 "balanced dimension tree over " + std::to_string(d) + " modes, breadth-first)",
             std::to_string(f.transfer_ranks.size()));
  }
  r.finish({"kind", "input_modes", "hidden_modes", "ranks", "leaf_ranks", "transfer_ranks"});
  return f;
}

LayerSpec parse_layer(const json& v, const JsonCtx& ctx, const std::string& ptr) {
  ObjectReader r(v, ctx, ptr);
  LayerSpec ls;
  ls.pointer = ptr;
  Layer& l = ls.layer;
  l.name = r.string("name");
  if (l.name.empty()) r.fail("name", "a non-empty layer name", "\"\"");
  std::string kind = r.choice("kind", {"conv2d", "linear", "lstm", "gru", "pool", "add", "batchnorm",
                                       "frames_to_sequence", "elementwise", "concat"});
  std::string op;
  if (kind == "elementwise") op = r.choice("op", {"relu", "sigmoid", "tanh", "mul"});
  if (r.has("input") && r.has("inputs"))
    r.fail("inputs", "either \"input\" or \"inputs\", not both", "both");
  if (r.has("input")) ls.input_names.push_back(r.string("input"));
  if (r.has("inputs")) {
    ls.inputs_is_list = true;
    ls.input_names = r.string_list_or("inputs", {});
  }
  r.accept("input");
  r.accept("inputs");
  const bool binary = kind == "add" || kind == "concat" || op == "mul";
  const std::size_t want_inputs = binary ? 2 : 1;
  if (!ls.input_names.empty() && ls.input_names.size() != want_inputs)
    r.fail(ls.inputs_is_list ? "inputs" : "input",
           std::to_string(want_inputs) + " input(s) for " + kind,
           std::to_string(ls.input_names.size()));
  if (binary && ls.input_names.size() != 2)
    r.fail("inputs", "two producer names for " + (op.empty() ? kind : op),
           ls.input_names.empty() ? "nothing" : "one");
  if (kind == "conv2d") {
    l.kind = LayerKind::Conv2d;
    l.out_channels = r.integer("out_channels", kAtLeast1);
    l.kernel_h = l.kernel_w = r.integer("kernel", kAtLeast1);
    l.stride = r.integer_or("stride", 1, kAtLeast1);
    l.padding = r.integer_or("padding", 0, kNonNeg);
    l.groups = r.integer_or("groups", 1, kAtLeast1);
    l.batchnorm = r.boolean_or("batchnorm", false);
    l.relu = r.boolean_or("relu", false);
    l.bias = r.boolean_or("bias", !l.batchnorm);
  } else if (kind == "linear") {
    l.kind = LayerKind::Linear;
    l.out_features = r.integer("out_features", kAtLeast1);
    l.relu = r.boolean_or("relu", false);
    l.bias = r.boolean_or("bias", true);
  } else if (kind == "lstm") {
    l.kind = LayerKind::Lstm;
    l.hidden = r.integer("hidden", kAtLeast1);
    l.bidirectional = r.boolean_or("bidirectional", false);
    l.return_sequences = r.boolean_or("return_sequences", false);
    l.reverse = r.boolean_or("reverse", false);
    l.steps = r.integer_or("steps", 0, kAtLeast1);
    l.initial_state = r.boolean_or("initial_state", false);
    if (r.has("factorization"))
      l.factorization = parse_factorization(r.object("factorization"), ctx, r.at("factorization"));
    r.accept("factorization");
  } else if (kind == "gru") {
    l.kind = LayerKind::Gru;
    l.hidden = r.integer("hidden", kAtLeast1);
    l.bidirectional = r.boolean_or("bidirectional", false);
    l.return_sequences = r.boolean_or("return_sequences", false);
    l.linear_before_reset = r.boolean_or("linear_before_reset", true);
    l.reverse = r.boolean_or("reverse", false);
    l.steps = r.integer_or("steps", 0, kAtLeast1);
    if (r.has("initial_state"))
      r.fail("initial_state", "no initial_state for a gru (its initial state is zero)", "the key");
  } else if (kind == "elementwise") {
    l.kind = LayerKind::Elementwise;
    l.elementwise = op == "relu"      ? ElementwiseOp::Relu
                    : op == "sigmoid" ? ElementwiseOp::Sigmoid
                    : op == "tanh"    ? ElementwiseOp::Tanh
                                      : ElementwiseOp::Mul;
  } else if (kind == "concat") {
    l.kind = LayerKind::Concat;
  } else if (kind == "pool") {
    l.kind = LayerKind::Pool;
    std::string pk = r.choice("pool", {"max", "avg", "global_avg"});
    l.pool = pk == "max" ? PoolKind::Max : pk == "avg" ? PoolKind::Avg : PoolKind::GlobalAvg;
    if (l.pool != PoolKind::GlobalAvg) {
      l.pool_kernel = r.integer_or("kernel", 2, kAtLeast1);
      l.pool_stride = r.integer_or("stride", l.pool_kernel, kAtLeast1);
    }
  } else if (kind == "add") {
    l.kind = LayerKind::Add;
    l.relu = r.boolean_or("relu", false);
  } else if (kind == "batchnorm") {
    l.kind = LayerKind::BatchNorm;
  } else {
    l.kind = LayerKind::FramesToSequence;
  }
  if (r.has("steps") && !is_recurrent(l.kind))
    r.fail("steps", std::string("no steps for a ") + kind + " layer (only lstm and gru run a number of steps)", "the key");
  r.finish({"out_channels", "kernel", "stride", "padding", "groups", "batchnorm", "relu", "bias",
            "out_features", "hidden", "bidirectional", "return_sequences", "pool", "input",
            "inputs", "factorization", "linear_before_reset", "op", "reverse", "initial_state", "steps"});
  if (l.reverse && l.bidirectional)
    r.fail("reverse", "false for a bidirectional layer (its second direction already reads the steps in reverse)",
           "true");
  return ls;
}

// `network: {"onnx": "model.onnx"}` (path relative to the scenario), optionally with a "name".
NetworkSpec parse_onnx_network(ObjectReader& r, const JsonCtx& ctx) {
  const std::string rel = r.string("onnx");
  if (rel.empty()) r.fail("onnx", "the path of an ONNX file", "\"\"");
  const std::string dir = dirname_of(ctx.file);
  const std::string path = rel.front() == '/' || dir.empty() ? rel : dir + "/" + rel;
  if (!std::ifstream(path).good())
    r.fail("onnx", "a readable ONNX file (relative to the scenario's folder)",
           "\"" + rel + "\" (" + path + "), which cannot be opened");
  OnnxImport imp = import_onnx_file(path);
  NetworkSpec n = std::move(imp.network);
  n.name = r.string_or("name", n.name);
  n.onnx_path = path;
  n.onnx_precision = std::move(imp.precision);
  r.finish({"onnx", "name"});
  return n;
}

NetworkSpec parse_network(const json& v, const JsonCtx& ctx) {
  ObjectReader r(v, ctx, "/network");
  if (r.has("onnx")) return parse_onnx_network(r, ctx);
  NetworkSpec n;
  n.name = r.string_or("name", "network");
  n.batch = r.integer_or("batch", 1, Range{1.0, 65536.0, std::nullopt});
  {
    ObjectReader in(r.object("input"), ctx, "/network/input");
    n.frames = in.integer_or("frames", 1, Range{1.0, 100000.0, std::nullopt});
    if (in.has("features")) {
      n.features = in.integer("features", kAtLeast1);
      for (const char* k : {"channels", "height", "width"})
        if (in.has(k)) in.fail(k, "no image dimensions beside \"features\"", describe_json(in.any(k)));
    } else {
      n.channels = in.integer("channels", kAtLeast1);
      n.height = in.integer("height", kAtLeast1);
      n.width = in.integer("width", kAtLeast1);
    }
    in.finish({"channels", "height", "width", "features"});
  }
  if (r.has("template") && r.has("layers"))
    r.fail("layers", "either \"template\" or \"layers\", not both", "both");
  if (r.has("template")) {
    n.template_name = r.choice("template", {"resnet18_bilstm", "lstm"});
    if (n.template_name == "resnet18_bilstm") {
      static const json empty = json::object();  // ObjectReader keeps a reference
      ObjectReader c(r.has("cnn") ? r.object("cnn") : empty, ctx, "/network/cnn");
      n.stage_widths = c.int_list_or("stage_widths", n.stage_widths, kAtLeast1);
      n.width_multiplier = c.number_or("width_multiplier", 1.0, kPositive);
      n.blocks_per_stage = c.integer_or("blocks_per_stage", 2, kAtLeast1);
      n.stage_strides = c.int_list_or("stage_strides", n.stage_strides, kAtLeast1);
      c.finish();
    }
    r.accept("cnn");
    {
      static const json empty = json::object();
      ObjectReader l(r.has("lstm") ? r.object("lstm") : empty, ctx, "/network/lstm");
      n.lstm_hidden = l.integer_or("hidden", 64, kAtLeast1);
      n.lstm_layers = l.integer_or("layers", 2, kAtLeast1);
      n.lstm_bidirectional = l.boolean_or("bidirectional", n.template_name == "resnet18_bilstm");
      if (l.has("factorization"))
        n.lstm_factorization = parse_factorization(l.object("factorization"), ctx, l.at("factorization"));
      l.accept("factorization");
      l.finish();
    }
    r.accept("lstm");
    n.classes = r.integer_or("classes", 5, kAtLeast1);
  } else if (r.has("layers")) {
    const json& arr = r.array("layers");
    for (std::size_t i = 0; i < arr.size(); ++i)
      n.layers.push_back(parse_layer(arr[i], ctx, pointer_join("/network/layers", i)));
  } else {
    r.fail_here("a \"template\" or a \"layers\" list", "neither");
  }
  r.finish({"template", "layers", "cnn", "lstm", "classes", "onnx"});
  return n;
}

// --- other sections ------------------------------------------------------------------------

CostModelSpec parse_cost_model(const json& v, const JsonCtx& ctx, HardwareKind kind) {
  ObjectReader r(v, ctx, "/cost_model");
  CostModelSpec c;
  const std::string engine = r.choice_or("engine", kind == HardwareKind::Fpga ? "analytical" : "mapping",
                                         {"mapping", "analytical"});
  if (kind == HardwareKind::Fpga && engine == "mapping")
    r.fail("engine", "\"analytical\" for fpga hardware (its dataflow template has its own model, "
                     "sim/fpga; the mapping engine expands the asic template)", "\"mapping\"");
  c.engine = engine == "mapping" ? CostEngine::Mapping : CostEngine::Analytical;
  const std::string obj = r.choice_or("objective", "energy", {"energy", "delay", "edp"});
  c.objective = obj == "energy" ? MapperObjective::Energy
                : obj == "delay" ? MapperObjective::Delay
                                 : MapperObjective::Edp;
  if (c.engine != CostEngine::Mapping && r.has("objective"))
    r.fail("objective", "no mapper objective with the analytical engine (it has no mapper)",
           "\"" + obj + "\"");
  const std::string res = r.choice_or("residency", "none", {"none", "chain"});
  c.residency = res == "chain" ? Residency::Chain : Residency::None;
  if (c.engine != CostEngine::Mapping && c.residency != Residency::None)
    r.fail("residency",
           "\"none\" with the analytical engine (residency needs the consumer's mapping: use the "
           "mapping engine)",
           "\"" + res + "\"");
  // Default phased for the mapping engine; the analytical engine has its own timing (overlap).
  const std::string timing =
      r.choice_or("timing", c.engine == CostEngine::Mapping ? "phased" : "overlap", {"overlap", "phased"});
  c.timing = timing == "phased" ? Timing::Phased : Timing::Overlap;
  c.timing_stated = r.has("timing");
  if (c.engine != CostEngine::Mapping && c.timing != Timing::Overlap)
    r.fail("timing",
           "\"overlap\" with the analytical engine (the phased timing prices the mapping engine's loop "
           "nests: use the mapping engine)",
           "\"" + timing + "\"");
  r.finish();
  return c;
}

ConstraintsSpec parse_constraints(const json& v, const JsonCtx& ctx) {
  ObjectReader r(v, ctx, "/constraints");
  ConstraintsSpec c;
  if (r.has("energy_budget")) {
    ObjectReader e(r.object("energy_budget"), ctx, "/constraints/energy_budget");
    if (e.has("fraction") == e.has("energy_uj"))
      e.fail_here("exactly one of \"fraction\" (of a baseline) or \"energy_uj\"",
                  e.has("fraction") ? "both" : "neither");
    c.energy.fraction = e.opt_number("fraction", kFraction);
    c.energy.energy_uj = e.opt_number("energy_uj", kPositive);
    c.energy.baseline = e.choice_or("baseline", "int8", {"int8", "int16", "fp16", "fp32"});
    e.finish();
  } else {
    c.energy.fraction = 0.6;
  }
  r.accept("energy_budget");
  if (auto x = r.opt_number("latency_ms", kPositive)) c.latency_ms = x;
  if (auto x = r.opt_number("model_size_kib", kPositive)) c.model_size_kib = x;
  r.finish();
  return c;
}

DataSpec parse_data(const json& v, const JsonCtx& ctx) {
  ObjectReader r(v, ctx, "/data");
  DataSpec d;
  d.source = r.choice_or("source", "venue_generator",
                         {"venue_generator", "uci_occupancy", "uci_room", "los_loop"});
  d.path = r.string_or("path", "");
  d.task = r.choice_or("task", "occupancy", {"occupancy", "hvac", "traffic"});
  d.seed = r.integer_or("seed", 1, kNonNeg);
  d.samples = r.integer_or("samples", 4096, kAtLeast1);
  d.horizon_steps = r.integer_or("horizon_steps", 1, kAtLeast1);
  d.label_history = r.boolean_or("label_history", false);
  d.sensor_changes = r.boolean_or("sensor_changes", false);
  r.finish();
  return d;
}

TrainingSpec parse_training(const json& v, const JsonCtx& ctx) {
  ObjectReader r(v, ctx, "/training");
  TrainingSpec t;
  t.epochs = r.integer_or("epochs", 10, kAtLeast1);
  t.batch_size = r.integer_or("batch_size", 32, kAtLeast1);
  t.micro_batches = r.integer_or("micro_batches", 1, kAtLeast1);
  if (t.batch_size % t.micro_batches != 0)
    r.fail("micro_batches", "a divisor of batch_size (" + std::to_string(t.batch_size) + ")",
           std::to_string(t.micro_batches));
  t.optimizer = r.choice_or("optimizer", "adamw", {"sgd", "adamw"});
  t.learning_rate = r.number_or("learning_rate", 1e-3, kPositive);
  t.weight_decay = r.number_or("weight_decay", 1e-4, kNonNeg);
  t.seed = r.integer_or("seed", 1, kNonNeg);
  t.fp32_gradient_buffers = r.boolean_or("fp32_gradient_buffers", true);
  t.qat_epochs = r.integer_or("qat_epochs", 1, kAtLeast1);
  t.qat_learning_rate = r.number_or("qat_learning_rate", t.learning_rate / 10, kPositive);
  r.finish();
  return t;
}

// Ranks as written (core/factorization.hpp RankSpec); the layer's kind is checked on resolving.
RankSpec parse_rank_spec(const json& v, const JsonCtx& ctx, const std::string& ptr) {
  const Range rank{1.0, 4096.0, std::nullopt};
  RankSpec raw;
  raw.pointer = ptr;
  if (v.is_number()) {
    raw.uniform = read_integer(v, ctx, ptr, rank);
  } else if (v.is_array()) {
    for (std::size_t q = 0; q < v.size(); ++q) raw.ranks.push_back(read_integer(v[q], ctx, pointer_join(ptr, q), rank));
  } else if (v.is_object()) {
    ObjectReader h(v, ctx, ptr);
    raw.has_leaf = h.has("leaf_ranks");
    h.array("leaf_ranks");
    raw.leaf_ranks = h.int_list_or("leaf_ranks", {}, rank);
    raw.has_transfer = h.has("transfer_ranks");
    raw.transfer_ranks = h.int_list_or("transfer_ranks", {}, rank);
    h.finish();
  } else {
    throw SpecError(ctx.file, ptr,
                    "ranks: a number (every inner rank), an array of TT ranks, or an object with HT "
                    "\"leaf_ranks\" and \"transfer_ranks\"",
                    describe_json(v));
  }
  return raw;
}

// `own` (the layer's factorization) with the ranks of `raw`: the form must fit the layer's kind
// and mode count.
Factorization resolve_rank_spec(const RankSpec& raw, const Factorization& own, const std::string& layer,
                                const std::string& file) {
  const int d = int(own.input_modes.size());
  const bool tt = own.kind == FactorizationKind::TensorTrain;
  Factorization f = own;
  f.pointer = raw.pointer;
  if (raw.uniform > 0) {
    if (tt) {
      f.ranks.assign(size_t(d) + 1, raw.uniform);
      f.ranks.front() = f.ranks.back() = 1;
    } else {
      f.leaf_ranks.assign(size_t(d), raw.uniform);
      f.transfer_ranks.assign(size_t(d) - 2, raw.uniform);
    }
    return f;
  }
  if (tt) {
    if (raw.has_leaf || raw.has_transfer)
      throw SpecError(file, raw.pointer,
                      "TT ranks (a number or an array r0 .. r" + std::to_string(d) + ") for the tensor-train layer \"" +
                          layer + "\"",
                      "HT leaf/transfer ranks");
    if (int(raw.ranks.size()) != d + 1)
      throw SpecError(file, raw.pointer, std::to_string(d + 1) + " ranks r0 .. r" + std::to_string(d),
                      std::to_string(raw.ranks.size()));
    for (int k : {0, d})
      if (raw.ranks[size_t(k)] != 1)
        throw SpecError(file, pointer_join(raw.pointer, size_t(k)), "1 (a tensor train starts and ends with rank 1)",
                        std::to_string(raw.ranks[size_t(k)]));
    f.ranks = raw.ranks;
    return f;
  }
  if (!raw.has_leaf)
    throw SpecError(file, raw.pointer,
                    "HT ranks (a number or an object with \"leaf_ranks\" and \"transfer_ranks\") for the "
                    "hierarchical-Tucker layer \"" + layer + "\"",
                    raw.ranks.empty() ? std::string("no leaf_ranks") : std::string("an array of TT ranks"));
  if (int(raw.leaf_ranks.size()) != d)
    throw SpecError(file, raw.pointer + "/leaf_ranks", std::to_string(d) + " leaf ranks (one per mode)",
                    std::to_string(raw.leaf_ranks.size()));
  if (int(raw.transfer_ranks.size()) != d - 2)
    throw SpecError(file, raw.pointer + "/transfer_ranks",
                    std::to_string(d - 2) + " transfer ranks (the internal nodes below the root, breadth-first)",
                    std::to_string(raw.transfer_ranks.size()));
  f.leaf_ranks = raw.leaf_ranks;
  f.transfer_ranks = raw.transfer_ranks;
  return f;
}

SearchSpec parse_search(const json& v, const JsonCtx& ctx) {
  ObjectReader r(v, ctx, "/search");
  SearchSpec s;
  s.weight_bits = r.int_list_or("weight_bits", s.weight_bits, kBits);
  s.activation_bits = r.int_list_or("activation_bits", s.activation_bits, kBits);
  if (r.has("float_formats")) {
    const json& a = r.array("float_formats");
    for (std::size_t i = 0; i < a.size(); ++i) {
      std::string p = pointer_join("/search/float_formats", i);
      NumFormat f = parse_format(a[i], ctx, p);
      if (f == NumFormat::Int) throw SpecError(ctx.file, p, "a float format (fp16, bf16, fp32)", "\"int\"");
      s.float_formats.push_back(f);
    }
  }
  r.accept("float_formats");
  s.solver = r.choice_or("solver", "exact", {"exact", "greedy", "random", "evolutionary"});
  s.sensitivity = r.choice_or("sensitivity", "hessian", {"hessian", "measured", "ggn", "clado", "clado:neighbours"});
  s.fixed_layers = r.string_list_or("fixed_layers", {});
  if (r.has("rules")) {
    const json& a = r.array("rules");
    for (std::size_t i = 0; i < a.size(); ++i) {
      ObjectReader o(a[i], ctx, pointer_join("/search/rules", i));
      SearchSpec::BitRule br;
      br.match = o.string("match");
      br.min_weight_bits = o.integer_or("min_weight_bits", 1, kBits);
      br.max_weight_bits = o.integer_or("max_weight_bits", 32, kBits);
      br.min_activation_bits = o.integer_or("min_activation_bits", 1, kBits);
      br.max_activation_bits = o.integer_or("max_activation_bits", 32, kBits);
      if (br.min_weight_bits > br.max_weight_bits)
        o.fail("max_weight_bits", ">= min_weight_bits (" + std::to_string(br.min_weight_bits) + ")",
               std::to_string(br.max_weight_bits));
      if (br.min_activation_bits > br.max_activation_bits)
        o.fail("max_activation_bits", ">= min_activation_bits (" + std::to_string(br.min_activation_bits) + ")",
               std::to_string(br.max_activation_bits));
      o.finish();
      s.rules.push_back(br);
    }
  }
  r.accept("rules");
  if (r.has("ties")) {
    const json& a = r.array("ties");
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ptr = pointer_join("/search/ties", i);
      if (!a[i].is_array() || a[i].size() < 2)
        throw SpecError(ctx.file, ptr, "an array of at least two layer names or patterns", describe_json(a[i]));
      std::vector<std::string> tie;
      for (std::size_t k = 0; k < a[i].size(); ++k) tie.push_back(read_string(a[i][k], ctx, pointer_join(ptr, k)));
      s.ties.push_back(tie);
    }
  }
  r.accept("ties");
  s.baseline_evaluations = r.integer_or("baseline_evaluations", 2000, kAtLeast1);
  s.seed = r.integer_or("seed", 1, kNonNeg);
  if (r.has("ranks")) {
    const json& a = r.array("ranks");
    for (std::size_t i = 0; i < a.size(); ++i) {
      SearchSpec::RankSearch rs;
      rs.pointer = pointer_join("/search/ranks", i);
      ObjectReader o(a[i], ctx, rs.pointer);
      rs.layer = o.string("layer");
      const json& c = o.array("candidates");
      if (c.empty()) o.fail("candidates", "at least one candidate", "[]");
      for (std::size_t k = 0; k < c.size(); ++k)
        rs.raw.push_back(parse_rank_spec(c[k], ctx, pointer_join(o.at("candidates"), k)));

      o.finish();
      s.ranks.push_back(rs);
    }
  }
  r.accept("ranks");
  r.finish();
  return s;
}

// search.ranks against the built network: the layer exists and is factorized; every candidate
// has the layer's kind and rank counts, TT end ranks 1, no rank above the layer's own, and no
// candidate repeats another.
// The index of the factorized layer `name`; SpecError at `ptr` when there is none.
int factorized_layer(const Network& net, const std::string& name, const std::string& file, const std::string& ptr) {
  const int l = net.find(name);
  if (l < 0) {
    std::vector<std::string> names;
    for (const Layer& x : net.layers)
      if (x.factorization.active()) names.push_back(x.name);
    const std::string near = nearest(name, names);
    throw SpecError(file, ptr, "the name of a layer with a factorized (TT / HT) input matrix",
                    "\"" + name + "\", which is no layer" + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
  }
  if (!net.layers[size_t(l)].factorization.active())
    throw SpecError(file, ptr, "a layer with a factorized (TT / HT) input matrix", "\"" + name + "\", which has none");
  return l;
}

void resolve_rank_search(SearchSpec& s, const Network& net, const std::string& file) {
  for (std::size_t i = 0; i < s.ranks.size(); ++i) {
    SearchSpec::RankSearch& rs = s.ranks[i];
    const Factorization& own = net.layers[size_t(factorized_layer(net, rs.layer, file, rs.pointer + "/layer"))].factorization;
    for (std::size_t k = 0; k < i; ++k)
      if (s.ranks[k].layer == rs.layer)
        throw SpecError(file, rs.pointer + "/layer", "each layer in one entry of /search/ranks",
                        "\"" + rs.layer + "\" again (first at " + s.ranks[k].pointer + ")");
    for (const RankSpec& raw : rs.raw) {
      const Factorization f = resolve_rank_spec(raw, own, rs.layer, file);
      if (!ranks_at_most(f, own))
        throw SpecError(file, raw.pointer,
                        "ranks no larger than the layer's own (" + rank_label(own) +
                            "): the search truncates the trained cores",
                        rank_label(f));
      for (const Factorization& g : rs.candidates)
        if (rank_label(g) == rank_label(f))
          throw SpecError(file, raw.pointer, "candidates that differ", rank_label(f) + " again");
      rs.candidates.push_back(f);
    }
  }
}

ClaimSpec parse_claim(const json& v, const JsonCtx& ctx) {
  ObjectReader r(v, ctx, "/report/claim");
  ClaimSpec c;
  const Range pct{0.0, 100.0, std::nullopt};
  const Range positive{std::nullopt, std::nullopt, 0.0};
  if (r.has("saving_band_pct")) {
    const std::string ptr = r.at("saving_band_pct");
    const json& band = r.array("saving_band_pct");
    if (band.size() != 2)
      throw SpecError(ctx.file, ptr, "two numbers [low, high] in percent",
                      std::to_string(band.size()) + " entries");
    c.saving_min_pct = read_number(band[0], ctx, pointer_join(ptr, 0), pct);
    c.saving_max_pct = read_number(band[1], ctx, pointer_join(ptr, 1), pct);
    if (c.saving_max_pct < c.saving_min_pct)
      throw SpecError(ctx.file, pointer_join(ptr, 1),
                      "a high end >= the low end (" + format_number(c.saving_min_pct) + ")",
                      format_number(c.saving_max_pct));
  }
  c.max_drop_pp = r.number_or("max_accuracy_drop_pp", c.max_drop_pp, Range{std::nullopt, 100.0, 0.0});
  c.max_rmse_increase_pct =
      r.number_or("max_rmse_increase_pct", c.max_rmse_increase_pct, positive);
  c.latency_ms = r.number_or("latency_ms", c.latency_ms, positive);
  c.min_accuracy_pct = r.number_or("min_accuracy_pct", c.min_accuracy_pct, pct);
  c.confidence = r.number_or("confidence", c.confidence, Range{std::nullopt, 0.999, 0.5});
  c.baselines = r.string_list_or("baselines", c.baselines);
  const std::vector<std::string> allowed{"int4", "int8", "int16", "fp16", "bf16", "fp32"};
  if (c.baselines.empty())
    throw SpecError(ctx.file, r.at("baselines"), "at least one baseline (e.g. [\"int8\"])", "[]");
  for (std::size_t i = 0; i < c.baselines.size(); ++i)
    if (std::find(allowed.begin(), allowed.end(), c.baselines[i]) == allowed.end())
      throw SpecError(ctx.file, pointer_join(r.at("baselines"), i),
                      "one of \"int4\", \"int8\", \"int16\", \"fp16\", \"bf16\", \"fp32\"",
                      "\"" + c.baselines[i] + "\"");
  r.finish();
  return c;
}

ReportSpec parse_report(const json& v, const JsonCtx& ctx) {
  ObjectReader r(v, ctx, "/report");
  ReportSpec rep;
  rep.out_dir = r.string_or("out_dir", "results");
  rep.formats = r.string_list_or("formats", rep.formats);
  const std::vector<std::string> allowed{"json", "md", "html"};
  for (std::size_t i = 0; i < rep.formats.size(); ++i)
    if (std::find(allowed.begin(), allowed.end(), rep.formats[i]) == allowed.end())
      throw SpecError(ctx.file, pointer_join("/report/formats", i), "one of \"json\", \"md\", \"html\"",
                      "\"" + rep.formats[i] + "\"");
  if (std::find(rep.formats.begin(), rep.formats.end(), "json") == rep.formats.end())
    throw SpecError(ctx.file, "/report/formats",
                    "a list that includes \"json\" (the other formats are renderings of it)",
                    std::to_string(rep.formats.size()) + " formats without \"json\"");
  static const json empty = json::object();
  rep.claim = parse_claim(r.has("claim") ? r.object("claim") : empty, ctx);
  r.finish();
  return rep;
}

}  // namespace

NumFormat parse_format(const json& v, const JsonCtx& ctx, const std::string& pointer) {
  std::string s = read_string(v, ctx, pointer);
  if (s == "int") return NumFormat::Int;
  if (s == "fp16") return NumFormat::Fp16;
  if (s == "bf16") return NumFormat::Bf16;
  if (s == "fp32") return NumFormat::Fp32;
  std::string near = nearest(s, {"int", "fp16", "bf16", "fp32"});
  throw SpecError(ctx.file, pointer,
                  std::string("one of \"int\", \"fp16\", \"bf16\", \"fp32\"") +
                      (near.empty() ? "" : " (did you mean \"" + near + "\"?)"),
                  "\"" + s + "\"");
}

namespace {
PrecisionSpec parse_precision_impl(const json& section, const JsonCtx& ctx, const std::string& pointer,
                                   bool standalone) {
  ObjectReader r(section, ctx, pointer);
  PrecisionSpec p;
  if (r.has("default")) {
    ObjectReader d(r.object("default"), ctx, r.at("default"));
    p.defaults = parse_patch(d);
    d.finish(kPatchKeys);
  }
  r.accept("default");
  if (r.has("layers")) {
    const json& arr = r.array("layers");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      std::string ptr = pointer_join(r.at("layers"), i);
      ObjectReader o(arr[i], ctx, ptr);
      PrecisionOverride ov;
      ov.pointer = ptr;
      ov.match = o.string("match");
      ov.patch = parse_patch(o);
      std::vector<std::string> keys = kPatchKeys;
      keys.push_back("match");
      o.finish(keys);
      p.layers.push_back(std::move(ov));
    }
  }
  r.accept("layers");
  if (standalone && r.has("ranks")) {
    const json& o = r.object("ranks");
    for (auto it = o.begin(); it != o.end(); ++it)
      p.ranks.push_back({it.key(), parse_rank_spec(it.value(), ctx, pointer_join(r.at("ranks"), it.key()))});
  }
  if (standalone) r.accept("ranks");
  r.accept("mixprec_precision");
  r.accept("network");
  r.finish();
  return p;
}
}  // namespace

PrecisionSpec parse_precision(const json& section, const JsonCtx& ctx, const std::string& pointer) {
  return parse_precision_impl(section, ctx, pointer, false);
}

void apply_rank_overrides(const PrecisionSpec& spec, Network& net, const std::string& file) {
  for (const PrecisionSpec::RankOverride& ro : spec.ranks) {
    const int l = factorized_layer(net, ro.layer, file, ro.ranks.pointer);
    net.layers[size_t(l)].factorization = resolve_rank_spec(ro.ranks, net.layers[size_t(l)].factorization, ro.layer, file);
  }
}

json ranks_to_json(const Factorization& f) {
  if (f.kind == FactorizationKind::TensorTrain) return f.ranks;
  return json{{"leaf_ranks", f.leaf_ranks}, {"transfer_ranks", f.transfer_ranks}};
}

PrecisionSpec load_precision_file(const std::string& path) {
  JsonDoc doc = JsonDoc::load(path);
  return parse_precision_file(doc.root(), doc.ctx());
}

PrecisionSpec parse_precision_file(const json& root, const JsonCtx& ctx) {
  ObjectReader r(root, ctx, "");
  int v = r.integer("mixprec_precision", Range{1.0, std::nullopt, std::nullopt});
  if (v != kPrecisionVersion)
    r.fail("mixprec_precision", "version " + std::to_string(kPrecisionVersion), std::to_string(v));
  r.string_or("network", "");
  return parse_precision_impl(root, ctx, "", true);
}

std::vector<LayerPrecision> resolve_precision(const PrecisionSpec& spec, const Network& net,
                                              const std::string& file) {
  LayerPrecision base;
  spec.defaults.apply_to(base);
  std::vector<LayerPrecision> out(net.layers.size(), base);
  std::vector<std::string> names;
  for (const auto& l : net.layers) names.push_back(l.name);
  for (const auto& ov : spec.layers) {
    bool any = false;
    for (std::size_t i = 0; i < net.layers.size(); ++i) {
      if (glob_match(ov.match, net.layers[i].name)) {
        ov.patch.apply_to(out[i]);
        any = true;
      }
    }
    if (!any) {
      std::string near = nearest(ov.match, names);
      throw SpecError(file, ov.pointer + "/match",
                      near.empty() ? std::string("a layer name or pattern of network \"") + net.name + "\""
                                   : "a layer of network \"" + net.name + "\" (did you mean \"" + near + "\"?)",
                      "\"" + ov.match + "\", which matches no layer");
    }
  }
  // Fixed point needs a sign bit and at least one more in every quantized tensor.
  for (std::size_t i = 0; i < out.size(); ++i) {
    const LayerPrecision& p = out[i];
    if (p.format != NumFormat::Int || p.fraction_bits < 0) continue;
    int narrowest = std::min({p.weight_bits, p.activation_bits, p.output_bits});
    if (net.layers[i].kind == LayerKind::Lstm)
      narrowest = std::min({narrowest, p.recurrent_weight_bits, p.cell_state_bits, p.gate_bits});
    if (net.layers[i].kind == LayerKind::Gru) narrowest = std::min(narrowest, p.recurrent_weight_bits);
    if (p.fraction_bits > narrowest - 1)
      throw SpecError(file, "",
                      "fraction_bits of at most " + std::to_string(narrowest - 1) + " for layer \"" +
                          net.layers[i].name + "\" (its narrowest tensor has " + std::to_string(narrowest) +
                          " bits, one of them the sign)",
                      "fraction_bits " + std::to_string(p.fraction_bits));
  }
  return out;
}

json layer_precision_to_json(const LayerPrecision& p, bool lstm) {
  json j;
  j["format"] = to_string(p.format);
  if (p.format == NumFormat::Int) {
    j["weights"] = p.weight_bits;
    j["activations"] = p.activation_bits;
    if (p.output_bits != p.activation_bits) j["output"] = p.output_bits;
    if (lstm) {
      j["recurrent_weights"] = p.recurrent_weight_bits;
      j["cell_state"] = p.cell_state_bits;
      j["gates"] = p.gate_bits;
    }
  }
  if (p.accumulator_bits) j["accumulator"] = p.accumulator_bits;
  if (p.format == NumFormat::Int && p.fraction_bits >= 0) j["fraction_bits"] = p.fraction_bits;
  j["gradients"] = p.gradient_bits;
  return j;
}

json precision_to_json(const Network& net, const std::vector<LayerPrecision>& p) {
  json j;
  j["mixprec_precision"] = kPrecisionVersion;
  j["network"] = net.name;
  json layers = json::array();
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    if (!net.layers[i].has_weights() && net.layers[i].kind != LayerKind::Add &&
        net.layers[i].kind != LayerKind::Pool)
      continue;
    json e = layer_precision_to_json(p[i], is_recurrent(net.layers[i].kind));
    e["match"] = net.layers[i].name;
    layers.push_back(e);
  }
  j["layers"] = layers;
  return j;
}

Scenario parse_scenario(const json& root, const JsonCtx& ctx) {
  ObjectReader r(root, ctx, "");
  Scenario s;
  s.file = ctx.file;
  int v = r.integer("mixprec_scenario", Range{1.0, std::nullopt, std::nullopt});
  if (v != kScenarioVersion)
    r.fail("mixprec_scenario", "version " + std::to_string(kScenarioVersion), std::to_string(v));
  s.name = r.string("name");
  if (s.name.empty() || s.name.find('/') != std::string::npos)
    r.fail("name", "a non-empty name without '/' (it names the results folder)", "\"" + s.name + "\"");
  s.phase = r.choice_or("phase", "inference", {"inference", "training"}) == "training"
                ? Phase::Training
                : Phase::Inference;
  s.hardware = parse_hardware(r.object("hardware"), ctx, ctx.file);
  s.network = parse_network(r.object("network"), ctx);
  static const json empty = json::object();
  s.precision = parse_precision(r.has("precision") ? r.object("precision") : empty, ctx, "/precision");
  r.accept("precision");
  s.constraints = parse_constraints(r.has("constraints") ? r.object("constraints") : empty, ctx);
  r.accept("constraints");
  s.data = parse_data(r.has("data") ? r.object("data") : empty, ctx);
  r.accept("data");
  s.training = parse_training(r.has("training") ? r.object("training") : empty, ctx);
  r.accept("training");
  s.search = parse_search(r.has("search") ? r.object("search") : empty, ctx);
  r.accept("search");
  s.report = parse_report(r.has("report") ? r.object("report") : empty, ctx);
  r.accept("report");
  s.cost_model = parse_cost_model(r.has("cost_model") ? r.object("cost_model") : empty, ctx, s.hardware.kind);
  r.accept("cost_model");
  r.finish();
  // Cross-section validation: build the network and resolve every precision reference.
  s.net = build_network(s.network, s.network.onnx_path.empty() ? ctx.file : s.network.onnx_path);
  // An imported model's quantization comes first; the scenario's own overrides win over it.
  s.precision.layers.insert(s.precision.layers.begin(), s.network.onnx_precision.begin(),
                            s.network.onnx_precision.end());
  s.layer_precision = resolve_precision(s.precision, s.net, ctx.file);
  if (s.hardware.kind == HardwareKind::Fpga)
    check_fpga_design(s.hardware.fpga, s.net, s.layer_precision, ctx.file);
  auto check_pattern = [&](const std::string& pattern, const std::string& ptr) {
    for (const auto& l : s.net.layers)
      if (glob_match(pattern, l.name)) return;
    throw SpecError(ctx.file, ptr, "a layer name or pattern", "\"" + pattern + "\", which matches no layer");
  };
  for (std::size_t i = 0; i < s.search.fixed_layers.size(); ++i)
    check_pattern(s.search.fixed_layers[i], pointer_join("/search/fixed_layers", i));
  resolve_rank_search(s.search, s.net, ctx.file);
  for (std::size_t i = 0; i < s.search.rules.size(); ++i)
    check_pattern(s.search.rules[i].match, pointer_join("/search/rules", i) + "/match");
  for (std::size_t i = 0; i < s.search.ties.size(); ++i)
    for (std::size_t k = 0; k < s.search.ties[i].size(); ++k)
      check_pattern(s.search.ties[i][k], pointer_join(pointer_join("/search/ties", i), k));
  return s;
}

Scenario load_scenario(const std::string& path) {
  JsonDoc doc = JsonDoc::load(path);
  return parse_scenario(doc.root(), doc.ctx());
}

Scenario reparse_hardware_and_constraints(const Scenario& base, const json& root, const JsonCtx& ctx) {
  ObjectReader r(root, ctx, "");
  Scenario s = base;
  s.file = ctx.file;
  s.hardware = parse_hardware(r.object("hardware"), ctx, ctx.file);
  static const json empty = json::object();
  s.constraints = parse_constraints(r.has("constraints") ? r.object("constraints") : empty, ctx);
  return s;
}

const char* to_string(CostEngine e) { return e == CostEngine::Mapping ? "mapping" : "analytical"; }

const char* to_string(Residency r) { return r == Residency::Chain ? "chain" : "none"; }
const char* to_string(Timing t) { return t == Timing::Phased ? "phased" : "overlap"; }
const char* to_string(MapperObjective o) {
  switch (o) {
    case MapperObjective::Energy: return "energy";
    case MapperObjective::Delay: return "delay";
    default: return "edp";
  }
}

}  // namespace mixprec
