// The SystemC simulation of mapped loop nests (sim/systemc/nest_sim.hpp) and the SystemC engine
// over the mapping engine's mappings (sim/systemc/mapping_sim.hpp): hand-computed counts, energy
// and simulated cycles on tiny conv1d nests; the counts equal to the nest analysis on the Timeloop
// validation cases; per-layer agreement with the mapping engine on the default scenario; and the
// test-only hook (nest::test_hooks) that perturbs one analytical count formula, after which the
// agreement check fails.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>

#include "core/scenario.hpp"
#include "sim/nest/nest.hpp"
#include "sim/nest/timeloop_import.hpp"
#include "sim/systemc/mapping_sim.hpp"
#include "sim/systemc/nest_sim.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::sim;
using namespace mixprec::sim::systemc;

namespace {

// conv1d: dims R (filter taps), P (outputs); Weights[R], Inputs[P + R], Outputs[P] (read-write).
nest::Problem conv1d(std::int64_t p, std::int64_t r) {
  nest::Problem pr;
  pr.name = "conv1d";
  pr.dims = {"R", "P"};
  pr.bounds = {r, p};
  pr.dataspaces = {nest::Dataspace{"Weights", {nest::Rank{{{0, -1}}}}, false, 8},
                   nest::Dataspace{"Inputs", {nest::Rank{{{0, -1}, {1, -1}}}}, false, 8},
                   nest::Dataspace{"Outputs", {nest::Rank{{{1, -1}}}}, true, 8}};
  return pr;
}

nest::StorageLevel level(const std::string& name, double read_pj, double write_pj, double update_pj) {
  nest::StorageLevel s;
  s.name = name;
  s.block_bits = 8;
  s.read_pj = read_pj;
  s.write_pj = write_pj;
  s.update_pj = update_pj;
  return s;
}

// DRAM (10 pJ per access, a channel of one 8-bit value per cycle) over a double-buffered buffer
// (1 pJ, unlimited bandwidth): the two-level hierarchy of the hand-computed cases.
nest::Architecture dram_over_double_buffer() {
  nest::Architecture a;
  a.levels = {level("DRAM", 10, 10, 10), level("Buffer", 1, 1, 1)};
  a.levels[0].shared_bandwidth_bits = 8;
  a.levels[1].multiple_buffering = 2;
  return a;
}

// Permutation innermost first: R then P.
void order_r_then_p(nest::LevelMapping& lm) {
  lm.permutation[0] = 0;
  lm.permutation[1] = 1;
}

// Agreement check of one layer (the bounds of issue 15, item 8; every count equal).
bool agrees(const LayerAgreement& l) {
  return std::abs(l.energy_diff_percent) <= kMappingEnergyBoundPercent &&
         std::abs(l.cycles_diff_percent) <= kMappingCyclesBoundPercent && l.counts_differing == 0;
}

// Restores the analysis's count formulas however the test leaves.
struct HookGuard {
  ~HookGuard() { nest::test_hooks().reads = nullptr; }
};

}  // namespace

TEST_CASE("nest sim: 1-level conv1d, hand-computed counts, energy and cycles", "[systemc][nest_sim]") {
  const nest::Problem p = conv1d(16, 3);
  nest::Architecture a;
  a.levels = {level("Buffer", 1, 2, 3)};
  a.compute.energy_pj = 0.5;
  nest::Mapping m;
  m.n_levels = 1;
  m.levels[0].temporal[0] = 3;
  m.levels[0].temporal[1] = 16;
  order_r_then_p(m.levels[0]);
  const NestSimResult r = simulate_nest(p, a, m);
  const auto& b = r.levels[0].ds;
  // 48 MAC steps, each reading a weight and an input and updating an output; an output's first
  // update reads nothing: 48 - 16 reads.
  CHECK(r.macs == 48);
  CHECK(b[0].reads == 48);
  CHECK(b[1].reads == 48);
  CHECK(b[2].updates == 48);
  CHECK(b[2].reads == 32);
  CHECK(b[0].fills + b[1].fills + b[2].fills == 0);
  // (48 + 48 + 32) reads x 1 pJ + 48 updates x 3 pJ + 48 MACs x 0.5 pJ.
  CHECK(r.energy_pj == Approx(296.0));
  CHECK(r.cycles == Approx(48.0));  // unlimited bandwidth: the MAC steps
  const nest::Result ref = nest::evaluate(p, a, m);
  CHECK(r.energy_pj == Approx(ref.energy_pj));
}

