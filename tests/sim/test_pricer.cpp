// The scenario's cost model (`cost_model`, sim/pricer.hpp): which engine prices simulate, search,
// sweep and reproduce, the mapper objective it passes on, and what is refused when read.
#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "pipeline/search_run.hpp"
#include "sim/analytical.hpp"
#include "sim/mapping_engine.hpp"
#include "sim/pricer.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

std::string tiny_with(const std::string& extra) {
  return std::string(R"({"network": )") + test::kTinyNetworkPatch +
         R"(, "precision": {"layers": [{"match": "cnn.stage2.*", "weights": 4, "activations": 8}]})" +
         extra + "}";
}

std::string error_of(const std::string& patch) {
  try {
    test::default_scenario_with(patch);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("cost_model: mapping by default on asic hardware, analytical on fpga", "[pricer]") {
  const Scenario asic = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  CHECK(asic.cost_model.engine == CostEngine::Mapping);
  CHECK(asic.cost_model.objective == MapperObjective::Energy);
  const Scenario fpga = load_scenario(test::source_path("scenarios/fpga_lstm_traffic.json"));
  CHECK(fpga.cost_model.engine == CostEngine::Analytical);
  CHECK_THROWS_AS(sim::Pricer(fpga), SpecError);
  const Scenario tt = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  CHECK(tt.cost_model.engine == CostEngine::Analytical);
}

TEST_CASE("cost_model: training scenarios read with either engine, bad keys refused",
          "[pricer]") {
  // The mapping engine has loop nests for the training passes: no refusal at reading.
  CHECK(test::default_scenario_with(R"({"phase": "training"})").cost_model.engine == CostEngine::Mapping);
  CHECK(test::default_scenario_with(R"({"phase": "training", "cost_model": {"engine": "mapping"}})")
            .cost_model.engine == CostEngine::Mapping);
  CHECK_NOTHROW(test::default_scenario_with(R"({"phase": "training", "cost_model": {"engine": "analytical"}})"));
  CHECK(error_of(R"({"cost_model": {"engine": "analytical", "objective": "delay"}})") ==
        "patched.json: /cost_model/objective: expected no mapper objective with the analytical engine "
        "(it has no mapper), found \"delay\"");
  CHECK(error_of(R"({"cost_model": {"engine": "timeloop"}})").find("/cost_model/engine: expected one of") !=
        std::string::npos);
}

TEST_CASE("the search's cost table is priced by the scenario's engine", "[pricer]") {
  for (const char* engine : {"mapping", "analytical"}) {
    const Scenario sc = test::default_scenario_with(
        tiny_with(std::string(R"(, "cost_model": {"engine": ")") + engine + "\"}"));
    const pipeline::SearchSetup s = pipeline::prepare_search(sc);
    CHECK(s.engine == engine);
    const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
    sim::MappingEngine mapping(sc.hardware, em, sc.file);
    const sim::AnalyticalEngine analytical(sc.hardware, em);
    std::size_t differ = 0;
    for (std::size_t l = 0; l < sc.net.layers.size(); ++l)
      for (std::size_t o = 0; o < s.options.size(); o += 5) {
        const sim::LayerCost m = mapping.layer_cost(sc.net, int(l), s.options[o], sc.phase);
        const sim::LayerCost a = analytical.layer_cost(sc.net, int(l), s.options[o], sc.phase);
        const sim::LayerCost& want = std::string(engine) == "mapping" ? m : a;
        CHECK(s.table.at(l, o).cycles == want.cycles);
        CHECK(s.table.at(l, o).energy_pj ==
              Approx(want.energy_total_pj() + sim::static_energy_pj(sc.hardware, want.cycles)).epsilon(1e-12));
        differ += m.energy_total_pj() != a.energy_total_pj();
      }
    CHECK(differ > 0);  // the two engines are different models
  }
}

TEST_CASE("cost_model.objective reaches the mapper", "[pricer]") {
  const Scenario e = test::default_scenario_with(tiny_with(R"(, "cost_model": {"objective": "energy"})"));
  const Scenario d = test::default_scenario_with(tiny_with(R"(, "cost_model": {"objective": "delay"})"));
  sim::Pricer pe(e), pd(d);
  REQUIRE(pe.mapping() != nullptr);
  CHECK(pe.mapping()->objective().describe() == "energy, delay");
  CHECK(pd.mapping()->objective().describe() == "delay, energy");
  // The objectives choose different mappings: some layer's cycles or energy differ (the mapper's
  // heuristic part and the first-tile load outside its objective make a per-layer order unsafe).
  int differ = 0;
  for (std::size_t l = 0; l < e.net.layers.size(); ++l) {
    const sim::LayerCost ce = pe.layer_cost(e.net, int(l), e.layer_precision[l], e.phase);
    const sim::LayerCost cd = pd.layer_cost(d.net, int(l), d.layer_precision[l], d.phase);
    differ += ce.cycles != cd.cycles || ce.energy_total_pj() != cd.energy_total_pj();
  }
  CHECK(differ > 0);
}
