// The mapping engine (sim/mapping_engine.hpp) over the template's hierarchy (sim/hierarchy.hpp):
// hand-checked counts, agreement with nest's evaluate on the chosen mapping, the energy
// breakdown, bits that change the tiling and the DRAM traffic, and the refusals.
#include <cmath>

#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/analytical.hpp"
#include "sim/hierarchy.hpp"
#include "sim/mapping_engine.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::sim;

namespace {

// A 4x4 array of 8-bit bit-parallel MACs at 100 MHz; DRAM 1.6 GB/s (128 bits/cycle), 64-byte
// bursts, 100 ns latency (10 cycles). Buffers single-buffered unless asked, 64-bit rows.
std::string hardware(const std::string& dataflow, double w_kib, double in_kib, double out_kib) {
  auto buf = [](double kib) {
    return R"({"size_kib": )" + std::to_string(kib) + R"(, "row_bits": 64, "double_buffered": false})";
  };
  return R"({"name": "tiny", "clock_mhz": 100,
    "pe_array": {"rows": 4, "cols": 4, "dataflow": ")" + dataflow + R"(",
                 "mac": {"style": "bit_parallel", "native_bits": 8}},
    "buffers": {"weight": )" + buf(w_kib) + R"(, "input": )" + buf(in_kib) + R"(, "output": )" +
         buf(out_kib) + R"(},
    "dram": {"kind": "lpddr4", "bandwidth_gbps": 1.6, "latency_ns": 100, "burst_bytes": 64}})";
}

Scenario make(const std::string& hw, const std::string& network, const std::string& precision) {
  return test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "t", "hardware": )" + hw +
                                  R"(, "network": )" + network + R"(, "precision": )" + precision + "}");
}

std::string linear(int frames, int in, int out) {
  return R"({"name": "lin", "input": {"frames": )" + std::to_string(frames) + R"(, "features": )" +
         std::to_string(in) + R"(}, "layers": [{"name": "fc", "kind": "linear", "out_features": )" +
         std::to_string(out) + "}]}";
}

std::string bits(int w, int a) {
  return R"({"default": {"weights": )" + std::to_string(w) + R"(, "activations": )" +
         std::to_string(a) + "}}";
}

struct Priced {
  LayerCost lc;
  std::vector<NestMapping> nests;
};

Priced price(const Scenario& sc, const energy::EnergyModel& em, int layer = 0,
              Timing timing = Timing::Phased) {
  MappingEngine eng(sc.hardware, em, sc.file);
  eng.set_timing(timing);
  Priced p;
  p.lc = eng.layer_cost(sc.net, layer, sc.layer_precision[std::size_t(layer)], sc.phase, &p.nests);
  return p;
}

double sum_without(const LayerCost& lc, std::initializer_list<Component> skip) {
  double s = 0;
  for (std::size_t c = 0; c < kComponents; ++c) {
    bool skipped = false;
    for (Component k : skip) skipped = skipped || std::size_t(k) == c;
    if (!skipped) s += lc.energy_pj[c];
  }
  return s;
}

}  // namespace

