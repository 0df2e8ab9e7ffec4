// The "clado" sensitivity method (CLADO, Deng et al., DAC 2025): pair terms measured on a tiny
// network whose interaction is computed by hand, the pairs it measures, the objective with pair
// terms through the exact solver against brute force, make_problem's mapping of table pairs,
// the table's round trip (and an old table without pairs), a computed-and-cached clado table,
// and the bad options' messages.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/scenario.hpp"
#include "model/graph.hpp"
#include "model/sensitivity.hpp"
#include "model/trainer.hpp"
#include "pipeline/sensitivity_run.hpp"
#include "search/io.hpp"
#include "search/solver.hpp"
#include "sim/cost_table.hpp"
#include "search/random_problem.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

// x (2 features) -> fc1 (2 x 2) -> fc2 (1 x 2), no biases.
Network two_linear_net() {
  Scenario sc = test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "s",
    "hardware": {"clock_mhz": 100, "pe_array": {"rows": 4, "cols": 4, "mac": {"style": "bit_parallel"}},
      "buffers": {"weight": {"size_kib": 8}, "input": {"size_kib": 8}, "output": {"size_kib": 8}},
      "dram": {"bandwidth_gbps": 1}},
    "network": {"name": "two", "input": {"frames": 1, "features": 2},
      "layers": [{"name": "fc1", "kind": "linear", "out_features": 2},
                 {"name": "fc2", "kind": "linear", "out_features": 1}]}})");
  return sc.net;
}

LayerPrecision w2a8() {
  LayerPrecision p = LayerPrecision::uniform(NumFormat::Int, 8);
  p.weight_bits = 2;
  p.activation_bits = 8;
  return p;
}

}  // namespace

TEST_CASE("clado: pair terms of two linear layers whose quantization errors cancel, by hand", "[clado][sensitivity]") {
  // W1 = [[1, a], [b, -1]], W2 = [c, ... ] = [1, c], a = c = 51/127, b = -25/127; inputs e1, e2.
  // At w2 (grid {-1, 0, 1} x max |row|): Q(W1) = [[1, 0], [0, -1]], Q(W2) = [1, 0]. Every layer
  // input lies on its 8-bit activation grid (step max |x| / 127 = 1/127), so only the weights
  // change. fp32 outputs: y(e1) = 1 + c b, y(e2) = a - c. Errors (MSE against the fp32 outputs,
  // mean over the 2 outputs):
  //   fc1 alone: y = 1, -c    -> D1  = ((c b)^2 + a^2) / 2
  //   fc2 alone: y = 1, a     -> D2  = ((c b)^2 + c^2) / 2
  //   both:      y = 1, 0     -> D12 = (c b)^2 / 2  (on e2 the two errors cancel: a = c)
  // Omega = D12 - D1 - D2 = -(a^2 + c^2 + (c b)^2) / 2.
  const double a = 51.0 / 127, b = -25.0 / 127, c = a;
  Network net = two_linear_net();
  model::Graph g(net);
  int k = 0;
  for (model::Param* p : g.params()) {
    if (p->role == model::ParamRole::Bias) std::fill(p->value.data(), p->value.data() + p->value.size(), 0.0f);
    if (p->role != model::ParamRole::Weight) continue;
    const std::vector<float> w = k++ == 0 ? std::vector<float>{1.0f, float(a), float(b), -1.0f}
                                           : std::vector<float>{1.0f, float(c)};
    REQUIRE(p->value.size() == std::int64_t(w.size()));
    std::copy(w.begin(), w.end(), p->value.data());
  }
  REQUIRE(k == 2);
  const std::vector<float> x{1, 0, 0, 1};
  std::vector<float> t{float(1 + c * b), float(a - c)};
  model::MemorySource src(g.input_dims(1), x, {}, t, 1, false);
  const std::vector<model::Batch> data = model::take_batches(src, 2, 2);
  const std::vector<LayerPrecision> options{w2a8()};
  const std::vector<double> single = model::measured_sensitivity(g, data, data, true, options, 1);
  REQUIRE(single.size() == 2);
  const double d1 = (c * b * c * b + a * a) / 2, d2 = (c * b * c * b + c * c) / 2, d12 = c * b * c * b / 2;
  CHECK(single[0] == Approx(d1).epsilon(1e-5));
  CHECK(single[1] == Approx(d2).epsilon(1e-5));
  const std::vector<std::pair<int, int>> pairs = model::clado_pairs(net, false);
  REQUIRE(pairs == std::vector<std::pair<int, int>>{{0, 1}});
  for (int threads : {1, 2}) {
    const std::vector<double> omega =
        model::measured_pair_interactions(g, data, data, true, options, single, pairs, threads);
    REQUIRE(omega.size() == 1);
    CHECK(omega[0] == Approx(d12 - d1 - d2).epsilon(1e-5));
    CHECK(omega[0] == Approx(-(a * a + c * c + c * b * c * b) / 2).epsilon(1e-5));
    CHECK(omega[0] < -0.1);
  }
  // The table's total of the configuration "both at w2a8" is the joint measurement.
  search::SensitivityTable tab;
  tab.layers = {"fc1", "fc2"};
  tab.options = options;
  tab.values = single;
  tab.pairs.push_back({0, 1, model::measured_pair_interactions(g, data, data, true, options, single, pairs, 1)});
  CHECK(tab.total({0, 0}) == Approx(d12).epsilon(1e-4));
}

