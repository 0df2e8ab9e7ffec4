// The mapper (sim/mapper): mapspace reductions, exact search against brute force (gap zero),
// the heuristic's gap on the same spaces, determinism, the cache key, constraints, padding.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <sstream>

#include "core/errors.hpp"
#include "sim/mapper/layer_problems.hpp"
#include "test_util.hpp"
#include "sim/mapper/mapper.hpp"
#include "sim/mapper/mapspace.hpp"

using namespace mixprec::sim::nest;

namespace {

StorageLevel level(const std::string& name, std::int64_t depth, int block_bits, std::int64_t instances,
                   std::int64_t mesh_x, double read_pj, double write_pj) {
  StorageLevel s;
  s.name = name;
  s.depth = depth;
  s.block_bits = block_bits;
  s.instances = instances;
  s.mesh_x = mesh_x;
  s.read_pj = read_pj;
  s.write_pj = write_pj;
  s.update_pj = write_pj;
  return s;
}

// DRAM -> GLB -> (fan-out fx x fy) -> RF -> MAC. Bandwidth-limited DRAM so delay depends on the
// mapping, not only on the MAC count.
Architecture three_level(std::int64_t fx, std::int64_t fy, std::int64_t glb_rows, std::int64_t rf_rows) {
  Architecture a;
  a.name = "test3";
  StorageLevel dram = level("DRAM", 0, 64, 1, 1, 64.0, 64.0);
  dram.read_bandwidth_bits = 16;
  dram.write_bandwidth_bits = 16;
  a.levels.push_back(dram);
  a.levels.push_back(level("GLB", glb_rows, 32, 1, 1, 4.0, 4.5));
  a.levels.push_back(level("RF", rf_rows, 8, fx * fy, fx, 0.3, 0.35));
  a.compute.instances = fx * fy;
  a.compute.mesh_x = fx;
  a.compute.energy_pj = 0.5;
  return a;
}

double objective_value(const Objective& o, const Result& r) { return o.value(0, r); }

bool same_mapping(const Mapping& x, const Mapping& y, int n_dims) {
  if (x.n_levels != y.n_levels) return false;
  for (int l = 0; l < x.n_levels; ++l) {
    const auto& a = x.levels[static_cast<std::size_t>(l)];
    const auto& b = y.levels[static_cast<std::size_t>(l)];
    if (a.keep_mask != b.keep_mask) return false;
    for (int d = 0; d < n_dims; ++d) {
      const auto i = static_cast<std::size_t>(d);
      if (a.temporal[i] != b.temporal[i] || a.spatial_x[i] != b.spatial_x[i] || a.spatial_y[i] != b.spatial_y[i] ||
          a.permutation[i] != b.permutation[i])
        return false;
    }
  }
  return true;
}

struct SmallCase {
  std::string name;
  Problem problem;
  Architecture arch;
  Constraints constraints;
};

std::vector<SmallCase> small_cases() {
  std::vector<SmallCase> cases;
  {
    // GEMM on a 2-wide array; RF keeps everything, GLB's keep is free.
    SmallCase c{"gemm 2x4x3 on 2 PEs", make_gemm(2, 4, 3), three_level(2, 1, 16, 4), {}};
    c.constraints = unconstrained(c.arch);
    c.constraints.levels[2].keep = 0b111;
    cases.push_back(c);
  }
  {
    // Conv1D+OC (exercise 05's shape, smaller): K R P with the sliding window R+P.
    Problem p;
    p.name = "conv1d_oc";
    p.dims = {"K", "R", "P"};
    p.bounds = {2, 3, 4};
    p.dataspaces = {Dataspace{"Weights", {Rank{{{0, -1}}}, Rank{{{1, -1}}}}, false, 8},
                    Dataspace{"Inputs", {Rank{{{1, -1}, {2, -1}}}}, false, 8},
                    Dataspace{"Outputs", {Rank{{{0, -1}}}, Rank{{{2, -1}}}}, true, 8}};
    SmallCase c{"conv1d K2 R3 P4, 1 PE", p, three_level(1, 1, 8, 4), {}};
    c.constraints = unconstrained(c.arch);
    c.constraints.levels[2].keep = 0b111;
    cases.push_back(c);
  }
  {
    // The same conv1d with every keep free at GLB and RF (bypass explored at the innermost level).
    SmallCase c = cases.back();
    c.name = "conv1d K2 R3 P4, 1 PE, free bypass";
    c.constraints = unconstrained(c.arch);
    cases.push_back(c);
  }
  {
    // GEMM on a 2 x 2 array (both mesh axes), GLB keep free, RF keeps A and B only.
    SmallCase c{"gemm 4x2x2 on 2x2 PEs", make_gemm(4, 2, 2), three_level(2, 2, 16, 4), {}};
    c.constraints = unconstrained(c.arch);
    c.constraints.levels[2].keep = 0b011;
    c.constraints.levels[2].bypass = 0b100;
    cases.push_back(c);
  }
  return cases;
}

MapperOptions options_for(const SmallCase& sc, Metric metric) {
  MapperOptions o;
  o.objective.metrics = {metric};
  o.constraints = sc.constraints;
  o.pad = false;
  return o;
}

}  // namespace

