// Hand-computed costs of small layers, scaling laws seen through the cost model, monotonicity
// and the buffer-fit boundary.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::sim;

namespace {

// A 4x4 weight-stationary array, 100 MHz, 1.6 GB/s (16 B/cycle), 64-byte bursts, 100 ns latency.
std::string hardware(const std::string& mac, const std::string& dataflow, double in_kib = 64,
                     double w_kib = 64, double out_kib = 64) {
  return R"({"name": "tiny", "clock_mhz": 100,
    "pe_array": {"rows": 4, "cols": 4, "dataflow": ")" + dataflow + R"(", "mac": )" + mac + R"(},
    "buffers": {"weight": {"size_kib": )" + std::to_string(w_kib) + R"(},
                "input": {"size_kib": )" + std::to_string(in_kib) + R"(},
                "output": {"size_kib": )" + std::to_string(out_kib) + R"(}},
    "dram": {"kind": "lpddr4", "bandwidth_gbps": 1.6, "latency_ns": 100, "burst_bytes": 64}})";
}

const std::string kParallel8 = R"({"style": "bit_parallel", "native_bits": 8})";

Scenario make(const std::string& hw, const std::string& network, const std::string& precision =
                                                                      R"({"default": {"weights": 8, "activations": 8}})") {
  return test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "t", "hardware": )" + hw +
                                  R"(, "network": )" + network + R"(, "precision": )" + precision + "}");
}

const std::string kLinear32x16 = R"({"name": "lin", "input": {"frames": 1, "features": 32},
  "layers": [{"name": "fc", "kind": "linear", "out_features": 16}]})";

struct Priced {
  Scenario sc;
  energy::EnergyModel em;
  LayerCost lc;
};

Priced price(Scenario sc, int layer = 0) {
  energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  AnalyticalEngine eng(sc.hardware, em);
  LayerCost lc = eng.layer_cost(sc.net, layer, sc.layer_precision[layer], sc.phase);
  return Priced{std::move(sc), std::move(em), std::move(lc)};
}

}  // namespace

TEST_CASE("linear 32->16 at w8a8 on a 4x4 weight-stationary array, by hand", "[sim][hand]") {
  Priced p = price(make(hardware(kParallel8, "weight_stationary"), kLinear32x16));
  const LayerCost& lc = p.lc;
  CHECK(lc.macs == 512);
  // One tile (everything fits). Folds: ceil(32/4) x ceil(16/4) = 32, each 2*4 + 4 - 2 + M(1) = 11.
  CHECK(lc.tiling.tiles == 1);
  CHECK(lc.compute_cycles == 352);
  CHECK(lc.stalls.fill_drain_cycles == 320);
  // DRAM: 512 weight bytes + 32 input bytes + 16 output bytes = 560 -> 9 bursts of 64 = 576 B
  // at 16 B/cycle = 36 cycles; double-buffered: max(352, 36) + prologue 36 + latency 10.
  CHECK(lc.dram[0].read_bits == 4096);
  CHECK(lc.dram[1].read_bits == 256);
  CHECK(lc.dram[2].write_bits == 128);
  CHECK(lc.cycles == Approx(398));
  // Buffers: weights written 512 / read 512; inputs written 32 / read 1*32*ceil(16/4) = 128;
  // outputs: 8 reduction folds -> 16*8 psum writes, 16*7 psum reads + 16 final reads.
  CHECK(lc.buffer[0].writes == 512);
  CHECK(lc.buffer[0].reads == 512);
  CHECK(lc.buffer[1].writes == 32);
  CHECK(lc.buffer[1].reads == 128);
  CHECK(lc.buffer[2].writes == 128);
  CHECK(lc.buffer[2].reads == 112 + 16);
  CHECK(lc.register_file_accesses == 4 * 512);
  // Energy = counts x per-action energy (accumulator 8 + 8 + log2(32) = 21 bits).
  const Operand i8{NumFormat::Int, 8};
  CHECK(energy::accumulator_bits(i8, i8, 32) == 21);
  const double mac = p.em.mac(i8, i8, 21, p.sc.hardware.pe_array.mac).total_pj();
  CHECK(lc.energy_pj[size_t(Component::Mac)] == Approx(512 * mac));
  const double dram_pj = p.em.dram_pj_per_bit(p.sc.hardware.dram);
  CHECK(lc.energy_pj[size_t(Component::Dram)] == Approx((4096 + 256 + 128) * dram_pj));
  const double wb = 512 * p.em.buffer_access_pj(energy::BufferId::Weight, p.sc.hardware.weight_buffer, 8, false) +
                    512 * p.em.buffer_access_pj(energy::BufferId::Weight, p.sc.hardware.weight_buffer, 8, true);
  CHECK(lc.energy_pj[size_t(Component::WeightBuffer)] == Approx(wb));
  CHECK(lc.utilization == Approx((512.0 / 16) / 398));
}

