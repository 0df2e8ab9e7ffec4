// The FPGA LSTM template: hand-computed schedule, power from the table, both engines, resource
// checks, strict parsing, and the fixed-point quantizer.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "core/errors.hpp"
#include "core/scenario.hpp"
#include "model/quant.hpp"
#include "sim/cost_json.hpp"
#include "sim/fpga.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/engine.hpp"
#include "test_util.hpp"

using namespace mixprec;
using nlohmann::json;

namespace {

json shipped() { return test::read_json(test::source_path("scenarios/fpga_lstm_traffic.json")); }

Scenario with(const std::string& merge_patch) {
  json j = shipped();
  j.merge_patch(json::parse(merge_patch));
  return test::scenario_from_text(j.dump());
}

std::string error_of(const std::string& merge_patch) {
  try {
    const Scenario sc = with(merge_patch);
    sim::simulate_analytical(sc, sc.layer_precision);  // power-table checks run here
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

sim::NetworkCost analytical(const Scenario& sc) { return sim::simulate_analytical(sc, sc.layer_precision).cost; }
sim::NetworkCost systemc(const Scenario& sc) {
  sim::systemc::SimOptions o;
  o.baselines = false;
  return sim::systemc::simulate(sc, sc.layer_precision, o).result.cost;
}

}  // namespace

TEST_CASE("fpga: hand-computed cycles of the 1 -> 20 LSTM and its head", "[fpga]") {
  const Scenario sc = test::scenario_from_text(shipped().dump());
  // One job = one hidden unit j of one step t. Each of the 4 MAC units (one per gate) takes
  // (inputs + hidden) = 1 + 20 = 21 products of its gate for unit j serially, 2 cycles each
  // (fetch, then multiply-accumulate): 42 cycles; the 4 units work in parallel, so the 4 x 21 x
  // 20 = 1,680 products of a step take 1,680 x 2 / 4 = 840 cycles = 20 jobs x 42.
  // The element-wise update (1 lookup + 2 multiplies + 1 lookup + 1 multiply = 5 cycles) of
  // job n overlaps job n + 1; only the last one is exposed: 6 steps x 840 + 5 = 5,045 cycles.
  // (A step's first job fetches h_{t-1}[19] (21 - 1) x 2 = 40 cycles after it starts: 5 < 40,
  // no stall at step boundaries.) The head: 20 products on one unit, 2 cycles each = 40.
  // Total 5,085 cycles = 50.85 us at 100 MHz: 19,665.68 inferences per second.
  const sim::NetworkCost a = analytical(sc);
  REQUIRE(a.layers.size() == 2);
  CHECK(a.layers[0].cycles == 5045);
  CHECK(a.layers[1].cycles == 40);
  CHECK(a.cycles == 5085);
  CHECK(a.latency_ms == Approx(0.05085));
  CHECK(a.layers[0].macs == 4 * 21 * 20 * 6);
  CHECK(a.layers[1].macs == 20);
  const json j = sim::network_to_json(sc, a, {}, "analytical");
  CHECK(j["total"]["inferences_per_s"].get<double>() == Approx(1e6 / 50.85));
  CHECK(j["total"]["energy_per_inference_uj"].get<double>() == Approx(a.energy_uj));
  CHECK(j["total"]["power_mw"].get<double>() == Approx(a.power_mw));
  CHECK(j["fpga"]["schedule"]["job_cycles"] == 42);
  CHECK(j["fpga"]["schedule"]["elementwise_cycles"] == 5);
}

TEST_CASE("fpga: power and energy per inference from the power table", "[fpga]") {
  const Scenario sc = test::scenario_from_text(shipped().dump());
  const sim::NetworkCost a = analytical(sc);
  using C = sim::Component;
  auto e = [&](C c) { return a.energy_pj[size_t(c)]; };
  // energy_models/tables/fpga/xilinx_7series_28nm.json: xc7s15 static 9.75 mW; DSP48 16x16
  // multiply 0.3867 pJ + 48-bit accumulate 0.0725 pJ; LUT 0.0254 pJ and FF 0.3637 pJ per cycle
  // at full toggle, charged x 0.125; design 1,000 LUTs, 800 FFs.
  CHECK(e(C::Static) == Approx(9.75 * 50.85 * 1e3));                   // mW x us = nJ
  CHECK(e(C::Mac) == Approx(10100 * (0.3867 + 0.0725)));
  CHECK(e(C::Interconnect) == Approx(1000 * 0.0254 * 0.125 * 5085));
  CHECK(e(C::RegisterFile) == Approx(800 * 0.3637 * 0.125 * 5085));
  // Weight ROM: one 16-bit word (an 18-bit port, 0.6021 pJ) per product and per bias preload.
  CHECK(e(C::WeightBuffer) == Approx((10100 + 4 * 120 + 1) * 0.6021));
  CHECK(a.dram_bytes == 0);
  // Power = energy / latency.
  CHECK(a.power_mw == Approx(a.energy_uj / a.latency_ms));
  CHECK(a.power_mw > 9.75);
  // The 8-bit variant: same schedule, cheaper products and memory words, same static power.
  const Scenario sc8 = [] {
    Scenario s = test::scenario_from_text(shipped().dump());
    s.layer_precision = resolve_precision(load_precision_file(test::source_path("scenarios/precision/fpga_lstm_q3_4.json")),
                                          s.net, "q3_4.json");
    return s;
  }();
  const sim::NetworkCost a8 = analytical(sc8);
  CHECK(a8.cycles == a.cycles);
  CHECK(a8.energy_pj[size_t(C::Mac)] == Approx(10100 * (0.3867 / 4 + 0.0725)));
  CHECK(a8.energy_uj < a.energy_uj);
  CHECK(a8.energy_pj[size_t(C::Static)] == Approx(e(C::Static)));
}

TEST_CASE("fpga: both engines agree", "[fpga][systemc]") {
  SECTION("shipped scenario, 16-bit and 8-bit: identical cycles and energy") {
    const Scenario sc = test::scenario_from_text(shipped().dump());
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    REQUIRE(s.layers.size() == a.layers.size());
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
      CHECK(s.layers[i].cycles == a.layers[i].cycles);
      CHECK(s.layers[i].macs == a.layers[i].macs);
      CHECK(s.layers[i].energy_total_pj() == Approx(a.layers[i].energy_total_pj()));
    }
  }
  SECTION("pipelined products: 22 cycles a job, head 21") {
    const Scenario sc = with(R"({"hardware": {"design": {"pipelined": true}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 120 * 22 + 5);
    CHECK(a.layers[1].cycles == 21);
    CHECK(s.cycles == a.cycles);
  }
  SECTION("no overlap: the element-wise update is exposed after every job") {
    const Scenario sc = with(R"({"hardware": {"design": {"overlap_elementwise": false}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 120 * (42 + 5));
    CHECK(s.cycles == a.cycles);
  }
  SECTION("two MAC units: two gates each, 84 cycles a job") {
    const Scenario sc = with(R"({"hardware": {"design": {"mac_units": 2}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 120 * 84 + 5);
    CHECK(a.layers[1].cycles == 40);  // one output on one of the two units
    CHECK(s.cycles == a.cycles);
  }
  SECTION("an element-wise unit slower than the gates") {
    // E = 30 + 2 + 30 + 1 = 63 > 42: the element-wise unit works back to back after the first
    // job (42 + 120 x 63) and waits 42 - 40 = 2 cycles at each of the 5 step boundaries for the
    // last products of the step's first job: 7,612 cycles.
    const Scenario sc = with(R"({"hardware": {"design": {"lut_lookup_cycles": 30}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 42 + 120 * 63 + 5 * 2);
    CHECK(s.layers[0].cycles == a.layers[0].cycles);
  }
}

TEST_CASE("fpga: resource use is checked against the device and the architecture", "[fpga]") {
  CHECK(error_of(R"({"hardware": {"design": {"resources": {"dsp48": 24}}}})") ==
        "inline.json: /hardware/design/resources/dsp48: expected at most 20 DSP48 slices (the device xc7s15 "
        "has 20), found 24");
  CHECK(error_of(R"({"hardware": {"design": {"resources": {"bram_36k": 11}}}})") ==
        "inline.json: /hardware/design/resources/bram_36k: expected at most 10 36 Kb block RAMs (the device "
        "xc7s15 has 10), found 11");
  CHECK(error_of(R"({"hardware": {"design": {"resources": {"luts": 9000}}}})") ==
        "inline.json: /hardware/design/resources/luts: expected at most 8000 LUTs (the device xc7s15 has "
        "8000), found 9000");
  CHECK(error_of(R"({"hardware": {"design": {"resources": {"dsp48": 3}}}})") ==
        "inline.json: /hardware/design/resources/dsp48: expected at least 5 DSP48 slices (4 MAC unit(s) + 1 "
        "element-wise multiplier(s)), found 3");
  // Architecture larger than the device: 20 MAC units + 1 multiplier need 21 of 20 DSP48s.
  CHECK(error_of(R"({"hardware": {"design": {"mac_units": 20}}})") ==
        "inline.json: /hardware/design/resources/dsp48: expected at most 20 DSP48 slices (the device xc7s15 "
        "has 20; the architecture needs 21: 20 MAC unit(s) + 1 element-wise multiplier(s)), found 21");
  // A big LSTM's weight ROMs do not fit the 20 18 Kb block RAMs.
  const std::string big = error_of(R"({"network": {"lstm": {"hidden": 200}}})");
  CHECK(big.find("/hardware/design/resources/bram_18k: expected at most 20 18 Kb block RAMs") != std::string::npos);
}

TEST_CASE("fpga: bad keys and values name the file and JSON pointer", "[fpga]") {
  CHECK(error_of(R"({"hardware": {"clok_mhz": 100}})") ==
        "inline.json: /hardware/clok_mhz: expected a known key (did you mean \"clock_mhz\"?), found unknown key "
        "\"clok_mhz\"");
  CHECK(error_of(R"({"hardware": {"design": {"cycles_per_prodct": 2}}})").find(
            "/hardware/design/cycles_per_prodct: expected a known key (did you mean \"cycles_per_product\"?)") !=
        std::string::npos);
  CHECK(error_of(R"({"hardware": {"design": {"mac_units": "4"}}})").find("/hardware/design/mac_units: expected") !=
        std::string::npos);
  CHECK(error_of(R"({"hardware": {"design": {"state": "rom"}}})") ==
        "inline.json: /hardware/design/state: expected \"dual_port_ram\" (the state is written every step), found "
        "\"rom\"");
  CHECK(error_of(R"({"hardware": {"kind": "fgpa"}})").find("/hardware/kind: expected one of") != std::string::npos);
  // Device counts must match the power table's data-sheet entry for the part.
  CHECK(error_of(R"({"hardware": {"device": {"dsp48": 21}}})") ==
        "inline.json: /hardware/device/dsp48: expected 20 (part xc7s15 in "
        "energy_models/tables/fpga/xilinx_7series_28nm.json), found 21");
  CHECK(error_of(R"({"hardware": {"power": {"table": "xilinx_7series_28n"}}})").find(
            "/hardware/power/table: expected a shipped FPGA power table (\"xilinx_7series_28nm\") (did you mean") !=
        std::string::npos);
  // The network must be what the datapath runs.
  CHECK(error_of(R"({"network": {"lstm": {"bidirectional": true}}})").find("/network: expected an LSTM layer") !=
        std::string::npos);
  CHECK(error_of(R"({"precision": {"default": {"format": "fp16", "fraction_bits": null, "weights": null, "activations": null},
                     "layers": []}})")
            .find("/precision: expected integer (fixed-point) formats on the fpga template") != std::string::npos);
  CHECK(error_of(R"({"precision": {"default": {"fraction_bits": 16}}})").find("expected fraction_bits of at most 15") !=
        std::string::npos);
  // The CLI exits 2 on such a file.
  const std::string dir = test::temp_dir("fpga_bad");
  json j = shipped();
  j["hardware"]["design"]["resources"]["dsp48"] = 24;
  std::ofstream(dir + "/bad.json") << j.dump();
  const test::RunResult r = test::run_cli("simulate " + dir + "/bad.json");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/hardware/design/resources/dsp48: expected at most 20 DSP48 slices") != std::string::npos);
}

TEST_CASE("fpga: fixed-point quantizer: Q7.8 grid, round half to even, saturation", "[fpga][model][quant]") {
  using namespace mixprec::model;
  ActQuantOptions o;
  o.spec = quant_spec(Operand{NumFormat::Int, 16}, false, 8);
  REQUIRE(o.spec.fixed_point());
  CHECK(o.spec.fixed_step() == 1.0f / 256.0f);
  CHECK(fixed_point_grid(16) == IntGrid{-32768, 32767});
  ActQuant q("lstm", o);
  CHECK(q.params().empty());  // no learned step
  const std::vector<float> in{0.3f, -1.7f, 1000.0f, -1000.0f, 0.5f / 256, 1.5f / 256, -2.5f / 256, 127.99f, -128.0f};
  const std::vector<float> want{77.0f / 256, -435.0f / 256, 32767.0f / 256, -128.0f, 0.0f, 2.0f / 256, -2.0f / 256,
                                32765.0f / 256, -128.0f};
  Tensor x(1, int(in.size())), y;
  for (std::size_t i = 0; i < in.size(); ++i) x[std::int64_t(i)] = in[i];
  q.forward(x, y);
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("x = " << in[i]);
    CHECK(y[std::int64_t(i)] == want[i]);                    // exact
    const float k = y[std::int64_t(i)] * 256.0f;
    CHECK(k == std::nearbyint(k));                             // on the 2^-8 grid
  }
  CHECK(y[2] == 127.99609375f);  // saturates just below 2^7
  // Weights: the same grid per channel (not the narrow symmetric one), whatever their range.
  WeightQuant wq("w", quant_spec(Operand{NumFormat::Int, 8}, false, 4), RangeMethod::Lsq, Dims{2, 3, 1, 1});
  CHECK(wq.step_param() == nullptr);
  Tensor w(2, 3), ws;
  const float wv[6] = {0.03f, -9.0f, 7.99f, 100.0f, -0.09375f, 1.0f};
  for (int i = 0; i < 6; ++i) w[i] = wv[i];
  wq.forward(w, ws);
  const float wwant[6] = {0.0f, -8.0f, 7.9375f, 7.9375f, -0.125f, 1.0f};  // Q3.4: k / 16 in [-8, 7.9375]
  for (int i = 0; i < 6; ++i) CHECK(ws[i] == wwant[i]);
  // The straight-through estimator passes the gradient only inside the grid's range.
  Tensor gs(2, 3), gm(2, 3);
  for (int i = 0; i < 6; ++i) gs[i] = 1.0f;
  wq.backward(w, gs, gm);
  const float gwant[6] = {1, 0, 0, 0, 1, 1};  // -9, 7.99 and 100 lie outside [-8, 7.9375]
  for (int i = 0; i < 6; ++i) CHECK(gm[i] == gwant[i]);
}