TEST_CASE("divisors and fan-outs", "[mapper]") {
  CHECK(divisors(1) == std::vector<std::int64_t>{1});
  CHECK(divisors(12) == std::vector<std::int64_t>{1, 2, 3, 4, 6, 12});
  CHECK(divisors(49) == std::vector<std::int64_t>{1, 7, 49});
  const Architecture a = three_level(4, 2, 16, 4);
  CHECK(fanout(a, 0).total() == 1);
  CHECK(fanout(a, 1).x == 4);
  CHECK(fanout(a, 1).y == 2);
  CHECK(fanout(a, 2).total() == 1);
}

TEST_CASE("canonical loop orders: unit loops dropped, equivalent adjacent swaps merged", "[mapper]") {
  const Architecture a = three_level(1, 1, 16, 4);
  const LevelConstraints none;
  // GEMM: M {A,Z}, N {B,Z}, K {A,B}: no two dims alike, so all 3! orders differ.
  const Problem g = make_gemm(4, 4, 4);
  CHECK(canonical_orders(g, a, 0, none, {0, 1, 2}).size() == 6);
  CHECK(canonical_orders(g, a, 1, none, {0, 2}).size() == 2);
  // The innermost storage level has one order.
  CHECK(canonical_orders(g, a, 2, none, {0, 1, 2}).size() == 1);
  // Conv: C and K differ, P/Q/R/S are sliding-window dims (never merged); N and... none alike,
  // so a problem with two alike dims is built by hand: X and Y both index only tensor T0.
  Problem p;
  p.dims = {"X", "Y", "Z"};
  p.bounds = {2, 2, 2};
  p.dataspaces = {Dataspace{"T0", {Rank{{{0, -1}}}, Rank{{{1, -1}}}}, false, 8},
                  Dataspace{"T1", {Rank{{{2, -1}}}}, true, 8}};
  const auto orders = canonical_orders(p, a, 0, none, {0, 1, 2});
  // X,Y adjacent in either order are one class: XYZ~YXZ, ZXY~ZYX, XZY and YZX stay: 4 classes.
  CHECK(orders.size() == 4);
  CHECK(all_orders(none, {0, 1, 2}).size() == 6);
  // A permutation constraint fixes the listed dims innermost.
  LevelConstraints c;
  c.permutation_inner = {2};
  for (const auto& o : canonical_orders(g, a, 0, c, {0, 1, 2})) CHECK(o.front() == 2);
  CHECK(canonical_orders(g, a, 0, c, {0, 1, 2}).size() == 2);
}

