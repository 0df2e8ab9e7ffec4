// Validation against the Timeloop + Accelergy tutorial reference outputs
// (tests/validation/timeloop/, MIT, Accelergy-Project/timeloop-accelergy-exercises @ 2d55108).
// Every case is imported by mixprec's Timeloop importer (code, not hand translation) and its
// reference figures are parsed from Timeloop's own stats.txt: MACs and cycles exactly, scalar
// reads / fills / updates / temporal reductions, utilized capacity and instances per level and
// data space exactly, energy per level and in total within 1%.
// MIXPREC_VALIDATION_TABLE=FILE appends one Markdown row per case (docs/validation.md).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "sim/nest/timeloop_import.hpp"
#include "test_util.hpp"
#include "validation/stats_text.hpp"

using namespace mixprec;
using namespace mixprec::sim::nest;
namespace stats_text = mixprec::test::stats_text;

namespace {

// Timeloop's stats.txt: per component, per data space, "key : value" lines; the summary's
// "Cycles:", "Computes =" and the fJ/Compute table. Fields are read as numbers on use, strictly
// (stats_text.hpp): a missing or repeated key fails the test naming the key and the file.
struct TimeloopStats {
  explicit TimeloopStats(const std::string& path) : fj_per_compute(path + ", fJ/Compute table") {}
  std::map<std::string, std::map<std::string, stats_text::Fields>> ds;  // comp, ds
  std::map<std::string, double> leakage_pj;                             // comp
  stats_text::Fields fj_per_compute;                                    // comp and "Total"
  double cycles = 0, computes = 0;
  std::vector<std::string> order;  // storage components, innermost first
};

TimeloopStats parse_stats(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<std::string> lines = stats_text::split_lines(text.str());
  TimeloopStats st(path);
  std::string comp, dsname;
  bool in_fj = false, in_stats = false;
  for (const std::string& line : lines) {
    if (const auto header = stats_text::section_header(line)) {
      comp = *header;
      dsname.clear();
      in_stats = false;
      continue;
    }
    if (line == "Summary Stats") comp.clear();
    if (line == "fJ/Compute") {
      in_fj = true;
      continue;
    }
    if (in_fj) {
      if (const auto f = stats_text::field(line, '=')) st.fj_per_compute.add(f->key, f->value);
      continue;
    }
    if (comp.empty()) continue;
    if (line == "    STATS") {
      in_stats = true;
      continue;
    }
    const auto kv = stats_text::field(line, ':');
    if (kv && kv->key == "Leakage energy (total)") {
      st.leakage_pj[comp] =
          stats_text::parse_number(kv->value, path + ": component " + comp + ": key '" + kv->key + "'");
      if (std::find(st.order.begin(), st.order.end(), comp) == st.order.end()) st.order.push_back(comp);
    }
    if (!in_stats) continue;
    if (const auto name = stats_text::dataspace_header(line)) {
      dsname = *name;
      continue;
    }
    if (!dsname.empty() && kv)
      st.ds[comp]
          .try_emplace(dsname, path + ": component " + comp + ", data space " + dsname)
          .first->second.add(kv->key, kv->value);
  }
  const std::vector<std::string> summary = stats_text::section(lines, "Summary Stats", path);
  st.cycles = stats_text::labelled_number(summary, "Cycles", ':', path + ", Summary Stats");
  st.computes = stats_text::labelled_number(summary, "Computes", '=', path + ", Summary Stats");
  return st;
}

struct Case {
  std::string name;
  std::vector<std::string> arch;
  std::string problem, mapping, ert, constraints, stats;
};

std::string V(const std::string& rel) { return test::source_path("tests/validation/timeloop/" + rel); }

double rel_diff(double a, double b) { return b == 0 ? std::abs(a) : std::abs(a - b) / std::abs(b); }

void check_case(const Case& c) {
  TimeloopFiles f;
  for (const std::string& a : c.arch) f.arch.push_back(V(a));
  f.problem = V(c.problem);
  f.mapping = V(c.mapping);
  f.ert = V(c.ert);
  if (!c.constraints.empty()) f.constraints = V(c.constraints);
  const NestSpec spec = import_timeloop(f);
  const Result r = evaluate(spec.problem, spec.architecture, spec.mapping);
  INFO("case " << c.name);
  REQUIRE(r.status.ok());
  const TimeloopStats ref = parse_stats(V(c.stats));
  REQUIRE(ref.computes > 0);
  CHECK(double(r.macs) == ref.computes);
  CHECK(double(r.cycles) == ref.cycles);

  // Counts per storage level and data space.
  int compared = 0;
  double worst_level = 0;
  std::string worst_level_name;
  for (const std::string& comp : ref.order) {
    const int l = spec.architecture.level_index(comp);
    INFO("level " << comp);
    REQUIRE(l >= 0);
    const LevelStats& ls = r.levels[std::size_t(l)];
    // A level that keeps nothing has no data space blocks in stats.txt.
    const auto blocks = ref.ds.find(comp);
    if (blocks == ref.ds.end())
      for (std::size_t d = 0; d < spec.problem.dataspaces.size(); ++d) CHECK(!ls.ds[d].kept);
    for (const auto& [dsname, kv] : blocks == ref.ds.end() ? decltype(ref.ds)::mapped_type{} : blocks->second) {
      const int d = spec.problem.dataspace_index(dsname);
      INFO("data space " << dsname);
      REQUIRE(d >= 0);
      const DataspaceStats& ds = ls.ds[std::size_t(d)];
      CHECK(double(ds.reads) == kv.number("Scalar reads (per-instance)"));
      CHECK(double(ds.fills) == kv.number("Scalar fills (per-instance)"));
      CHECK(double(ds.updates) == kv.number("Scalar updates (per-instance)"));
      CHECK(double(ds.temporal_reductions) == kv.number("Temporal reductions (per-instance)"));
      CHECK(double(ds.utilized_capacity) == kv.number("Utilized capacity"));
      if (ds.kept) CHECK(double(ds.utilized_instances) == kv.number("Utilized instances (max)"));
      compared += 6;
    }
    // Energy of the level: Timeloop's fJ/Compute x computes (2 decimals in fJ/compute).
    REQUIRE(ref.fj_per_compute.has(comp));
    const double ref_pj = ref.fj_per_compute.number(comp) * ref.computes / 1000.0;
    const double diff = std::abs(ls.energy_pj - ref_pj);
    // Bound: 1%, and at least the rounding of the reference (0.005 fJ per compute).
    CHECK(diff <= std::max(0.01 * ref_pj, 0.005 * ref.computes / 1000.0));
    const double rd = rel_diff(ls.energy_pj, ref_pj);
    if (rd > worst_level) {
      worst_level = rd;
      worst_level_name = comp;
    }
  }
  CHECK(compared > 0);
  const double ref_total = ref.fj_per_compute.number("Total") * ref.computes / 1000.0;
  CHECK(std::abs(r.energy_pj - ref_total) <= std::max(0.01 * ref_total, 0.005 * ref.computes / 1000.0));

  if (const char* table = std::getenv("MIXPREC_VALIDATION_TABLE")) {
    std::ofstream o(table, std::ios::app);
    char row[1024];
    std::snprintf(row, sizeof row,
                  "| %s | `%s` | %.0f / %.0f | %.0f / %.0f | %.2f / %.2f | %+.3f%% | %d | %s %.3f%% |\n",
                  c.name.c_str(), c.stats.c_str(), ref.computes, ref.cycles, double(r.macs), double(r.cycles),
                  ref.fj_per_compute.number("Total"), r.energy_pj * 1000.0 / double(r.macs),
                  100.0 * (r.energy_pj - ref_total) / ref_total, compared, worst_level_name.c_str(),
                  100.0 * worst_level);
    o << row;
  }
}

const std::string T00 = "timeloop/00-model-conv1d-1level/";
const std::string T01 = "timeloop/01-model-conv1d-2level/";
const std::string T02 = "timeloop/02-model-conv1d+oc-2level/";
const std::string T03 = "timeloop/03-model-conv1d+oc-3level/";
const std::string T04 = "timeloop/04-model-conv1d+oc-3levelspatial/";
const std::string T05 = "timeloop/05-mapper-conv1d+oc-3level/";
const std::string T06 = "timeloop/06-mapper-convlayer-eyeriss/";
const std::string EX = "example_designs/";

Case model_case(const std::string& name, const std::string& dir, const std::string& arch, const std::string& prob,
                const std::string& map, const std::string& ref) {
  return Case{name, {dir + "arch/" + arch}, dir + "prob/" + prob, dir + "map/" + map,
              dir + "ref-output/" + ref + "timeloop-model.ERT.yaml", "", dir + "ref-output/" + ref + "timeloop-model.stats.txt"};
}
// 04: the exact input Timeloop consumed (parsed-processed-input.yaml) puts the 16-way fan-out
// above the GlobalBuffer (GlobalBuffer[1..16]), unlike arch/3levelspatial.arch.yaml.
Case spatial_case(const std::string& name, const std::string& ref) {
  const std::string in = T04 + "ref-output/" + ref + "/parsed-processed-input.yaml";
  return Case{name, {in}, in, in, T04 + "ref-output/" + ref + "/timeloop-model.ERT.yaml", "",
              T04 + "ref-output/" + ref + "/timeloop-model.stats.txt"};
}
Case mapper05_case(const std::string& ref, const std::string& constraints) {
  const std::string out = T05 + "ref-output/" + ref + "/";
  return Case{"05 " + ref, {T05 + "arch/3level.arch.yaml"}, T05 + "prob/conv1d+oc.prob.yaml",
              out + "timeloop-mapper.map.yaml", out + "timeloop-mapper.ERT.yaml",
              T05 + "constraints/" + constraints, out + "timeloop-mapper.stats.txt"};
}
Case example_case(const std::string& design) {
  const std::string out = EX + design + "/ref_outputs/default_problem/";
  return Case{design, {EX + design + "/arch.yaml"}, EX + "_include/default_problem.yaml",
              out + "timeloop-mapper.map.yaml", out + "timeloop-mapper.ERT.yaml", "", out + "timeloop-mapper.stats.txt"};
}

}  // namespace

