// The mapping engine (sim/mapping_engine.hpp) over the template's hierarchy (sim/hierarchy.hpp):
// hand-checked counts, agreement with nest's evaluate on the chosen mapping, the energy
// breakdown, bits that change the tiling and the DRAM traffic, and the refusals.
#include <cmath>

#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "energy_models/energy_model.hpp"
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

Priced price(const Scenario& sc, const energy::EnergyModel& em, int layer = 0) {
  MappingEngine eng(sc.hardware, em, sc.file);
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
  const Priced p = price(sc, em);
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
  SECTION("training passes") {
    Scenario sc = make(hw, linear(1, 32, 16), bits(8, 8));
    sc.phase = Phase::Training;
    const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
    MappingEngine eng(sc.hardware, em, sc.file);
    CHECK_THROWS_WITH(eng.layer_cost(sc.net, 0, sc.layer_precision[0], sc.phase),
                      "inline.json: /phase: expected \"inference\" (the mapping engine has no loop "
                      "nests for training passes (backward_data, weight_grad, the optimizer) yet; "
                      "use --engine analytical), found \"training\"");
  }
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

TEST_CASE("simulate --engine mapping: a factorized LSTM is refused with its message, exit 2",
          "[mapping_engine][cli]") {
  const test::RunResult r =
      test::run_cli("simulate " + test::source_path("scenarios/venue_tt_lstm.json") + " --engine mapping");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/network: expected layers with loop nests (the mapping engine does not map "
                   "the contraction steps of a factorized (TT/HT) LSTM projection yet; use "
                   "--engine analytical), found layer \"lstm\" with a factorized input projection") !=
        std::string::npos);
  const std::string file = test::write_default_scenario_with(
      test::temp_dir("mapping_cli") + "/tiny.json",
      std::string(R"({"precision": {"layers": []}, "network": )") + test::kTinyNetworkPatch + "}");
  const test::RunResult m = test::run_cli("simulate " + file + " --engine mapping --show-mapping");
  CHECK(m.exit_code == 0);
  CHECK(m.out.find("(mapping, inference)") != std::string::npos);
  CHECK(m.out.find("loop nests (mapping engine, objective energy, delay):") != std::string::npos);
  CHECK(m.out.find("== head (forward) ==") != std::string::npos);
  CHECK(m.out.find("<< Compute >>") != std::string::npos);
  const test::RunResult u = test::run_cli(
      "simulate " + test::source_path("scenarios/venue_cnn_lstm.json") + " --engine analytical --show-mapping");
  CHECK(u.exit_code == 2);
  CHECK(u.err == "error: --show-mapping needs the mapping engine (--engine mapping, or the scenario's "
                 "cost_model.engine; this run uses analytical)\n");
}