TEST_CASE("nest sim: 2-level conv1d, sliding window fills and write-backs", "[systemc][nest_sim]") {
  const nest::Problem p = conv1d(16, 3);
  const nest::Architecture a = dram_over_double_buffer();
  nest::Mapping m;
  m.n_levels = 2;
  m.levels[0].temporal[1] = 4;  // DRAM: 4 tiles of 4 outputs
  m.levels[1].temporal[0] = 3;
  m.levels[1].temporal[1] = 4;
  order_r_then_p(m.levels[0]);
  order_r_then_p(m.levels[1]);
  NestSimOptions one_epoch;
  one_epoch.max_epochs = 1;
  const NestSimResult r = simulate_nest(p, a, m, one_epoch);
  const auto& dram = r.levels[0].ds;
  const auto& buf = r.levels[1].ds;
  // Buffer tiles: 3 weights (stationary), 6 inputs (4 + 3 - 1) sliding by 4 (2 kept: 4 new per
  // move after the first 6), 4 outputs moving by 4.
  CHECK(buf[0].fills == 3);
  CHECK(buf[1].fills == 6 + 3 * 4);
  CHECK(buf[2].fills == 0);  // every output tile is new: no partial sum comes back
  CHECK(buf[0].reads == 48);
  CHECK(buf[1].reads == 48);
  CHECK(buf[2].updates == 48);
  CHECK(buf[2].reads == 48 - 16);
  CHECK(dram[0].reads == 3);
  CHECK(dram[1].reads == 18);
  CHECK(dram[2].updates == 16);
  CHECK(dram[2].reads == 0);
  // One epoch: load 21 values, 48 MAC steps, write back 16 values, one value per cycle.
  CHECK(r.cycles == Approx(21 + 48 + 16));
  CHECK(r.prologue_cycles == Approx(21));
  CHECK(r.epilogue_cycles == Approx(16));
  // Four epochs (the DRAM loop), double-buffered: only the first load (3 + 6) and the last
  // write-back (4) are exposed; the other loads and write-backs hide under 12-step epochs.
  NestSimOptions four;
  four.max_epochs = 4;
  const NestSimResult r4 = simulate_nest(p, a, m, four);
  CHECK(r4.epochs == 4);
  CHECK(r4.cycles == Approx(9 + 48 + 4));
  CHECK(r4.levels[1].ds[1].fills == 18);  // counts do not depend on the epochs

  // The same counts as the nest analysis, and energy within 1%.
  const nest::Result ref = nest::evaluate(p, a, m);
  for (int l = 0; l < 2; ++l)
    for (int d = 0; d < 3; ++d) {
      INFO("level " << l << " dataspace " << d);
      CHECK(r.levels[std::size_t(l)].ds[std::size_t(d)].reads == ref.levels[std::size_t(l)].ds[std::size_t(d)].reads);
      CHECK(r.levels[std::size_t(l)].ds[std::size_t(d)].fills == ref.levels[std::size_t(l)].ds[std::size_t(d)].fills);
      CHECK(r.levels[std::size_t(l)].ds[std::size_t(d)].updates == ref.levels[std::size_t(l)].ds[std::size_t(d)].updates);
    }
  CHECK(r.energy_pj == Approx(ref.energy_pj).epsilon(0.01));
}

// The mapping engine's nest timings (sim/mapping_engine.hpp nest_cycles) by hand on a conv1d of
// 16 outputs and 3 taps (48 MACs, one MAC unit), DRAM one 8-bit value per cycle and latency 10, a
// buffer of unlimited bandwidth, the tap loop at DRAM (3 epochs) and the 16 outputs below: the
// buffer keeps 1 weight, 16 inputs and the 16 outputs (stationary over the taps, written back
// once), and each later epoch refills 1 weight and 1 input. Overlap = max(48 MACs, DRAM 21 reads
// + 16 write-backs = 37) + first tiles (1 + 16) + 10 = 75 whatever the buffering. Phased adds the
// epilogue (the output tile, 16 x 8 bits / 8 bits per cycle = 16) and, single-buffered, the 2
// refills of 2 values (4 DRAM cycles serial with the compute); the simulation of the same nests
// spends exactly that.
TEST_CASE("nest cycles: overlap and phased timings by hand, and the simulation of the same nests",
          "[systemc][nest_sim][timing]") {
  const nest::Problem p = conv1d(16, 3);
  const nest::Architecture dbl = dram_over_double_buffer();
  nest::Architecture sgl = dbl;
  sgl.levels[1].multiple_buffering = 1;
  nest::Mapping m;
  m.n_levels = 2;
  m.levels[0].temporal[0] = 3;   // DRAM: the taps
  m.levels[1].temporal[1] = 16;  // buffer: the outputs
  order_r_then_p(m.levels[0]);
  order_r_then_p(m.levels[1]);
  const double lat = 10;
  NestSimOptions o;
  o.dram_latency_cycles = lat;
  o.max_epochs = 4;
  for (const bool single : {false, true}) {
    INFO((single ? "single" : "double") << "-buffered");
    const nest::Architecture& a = single ? sgl : dbl;
    const nest::Result r = nest::evaluate(p, a, m);
    REQUIRE(r.compute_cycles == 48);
    REQUIRE(r.levels[1].ds[0].fills == 3);
    REQUIRE(r.levels[1].ds[0].utilized_capacity == 1);
    REQUIRE(r.levels[1].ds[1].fills == 18);
    REQUIRE(r.levels[1].ds[1].utilized_capacity == 16);
    REQUIRE(r.levels[1].ds[2].fills == 0);  // the outputs stay: no partial sum comes back
    REQUIRE(r.levels[0].ds[2].updates == 16);
    CHECK(nest_cycles(p, a, r, 1, lat, nullptr, Timing::Overlap) == Approx(48 + 17 + lat));
    const double phased = nest_cycles(p, a, r, 1, lat, nullptr, Timing::Phased);
    CHECK(phased == Approx(48 + (single ? 4 : 0) + 17 + lat + 16));
    CHECK(nest_cycles(p, a, r, 1, lat) == phased);  // the default timing
    // The simulation: the first load (17) after the latency, 3 epochs of 16 MACs, the write-back
    // (16); single-buffered, each later tile (2 values) waits for the epoch before it to end.
    const NestSimResult s = simulate_nest(p, a, m, o);
    REQUIRE(s.epochs == 3);
    CHECK(s.cycles == Approx(phased));
    CHECK(s.epilogue_cycles == Approx(16));
    CHECK(s.load_wait_cycles == Approx(single ? 4 : 0));
  }
  // A DRAM channel of 4 bits per cycle: every DRAM term twice as long (the DRAM's 74 cycles above
  // the 48 MACs in the steady state), the refills 8 cycles, which the steady state's max already
  // covers (48 + 8 < 74: not counted twice), the epilogue 32.
  nest::Architecture slow = sgl;
  slow.levels[0].shared_bandwidth_bits = 4;
  const nest::Result r = nest::evaluate(p, slow, m);
  CHECK(nest_cycles(p, slow, r, 1, lat, nullptr, Timing::Overlap) == Approx(74 + 34 + lat));
  CHECK(nest_cycles(p, slow, r, 1, lat, nullptr, Timing::Phased) == Approx(74 + 34 + lat + 32));
}