TEST_CASE("output-stationary fold count, by hand", "[sim][hand]") {
  Priced p = price(make(hardware(kParallel8, "output_stationary"), kLinear32x16));
  // M = 1 on rows, N = 16 on columns: folds ceil(1/4) x ceil(16/4) = 4, each R + C - 2 + K =
  // 4 + 4 - 2 + 32 = 38 (SCALE-Sim's OS fold: no weight load, only the skew).
  CHECK(p.lc.tiling.tiles == 1);
  CHECK(p.lc.compute_cycles == 4 * 38);
  CHECK(p.lc.stalls.fill_drain_cycles == 4 * 6);
  // weights streamed once per row fold: 512 reads; outputs written once (one K tile).
  CHECK(p.lc.buffer[0].reads == 512);
  CHECK(p.lc.buffer[2].writes == 16);
}

TEST_CASE("conv row bands fetch the halo but not the padding, by hand", "[sim][hand]") {
  // 1x1x8x8 input, 3x3 conv, pad 1, 4 filters. Input buffer 64 B (double-buffered: 256 bits):
  // one 8-bit input row is 64 bits, so a band holds (256/64 - 3)/1 + 1 = 2 output rows.
  const std::string net = R"({"name": "c", "input": {"frames": 1, "channels": 1, "height": 8, "width": 8},
    "layers": [{"name": "conv", "kind": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1}]})";
  Priced p = price(make(hardware(kParallel8, "weight_stationary", 64.0 / 1024), net));
  // Bands of output rows {0,1},{2,3},{4,5},{6,7} need input rows 0-2, 1-4, 3-6, 5-7: 3+4+4+3 = 14.
  CHECK(p.lc.dram[1].read_bits == 14 * 8 * 8);
  CHECK(p.lc.tiling.m == 16);
  CHECK(p.lc.tiling.tiles == 4);
  // Each band: folds ceil(9/4) x ceil(4/4) = 3, each 2*4 + 4 - 2 + 16 = 26 cycles.
  CHECK(p.lc.compute_cycles == 4 * 3 * 26);
  CHECK(p.lc.macs == 64 * 4 * 9);
}

TEST_CASE("weight-stationary fill/drain once per stationary fold across M tiles, by hand", "[sim][hand][folds]") {
  // Linear 4 -> 4 at batch 64 (M = 64, K = 4, N = 4) on the 4x4 WS array; input buffer 64 B,
  // double-buffered: 256 bits per slot = 8 rows of 4 8-bit inputs, so 8 M tiles of 8 rows.
  const std::string net = R"({"name": "l", "batch": 64, "input": {"frames": 1, "features": 4},
    "layers": [{"name": "fc", "kind": "linear", "out_features": 4}]})";
  const LayerCost lc = price(make(hardware(kParallel8, "weight_stationary", 64.0 / 1024), net)).lc;
  // One K and one N tile: N-outer keeps the 4 x 4 weight tile (one fold) while the 8 M tiles
  // stream; the fold is loaded once: 2*4 + 4 - 2 = 10 cycles of fill/drain + 64 rows = 74
  // (each M tile paying its own fill would be 8 x (10 + 8) = 144).
  CHECK(lc.tiling.order == LoopOrder::NOuter);
  CHECK(lc.tiling.m == 8);
  CHECK(lc.tiling.tiles == 8);
  CHECK(lc.compute_cycles == 10 + 64);
  CHECK(lc.stalls.fill_drain_cycles == 10);
  // Each weight enters the array once: 16 weight-buffer reads (not 8 x 16); inputs 64 x 4.
  CHECK(lc.buffer[0].reads == 16);
  CHECK(lc.buffer[1].reads == 64 * 4);
  CHECK(lc.dram[0].read_bits == 16 * 8);
  CHECK(lc.dram[1].read_bits == 64 * 4 * 8);
}

