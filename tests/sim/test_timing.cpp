// The mapping engine's nest timing (scenario cost_model.timing, sim/mapping_engine.hpp nest_cycles):
// the key's parse and refusals (SpecError naming file, pointer, expected and found; exit 2 from the
// CLI), and the engine pricing a layer with the phased timing (its cycles the sum of its nests'
// phased cycles; the energy apart from static energy unchanged). The phased terms by hand are in
// tests/systemc/test_nest_sim.cpp (next to the simulation of the same nests).
#include <catch2/catch.hpp>

#include <fstream>

#include "core/errors.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/mapping_engine.hpp"
#include "sim/pricer.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::sim;

namespace {

// A 4x4 weight-stationary array, single-buffered 64-bit buffers, one linear layer; `cost_model`
// spliced in as given.
std::string one_linear_scenario(const std::string& cost_model) {
  return R"({"mixprec_scenario": 1, "name": "t",
    "hardware": {"name": "tiny", "clock_mhz": 100,
      "pe_array": {"rows": 4, "cols": 4, "dataflow": "weight_stationary",
                   "mac": {"style": "bit_parallel", "native_bits": 8}},
      "buffers": {"weight": {"size_kib": 64, "row_bits": 64, "double_buffered": false},
                  "input": {"size_kib": 64, "row_bits": 64, "double_buffered": false},
                  "output": {"size_kib": 64, "row_bits": 64, "double_buffered": false}},
      "dram": {"kind": "lpddr4", "bandwidth_gbps": 1.6, "latency_ns": 100, "burst_bytes": 64}},
    "network": {"name": "one", "input": {"frames": 4, "features": 32},
                "layers": [{"name": "fc1", "kind": "linear", "out_features": 16}]},
    "precision": {"default": {"weights": 8, "activations": 8}})" +
         (cost_model.empty() ? "" : R"(, "cost_model": )" + cost_model) + "}";
}

}  // namespace

TEST_CASE("timing: cost_model.timing parsed, default phased with the mapping engine, errors name the pointer",
          "[timing][spec]") {
  // Default: phased with the mapping engine, overlap (the analytical engine's own) without; a
  // default is not a stated timing, so engines without the nest timing do not refuse it.
  const Scenario dflt = test::scenario_from_text(one_linear_scenario(""));
  CHECK(dflt.cost_model.timing == Timing::Phased);
  CHECK_FALSE(dflt.cost_model.timing_stated);
  CHECK_FALSE(dflt.cost_model.phased_stated());
  const Scenario ana = test::scenario_from_text(one_linear_scenario(R"({"engine": "analytical"})"));
  CHECK(ana.cost_model.timing == Timing::Overlap);
  CHECK_FALSE(ana.cost_model.phased_stated());
  const Scenario over = test::scenario_from_text(one_linear_scenario(R"({"timing": "overlap"})"));
  CHECK(over.cost_model.timing == Timing::Overlap);
  CHECK(over.cost_model.timing_stated);
  const Scenario ph = test::scenario_from_text(one_linear_scenario(R"({"timing": "phased"})"));
  CHECK(ph.cost_model.timing == Timing::Phased);
  CHECK(ph.cost_model.phased_stated());
  CHECK(CostModelSpec{}.timing == Timing::Phased);
  CHECK(std::string(to_string(Timing::Phased)) == "phased");
  CHECK(std::string(to_string(Timing::Overlap)) == "overlap");
  CHECK(test::spec_error(one_linear_scenario(R"({"timing": "phase"})")) ==
        "inline.json: /cost_model/timing: expected one of \"overlap\", \"phased\" (did you mean \"phased\"?), "
        "found string \"phase\"");
  CHECK(test::spec_error(one_linear_scenario(R"({"timing": 1})")) ==
        "inline.json: /cost_model/timing: expected one of \"overlap\", \"phased\", found number 1");
  CHECK(test::spec_error(one_linear_scenario(R"({"engine": "analytical", "timing": "phased"})")) ==
        "inline.json: /cost_model/timing: expected \"overlap\" with the analytical engine (the phased timing "
        "prices the mapping engine's loop nests: use the mapping engine), found \"phased\"");
  // "overlap" is the analytical engine's only timing and is accepted with it.
  CHECK(test::scenario_from_text(one_linear_scenario(R"({"engine": "analytical", "timing": "overlap"})"))
            .cost_model.engine == CostEngine::Analytical);
}

