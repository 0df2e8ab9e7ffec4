// TT / HT ranks as a search axis (scenario search.ranks): candidates and their validation, ranks
// in precision files, ranks read back from stored core sizes, truncation on loading weights,
// the measured sensitivity of a truncated layer, the problem's (rank, option) items against brute
// force, sensitivity files with rank entries, and the command line end to end.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "pipeline/search_run.hpp"
#include "core/json_reader.hpp"
#include "core/scenario.hpp"
#include "model/rank_truncation.hpp"
#include "model/sensitivity.hpp"
#include "model/trainer.hpp"
#include "search/io.hpp"
#include "search/solver.hpp"
#include "sim/simulate.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

// scenarios/<name>.json with an RFC 7386 merge patch, as a document.
json patched(const std::string& name, const std::string& patch) {
  json j = JsonDoc::load(test::source_path("scenarios/" + name + ".json")).root();
  j.merge_patch(json::parse(patch));
  return j;
}

Scenario parse(const json& j) { return parse_scenario(j, JsonCtx{"inline.json"}); }

std::string parse_error(const json& j) {
  try {
    parse(j);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> labels(const SearchSpec::RankSearch& rs) {
  std::vector<std::string> out;
  for (const Factorization& f : rs.candidates) out.push_back(rank_label(f));
  return out;
}

const char* kTtRanks = R"({"search": {"ranks": [{"layer": "lstm", "candidates": [8, [1, 6, 4, 1], 2]}]}})";

}  // namespace

TEST_CASE("search.ranks: candidates resolved against the layer, bad ones rejected with the pointer", "[tensor][rank_search][scenario]") {
  const Scenario sc = parse(patched("venue_tt_lstm", kTtRanks));
  REQUIRE(sc.search.ranks.size() == 1);
  CHECK(labels(sc.search.ranks[0]) == std::vector<std::string>{"1-8-8-1", "1-6-4-1", "1-2-2-1"});
  CHECK(sc.search.ranks[0].candidates[1].pointer == "/search/ranks/0/candidates/1");

  const Scenario ht = parse(patched("video_ht_lstm",
      R"({"search": {"ranks": [{"layer": "lstm.l0", "candidates": [3, {"leaf_ranks": [4, 2, 2, 1], "transfer_ranks": [4, 2]}]}]}})"));
  CHECK(labels(ht.search.ranks[0]) == std::vector<std::string>{"leaf 3-3-3-3, transfer 3-3", "leaf 4-2-2-1, transfer 4-2"});

  auto err = [](const std::string& name, const std::string& candidates, const std::string& layer = "lstm") {
    return parse_error(patched(name, R"({"search": {"ranks": [{"layer": ")" + layer + R"(", "candidates": )" + candidates + "}]}}"));
  };
  CHECK(err("venue_tt_lstm", "[4]", "head") ==
        "inline.json: /search/ranks/0/layer: expected a layer with a factorized (TT / HT) input matrix, found \"head\", which has none");
  CHECK(err("venue_tt_lstm", "[4]", "lstn") ==
        "inline.json: /search/ranks/0/layer: expected the name of a layer with a factorized (TT / HT) input matrix, "
        "found \"lstn\", which is no layer (did you mean \"lstm\"?)");
  CHECK(err("venue_tt_lstm", "[16]") ==
        "inline.json: /search/ranks/0/candidates/0: expected ranks no larger than the layer's own (1-8-8-1): the search "
        "truncates the trained cores, found 1-16-16-1");
  CHECK(err("venue_tt_lstm", "[[1, 4, 4]]") == "inline.json: /search/ranks/0/candidates/0: expected 4 ranks r0 .. r3, found 3");
  CHECK(err("venue_tt_lstm", "[[2, 4, 4, 1]]") ==
        "inline.json: /search/ranks/0/candidates/0/0: expected 1 (a tensor train starts and ends with rank 1), found 2");
  CHECK(err("venue_tt_lstm", R"([{"leaf_ranks": [2, 2, 2]}])") ==
        "inline.json: /search/ranks/0/candidates/0: expected TT ranks (a number or an array r0 .. r3) for the "
        "tensor-train layer \"lstm\", found HT leaf/transfer ranks");
  CHECK(err("venue_tt_lstm", "[4, [1, 4, 4, 1]]") ==
        "inline.json: /search/ranks/0/candidates/1: expected candidates that differ, found 1-4-4-1 again");
  CHECK(err("venue_tt_lstm", "[0]") == "inline.json: /search/ranks/0/candidates/0: expected an integer in [1, 4096], found number 0");
  CHECK(err("venue_tt_lstm", "[]") == "inline.json: /search/ranks/0/candidates: expected at least one candidate, found []");
  CHECK(err("venue_tt_lstm", "[\"4\"]").find("inline.json: /search/ranks/0/candidates/0: expected ranks: a number (every "
                                               "inner rank), an array of TT ranks, or an object with HT") == 0);
  CHECK(err("video_ht_lstm", "[[1, 2, 2, 2, 1]]", "lstm.l0") ==
        "inline.json: /search/ranks/0/candidates/0: expected HT ranks (a number or an object with \"leaf_ranks\" and "
        "\"transfer_ranks\") for the hierarchical-Tucker layer \"lstm.l0\", found an array of TT ranks");
  CHECK(err("video_ht_lstm", R"([{"leaf_ranks": [2, 2, 2, 2], "transfer_ranks": [2]}])", "lstm.l0") ==
        "inline.json: /search/ranks/0/candidates/0/transfer_ranks: expected 2 transfer ranks (the internal nodes below "
        "the root, breadth-first), found 1");
}

TEST_CASE("a precision file's ranks re-price the factorized layer as the scenario's own ranks would", "[tensor][rank_search][sim]") {
  const std::string dir = test::temp_dir("rank_prec");
  std::ofstream(dir + "/p.json") << R"({"mixprec_precision": 1, "default": {"format": "int", "weights": 4, "activations": 8},
                                       "ranks": {"lstm": [1, 4, 2, 1]}})";
  Scenario sc = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  const PrecisionSpec spec = load_precision_file(dir + "/p.json");
  apply_rank_overrides(spec, sc.net, dir + "/p.json");
  const std::vector<LayerPrecision> prec = resolve_precision(spec, sc.net, dir + "/p.json");
  CHECK(rank_label(sc.net.layers[size_t(sc.net.find("lstm"))].factorization) == "1-4-2-1");
  const Scenario same = parse(patched("venue_tt_lstm", R"({"search": {"ranks": null}, "network": {"layers": [{"name": "frames", "kind": "frames_to_sequence"},
      {"name": "lstm", "kind": "lstm", "hidden": 64, "factorization": {"kind": "tt", "input_modes": [3, 16, 16],
       "hidden_modes": [4, 4, 4], "ranks": [1, 4, 2, 1]}}, {"name": "head", "kind": "linear", "out_features": 5}]}})"));
  sc.layer_precision = prec;
  const sim::SimulationResult a = sim::simulate_analytical(sc, prec), b = sim::simulate_analytical(same, prec);
  CHECK(a.cost.cycles == b.cost.cycles);
  CHECK(a.cost.energy_uj == b.cost.energy_uj);
  CHECK(sc.net.parameter_count() == same.net.parameter_count());
  // Ranks for a layer that is not factorized, or of the wrong form, name the file and pointer.
  std::ofstream(dir + "/bad.json") << R"({"mixprec_precision": 1, "ranks": {"head": [1, 2, 2, 1]}})";
  Scenario sc2 = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  try {
    apply_rank_overrides(load_precision_file(dir + "/bad.json"), sc2.net, dir + "/bad.json");
    FAIL("no error");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) == dir + "/bad.json: /ranks/head: expected a layer with a factorized (TT / HT) input "
                                         "matrix, found \"head\", which has none");
  }
  // A scenario's own precision section has no "ranks".
  const std::string e = parse_error(patched("venue_tt_lstm", R"({"precision": {"ranks": {"lstm": 2}}})"));
  CHECK(e.find("inline.json: /precision/ranks: expected a known key") == 0);
  CHECK(e.find("found unknown key \"ranks\"") != std::string::npos);
}