TEST_CASE("nest sim: partial sums drained and filled back when an output tile is revisited", "[systemc][nest_sim]") {
  const nest::Problem p = conv1d(16, 3);
  nest::Architecture a;
  a.levels = {level("DRAM", 10, 10, 10), level("Buffer", 1, 1, 1)};
  nest::Mapping m;
  m.n_levels = 2;
  // DRAM: R outermost (3), then 4 output tiles; Buffer: 4 outputs per tile, one tap.
  m.levels[0].temporal[0] = 3;
  m.levels[0].temporal[1] = 4;
  m.levels[0].permutation[0] = 1;  // innermost P, then R
  m.levels[0].permutation[1] = 0;
  m.levels[1].temporal[1] = 4;
  order_r_then_p(m.levels[1]);
  const NestSimResult r = simulate_nest(p, a, m);
  const auto& out_buf = r.levels[1].ds[2];
  const auto& out_dram = r.levels[0].ds[2];
  // 12 output tiles of 4 enter the buffer (48 values), 16 of them for the first time: 32 partial
  // sums come back from DRAM; all 48 go up as DRAM updates, 48 - 16 of which read the old sum.
  CHECK(out_buf.fills == 32);
  CHECK(out_buf.tiles_visited == 4);
  CHECK(out_dram.updates == 48);
  CHECK(out_dram.reads == 32);
  // In the buffer every MAC step updates a partial sum; only a value's first update at this level
  // reads nothing (a refilled partial sum is read when updated): 48 - 16.
  CHECK(out_buf.updates == 48);
  CHECK(out_buf.reads == 32);
  const nest::Result ref = nest::evaluate(p, a, m);
  CHECK(out_buf.fills == ref.levels[1].ds[2].fills);
  CHECK(out_buf.reads == ref.levels[1].ds[2].reads);
  CHECK(out_dram.reads == ref.levels[0].ds[2].reads);
  CHECK(out_dram.updates == ref.levels[0].ds[2].updates);
}

TEST_CASE("nest sim: a DMA fill streams - max(channel, receiving port) cycles, not their sum", "[systemc][nest_sim]") {
  // The mapping of the sliding-window test above in one epoch: 3 weights and 18 inputs come over
  // the channel (one value per cycle) and are written into the buffer, 48 MAC steps, 16 outputs
  // written back.
  const nest::Problem p = conv1d(16, 3);
  nest::Architecture a = dram_over_double_buffer();
  nest::Mapping m;
  m.n_levels = 2;
  m.levels[0].temporal[1] = 4;
  m.levels[1].temporal[0] = 3;
  m.levels[1].temporal[1] = 4;
  order_r_then_p(m.levels[0]);
  order_r_then_p(m.levels[1]);
  NestSimOptions one_epoch;
  one_epoch.max_epochs = 1;
  SECTION("port as fast as the channel") {
    a.levels[1].write_bandwidth_bits = 8;
    const NestSimResult r = simulate_nest(p, a, m, one_epoch);
    // Each fill: max(3, 3) + max(18, 18) = 21 before the first MAC (over the channel and then
    // through the port: 42); the 48 MAC steps update 48 outputs through the same port at one a
    // cycle, alongside; then 16 write-backs.
    CHECK(r.prologue_cycles == Approx(21));
    CHECK(r.cycles == Approx(21 + 48 + 16));
  }
  SECTION("port half as fast as the channel") {
    a.levels[1].write_bandwidth_bits = 4;
    const NestSimResult r = simulate_nest(p, a, m, one_epoch);
    // The port takes 2 cycles a value: max(3, 6) + max(18, 36) = 42 (the sum: 63); the 48 updates
    // then take 96 cycles of the port (longer than the 48 MAC steps); then 16 write-backs.
    CHECK(r.prologue_cycles == Approx(42));
    CHECK(r.cycles == Approx(42 + 96 + 16));
  }
}

