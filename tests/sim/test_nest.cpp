// The nest-analysis model on small nests whose counts are worked out by hand (the comments give
// the arithmetic), its errors, and the JSON / CLI surface.
#include <catch2/catch.hpp>

#include <array>
#include <fstream>
#include <iterator>

#include "sim/nest/nest_json.hpp"
#include "sim/nest/timeloop_import.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::sim::nest;

namespace {

// conv1d with output channels: Weights[K][R], Inputs[P+R], Outputs[K][P].
Problem conv1d(std::int64_t k, std::int64_t p, std::int64_t r, int input_bits = 8) {
  Problem pr;
  pr.dims = {"K", "P", "R"};
  pr.bounds = {k, p, r};
  pr.dataspaces = {Dataspace{"Weights", {Rank{{{0, -1}}}, Rank{{{2, -1}}}}, false, 8},
                   Dataspace{"Inputs", {Rank{{{1, -1}, {2, -1}}}}, false, input_bits},
                   Dataspace{"Outputs", {Rank{{{0, -1}}}, Rank{{{1, -1}}}}, true, 8}};
  return pr;
}

Architecture two_level(std::int64_t children = 1) {
  Architecture a;
  StorageLevel dram;
  dram.name = "DRAM";
  dram.block_bits = 8;
  dram.read_pj = dram.write_pj = dram.update_pj = 10;
  StorageLevel buf;
  buf.name = "Buffer";
  buf.depth = 64;
  buf.block_bits = 8;
  buf.instances = children;
  buf.mesh_x = children;
  buf.read_pj = 2;
  buf.write_pj = buf.update_pj = 1;
  a.levels = {dram, buf};
  a.compute.instances = children;
  a.compute.mesh_x = children;
  a.compute.energy_pj = 0.5;
  return a;
}

Mapping map2(const Architecture& a) {
  Mapping m;
  m.n_levels = int(a.levels.size());
  return m;
}

enum { K = 0, P = 1, R = 2 };
enum { W = 0, I = 1, O = 2 };

// DRAM loops over {K, P, R} (factors, and their order innermost first) above a Buffer holding
// `inner` factors of {K, P, R}.
Result run_buffer(const Problem& p, const Architecture& a, std::array<std::int64_t, 3> outer,
                  std::array<std::int8_t, 3> order, std::array<std::int64_t, 3> inner) {
  Mapping m = map2(a);
  for (int d = 0; d < 3; ++d) {
    m.levels[0].temporal[std::size_t(d)] = outer[std::size_t(d)];
    m.levels[0].permutation[std::size_t(d)] = order[std::size_t(d)];
    m.levels[1].temporal[std::size_t(d)] = inner[std::size_t(d)];
  }
  return evaluate(p, a, m);
}

}  // namespace

TEST_CASE("nest: sliding-window fills and read-modify-write of outputs", "[nest]") {
  // DRAM: for P in [0:4); Buffer: for R in [0:3).
  const Result r = run_buffer(conv1d(1, 4, 3), two_level(), {1, 4, 1}, {K, P, R}, {1, 1, 3});
  REQUIRE(r.status.ok());
  CHECK(r.macs == 12);
  CHECK(r.cycles == 12);
  const auto& buf = r.levels[1];
  // Inputs: a 3-value window slides by 1 per P step: 3 + 3 x 1 = 6 fills (all inputs once).
  CHECK(buf.ds[I].utilized_capacity == 3);
  CHECK(buf.ds[I].fills == 6);
  CHECK(buf.ds[I].reads == 12);
  // Weights do not depend on P: filled once, read by every MAC.
  CHECK(buf.ds[W].fills == 3);
  CHECK(buf.ds[W].reads == 12);
  // Outputs: 12 updates; the first update of each of the 4 outputs reads nothing: 8 reads.
  CHECK(buf.ds[O].updates == 12);
  CHECK(buf.ds[O].reads == 8);
  CHECK(buf.ds[O].temporal_reductions == 8);
  CHECK(buf.ds[O].fills == 0);
  // DRAM: 6 input reads, 3 weight reads, 4 output updates (drains), no output reads.
  CHECK(r.levels[0].ds[I].reads == 6);
  CHECK(r.levels[0].ds[W].reads == 3);
  CHECK(r.levels[0].ds[O].updates == 4);
  CHECK(r.levels[0].ds[O].reads == 0);
  // Energy: DRAM (6 + 3 + 4) x 10 = 130; Buffer reads (12 + 12 + 8) x 2 = 64, fills (6 + 3) x 1,
  // updates 12 x 1: 85; compute 12 x 0.5 = 6. Total 221 pJ.
  CHECK(r.levels[0].energy_pj == Approx(130));
  CHECK(r.levels[1].energy_pj == Approx(85));
  CHECK(r.energy_pj == Approx(221));
}