TEST_CASE("ranks read back from stored core sizes (TT and HT)", "[tensor][rank_search]") {
  const Scenario tt = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  const Factorization& f = tt.net.layers[size_t(tt.net.find("lstm"))].factorization;
  Factorization g = f;
  g.ranks = {1, 5, 3, 1};
  const TensorNetwork tn = make_tensor_network(g);
  std::vector<std::vector<int>> dims;
  for (const TensorCore& c : tn.cores) {
    std::vector<int> d;
    for (int a : c.axes) d.push_back(tn.axis_size[size_t(a)]);
    d.resize(4, 1);  // padded as a checkpoint stores them
    dims.push_back(d);
  }
  const auto back = factorization_from_core_dims(f, dims);
  REQUIRE(back);
  CHECK(back->ranks == std::vector<int>{1, 5, 3, 1});
  CHECK(ranks_at_most(f, *back) == false);
  CHECK(ranks_at_most(*back, f) == true);
  // A shared rank that disagrees, or another mode size: no reading.
  auto bad = dims;
  bad[1][3] = 2;  // core 2's right rank against core 3's left one
  bad[2][0] = 4;
  CHECK_FALSE(factorization_from_core_dims(f, bad));
  bad = dims;
  bad[0][0] = 4;  // i1 is 3
  CHECK_FALSE(factorization_from_core_dims(f, bad));

  const Scenario ht = load_scenario(test::source_path("scenarios/video_ht_lstm.json"));
  Factorization h = ht.net.layers[size_t(ht.net.find("lstm.l0"))].factorization;
  Factorization h2 = h;
  h2.leaf_ranks = {3, 2, 4, 1};
  h2.transfer_ranks = {2, 3};
  const TensorNetwork hn = make_tensor_network(h2);
  std::vector<std::vector<int>> hd;
  for (const TensorCore& c : hn.cores) {
    std::vector<int> d;
    for (int a : c.axes) d.push_back(hn.axis_size[size_t(a)]);
    hd.push_back(d);
  }
  const auto hb = factorization_from_core_dims(h, hd);
  REQUIRE(hb);
  CHECK(hb->leaf_ranks == h2.leaf_ranks);
  CHECK(hb->transfer_ranks == h2.transfer_ranks);
  CHECK(rank_label(*hb) == "leaf 3-2-4-1, transfer 2-3");
}

