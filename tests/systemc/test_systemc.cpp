// The SystemC engine against the analytical twin: identical work and access counts, energy
// within 1%, cycles within 10% (or a named effect explains the difference); a golden small case;
// one elaboration per process and deterministic repeated runs; the CLI surface.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/compare.hpp"
#include "sim/systemc/engine.hpp"
#include "sim/systemc/plan.hpp"
#include "sim/workload.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::sim;

namespace {

const char* kComposable = R"({"style": "composable", "brick_bits": 2, "fused_bits": 8})";
const char* kParallel = R"({"style": "bit_parallel", "native_bits": 8})";
const char* kSerial = R"({"style": "bit_serial", "serial_operand": "activations"})";

struct Hw {
  std::string mac = kComposable;
  std::string dataflow = "weight_stationary";
  int rows = 16, cols = 16;
  double clock_mhz = 200, bandwidth_gbps = 12.8, latency_ns = 100;
  double weight_kib = 64, input_kib = 64, output_kib = 64;
  bool double_buffered = true;
  std::string json() const {
    std::ostringstream s;
    const char* db = double_buffered ? "true" : "false";
    s << R"({"name": "test", "clock_mhz": )" << clock_mhz << R"(, "pe_array": {"rows": )" << rows
      << R"(, "cols": )" << cols << R"(, "dataflow": ")" << dataflow << R"(", "mac": )" << mac
      << R"(}, "buffers": {"weight": {"size_kib": )" << weight_kib << R"(, "double_buffered": )" << db
      << R"(}, "input": {"size_kib": )" << input_kib << R"(, "double_buffered": )" << db
      << R"(}, "output": {"size_kib": )" << output_kib << R"(, "double_buffered": )" << db
      << R"(}}, "dram": {"kind": "lpddr4", "bandwidth_gbps": )" << bandwidth_gbps << R"(, "latency_ns": )"
      << latency_ns << R"(, "burst_bytes": 64}, "energy": {"static_power_mw": 5}})";
    return s.str();
  }
};

Scenario make(const Hw& hw, const std::string& network,
              const std::string& precision = R"({"default": {"weights": 8, "activations": 8}})") {
  return test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "t", "hardware": )" + hw.json() +
                                  R"(, "network": )" + network + R"(, "precision": )" + precision + "}");
}

std::string conv_net(int frames, int channels, int hw, int out_channels, int kernel, int stride = 1) {
  std::ostringstream s;
  s << R"({"name": "conv", "input": {"frames": )" << frames << R"(, "channels": )" << channels
    << R"(, "height": )" << hw << R"(, "width": )" << hw
    << R"(}, "layers": [{"name": "conv", "kind": "conv2d", "out_channels": )" << out_channels
    << R"(, "kernel": )" << kernel << R"(, "stride": )" << stride << R"(, "padding": )" << kernel / 2 << "}]}";
  return s.str();
}

std::string linear_net(int batch, int in, int out) {
  std::ostringstream s;
  s << R"({"name": "lin", "batch": )" << batch << R"(, "input": {"frames": 1, "features": )" << in
    << R"(}, "layers": [{"name": "fc", "kind": "linear", "out_features": )" << out << "}]}";
  return s.str();
}

std::string lstm_net(int batch, int steps, int features, int hidden, bool bidirectional) {
  std::ostringstream s;
  s << R"({"name": "rnn", "batch": )" << batch << R"(, "input": {"frames": )" << steps << R"(, "features": )"
    << features << R"(}, "layers": [{"name": "lstm", "kind": "lstm", "hidden": )" << hidden
    << R"(, "bidirectional": )" << (bidirectional ? "true" : "false") << "}]}";
  return s.str();
}

struct Priced {
  NetworkCost analytical, systemc;
  std::vector<systemc::LayerSimStats> stats;
};

Priced price_both(const Scenario& sc) {
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const AnalyticalEngine eng(sc.hardware, em);
  Priced p;
  p.analytical = eng.network_cost(sc.net, sc.layer_precision, sc.phase);
  p.systemc = systemc::network_cost(sc.hardware, em, sc.net, sc.layer_precision, sc.phase, &p.stats);
  return p;
}

double rel(double now, double ref) { return ref == 0 ? (now == 0 ? 0 : 1) : std::fabs(now - ref) / ref; }