TEST_CASE("clado: all pairs of weight layers, or only the adjacent ones along the graph", "[clado][sensitivity]") {
  const Scenario sc = load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/uci_room_occupancy.json");
  // conv1, conv2, to_sequence (no weights), lstm, head.
  REQUIRE(sc.net.layers.size() == 5);
  using P = std::vector<std::pair<int, int>>;
  CHECK(model::clado_pairs(sc.net, false) == P{{0, 1}, {0, 3}, {0, 4}, {1, 3}, {1, 4}, {3, 4}});
  CHECK(model::clado_pairs(sc.net, true) == P{{0, 1}, {1, 3}, {3, 4}});
}

namespace {

// Random groups of one layer each; sensitivity pair terms of any sign between some groups.
search::Problem random_sens_pair_problem(std::mt19937_64& rng, int groups, int options) {
  std::uniform_real_distribution<double> u(0, 1);
  search::Problem p = test::random_single_layer_groups(rng, groups, options);
  for (int a = 0; a < groups; ++a)
    for (int b = a + 1; b < groups; ++b) {
      if (rng() % 3 == 0) continue;
      search::Term pt = test::zero_term(p, {a, b});
      const std::size_t n = pt.cost.size();
      for (std::size_t k = 0; k < n; ++k) {
        // Interactions that cancel (negative) or add (positive), sometimes with an energy term.
        pt.sensitivity.push_back(6 * u(rng) - 3);
        if (rng() % 4 == 0) pt.cost[k][search::kEnergy] = -2 * u(rng);
      }
      p.terms.push_back(pt);
    }
  return p;
}

}  // namespace