TEST_CASE("loading larger-rank cores truncates them, smaller ones and plain loads are errors", "[tensor][rank_search][model]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  const int li = sc.net.find("lstm");
  Network small = sc.net;
  small.layers[size_t(li)].factorization.ranks = {1, 4, 2, 1};
  model::Graph big(sc.net), low(small);
  std::mt19937_64 rng(3);
  big.init(rng);
  std::vector<model::RankTruncation> tr;
  const std::vector<std::string> missing =
      model::assign_weights(low, model::named_params(big), model::named_buffers(big), "src.ckpt", &tr);
  CHECK(missing.empty());
  REQUIRE(tr.size() == 1);
  CHECK(tr[0].layer == "lstm");
  CHECK(rank_label(tr[0].from) == "1-8-8-1");
  CHECK(rank_label(tr[0].to) == "1-4-2-1");
  // The cores are truncate_ranks' output; every other parameter is copied.
  std::vector<std::vector<float>> cores;
  for (model::Param* p : big.params())
    if (p->name.rfind("lstm.tt_core", 0) == 0) cores.emplace_back(p->value.data(), p->value.data() + p->value.size());
  REQUIRE(cores.size() == 3);
  const model::TruncatedCores want =
      model::truncate_ranks(sc.net.layers[size_t(li)].factorization, cores, small.layers[size_t(li)].factorization);
  CHECK(tr[0].relative_error_bound == want.relative_error_bound());
  CHECK(want.relative_error_bound() > 0.01);
  std::map<std::string, const model::Param*> by_name;
  for (model::Param* p : big.params()) by_name[p->name] = p;
  int k = 0;
  for (model::Param* p : low.params()) {
    const std::vector<float> got(p->value.data(), p->value.data() + p->value.size());
    if (p->name.rfind("lstm.tt_core", 0) == 0) {
      CHECK(got == want.cores[size_t(k++)]);
    } else {
      const model::Param* q = by_name.at(p->name);
      CHECK(got == std::vector<float>(q->value.data(), q->value.data() + q->value.size()));
    }
  }
  CHECK(k == 3);
  // Without permission to truncate: the dims differ.
  try {
    model::assign_weights(low, model::named_params(big), model::named_buffers(big), "src.ckpt");
    FAIL("no error");
  } catch (const model::CheckpointError& e) {
    CHECK(std::string(e.what()) == "src.ckpt: \"lstm.tt_core1\" has dims (3,16,8,1), the network (3,16,4,1)");
  }
  // Ranks cannot grow.
  try {
    model::assign_weights(big, model::named_params(low), model::named_buffers(low), "src.ckpt", &tr);
    FAIL("no error");
  } catch (const model::CheckpointError& e) {
    CHECK(std::string(e.what()) == "src.ckpt: factorized layer \"lstm\" has ranks 1-4-2-1, smaller than the network's "
                                   "1-8-8-1 (cores can be truncated to smaller ranks, not grown)");
  }
}