TEST_CASE("K-outer order: weights fetched once, each fold streams all M rows, by hand", "[sim][hand][folds]") {
  // Linear 64 -> 4 at batch 64 (M = 64, K = 64, N = 4) on the 4x4 WS array. Weight and input
  // buffers 64 B double-buffered (256 bits per slot): a weight tile holds kt x nt <= 32 weights,
  // an input tile Mt x kt <= 32 inputs; output buffer 64 KiB (slot 262,144 bits) holds the
  // partial sums of all 64 rows x 4 columns at 8 + 8 + log2(64) = 22 bits (5,632 bits).
  const std::string net = R"({"name": "l", "batch": 64, "input": {"frames": 1, "features": 64},
    "layers": [{"name": "fc", "kind": "linear", "out_features": 4}]})";
  const LayerCost lc = price(make(hardware(kParallel8, "weight_stationary", 64.0 / 1024, 64.0 / 1024), net)).lc;
  // K cannot be one tile (64 x 4 > 32 weights), nor M (64 x kt > 32 inputs): N-outer and
  // M-outer refetch the weights once per M tile. K-outer (n, k, m) fetches each weight and each
  // input once (2,048 + 32,768 bits). Among its tilings, Kt = 4 (one fold per weight tile) keeps
  // each fold while all 8 M tiles (Mt = 32 / 4 = 8 rows) stream: 16 K tiles x (10 + 64) = 1184
  // cycles, which is SCALE-Sim's ceil(64/4) x ceil(4/4) x (2*4 + 4 - 2 + 64). Kt = 8 would hold
  // two folds per tile and pay 2 fills in each of its 8 x 16 tiles: 128 x 2 x (10 + 4) = 3584.
  CHECK(lc.tiling.order == LoopOrder::KOuter);
  CHECK(lc.tiling.k == 4);
  CHECK(lc.tiling.n == 4);
  CHECK(lc.tiling.m == 8);
  CHECK(lc.tiling.tiles == 16 * 8);
  CHECK(lc.compute_cycles == 16 * (10 + 64));
  CHECK(lc.stalls.fill_drain_cycles == 16 * 10);
  CHECK(lc.dram[0].read_bits == 64 * 4 * 8);
  CHECK(lc.dram[1].read_bits == 64 * 64 * 8);
  CHECK(lc.buffer[0].reads == 64 * 4);       // each weight once
  CHECK(lc.buffer[1].reads == 64 * 64);      // each input once (one column fold)
  // Partial sums: 16 row folds per output: 64 x 4 x 16 writes, 64 x 4 x 15 reads + 256 final.
  CHECK(lc.buffer[2].writes == 64 * 4 * 16);
  CHECK(lc.buffer[2].reads == 64 * 4 * 15 + 64 * 4);
}

TEST_CASE("output-stationary fill/drain once per output fold across K tiles, by hand", "[sim][hand][folds]") {
  // Linear 64 -> 4 at batch 4 (M = 4, N = 4, K = 64) on the 4x4 OS array; weight and input
  // buffers 64 B double-buffered (256 bits per slot): K tiles of at most 256 / (4 x 8) = 8, so
  // 8 K tiles (a halving of 64). The 4 x 4 outputs are one fold; it stays in the array while
  // the 8 K tiles stream: one fill of 4 + 4 - 2 = 6 cycles + 64 products = 70 (per-tile fills
  // would be 8 x (6 + 8) = 112).
  const std::string net = R"({"name": "l", "batch": 4, "input": {"frames": 1, "features": 64},
    "layers": [{"name": "fc", "kind": "linear", "out_features": 4}]})";
  const LayerCost lc =
      price(make(hardware(kParallel8, "output_stationary", 64.0 / 1024, 64.0 / 1024), net)).lc;
  CHECK(lc.tiling.k == 8);
  CHECK(lc.tiling.tiles == 8);
  CHECK(lc.compute_cycles == 6 + 64);
  CHECK(lc.stalls.fill_drain_cycles == 6);
  // The partial sums stay in the PEs: one output-buffer write per output, no partial-sum reads.
  CHECK(lc.buffer[2].writes == 16);
  CHECK(lc.buffer[2].reads == 16);
  // Weights stream once per row fold (one), inputs once per column fold (one): 64 x 4 each.
  CHECK(lc.buffer[0].reads == 64 * 4);
  CHECK(lc.buffer[1].reads == 4 * 64);
}