TEST_CASE("clado: singles plus pair terms through the exact solver equal brute force", "[clado][solver]") {
  for (std::uint64_t seed : {11u, 12u, 13u}) {
    std::mt19937_64 rng(seed);
    int feasible = 0, changed = 0;
    for (int trial = 0; trial < 40; ++trial) {
      const int groups = 2 + int(rng() % 4), options = 2 + int(rng() % 4);
      const search::Problem p = random_sens_pair_problem(rng, groups, options);
      const int nb = trial % 3;
      const search::Budget b = test::random_budget(rng, p, nb);
      const search::ExactResult ex = search::solve_exact(p, b);
      const search::Solution bf = search::solve_brute_force(p, b);
      INFO("seed " << seed << " trial " << trial << " groups " << groups << " budgets " << nb);
      REQUIRE(ex.best.feasible == bf.feasible);
      if (!bf.feasible) continue;
      ++feasible;
      CHECK(ex.best.sensitivity == Approx(bf.sensitivity).epsilon(1e-12).margin(1e-12));
      // Without the pair terms the optimum differs in some instances: the terms matter.
      search::Problem plain = p;
      for (search::Term& pt : plain.terms) pt.sensitivity.clear();
      const search::Solution pb = search::solve_brute_force(plain, b);
      if (pb.option_of_layer != bf.option_of_layer) ++changed;
      // Every front point is the optimum under its own energy budget.
      if (nb == 0)
        for (const search::ParetoPoint& pt : ex.front) {
          search::Budget eb;
          eb.limit[search::kEnergy] = pt.cost[search::kEnergy] + 1e-9 * std::max(1.0, std::abs(pt.cost[search::kEnergy]));
          CHECK(search::solve_brute_force(p, eb).sensitivity == Approx(pt.sensitivity).epsilon(1e-12).margin(1e-12));
        }
      // Heuristics include the pair terms in their totals and never beat the optimum.
      for (const search::Solution& s : {search::solve_greedy(p, b), search::solve_evolutionary(p, b, 200, seed)})
        if (s.feasible) CHECK(s.sensitivity >= bf.sensitivity - 1e-9);
    }
    CHECK(feasible > 10);
    CHECK(changed > 0);
  }
}

TEST_CASE("clado: pair terms between every pair of many groups are refused, not run out of memory", "[clado][solver]") {
  // 6 groups of 16 items, a pair term between every two: after group 4 the frontier holds 5
  // groups, 16^5 = 1.05e6 combinations.
  const auto six_groups = [] {
    search::Problem q;
    q.options.resize(16);
    for (int g = 0; g < 6; ++g) {
      q.layer_names.push_back("l" + std::to_string(g));
      search::Group gr;
      gr.layers.push_back(g);
      for (int o = 0; o < 16; ++o) gr.items.push_back(search::Item{o, search::Costs{1.0 + o, 0, 0}, 1.0 / (1 + o)});
      q.groups.push_back(gr);
    }
    return q;
  };
  search::Problem p = six_groups();
  // Distinct entries: no two of a group's items select equal slices, so no state merges.
  for (int a = 0; a < 6; ++a)
    for (int b = a + 1; b < 6; ++b) {
      search::Term pt = test::zero_term(p, {a, b});
      for (std::size_t k = 0; k < 256; ++k) pt.sensitivity.push_back(0.5 + double(k) / 256 + a + 6 * b);
      p.terms.push_back(pt);
    }
  CHECK_THROWS_WITH(search::solve_exact(p, search::Budget{}),
                    "the exact solver's terms keep 5 groups open at once after group 4 (1.05e+06 combinations "
                    "of their options, more than 1e+06): use pair terms between adjacent layers only "
                    "(clado:neighbours) or fewer free layers");
  // Four of them (16^3 = 4096 combinations at most) solve.
  p.groups.resize(4);
  p.layer_names.resize(4);
  std::vector<search::Term> kept;
  for (const search::Term& pt : p.terms)
    if (pt.last() < 4) kept.push_back(pt);
  p.terms = kept;
  CHECK(search::solve_exact(p, search::Budget{}).best.feasible);
  // Equal entries (every slice alike): the states merge to one key per stage and six groups solve.
  p = six_groups();
  for (int a = 0; a < 6; ++a)
    for (int b = a + 1; b < 6; ++b) {
      search::Term pt = test::zero_term(p, {a, b});
      pt.sensitivity.assign(256, 0.5);
      p.terms.push_back(pt);
    }
  const search::ExactResult merged = search::solve_exact(p, search::Budget{});
  CHECK(merged.best.sensitivity == Approx(6 * 1.0 / 16 + 15 * 0.5));
}