TEST_CASE("mapping engine: linear 32->16 at w8a8, by hand and against nest's evaluate",
          "[mapping_engine][hand]") {
  const Scenario sc = make(hardware("weight_stationary", 64, 64, 64), linear(1, 32, 16), bits(8, 8));
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  // The overlap timing, whose cycles are computed by hand below (the phased terms by hand:
  // tests/systemc/test_nest_sim.cpp "nest cycles: overlap and phased timings by hand").
  const Priced p = price(sc, em, 0, Timing::Overlap);
  REQUIRE(p.nests.size() == 1);
  const NestMapping& n = p.nests[0];
  CHECK(p.lc.macs == 512);
  // Everything fits: each tensor crosses the DRAM interface once (compulsory traffic).
  CHECK(p.lc.dram[size_t(Tensor::Weights)].reads == 512);
  CHECK(p.lc.dram[size_t(Tensor::Inputs)].reads == 32);
  CHECK(p.lc.dram[size_t(Tensor::Outputs)].writes == 16);
  CHECK(p.lc.dram[size_t(Tensor::Outputs)].reads == 0);
  // DRAM energy per 512-bit row: 512/8 = 64 values of each 8-bit tensor per row, so
  // ceil(512/64) + ceil(32/64) + ceil(16/64) = 8 + 1 + 1 = 10 row accesses.
  CHECK(p.lc.energy_pj[size_t(Component::Dram)] ==
        Approx(10 * 512 * em.dram_pj_per_bit(sc.hardware.dram)));
  // MAC energy at the hardware's 32-bit accumulator (pe_array.accumulator_bits default).
  const Operand i8{NumFormat::Int, 8};
  CHECK(sc.hardware.pe_array.accumulator_bits == 32);
  CHECK(p.lc.energy_pj[size_t(Component::Mac)] ==
        Approx(512 * em.mac(i8, i8, 32, sc.hardware.pe_array.mac).total_pj()));
  // The engine's figures are nest's evaluate of the same problem, hierarchy and mapping.
  const nest::Result r = nest::evaluate(n.result.problem, n.arch, n.result.mapping);
  REQUIRE(r.status.ok());
  CHECK(sum_without(p.lc, {Component::Static, Component::Nonlinear}) == Approx(r.energy_pj));
  CHECK(p.lc.energy_pj[size_t(Component::Interconnect)] == 0);
  CHECK(p.lc.energy_pj[size_t(Component::RegisterFile)] ==
        Approx(r.levels[kLevelPeRegisters].energy_pj));
  CHECK(p.lc.energy_pj[size_t(Component::OutputBuffer)] ==
        Approx(r.levels[kLevelOutputBuffer].energy_pj));
  // Cycles: nest's cycles, plus the first tiles of the weights and inputs brought on chip before the
  // first MAC (their values at the outermost on-chip level keeping them x 8 bits, at 128 bits per
  // cycle), plus the DRAM latency once (100 ns at 100 MHz = 10 cycles). 512 MACs on 16 PEs take at
  // least 32 cycles; the DRAM moves (512 + 32 + 16) x 8 bits at 128 bits/cycle: 35 cycles, so the
  // nest is bandwidth-bound at >= 35.
  double first_values = 0;
  for (std::size_t d = 0; d < n.result.problem.dataspaces.size(); ++d) {
    if (tensor_of(n.result.problem, int(d)) == Tensor::Outputs) continue;
    for (int lv = 1; lv < r.n_levels; ++lv)
      if (r.levels[size_t(lv)].ds[d].kept) {
        first_values += double(r.levels[size_t(lv)].ds[d].utilized_capacity) *
                        double(std::max<std::int64_t>(1, r.levels[size_t(lv)].ds[d].utilized_instances));
        break;
      }
  }
  CHECK(first_values >= 1);
  CHECK(first_values <= 512 + 32);
  CHECK(p.lc.cycles == Approx(double(r.cycles) + std::ceil(first_values * 8 / 128) + 10));
  CHECK(r.cycles >= 35);
  CHECK(p.lc.compute_cycles == Approx(double(r.compute_cycles)));
}