TEST_CASE("buffer-fit boundary: one bit more per weight splits the weight tile", "[sim][fit]") {
  // Linear 64 -> 64 at batch 4: 64*64 weights. Weight buffer 8 KiB double-buffered = 32768 bits,
  // exactly 64*64 weights at 8 bits.
  const std::string net = R"({"name": "l", "batch": 4, "input": {"frames": 1, "features": 64},
    "layers": [{"name": "fc", "kind": "linear", "out_features": 64}]})";
  auto at = [&](int wbits) {
    return price(make(hardware(kParallel8, "weight_stationary", 64, 8, 64), net,
                      R"({"default": {"weights": )" + std::to_string(wbits) + R"(, "activations": 8}})")).lc;
  };
  LayerCost fits = at(8), over = at(9);
  CHECK(fits.tiling.n == 64);
  CHECK(fits.tiling.tiles == 1);
  CHECK(fits.dram[1].read_bits == 4 * 64 * 8);  // inputs fetched once
  CHECK(over.tiling.tiles > 1);
  CHECK(over.tiling.n * over.tiling.k < 64 * 64);
  // M = 4 fits whole, so the M-outer order keeps the inputs resident: no refetch, and the
  // traffic grows by exactly the extra weight bits (4096 weights x 1 bit).
  CHECK(over.tiling.order == LoopOrder::MOuter);
  CHECK(over.dram_bytes() == fits.dram_bytes() + 64 * 64 / 8.0);
}

TEST_CASE("composable MACs: throughput grows as (8/bw)(8/ba) below 8 bits", "[sim][mac]") {
  const std::string mac = R"({"style": "composable", "brick_bits": 2, "fused_bits": 8})";
  auto cycles = [&](int w, int a) {
    return price(make(hardware(mac, "output_stationary"), kLinear32x16,
                      R"({"default": {"weights": )" + std::to_string(w) + R"(, "activations": )" +
                          std::to_string(a) + "}}")).lc.compute_cycles;
  };
  // OS fold: 4 + 4 - 2 + ceil(32 / p): p = 1, 4, 16 at 8x8, 4x4, 2x2; 16x16 takes 4 passes.
  CHECK(cycles(8, 8) == 4 * (6 + 32));
  CHECK(cycles(4, 4) == 4 * (6 + 8));
  CHECK(cycles(2, 2) == 4 * (6 + 2));
  CHECK(cycles(16, 16) == 4 * (6 + 32 * 4));
  CHECK(cycles(3, 3) == cycles(4, 4));  // 3-bit operands use 4-bit bricks
}

TEST_CASE("bit-serial MACs: cycles grow with the serialized bits", "[sim][mac]") {
  const std::string mac = R"({"style": "bit_serial", "serial_operand": "activations"})";
  auto cycles = [&](int a) {
    return price(make(hardware(mac, "weight_stationary"), kLinear32x16,
                      R"({"default": {"weights": 8, "activations": )" + std::to_string(a) + "}}")).lc.compute_cycles;
  };
  // WS fold: 2*4 + 4 - 2 + M(1) * a cycles, 32 folds.
  CHECK(cycles(8) == 32 * (10 + 8));
  CHECK(cycles(4) == 32 * (10 + 4));
}

TEST_CASE("bit-parallel MACs: fewer bits save energy, not time", "[sim][mac]") {
  auto at = [&](int b) {
    return price(make(hardware(kParallel8, "weight_stationary"), kLinear32x16,
                      R"({"default": {"weights": )" + std::to_string(b) + R"(, "activations": )" +
                          std::to_string(b) + "}}")).lc;
  };
  LayerCost a8 = at(8), a4 = at(4);
  CHECK(a8.compute_cycles == a4.compute_cycles);
  CHECK(a4.energy_pj[size_t(Component::Mac)] < a8.energy_pj[size_t(Component::Mac)]);
}