TEST_CASE("exact search equals brute force on small layers (gap zero)", "[mapper]") {
  for (const SmallCase& sc : small_cases()) {
    for (Metric metric : {Metric::energy, Metric::delay, Metric::edp}) {
      const MapperOptions o = options_for(sc, metric);
      const MapResult brute = brute_force(sc.problem, sc.arch, o);
      const MapResult exact = map_layer(sc.problem, sc.arch, o);
      INFO(sc.name << ", objective " << to_string(metric) << ": brute force " << brute.valid << " valid of "
                   << brute.complete << ", exact search " << exact.complete << " complete mappings, "
                   << exact.evaluations << " evaluations (" << exact.pruned << " subtrees pruned)");
      REQUIRE(brute.found);
      REQUIRE(exact.found);
      CHECK(exact.kind == SearchKind::exhaustive);
      CHECK(objective_value(o.objective, exact.result) == Approx(objective_value(o.objective, brute.result)).epsilon(1e-12));
      // The reductions are real: fewer complete mappings evaluated than the brute force.
      CHECK(exact.complete < brute.complete);
      // The mapping the search returns evaluates to what it reports.
      const Result again = evaluate(exact.problem, sc.arch, exact.mapping);
      REQUIRE(again.status.ok());
      CHECK(again.energy_pj == exact.result.energy_pj);
      CHECK(again.cycles == exact.result.cycles);
    }
  }
}

TEST_CASE("heuristic search: its gap to the brute-force optimum on small layers", "[mapper]") {
  for (const SmallCase& sc : small_cases()) {
    for (Metric metric : {Metric::energy, Metric::delay, Metric::edp}) {
      MapperOptions o = options_for(sc, metric);
      const MapResult brute = brute_force(sc.problem, sc.arch, o);
      o.exhaustive_limit = 0;  // force the heuristic
      const MapResult h = map_layer(sc.problem, sc.arch, o);
      REQUIRE(h.found);
      CHECK(h.kind == SearchKind::heuristic);
      const double best = objective_value(o.objective, brute.result);
      const double got = objective_value(o.objective, h.result);
      const double gap = got / best - 1;
      WARN(sc.name << ", " << to_string(metric) << ": heuristic " << got << " vs optimum " << best << " (gap "
                   << 100 * gap << "%, " << h.evaluations << " evaluations vs " << brute.evaluations << ")");
      CHECK(gap >= -1e-12);  // never better than the optimum
      CHECK(gap <= 0.25);
    }
  }
}

TEST_CASE("the mapper is deterministic", "[mapper]") {
  const Architecture a = three_level(4, 2, 64, 8);
  const Problem p = make_gemm(12, 16, 18, 8, 4, 16);
  for (double limit : {2e6, 0.0}) {
    MapperOptions o;
    o.exhaustive_limit = limit;
    o.objective.metrics = {Metric::edp};
    const MapResult r1 = map_layer(p, a, o);
    const MapResult r2 = map_layer(p, a, o);
    REQUIRE(r1.found);
    CHECK(same_mapping(r1.mapping, r2.mapping, 3));
    CHECK(r1.result.energy_pj == r2.result.energy_pj);
    CHECK(r1.evaluations == r2.evaluations);
  }
}

TEST_CASE("objective: lexicographic metrics", "[mapper]") {
  Result fast, cheap;
  fast.cycles = 10;
  fast.energy_pj = 200;
  cheap.cycles = 20;
  cheap.energy_pj = 100;
  Objective delay_first{{Metric::delay, Metric::energy}};
  Objective energy_first{{Metric::energy}};
  Objective edp{{Metric::edp}};
  CHECK(delay_first.better(fast, cheap));
  CHECK(energy_first.better(cheap, fast));
  CHECK_FALSE(edp.better(cheap, fast));  // equal EDP (2000): neither is better
  CHECK_FALSE(edp.better(fast, cheap));
  CHECK(parse_metric("latency") == Metric::delay);
  CHECK_THROWS_AS(parse_metric("power"), mixprec::UsageError);
}