TEST_CASE("nest sim: a write-back waits for its output tile's last update", "[systemc][nest_sim]") {
  // DRAM: P outermost (4 output tiles), R inside it (3 taps): each buffer output tile of 4 is in
  // use for 3 epochs (one a tap) and goes back to DRAM after the third, the last one after the
  // last epoch.
  const nest::Problem p = conv1d(16, 3);
  const nest::Architecture a = dram_over_double_buffer();
  nest::Mapping m;
  m.n_levels = 2;
  m.levels[0].temporal[0] = 3;
  m.levels[0].temporal[1] = 4;
  order_r_then_p(m.levels[0]);  // innermost R, then P
  m.levels[1].temporal[1] = 4;
  order_r_then_p(m.levels[1]);
  NestSimOptions twelve;
  twelve.max_epochs = 12;
  const NestSimResult r = simulate_nest(p, a, m, twelve);
  REQUIRE(r.epochs == 12);
  CHECK(r.levels[0].ds[2].updates == 16);
  CHECK(r.levels[1].ds[2].fills == 0);  // each output tile visited once
  // The last tile's 4 values leave after the compute ends: 4 cycles of epilogue (written back
  // after the epoch it arrived in, they went out under the last two epochs: none).
  CHECK(r.epilogue_cycles == Approx(4));
  const nest::Result ref = nest::evaluate(p, a, m);
  CHECK(r.levels[0].ds[2].updates == ref.levels[0].ds[2].updates);
  CHECK(r.levels[1].ds[2].reads == ref.levels[1].ds[2].reads);
}

TEST_CASE("nest sim: an output's first update skips its read in the epoch the value first arrives",
          "[systemc][nest_sim]") {
  // DRAM: 16 epochs, one output each (P); Buffer: the 3 taps of that output (R), 7 cycles of
  // compute per epoch (3 steps x 7/3). Unlimited DRAM and buffer writes; the buffer reads one
  // value a cycle: per epoch 3 weights + 3 inputs to the MACs + the read-modify-write reads of
  // the output's 3 updates except its first (1 per epoch: each epoch's output is new) = 8 > 7.
  const nest::Problem p = conv1d(16, 3);
  nest::Architecture a;
  a.levels = {level("DRAM", 10, 10, 10), level("Buffer", 1, 1, 1)};
  a.levels[1].read_bandwidth_bits = 8;
  nest::Mapping m;
  m.n_levels = 2;
  m.levels[0].temporal[1] = 16;
  m.levels[1].temporal[0] = 3;
  order_r_then_p(m.levels[0]);
  order_r_then_p(m.levels[1]);
  NestSimOptions o;
  o.max_epochs = 16;
  o.cycles_per_mac = 7.0 / 3.0;
  const NestSimResult r = simulate_nest(p, a, m, o);
  REQUIRE(r.epochs == 16);
  CHECK(r.levels[1].ds[2].reads == 48 - 16);
  // 16 epochs of max(7, 8) cycles. With the 16 skipped reads piled on the first epochs (3 in
  // each of epochs 0-4, 1 in epoch 5) the port would take 6, 6, 6, 6, 6, 8, then 9 cycles ten
  // times: 5 x 7 + 8 + 10 x 9 = 133.
  CHECK(r.cycles == Approx(16 * 8));
}

TEST_CASE("nest sim: a prefetch yields to the epoch's operands on a shared port", "[systemc][nest_sim]") {
  // DRAM: 4 epochs (P, 4 outputs each); Buffer: double-buffered with room for every tile (so
  // every input tile may be prefetched at once), one value a cycle shared by reads and writes,
  // 12 MAC steps of 4 cycles per epoch (48). The buffer's port owes each epoch 12 weight + 12
  // input reads, 12 output updates and 8 read-modify-write reads (each epoch's 4 outputs are new:
  // their first updates read nothing) = 44 cycles; the next epoch's 4 new inputs (a demand fill)
  // fit too: 48. The DRAM is unlimited.
  const nest::Problem p = conv1d(16, 3);
  nest::Architecture a;
  a.levels = {level("DRAM", 10, 10, 10), level("Buffer", 1, 1, 1)};
  a.levels[1].shared_bandwidth_bits = 8;
  a.levels[1].multiple_buffering = 2;
  nest::Mapping m;
  m.n_levels = 2;
  m.levels[0].temporal[1] = 4;
  m.levels[1].temporal[0] = 3;
  m.levels[1].temporal[1] = 4;
  order_r_then_p(m.levels[0]);
  order_r_then_p(m.levels[1]);
  NestSimOptions o;
  o.max_epochs = 4;
  o.cycles_per_mac = 4;
  const NestSimResult r = simulate_nest(p, a, m, o);
  REQUIRE(r.epochs == 4);
  // 3 weights + 6 inputs before the first MAC, then four epochs of 48: the fills for epochs 2 and
  // 3 wait until the port owes the current epoch nothing (then they are the next epoch's demand
  // and fit in it). Taking turns with the operands from the start, they would stretch epoch 0 to
  // 44 + 12 = 56 cycles: 9 + 56 + 3 x 48 = 209.
  CHECK(r.prologue_cycles == Approx(9));
  CHECK(r.cycles == Approx(9 + 4 * 48));
}