TEST_CASE("LSTM work: MACs, nonlinear ops and serialized steps", "[sim][lstm]") {
  const std::string net = R"({"name": "r", "batch": 2, "input": {"frames": 5, "features": 3},
    "layers": [{"name": "rnn", "kind": "lstm", "hidden": 4, "bidirectional": true}]})";
  Priced p = price(make(hardware(kParallel8, "weight_stationary"), net));
  // input projection B*T x 8H x F + recurrent T x dirs x B x 4H x H
  CHECK(p.lc.macs == 2 * 5 * 32 * 3 + 5 * 2 * 2 * 16 * 4);
  // per cell: 3 sigmoid + 2 tanh + 3 mult + 1 add; cells = B*T*H*dirs = 80
  CHECK(p.lc.nonlinear_ops == 9 * 80);
  CHECK(p.lc.stalls.recurrent_cycles > 0);
  // output: last step only, B x 2H at 8 bits
  CHECK(p.lc.dram[2].write_bits == 2 * 8 * 8 + 2 * 5 * 32 * 8);
}

TEST_CASE("monotonicity: fewer bits never cost more energy or DRAM traffic", "[sim][monotone]") {
  for (const char* mac : {R"({"style": "composable"})",
                          R"({"style": "bit_parallel", "native_bits": 8, "brick_bits": null, "fused_bits": null})",
                          R"({"style": "bit_serial", "brick_bits": null, "fused_bits": null})"}) {
    Scenario sc = test::default_scenario_with(std::string(R"({"hardware": {"pe_array": {"mac": )") + mac + "}}}");
    energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
    AnalyticalEngine eng(sc.hardware, em);
    const int bits[] = {16, 12, 8, 6, 4, 3, 2};
    for (std::size_t li = 0; li < sc.net.layers.size(); ++li) {
      double prev_e = 1e300, prev_d = 1e300;
      for (int b : bits) {
        LayerPrecision p = LayerPrecision::uniform(NumFormat::Int, b);
        LayerCost lc = eng.layer_cost(sc.net, int(li), p, Phase::Inference);
        INFO(mac << " " << sc.net.layers[li].name << " at " << b << " bits");
        const double e = lc.energy_total_pj() - lc.energy_pj[size_t(Component::Static)];
        CHECK(e <= prev_e * (1 + 1e-12));
        CHECK(lc.dram_bytes() <= prev_d * (1 + 1e-12));
        prev_e = e;
        prev_d = lc.dram_bytes();
      }
    }
  }
}

TEST_CASE("training prices forward, backward, weight gradients and the optimizer", "[sim][training]") {
  Scenario inf = make(hardware(kParallel8, "weight_stationary"), kLinear32x16);
  Scenario tr = test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "t", "phase": "training", "cost_model": {"engine": "analytical"}, "hardware": )" +
                                         hardware(kParallel8, "weight_stationary") + R"(, "network": )" + kLinear32x16 + "}");
  LayerCost a = price(inf).lc, b = price(tr).lc;
  // first layer: no input gradient; forward + weight gradient = 2x the MACs
  CHECK(b.macs == 2 * a.macs);
  CHECK(b.nonlinear_ops == 12 * 512);  // AdamW + gradient quantization per weight
  CHECK(b.energy_total_pj() > a.energy_total_pj());
}

TEST_CASE("network totals add up and baselines are priced on the same hardware", "[sim][network]") {
  Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  SimulationResult r = simulate_analytical(sc, sc.layer_precision);
  double cycles = 0, energy = 0;
  for (const auto& l : r.cost.layers) {
    cycles += l.cycles;
    energy += l.energy_total_pj();
  }
  CHECK(r.cost.cycles == Approx(cycles));
  CHECK(r.cost.energy_uj == Approx(energy * 1e-6));
  CHECK(r.cost.latency_ms == Approx(cycles / (sc.hardware.clock_mhz * 1e3)));
  REQUIRE(r.baselines.size() == 4);
  CHECK(r.baselines[0].name == "int8");
  // the mixed config (4-bit stages) is cheaper than uniform int8, which is cheaper than int16/fp32
  CHECK(r.cost.energy_uj < r.baselines[0].energy_uj);
  CHECK(r.baselines[0].energy_uj < r.baselines[1].energy_uj);
  CHECK(r.baselines[1].energy_uj < r.baselines[3].energy_uj);
  // pricing uniform int8 directly equals the int8 baseline
  std::vector<LayerPrecision> u8(sc.net.layers.size(), LayerPrecision::uniform(NumFormat::Int, 8));
  CHECK(simulate_analytical(sc, u8).cost.energy_uj == Approx(r.baselines[0].energy_uj));
}