TEST_CASE("measured rank sensitivity: the own ranks reproduce the bit sensitivities, smaller ranks cost more", "[tensor][rank_search][sensitivity]") {
  const Scenario sc = load_scenario(test::source_path("scenarios/venue_tt_lstm.json"));
  const int li = sc.net.find("lstm");
  model::Graph g(sc.net);
  std::mt19937_64 rng(5);
  g.init(rng);
  model::SyntheticOptions so;
  so.samples = 24;
  so.outputs = 5;
  so.shuffle = false;
  auto src = model::make_synthetic(g, so);
  const std::vector<model::Batch> data = model::take_batches(*src, 24, 8), cal = model::take_batches(*src, 8, 8);
  const std::vector<LayerPrecision> options{LayerPrecision::uniform(NumFormat::Int, 4), LayerPrecision::uniform(NumFormat::Int, 8),
                                            LayerPrecision::uniform(NumFormat::Fp32, 32)};
  const std::vector<double> bits = model::measured_sensitivity(g, cal, data, false, options, 1);
  const Factorization own = sc.net.layers[size_t(li)].factorization;
  std::vector<double> bound;
  const std::vector<double> same = model::measured_rank_sensitivity(g, {own}, li, cal, data, false, options, 2, &bound);
  CHECK(bound == std::vector<double>{0.0});
  for (std::size_t o = 0; o < options.size(); ++o) CHECK(same[o] == Approx(bits[size_t(li) * options.size() + o]).margin(1e-12));
  CHECK(same[2] == 0);  // fp32 at the own ranks: the model itself
  Factorization r1 = own;
  r1.ranks = {1, 1, 1, 1};
  const std::vector<double> low = model::measured_rank_sensitivity(g, {r1}, li, cal, data, false, options, 1, &bound);
  REQUIRE(bound.size() == 1);
  CHECK(bound[0] > 0.1);
  CHECK(low[2] > 0);  // truncation alone changes the outputs
  CHECK(low[2] > same[1]);
  // Thread count does not change the numbers.
  CHECK(model::measured_rank_sensitivity(g, {r1}, li, cal, data, false, options, 2) == low);
  // Several candidates in one call: candidates x options, each row as measured alone.
  std::vector<double> both = same;
  both.insert(both.end(), low.begin(), low.end());
  CHECK(model::measured_rank_sensitivity(g, {own, r1}, li, cal, data, false, options, 2) == both);
}

