// `mixprec predictor`: rank statistics against hand-computed values, the bootstrap's determinism,
// regret and domination on constructed results, the configuration set, bad options, and a tiny
// end-to-end run that resumes to the same numbers.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/scenario.hpp"
#include "pipeline/claim_report.hpp"
#include "pipeline/predictor.hpp"
#include "pipeline/reproduce.hpp"
#include "pipeline/search_run.hpp"
#include "pipeline/stats.hpp"
#include "search/solver.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::pipeline;
using nlohmann::json;

TEST_CASE("predictor: Kendall tau-b and Spearman rho against hand-computed values", "[pipeline][predictor]") {
  // No ties: x = 1..5, y = 3 1 2 5 4. Of the 10 pairs, (1,2) (1,3) (4,5) are discordant, the other
  // 7 concordant: tau = (7 - 3) / 10. Rank differences -2 1 1 -1 1, sum of squares 8:
  // rho = 1 - 6 * 8 / (5 * 24) = 0.6.
  CHECK(stats::kendall_tau_b({1, 2, 3, 4, 5}, {3, 1, 2, 5, 4}) == Approx(0.4).margin(1e-12));
  CHECK(stats::spearman_rho({1, 2, 3, 4, 5}, {3, 1, 2, 5, 4}) == Approx(0.6).margin(1e-12));
  // Ties: x = 1 2 2 3, y = 1 3 2 2. 6 pairs: 3 concordant, 1 discordant ((2,4)), one tied in x
  // ((2,3)), one tied in y ((3,4)): tau-b = (3 - 1) / sqrt((6 - 1)(6 - 1)) = 0.4.
  // Average ranks 1 2.5 2.5 4 and 1 4 2.5 2.5, centred -1.5 0 0 1.5 and -1.5 1.5 0 0:
  // rho = 2.25 / sqrt(4.5 * 4.5) = 0.5.
  CHECK(stats::kendall_tau_b({1, 2, 2, 3}, {1, 3, 2, 2}) == Approx(0.4).margin(1e-12));
  CHECK(stats::spearman_rho({1, 2, 2, 3}, {1, 3, 2, 2}) == Approx(0.5).margin(1e-12));
  CHECK(stats::average_ranks({10, 20, 20, 30}) == std::vector<double>{1, 2.5, 2.5, 4});
  // A pair tied in both counts in neither term: x = 1 1 2, y = 1 1 3: 2 concordant,
  // tau-b = 2 / sqrt((3 - 1)(3 - 1)) = 1.
  CHECK(stats::kendall_tau_b({1, 1, 2}, {1, 1, 3}) == Approx(1.0).margin(1e-12));
  // Reversed order: -1; a constant variable: undefined.
  CHECK(stats::kendall_tau_b({1, 2, 3}, {3, 2, 1}) == Approx(-1.0).margin(1e-12));
  CHECK(stats::spearman_rho({1, 2, 3}, {3, 2, 1}) == Approx(-1.0).margin(1e-12));
  CHECK(std::isnan(stats::kendall_tau_b({1, 2, 3}, {5, 5, 5})));
  CHECK(std::isnan(stats::spearman_rho({4, 4}, {1, 2})));
}

TEST_CASE("predictor: the bootstrap over configurations is deterministic under a seed", "[pipeline][predictor]") {
  const std::vector<double> pred{0.1, 0.4, 0.2, 0.9, 0.5, 0.3, 0.8, 0.7, 0.6, 1.0, 0.05, 0.45};
  const std::vector<double> loss{0.2, 0.3, 0.25, 0.7, 0.6, 0.1, 0.9, 0.5, 0.65, 0.8, 0.15, 0.4};
  const RankAgreement a = rank_agreement(pred, loss, 500, 7), b = rank_agreement(pred, loss, 500, 7);
  const RankAgreement c = rank_agreement(pred, loss, 500, 8);
  CHECK(a.kendall_tau.estimate == stats::kendall_tau_b(pred, loss));
  CHECK(a.spearman_rho.estimate == stats::spearman_rho(pred, loss));
  CHECK(a.kendall_tau.lo == b.kendall_tau.lo);
  CHECK(a.kendall_tau.hi == b.kendall_tau.hi);
  CHECK(a.spearman_rho.lo == b.spearman_rho.lo);
  CHECK((c.kendall_tau.lo != a.kendall_tau.lo || c.kendall_tau.hi != a.kendall_tau.hi));
  CHECK(a.kendall_tau.lo <= a.kendall_tau.estimate);
  CHECK(a.kendall_tau.estimate <= a.kendall_tau.hi);
  CHECK(a.kendall_tau.lo > 0);  // a clearly positive association
  CHECK(a.kendall_tau.resamples == 500);
  CHECK(a.kendall_tau.n == 12);
}