TEST_CASE("mapper cache: keyed by shape, bits per tensor and hierarchy", "[mapper]") {
  // An RF of 4 rows x 8 bits: at 8-bit weights a 4-value tile fits, at 16 bits only 2 values.
  const Architecture a = three_level(2, 2, 64, 4);
  MapperOptions o;
  MapperCache cache;
  const Problem w8 = make_gemm(8, 8, 8, 8, 8, 8);
  const Problem w16 = make_gemm(8, 8, 8, 8, 16, 8);
  CHECK(MapperCache::key(w8, a, o) != MapperCache::key(w16, a, o));
  const MapResult& r8 = cache.map(w8, a, o);
  const MapResult& r16 = cache.map(w16, a, o);
  CHECK(cache.misses() == 2);
  const MapResult& again = cache.map(w8, a, o);
  CHECK(cache.hits() == 1);
  CHECK(&again == &r8);
  REQUIRE(r8.found);
  REQUIRE(r16.found);
  // Fewer bits never cost more: the 16-bit mapping is a candidate at 8 bits too (it fits).
  CHECK(r8.result.energy_pj <= r16.result.energy_pj);
  Architecture bigger = a;
  bigger.levels[2].depth = 8;
  CHECK(MapperCache::key(w8, a, o) != MapperCache::key(w8, bigger, o));
}

TEST_CASE("fewer bits change what fits: the register-file tile grows", "[mapper]") {
  const Architecture a = three_level(1, 1, 64, 4);  // RF: 4 rows of 8 bits per instance
  MapperOptions o;
  o.pad = false;
  auto rf_bits_and_values = [&](int bits) {
    const Problem p = make_gemm(4, 4, 4, bits, bits, bits);
    const MapResult r = map_layer(p, a, o);
    REQUIRE(r.found);
    REQUIRE(r.kind == SearchKind::exhaustive);
    std::int64_t values = 0;
    for (int d = 0; d < 3; ++d) values += r.result.levels[2].ds[static_cast<std::size_t>(d)].utilized_capacity;
    return values;
  };
  const std::int64_t at8 = rf_bits_and_values(8), at4 = rf_bits_and_values(4), at2 = rf_bits_and_values(2);
  INFO("RF values: 8 bits " << at8 << ", 4 bits " << at4 << ", 2 bits " << at2);
  CHECK(at8 <= 4);
  CHECK(at4 > at8);
  CHECK(at2 > at4);
}

TEST_CASE("constraints from Timeloop YAML", "[mapper]") {
  const Architecture a = three_level(4, 2, 64, 8);
  const Problem p = make_gemm(8, 8, 8);
  const std::string text = R"(
mapspace_constraints:
  version: 0.4
  targets:
  - target: GLB
    type: temporal
    factors: M=2 N<=4 K>=2
    permutation: KM_N
  - target: GLB
    type: spatial
    factors: [K=1]
    permutation: [M, N]
    split: 1
  - target: RF
    type: dataspace
    keep: [A]
    bypass: [Z]
  - target: DRAM
    type: utilization
    min: 0.5
)";
  const Constraints c = parse_timeloop_constraints_text(text, "t.yaml", p, a);
  const LevelConstraints& glb = c.levels[1];
  CHECK(glb.temporal[0].exact == 2);
  CHECK(glb.temporal[1].max == 4);
  CHECK(glb.temporal[2].min == 2);
  CHECK(glb.permutation_inner == std::vector<int>{2, 0});
  CHECK(glb.permutation_outer == std::vector<int>{1});
  CHECK(glb.spatial[2].exact == 1);
  CHECK(glb.spatial_axis[0] == SpatialAxis::x);
  CHECK(glb.spatial_axis[1] == SpatialAxis::y);
  CHECK(c.levels[2].keep == 0b001);
  CHECK(c.levels[2].bypass == 0b100);
  CHECK(c.min_utilization == 0.5);
  // The mapper honours them.
  MapperOptions o;
  o.constraints = c;
  for (double limit : {2e6, 0.0}) {
    o.exhaustive_limit = limit;
    const MapResult r = map_layer(p, a, o);
    REQUIRE(r.found);
    const auto& g = r.mapping.levels[1];
    CHECK(g.temporal[0] == 2);
    CHECK(g.temporal[1] <= 4);
    CHECK(g.temporal[2] >= 2);
    CHECK(g.spatial_x[1] == 1);
    CHECK(g.spatial_y[0] == 1);
    CHECK(g.spatial_x[2] * g.spatial_y[2] == 1);
    CHECK((r.mapping.levels[2].keep_mask & 0b101) == 0b001);
    CHECK(satisfies_factor_constraints(p, a, c, r.mapping));
    std::int64_t spatial = 1;
    for (int d = 0; d < 3; ++d) spatial *= g.spatial_x[static_cast<std::size_t>(d)] * g.spatial_y[static_cast<std::size_t>(d)];
    CHECK(spatial >= 4);  // min utilization 0.5 of 8 PEs
  }
  // Errors name the file and the place.
  auto bad = [&](const std::string& t) { return parse_timeloop_constraints_text(t, "bad.yaml", p, a); };
  CHECK_THROWS_WITH(bad("mapspace_constraints:\n  targets:\n  - {target: GLB, type: temporal, factors: Q=2}\n"),
                    Catch::Contains("bad.yaml") && Catch::Contains("Q"));
  CHECK_THROWS_WITH(bad("mapspace_constraints:\n  targets:\n  - {target: L3, type: temporal, factors: M=2}\n"),
                    Catch::Contains("L3"));
  CHECK_THROWS_WITH(bad("mapspace_constraints:\n  targets:\n  - {target: GLB, type: temporal, no_reuse: [A]}\n"),
                    Catch::Contains("no_reuse"));
  CHECK_THROWS_WITH(bad("mapspace_constraints:\n  targets:\n  - {target: GLB, type: temporal, factors: M=16}\n"),
                    Catch::Contains("at most its bound"));
}