constexpr double kCycleBound = 0.10;   // cycles within 10% ...
constexpr double kEnergyBound = 0.01;  // ... energy within 1%

double effect_cycles(const systemc::LayerDifference& d) {
  const StallBreakdown& x = d.stall_diff;
  if (d.effect == "dram") return x.dram_stall_cycles;
  if (d.effect == "contention") return x.contention_cycles;
  if (d.effect == "fill_drain") return x.fill_drain_cycles;
  if (d.effect == "recurrent") return x.recurrent_cycles;
  return 0;
}

// Cycles agree within 10%, or the difference is named and explained: the comparison's effect
// moves the cycles in the same direction and accounts for all of the excess over 10%.
void check_cycles(const systemc::LayerDifference& d) {
  INFO(d.name << ": analytical " << d.cycles_analytical << ", systemc " << d.cycles_systemc << " ("
               << d.cycles_diff_percent << "%), effect " << d.effect << " " << effect_cycles(d));
  const double delta = d.cycles_systemc - d.cycles_analytical;
  if (std::fabs(delta) <= kCycleBound * d.cycles_analytical) return;
  REQUIRE_FALSE(d.effect.empty());
  const double e = effect_cycles(d);
  CHECK(e * delta > 0);
  CHECK(std::fabs(e) >= std::fabs(delta) - kCycleBound * d.cycles_analytical);
}

// Access counts and energy: the simulation moved exactly the analytical traffic and did exactly
// the analytical work; energy differs only by static power over the simulated time.
void check_counts_and_energy(const Priced& p) {
  REQUIRE(p.stats.size() == p.analytical.layers.size());
  for (std::size_t i = 0; i < p.stats.size(); ++i) {
    const LayerCost& a = p.analytical.layers[i];
    const LayerCost& s = p.systemc.layers[i];
    const systemc::LayerSimStats& st = p.stats[i];
    INFO("layer " << a.name);
    for (std::size_t t = 0; t < kTensors; ++t) {
      CHECK(st.dram_read_bits[t] == a.dram[t].read_bits);
      CHECK(st.dram_write_bits[t] == a.dram[t].write_bits);
      CHECK(s.buffer[t].reads == a.buffer[t].reads);
      CHECK(s.buffer[t].writes == a.buffer[t].writes);
    }
    CHECK(st.macs == a.macs);
    CHECK(st.nonlinear_ops == a.nonlinear_ops);
    CHECK(s.register_file_accesses == a.register_file_accesses);
    CHECK(s.compute_cycles == Approx(a.compute_cycles));
    // Dynamic energy: identical counts priced by the one accounting. Static energy: the same
    // static power over each engine's own time, so it differs exactly as the cycles do.
    constexpr std::size_t kStatic = static_cast<std::size_t>(Component::Static);
    for (std::size_t c = 0; c < kComponents; ++c)
      if (c != kStatic) CHECK(s.energy_pj[c] == Approx(a.energy_pj[c]).epsilon(1e-12).margin(1e-9));
    if (a.cycles > 0) CHECK(s.energy_pj[kStatic] / s.cycles == Approx(a.energy_pj[kStatic] / a.cycles));
    // The total within 1% unless the static share times the cycle difference exceeds it (a
    // short layer whose pipeline fill is exposed).
    const double static_share = a.energy_total_pj() > 0 ? a.energy_pj[kStatic] / a.energy_total_pj() : 0;
    CHECK(rel(s.energy_total_pj(), a.energy_total_pj()) <=
          std::max(kEnergyBound, static_share * rel(s.cycles, a.cycles) * 1.000001));
  }
  CHECK(rel(p.systemc.energy_uj, p.analytical.energy_uj) <= kEnergyBound);
}

// Largest relative differences seen by the agreement tests (printed by the summary test).
struct Worst {
  double cycles = 0, energy = 0, counts = 0;
  std::string cycles_case, energy_case;
};
Worst& worst() {
  static Worst w;
  return w;
}

void record(const std::string& name, const Priced& p) {
  Worst& w = worst();
  for (std::size_t i = 0; i < p.analytical.layers.size(); ++i) {
    const double c = rel(p.systemc.layers[i].cycles, p.analytical.layers[i].cycles);
    const double e = rel(p.systemc.layers[i].energy_total_pj(), p.analytical.layers[i].energy_total_pj());
    if (c > w.cycles) { w.cycles = c; w.cycles_case = name + " / " + p.analytical.layers[i].name; }
    if (e > w.energy) { w.energy = e; w.energy_case = name + " / " + p.analytical.layers[i].name; }
  }
}

}  // namespace


