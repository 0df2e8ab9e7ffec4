// The fuzzers' findings in the readers added after the scenario corpus (ONNX import, nest specs,
// Timeloop import, mapper constraints): every entry of tests/bad_inputs/expected.json is rejected
// with exactly its message ("{file}" stands for the input's path). An entry "timeloop/NAME" is a
// folder holding arch.yaml, prob.yaml, map.yaml and optionally ert.yaml and constraints.yaml.
// Each input is also in the fuzz target's corpus (fuzz/corpus/<reader>/regression_*), which the
// CI fuzz smoke replays.
#include <catch2/catch.hpp>

#include <fstream>

#include "core/json_reader.hpp"
#include "core/onnx_import.hpp"
#include "sim/mapper/mapspace.hpp"
#include "sim/nest/nest_json.hpp"
#include "sim/nest/timeloop_import.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

// Reads `path` with the reader of its folder, as the CLI does.
void read_bad_input(const std::string& reader, const std::string& path) {
  using namespace sim::nest;
  if (reader == "onnx") {
    (void)import_onnx_file(path);
  } else if (reader == "nest") {
    const NestSpec s = load_nest_spec(path);
    (void)evaluate(s.problem, s.architecture, s.mapping);
  } else if (reader == "map_constraints") {
    const NestSpec s = load_nest_spec(test::source_path("scenarios/nest/venue_conv_stage2.json"));
    (void)parse_timeloop_constraints(path, s.problem, s.architecture);
  } else if (reader == "timeloop") {
    TimeloopFiles f;
    f.arch.push_back(path + "/arch.yaml");
    f.problem = path + "/prob.yaml";
    f.mapping = path + "/map.yaml";
    if (std::ifstream(path + "/ert.yaml")) f.ert = path + "/ert.yaml";
    if (std::ifstream(path + "/constraints.yaml")) f.constraints = path + "/constraints.yaml";
    (void)import_timeloop(f);
  } else {
    FAIL("tests/bad_inputs: no reader for folder " + reader);
  }
}

}  // namespace

TEST_CASE("bad-input corpus of the ONNX, nest, Timeloop and constraint readers: exact messages", "[bad][fuzz]") {
  const std::string dir = test::source_path("tests/bad_inputs");
  const json exp = JsonDoc::load(dir + "/expected.json").root();
  REQUIRE(exp.size() > 0);
  for (auto it = exp.begin(); it != exp.end(); ++it) {
    const std::string name = it.key();
    const std::string path = dir + "/" + name;
    std::string want = it.value().get<std::string>();
    want.replace(want.find("{file}"), 6, path);
    INFO(name);
    try {
      read_bad_input(name.substr(0, name.find('/')), path);
      FAIL("accepted a bad input: " + name);
    } catch (const SpecError& e) {
      CHECK(std::string(e.what()) == want);
    }
  }
}