TEST_CASE("timeloop 00 conv1d 1 level", "[validation]") {
  check_case(model_case("00", T00, "1level.arch.yaml", "conv1d.prob.yaml", "conv1d-1level.map.yaml", ""));
}
TEST_CASE("timeloop 01 conv1d 2 levels ws", "[validation]") {
  check_case(model_case("01 ws", T01, "2level.arch.yaml", "conv1d.prob.yaml", "conv1d-2level-ws.map.yaml", "ws/"));
}
TEST_CASE("timeloop 01 conv1d 2 levels os", "[validation]") {
  check_case(model_case("01 os", T01, "2level.arch.yaml", "conv1d.prob.yaml", "conv1d-2level-os.map.yaml", "os/"));
}
TEST_CASE("timeloop 02 conv1d+oc no tiling", "[validation]") {
  check_case(model_case("02 no-tiling", T02, "2level.arch.yaml", "conv1d+oc.prob.yaml", "conv1d+oc-2level-os.map.yaml",
                        "no-tiling/"));
}
TEST_CASE("timeloop 02 conv1d+oc tiling", "[validation]") {
  check_case(model_case("02 tiling", T02, "2level.arch.yaml", "conv1d+oc.prob.yaml",
                        "conv1d+oc-2level-os-tiled.map.yaml", "tiling/"));
}
TEST_CASE("timeloop 03 conv1d+oc 3 levels bypass", "[validation]") {
  check_case(model_case("03 bypass", T03, "3level.arch.yaml", "conv1d+oc.prob.yaml", "conv1d+oc-3level-bypass.map.yaml",
                        "bypass/"));
}
TEST_CASE("timeloop 03 conv1d+oc 3 levels no bypass", "[validation]") {
  check_case(model_case("03 no-bypass", T03, "3level.arch.yaml", "conv1d+oc.prob.yaml", "conv1d+oc-3level.map.yaml",
                        "no-bypass/"));
}
TEST_CASE("timeloop 04 spatial cp", "[validation]") { check_case(spatial_case("04 cp", "cp")); }
TEST_CASE("timeloop 04 spatial kp", "[validation]") { check_case(spatial_case("04 kp", "kp")); }
TEST_CASE("timeloop 05 mapper null", "[validation]") { check_case(mapper05_case("null", "null.constraints.yaml")); }
TEST_CASE("timeloop 05 mapper freebypass", "[validation]") {
  check_case(mapper05_case("freebypass", "conv1d+oc-3level-freebypass.constraints.yaml"));
}
TEST_CASE("timeloop 05 mapper baked", "[validation]") {
  check_case(mapper05_case("baked", "conv1d+oc-3level-1mapping.constraints.yaml"));
}
TEST_CASE("timeloop 06 eyeriss-like VGG layer", "[validation]") {
  check_case(Case{"06 eyeriss", {T06 + "arch/eyeriss_like.yaml"}, T06 + "prob/VGG02_layer5.yaml",
                  T06 + "ref-output/timeloop-mapper.map.yaml", T06 + "ref-output/timeloop-mapper.ERT.yaml", "",
                  T06 + "ref-output/timeloop-mapper.stats.txt"});
}
TEST_CASE("timeloop example simple_weight_stationary", "[validation]") {
  check_case(example_case("simple_weight_stationary"));
}
TEST_CASE("timeloop example simple_output_stationary", "[validation]") {
  check_case(example_case("simple_output_stationary"));
}