TEST_CASE("take_batches spreads its samples over the source", "[model][sensitivity]") {
  // 10 samples of 2 rows each (like per-frame CNN input), value = sample index.
  std::vector<float> x;
  for (int i = 0; i < 10; ++i) x.insert(x.end(), {float(i), float(i)});
  std::vector<int> labels(10);
  for (int i = 0; i < 10; ++i) labels[size_t(i)] = i % 3;
  model::MemorySource src(model::Dims{2, 1, 1, 1}, x, labels, {}, 1, false);
  const std::vector<model::Batch> b = model::take_batches(src, 4, 3);  // samples 0, 2, 5, 7
  REQUIRE(b.size() == 2);
  CHECK(b[0].size == 3);
  CHECK(b[1].size == 1);
  CHECK(b[0].x.dims() == model::Dims{6, 1, 1, 1});
  CHECK(std::vector<float>(b[0].x.data(), b[0].x.data() + 6) == std::vector<float>{0, 0, 2, 2, 5, 5});
  CHECK(b[0].labels == std::vector<int>{0, 2, 2});
  CHECK(b[1].x.dims() == model::Dims{2, 1, 1, 1});
  CHECK(b[1].x[0] == 7);
  CHECK(b[1].labels == std::vector<int>{1});
  // Asking for more than there are: all of them, in order.
  const std::vector<model::Batch> all = model::take_batches(src, 50, 4);
  REQUIRE(all.size() == 3);
  CHECK(all[2].size == 2);
  CHECK(all[2].x[2] == 9);
}

TEST_CASE("rank and bit search: items per (candidate, option), exact equals brute force, sensitivity files round-trip", "[tensor][rank_search][search]") {
  Scenario sc = parse(patched("venue_tt_lstm", R"({"search": {"weight_bits": [2, 4, 8], "activation_bits": [4, 8],
      "ranks": [{"layer": "lstm", "candidates": [8, 4, 2]}]}})"));
  const pipeline::SearchSetup setup = pipeline::prepare_search(sc);
  const int li = sc.net.find("lstm");
  const std::size_t O = setup.options.size();
  REQUIRE(setup.rank_costs.size() == 1);
  const search::RankChoice& rc = setup.rank_costs[0];
  CHECK(rc.layer == li);
  CHECK(rc.labels == std::vector<std::string>{"1-8-8-1", "1-4-4-1", "1-2-2-1"});
  for (std::size_t o = 0; o < O; ++o) {
    // The own ranks are the table's row; fewer ranks price fewer MACs and weight bytes.
    CHECK(rc.cost[0][o].energy_pj == setup.table.at(size_t(li), o).energy_pj);
    CHECK(rc.cost[1][o].weight_bytes < rc.cost[0][o].weight_bytes);
    CHECK(rc.cost[2][o].cycles <= rc.cost[1][o].cycles);
  }
  // A sensitivity table with rank rows, through the file format.
  search::SensitivityTable t;
  t.method = "measured";
  t.options = setup.options;
  for (const Layer& l : sc.net.layers) t.layers.push_back(l.name);
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l)
    for (std::size_t o = 0; o < O; ++o)
      t.values.push_back(sc.net.layers[l].has_weights() ? std::pow(2.0, -setup.options[o].weights().bits) * double(l + 1) : 0.0);
  search::SensitivityTable::RankRows rows{"lstm", rc.labels, {}};
  for (std::size_t v = 0; v < 3; ++v)
    for (std::size_t o = 0; o < O; ++o)
      rows.values.push_back(t.at(size_t(li), o) + 0.01 * double(v * v) + 0.001 * double(o));
  t.rank_rows.push_back(rows);
  const std::string dir = test::temp_dir("rank_sens");
  std::ofstream(dir + "/s.json") << search::sensitivity_to_json(t, sc.net.name).dump();
  const search::SensitivityTable back = search::load_sensitivity(dir + "/s.json", sc.net, setup.options, sc.search.ranks);
  REQUIRE(back.rank_rows.size() == 1);
  CHECK(back.rank_rows[0].labels == rows.labels);
  CHECK(back.rank_rows[0].values == rows.values);
  // A table without one of the entries: the file, the layer, the candidate and the option.
  json j = search::sensitivity_to_json(t, sc.net.name);
  json kept = json::array();
  for (const json& e : j["entries"])
    if (!(e.value("ranks", "") == "1-2-2-1" && e["weights"] == 2 && e["activations"] == 4)) kept.push_back(e);
  j["entries"] = kept;
  j.erase("content_fnv1a64");  // an edited table: its recorded checksum no longer holds
  std::ofstream(dir + "/missing.json") << j.dump();
  try {
    search::load_sensitivity(dir + "/missing.json", sc.net, setup.options, sc.search.ranks);
    FAIL("no error");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) == dir + "/missing.json: /entries: expected an entry for layer \"lstm\" at ranks \"1-2-2-1\" "
                                         "and int w2a4, found none");
  }

  const search::Problem p = search::make_problem(setup.table, back, sc.net, setup.rules, setup.default_option,
                                                 pipeline::rank_choices(sc, setup, back, dir + "/s.json"));
  std::size_t with_variants = 0;
  for (const search::Group& g : p.groups) {
    const bool has = std::find(g.layers.begin(), g.layers.end(), li) != g.layers.end();
    if (!has) continue;
    ++with_variants;
    CHECK(g.items.size() == 3 * O);  // every (candidate, option); no bit rules here
    for (const search::Item& it : g.items) CHECK(it.variant >= 0);
  }
  CHECK(with_variants == 1);
  const search::Budget open;
  const search::ExactResult front = search::solve_exact(p, open);
  for (double frac : {0.3, 0.5, 0.8}) {
    search::Budget b;
    b.limit[search::kEnergy] = front.front.front().cost[search::kEnergy] +
                               frac * (front.front.back().cost[search::kEnergy] - front.front.front().cost[search::kEnergy]);
    const search::Solution ex = search::solve_exact(p, b).best, bf = search::solve_brute_force(p, b);
    REQUIRE(ex.feasible);
    CHECK(ex.sensitivity == Approx(bf.sensitivity).epsilon(1e-12));
    CHECK(ex.variant_of_layer[size_t(li)] >= 0);
    CHECK(ex.variant_of_layer[size_t(sc.net.find("head"))] == -1);
    const std::vector<Factorization> f = pipeline::chosen_factorization(sc, ex);
    CHECK(rank_label(f[size_t(li)]) == rc.labels[size_t(ex.variant_of_layer[size_t(li)])]);
  }
  // The cheapest design truncates; the least sensitive one keeps the own ranks.
  CHECK(search::evaluate_choice(p, front.front.front().item_of_group, open).variant_of_layer[size_t(li)] == 2);
  CHECK(search::evaluate_choice(p, front.front.back().item_of_group, open).variant_of_layer[size_t(li)] == 0);
  // A table computed without the rank candidates cannot feed a rank search.
  search::SensitivityTable plain = back;
  plain.rank_rows.clear();
  try {
    pipeline::rank_choices(sc, setup, plain, "old.json");
    FAIL("no error");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) == "old.json: /entries: expected sensitivities of layer \"lstm\" at every rank candidate of "
                                   "/search/ranks/0 (\"ranks\" entries, computed with search.ranks in the scenario), found none");
  }
}