TEST_CASE("nest: a change of translation discards the sliding-window residue (Timeloop)", "[nest]") {
  // Buffer holds P4 (4 inputs); above it R3 (inner) then K2 (outer). R steps move the window by
  // +1 (1 new value each); a K step moves it by -2, a different translation, so the whole tile is
  // refetched, and the next R step (no previous translation) slides again:
  // 4 + 1 + 1 + 4 + 1 + 1 = 12 (a model keeping the overlap would say 10).
  const Result moving = run_buffer(conv1d(2, 4, 3), two_level(), {2, 1, 3}, {R, K, P}, {1, 4, 1});
  REQUIRE(moving.status.ok());
  CHECK(moving.levels[1].ds[I].fills == 12);
  CHECK(moving.levels[0].ds[I].reads == 12);

  // A stationary inner loop defeats sliding-window reuse (the reference Timeloop's rule).
  // Buffer holds R3 (a 3-input window); above it K2 (inner; Inputs do not depend on K) and P4.
  // Sequence: full 3; K step (no move) 0; P step: the translation differs from the remembered
  // zero one, so the whole window is refetched: 3 per P value, 12 in all (Timeloop after #297,
  // which keeps stationary steps out of the comparison, would give 3 + 3 x 1 = 6).
  const Result r = run_buffer(conv1d(2, 4, 3), two_level(), {2, 4, 1}, {K, P, R}, {1, 1, 3});
  REQUIRE(r.status.ok());
  CHECK(r.levels[1].ds[I].fills == 12);
  // Weights (K and R) change every K step: 2 x 4 tiles of 3 values.
  CHECK(r.levels[1].ds[W].fills == 24);
}

TEST_CASE("nest: spatial multicast and partitioned outputs", "[nest]") {
  // DRAM fans K2 out over two Buffer+MAC instances; each Buffer holds all of P4 R3.
  const Problem p = conv1d(2, 4, 3);
  const Architecture a = two_level(2);
  Mapping m = map2(a);
  m.levels[0].spatial_x[K] = 2;
  m.levels[1].temporal[P] = 4;
  m.levels[1].temporal[R] = 3;
  const Result r = evaluate(p, a, m);
  REQUIRE(r.status.ok());
  CHECK(r.utilized_compute == 2);
  CHECK(r.compute_cycles == 12);
  // Inputs do not depend on K: one DRAM read feeds both Buffers (multicast 2).
  CHECK(r.levels[1].ds[I].fills == 6);
  CHECK(r.levels[0].ds[I].reads == 6);
  CHECK(r.levels[0].ds[I].multicast_factor == 2);
  // Weights differ per K: 3 + 3 DRAM reads.
  CHECK(r.levels[0].ds[W].reads == 6);
  // Each Buffer owns 4 of the 8 outputs: 12 updates, 12 - 4 reads; DRAM receives 8 updates.
  CHECK(r.levels[1].ds[O].updates == 12);
  CHECK(r.levels[1].ds[O].reads == 8);
  CHECK(r.levels[1].ds[O].utilized_instances == 2);
  CHECK(r.levels[0].ds[O].updates == 8);
  // Energy is per instance x 2 instances at the Buffer.
  CHECK(r.levels[1].energy_pj == Approx(2 * 85));
}

