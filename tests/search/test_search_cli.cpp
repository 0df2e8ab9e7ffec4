// Problem construction from real tables (groups, ties, rules) and the `search` command.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "core/json_reader.hpp"
#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "search/io.hpp"
#include "search/solver.hpp"
#include "sim/analytical.hpp"
#include "sim/cost_table.hpp"
#include "sim/pricer.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

// A synthetic quantization-noise sensitivity for every (layer, option) of the default network.
std::string write_sensitivity(const Scenario& sc, const std::vector<LayerPrecision>& options) {
  search::SensitivityTable t;
  t.method = "noise_proxy";
  for (const auto& l : sc.net.layers) t.layers.push_back(l.name);
  t.options = options;
  for (const auto& l : sc.net.layers)
    for (const auto& o : options)
      t.values.push_back(double(l.weight_count()) * (std::pow(4.0, -o.weight_bits) + 0.5 * std::pow(4.0, -o.activation_bits)));
  char path[] = "/tmp/mixprec_sens_XXXXXX";
  close(mkstemp(path));
  std::ofstream(path) << search::sensitivity_to_json(t, sc.net.name).dump();
  return path;
}

struct Fixture {
  Scenario sc = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  // The table's mechanics on the fast engine (the mapping engine's table: test_pricer.cpp).
  sim::Pricer eng{sc, CostEngine::Analytical};
  std::vector<LayerPrecision> options = sim::candidate_options(sc.search, LayerPrecision{});
  sim::CostTable table = sim::build_cost_table(eng, sc.net, options, Phase::Inference);
};

}  // namespace

TEST_CASE("cost table: one entry per (layer, option), consistent with direct pricing", "[search][table]") {
  Fixture f;
  REQUIRE(f.options.size() == 24);
  REQUIRE(f.table.entries.size() == 24 * f.sc.net.layers.size());
  const int l = f.sc.net.find("cnn.stage3.block0.conv1");
  const sim::LayerCost lc = f.eng.layer_cost(f.sc.net, l, f.options[5], Phase::Inference);
  CHECK(f.table.at(l, 5).cycles == lc.cycles);
  // Static power x the layer's time, added once (5 mW at 400 MHz: 12.5 pJ per cycle).
  CHECK(f.sc.hardware.energy.static_power_mw == 5);
  CHECK(f.sc.hardware.clock_mhz == 400);
  CHECK(f.table.at(l, 5).energy_pj == Approx(lc.energy_total_pj() + 12.5 * lc.cycles));
  CHECK(f.table.at(l, 5).weight_bytes == f.sc.net.layers[l].weight_count() * f.options[5].weight_bits / 8.0);
  // A design point sums its rows.
  std::vector<int> choice(f.sc.net.layers.size(), 3);
  sim::DesignPoint d = sim::evaluate(f.table, choice.data());
  double e = 0;
  for (std::size_t i = 0; i < f.sc.net.layers.size(); ++i) e += f.table.at(i, 3).energy_pj;
  CHECK(d.energy_uj == Approx(e * 1e-6));
}