TEST_CASE("clado: make_problem carries the table's pairs and evaluates a choice as the table's total", "[clado][solver]") {
  // Three weight layers a, b, c; b and c tied (one group): the pair (a, b) and (a, c) become one
  // Term between the groups, the pair (b, c) joins the tied group's items at equal options.
  Scenario sc = test::scenario_from_text(R"({"mixprec_scenario": 1, "name": "s",
    "hardware": {"clock_mhz": 100, "pe_array": {"rows": 4, "cols": 4, "mac": {"style": "bit_parallel"}},
      "buffers": {"weight": {"size_kib": 8}, "input": {"size_kib": 8}, "output": {"size_kib": 8}},
      "dram": {"bandwidth_gbps": 1}},
    "network": {"name": "three", "input": {"frames": 1, "features": 4},
      "layers": [{"name": "a", "kind": "linear", "out_features": 4},
                 {"name": "b", "kind": "linear", "out_features": 4},
                 {"name": "c", "kind": "linear", "out_features": 2}]},
    "search": {"weight_bits": [4, 8], "activation_bits": [8]}})");
  sim::CostTable costs;
  costs.layers = {"a", "b", "c"};
  LayerPrecision w4 = LayerPrecision::uniform(NumFormat::Int, 8);
  w4.weight_bits = 4;
  costs.options = {w4, LayerPrecision::uniform(NumFormat::Int, 8)};
  costs.entries.assign(6, sim::CostEntry{});
  for (std::size_t k = 0; k < 6; ++k) {
    costs.entries[k].energy_pj = double(1 + k % 2);
    costs.entries[k].fits = true;
  }
  search::SensitivityTable t;
  t.method = "clado";
  t.layers = costs.layers;
  t.options = costs.options;
  t.values = {4, 1, 3, 1, 2, 1};                       // a, b, c at (w4, w8)
  t.pairs.push_back({0, 1, {-1.5, 0.25, 0.5, 0.125}});  // (a, b)
  t.pairs.push_back({0, 2, {-1.0, 2.0, 4.0, 8.0}});     // (a, c)
  t.pairs.push_back({1, 2, {-0.5, 9.0, 9.0, 0.75}});    // (b, c): only (w4, w4) and (w8, w8) occur
  search::Rules rules;
  rules.ties.push_back({1, 2});
  const search::Problem p = search::make_problem(costs, t, sc.net, rules, {1, 1, 1});
  REQUIRE(p.groups.size() == 2);
  REQUIRE(p.terms.size() == 1);
  const search::Term& pt = p.terms[0];
  CHECK(pt.groups == std::vector<int>{0, 1});
  CHECK(pt.sizes == std::vector<int>{2, 2});
  // Items in option order: (a at oa, group {b, c} at ob) -> Omega(a,b) + Omega(a,c).
  CHECK(pt.sensitivity == std::vector<double>{-2.5, 2.25, 4.5, 8.125});
  CHECK(p.groups[1].items[0].sensitivity == 3 + 2 - 0.5);
  CHECK(p.groups[1].items[1].sensitivity == 1 + 1 + 0.75);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      const search::Solution s = search::evaluate_choice(p, {i, j}, search::Budget{});
      CHECK(s.sensitivity == t.total({i, j, j}));
    }
  // Hand: a at w4, {b, c} at w4: 4 + 3 + 2 - 1.5 - 1.0 - 0.5 = 6.
  CHECK(t.total({0, 0, 0}) == 6.0);
  // The exact solver with no budget picks the least total: a at w4, {b, c} at w4 (6) against
  // (w4, w8) 4 + 1 + 1 + 0.25 + 2 + 0.75 = 9, (w8, w4) 1 + 3 + 2 - 0.5 + 0.5 + 4 = 10,
  // (w8, w8) 1 + 1 + 1 + 0.75 + 0.125 + 8 = 11.875.
  const search::ExactResult ex = search::solve_exact(p, search::Budget{});
  CHECK(ex.best.option_of_layer == std::vector<int>{0, 0, 0});
  CHECK(ex.best.sensitivity == Approx(6.0));
}