TEST_CASE("nest: per-tensor bits change values per block, capacity and energy", "[nest]") {
  Architecture a = two_level();
  a.levels[1].depth = 6;  // 48 bits: tiles of 3 W + 3 I + 1 O values
  const Problem p8 = conv1d(1, 4, 3, 8);
  const Problem p4 = conv1d(1, 4, 3, 4);
  const Result r8 = run_buffer(p8, a, {1, 4, 1}, {K, P, R}, {1, 1, 3});
  REQUIRE(!r8.status.ok());
  CHECK(describe(r8.status, p8, a) ==
        "level \"Buffer\": the tiles need 56 bits, more than its effective capacity of 48 bits");
  const Result r4 = run_buffer(p4, a, {1, 4, 1}, {K, P, R}, {1, 1, 3});
  REQUIRE(r4.status.ok());
  // 4-bit inputs: two per 8-bit block. 12 reads -> 6 vector reads x 2 pJ, 6 fills -> 3 x 1 pJ.
  CHECK(r4.levels[1].ds[I].energy_pj == Approx(6 * 2 + 3 * 1));
  CHECK(r4.levels[1].ds[W].energy_pj == Approx(12 * 2 + 3 * 1));
  // Double buffering halves the effective capacity: 24 bits < 44.
  a.levels[1].multiple_buffering = 2;
  const Result rdb = run_buffer(p4, a, {1, 4, 1}, {K, P, R}, {1, 1, 3});
  CHECK(describe(rdb.status, p4, a) ==
        "level \"Buffer\": the tiles need 44 bits, more than its effective capacity of 24 bits");
}

TEST_CASE("nest: bandwidth throttles cycles and banks multiply the per-bank bandwidth", "[nest]") {
  const Problem p = conv1d(1, 4, 3);
  Architecture a = two_level();
  // Buffer reads 12 + 12 + 8 = 32 values x 8 bits = 256 bits in 12 compute cycles; at 16 bits
  // per cycle it needs 16 cycles (throttling 0.75).
  a.levels[1].read_bandwidth_bits = 16;
  Result r = run_buffer(p, a, {1, 4, 1}, {K, P, R}, {1, 1, 3});
  REQUIRE(r.status.ok());
  CHECK(r.levels[1].bandwidth_throttling == Approx(0.75));
  CHECK(r.cycles == 16);
  CHECK(r.utilization == Approx(12.0 / 16.0));
  a.levels[1].read_bandwidth_bits = 8;
  a.levels[1].banks = 2;
  r = run_buffer(p, a, {1, 4, 1}, {K, P, R}, {1, 1, 3});
  CHECK(r.cycles == 16);
}

TEST_CASE("nest: invalid mappings are refused with a reason", "[nest]") {
  const Problem p = conv1d(2, 4, 3);
  const Architecture a = two_level(2);
  Mapping m = map2(a);
  m.levels[0].temporal[P] = 4;
  m.levels[1].temporal[R] = 3;
  Result r = evaluate(p, a, m);
  CHECK(describe(r.status, p, a) == "the factors of dimension K multiply to 1, not its bound 2");
  m.levels[1].spatial_x[K] = 2;  // Buffer -> MAC fan-out is 1
  r = evaluate(p, a, m);
  CHECK(describe(r.status, p, a) == "level \"Buffer\": spatial X factors multiply to 2, more than its X fan-out 1");
}

TEST_CASE("nest: mixprec nest prints the nest and statistics and bad files exit 2", "[nest]") {
  const auto ok = test::run_cli("nest " + test::source_path("scenarios/nest/venue_conv_stage2.json"));
  REQUIRE(ok.exit_code == 0);
  CHECK(ok.out.find("|       for C in [0:16) (Spatial-X)") != std::string::npos);
  CHECK(ok.out.find("MACs 4718592, compute instances 256 of 256, compute cycles 18432") != std::string::npos);

  const std::string dir = test::temp_dir("nest");
  nlohmann::json j = test::read_json(test::source_path("scenarios/nest/venue_conv_stage2.json"));
  j["architecture"]["levels"][1]["dept"] = j["architecture"]["levels"][1]["depth"];
  j["architecture"]["levels"][1].erase("depth");
  std::ofstream(dir + "/bad.json") << j.dump();
  const auto bad = test::run_cli("nest " + dir + "/bad.json");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "error: " + dir +
                       "/bad.json: /architecture/levels/1/dept: expected a known key (did you mean \"depth\"?), "
                       "found unknown key \"dept\"\n");
}