TEST_CASE("problem groups: weight-less layers follow their producer, ties, fixed layers and bit rules", "[search][problem]") {
  Fixture f;
  search::SensitivityTable sens;
  sens.layers = f.table.layers;
  sens.options = f.options;
  sens.values.assign(f.table.entries.size(), 1.0);
  search::Rules rules;
  const int stem = f.sc.net.find("cnn.stem"), c1 = f.sc.net.find("cnn.stage2.block0.conv2"),
            ds = f.sc.net.find("cnn.stage2.block0.downsample"), add = f.sc.net.find("cnn.stage2.block0.add"),
            l0 = f.sc.net.find("lstm.l0");
  rules.fixed_layers = {stem};
  rules.ties = {{c1, ds}};
  rules.bit_limits.push_back({l0, 8, 16, 1, 32});
  std::vector<int> dflt(f.sc.net.layers.size(), 18);  // option 4*4+2 = w8a8 (weights {2,3,4,6,8,16} x acts {4,6,8,16})
  REQUIRE(f.options[18].weight_bits == 8);
  REQUIRE(f.options[18].activation_bits == 8);
  search::Problem p = search::make_problem(f.table, sens, f.sc.net, rules, dflt);
  auto group_of = [&](int layer) {
    for (std::size_t g = 0; g < p.groups.size(); ++g)
      for (int m : p.groups[g].layers)
        if (m == layer) return int(g);
    return -1;
  };
  CHECK(group_of(c1) == group_of(ds));
  CHECK(group_of(add) == group_of(c1));  // the add follows its first producer (conv2)
  REQUIRE(p.groups[group_of(stem)].items.size() == 1);
  CHECK(p.groups[group_of(stem)].items[0].option == 18);
  for (const auto& it : p.groups[group_of(l0)].items) CHECK(f.options[it.option].weight_bits >= 8);
  CHECK(p.groups[group_of(l0)].items.size() == 8);  // weights {8, 16} x 4 activations
  // a group's item costs are the sums of its members' table entries
  const auto& g = p.groups[group_of(c1)];
  double e = 0;
  for (int m : g.layers) e += f.table.at(m, g.items[0].option).energy_pj;
  CHECK(g.items[0].cost[search::kEnergy] == Approx(e));
}

TEST_CASE("mixprec search writes the chosen precision, the front and a JSON report", "[search][cli]") {
  Fixture f;
  const std::string sens = write_sensitivity(f.sc, f.options);
  char dir[] = "/tmp/mixprec_search_XXXXXX";
  REQUIRE(mkdtemp(dir));
  auto r = test::run_cli("search " + test::source_path("scenarios/venue_cnn_lstm.json") + " --budget 0.6 --format json --sensitivity " +
                         sens + " --out " + dir);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["sensitivity_method"] == "noise_proxy");
  CHECK(j["chosen"]["feasible"] == true);
  CHECK(j["chosen"]["energy_uj"].get<double>() <= j["budget"]["energy_uj"].get<double>() * (1 + 1e-9));
  CHECK(j["budget"]["energy_uj"].get<double>() == Approx(0.6 * j["budget"]["baseline_energy_uj"].get<double>()));
  CHECK(j["chosen"]["layers"].size() == f.sc.net.layers.size());
  for (const char* k : {"energy_uj", "latency_ms", "size_bytes", "sensitivity"}) CHECK(j["chosen"].contains(k));
  // the exact solver is never beaten by a baseline that meets the same budget
  for (auto it = j["solvers"].begin(); it != j["solvers"].end(); ++it)
    if (it.value()["feasible"].get<bool>())
      CHECK(it.value()["sensitivity"].get<double>() >= j["solvers"]["exact"]["sensitivity"].get<double>() - 1e-9);
  REQUIRE(j["pareto"].size() >= 2);
  // the chosen precision file validates against the scenario and reproduces the chosen energy
  auto sim = test::run_cli("simulate " + test::source_path("scenarios/venue_cnn_lstm.json") + " --format json --precision " +
                           std::string(dir) + "/precision.json");
  REQUIRE(sim.exit_code == 0);
  CHECK(json::parse(sim.out)["total"]["energy_uj"].get<double>() == Approx(j["chosen"]["energy_uj"].get<double>()));
  std::ifstream csv(std::string(dir) + "/pareto.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header == "energy_uj,latency_ms,size_bytes,sensitivity,saving_percent");
  std::remove(sens.c_str());
}

TEST_CASE("search refuses to run without sensitivities and rejects an incomplete table", "[search][cli]") {
  const std::string scen = test::source_path("scenarios/venue_cnn_lstm.json");
  auto r = test::run_cli("search " + scen);
  CHECK(r.exit_code == 2);
  char path[] = "/tmp/mixprec_sens_XXXXXX";
  close(mkstemp(path));
  std::ofstream(path) << R"({"mixprec_sensitivity": 1, "method": "x", "entries": [{"layer": "head", "weights": 4, "activations": 4, "value": 1}]})";
  auto bad = test::run_cli("search " + scen + " --sensitivity " + path);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == std::string("error: ") + path + ": /entries: expected an entry for layer \"cnn.stem\" at int w2a4, found none\n");
  std::remove(path);
}