TEST_CASE("systemc: golden: linear 32->16 on a 4x4 array, by hand", "[systemc][golden]") {
  // Same case as the analytical hand test: 4x4 weight-stationary, 100 MHz, 1.6 GB/s (16 B per
  // cycle), 64-byte bursts, 100 ns (10 cycles) latency; one tile, 32 folds of 11 cycles = 352.
  Hw hw;
  hw.mac = kParallel;
  hw.rows = hw.cols = 4;
  hw.clock_mhz = 100;
  hw.bandwidth_gbps = 1.6;
  const Scenario sc = make(hw, linear_net(1, 32, 16));
  const Priced p = price_both(sc);
  CHECK(p.analytical.layers[0].cycles == Approx(398));
  // SystemC: weights 512 B = 8 bursts (32 cycles) then inputs 32 B = 1 burst (4 cycles), usable
  // 10 cycles later; 352 cycles of compute; the 16-byte output is one burst (4 cycles) after it.
  // 36 + 10 + 352 + 4 = 402. The analytical rounds bursts over the layer (9 bursts) instead of
  // per transfer (10), and the write-back is inside its one-tile prologue.
  const LayerCost& s = p.systemc.layers[0];
  CHECK(s.cycles == 402);
  CHECK(s.compute_cycles == 352);
  CHECK(s.stalls.fill_drain_cycles == 320 + 46 + 4);  // folds' fill/drain, prologue, drain
  CHECK(s.stalls.dram_stall_cycles == 0);
  CHECK(s.stalls.contention_cycles == 0);
  CHECK(s.stalls.recurrent_cycles == 0);
  REQUIRE(p.stats.size() == 1);
  CHECK(p.stats[0].tiles == 1);
  CHECK(p.stats[0].dram_descriptors == 3);
  check_counts_and_energy(p);
  CHECK(s.utilization == Approx((512.0 / 16) / 402));
}

TEST_CASE("systemc: single layers agree with the analytical model", "[systemc][agreement]") {
  struct Case {
    std::string name;
    Hw hw;
    std::string net;
  };
  std::vector<Case> cases;
  for (const auto& [mac, mac_name] : {std::pair<const char*, std::string>{kComposable, "composable"},
                                     {kParallel, "bit_parallel"},
                                     {kSerial, "bit_serial"}}) {
    Hw fast;  // compute-bound: 64 B per cycle
    fast.mac = mac;
    Hw slow = fast;  // memory-bound: 0.5 B per cycle, 8 KiB buffers (many tiles)
    slow.bandwidth_gbps = 0.1;
    slow.weight_kib = slow.input_kib = slow.output_kib = 8;
    cases.push_back({mac_name + " conv compute-bound", fast, conv_net(4, 16, 16, 32, 3)});
    cases.push_back({mac_name + " conv memory-bound", slow, conv_net(4, 64, 16, 64, 1)});
    cases.push_back({mac_name + " linear compute-bound", fast, linear_net(64, 256, 256)});
    cases.push_back({mac_name + " linear memory-bound", slow, linear_net(4, 1024, 512)});
    cases.push_back({mac_name + " lstm compute-bound", fast, lstm_net(4, 8, 64, 64, false)});
    cases.push_back({mac_name + " lstm memory-bound", slow, lstm_net(1, 8, 256, 128, false)});
    cases.push_back({mac_name + " bilstm compute-bound", fast, lstm_net(4, 8, 64, 64, true)});
    cases.push_back({mac_name + " bilstm memory-bound", slow, lstm_net(1, 8, 256, 128, true)});
  }
  for (const char* bits : {R"({"default": {"weights": 8, "activations": 8}})",
                           R"({"default": {"weights": 4, "activations": 4}})"}) {
    for (const Case& c : cases) {
      INFO(c.name << " at " << bits);
      const Priced p = price_both(make(c.hw, c.net, bits));
      check_counts_and_energy(p);
      const systemc::Comparison cmp = systemc::compare(p.analytical, p.systemc);
      for (const auto& d : cmp.layers) check_cycles(d);
      check_cycles(cmp.total);
      record(c.name + " " + bits, p);
    }
  }
}