TEST_CASE("mapping engine: the energy breakdown sums to the total", "[mapping_engine]") {
  const Scenario sc = test::default_scenario_with(
      std::string(R"({"precision": {"layers": [{"match": "cnn.stage2.*", "weights": 4}]}, "network": )") +
      test::kTinyNetworkPatch + "}");
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  MappingEngine eng(sc.hardware, em, sc.file);
  std::vector<std::vector<NestMapping>> nests;
  const NetworkCost nc = eng.network_cost(sc.net, sc.layer_precision, sc.phase, &nests);
  double layers_pj = 0, components_pj = 0;
  for (double e : nc.energy_pj) components_pj += e;
  int checked = 0;
  for (std::size_t i = 0; i < nc.layers.size(); ++i) {
    const LayerCost& lc = nc.layers[i];
    layers_pj += lc.energy_total_pj();
    if (lc.kind != LayerKind::Conv2d) continue;  // convolutions: no streams, no nonlinear work
    double nest_pj = 0;
    // nest's energy less the DRAM level's leakage (the chip's static power, which the layer counts
    // once as Static over its own cycles).
    for (const NestMapping& n : nests[i]) {
      CHECK(n.result.result.levels[kLevelDram].leak_pj ==
            Approx(sc.hardware.energy.static_power_mw * 1e3 / sc.hardware.clock_mhz * double(n.result.result.cycles)));
      nest_pj += (n.result.result.energy_pj - n.result.result.levels[kLevelDram].leak_pj) * double(n.repeats);
    }
    CHECK(sum_without(lc, {Component::Static}) == Approx(nest_pj));
    CHECK(lc.energy_pj[size_t(Component::Static)] ==
          Approx(sc.hardware.energy.static_power_mw * lc.cycles * 1e3 / sc.hardware.clock_mhz));
    ++checked;
  }
  CHECK(checked >= 3);
  CHECK(components_pj == Approx(layers_pj));
  CHECK(nc.energy_uj == Approx(layers_pj * 1e-6));
}

TEST_CASE("mapping engine: 4-bit inputs fit the input buffer that 8-bit inputs overflow",
          "[mapping_engine][bits]") {
  // Linear 64 -> 64 over 64 frames (M = N = K = 64): 4096 weights, inputs and outputs.
  // Input buffer 2 KiB: 4096 inputs at 4 bits fit exactly, at 8 bits (4 KiB) they do not. Weight
  // buffer 1 KiB (1024 8-bit weights) and output buffer 4 KiB (1024 partial sums at 32 bits): no
  // tensor but the 4-bit inputs can stay on chip whole.
  const std::string hw = hardware("weight_stationary", 1, 2, 4);
  const Scenario s4 = make(hw, linear(64, 64, 64), bits(8, 4));
  const Scenario s8 = make(hw, linear(64, 64, 64), bits(8, 8));
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(s4.hardware, s4.file);
  const Priced p4 = price(s4, em), p8 = price(s8, em);
  auto input_tile = [](const Priced& p) {
    const nest::Result& r = p.nests.at(0).result.result;
    const int a = p.nests[0].result.problem.dataspace_index("A");
    return r.levels[kLevelInputBuffer].ds[std::size_t(a)].utilized_capacity;
  };
  auto dram_values = [](const LayerCost& lc) {
    std::int64_t v = 0;
    for (const Traffic& t : lc.dram) v += t.reads + t.writes;
    return v;
  };
  // 4 bits: every input stays in the input buffer while the output-channel chunks (64 x 16
  // partial sums = 4 KiB) go by; each tensor crosses the DRAM interface once.
  CHECK(input_tile(p4) == 4096);
  CHECK(p4.lc.dram[size_t(Tensor::Inputs)].reads == 4096);
  CHECK(p4.lc.dram[size_t(Tensor::Inputs)].read_bits == 4096 * 4);
  CHECK(dram_values(p4.lc) == 3 * 4096);
  // 8 bits: at most 2 KiB / 8 bits = 2048 inputs per tile; with no operand resident and the
  // partial sums not all on chip, some tensor crosses the DRAM interface more than once.
  CHECK(input_tile(p8) <= 2048);
  CHECK(dram_values(p8.lc) > 3 * 4096);
}