TEST_CASE("nest sim: a refused mapping names the pointer", "[systemc][nest_sim]") {
  const nest::Problem p = conv1d(16, 3);
  nest::Architecture a;
  a.levels = {level("Buffer", 1, 1, 1)};
  nest::Mapping m;
  m.n_levels = 1;
  m.levels[0].temporal[0] = 3;
  m.levels[0].temporal[1] = 8;  // 8 != 16
  order_r_then_p(m.levels[0]);
  CHECK_THROWS_WITH(simulate_nest(p, a, m), Catch::Contains("/mapping"));
}

namespace {

struct TCase {
  std::string name;
  std::vector<std::string> arch;
  std::string problem, mapping, ert;
};

std::string V(const std::string& rel) { return test::source_path("tests/validation/timeloop/" + rel); }

}  // namespace

TEST_CASE("nest sim: counts equal the nest analysis on the Timeloop validation cases", "[systemc][nest_sim][validation]") {
  const std::string T00 = "timeloop/00-model-conv1d-1level/", T01 = "timeloop/01-model-conv1d-2level/",
                    T02 = "timeloop/02-model-conv1d+oc-2level/", T03 = "timeloop/03-model-conv1d+oc-3level/",
                    T06 = "timeloop/06-mapper-convlayer-eyeriss/", EX = "example_designs/";
  auto model = [](const std::string& name, const std::string& dir, const std::string& arch, const std::string& prob,
                  const std::string& map, const std::string& ref) {
    return TCase{name, {dir + "arch/" + arch}, dir + "prob/" + prob, dir + "map/" + map,
                 dir + "ref-output/" + ref + "timeloop-model.ERT.yaml"};
  };
  std::vector<TCase> cases = {
      model("00", T00, "1level.arch.yaml", "conv1d.prob.yaml", "conv1d-1level.map.yaml", ""),
      model("01 ws", T01, "2level.arch.yaml", "conv1d.prob.yaml", "conv1d-2level-ws.map.yaml", "ws/"),
      model("01 os", T01, "2level.arch.yaml", "conv1d.prob.yaml", "conv1d-2level-os.map.yaml", "os/"),
      model("02 tiling", T02, "2level.arch.yaml", "conv1d+oc.prob.yaml", "conv1d+oc-2level-os-tiled.map.yaml", "tiling/"),
      model("03 bypass", T03, "3level.arch.yaml", "conv1d+oc.prob.yaml", "conv1d+oc-3level-bypass.map.yaml", "bypass/"),
      model("03 no-bypass", T03, "3level.arch.yaml", "conv1d+oc.prob.yaml", "conv1d+oc-3level.map.yaml", "no-bypass/"),
      TCase{"06 eyeriss", {T06 + "arch/eyeriss_like.yaml"}, T06 + "prob/VGG02_layer5.yaml",
            T06 + "ref-output/timeloop-mapper.map.yaml", T06 + "ref-output/timeloop-mapper.ERT.yaml"}};
  for (const char* design : {"simple_weight_stationary", "simple_output_stationary"}) {
    const std::string out = EX + design + "/ref_outputs/default_problem/";
    cases.push_back(TCase{design, {EX + design + "/arch.yaml"}, EX + "_include/default_problem.yaml",
                          out + "timeloop-mapper.map.yaml", out + "timeloop-mapper.ERT.yaml"});
  }
  for (const TCase& c : cases) {
    INFO("case " << c.name);
    nest::TimeloopFiles f;
    for (const std::string& a : c.arch) f.arch.push_back(V(a));
    f.problem = V(c.problem);
    f.mapping = V(c.mapping);
    f.ert = V(c.ert);
    const nest::NestSpec spec = nest::import_timeloop(f);
    const nest::Result ref = nest::evaluate(spec.problem, spec.architecture, spec.mapping);
    REQUIRE(ref.status.ok());
    const NestSimResult s = simulate_nest(spec.problem, spec.architecture, spec.mapping);
    CHECK(s.macs == ref.macs);
    for (int l = 0; l < ref.n_levels; ++l)
      for (std::size_t d = 0; d < spec.problem.dataspaces.size(); ++d) {
        INFO("level " << spec.architecture.levels[std::size_t(l)].name << " " << spec.problem.dataspaces[d].name);
        const nest::DataspaceStats& want = ref.levels[std::size_t(l)].ds[d];
        const NestSimCounts& got = s.levels[std::size_t(l)].ds[d];
        CHECK(got.kept == want.kept);
        CHECK(got.reads == want.reads);
        CHECK(got.fills == want.fills);
        CHECK(got.updates == want.updates);
      }
    // Access energy (leakage aside: it follows each model's cycles) within 1%.
    double leak_sim = 0, leak_ref = 0;
    for (int l = 0; l < ref.n_levels; ++l) {
      leak_sim += s.levels[std::size_t(l)].leak_pj;
      leak_ref += ref.levels[std::size_t(l)].leak_pj;
    }
    CHECK(s.energy_pj - leak_sim == Approx(ref.energy_pj - leak_ref).epsilon(0.01));
    CHECK(s.cycles == Approx(double(ref.cycles)).epsilon(0.10));
    // MIXPREC_SYSTEMC_TABLE=FILE appends one Markdown row per case (docs/validation.md).
    if (const char* table = std::getenv("MIXPREC_SYSTEMC_TABLE")) {
      int counts = 0, equal = 0;
      for (int l = 0; l < ref.n_levels; ++l)
        for (std::size_t d = 0; d < spec.problem.dataspaces.size(); ++d) {
          const nest::DataspaceStats& want = ref.levels[std::size_t(l)].ds[d];
          const NestSimCounts& got = s.levels[std::size_t(l)].ds[d];
          if (!want.kept) continue;
          counts += 3;
          equal += int(got.reads == want.reads) + int(got.fills == want.fills) + int(got.updates == want.updates);
        }
      std::ofstream o(table, std::ios::app);
      char row[512];
      std::snprintf(row, sizeof row, "| %s | %d/%d | %.2f / %.2f | %+.3f%% | %.0f / %lld | %+.2f%% | %lld |\n",
                    c.name.c_str(), equal, counts, s.energy_pj, ref.energy_pj,
                    100.0 * (s.energy_pj - ref.energy_pj) / ref.energy_pj, s.cycles, (long long)ref.cycles,
                    100.0 * (s.cycles - double(ref.cycles)) / double(ref.cycles), (long long)s.epochs);
      o << row;
    }
  }
}