TEST_CASE("predictor: regret and domination on constructed results", "[pipeline][predictor]") {
  // A cheap uniform configuration better on every seed than the pick: dominated, regret 5.33.
  std::vector<TrainedPoint> pts{{"uniform_w4a4", true, 1.0, {90, 91, 92}},
                                {"pick", false, 1.5, {85, 86, 86}},
                                {"dear", false, 2.0, {99, 99, 99}}};
  Regret r = regret_of(pts, 1, true);
  CHECK(r.best == "uniform_w4a4");
  CHECK(r.regret.estimate == Approx(16.0 / 3));  // (5 + 5 + 6) / 3
  CHECK(r.regret.n == 3);
  Domination d = domination_of(pts, 1, true);
  CHECK(d.status == "dominated");
  CHECK(d.uniform == "uniform_w4a4");
  CHECK(d.advantage.lo > 0);

  // The pick better than the cheaper uniform one on every seed: not dominated, no regret.
  pts[1].metric = {95, 96, 97};
  r = regret_of(pts, 1, true);
  CHECK(r.best == "pick");
  CHECK(r.regret.estimate == 0);
  d = domination_of(pts, 1, true);
  CHECK(d.status == "not dominated");
  CHECK(d.advantage.estimate == -5);

  // As good within the seeds' interval: matched.
  pts[1].metric = {91, 90, 92};
  CHECK(domination_of(pts, 1, true).status == "matched");

  // No uniform configuration at or below the pick's energy: not dominated, nothing compared; the
  // dearer one never counts for regret.
  pts[0].energy_uj = 1.6;
  d = domination_of(pts, 1, true);
  CHECK(d.status == "not dominated");
  CHECK(d.uniform.empty());
  CHECK(regret_of(pts, 1, true).best == "pick");

  // Lower-is-better metrics (RMSE) flip the sign; a uniform pick is not compared with itself.
  std::vector<TrainedPoint> rmse{{"uniform_w2a4", true, 1.0, {2.0, 2.1, 2.2}}, {"pick", true, 1.2, {3.0, 3.2, 3.1}}};
  CHECK(regret_of(rmse, 1, false).regret.estimate == Approx(1.0));
  CHECK(domination_of(rmse, 1, false).status == "dominated");
  CHECK(domination_of(rmse, 0, false).status == "not dominated");
}

namespace {

// A made-up sensitivity table: falls with the option's bits, differs per layer and per method.
search::SensitivityTable fake_table(const Scenario& sc, const SearchSetup& s, double scale) {
  search::SensitivityTable t;
  t.method = "fake";
  for (const Layer& l : sc.net.layers) t.layers.push_back(l.name);
  t.options = s.options;
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l)
    for (const LayerPrecision& o : s.options)
      t.values.push_back(scale * double(l % 3 + 1) * std::pow(2.0, -o.weights().bits) +
                         double(l % 2 + 1) * std::pow(2.0, -o.activations().bits));
  return t;
}

const char* kTinyPredictorPatch = R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8, "gradients": 8},
                  "layers": [{"match": "lstm.*", "weights": 4, "activations": 8}]},
    "data": {"samples": 96},
    "constraints": {"energy_budget": {"fraction": 0.9}},
    "training": {"batch_size": 16, "micro_batches": 1, "epochs": 1}})";

}  // namespace