TEST_CASE("rank search from the command line: search, train the choice from the larger checkpoint, simulate", "[tensor][rank_search][cli]") {
  const std::string dir = test::temp_dir("rank_cli");
  json j = patched("venue_tt_lstm", R"({"training": {"epochs": 1, "batch_size": 16},
      "search": {"weight_bits": [2, 4, 8], "activation_bits": [4, 8],
                 "ranks": [{"layer": "lstm", "candidates": [8, 4, 2]}]}})");
  const std::string file = dir + "/tt.json";
  std::ofstream(file) << j.dump(1);
  auto r = test::run_cli("train " + file + " --out " + dir + "/fp32 --synthetic 48 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string ckpt = dir + "/fp32/best.ckpt";

  // The Hessian method cannot price a rank.
  r = test::run_cli("search " + file + " --checkpoint " + ckpt + " --synthetic 48 --method hessian --out " + dir + "/s");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: " + file + ": /search/sensitivity: expected \"measured\" when /search/ranks is given") !=
        std::string::npos);

  r = test::run_cli("search " + file + " --checkpoint " + ckpt + " --synthetic 48 --samples 16 --budget 0.4 --format json --out " + dir + "/s");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json s = json::parse(r.out);
  REQUIRE(s["chosen"]["feasible"] == true);
  json lstm;
  for (const json& l : s["chosen"]["layers"])
    if (l["name"] == "lstm") lstm = l;
  REQUIRE(lstm.contains("ranks"));
  REQUIRE(s["rank_candidates"].size() == 1);
  CHECK(s["rank_candidates"][0]["candidates"].size() == 3);
  int chosen_count = 0;
  for (const json& c : s["rank_candidates"][0]["candidates"]) {
    chosen_count += c["chosen"].get<bool>();
    if (c["chosen"].get<bool>()) {
      CHECK(c["ranks"] == lstm["ranks"]);
      CHECK(c["energy_uj"] == lstm["energy_uj"]);
    }
  }
  CHECK(chosen_count == 1);
  const json prec = test::read_json(dir + "/s/precision.json");
  CHECK(prec["ranks"]["lstm"] == lstm["ranks"]);
  // The simulator prices the precision file's ranks as the search did.
  r = test::run_cli("simulate " + file + " --precision " + dir + "/s/precision.json --format json");
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["total"]["energy_uj"].get<double>() == Approx(s["chosen"]["energy_uj"].get<double>()).epsilon(1e-9));

  // Training at ranks 1-4-4-1 from the rank-8 checkpoint truncates the cores, and says so.
  std::ofstream(dir + "/r4.json") << R"({"mixprec_precision": 1, "default": {"format": "int", "weights": 8, "activations": 8},
                                         "ranks": {"lstm": 4}})";
  r = test::run_cli("train " + file + " --precision " + dir + "/r4.json --init-from " + ckpt + " --out " + dir +
                    "/r4 --synthetic 48 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("init: lstm cores truncated from ranks 1-8-8-1 to 1-4-4-1 (TT rounding, relative error of the matrix <= ") !=
        std::string::npos);
  const json summary = test::read_json(dir + "/r4/summary.json");
  CHECK(summary["init_rank_truncations"][0]["to"] == json::parse("[1, 4, 4, 1]"));
  // Evaluating the rank-8 checkpoint at ranks 4 truncates too; at ranks larger than stored it fails.
  r = test::run_cli("eval " + file + " --checkpoint " + ckpt + " --precision " + dir + "/r4.json --synthetic 48 --format json");
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["rank_truncations"][0]["from"] == json::parse("[1, 8, 8, 1]"));
  r = test::run_cli("eval " + file + " --checkpoint " + dir + "/r4/best.ckpt --synthetic 48");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + dir + "/r4/best.ckpt: factorized layer \"lstm\" has ranks 1-4-4-1, smaller than the network's "
                 "1-8-8-1 (cores can be truncated to smaller ranks, not grown)\n");

  // reproduce does not search ranks, and says what to do instead.
  r = test::run_cli("reproduce " + file + " --out " + dir + "/rep");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: " + file + ": /search/ranks: expected no rank search in reproduce") == 0);
}