TEST_CASE("systemc: an LSTM with steps L < T simulates L steps and agrees with the analytical model",
          "[systemc][agreement][steps]") {
  // 8 steps of 64 features, hidden 64, batch 4; steps 3: 3/8 of the full layer's MACs and
  // nonlinear operations, the same counts as the analytical model.
  Hw fast;
  const std::string full = lstm_net(4, 8, 64, 64, true);
  std::string three = full;
  three.insert(three.rfind("}]}"), R"(, "steps": 3, "return_sequences": true)");
  std::string full_seq = full;
  full_seq.insert(full_seq.rfind("}]}"), R"(, "return_sequences": true)");
  const Priced pf = price_both(make(fast, full_seq));
  const Priced p3 = price_both(make(fast, three));
  check_counts_and_energy(p3);
  const systemc::Comparison cmp = systemc::compare(p3.analytical, p3.systemc);
  for (const auto& d : cmp.layers) check_cycles(d);
  REQUIRE(p3.stats.size() == 1);
  CHECK(p3.stats[0].macs * 8 == pf.stats[0].macs * 3);
  CHECK(p3.stats[0].nonlinear_ops * 8 == pf.stats[0].nonlinear_ops * 3);
  CHECK(p3.stats[0].macs == 4 * 3 * (2 * 4 * 64) * (64 + 64));  // B x L x 2 directions x 4H x (F + H)
  CHECK(p3.systemc.layers[0].cycles < pf.systemc.layers[0].cycles);
}

TEST_CASE("systemc: output-stationary and single-buffered hardware", "[systemc][agreement]") {
  Hw os;
  os.dataflow = "output_stationary";
  Hw single;
  single.double_buffered = false;
  single.bandwidth_gbps = 1.6;
  single.weight_kib = single.input_kib = single.output_kib = 16;
  for (const auto& [hw, name] : {std::pair<Hw, std::string>{os, "output-stationary"}, {single, "single-buffered"}}) {
    for (const std::string& net : {conv_net(4, 16, 16, 32, 3), linear_net(64, 256, 256), lstm_net(2, 6, 32, 32, true)}) {
      INFO(name << ": " << net);
      const Priced p = price_both(make(hw, net));
      check_counts_and_energy(p);
      const systemc::Comparison cmp = systemc::compare(p.analytical, p.systemc);
      for (const auto& d : cmp.layers) check_cycles(d);
      record(name, p);
    }
  }
  // Without double buffering nothing overlaps: the layer takes at least its compute plus all of
  // its transfers, and longer than the same hardware with double buffering.
  const Priced p = price_both(make(single, conv_net(4, 16, 16, 32, 3)));
  REQUIRE(p.stats[0].tiles > 1);
  const double bytes_per_cycle = single.bandwidth_gbps * 1e9 / (single.clock_mhz * 1e6);
  const LayerCost& s = p.systemc.layers[0];
  CHECK(s.cycles >= s.compute_cycles + s.dram_bytes() / bytes_per_cycle);
  Hw dbl = single;
  dbl.double_buffered = true;
  const Priced q = price_both(make(dbl, conv_net(4, 16, 16, 32, 3)));
  CHECK(q.systemc.layers[0].cycles < s.cycles);
}