TEST_CASE("predictor: the configuration set", "[pipeline][predictor]") {
  const Scenario sc =
      test::default_scenario_with(std::string(R"({"network": )") + test::kTinyNetworkPatch + kTinyPredictorPatch);
  const SearchSetup setup = prepare_search(sc);
  const std::vector<std::pair<std::string, search::SensitivityTable>> tables{
      {"hessian", fake_table(sc, setup, 1.0)}, {"measured", fake_table(sc, setup, 8.0)}};
  const std::vector<double> budgets = default_budgets(true, claim_budget(sc));
  const PredictorPlan plan = predictor_configs(sc, setup, tables, budgets, 40, 11);
  REQUIRE(plan.configs.size() == 40);
  // Distinct, every uniform width of the search space (2 3 4 6 8 16), picks of both methods.
  std::set<std::vector<int>> distinct;
  std::set<std::string> names;
  for (const PredictorConfig& c : plan.configs) {
    distinct.insert(c.option_of_layer);
    names.insert(c.name);
  }
  CHECK(distinct.size() == 40);
  CHECK(names.size() == 40);
  for (const int w : {2, 3, 4, 6, 8, 16}) {
    const std::vector<int> opt = uniform_option_of_layer(sc, setup, w, std::max(w, 4));
    REQUIRE(!opt.empty());
    bool found = false;
    for (const PredictorConfig& c : plan.configs) found = found || (c.kind == "uniform" && c.option_of_layer == opt);
    CHECK(found);
  }
  std::set<std::string> pick_methods;
  for (const PredictorPick& p : plan.picks) pick_methods.insert(p.method + "/" + p.solver);
  CHECK(pick_methods == std::set<std::string>{"hessian/exact", "hessian/greedy", "hessian/evolutionary",
                                              "measured/exact", "measured/greedy", "measured/evolutionary"});
  // Random ones: feasible under the non-energy constraints and spread over the energy range.
  const search::Problem prob = search::make_problem(setup.table, tables[0].second, sc.net, setup.rules, setup.default_option);
  search::Budget open = make_budget(sc, setup, 1.0);
  open.limit[search::kEnergy] = std::numeric_limits<double>::infinity();
  double lo = 1e300, hi = -1e300, rlo = 1e300, rhi = -1e300;
  int random = 0;
  for (const PredictorConfig& c : plan.configs) {
    lo = std::min(lo, c.planned_energy_uj);
    hi = std::max(hi, c.planned_energy_uj);
    if (c.kind != "random") continue;
    ++random;
    rlo = std::min(rlo, c.planned_energy_uj);
    rhi = std::max(rhi, c.planned_energy_uj);
    std::vector<int> items;
    for (const search::Group& g : prob.groups) {
      int item = -1;
      for (std::size_t k = 0; k < g.items.size(); ++k)
        if (g.items[k].option == c.option_of_layer[size_t(g.layers[0])]) item = int(k);
      REQUIRE(item >= 0);
      items.push_back(item);
    }
    CHECK(search::evaluate_choice(prob, items, open).feasible);
  }
  CHECK(random == plan.random_requested);
  CHECK(random >= 10);
  CHECK(rlo <= lo + 0.2 * (hi - lo));
  CHECK(rhi >= hi - 0.2 * (hi - lo));
  // Deterministic for the seed; another seed draws other random configurations.
  const PredictorPlan again = predictor_configs(sc, setup, tables, budgets, 40, 11);
  const PredictorPlan other = predictor_configs(sc, setup, tables, budgets, 40, 12);
  bool same = true, differ = false;
  for (std::size_t i = 0; i < 40; ++i) {
    same = same && again.configs[i].option_of_layer == plan.configs[i].option_of_layer;
    differ = differ || other.configs[i].option_of_layer != plan.configs[i].option_of_layer;
  }
  CHECK(same);
  CHECK(differ);
  // Fewer than the structured configurations: refused.
  CHECK_THROWS_WITH(predictor_configs(sc, setup, tables, budgets, 5, 11),
                    Catch::StartsWith("--configs must be at least "));
}