TEST_CASE("mapping engine: refusals name the file, the pointer and the reason",
          "[mapping_engine][refuse]") {
  const std::string hw = hardware("weight_stationary", 64, 64, 64);
  auto with_accumulator = [&](int acc_bits) {
    return make(hw, linear(1, 32, 16),
                R"({"default": {"weights": 8, "activations": 8, "accumulator": )" +
                    std::to_string(acc_bits) + "}}");
  };
  SECTION("an accumulator width the hardware cannot gate") {
    const Scenario sc = with_accumulator(20);
    const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
    CHECK_THROWS_WITH(price(sc, em),
                      "inline.json: /hardware/pe_array/accumulator_bits: expected hardware that "
                      "gates its accumulators to a layer's `accumulator` width (this template's "
                      "accumulators are 32 bits wide and cannot gate: drop the precision's "
                      "`accumulator` key or set it to 32), found layer \"fc\" with accumulator: 20");
  }
  SECTION("the accumulator key at the hardware's width is accepted") {
    const Scenario sc = with_accumulator(32);
    const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
    CHECK(price(sc, em).lc.macs == 512);
  }
}

TEST_CASE("simulate --engine mapping: the tiny network's nests are printed",
          "[mapping_engine][cli]") {
  const std::string file = test::write_default_scenario_with(
      test::temp_dir("mapping_cli") + "/tiny.json",
      std::string(R"({"precision": {"layers": []}, "network": )") + test::kTinyNetworkPatch + "}");
  const test::RunResult m = test::run_cli("simulate " + file + " --engine mapping --show-mapping");
  CHECK(m.exit_code == 0);
  CHECK(m.out.find("(mapping, phased timing, inference)") != std::string::npos);
  CHECK(m.out.find("loop nests (mapping engine, objective energy, delay):") != std::string::npos);
  CHECK(m.out.find("== head (forward) ==") != std::string::npos);
  CHECK(m.out.find("<< Compute >>") != std::string::npos);
  const test::RunResult u = test::run_cli(
      "simulate " + test::source_path("scenarios/venue_cnn_lstm.json") + " --engine analytical --show-mapping");
  CHECK(u.exit_code == 2);
  CHECK(u.err == "error: --show-mapping needs the mapping engine (--engine mapping, or the scenario's "
                 "cost_model.engine; this run uses analytical)\n");
}

namespace {

// A TT LSTM on 2 frames of 12 features, hidden 4 (16 gate outputs): input modes 3 x 4, output
// modes 8 x 2 (hidden modes 2 x 2, the first x4 for the gates), ranks 1-2-1. Cores: tt_core1
// (i1=3, j1=8, r1=2), tt_core2 (r1=2, i2=4, j2=2). Per row, core1 first costs 4x16x3 + 8x2x8 =
// 320 MACs, core2 first 3x4x4 + 2x8x6 = 144: the plan contracts tt_core2, then tt_core1.
std::string tt_lstm() {
  return R"({"name": "tt", "input": {"frames": 2, "features": 12}, "layers": [{"name": "lstm1",
    "kind": "lstm", "hidden": 4, "factorization": {"kind": "tt", "input_modes": [3, 4],
    "hidden_modes": [2, 2], "ranks": [1, 2, 1]}}]})";
}

std::int64_t bounds_product(const NestMapping& n) { return n.result.problem.macs() * n.repeats; }

std::vector<std::string> passes(const std::vector<NestMapping>& ns) {
  std::vector<std::string> out;
  for (const NestMapping& n : ns) out.push_back(n.pass);
  return out;
}

// MACs of every layer on the mapping and the analytical engine, per layer equal.
void check_macs_equal_analytical(const Scenario& sc) {
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  MappingEngine mapping(sc.hardware, em, sc.file);
  const AnalyticalEngine analytical(sc.hardware, em);
  const NetworkCost m = mapping.network_cost(sc.net, sc.layer_precision, sc.phase);
  const NetworkCost a = analytical.network_cost(sc.net, sc.layer_precision, sc.phase);
  REQUIRE(m.layers.size() == a.layers.size());
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    INFO("layer " << m.layers[i].name);
    CHECK(m.layers[i].macs == a.layers[i].macs);
  }
}

}  // namespace