TEST_CASE("systemc: stationary runs and the K-outer order agree with the analytical model", "[systemc][agreement]") {
  // 16x16 array, bit-parallel 8-bit MACs (one fold holds 16 x 16 weights), compute-bound.
  // Linear 16 -> 16 at batch 4096 with a 4 KiB input buffer (2 KiB slots: 128 rows of 16
  // inputs): a single-fold weight tile kept across 32 M tiles (N-outer). Linear 256 -> 16 at
  // batch 1024 with a 2 KiB weight buffer (1 KiB slot: at most 64 x 16 weights), the same input
  // buffer and a 128 KiB output buffer (64 KiB slot holds 1024 x 16 partial sums at 26 bits):
  // the K-outer order. Both dataflows.
  Hw hw;
  hw.mac = kParallel;
  hw.input_kib = 4;
  hw.weight_kib = 2;
  hw.output_kib = 128;
  for (const char* dataflow : {"weight_stationary", "output_stationary"})
    for (const std::string& net : {linear_net(4096, 16, 16), linear_net(1024, 256, 16)}) {
      hw.dataflow = dataflow;
      INFO(dataflow << ": " << net);
      const Priced p = price_both(make(hw, net));
      check_counts_and_energy(p);
      const systemc::Comparison cmp = systemc::compare(p.analytical, p.systemc);
      for (const auto& d : cmp.layers) check_cycles(d);
      record(std::string("stationary runs ") + dataflow, p);
    }
  hw.dataflow = "weight_stationary";
  // One fill (2*16 + 16 - 2 = 46) for the 32 M tiles: 46 + 4096 cycles.
  const Priced run = price_both(make(hw, linear_net(4096, 16, 16)));
  REQUIRE(run.analytical.layers[0].tiling.order == LoopOrder::NOuter);
  CHECK(run.stats[0].tiles == 32);
  CHECK(run.systemc.layers[0].compute_cycles == 46 + 4096);
  // K-outer: 16 K tiles of one fold, each streaming all 1024 rows (8 M tiles of 128).
  const Priced k_outer = price_both(make(hw, linear_net(1024, 256, 16)));
  REQUIRE(k_outer.analytical.layers[0].tiling.order == LoopOrder::KOuter);
  CHECK(k_outer.stats[0].tiles == 16 * 8);
  CHECK(k_outer.systemc.layers[0].compute_cycles == 16 * (46 + 1024));
}

TEST_CASE("systemc: the shipped scenarios agree with the analytical model", "[systemc][agreement]") {
  int scenarios = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::source_path("scenarios"))) {
    if (entry.path().extension() != ".json") continue;
    ++scenarios;
    const Scenario sc = load_scenario(entry.path().string());
    if (sc.hardware.kind == HardwareKind::Fpga) continue;  // its own engines: tests/fpga
    INFO(entry.path().string());
    const Priced p = price_both(sc);
    check_counts_and_energy(p);
    const systemc::Comparison cmp = systemc::compare(p.analytical, p.systemc);
    for (const auto& d : cmp.layers) check_cycles(d);
    CHECK(rel(p.systemc.cycles, p.analytical.cycles) <= kCycleBound);
    record(entry.path().filename().string(), p);
  }
  CHECK(scenarios >= 1);
}

TEST_CASE("systemc: the differences are the effects the closed form leaves out", "[systemc][effects]") {
  // Bidirectional LSTM: the directions are independent chains, so one direction's gate math runs
  // while the array computes the other's products; the closed form serializes all of it.
  Hw fast;
  const Priced bi = price_both(make(fast, lstm_net(4, 8, 64, 64, true), R"({"default": {"weights": 4, "activations": 4}})"));
  const systemc::Comparison c1 = systemc::compare(bi.analytical, bi.systemc);
  CHECK(c1.layers[0].cycles_systemc < c1.layers[0].cycles_analytical);
  CHECK(c1.layers[0].effect == "recurrent");
  CHECK(bi.systemc.layers[0].stalls.recurrent_cycles < 0.2 * bi.analytical.layers[0].stalls.recurrent_cycles);
  // One direction: every step waits for the previous step's gate math, as the closed form says.
  const Priced uni = price_both(make(fast, lstm_net(4, 8, 64, 64, false)));
  CHECK(uni.systemc.layers[0].stalls.recurrent_cycles == Approx(uni.analytical.layers[0].stalls.recurrent_cycles).epsilon(0.05));

  // Memory-bound GEMM: output write-backs share the channel with the next tiles' loads.
  Hw slow;
  slow.bandwidth_gbps = 0.1;
  slow.weight_kib = slow.input_kib = slow.output_kib = 8;
  const Priced mem = price_both(make(slow, conv_net(4, 64, 16, 64, 1)));
  CHECK(mem.systemc.layers[0].stalls.contention_cycles > 0);
  CHECK(mem.analytical.layers[0].stalls.contention_cycles == 0);

  // Elementwise layer shorter than the DRAM latency's share: the first slice's latency and the
  // last write are exposed (fill/drain), which max(math, transfer) does not see.
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  const Priced def = price_both(sc);
  const systemc::Comparison c2 = systemc::compare(def.analytical, def.systemc);
  bool saw_fill = false;
  for (const auto& d : c2.layers)
    if (d.name == "cnn.pool") {
      saw_fill = true;
      CHECK(d.effect == "fill_drain");
      CHECK(d.cycles_systemc > d.cycles_analytical);
    }
  CHECK(saw_fill);
}

