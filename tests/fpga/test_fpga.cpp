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
  // (fetch, then multiply-accumulate): 42 cycles, after 1 control cycle (accumulator clear +
  // bias preload, design.control.job_cycles): 43. Each of the 6 steps starts with 2 control
  // cycles (step_cycles). The element-wise update (1 lookup + 2 multiplies + 1 lookup + 1 multiply
  // = 5 cycles) of job n overlaps job n + 1; only the last one is exposed. A step's first job
  // fetches h_{t-1}[19] 1 + (21 - 1) x 2 = 41 cycles after it starts: 5 < 2 + 41, no stall.
  // Before the first step: the host handshake (4) and the input window (6 words x 1 cycle).
  // LSTM: 4 + 6 + 6 x (2 + 20 x 43) + 5 = 5,187. Head: 2 control cycles + 20 products x 2 = 42.
  // Total 5,229 cycles = 52.29 us at 100 MHz: 19,124.1 inferences per second.
  const sim::NetworkCost a = analytical(sc);
  REQUIRE(a.layers.size() == 2);
  CHECK(a.layers[0].cycles == 5187);
  CHECK(a.layers[1].cycles == 42);
  CHECK(a.cycles == 5229);
  CHECK(a.latency_ms == Approx(0.05229));
  CHECK(a.layers[0].macs == 4 * 21 * 20 * 6);
  CHECK(a.layers[1].macs == 20);
  const json j = sim::network_to_json(sc, a, {}, "analytical");
  CHECK(j["total"]["inferences_per_s"].get<double>() == Approx(1e6 / 52.29));
  CHECK(j["total"]["energy_per_inference_uj"].get<double>() == Approx(a.energy_uj));
  CHECK(j["total"]["power_mw"].get<double>() == Approx(a.power_mw));
  CHECK(j["fpga"]["schedule"]["job_cycles"] == 43);
  CHECK(j["fpga"]["schedule"]["elementwise_cycles"] == 5);
  CHECK(j["fpga"]["schedule"]["control"]["input_load_cycles"] == 6);
}

TEST_CASE("fpga: an LSTM with steps 4 of its 6 runs 4 steps of the schedule", "[fpga][steps]") {
  // The shipped network as an explicit layer list, the LSTM running the first 4 of the window's 6
  // steps (ONNX sequence_lens 4): the input window loads the 4 words it reads, then 4 steps of
  // 2 + 20 x 43 cycles: 4 + 4 + 4 x (2 + 20 x 43) + 5 = 3,461 (the 6-step run above: 5,187). The
  // head is unchanged (42).
  auto explicit_net = [](const std::string& steps) {
    json j = shipped();
    j["network"] = json::parse(R"({"name": "los_loop_lstm", "batch": 1, "input": {"frames": 6, "features": 1},
        "layers": [{"name": "lstm.l0", "kind": "lstm", "hidden": 20)" + steps + R"(},
                   {"name": "head", "kind": "linear", "out_features": 1}]})");
    return test::scenario_from_text(j.dump());
  };
  const Scenario all = explicit_net(""), four = explicit_net(R"(, "steps": 4)");
  const sim::NetworkCost a = analytical(all), f = analytical(four), s = systemc(four);
  REQUIRE(f.layers.size() == 2);
  CHECK(a.layers[0].cycles == 5187);
  CHECK(f.layers[0].cycles == 3461);
  CHECK(f.layers[1].cycles == 42);
  CHECK(f.layers[0].macs == 4 * 21 * 20 * 4);
  CHECK(s.cycles == f.cycles);
}