TEST_CASE("mapping engine: a TT LSTM projection as one GEMM nest per contraction step, by hand",
          "[mapping_engine][tt]") {
  const Scenario sc = make(hardware("weight_stationary", 64, 64, 64), tt_lstm(), bits(4, 8));
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const Priced p = price(sc, em);
  REQUIRE(passes(p.nests) == std::vector<std::string>{"tt_step1_core2", "tt_step2_core1", "recurrent"});
  const nest::Problem& s1 = p.nests[0].result.problem;
  const nest::Problem& s2 = p.nests[1].result.problem;
  CHECK(s1.name == "lstm1.tt_step1_core2");
  // Step 1: 2 rows x kept i1 (3) = M 6, added r1 x j2 = N 4, contracted i2 = K 4: 96 MACs.
  CHECK(s1.bounds == std::vector<std::int64_t>{6, 4, 4});
  CHECK(bounds_product(p.nests[0]) == 96);
  // Step 2: 2 rows x kept j2 (2) = M 4, added j1 = N 8, contracted i1 x r1 = K 6: 192 MACs.
  CHECK(s2.bounds == std::vector<std::int64_t>{4, 8, 6});
  CHECK(bounds_product(p.nests[1]) == 192);
  // The recurrence: 2 steps as M, 16 gate outputs, 4 hidden: 128 MACs.
  CHECK(bounds_product(p.nests[2]) == 128);
  CHECK(p.lc.macs == 96 + 192 + 128);
  // Bits: the running product (A) and the step's result (Z) at the activation bits (the
  // workload's rule, sim/workload.cpp factorized_projection), the core (B) at the weight bits.
  for (const nest::Problem* s : {&s1, &s2}) {
    CHECK(s->dataspaces[0].bits == 8);
    CHECK(s->dataspaces[1].bits == 4);
    CHECK(s->dataspaces[2].bits == 8);
  }
  // The intermediate passes through DRAM: step 1 writes it, step 2 reads it back.
  CHECK(p.nests[0].result.result.levels[kLevelDram].ds[2].updates > 0);
  CHECK(p.nests[1].result.result.levels[kLevelDram].ds[0].reads > 0);
  check_macs_equal_analytical(sc);
}

TEST_CASE("mapping engine: training nests of two linear layers, MACs by hand and as analytical",
          "[mapping_engine][training]") {
  Scenario sc = make(hardware("weight_stationary", 64, 64, 64),
                     R"({"name": "mlp", "input": {"frames": 2, "features": 8}, "layers": [
                       {"name": "fc1", "kind": "linear", "out_features": 6},
                       {"name": "fc2", "kind": "linear", "out_features": 4}]})",
                     bits(8, 8));
  sc.phase = Phase::Training;
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const Priced fc1 = price(sc, em, 0), fc2 = price(sc, em, 1);
  // fc1 reads the network input: no input gradient. forward 2x6x8, weight_grad 8x6x2.
  REQUIRE(passes(fc1.nests) == std::vector<std::string>{"forward", "weight_grad"});
  CHECK(fc1.nests[1].result.problem.bounds == std::vector<std::int64_t>{8, 6, 2});
  CHECK(fc1.lc.macs == 96 + 96);
  // fc2: forward 2x4x6, backward_data dX = dY W^T 2x6x4, weight_grad dW = X^T dY 6x4x2.
  REQUIRE(passes(fc2.nests) == std::vector<std::string>{"forward", "backward_data", "weight_grad"});
  CHECK(fc2.nests[1].result.problem.bounds == std::vector<std::int64_t>{2, 6, 4});
  CHECK(fc2.nests[2].result.problem.bounds == std::vector<std::int64_t>{6, 4, 2});
  CHECK(fc2.lc.macs == 48 + 48 + 48);
  CHECK(fc2.nests[1].result.problem.name == "fc2.backward_data");
  // Bits: gradients at the precision's gradient bits (16 by default, core/precision.hpp), the
  // weight gradient at FP32 (the accumulation buffer, sim/workload.cpp), X at the activations'.
  const nest::Problem& bd = fc2.nests[1].result.problem;
  CHECK(bd.dataspaces[0].bits == 16);  // dY
  CHECK(bd.dataspaces[1].bits == 8);   // W
  CHECK(bd.dataspaces[2].bits == 16);  // dX
  const nest::Problem& wg = fc2.nests[2].result.problem;
  CHECK(wg.dataspaces[0].bits == 8);   // X^T
  CHECK(wg.dataspaces[1].bits == 16);  // dY
  CHECK(wg.dataspaces[2].bits == 32);  // dW
  // The weight update is the workload's element-wise stream (AdamW, sim/workload.cpp
  // optimizer_work): FP32 w, m, v written back and the re-quantized weights at 8 bits; no nest
  // writes the weights.
  const std::int64_t count = sc.net.layers[1].weight_count();
  CHECK(fc2.lc.dram[std::size_t(Tensor::Weights)].write_bits == 3 * count * 32 + count * 8);
  check_macs_equal_analytical(sc);
}