TEST_CASE("systemc: training is priced with the same counts", "[systemc][training]") {
  const Scenario sc = test::default_scenario_with(R"({"phase": "training", "cost_model": {"engine": "analytical"}})");
  const Priced p = price_both(sc);
  check_counts_and_energy(p);
  CHECK(p.systemc.cycles > 0);
}

TEST_CASE("systemc: the plan matches the analytical work at every bitwidth, style and phase", "[systemc][plan]") {
  for (const char* mac : {R"({"style": "composable"})",
                          R"({"style": "bit_parallel", "native_bits": 8, "brick_bits": null, "fused_bits": null})",
                          R"({"style": "bit_serial", "brick_bits": null, "fused_bits": null})"}) {
    for (const char* phase : {"inference", "training"}) {
      const Scenario sc = test::default_scenario_with(std::string(R"({"phase": ")") + phase +
                                                      R"(", "cost_model": {"engine": "analytical"}, "hardware": {"pe_array": {"mac": )" + mac + "}}}");
      const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
      const AnalyticalEngine eng(sc.hardware, em);
      for (int b : {16, 8, 6, 4, 3, 2}) {
        const LayerPrecision p = LayerPrecision::uniform(NumFormat::Int, b);
        for (std::size_t li = 0; li < sc.net.layers.size(); ++li) {
          INFO(mac << " " << phase << " " << sc.net.layers[li].name << " at " << b << " bits");
          const LayerWork work = derive_work(sc.net, int(li), p, sc.phase);
          const LayerCost lc = eng.work_cost(sc.net, work, p);
          // plan_layer throws InternalError when its tiles do not add up to the analytical record.
          REQUIRE_NOTHROW(systemc::plan_layer(eng, sc.net, work, lc));
        }
      }
    }
  }
  // Row bands with a kernel halo (the analytical hand case: a 64-byte input buffer).
  Hw tiny;
  tiny.mac = kParallel;
  tiny.rows = tiny.cols = 4;
  tiny.input_kib = 64.0 / 1024;
  const Scenario sc = make(tiny, conv_net(1, 1, 8, 4, 3));
  const Priced p = price_both(sc);
  CHECK(p.stats[0].tiles == 4);
  CHECK(p.stats[0].dram_read_bits[1] == 14 * 8 * 8);
  check_counts_and_energy(p);
}

TEST_CASE("systemc: one elaboration per process, repeated runs are identical", "[systemc][determinism]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  systemc::SimOptions opts;
  opts.baselines = false;
  const systemc::SystemCResult a = systemc::simulate(sc, sc.layer_precision, opts);
  const int elaborated = systemc::elaborations();
  const std::int64_t jobs = systemc::jobs_run();
  CHECK(elaborated == 1);
  // A different design point in between must not leak state into the next run.
  Hw other;
  other.bandwidth_gbps = 0.1;
  price_both(make(other, lstm_net(1, 4, 16, 16, true)));
  const systemc::SystemCResult b = systemc::simulate(sc, sc.layer_precision, opts);
  CHECK(systemc::elaborations() == 1);
  CHECK(systemc::jobs_run() == jobs + 2);
  REQUIRE(a.result.cost.layers.size() == b.result.cost.layers.size());
  for (std::size_t i = 0; i < a.result.cost.layers.size(); ++i) {
    const LayerCost& x = a.result.cost.layers[i];
    const LayerCost& y = b.result.cost.layers[i];
    INFO(x.name);
    CHECK(x.cycles == y.cycles);
    CHECK(x.stalls.dram_stall_cycles == y.stalls.dram_stall_cycles);
    CHECK(x.stalls.contention_cycles == y.stalls.contention_cycles);
    CHECK(x.stalls.fill_drain_cycles == y.stalls.fill_drain_cycles);
    CHECK(x.stalls.recurrent_cycles == y.stalls.recurrent_cycles);
    CHECK(x.energy_total_pj() == y.energy_total_pj());
  }
  CHECK(a.result.cost.cycles == b.result.cost.cycles);
  CHECK(a.result.engine == "systemc");
  // Speed: one inference of the default network well under a second.
  CHECK(b.wall_seconds < 1.0);
}