TEST_CASE("nest: import-timeloop names the YAML node and line of an error", "[nest]") {
  const std::string dir = test::temp_dir("tlimport");
  std::ofstream(dir + "/arch.yaml") << "architecture:\n  version: 0.4\n  nodes:\n  - !Container\n    name: System\n"
                                       "  - !Widget\n    name: X\n";
  const std::string prob = test::source_path("tests/validation/timeloop/timeloop/00-model-conv1d-1level/prob/conv1d.prob.yaml");
  const std::string map = test::source_path("tests/validation/timeloop/timeloop/00-model-conv1d-1level/map/conv1d-1level.map.yaml");
  const auto r = test::run_cli("import-timeloop --arch " + dir + "/arch.yaml --problem " + prob + " --mapping " + map +
                               " --out " + dir + "/out.json");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + dir +
                     "/arch.yaml: /architecture/nodes/1 (line 6): expected a node tagged !Container, !Component or "
                     "!Parallel, found tag !Widget\n");
}

TEST_CASE("nest: the conv builder equals the JSON conv of the example spec", "[nest]") {
  const NestSpec spec = load_nest_spec(test::source_path("scenarios/nest/venue_conv_stage2.json"));
  ConvShape c;
  c.n = 8;
  c.k = 32;
  c.c = 32;
  c.p = 8;
  c.q = 8;
  c.r = 3;
  c.s = 3;
  const Problem built = make_conv(c);
  // Inputs of an 8x8 output with a 3x3 kernel at stride 1: 10 x 10 per channel and frame.
  CHECK(built.dataspace_size(1) == 8 * 32 * 10 * 10);
  const Result a = evaluate(spec.problem, spec.architecture, spec.mapping);
  const Result b = evaluate(built, spec.architecture, spec.mapping);
  REQUIRE(a.status.ok());
  REQUIRE(b.status.ok());
  CHECK(b.energy_pj == a.energy_pj);
  CHECK(b.cycles == a.cycles);
  for (int l = 0; l < a.n_levels; ++l)
    for (int d = 0; d < 3; ++d) {
      CHECK(b.levels[std::size_t(l)].ds[std::size_t(d)].reads == a.levels[std::size_t(l)].ds[std::size_t(d)].reads);
      CHECK(b.levels[std::size_t(l)].ds[std::size_t(d)].fills == a.levels[std::size_t(l)].ds[std::size_t(d)].fills);
    }
  // Stride 2 and dilation 2: H = 2 (P - 1) + 2 (R - 1) + 1 = 19 rows for P 8, R 3.
  c.h_stride = 2;
  c.h_dilation = 2;
  CHECK(make_conv(c).dataspace_size(1) == 8 * 32 * 19 * 10);
  // Groups: a G dimension; Weights G K C R S.
  c.groups = 4;
  const Problem g = make_conv(c);
  CHECK(g.dims.size() == 8);
  CHECK(g.dataspace_size(0) == 4 * 32 * 32 * 3 * 3);
  CHECK(g.macs() == 4 * make_conv(ConvShape{8, 32, 32, 8, 8, 3, 3}).macs());
}

TEST_CASE("nest: a GEMM on one buffer, counted by hand", "[nest]") {
  // Z[M4][N2] = A[M4][K3] B[K3][N2]. DRAM: for M in [0:4); Buffer: for N, for K (K innermost).
  const Problem p = make_gemm(4, 2, 3);
  Architecture a = two_level();
  Mapping m = map2(a);
  m.levels[0].temporal = {4, 1, 1, 1, 1, 1, 1, 1};
  m.levels[1].temporal = {1, 2, 3, 1, 1, 1, 1, 1};
  m.levels[1].permutation = {2, 1, 0, 3, 4, 5, 6, 7};
  const Result r = evaluate(p, a, m);
  REQUIRE(r.status.ok());
  CHECK(r.macs == 24);
  // A: a row of 3 per M step, 4 rows: 12 fills. B: all 6 values, reused across M: 6 fills.
  CHECK(r.levels[1].ds[0].fills == 12);
  CHECK(r.levels[1].ds[1].fills == 6);
  // Z: 24 updates, 8 outputs: 16 reads; DRAM receives 8.
  CHECK(r.levels[1].ds[2].reads == 16);
  CHECK(r.levels[0].ds[2].updates == 8);
}