TEST_CASE("predictor: bad options exit 2 with a message", "[pipeline][predictor]") {
  const std::string dir = test::temp_dir("predictor_bad");
  const std::string file = test::write_default_scenario_with(
      dir + "/tiny.json", std::string(R"({"network": )") + test::kTinyNetworkPatch + kTinyPredictorPatch);
  struct Case {
    std::string args, err;
  };
  const std::vector<Case> cases{
      {"--seeds 0", "error: --seeds must be at least 1, found 0\n"},
      {"--threads 0", "error: --threads must be at least 1, found 0\n"},
      {"--methods hessian,fisher",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"fisher\"\n"},
      {"--methods measured:0",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"measured:0\"\n"},
      {"--methods measured:a3",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"measured:a3\"\n"},
      {"--methods ggn:a0",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"ggn:a0\"\n"},
      {"--methods ggn:a2:64",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"ggn:a2:64\"\n"},
      {"--methods ggn:x3",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"ggn:x3\"\n"},
      {"--methods clado:next",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"clado:next\"\n"},
      {"--methods measured:neighbours",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"measured:neighbours\"\n"},
      {"--methods clado:neighbours:neighbours",
       "error: --methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", the "
       "activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of adjacent layers "
       "only), \"qat\"; found \"clado:neighbours:neighbours\"\n"},
      {"--methods measured,measured", "error: --methods: \"measured\" is given twice\n"},
      {"--budgets 1.5", "error: --budgets fractions must be in (0, 1], found 1.5\n"},
      {"--bootstrap 10", "error: --bootstrap must be at least 100, found 10\n"},
      {"--resume --force", "error: give either --resume or --force, not both\n"},
      {"--budgets 0.9 --configs 9",
       "error: --configs must be at least 12 (6 uniform widths + 2 methods x (1 budgets + greedy + "
       "evolutionary)), found 9\n"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const auto r = test::run_cli("predictor " + file + " --no-progress --out " + dir + "/run " + c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err == c.err);
  }
}

TEST_CASE("predictor: a tiny run end to end, resumed to the same numbers", "[pipeline][predictor]") {
  const std::string dir = test::temp_dir("predictor");
  const std::string file = test::write_default_scenario_with(
      dir + "/tiny.json", std::string(R"({"network": )") + test::kTinyNetworkPatch + kTinyPredictorPatch);
  const std::string run = dir + "/run";
  const std::string args = "predictor " + file + " --seeds 2 --configs 14 --budgets 0.9 --threads 2 --bootstrap 200 --out " + run;
  auto r = test::run_cli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("hessian: Kendall tau (predicted vs test loss, 14 configurations) ") == 0);
  CHECK(r.err.find("job/uniform_w2a4/seed2: QAT") != std::string::npos);
  const json rep = test::read_json(run + "/report.json");
  CHECK(rep["mixprec_predictor_report"] == 1);
  CHECK(rep["seeds"] == json({1, 2}));
  REQUIRE(rep["configs"].size() == 14);
  int uniform = 0, random = 0;
  for (const json& c : rep["configs"]) {
    CHECK(c["energy_uj"].get<double>() > 0);
    CHECK(c["predicted_sensitivity"]["hessian"]["per_seed"].size() == 2);
    CHECK(c["predicted_sensitivity"]["measured"]["per_seed"].size() == 2);
    CHECK(c["metric"]["per_seed"].size() == 2);
    CHECK(c["test_loss"]["per_seed"].size() == 2);
    uniform += c["kind"] == "uniform";
    random += c["kind"] == "random";
    CHECK(c["held_out"] == (c["kind"] == "random"));
  }
  CHECK(uniform == 6);
  CHECK(random == rep["random_requested"].get<int>());
  for (const char* m : {"hessian", "measured"}) {
    const json& mj = rep["methods"][m];
    const json& tau = mj["all"]["test_loss"]["kendall_tau"];
    CHECK(tau["lo"].get<double>() <= tau["estimate"].get<double>());
    CHECK(tau["estimate"].get<double>() <= tau["hi"].get<double>());
    CHECK(mj["all"]["accuracy"]["spearman_rho"]["resamples"] == 200);
    CHECK(mj["per_seed_kendall_tau_test_loss"]["per_seed"].size() == 2);
    bool exact_chosen = false;
    for (const json& p : mj["picks"]) {
      exact_chosen = exact_chosen || (p["solver"] == "exact" && p["chosen_budget"] == true);
      CHECK(p["regret"]["interval"]["estimate"].get<double>() >= 0);
      const std::string st = p["domination"]["status"];
      CHECK((st == "dominated" || st == "matched" || st == "not dominated"));
    }
    CHECK(exact_chosen);
    std::ifstream svg(run + "/scatter_" + std::string(m) + ".svg");
    CHECK(svg.good());
  }
  CHECK(std::ifstream(run + "/energy_accuracy.svg").good());
  std::ifstream md(run + "/report.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  CHECK(text.find("## Rank agreement") != std::string::npos);

  // The directory holds a run: refused without --resume.
  r = test::run_cli(args + " --no-progress");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + run + " already holds a run: --resume continues it, --force starts over, --out picks "
                 "another directory\n");
  // Killed before the last jobs: the state without them resumes to the same numbers.
  json state = pipeline::load_state(run + "/state.json");
  json order = json::array();
  for (const json& n : state["order"]) {
    const std::string s = n.get<std::string>();
    if (s.rfind("job/", 0) == 0 && s.find("/seed2") != std::string::npos)
      state["stages"].erase(s);
    else
      order.push_back(n);
  }
  state["order"] = order;
  pipeline::save_state(run + "/state.json", state);
  r = test::run_cli(args + " --no-progress --resume");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json again = test::read_json(run + "/report.json");
  CHECK(pipeline::compare_reports(rep, again).empty());
  // Other options: refused on resume.
  r = test::run_cli("predictor " + file + " --seeds 3 --configs 14 --budgets 0.9 --no-progress --resume --out " + run);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--resume: " + run + "/state.json was started with other options") != std::string::npos);
}