TEST_CASE("a sweep with compute search picks ranks per point and reports them", "[tensor][rank_search][sweep][cli]") {
  const std::string dir = test::temp_dir("rank_sweep");
  auto r = test::run_cli("sweep " + test::source_path("scenarios/sweeps/venue_tt_rank_search.json") + " --out " + dir + " --quiet");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(dir + "/points.jsonl");
  std::map<int, std::vector<std::pair<double, json>>> by_array;  // array -> (budget, results)
  int points = 0;
  for (std::string line; std::getline(in, line);) {
    const json p = json::parse(line);
    REQUIRE(p["status"] == "ok");
    ++points;
    const json& res = p["results"];
    REQUIRE(res.contains("ranks"));
    const std::string ranks = res["ranks"]["lstm"].get<std::string>();
    CHECK((ranks == "1-8-8-1" || ranks == "1-6-6-1" || ranks == "1-4-4-1" || ranks == "1-3-3-1" || ranks == "1-2-2-1" ||
           ranks == "1-1-1-1"));
    CHECK(res["energy_uj"].get<double>() <= res["budget_uj"].get<double>() * (1 + 1e-12));
    by_array[p["inputs"]["array"].get<int>()].push_back({p["inputs"]["budget"].get<double>(), res});
  }
  CHECK(points == 20);
  for (auto& [array, pts] : by_array) {
    std::sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    // A larger budget never forces a more sensitive optimum; the largest keeps more rank than the smallest.
    for (std::size_t i = 1; i < pts.size(); ++i)
      CHECK(pts[i].second["accuracy_proxy"].get<double>() <= pts[i - 1].second["accuracy_proxy"].get<double>() + 1e-15);
    CHECK(pts.back().second["ranks"]["lstm"] == "1-8-8-1");
    CHECK(pts.front().second["ranks"]["lstm"] != "1-8-8-1");
  }
}