TEST_CASE("timing: a bad cost_model.timing exits 2 from the CLI naming file and pointer - engines that ignore it refuse",
          "[timing][spec][cli]") {
  const std::string dir = test::temp_dir("timing_cli");
  const std::string bad = test::write_default_scenario_with(dir + "/bad.json", R"({"cost_model": {"timing": "serial"}})");
  auto r = test::run_cli("simulate " + bad);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(bad + ": /cost_model/timing: expected one of \"overlap\", \"phased\", found string \"serial\"") !=
        std::string::npos);
  const std::string phased = test::write_default_scenario_with(dir + "/phased.json", R"({"cost_model": {"timing": "phased"}})");
  for (const std::string opt : {"--engine analytical", "--engine systemc", "--compare"}) {
    INFO(opt);
    r = test::run_cli("simulate " + phased + " " + opt);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("does not use the mapping engine's nest timing (the scenario's cost_model.timing is "
                     "\"phased\")") != std::string::npos);
  }
  // The default phased timing is not stated: the other engines run on a scenario without the key,
  // each with its own timing, and the mapping engine's is the stated phased one's.
  const std::string dflt = test::write_default_scenario_with(dir + "/default.json", "{}");
  for (const std::string opt : {"--engine analytical", "--compare"}) {
    INFO(opt);
    r = test::run_cli("simulate " + dflt + " " + opt);
    CHECK(r.exit_code == 0);
  }
  r = test::run_cli("simulate " + dflt + " --format json");
  REQUIRE(r.exit_code == 0);
  const auto d = nlohmann::json::parse(r.out);
  r = test::run_cli("simulate " + phased + " --format json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["total"]["cycles"] == d["total"]["cycles"]);
  const std::string over = test::write_default_scenario_with(dir + "/over.json", R"({"cost_model": {"timing": "overlap"}})");
  r = test::run_cli("simulate " + over + " --format json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["total"]["cycles"].get<double>() < d["total"]["cycles"].get<double>());
}

TEST_CASE("timing: the analytical pricer refuses the phased timing", "[timing][spec]") {
  Scenario sc = test::scenario_from_text(one_linear_scenario(R"({"timing": "phased"})"));
  try {
    Pricer p(sc, CostEngine::Analytical);
    FAIL("accepted");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) ==
          "inline.json: /cost_model/timing: expected \"overlap\" with the analytical engine (the phased timing "
          "prices the mapping engine's loop nests: use the mapping engine), found \"phased\"");
  }
}

TEST_CASE("timing: the engine's phased layer cycles are the sum of its nests' phased cycles", "[timing][mapping]") {
  const Scenario sc = test::scenario_from_text(one_linear_scenario(R"({"timing": "phased"})"));
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  MappingEngine over(sc.hardware, em, sc.file), ph(sc.hardware, em, sc.file);
  REQUIRE(ph.timing() == Timing::Phased);  // the engine's default
  over.set_timing(Timing::Overlap);
  REQUIRE(over.timing() == Timing::Overlap);
  std::vector<NestMapping> mo, mp;
  const LayerCost a = over.layer_cost(sc.net, 0, sc.layer_precision[0], sc.phase, &mo);
  const LayerCost b = ph.layer_cost(sc.net, 0, sc.layer_precision[0], sc.phase, &mp);
  REQUIRE(mo.size() == 1);
  REQUIRE(mp.size() == 1);
  // The same mapping (the mapper ranks by the nest analysis, whatever the timing).
  CHECK(mo[0].result.mapping.levels[0].temporal == mp[0].result.mapping.levels[0].temporal);
  CHECK(mo[0].result.result.cycles == mp[0].result.result.cycles);
  const NestMapping& n = mp[0];
  AnalyticalEngine side(sc.hardware, em);
  const double lat = side.dram_latency_cycles();
  const double co = nest_cycles(n.result.problem, n.arch, n.result.result, 1, lat, nullptr, Timing::Overlap);
  const double cp = nest_cycles(n.result.problem, n.arch, n.result.result, 1, lat, nullptr, Timing::Phased);
  // One output tile goes back after the last MAC: the phased cycles are strictly more.
  CHECK(cp > co);
  CHECK(b.cycles - a.cycles == Approx((cp - co) * double(n.repeats)));
  for (int c = 0; c < int(Component::kCount); ++c)
    if (c != int(Component::Static)) CHECK(a.energy_pj[std::size_t(c)] == b.energy_pj[std::size_t(c)]);
}