namespace {

// The GLB temporal factor bounds that `factors: <yaml>` gives on a GEMM with M=8, N=6, K=12, as
// "M=2 N<=4 K>=2" (per dimension: =exact, <=max, >=min when set), or the error's message.
std::string glb_factors(const std::string& yaml) {
  const Architecture a = three_level(4, 2, 64, 8);
  const Problem p = make_gemm(8, 6, 12);
  try {
    const Constraints c = parse_timeloop_constraints_text(
        "mapspace_constraints:\n  targets:\n  - target: GLB\n    type: temporal\n    factors: " + yaml + "\n", "f.yaml",
        p, a);
    std::string out;
    for (std::size_t d = 0; d < p.dims.size(); ++d) {
      const FactorBound& b = c.levels[1].temporal[d];
      if (b.exact == 0 && b.max == 0 && b.min == 1) continue;
      out += (out.empty() ? "" : " ") + p.dims[d];
      if (b.exact) out += "=" + std::to_string(b.exact);
      if (b.max) out += "<=" + std::to_string(b.max);
      if (b.min != 1) out += ">=" + std::to_string(b.min);
    }
    return out;
  } catch (const mixprec::SpecError& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("constraint factors: the accepted items and the exact refusals", "[mapper][map_constraints]") {
  const std::string at = "f.yaml: /mapspace_constraints/targets/0/factors: expected ";
  const std::string dims = at + "a dimension of the problem (M N K), found ";
  const std::string items = at + "factors such as 'K=4 C<=8 P>=2', found ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Accepted: NAME (<=|>=|=) DIGITS, any whitespace around the operator, items separated by
      // whitespace, commas or nothing; '#' starts a comment; "=0" is the whole dimension.
      {"\"M=2 N<=4 K>=2\"", "M=2 N<=4 K>=2"},
      {"\"M = 2,N<= 4 ,K >=2\"", "M=2 N<=4 K>=2"},
      {"\"\\tM\\t=\\n2\\vN\\f<=\\r3 \"", "M=2 N<=3"},
      {"\"M=2K>=3N<=1\"", "M=2 N<=1 K>=3"},
      {"\"M=0\"", "M=8"},
      {"\"M=0008\"", "M=8"},
      {"\"K=000000000000012\"", "K=12"},
      {"\"M=2 M<=4 M>=1 M>=2\"", "M=2<=4>=2"},
      {"\"\"", ""},
      {"\" ,, , \"", ""},
      {"\"M=2 # K=3 junk\"", "M=2"},
      {"[M=2, \"N<=4\", \"  K>=3,\"]", "M=2 N<=4 K>=3"},
      // Unknown dimensions, named as the maximal run of letters before the operator (in order,
      // before any text between items is looked at).
      {"\"Q=2\"", dims + "'Q'"},
      {"\"xK=3\"", dims + "'xK'"},
      {"\"m=2\"", dims + "'m'"},
      {"\"junk Q=2\"", dims + "'Q'"},
      {"\"M=2 Q>=2 junk\"", dims + "'Q'"},
      // Values.
      {"\"K=999999999999999\"", at + "a factor of K at most its bound 12, found 999999999999999"},
      {"\"K=1000000000000000\"", at + "a factor of K of at most 15 digits, found 1000000000000000"},
      {"\"K = 99999999999999999999\"", at + "a factor of K of at most 15 digits, found 99999999999999999999"},
      {"\"M=16\"", at + "a factor of M at most its bound 8, found 16"},
      {"\"N<=0\"", at + "a positive maximum factor, found 0"},
      {"\"N>=000\"", at + "a positive minimum factor, found 0"},
      // Anything else between, before or after the items.
      {"\"junk M=2\"", items + "'junk M=2'"},
      {"\"M=2 3\"", items + "'M=2 3'"},
      {"\"K=3x\"", items + "'K=3x'"},
      {"\"N=>3\"", items + "'N=>3'"},
      {"\"K==3\"", items + "'K==3'"},
      {"\"K<3\"", items + "'K<3'"},
      {"\"K=-3\"", items + "'K=-3'"},
      {"\"M =\"", items + "'M ='"},
      {"\"M<=>=3\"", items + "'M<=>=3'"},
      {"\"M2=3\"", items + "'M2=3'"},
      {"\"_M=2\"", items + "'_M=2'"},
      {"\"M=2=3\"", items + "'M=2=3'"},
      {"\"M=2;\"", items + "'M=2;'"},
      {"\"M=2 \\u00e9\"", items + "'M=2 \xc3\xa9'"},
      {"[M=2, x]", items + "'M=2 x '"},
      {"\"M=2 junk # K=3\"", items + "'M=2 junk '"},
  };
  for (const auto& [yaml, expected] : cases) {
    INFO("factors: " << yaml);
    CHECK(glb_factors(yaml) == expected);
  }
}

TEST_CASE("constraint factors: long inputs are read in one pass", "[mapper][map_constraints]") {
  // std::regex recursed once per character of a run of white space here: 100,000 spaces between
  // a name and its operator overflowed an 8 MiB stack.
  const std::string wide(1000000, ' ');
  CHECK(glb_factors("\"M" + wide + "<=" + wide + "2\"") == "M<=2");
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "K>=" + std::to_string(i % 12 + 1) + ",";
  CHECK(glb_factors("\"" + many + "\"") == "K>=4");  // the last item: 99999 % 12 + 1
  const std::string name(1000000, 'x');
  CHECK(glb_factors("\"" + name + "=1\"") ==
        "f.yaml: /mapspace_constraints/targets/0/factors: expected a dimension of the problem (M N K), found '" + name +
            "'");
}

TEST_CASE("imperfect factors: a prime dimension padded to the array", "[mapper]") {
  // 17 output columns on 16 PEs: exact divisors give 1 (17 folds, or K's 3 of 16 PEs); padded
  // to 32: 2 folds of 16.
  Architecture a = three_level(16, 1, 1024, 64);
  a.levels[0].read_bandwidth_bits = a.levels[0].write_bandwidth_bits = 0;  // compute-bound
  const Problem p = make_gemm(1, 17, 3);
  MapperOptions o;
  o.objective.metrics = {Metric::delay, Metric::energy};
  o.pad = false;
  const MapResult exact = map_layer(p, a, o);
  o.pad = true;
  const MapResult padded = map_layer(p, a, o);
  REQUIRE(exact.found);
  REQUIRE(padded.found);
  CHECK(padded.result.cycles < exact.result.cycles);
  CHECK(padded.problem.macs() > p.macs());
  CHECK(padded.space.find("padded 17 -> 32") != std::string::npos);
  // Utilization counts the real MACs only.
  CHECK(padded.utilization == Approx(double(p.macs()) / (double(padded.result.cycles) * 16)));
  CHECK(padded.utilization < 1.0);
}

TEST_CASE("layer loop nests of the default network (conv, linear, LSTM)", "[mapper]") {
  const mixprec::Scenario sc = mixprec::test::default_scenario_with("{}");
  bool saw_conv = false, saw_lstm = false, saw_linear = false;
  for (std::size_t i = 0; i < sc.net.layers.size(); ++i) {
    const mixprec::Layer& l = sc.net.layers[i];
    mixprec::LayerPrecision p = sc.layer_precision[i];
    p.weight_bits = p.recurrent_weight_bits = 3;
    p.activation_bits = p.output_bits = 6;
    const auto nests = layer_nests(sc.net, static_cast<int>(i), p, &sc.hardware);
    if (l.kind == mixprec::LayerKind::Conv2d) {
      REQUIRE(nests.size() == 1);
      const Problem& q = nests[0].problem;
      CHECK(q.dims == std::vector<std::string>{"N", "K", "C", "P", "Q", "R", "S"});
      CHECK(q.bounds[1] == l.out_channels);
      CHECK(q.bounds[3] == l.out.h);
      CHECK(q.bounds[5] == l.kernel_h);
      CHECK(q.coefficients[0].value == l.stride);
      CHECK(q.dataspaces[0].bits == 3);  // weights
      CHECK(q.dataspaces[1].bits == 6);  // inputs
      // MACs of the nest = the layer's MACs.
      CHECK(q.macs() == std::int64_t(l.out.n) * l.out.h * l.out.w * l.out_channels * (l.in.c / l.groups) *
                            l.kernel_h * l.kernel_w);
      saw_conv = true;
    } else if (l.kind == mixprec::LayerKind::Lstm) {
      REQUIRE(nests.size() == 2);
      CHECK(nests[0].pass == "input_proj");
      CHECK(nests[1].pass == "recurrent");
      CHECK(nests[1].repeats == std::int64_t(l.in.t) * (l.bidirectional ? 2 : 1));
      CHECK(nests[1].problem.bounds[1] == 4 * l.hidden);  // N: the four gates
      CHECK(nests[1].problem.dataspaces[1].bits == 3);    // recurrent weights (B)
      saw_lstm = true;
    } else if (l.kind == mixprec::LayerKind::Linear) {
      REQUIRE(nests.size() == 1);
      CHECK(nests[0].problem.dims == std::vector<std::string>{"M", "N", "K"});
      CHECK(nests[0].problem.bounds[1] == l.out_features);
      saw_linear = true;
    } else {
      CHECK(nests.empty());
    }
  }
  CHECK(saw_conv);
  CHECK(saw_lstm);
  CHECK(saw_linear);
}

namespace {

// A random mapping of p on a: each prime factor of each bound in a random slot (any level's
// temporal slot, or a fan-out's X or Y), random loop orders, random keeps below the outermost.
// Often invalid (capacity, fan-out): the caller skips those.
Mapping random_mapping(const Problem& p, const Architecture& a, std::mt19937& rng) {
  Mapping m = trivial_mapping(p, a);
  const int L = static_cast<int>(a.levels.size()), D = static_cast<int>(p.dims.size());
  for (int l = 0; l < L; ++l) m.levels[static_cast<std::size_t>(l)].temporal.fill(1);
  std::vector<std::array<int, 2>> slots;  // (level, kind: 0 temporal, 1 X, 2 Y)
  for (int l = 0; l < L; ++l) {
    slots.push_back({l, 0});
    if (fanout(a, l).x > 1) slots.push_back({l, 1});
    if (fanout(a, l).y > 1) slots.push_back({l, 2});
  }
  for (int d = 0; d < D; ++d) {
    std::int64_t n = p.bounds[static_cast<std::size_t>(d)];
    for (std::int64_t q = 2; n > 1; ++q)
      while (n % q == 0) {
        n /= q;
        const auto& s = slots[rng() % slots.size()];
        auto& x = m.levels[static_cast<std::size_t>(s[0])];
        (s[1] == 0 ? x.temporal : s[1] == 1 ? x.spatial_x : x.spatial_y)[static_cast<std::size_t>(d)] *= q;
      }
  }
  const std::uint32_t all = (1u << p.dataspaces.size()) - 1;
  for (int l = 0; l < L; ++l) {
    auto& x = m.levels[static_cast<std::size_t>(l)];
    std::shuffle(x.permutation.begin(), x.permutation.begin() + D, rng);
    if (l > 0) x.keep_mask = a.levels[static_cast<std::size_t>(l)].keep_mask & all & static_cast<std::uint32_t>(rng());
  }
  return m;
}

}  // namespace

TEST_CASE("heuristic seed bound: never above the objective of a mapping with those spatial factors and keeps",
          "[mapper]") {
  // The bound skips seeds; an inadmissible bound would change the chosen mapping. Random mappings
  // (any temporal factors, orders, spatial factors, keeps) of small layers, including a strided
  // 1x1 convolution (its windows leave gaps: the footprint formula over-counts what it touches)
  // and a chain of single-tensor buffers with bandwidth limits and 32-bit partial sums.
  std::vector<std::pair<Problem, Architecture>> cases;
  for (const SmallCase& c : small_cases()) cases.emplace_back(c.problem, c.arch);
  ConvShape strided;
  strided.k = 4;
  strided.c = 2;
  strided.p = strided.q = 4;
  strided.h_stride = strided.w_stride = 2;
  cases.emplace_back(make_conv(strided), three_level(4, 2, 64, 8));
  ConvShape window;
  window.n = 2;
  window.k = 4;
  window.c = 2;
  window.p = window.q = 6;
  window.r = window.s = 3;
  cases.emplace_back(make_conv(window), three_level(2, 4, 128, 16));
  {
    Architecture a;
    StorageLevel dram = level("DRAM", 0, 64, 1, 1, 20.0, 20.0);
    dram.shared_bandwidth_bits = 32;
    a.levels.push_back(dram);
    for (int t = 0; t < 3; ++t) {
      StorageLevel b = level(t == 0 ? "W" : t == 1 ? "I" : "O", 64, 64, 1, 1, 2.0 + t, 2.5 + t);
      b.keep_mask = t == 0 ? 0b010u : t == 1 ? 0b001u : 0b100u;  // GEMM dataspaces: A B Z
      b.shared_bandwidth_bits = 64;
      b.banks = 2;
      if (t == 2) b.word_bits = 32;
      a.levels.push_back(b);
    }
    a.levels.push_back(level("PE", 4, 16, 16, 4, 0.2, 0.25));
    a.levels.back().keep_mask = 0b011u;
    a.compute.instances = 16;
    a.compute.mesh_x = 4;
    a.compute.energy_pj = 0.4;
    cases.emplace_back(make_gemm(8, 12, 6), a);
  }
  std::mt19937 rng(15);
  int valid = 0, bounded = 0;
  for (const auto& [p, a] : cases) {
    for (int trial = 0; trial < 3000; ++trial) {
      const Mapping m = random_mapping(p, a, rng);
      const Result r = evaluate(p, a, m);
      if (!r.status.ok()) continue;
      ++valid;
      for (Metric metric : {Metric::energy, Metric::delay, Metric::edp}) {
        MapperOptions o;
        o.objective.metrics = {metric};
        const double b = seed_bound(p, a, o, m);
        if (b > 0) ++bounded;
        if (b > o.objective.value(0, r)) {
          FAIL_CHECK(p.name << " " << to_string(metric) << ": bound " << b << " > " << o.objective.value(0, r));
        }
      }
    }
  }
  CHECK(valid > 1000);
  CHECK(bounded == 3 * valid);
}