TEST_CASE("systemc-mapping: per-layer agreement with the mapping engine on the default scenario",
          "[systemc][nest_sim][mapping]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  const MappingSimResult r = simulate_mapping_systemc(sc, sc.layer_precision, false);
  REQUIRE(r.layers.size() == sc.net.layers.size());
  int with_nests = 0;
  for (const LayerAgreement& l : r.layers) {
    INFO("layer " << l.name << ": " << l.why);
    if (!l.nests.empty()) {
      ++with_nests;
      CHECK(l.counts_compared > 0);
    }
    CHECK(l.counts_differing == 0);
    CHECK(std::abs(l.energy_diff_percent) <= kMappingEnergyBoundPercent);
    // Never faster than the analysis's perfect overlap, max(compute, each level's transfers).
    // (It may be faster than the mapping engine's cycles, which add the first tiles' load in
    // full before that overlap; the simulation overlaps part of it.)
    for (const NestAgreement& n : l.nests) CHECK(n.sim.cycles >= n.bound_cycles - 1e-6);
  }
  CHECK(with_nests == 23);  // convolutions, LSTM layers (input projection and recurrence), head
  CHECK(r.result.engine == "systemc-mapping");
  CHECK(r.result.cost.energy_uj == Approx(r.mapping.cost.energy_uj).epsilon(0.01));
  const std::string table = agreement_to_table(r);
  CHECK(table.find("agreement with the mapping engine") != std::string::npos);
}

TEST_CASE("systemc-mapping: agreement on TT contraction steps and on training passes",
          "[systemc][nest_sim][mapping][training][tt]") {
  const Scenario tt = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  const Scenario train = test::default_scenario_with(
      std::string(R"({"phase": "training", "precision": {"layers": []}, "network": )") + test::kTinyNetworkPatch + "}");
  for (const Scenario* sc : {&tt, &train}) {
    const MappingSimResult r = simulate_mapping_systemc(*sc, sc->layer_precision, false);
    REQUIRE(r.layers.size() == sc->net.layers.size());
    std::size_t nests = 0;
    for (const LayerAgreement& l : r.layers) {
      INFO(sc->file << " layer " << l.name << ": " << l.why);
      nests += l.nests.size();
      CHECK(l.counts_differing == 0);
      CHECK(std::abs(l.energy_diff_percent) <= kMappingEnergyBoundPercent);
      // Cycles: the bound of issue 15 item 8 (tiny nests, 40-odd cycles, may run a cycle or two
      // faster in the simulation: it overlaps the DRAM latency with the first transfers). A
      // weight-gradient tile is updated until the pass's last epoch, so its write-back follows
      // the compute (72 of the 300 simulated cycles of the tiny network's stage-2 conv2
      // weight_grad), which the mapping engine's nest cycles do not count yet (its missing
      // epilogue, to be added on the mapping side): without that last write-back, the bound.
      const double without_epilogue =
          100.0 * (l.cycles_systemc - l.epilogue_cycles - l.cycles_mapping) / std::max(1.0, l.cycles_mapping);
      CHECK((std::abs(l.cycles_diff_percent) <= kMappingCyclesBoundPercent ||
             std::abs(without_epilogue) <= kMappingCyclesBoundPercent));
    }
    CHECK(r.result.cost.macs == r.mapping.cost.macs);
    bool saw = false;
    for (const LayerAgreement& l : r.layers)
      for (const NestAgreement& n : l.nests)
        saw = saw || n.pass == (sc == &tt ? "tt_step1_core3" : "weight_grad");
    CHECK(saw);
  }
}