TEST_CASE("systemc: SimOptions: baselines and trace", "[systemc]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  systemc::SimOptions opts;
  opts.trace = true;
  const systemc::SystemCResult r = systemc::simulate(sc, sc.layer_precision, opts);
  REQUIRE(r.result.baselines.size() == 4);
  CHECK(r.result.baselines[0].name == "int8");
  CHECK(r.result.cost.energy_uj < r.result.baselines[0].energy_uj);
  const nlohmann::json t = nlohmann::json::parse(r.trace_json);
  REQUIRE(t.contains("traceEvents"));
  int layer_slices = 0;
  std::set<int> lanes;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "X") continue;
    CHECK(e["ts"].get<double>() >= 0);
    CHECK(e["dur"].get<double>() >= 0);
    lanes.insert(e["tid"].get<int>());
    if (e["tid"] == 1 && e["name"] == e["args"]["layer"]) ++layer_slices;
  }
  CHECK(layer_slices == static_cast<int>(sc.net.layers.size()));
  for (int lane : {2, 3, 4, 5, 6, 7}) CHECK(lanes.count(lane) == 1);
}

TEST_CASE("systemc: largest differences seen by the agreement tests", "[systemc][agreement][summary]") {
  const Worst& w = worst();
  if (w.cycles_case.empty()) return;  // run alone: nothing recorded
  WARN("largest per-layer cycle difference " << 100 * w.cycles << "% (" << w.cycles_case
                                             << "); largest per-layer energy difference " << 100 * w.energy
                                             << "% (" << w.energy_case << ")");
}

namespace {

// Runs the CLI WITHOUT SYSTEMC_DISABLE_COPYRIGHT_MESSAGE in its environment (test::run_cli sets
// it), so that the banner test sees what a user sees.
test::RunResult run_cli_bare(const std::string& args) {
  char out_tpl[] = "/tmp/mixprec_sc_outXXXXXX";
  char err_tpl[] = "/tmp/mixprec_sc_errXXXXXX";
  const int fo = mkstemp(out_tpl), fe = mkstemp(err_tpl);
  close(fo);
  close(fe);
  const std::string cmd = std::string("env -u SYSTEMC_DISABLE_COPYRIGHT_MESSAGE ") + MIXPREC_CLI + " " + args +
                          " >" + out_tpl + " 2>" + err_tpl;
  const int status = std::system(cmd.c_str());
  test::RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(out_tpl);
  r.err = slurp(err_tpl);
  std::remove(out_tpl);
  std::remove(err_tpl);
  return r;
}

const std::string kDefault = test::source_path("scenarios/venue_cnn_lstm.json");

std::string temp_path(const std::string& stem) {
  return (std::filesystem::temp_directory_path() / (stem + "_" + std::to_string(getpid()) + ".json")).string();
}

}  // namespace

TEST_CASE("systemc CLI: the kernel's banner never reaches the user", "[systemc][cli]") {
  const auto r = run_cli_bare("simulate " + kDefault + " --engine systemc");
  REQUIRE(r.exit_code == 0);
  for (const std::string& text : {r.out, r.err}) {
    CHECK(text.find("Copyright") == std::string::npos);
    CHECK(text.find("Accellera") == std::string::npos);
    CHECK(text.find("SystemC 2.") == std::string::npos);
  }
  CHECK(r.err.empty());
  CHECK(r.out.rfind("mixprec simulate: venue_cnn_lstm on edge-16x16-bitfusion (systemc, inference)", 0) == 0);
}

TEST_CASE("systemc CLI: --engine systemc prints the simulate document with stall causes", "[systemc][cli]") {
  const auto r = test::run_cli("simulate " + kDefault + " --engine systemc --format json");
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["engine"] == "systemc");
  REQUIRE(j["layers"].size() == 33);
  for (const auto& l : j["layers"])
    for (const char* k : {"dram", "contention", "fill_drain", "recurrent"}) CHECK(l["stall_cycles"].contains(k));
  for (const char* b : {"int8", "int16", "fp16", "fp32"}) CHECK(j["baselines"].contains(b));
  const auto csv = test::run_cli("simulate " + kDefault + " --engine systemc --format csv");
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("name,kind,bits,macs,cycles,", 0) == 0);
}

