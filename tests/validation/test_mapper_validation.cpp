// The mapper against Timeloop's mapper on the tutorial exercises and example designs
// (../shared/validation/timeloop-accelergy-exercises): under the same mapspace constraints (the
// ones Timeloop applied, as it dumped them in parsed-processed-input.yaml) and the same
// objective (the exercise's mapper.yaml), mixprec's mapper finds a mapping at least as good as
// Timeloop's. Both mappings are evaluated with nest's model; the published figure from
// timeloop-mapper.stats.txt is compared too.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/mapper/mapper.hpp"
#include "sim/nest/timeloop_import.hpp"
#include "test_util.hpp"
#include "validation/stats_text.hpp"

using namespace mixprec::sim::nest;

namespace {

std::string V(const std::string& rel) { return mixprec::test::source_path("tests/validation/timeloop/" + rel); }
std::string constraints_of(const std::string& name) {
  return mixprec::test::source_path("tests/validation/mapper/" + name + ".parsed-processed-input.yaml");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct StatsFigures {
  std::int64_t cycles = 0, computes = 0;
  double fj_per_compute = 0;
  double energy_pj() const { return fj_per_compute * static_cast<double>(computes) / 1000.0; }
};

StatsFigures read_stats(const std::string& path) {
  namespace stats_text = mixprec::test::stats_text;
  const std::vector<std::string> summary =
      stats_text::section(stats_text::split_lines(read_text(path)), "Summary Stats", path);
  const std::string where = path + ", Summary Stats";
  StatsFigures f;
  // A missing, repeated or malformed figure throws; the message names the key and the file.
  REQUIRE_NOTHROW(f.cycles = stats_text::labelled_integer(summary, "Cycles", ':', where));
  REQUIRE_NOTHROW(f.computes = stats_text::labelled_integer(summary, "Computes", '=', where));
  REQUIRE_NOTHROW(f.fj_per_compute = stats_text::labelled_number(summary, "Total", '=', where));
  return f;
}

double value(const Objective& o, double energy_pj, double cycles) {
  switch (o.metrics.front()) {
    case Metric::energy: return energy_pj;
    case Metric::delay: return cycles;
    case Metric::edp: return energy_pj * cycles;
  }
  return 0;
}

struct Case {
  std::string name;
  TimeloopFiles files;
  std::string stats;        // Timeloop's timeloop-mapper.stats.txt
  std::string constraints;  // the constraints Timeloop applied (tests/validation/mapper/)
  Objective objective;
};

void check_case(const Case& c) {
  const NestSpec spec = import_timeloop(c.files);
  const Result ref = evaluate(spec.problem, spec.architecture, spec.mapping);
  REQUIRE(ref.status.ok());
  const StatsFigures published = read_stats(c.stats);
  CHECK(ref.cycles == published.cycles);

  MapperOptions o;
  o.objective = c.objective;
  o.constraints = parse_timeloop_constraints(c.constraints, spec.problem, spec.architecture);
  // Timeloop's mapping is in the constrained mapspace.
  CHECK(satisfies_factor_constraints(spec.problem, spec.architecture, o.constraints, spec.mapping));
  const MapResult r = map_layer(spec.problem, spec.architecture, o);
  REQUIRE(r.found);
  REQUIRE(r.problem.macs() == spec.problem.macs());  // not padded (the comparison is like for like)
  CHECK(satisfies_factor_constraints(spec.problem, spec.architecture, o.constraints, r.mapping));

  const double ours = value(c.objective, r.result.energy_pj, static_cast<double>(r.result.cycles));
  const double theirs_nest = value(c.objective, ref.energy_pj, static_cast<double>(ref.cycles));
  const double theirs_stats = value(c.objective, published.energy_pj(), static_cast<double>(published.cycles));
  WARN(c.name << " [" << c.objective.describe() << "]: Timeloop's mapping " << theirs_stats << " (stats file: cycles "
              << published.cycles << ", energy " << published.energy_pj() << " pJ), " << theirs_nest
              << " (nest: cycles " << ref.cycles << ", energy " << ref.energy_pj << " pJ); mixprec's mapper " << ours
              << " (cycles " << r.result.cycles
              << ", energy " << r.result.energy_pj << " pJ; " << r.space << "; " << r.evaluations
              << " evaluations)");
  CHECK_FALSE(c.objective.better(ref, r.result));  // at least as good, lexicographically
  CHECK(ours <= theirs_nest);
  CHECK(ours <= theirs_stats * (1 + 1e-6));
}

Case exercise05(const std::string& constraints) {
  const std::string t = "timeloop/05-mapper-conv1d+oc-3level/";
  const std::string ref = t + "ref-output/" + constraints + "/";
  Case c;
  c.name = "05 conv1d+oc 3-level, " + constraints + " constraints";
  c.files.arch = {V(t + "arch/3level.arch.yaml")};
  c.files.problem = V(t + "prob/conv1d+oc.prob.yaml");
  c.files.mapping = V(ref + "timeloop-mapper.map.yaml");
  c.files.ert = V(ref + "timeloop-mapper.ERT.yaml");
  c.stats = V(ref + "timeloop-mapper.stats.txt");
  c.constraints = constraints_of("05-" + constraints);
  c.objective.metrics = {Metric::delay, Metric::energy};  // mapper/exhaustive.mapper.yaml
  return c;
}

Case exercise06() {
  const std::string t = "timeloop/06-mapper-convlayer-eyeriss/";
  Case c;
  c.name = "06 Eyeriss-like, VGG02 layer 5";
  c.files.arch = {V(t + "arch/eyeriss_like.yaml")};
  c.files.problem = V(t + "prob/VGG02_layer5.yaml");
  c.files.mapping = V(t + "ref-output/timeloop-mapper.map.yaml");
  c.files.ert = V(t + "ref-output/timeloop-mapper.ERT.yaml");
  c.stats = V(t + "ref-output/timeloop-mapper.stats.txt");
  c.constraints = constraints_of("06-eyeriss");
  c.objective.metrics = {Metric::delay, Metric::energy};  // mapper/mapper.yaml
  return c;
}

Case example_design(const std::string& design) {
  const std::string ref = "example_designs/" + design + "/ref_outputs/default_problem/";
  Case c;
  c.name = "example design " + design;
  c.files.arch = {V("example_designs/" + design + "/arch.yaml")};
  c.files.problem = V("example_designs/_include/default_problem.yaml");
  c.files.mapping = V(ref + "timeloop-mapper.map.yaml");
  c.files.ert = V(ref + "timeloop-mapper.ERT.yaml");
  c.stats = V(ref + "timeloop-mapper.stats.txt");
  c.constraints = constraints_of(design);
  c.objective.metrics = {Metric::edp};  // _include/mapper.yaml
  return c;
}

}  // namespace

TEST_CASE("mapper vs Timeloop: exercise 05, no constraints", "[validation][mapper]") {
  check_case(exercise05("null"));
}

TEST_CASE("mapper vs Timeloop: exercise 05, free bypass", "[validation][mapper]") {
  check_case(exercise05("freebypass"));
}

TEST_CASE("mapper vs Timeloop: exercise 06, Eyeriss-like row stationary", "[validation][mapper]") {
  check_case(exercise06());
}

TEST_CASE("mapper vs Timeloop: simple weight-stationary design", "[validation][mapper]") {
  check_case(example_design("simple_weight_stationary"));
}

TEST_CASE("mapper vs Timeloop: simple output-stationary design", "[validation][mapper]") {
  check_case(example_design("simple_output_stationary"));
}