TEST_CASE("nest: an imported Timeloop case round-trips through mixprec nest --json", "[nest]") {
  const std::string dir = test::temp_dir("nestrt");
  const std::string in =
      test::source_path("tests/validation/timeloop/timeloop/04-model-conv1d+oc-3levelspatial/ref-output/cp/");
  const auto imp = test::run_cli("import-timeloop --arch " + in + "parsed-processed-input.yaml --problem " + in +
                                 "parsed-processed-input.yaml --mapping " + in + "parsed-processed-input.yaml --ert " +
                                 in + "timeloop-model.ERT.yaml --out " + dir + "/spec.json");
  REQUIRE(imp.exit_code == 0);
  const auto run = test::run_cli("nest " + dir + "/spec.json --json " + dir + "/out.json");
  REQUIRE(run.exit_code == 0);
  const nlohmann::json out = test::read_json(dir + "/out.json");
  TimeloopFiles f;
  f.arch = {in + "parsed-processed-input.yaml"};
  f.problem = f.mapping = in + "parsed-processed-input.yaml";
  f.ert = in + "timeloop-model.ERT.yaml";
  const NestSpec spec = import_timeloop(f);
  const Result r = evaluate(spec.problem, spec.architecture, spec.mapping);
  CHECK(out["result"]["cycles"] == r.cycles);
  CHECK(out["result"]["energy_pj"].get<double>() == Approx(r.energy_pj).epsilon(1e-12));
  CHECK(out["result"]["levels"][2]["data_spaces"]["Inputs"]["fills"] == 36);
  CHECK(out.contains("manifest"));
}

TEST_CASE("nest: import-timeloop refuses a mapping outside the constraints", "[nest]") {
  // 05's "1mapping" constraints pin GlobalBuffer to K16 P16; the mapping the mapper found without
  // constraints (ref-output/null) keeps everything at the RegisterFile.
  const std::string t = test::source_path("tests/validation/timeloop/timeloop/05-mapper-conv1d+oc-3level/");
  const std::string dir = test::temp_dir("tlcons");
  const auto r = test::run_cli("import-timeloop --arch " + t + "arch/3level.arch.yaml --problem " + t +
                               "prob/conv1d+oc.prob.yaml --mapping " + t +
                               "ref-output/null/timeloop-mapper.map.yaml --constraints " + t +
                               "constraints/conv1d+oc-3level-1mapping.constraints.yaml --out " + dir + "/x.json");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + t +
                     "constraints/conv1d+oc-3level-1mapping.constraints.yaml: /mapspace_constraints/targets/1/factors "
                     "(line 17): expected the mapping to satisfy temporal factor K=16 at GlobalBuffer, found factor 1 "
                     "in " + t + "ref-output/null/timeloop-mapper.map.yaml\n");
}

TEST_CASE("nest: import-timeloop refuses Timeloop attributes it does not model", "[nest]") {
  const std::string dir = test::temp_dir("tlrefuse");
  std::ofstream(dir + "/arch.yaml") << "architecture:\n  version: 0.4\n  nodes:\n  - !Container\n    name: System\n"
                                       "  - !Component\n    name: Buffer\n    class: SRAM\n    attributes:\n"
                                       "      depth: 64\n      width: 8\n      datawidth: 8\n"
                                       "      allow_overbooking: true\n"
                                       "  - !Component\n    name: MAC\n    class: intmac\n";
  const std::string t = test::source_path("tests/validation/timeloop/timeloop/00-model-conv1d-1level/");
  const auto r = test::run_cli("import-timeloop --arch " + dir + "/arch.yaml --problem " + t +
                               "prob/conv1d.prob.yaml --mapping " + t + "map/conv1d-1level.map.yaml --out " + dir +
                               "/out.json");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + dir +
                     "/arch.yaml: /architecture/nodes/1/attributes/allow_overbooking (line 13): expected "
                     "allow_overbooking: false (overbooking is not modelled), found \"true\"\n");
}