TEST_CASE("HT layers: rank candidates, truncation on loading and the measured rank sensitivity", "[tensor][rank_search][model]") {
  // The venue network with an HT input matrix (3 modes: leaves 3, 8, 8; one transfer rank 6).
  const char* ht = R"({"network": {"layers": [{"name": "frames", "kind": "frames_to_sequence"},
      {"name": "lstm", "kind": "lstm", "hidden": 64, "factorization": {"kind": "ht", "input_modes": [3, 16, 16],
       "hidden_modes": [4, 4, 4], "leaf_ranks": [3, 8, 8], "transfer_ranks": [6]}},
      {"name": "head", "kind": "linear", "out_features": 5}]},
      "search": {"ranks": [{"layer": "lstm", "candidates": [{"leaf_ranks": [3, 8, 8], "transfer_ranks": [6]}, 3,
                                                            {"leaf_ranks": [2, 4, 2], "transfer_ranks": [3]}]}]}})";
  const Scenario sc = parse(patched("venue_tt_lstm", ht));
  CHECK(labels(sc.search.ranks[0]) ==
        std::vector<std::string>{"leaf 3-8-8, transfer 6", "leaf 3-3-3, transfer 3", "leaf 2-4-2, transfer 3"});
  // Every inner rank 4 exceeds the first leaf's 3: refused.
  json j = patched("venue_tt_lstm", ht);
  j["search"]["ranks"][0]["candidates"] = json::parse("[4]");
  CHECK(parse_error(j) == "inline.json: /search/ranks/0/candidates/0: expected ranks no larger than the layer's own "
                          "(leaf 3-8-8, transfer 6): the search truncates the trained cores, found leaf 4-4-4, transfer 4");
  const int li = sc.net.find("lstm");
  model::Graph big(sc.net);
  std::mt19937_64 rng(9);
  big.init(rng);
  for (std::size_t v : {std::size_t(1), std::size_t(2)}) {
    Network small = sc.net;
    small.layers[size_t(li)].factorization = sc.search.ranks[0].candidates[v];
    model::Graph low(small);
    std::vector<model::RankTruncation> tr;
    model::assign_weights(low, model::named_params(big), model::named_buffers(big), "src", &tr);
    REQUIRE(tr.size() == 1);
    CHECK(rank_label(tr[0].to) == labels(sc.search.ranks[0])[v]);
    CHECK(tr[0].relative_error_bound > 0);
    CHECK(tr[0].relative_error_bound < 1.5);
  }
  model::SyntheticOptions so;
  so.samples = 16;
  so.outputs = 5;
  so.shuffle = false;
  auto src = model::make_synthetic(big, so);
  const std::vector<model::Batch> data = model::take_batches(*src, 16, 8);
  const std::vector<LayerPrecision> options{LayerPrecision::uniform(NumFormat::Int, 8), LayerPrecision::uniform(NumFormat::Fp32, 32)};
  const std::vector<double> own = model::measured_rank_sensitivity(big, {sc.search.ranks[0].candidates[0]}, li, data,
                                                                   data, false, options);
  const std::vector<double> low = model::measured_rank_sensitivity(big, {sc.search.ranks[0].candidates[2]}, li, data,
                                                                   data, false, options);
  CHECK(own[1] == 0);
  CHECK(low[1] > 0);
  CHECK(low[0] > own[0]);
}
