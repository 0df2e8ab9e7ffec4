// The mapper against Timeloop's mapper on the tutorial exercises and example designs
// (../shared/validation/timeloop-accelergy-exercises): under the same mapspace constraints (the
// ones Timeloop applied, as it dumped them in parsed-processed-input.yaml) and the same
// objective (the exercise's mapper.yaml), mixprec's mapper finds a mapping at least as good as
// Timeloop's. Both mappings are evaluated with nest's model; the published figure from
// timeloop-mapper.stats.txt is compared too.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "sim/mapper/mapper.hpp"
#include "sim/nest/timeloop_import.hpp"
#include "test_util.hpp"

using namespace mixprec::sim::nest;

namespace {

// ../shared/validation beside the checkout (a worktree sits one level deeper), or
// $MIXPREC_VALIDATION_DIR.
std::string exercises_dir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("MIXPREC_VALIDATION_DIR")) candidates.push_back(env);
  candidates.push_back(std::string(MIXPREC_SOURCE_DIR) + "/../shared/validation");
  candidates.push_back(std::string(MIXPREC_SOURCE_DIR) + "/../../shared/validation");
  for (const std::string& c : candidates)
    if (std::filesystem::exists(c + "/timeloop-accelergy-exercises")) return c + "/timeloop-accelergy-exercises";
  FAIL("timeloop-accelergy-exercises not found (set MIXPREC_VALIDATION_DIR)");
  return "";
}
const std::string kExercises = exercises_dir();

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The ERT's table names ("System_top_level.MainMemory[1..1]") without the instance range: the
// importer (sim/nest/timeloop_import.cpp) takes the text after the last '.', which is inside
// "[1..1]". A copy with the ranges removed until the importer handles them.
std::string ert_without_ranges(const std::string& ert, const std::string& tag) {
  static const std::regex range(R"((name: [A-Za-z0-9_.]+)\[1\.\.[0-9]+\])");
  const std::string fixed = std::regex_replace(read_text(ert), range, "$1");
  const auto path = std::filesystem::temp_directory_path() / ("mixprec_mapper_ert_" + tag + ".yaml");
  std::ofstream(path) << fixed;
  return path.string();
}

struct StatsFigures {
  std::int64_t cycles = 0, computes = 0;
  double fj_per_compute = 0;
  double energy_pj() const { return fj_per_compute * static_cast<double>(computes) / 1000.0; }
};

StatsFigures read_stats(const std::string& path) {
  const std::string s = read_text(path);
  std::smatch m;
  StatsFigures f;
  const std::string summary = s.substr(s.find("Summary Stats"));
  REQUIRE(std::regex_search(summary, m, std::regex(R"(Cycles: ([0-9]+))")));
  f.cycles = std::stoll(m[1]);
  REQUIRE(std::regex_search(summary, m, std::regex(R"(Computes = ([0-9]+))")));
  f.computes = std::stoll(m[1]);
  REQUIRE(std::regex_search(summary, m, std::regex(R"(Total\s+= ([0-9.]+))")));
  f.fj_per_compute = std::stod(m[1]);
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
  std::string ref_dir;  // holds parsed-processed-input.yaml and timeloop-mapper.stats.txt
  Objective objective;
};

void check_case(const Case& c) {
  const NestSpec spec = import_timeloop(c.files);
  const Result ref = evaluate(spec.problem, spec.architecture, spec.mapping);
  REQUIRE(ref.status.ok());
  const StatsFigures published = read_stats(c.ref_dir + "/timeloop-mapper.stats.txt");
  CHECK(ref.cycles == published.cycles);

  MapperOptions o;
  o.objective = c.objective;
  o.constraints = parse_timeloop_constraints(c.ref_dir + "/parsed-processed-input.yaml", spec.problem,
                                             spec.architecture);
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
  const std::string t = kExercises + "/timeloop/05-mapper-conv1d+oc-3level";
  const std::string ref = t + "/ref-output/" + constraints;
  Case c;
  c.name = "05 conv1d+oc 3-level, " + constraints + " constraints";
  c.files.arch = {t + "/arch/3level.arch.yaml"};
  c.files.problem = t + "/prob/conv1d+oc.prob.yaml";
  c.files.mapping = ref + "/timeloop-mapper.map.yaml";
  c.files.ert = ert_without_ranges(ref + "/timeloop-mapper.ERT.yaml", "05" + constraints);
  c.ref_dir = ref;
  c.objective.metrics = {Metric::delay, Metric::energy};  // mapper/exhaustive.mapper.yaml
  return c;
}

Case example_design(const std::string& design) {
  const std::string e = kExercises + "/example_designs";
  const std::string ref = e + "/" + design + "/ref_outputs/default_problem";
  Case c;
  c.name = "example design " + design;
  c.files.arch = {e + "/" + design + "/arch.yaml"};
  c.files.problem = e + "/_include/default_problem.yaml";
  c.files.mapping = ref + "/timeloop-mapper.map.yaml";
  c.files.ert = ert_without_ranges(ref + "/timeloop-mapper.ERT.yaml", design);
  c.ref_dir = ref;
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

TEST_CASE("mapper vs Timeloop: simple weight-stationary design", "[validation][mapper]") {
  check_case(example_design("simple_weight_stationary"));
}

TEST_CASE("mapper vs Timeloop: simple output-stationary design", "[validation][mapper]") {
  check_case(example_design("simple_output_stationary"));
}
