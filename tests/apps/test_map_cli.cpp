// `mixprec map`: the mapper from the command line on a nest spec (exercise 05's, with Timeloop's
// mapping as the spec's mapping), its loop nest, its comparison with the spec's mapping, JSON.
#include <catch2/catch.hpp>

#include <fstream>

#include "sim/nest/nest_json.hpp"
#include "sim/nest/timeloop_import.hpp"
#include "test_util.hpp"

using namespace mixprec;

TEST_CASE("mixprec map: loop nest, stats, the spec's mapping compared, JSON", "[mapper][cli]") {
  const std::string t = test::source_path("tests/validation/timeloop/timeloop/05-mapper-conv1d+oc-3level/");
  sim::nest::TimeloopFiles f;
  f.arch = {t + "arch/3level.arch.yaml"};
  f.problem = t + "prob/conv1d+oc.prob.yaml";
  f.mapping = t + "ref-output/null/timeloop-mapper.map.yaml";
  f.ert = t + "ref-output/null/timeloop-mapper.ERT.yaml";
  const std::string dir = test::temp_dir("map_cli");
  const std::string spec = dir + "/05.json";
  std::ofstream(spec) << sim::nest::to_json(sim::nest::import_timeloop(f)).dump(2);

  auto r = test::run_cli("map " + spec + " --objective delay energy --json " + dir + "/out.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("<< Compute >>") != std::string::npos);
  CHECK(r.out.find("Objective: delay, energy") != std::string::npos);
  CHECK(r.out.find("Search: exact") != std::string::npos);
  CHECK(r.out.find("Cycles: 1536") != std::string::npos);
  CHECK(r.out.find("the mapper's is at least as good on delay, energy") != std::string::npos);
  const nlohmann::json j = test::read_json(dir + "/out.json");
  CHECK(j.at("found") == true);
  CHECK(j.at("objective") == "delay, energy");
  CHECK(j.at("result").at("cycles") == 1536);
  // Energy first: never more energy than Timeloop's mapping (361,759 pJ in nest).
  CHECK(j.at("result").at("energy_pj").get<double>() < 361759.0);

  // A forced heuristic states its space; a bad objective is refused.
  r = test::run_cli("map " + spec + " --objective edp --exhaustive-limit 0");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Search: heuristic") != std::string::npos);
  r = test::run_cli("map " + spec + " --objective power");
  CHECK(r.exit_code != 0);
}