TEST_CASE("predictor: the qat method's table comes from its probes", "[pipeline][predictor]") {
  // Only lstm.l0 searched: one probe per option it allows, and the unquantized reference.
  const std::string dir = test::temp_dir("predictor_qat");
  std::string patch = std::string(R"({"network": )") + test::kTinyNetworkPatch + kTinyPredictorPatch;
  patch.insert(patch.size() - 1, R"(, "search": {"fixed_layers": ["cnn.*", "frames_to_sequence", "lstm.l1", "head"]})");
  const std::string file = test::write_default_scenario_with(dir + "/tiny.json", patch);
  const std::string run = dir + "/run";
  const auto r = test::run_cli("predictor " + file + " --seeds 1 --configs 9 --budgets 0.9 --threads 2 --methods qat "
                               "--bootstrap 100 --no-progress --out " + run);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json state = pipeline::load_state(run + "/state.json");
  const json rep = test::read_json(run + "/report.json");
  const std::size_t lstm = std::size_t(load_scenario(file).net.find("lstm.l0"));
  const double ref = state["stages"]["qatsens/seed1/reference"]["result"]["val_loss"].get<double>();
  int probes = 0;
  for (auto it = state["stages"].begin(); it != state["stages"].end(); ++it)
    probes += it.key().rfind("qatsens/seed1/lstm.l0_o", 0) == 0;
  CHECK(probes >= 6);  // at least the uniform widths' options
  for (const json& c : rep["configs"]) {
    INFO(c["name"]);
    const int option = c["option_of_layer"][lstm].get<int>();
    const std::string probe = "qatsens/seed1/lstm.l0_o" + std::to_string(option);
    REQUIRE(state["stages"].contains(probe));
    const double want = std::max(0.0, state["stages"][probe]["result"]["val_loss"].get<double>() - ref);
    CHECK(c["predicted_sensitivity"]["qat"]["mean"].get<double>() == Approx(want).margin(1e-15));
  }
}