TEST_CASE("systemc-mapping: a perturbed analytical count formula fails the agreement check",
          "[systemc][nest_sim][mapping]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  HookGuard guard;
  // DRAM reads of every read-only tensor 10% high in the analysis (the simulation is untouched).
  nest::test_hooks().reads = [](int level, int, std::int64_t reads) -> std::int64_t {
    return level == 0 ? reads + reads / 10 : reads;
  };
  const MappingSimResult r = simulate_mapping_systemc(sc, sc.layer_precision, false);
  int failing = 0;
  for (const LayerAgreement& l : r.layers) {
    if (!agrees(l)) ++failing;
  }
  CHECK(failing > 0);
  bool named = false;
  for (const LayerAgreement& l : r.layers) named = named || l.why.find("DRAM/") != std::string::npos;
  CHECK(named);  // the report names the count that differs
  nest::test_hooks().reads = nullptr;
  const MappingSimResult clean = simulate_mapping_systemc(sc, sc.layer_precision, false);
  for (const LayerAgreement& l : clean.layers) {
    CHECK(l.counts_differing == 0);
    CHECK(std::abs(l.energy_diff_percent) <= kMappingEnergyBoundPercent);
  }
}

// The cycles bound of issue 15 item 8 per layer. Met on every layer since the simulation streams
// DMA transfers (max of channel and port, not the sum), writes a tile back after its last update,
// places the first-update elision where values are first touched and lets prefetches yield to
// demand transfers in bursts (docs/validation.md). The largest gaps left (the 1x1 downsample
// convolutions, the LSTM input projections, the stem: 5-9%) are mostly the first tiles' load and
// the last write-back, which the mapping engine's nest cycles do not overlap or do not count.
TEST_CASE("systemc-mapping: cycles within 10% of the mapping engine on every layer",
          "[systemc][nest_sim][mapping]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  const MappingSimResult r = simulate_mapping_systemc(sc, sc.layer_precision, false);
  for (const LayerAgreement& l : r.layers) {
    INFO("layer " << l.name << ": " << l.why);
    CHECK(std::abs(l.cycles_diff_percent) <= kMappingCyclesBoundPercent);
  }
}

// The default scenario with cost_model.residency "chain" (docs/mapper.md): the same scenario file
// with the key set, written to a temp dir.
static Scenario default_with_chain() {
  nlohmann::json j = test::read_json(test::source_path("scenarios/venue_cnn_lstm.json"));
  j["cost_model"]["residency"] = "chain";
  const std::string f = test::temp_dir("sc_chain") + "/venue_cnn_lstm_chain.json";
  std::ofstream(f) << j.dump(2);
  return load_scenario(f);
}

TEST_CASE("systemc-mapping: residency chain - the hand-overs simulated and per-layer energy within 1%",
          "[systemc][nest_sim][mapping][residency]") {
  const Scenario sc = default_with_chain();
  REQUIRE(sc.cost_model.residency == Residency::Chain);
  const MappingSimResult r = simulate_mapping_systemc(sc, sc.layer_precision, false);
  REQUIRE(r.layers.size() == sc.net.layers.size());
  int on_chip = 0;
  for (const HandoverOutcome& h : r.mapping.cost.handovers) {
    if (!h.on_chip) continue;
    ++on_chip;
    // What the simulation moved: the producer's output and the consumer's input never at DRAM
    // (conv/linear outputs and conv/linear/LSTM inputs are nest traffic, the rest streams).
    const LayerCost& p = r.result.cost.layers[std::size_t(h.producer)];
    const LayerCost& c = r.result.cost.layers[std::size_t(h.consumer)];
    INFO(p.name << " -> " << c.name);
    CHECK(p.dram[std::size_t(Tensor::Outputs)].writes == r.mapping.cost.layers[std::size_t(h.producer)].dram[std::size_t(Tensor::Outputs)].writes);
    CHECK(c.dram[std::size_t(Tensor::Inputs)].reads == r.mapping.cost.layers[std::size_t(h.consumer)].dram[std::size_t(Tensor::Inputs)].reads);
    CHECK(c.buffer[std::size_t(Tensor::Inputs)].reads ==
          r.mapping.cost.layers[std::size_t(h.consumer)].buffer[std::size_t(Tensor::Inputs)].reads);
  }
  CHECK(on_chip > 0);
  for (const LayerAgreement& l : r.layers) {
    INFO("layer " << l.name << ": " << l.why);
    CHECK(l.counts_differing == 0);
    CHECK(std::abs(l.energy_diff_percent) <= kMappingEnergyBoundPercent);
  }
  CHECK(r.result.cost.energy_uj == Approx(r.mapping.cost.energy_uj).epsilon(0.01));
  // Residency lowers both engines' energy below the scenario without it.
  const Scenario none = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  const MappingSimResult n = simulate_mapping_systemc(none, none.layer_precision, false);
  CHECK(r.result.cost.energy_uj < n.result.cost.energy_uj);
  CHECK(r.mapping.cost.energy_uj < n.mapping.cost.energy_uj);
}