TEST_CASE("systemc CLI: --compare prints both engines and the differences", "[systemc][cli]") {
  const auto r = test::run_cli("simulate " + kDefault + " --compare --format json");
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["engines"]["analytical"]["engine"] == "analytical");
  CHECK(j["engines"]["systemc"]["engine"] == "systemc");
  REQUIRE(j["differences"]["layers"].size() == 33);
  for (const auto& d : j["differences"]["layers"]) {
    CHECK(d["cycles"]["difference"].get<double>() ==
          Approx(d["cycles"]["systemc"].get<double>() - d["cycles"]["analytical"].get<double>()));
    CHECK(d.contains("effect"));
    CHECK(d.contains("explanation"));
    for (const char* k : {"dram", "contention", "fill_drain", "recurrent"}) CHECK(d["stall_cycles_difference"].contains(k));
  }
  CHECK(j.contains("manifest"));
  const auto table = test::run_cli("simulate " + kDefault + " --compare");
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("cycles anal.") != std::string::npos);
  CHECK(table.out.find("effect") != std::string::npos);
  CHECK(table.out.find("cnn.pool") != std::string::npos);
  const auto csv = test::run_cli("simulate " + kDefault + " --compare --format csv");
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("name,cycles_analytical,cycles_systemc,", 0) == 0);
}

TEST_CASE("systemc CLI: options that cannot be honoured are refused", "[systemc][cli]") {
  const std::string trace = temp_path("mixprec_refused_trace");
  auto r = test::run_cli("simulate " + kDefault + " --trace " + trace);  // analytical engine
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--trace") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(trace));
  r = test::run_cli("simulate " + kDefault + " --engine analytical --trace " + trace);
  CHECK(r.exit_code == 2);
  r = test::run_cli("simulate " + kDefault + " --compare --engine systemc");
  CHECK(r.exit_code == 2);
  r = test::run_cli("simulate " + kDefault + " --engine cycle_accurate");
  CHECK(r.exit_code == 2);
}

TEST_CASE("systemc CLI: --trace writes a Chrome trace-event timeline", "[systemc][cli][trace]") {
  const std::string trace = temp_path("mixprec_trace");
  const auto r = test::run_cli("simulate " + kDefault + " --engine systemc --format csv --trace " + trace);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(trace);
  REQUIRE(in.good());
  const nlohmann::json t = nlohmann::json::parse(in);
  std::filesystem::remove(trace);
  std::map<int, std::string> lane_names;
  std::set<std::string> layers;
  int tiles = 0;
  double prev_layer_end = 0;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") lane_names[e["tid"].get<int>()] = e["args"]["name"];
    if (e["ph"] != "X") continue;
    if (e["tid"] == 6) ++tiles;
    if (e["tid"] == 1 && e["name"] == e["args"]["layer"]) {  // a layer (phases are named by kind)
      layers.insert(e["name"].get<std::string>());
      CHECK(e["ts"].get<double>() >= prev_layer_end - 1e-9);  // layers run one after another
      prev_layer_end = e["ts"].get<double>() + e["dur"].get<double>();
    }
  }
  CHECK(lane_names[2].find("DMA") != std::string::npos);
  CHECK(lane_names[6] == "PE array");
  CHECK(lane_names[7] == "nonlinear unit");
  CHECK(layers.count("cnn.stem") == 1);
  CHECK(layers.count("lstm.l0") == 1);
  CHECK(tiles > 33);
  // The last layer ends at the simulated latency (microseconds at 400 MHz).
  const auto j = nlohmann::json::parse(test::run_cli("simulate " + kDefault + " --engine systemc --format json").out);
  CHECK(prev_layer_end == Approx(j["total"]["latency_ms"].get<double>() * 1e3).epsilon(1e-6));
}

TEST_CASE("systemc CLI: an error after the simulation ran is reported cleanly", "[systemc][cli]") {
  // The trace cannot be written: a WriteError (exit 3) raised after the kernel has run. In
  // sanitizer builds this also checks that the caller's stack is known to ASan again.
  const auto r = test::run_cli("simulate " + kDefault + " --engine systemc --format csv --trace /nonexistent-dir/t.json");
  CHECK(r.exit_code == 3);
  CHECK(r.err == "error: cannot write /nonexistent-dir/t.json: No such file or directory\n");
  CHECK(r.err.find("AddressSanitizer") == std::string::npos);
}