TEST_CASE("mapping engine: training nests of an LSTM (backpropagation through time), MACs by hand",
          "[mapping_engine][training]") {
  Scenario sc = make(hardware("weight_stationary", 64, 64, 64),
                     R"({"name": "r", "input": {"frames": 3, "features": 3}, "layers": [
                       {"name": "rnn", "kind": "lstm", "hidden": 2}]})",
                     bits(8, 8));
  sc.phase = Phase::Training;
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const Priced p = price(sc, em);
  REQUIRE(passes(p.nests) == std::vector<std::string>{"input_proj", "recurrent", "backward_recurrent",
                                                      "weight_grad", "weight_grad_recurrent"});
  // Forward: input projection 3 frames x 8 gates x 3 features = 72, recurrence 3 x 8 x 2 = 48.
  CHECK(bounds_product(p.nests[0]) == 72);
  CHECK(bounds_product(p.nests[1]) == 48);
  // Backward through time: dh per step (1 x 2 x 8, 3 steps sequential as M) = 48.
  CHECK(p.nests[2].result.problem.bounds == std::vector<std::int64_t>{3, 2, 8});
  CHECK(bounds_product(p.nests[2]) == 48);
  // Weight gradients over all steps: input 3 x 8 x 3 = 72, recurrent 2 x 8 x 3 = 48.
  CHECK(bounds_product(p.nests[3]) == 72);
  CHECK(bounds_product(p.nests[4]) == 48);
  CHECK(p.lc.macs == 120 + 48 + 120);
  check_macs_equal_analytical(sc);
}

TEST_CASE("mapping engine: training nests of a TT LSTM, MACs by hand", "[mapping_engine][training][tt]") {
  Scenario sc = make(hardware("weight_stationary", 64, 64, 64), tt_lstm(), bits(8, 8));
  sc.phase = Phase::Training;
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const Priced p = price(sc, em);
  // Forward steps 96 + 192 and the recurrence 128; dh 1 x 4 x 16 x 2 steps = 128; the steps in
  // reverse: step 2's core gradient (6 x 8 x 4 rows) 192 and input gradient (4 x 6 x 8) 192,
  // step 1's core gradient (4 x 4 x 6) 96 (no input gradient: the network input); the recurrent
  // weight gradient 4 x 16 x 2 = 128.
  REQUIRE(passes(p.nests) ==
          std::vector<std::string>{"tt_step1_core2", "tt_step2_core1", "recurrent", "backward_recurrent",
                                   "tt_step2_core1.weight_grad", "tt_step2_core1.backward_data",
                                   "tt_step1_core2.weight_grad", "weight_grad_recurrent"});
  const std::int64_t want[] = {96, 192, 128, 128, 192, 192, 96, 128};
  for (std::size_t i = 0; i < p.nests.size(); ++i) CHECK(bounds_product(p.nests[i]) == want[i]);
  CHECK(p.lc.macs == 1152);
  check_macs_equal_analytical(sc);
}