TEST_CASE("clado: a sensitivity table with pairs round-trips, one without still loads, bad pairs are named", "[clado][sensitivity]") {
  const Scenario sc = load_scenario(std::string(MIXPREC_SOURCE_DIR) + "/scenarios/uci_room_occupancy.json");
  LayerPrecision w4 = LayerPrecision::uniform(NumFormat::Int, 8);
  w4.weight_bits = 4;
  const std::vector<LayerPrecision> options{w4, LayerPrecision::uniform(NumFormat::Int, 8)};
  search::SensitivityTable t;
  t.method = "clado";
  t.checkpoint = "c.ckpt";
  for (const Layer& l : sc.net.layers) t.layers.push_back(l.name);
  t.options = options;
  for (std::size_t k = 0; k < t.layers.size() * options.size(); ++k)
    t.values.push_back(t.layers[k / 2] == "to_sequence" ? 0.0 : 0.1 * double(k + 1));
  t.pairs.push_back({1, 3, {-0.125, 1.0 / 3, 2.5e-7, 0}});
  t.pairs.push_back({3, 4, {0.5, -0.25, 0.75, 1e-12}});
  const std::string dir = test::temp_dir("clado_io");
  const std::string path = dir + "/t.json";
  std::ofstream(path) << search::sensitivity_to_json(t, sc.net.name).dump(1);
  const search::SensitivityTable r = search::load_sensitivity(path, sc.net, options);
  CHECK(r.values == t.values);
  REQUIRE(r.pairs.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(r.pairs[k].a == t.pairs[k].a);
    CHECK(r.pairs[k].b == t.pairs[k].b);
    CHECK(r.pairs[k].values == t.pairs[k].values);  // exactly
  }
  // Loaded with the options in the other order: rows and columns follow.
  const search::SensitivityTable sw = search::load_sensitivity(path, sc.net, {options[1], options[0]});
  CHECK(sw.pairs[0].values == std::vector<double>{0, 2.5e-7, 1.0 / 3, -0.125});

  // A table without pairs (the other methods', and caches written before them) loads with none.
  nlohmann::json j = search::sensitivity_to_json(t, sc.net.name);
  j.erase("pairs");
  j.erase("content_fnv1a64");
  std::ofstream(dir + "/old.json") << j.dump(1);
  const search::SensitivityTable old = search::load_sensitivity(dir + "/old.json", sc.net, options);
  CHECK(old.pairs.empty());
  CHECK(old.values == t.values);

  // Errors name the file, the pointer, what was expected and what was found.
  auto message = [&](const nlohmann::json& bad) {
    const std::string p = dir + "/bad.json";
    std::ofstream(p) << bad.dump(1);
    try {
      search::load_sensitivity(p, sc.net, options);
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  nlohmann::json reversed = j;
  reversed["pairs"] = {{{"layers", {"lstm", "conv2"}}, {"options", {{{"format", "int"}, {"weights", 4}, {"activations", 8}}}},
                        {"values", {1.0}}}};
  CHECK(message(reversed) == dir + "/bad.json: /pairs/0/layers: expected two layers in network order, found \"lstm\", \"conv2\"");
  nlohmann::json missing = reversed;
  missing["pairs"][0]["layers"] = {"conv2", "lstm"};
  CHECK(message(missing) == dir + "/bad.json: /pairs/0/options: expected an option int w8a8, found none");
  nlohmann::json short_values = missing;
  short_values["pairs"][0]["options"].push_back({{"format", "int"}, {"weights", 8}, {"activations", 8}});
  CHECK(message(short_values) == dir + "/bad.json: /pairs/0/values: expected 4 numbers (options x options), found 1");
  nlohmann::json unknown = short_values;
  unknown["pairs"][0]["layers"] = {"conv2", "lstm2"};
  CHECK(message(unknown) == dir + "/bad.json: /pairs/0/layers: expected layers of network \"uci_room_cnn_lstm\", found \"lstm2\"");
}

TEST_CASE("clado: computed from a checkpoint, cached with its pair terms, and bad requests", "[clado][sensitivity]") {
  const std::string dir = test::temp_dir("clado_run");
  const std::string file = test::write_default_scenario_with(dir + "/tiny.json",
      std::string(R"({"name": "tiny", "network": )") + test::kTinyNetworkPatch + R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []},
    "search": {"weight_bits": [2, 8], "activation_bits": [8], "sensitivity": "clado"},
    "training": {"batch_size": 16, "micro_batches": 1, "epochs": 1},
    "report": {"out_dir": ")" + dir + R"(/results"}})");
  auto r = test::run_cli("train " + file + " --out " + dir + "/run --synthetic 48 --epochs 1 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Scenario sc = load_scenario(file);
  CHECK(sc.search.sensitivity == "clado");
  LayerPrecision base;
  sc.precision.defaults.apply_to(base);
  const std::vector<LayerPrecision> options = sim::candidate_options(sc.search, base);
  REQUIRE(options.size() == 2);
  pipeline::SensitivityRequest req;
  req.method = "clado";
  req.checkpoint = dir + "/run/best.ckpt";
  req.synthetic = 48;
  req.samples = 12;
  const pipeline::SensitivityResult a = pipeline::compute_sensitivity(sc, options, req);
  CHECK(a.cache_status == "miss");
  CHECK(a.cache_path.rfind(req.checkpoint + ".sens-clado-", 0) == 0);
  const std::size_t W = [&] {
    std::size_t n = 0;
    for (const Layer& l : sc.net.layers) n += l.has_weights() ? 1 : 0;
    return n;
  }();
  REQUIRE(a.table.pairs.size() == W * (W - 1) / 2);
  // The singles are the measured method's numbers on the same samples.
  pipeline::SensitivityRequest mreq = req;
  mreq.method = "measured";
  mreq.use_cache = false;
  CHECK(pipeline::compute_sensitivity(sc, options, mreq).table.values == a.table.values);
  // Cached: the same pairs back, exactly, for any thread count.
  req.threads = 2;
  const pipeline::SensitivityResult b = pipeline::compute_sensitivity(sc, options, req);
  CHECK(b.cache_status == "hit");
  REQUIRE(b.table.pairs.size() == a.table.pairs.size());
  for (std::size_t k = 0; k < a.table.pairs.size(); ++k) CHECK(b.table.pairs[k].values == a.table.pairs[k].values);
  req.use_cache = false;
  const pipeline::SensitivityResult c = pipeline::compute_sensitivity(sc, options, req);
  for (std::size_t k = 0; k < a.table.pairs.size(); ++k) CHECK(c.table.pairs[k].values == a.table.pairs[k].values);
  // Adjacent pairs only: another cache file, a subset of the pairs with the same numbers.
  req.use_cache = true;
  req.clado_pairs = "neighbours";
  CHECK(pipeline::sensitivity_cache_path(sc, options, req) != a.cache_path);
  const pipeline::SensitivityResult n = pipeline::compute_sensitivity(sc, options, req);
  CHECK(n.table.pairs.size() < a.table.pairs.size());
  for (const auto& pr : n.table.pairs) {
    bool found = false;
    for (const auto& q : a.table.pairs)
      if (q.a == pr.a && q.b == pr.b) found = q.values == pr.values;
    CHECK(found);
  }
  // Bad requests: exact messages.
  req.clado_pairs = "next";
  CHECK_THROWS_WITH(pipeline::compute_sensitivity(sc, options, req),
                    "clado pairs must be \"all\" or \"neighbours\", found \"next\"");
  req.clado_pairs = "all";
  req.method = "fisher";
  CHECK_THROWS_WITH(pipeline::compute_sensitivity(sc, options, req),
                    "sensitivity method must be \"hessian\", \"measured\", \"ggn\" or \"clado\", found \"fisher\"");
}

TEST_CASE("clado:neighbours as the scenario's search.sensitivity and search --method", "[clado][sensitivity][cli]") {
  const std::string dir = test::temp_dir("clado_neighbours");
  const std::string file = test::write_default_scenario_with(dir + "/tiny.json",
      std::string(R"({"name": "tiny", "network": )") + test::kTinyNetworkPatch + R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []},
    "search": {"weight_bits": [2, 8], "activation_bits": [8], "sensitivity": "clado:neighbours"},
    "training": {"batch_size": 16, "micro_batches": 1, "epochs": 1},
    "report": {"out_dir": ")" + dir + R"(/results"}})");
  const Scenario sc = load_scenario(file);
  CHECK(sc.search.sensitivity == "clado:neighbours");
  pipeline::SensitivityRequest req;
  pipeline::set_method(req, sc.search.sensitivity);
  CHECK(req.method == "clado");
  CHECK(req.clado_pairs == "neighbours");
  pipeline::set_method(req, "measured");
  CHECK(req.method == "measured");
  CHECK(req.clado_pairs == "all");
  auto r = test::run_cli("train " + file + " --out " + dir + "/run --synthetic 48 --epochs 1 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  LayerPrecision base;
  sc.precision.defaults.apply_to(base);
  const std::vector<LayerPrecision> options = sim::candidate_options(sc.search, base);
  req.checkpoint = dir + "/run/best.ckpt";
  req.synthetic = 48;
  req.samples = 12;
  // The scenario's method (no --method): the neighbours' table is computed and cached, not all pairs.
  r = test::run_cli("search " + file + " --checkpoint " + req.checkpoint +
                    " --synthetic 48 --samples 12 --budget 1 --format json --out " + dir + "/s1");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  pipeline::set_method(req, "clado:neighbours");
  const std::string neighbours_cache = pipeline::sensitivity_cache_path(sc, options, req);
  pipeline::set_method(req, "clado");
  const std::string all_cache = pipeline::sensitivity_cache_path(sc, options, req);
  CHECK(std::ifstream(neighbours_cache).good());
  CHECK_FALSE(std::ifstream(all_cache).good());
  const nlohmann::json s1 = nlohmann::json::parse(std::ifstream(dir + "/s1/search.json"));
  CHECK(s1.at("sensitivity").at("method") == "clado");
  CHECK(s1.at("sensitivity").at("settings").at("pairs") == "neighbours");
  // --method clado overrides it (all pairs, their own cache); an unknown spelling is refused.
  r = test::run_cli("search " + file + " --checkpoint " + req.checkpoint +
                    " --synthetic 48 --samples 12 --method clado --budget 1 --format json --out " + dir + "/s2");
  REQUIRE(r.exit_code == 0);
  CHECK(std::ifstream(all_cache).good());
  const nlohmann::json s2 = nlohmann::json::parse(std::ifstream(dir + "/s2/search.json"));
  CHECK(s2.at("sensitivity").at("settings").at("pairs") == "all");
  const std::string bad = test::write_default_scenario_with(dir + "/bad.json",
                                                           R"({"search": {"sensitivity": "clado:next"}})");
  try {
    load_scenario(bad);
    FAIL("clado:next loads");
  } catch (const SpecError& e) {
    const std::string what = e.what();
    CHECK(what.find("/search/sensitivity") != std::string::npos);
    CHECK(what.find("\"clado:neighbours\"") != std::string::npos);
    CHECK(what.find("clado:next") != std::string::npos);
  }
}