TEST_CASE("nest: 4-bit weights halve the scratchpad's weight accesses of the example layer", "[nest]") {
  NestSpec spec = load_nest_spec(test::source_path("scenarios/nest/venue_conv_stage2.json"));
  const Result r8 = evaluate(spec.problem, spec.architecture, spec.mapping);
  spec.problem.dataspaces[0].bits = 4;
  const Result r4 = evaluate(spec.problem, spec.architecture, spec.mapping);
  REQUIRE(r8.status.ok());
  REQUIRE(r4.status.ok());
  // Same scalar counts per Scratchpad instance: 18432 weight reads, 288 fills.
  const DataspaceStats& w8 = r8.levels[2].ds[0];
  const DataspaceStats& w4 = r4.levels[2].ds[0];
  CHECK(w4.reads == w8.reads);
  CHECK(w4.fills == 288);
  // A 16-bit row holds 2 eight-bit or 4 four-bit weights: vector reads 9216 -> 4608, fills
  // 144 -> 72, at 0.680237 / 1.582678 pJ each, on 256 instances.
  CHECK(w8.energy_pj == Approx(256 * (9216 * 0.680237 + 144 * 1.582678)));
  CHECK(w4.energy_pj == Approx(256 * (4608 * 0.680237 + 72 * 1.582678)));
  // DRAM: 64-bit blocks hold 8 or 16 weights: 73728 reads -> 9216 or 4608 vector reads x 512 pJ.
  CHECK(r8.levels[0].ds[0].energy_pj == Approx(9216 * 512.0));
  CHECK(r4.levels[0].ds[0].energy_pj == Approx(4608 * 512.0));
}

TEST_CASE("nest: import-timeloop reads an instance range a..N as N - a + 1 instances", "[nest][timeloop]") {
  const std::string in =
      test::source_path("tests/validation/timeloop/timeloop/04-model-conv1d+oc-3levelspatial/ref-output/cp/");
  std::ifstream src(in + "parsed-processed-input.yaml");
  const std::string yaml((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  const std::string dir = test::temp_dir("tlrange");
  auto import_with = [&](const std::string& from, const std::string& to) {
    std::string y = yaml;
    const auto at = y.find(from);
    REQUIRE(at != std::string::npos);
    y.replace(at, from.size(), to);
    const std::string f = dir + "/in.yaml";
    std::ofstream(f) << y;
    TimeloopFiles tf;
    tf.arch = {f};
    tf.problem = tf.mapping = f;
    return import_timeloop(tf);
  };
  // The file's own form [1..16] and the 0-based [0..15] (Timeloop: PE[0..15]) are both 16
  // instances; [3..18] too. (Read as "N instances", [0..15] gave 15.)
  const NestSpec one = import_with("RegisterFile[1..16]", "RegisterFile[1..16]");
  const NestSpec zero = import_with("RegisterFile[1..16]", "RegisterFile[0..15]");
  const NestSpec three = import_with("RegisterFile[1..16]", "RegisterFile[3..18]");
  const int rf = int(one.architecture.levels.size()) - 1;
  REQUIRE(one.architecture.levels[std::size_t(rf)].name == "RegisterFile");
  CHECK(one.architecture.levels[std::size_t(rf)].instances == 16);
  CHECK(zero.architecture.levels[std::size_t(rf)].instances == 16);
  CHECK(three.architecture.levels[std::size_t(rf)].instances == 16);
  CHECK(import_with("MACC[1..16]", "MACC[0..15]").architecture.compute.instances == 16);
  // A single-instance range [0..0] is one instance.
  CHECK(import_with("MainMemory[1..1]", "MainMemory[0..0]").architecture.levels[0].instances == 1);

  // Bad ranges: the file, the YAML node and line, what was expected and found.
  const std::string expected =
      "expected a name \"Name\" or \"Name[a..N]\" with integers 0 <= a <= N (the inclusive instance range a..N: "
      "N - a + 1 instances), found ";
  auto error_of = [&](const std::string& to) {
    try {
      import_with("RegisterFile[1..16]", to);
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string node = dir + "/in.yaml: /architecture/subtree/0/local/3/name (line 79): ";
  CHECK(error_of("RegisterFile[5..2]") == node + expected + "\"RegisterFile[5..2]\"");
  CHECK(error_of("RegisterFile[1..n]") == node + expected + "\"RegisterFile[1..n]\"");
  CHECK(error_of("RegisterFile[a..16]") == node + expected + "\"RegisterFile[a..16]\"");
  CHECK(error_of("RegisterFile[16]") == node + expected + "\"RegisterFile[16]\"");
  CHECK(error_of("RegisterFile[-1..15]") == node + expected + "\"RegisterFile[-1..15]\"");
}