TEST_CASE("mapping engine: a convolution's training nests are the transposed and the weight-gradient convolution",
          "[mapping_engine][training]") {
  Scenario sc = test::default_scenario_with(R"({"phase": "training"})");
  const int li = 1;  // the second convolution: its input is a layer's output
  const Layer& l = sc.net.layers[std::size_t(li)];
  REQUIRE(l.kind == LayerKind::Conv2d);
  REQUIRE(l.inputs[0] >= 0);
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const Priced p = price(sc, em, li);
  REQUIRE(passes(p.nests) == std::vector<std::string>{"forward", "backward_data", "weight_grad"});
  const nest::Problem& f = p.nests[0].result.problem;
  const nest::Problem& bd = p.nests[1].result.problem;
  const nest::Problem& wg = p.nests[2].result.problem;
  // Transposed: over the input's positions, output channels C, reduction K, stride 1.
  CHECK(bd.bounds[std::size_t(bd.dim_index("P"))] == l.in.h);
  CHECK(bd.bounds[std::size_t(bd.dim_index("Q"))] == l.in.w);
  CHECK(bd.bounds[std::size_t(bd.dim_index("K"))] == l.in.c);
  CHECK(bd.bounds[std::size_t(bd.dim_index("C"))] == l.out_channels);
  CHECK(bd.coefficients[0].value == 1);
  // The weight gradient: the forward dims, dW the read-write tensor.
  CHECK(wg.bounds == f.bounds);
  CHECK(wg.dataspaces[2].read_write);
  CHECK(wg.dataspaces[2].bits == 32);
  CHECK(!wg.dataspaces[1].read_write);
  CHECK(wg.dataspace_size(2) == l.weight_count());
  // The zero-inserted dY's products count: stride^2 x the forward MACs for a strided layer.
  CHECK(bd.macs() == std::int64_t(l.in.n) * l.in.h * l.in.w * l.in.c * l.out_channels * l.kernel_h * l.kernel_w / l.groups);
  check_macs_equal_analytical(sc);
}

TEST_CASE("simulate --engine mapping: TT and training scenarios print every step's and pass's nest",
          "[mapping_engine][cli][training][tt]") {
  const test::RunResult tt = test::run_cli("simulate " + test::source_path("scenarios/venue_tt_lstm.json") +
                                           " --engine mapping --show-mapping");
  REQUIRE(tt.exit_code == 0);
  CHECK(tt.out.find("== lstm (tt_step1_core3) ==") != std::string::npos);
  CHECK(tt.out.find("== lstm (tt_step3_core1) ==") != std::string::npos);
  const test::RunResult ht = test::run_cli("simulate " + test::source_path("scenarios/video_ht_lstm.json") +
                                           " --engine mapping --show-mapping");
  REQUIRE(ht.exit_code == 0);
  CHECK(ht.out.find("== lstm.l0 (ht_step3_node3-4) ==") != std::string::npos);
  CHECK(ht.out.find("== lstm.l0 (ht_step7_leaf1) ==") != std::string::npos);
  const std::string file = test::write_default_scenario_with(
      test::temp_dir("mapping_train_cli") + "/tiny.json",
      std::string(R"({"phase": "training", "precision": {"layers": []}, "network": )") + test::kTinyNetworkPatch + "}");
  const test::RunResult m = test::run_cli("simulate " + file + " --show-mapping");
  REQUIRE(m.exit_code == 0);
  CHECK(m.out.find("(mapping, phased timing, training)") != std::string::npos);
  CHECK(m.out.find("== head (weight_grad) ==") != std::string::npos);
  CHECK(m.out.find("== head (backward_data) ==") != std::string::npos);
  CHECK(m.out.find("(backward_recurrent)") != std::string::npos);
}