TEST_CASE("fpga: without control overheads the schedule is the bare datapath's", "[fpga]") {
  // All control cycles 0: 6 steps x 20 jobs x 42 + 5 = 5,045; head 40 (the first model's
  // hand-computed figures).
  const Scenario sc = with(R"({"hardware": {"design": {"control": {"step_cycles": 0, "job_cycles": 0,
      "gate_switch_cycles": 0, "input_load_cycles_per_word": 0, "head_cycles": 0, "host_handshake_cycles": 0}}}})");
  const sim::NetworkCost a = analytical(sc), s = systemc(sc);
  CHECK(a.layers[0].cycles == 5045);
  CHECK(a.layers[1].cycles == 40);
  CHECK(s.cycles == a.cycles);
  // A missing control key is an error: no published design gives these values.
  json j = shipped();
  j["hardware"]["design"]["control"].erase("step_cycles");
  const std::string err = [&] {
    try {
      test::scenario_from_text(j.dump());
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  CHECK(err.find("/hardware/design/control/step_cycles") != std::string::npos);
}

TEST_CASE("fpga: power by Vivado's components from the calibrated table", "[fpga]") {
  const Scenario sc = test::scenario_from_text(shipped().dump());
  const sim::NetworkCost a = analytical(sc);
  using C = sim::Component;
  auto e = [&](C c) { return a.energy_pj[size_t(c)]; };
  // energy_models/tables/fpga/xilinx_7series_vivado.json: xc7s15 static 61.5 mW at 25 C;
  // DSP 7.391 pJ per 16 x 16 operation at 12.5% toggle; block RAM 66.06 pJ per enabled RAMB36
  // cycle at a 36-bit port (18-bit port: half); per cycle: clocks 0.06281 pJ per FF, logic
  // 0.07904 pJ per LUT, signals 0.05573 pJ per LUT or FF, I/O 7.755 pJ per pin. Design: 1,000
  // LUTs, 800 FFs, 20 pins, no MMCM/PLL; 5,229 cycles.
  const double cycles = 5229;
  CHECK(e(C::Static) == Approx(61.5 * 52.29 * 1e3));  // mW x us = nJ
  CHECK(e(C::Mac) == Approx(10100 * 7.391));           // 10,080 gate + 20 head products
  CHECK(e(C::Nonlinear) == Approx(120 * 3 * 7.391));   // f c, + i g, o tanh(c) per job
  CHECK(e(C::Interconnect) == Approx(cycles * (1000 * 0.07904 + 1800 * 0.05573 + 20 * 7.755)));
  CHECK(e(C::RegisterFile) == Approx(cycles * 800 * 0.06281));
  // Weight ROM: one 16-bit word (an 18-bit port) per product and per bias preload.
  CHECK(e(C::WeightBuffer) == Approx((10100 + 4 * 120 + 1) * 66.06 / 2));
  CHECK(a.dram_bytes == 0);
  CHECK(a.power_mw == Approx(a.energy_uj / a.latency_ms));
  const json j = sim::network_to_json(sc, a, {}, "analytical");
  const json& pw = j["fpga"]["power_mw"];
  CHECK(pw["device_static"].get<double>() == Approx(61.5));
  CHECK(pw["dynamic_by_component"]["clocks"].get<double>() == Approx(800 * 0.06281 * 100 * 1e-3));
  CHECK(pw["dynamic_by_component"]["io"].get<double>() == Approx(20 * 7.755 * 100 * 1e-3));
  CHECK(pw["dynamic_by_component"]["mmcm"].get<double>() == 0);
  CHECK(pw["device_static"].get<double>() + pw["dynamic"].get<double>() == Approx(a.power_mw));
  // simulate's table prints the same in report_power's names and order.
  const std::string text = sim::network_to_table(sc, a, {}, "analytical");
  CHECK(text.find("Total On-Chip 109.97 = Device Static 61.50 + Dynamic 48.47") != std::string::npos);
  CHECK(text.find("Clocks 5.02 | Slice Logic 7.90 | Signals 10.03 | Block RAM 8.52 | DSPs 1.48 | MMCM 0.00 | PLL 0.00 | "
                  "I/O 15.51") != std::string::npos);
  // A hotter junction: static x exp(0.0166 x 10).
  const Scenario hot = with(R"({"hardware": {"power": {"junction_c": 35}}})");
  CHECK(analytical(hot).energy_pj[size_t(C::Static)] == Approx(e(C::Static) * std::exp(0.166)));
  // An MMCM adds 104 mW over the whole inference.
  const Scenario mmcm = with(R"({"hardware": {"design": {"resources": {"mmcm": 1}}}})");
  CHECK(analytical(mmcm).energy_pj[size_t(C::RegisterFile)] == Approx(e(C::RegisterFile) + 104.0 * 52.29 * 1e3));
  // The 8-bit variant: same schedule, cheaper products (8 x 8 / 16 x 16) and 9-bit ports.
  const Scenario sc8 = [] {
    Scenario s = test::scenario_from_text(shipped().dump());
    s.layer_precision = resolve_precision(load_precision_file(test::source_path("scenarios/precision/fpga_lstm_q3_4.json")),
                                          s.net, "q3_4.json");
    return s;
  }();
  const sim::NetworkCost a8 = analytical(sc8);
  CHECK(a8.cycles == a.cycles);
  CHECK(a8.energy_pj[size_t(C::Mac)] == Approx(10100 * 7.391 / 4));
  CHECK(a8.energy_pj[size_t(C::WeightBuffer)] == Approx((10100 + 4 * 120 + 1) * 66.06 / 4));
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
  // Shipped control: step 2, job 1, gate switch 1, 1 cycle per input word, head 2, handshake 4.
  SECTION("pipelined products: 1 + 22 cycles a job, head 2 + 21") {
    const Scenario sc = with(R"({"hardware": {"design": {"pipelined": true}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 10 + 6 * 2 + 120 * 23 + 5);
    CHECK(a.layers[1].cycles == 23);
    CHECK(s.cycles == a.cycles);
  }
  SECTION("no overlap: the element-wise update is exposed after every job") {
    const Scenario sc = with(R"({"hardware": {"design": {"overlap_elementwise": false}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 10 + 6 * 2 + 120 * (43 + 5));
    CHECK(s.cycles == a.cycles);
  }
  SECTION("two MAC units: two gates each with a gate switch, 1 + 84 + 1 cycles a job") {
    const Scenario sc = with(R"({"hardware": {"design": {"mac_units": 2}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 10 + 6 * 2 + 120 * 86 + 5);
    CHECK(a.layers[1].cycles == 42);  // one output on one of the two units
    CHECK(s.cycles == a.cycles);
  }
  SECTION("an element-wise unit slower than the gates") {
    // E = 30 + 2 + 30 + 1 = 63 > 43: the element-wise unit works back to back after the first
    // job (2 + 43 + 120 x 63) and waits 43 - 41 = 2 cycles at each of the 5 step boundaries for
    // the last products of the step's first job: 10 + 7,605 + 10 = 7,625 cycles.
    const Scenario sc = with(R"({"hardware": {"design": {"lut_lookup_cycles": 30}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 10 + 2 + 43 + 120 * 63 + 5 * 2);
    CHECK(s.layers[0].cycles == a.layers[0].cycles);
  }
  SECTION("element-wise-bound with long step control: the step's own cycles set the gap") {
    // E = 63, step 100: the MAC units hand over a step's last job 2 E = 126 cycles before the
    // element-wise unit finishes it, then spend 100 control + 43 job cycles: the element-wise
    // unit idles 100 + 43 - 126 = 17 cycles per boundary (more than 43 - 41 = 2).
    const Scenario sc = with(R"({"hardware": {"design": {"lut_lookup_cycles": 30, "control": {"step_cycles": 100}}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 10 + 100 + 43 + 120 * 63 + 5 * 17);
    CHECK(s.layers[0].cycles == a.layers[0].cycles);
  }
  SECTION("MAC-bound with a stall at every step boundary") {
    // E = 20 + 2 + 20 + 1 = 43 = G: still MAC-bound; with no step control the first job of a
    // step fetches h_{t-1}[19] 41 cycles after it starts, h is written 43 cycles after the
    // previous job ended: 2 stall cycles at each of the 5 boundaries.
    const Scenario sc = with(R"({"hardware": {"design": {"lut_lookup_cycles": 20, "control": {"step_cycles": 0}}}})");
    const sim::NetworkCost a = analytical(sc), s = systemc(sc);
    CHECK(a.layers[0].cycles == 10 + 120 * 43 + 43 + 5 * 2);
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
        "energy_models/tables/fpga/xilinx_7series_vivado.json), found 21");
  CHECK(error_of(R"({"hardware": {"power": {"table": "xilinx_7series_vivad"}}})").find(
            "/hardware/power/table: expected a shipped FPGA power table (\"xilinx_7series_vivado\") (did you mean") !=
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