TEST_CASE("systemc-mapping: residency chain - a perturbed analytical count formula fails the agreement check",
          "[systemc][nest_sim][mapping][residency]") {
  const Scenario sc = default_with_chain();
  HookGuard guard;
  // The analysis's DRAM reads of read-only tensors 10% high: the mapping engine's hand-over then
  // moves 10% more input reads to the input buffer; the simulation counts its own.
  nest::test_hooks().reads = [](int level, int, std::int64_t reads) -> std::int64_t {
    return level == 0 ? reads + reads / 10 : reads;
  };
  const MappingSimResult r = simulate_mapping_systemc(sc, sc.layer_precision, false);
  int failing = 0, handed = 0;
  for (const LayerAgreement& l : r.layers) failing += agrees(l) ? 0 : 1;
  for (const HandoverOutcome& h : r.mapping.cost.handovers) {
    if (!h.on_chip) continue;
    const LayerCost& c = r.result.cost.layers[std::size_t(h.consumer)];
    const LayerCost& m = r.mapping.cost.layers[std::size_t(h.consumer)];
    if (sc.net.layers[std::size_t(h.consumer)].has_weights()) {
      ++handed;
      CHECK(c.buffer[std::size_t(Tensor::Inputs)].reads != m.buffer[std::size_t(Tensor::Inputs)].reads);
    }
  }
  CHECK(handed > 0);
  CHECK(failing > 0);
}

// As the cycles check above, with residency (the largest gap: the stage-4 downsample, +9.9%).
TEST_CASE("systemc-mapping: residency chain - cycles within 10% of the mapping engine on every layer",
          "[systemc][nest_sim][mapping][residency]") {
  const Scenario sc = default_with_chain();
  const MappingSimResult r = simulate_mapping_systemc(sc, sc.layer_precision, false);
  for (const LayerAgreement& l : r.layers) {
    INFO("layer " << l.name << ": " << l.why);
    CHECK(std::abs(l.cycles_diff_percent) <= kMappingCyclesBoundPercent);
  }
}

// The default scenario (and its residency-chain variant) with cost_model.timing "phased"
// (sim/mapping_engine.hpp nest_cycles): the simulation is the same (it does not read the key),
// the mapping engine adds the epilogue and the serial refills of single-buffered levels. The 10%
// bound holds per layer, and the total cycle gap is smaller than under the overlap timing.
static Scenario default_with_timing(const std::string& timing, bool chain) {
  nlohmann::json j = test::read_json(test::source_path("scenarios/venue_cnn_lstm.json"));
  j["cost_model"]["timing"] = timing;
  if (chain) j["cost_model"]["residency"] = "chain";
  const std::string f = test::temp_dir("sc_timing") + "/venue_cnn_lstm_" + timing + ".json";
  std::ofstream(f) << j.dump(2);
  return load_scenario(f);
}

static double total_gap(const MappingSimResult& r) {
  double sc = 0, map = 0;
  for (const LayerAgreement& l : r.layers) {
    sc += l.cycles_systemc;
    map += l.cycles_mapping;
  }
  return std::abs(sc - map);
}

TEST_CASE("systemc-mapping: timing phased - cycles within 10% on every layer, closer than overlap in total",
          "[systemc][nest_sim][mapping][timing]") {
  for (const bool chain : {false, true}) {
    INFO((chain ? "residency chain" : "residency none"));
    const Scenario ph = default_with_timing("phased", chain), ov = default_with_timing("overlap", chain);
    REQUIRE(ph.cost_model.timing == Timing::Phased);
    const MappingSimResult rp = simulate_mapping_systemc(ph, ph.layer_precision, false);
    const MappingSimResult ro = simulate_mapping_systemc(ov, ov.layer_precision, false);
    REQUIRE(rp.layers.size() == ro.layers.size());
    for (std::size_t i = 0; i < rp.layers.size(); ++i) {
      const LayerAgreement& l = rp.layers[i];
      INFO("layer " << l.name << ": " << l.why);
      CHECK(std::abs(l.cycles_diff_percent) <= kMappingCyclesBoundPercent);
      CHECK(l.counts_differing == 0);
      // The simulation does not read the key; the mapping engine's phased cycles are never fewer.
      CHECK(l.cycles_systemc == ro.layers[i].cycles_systemc);
      CHECK(l.cycles_mapping >= ro.layers[i].cycles_mapping);
      for (std::size_t n = 0; n < l.nests.size(); ++n) CHECK(l.nests[n].cycles_mapping >= ro.layers[i].nests[n].cycles_mapping);
    }
    CHECK(total_gap(rp) < total_gap(ro));
  }
}

TEST_CASE("simulate --engine systemc-mapping prints the agreement with the mapping engine", "[cli][systemc][nest_sim]") {
  const std::string s = test::source_path("scenarios/venue_cnn_lstm.json");
  const auto t = test::run_cli("simulate " + s + " --engine systemc-mapping");
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("systemc-mapping") != std::string::npos);
  CHECK(t.out.find("agreement with the mapping engine") != std::string::npos);
  CHECK(t.out.find("why they differ:") != std::string::npos);
  const auto j = test::run_cli("simulate " + s + " --engine systemc-mapping --format json");
  REQUIRE(j.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(j.out);
  CHECK(doc["engine"] == "systemc-mapping");
  REQUIRE(doc["agreement_with_mapping"]["layers"].size() == 33);
  for (const auto& l : doc["agreement_with_mapping"]["layers"]) CHECK(l["counts_differing"] == 0);
  // Options of other engines are refused, not ignored.
  CHECK(test::run_cli("simulate " + s + " --engine systemc-mapping --trace t.json").exit_code == 2);
}