TEST_CASE("mapping and analytical engines: an LSTM with steps L < T costs L/T of the full layer's work",
          "[mapping_engine][lstm][steps]") {
  // 6 steps of 3 features, a bidirectional LSTM of hidden 4 returning every step, batch 1: the
  // full layer's inference MACs are 6 x 32 x 3 (input projection) + 6 x 2 x 16 x 4 (recurrence)
  // = 576 + 768 = 1344; with steps 2 the recurrence runs 2 steps: 2/6 of it, 448.
  auto net = [](const std::string& steps) {
    return R"({"name": "r", "input": {"frames": 6, "features": 3}, "layers": [{"name": "rnn", "kind": "lstm",
      "hidden": 4, "bidirectional": true, "return_sequences": true)" + steps + "}]}";
  };
  for (const Phase phase : {Phase::Inference, Phase::Training}) {
    INFO((phase == Phase::Training ? "training" : "inference"));
    Scenario full = make(hardware("weight_stationary", 64, 64, 64), net(""), bits(8, 8));
    Scenario two = make(hardware("weight_stationary", 64, 64, 64), net(R"(, "steps": 2)"), bits(8, 8));
    Scenario all = make(hardware("weight_stationary", 64, 64, 64), net(R"(, "steps": 6)"), bits(8, 8));
    full.phase = two.phase = all.phase = phase;
    REQUIRE(two.net.layers[0].recurrent_steps() == 2);
    REQUIRE(two.net.layers[0].out.t == 6);
    const energy::EnergyModel em = energy::EnergyModel::from_hardware(full.hardware, full.file);
    const AnalyticalEngine analytical(full.hardware, em);
    const LayerCost af = analytical.layer_cost(full.net, 0, full.layer_precision[0], phase);
    const LayerCost a2 = analytical.layer_cost(two.net, 0, two.layer_precision[0], phase);
    const LayerCost a6 = analytical.layer_cost(all.net, 0, all.layer_precision[0], phase);
    const Priced mf = price(full, em), m2 = price(two, em);
    if (phase == Phase::Inference) {
      CHECK(af.macs == 1344);
      CHECK(a2.macs == 448);
      // per cell: 3 sigmoid + 2 tanh + 3 products + 1 sum; cells = steps x hidden x directions
      CHECK(af.nonlinear_ops == 9 * 6 * 4 * 2);
      CHECK(a2.nonlinear_ops == 9 * 2 * 4 * 2);
      // Output writes: the input projection of the steps run (steps x 32 gate values) and the
      // sequence output of all 6 steps (zero after step 1: 6 x 8 values), at 8 bits.
      CHECK(af.dram[2].write_bits == (6 * 32 + 6 * 8) * 8);
      CHECK(a2.dram[2].write_bits == (2 * 32 + 6 * 8) * 8);
      CHECK(a2.dram[1].read_bits * 3 == af.dram[1].read_bits);  // the input of 2 of 6 steps
      CHECK(a2.nonlinear_ops * 6 == af.nonlinear_ops * 2);
    }
    CHECK(a2.macs * 6 == af.macs * 2);
    CHECK(m2.lc.macs * 6 == mf.lc.macs * 2);
    CHECK(m2.lc.macs == a2.macs);
    CHECK(mf.lc.macs == af.macs);
    // steps equal to the input's: the same layer as without it.
    CHECK(a6.macs == af.macs);
    CHECK(a6.energy_total_pj() == af.energy_total_pj());
    CHECK(a6.cycles == af.cycles);
    // The recurrence's nest: 2 steps x 16 gate outputs x 4 hidden x 2 directions, not 6 steps.
    int recurrent = 0;
    for (const NestMapping& n : m2.nests)
      if (n.pass == "recurrent") {
        CHECK(bounds_product(n) == 2 * 16 * 4 * 2);
        ++recurrent;
      }
    CHECK(recurrent == 1);
  }
}
