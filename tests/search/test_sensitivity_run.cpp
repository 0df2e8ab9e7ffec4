// Sensitivities computed from a checkpoint (pipeline/sensitivity_run.hpp): both methods on a tiny
// trained network, the cache next to the checkpoint (reused, invalidated by a new checkpoint),
// and `mixprec search` with --checkpoint, the default checkpoint, and its errors.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "pipeline/sensitivity_run.hpp"
#include "core/scenario.hpp"
#include "search/io.hpp"
#include "sim/cost_table.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

std::string temp_dir() { return test::temp_dir("sens_run"); }

// The default scenario shrunk to a tiny CNN + BiLSTM, results under dir/results.
// The scenario's method is "hessian" here (the default scenario's is "measured").
std::string tiny_scenario_file(const std::string& dir) {
  return test::write_default_scenario_with(dir + "/tiny.json",
      std::string(R"({"name": "tiny", "network": )") + test::kTinyNetworkPatch + R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []},
    "search": {"weight_bits": [2, 4, 8], "activation_bits": [4, 8], "sensitivity": "hessian"},
    "training": {"batch_size": 16, "micro_batches": 1, "epochs": 1},
    "constraints": {"energy_budget": {"fraction": 0.9}},
    "report": {"out_dir": ")" + dir + R"(/results"}})");
}

// Trains the tiny network for one epoch on the synthetic task; returns DIR/best.ckpt.
std::string train(const std::string& file, const std::string& out, int samples) {
  auto r = test::run_cli("train " + file + " --out " + out + " --synthetic " + std::to_string(samples) +
                         " --epochs 1 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return out + "/best.ckpt";
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<LayerPrecision> options_of(const Scenario& sc) {
  LayerPrecision base;
  sc.precision.defaults.apply_to(base);
  return sim::candidate_options(sc.search, base);
}

}  // namespace

TEST_CASE("sensitivity from a checkpoint: both methods, cache reused and invalidated", "[search][sensitivity]") {
  const std::string dir = temp_dir();
  const std::string file = tiny_scenario_file(dir);
  const std::string ckpt = train(file, dir + "/run", 48);
  const Scenario sc = load_scenario(file);
  const std::vector<LayerPrecision> options = options_of(sc);
  REQUIRE(options.size() == 6);

  pipeline::SensitivityRequest req;
  req.checkpoint = ckpt;
  req.synthetic = 48;
  req.samples = 12;
  pipeline::SensitivityResult a = pipeline::compute_sensitivity(sc, options, req);
  CHECK_FALSE(a.from_cache);
  CHECK(a.cache_status == "miss");
  CHECK(a.table.method == "hessian");
  CHECK(a.table.checkpoint == ckpt);
  CHECK(a.cache_path.rfind(ckpt + ".sens-hessian-", 0) == 0);
  REQUIRE(a.table.values.size() == sc.net.layers.size() * options.size());
  REQUIRE(a.table.activation_terms.size() == a.table.values.size());
  double act_sum = 0;
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l)
    for (std::size_t o = 0; o < options.size(); ++o) {
      const std::size_t k = l * options.size() + o;
      CHECK(a.table.values[k] >= 0);
      CHECK(a.table.values[k] == Approx(a.table.weight_terms[k] + a.table.activation_terms[k]));
      if (!sc.net.layers[l].has_weights()) CHECK(a.table.values[k] == 0);
      act_sum += a.table.activation_terms[k];
    }
  CHECK(act_sum > 0);  // the activation term takes part

  // Reused: same numbers, from the file, whatever the thread count.
  req.threads = 2;
  pipeline::SensitivityResult b = pipeline::compute_sensitivity(sc, options, req);
  CHECK(b.from_cache);
  CHECK(b.cache_status == "hit");
  CHECK(b.cache_path == a.cache_path);
  CHECK(b.table.values == a.table.values);
  // ... and recomputing with two threads gives the same numbers too.
  req.use_cache = false;
  pipeline::SensitivityResult c = pipeline::compute_sensitivity(sc, options, req);
  CHECK_FALSE(c.from_cache);
  CHECK(c.cache_path.empty());
  CHECK(c.table.values == a.table.values);
  req.use_cache = true;

  // Other settings: another cache file.
  req.samples = 8;
  CHECK(pipeline::sensitivity_cache_path(sc, options, req) != a.cache_path);
  req.samples = 12;

  // A new checkpoint at the same path invalidates the cache.
  train(file, dir + "/run", 64);
  pipeline::SensitivityResult d = pipeline::compute_sensitivity(sc, options, req);
  CHECK_FALSE(d.from_cache);
  CHECK(d.cache_status == "stale");
  CHECK(d.table.checkpoint_hash != a.table.checkpoint_hash);
  CHECK(d.table.values != a.table.values);
  CHECK(pipeline::compute_sensitivity(sc, options, req).from_cache);

  // A cache with a changed number (still valid JSON) fails its checksum; a truncated one fails to
  // parse. Either is said and recomputed, never reused.
  {
    std::ifstream in(d.cache_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string good = ss.str();
    std::string bad = good;
    const std::size_t digit = bad.find_first_of("0123456789", bad.find("\"value\": "));
    REQUIRE(digit != std::string::npos);
    bad[digit] = bad[digit] == '1' ? '2' : '1';
    std::ofstream(d.cache_path, std::ios::binary) << bad;
    CHECK_THROWS_WITH(search::load_sensitivity(d.cache_path, sc.net, options),
                      Catch::StartsWith(d.cache_path + ": /content_fnv1a64: expected the checksum of the table's "
                                                       "content (") &&
                          Catch::EndsWith(": the file was changed or corrupted"));
    pipeline::SensitivityResult e = pipeline::compute_sensitivity(sc, options, req);
    CHECK_FALSE(e.from_cache);
    CHECK(e.cache_status == "unreadable");
    CHECK(e.table.values == d.table.values);
    std::ofstream(d.cache_path, std::ios::binary) << good.substr(0, good.size() / 2);
    pipeline::SensitivityResult f = pipeline::compute_sensitivity(sc, options, req);
    CHECK(f.cache_status == "unreadable");
    CHECK(f.table.values == d.table.values);
    CHECK(pipeline::compute_sensitivity(sc, options, req).cache_status == "hit");
  }

  // Measured: a loss increase per (layer, option), larger at 2-bit weights than at 8 on average.
  req.method = "measured";
  req.samples = 12;
  pipeline::SensitivityResult m = pipeline::compute_sensitivity(sc, options, req);
  CHECK(m.table.method == "measured");
  CHECK(m.cache_path.rfind(ckpt + ".sens-measured-", 0) == 0);
  double low = 0, high = 0;
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l)
    for (std::size_t o = 0; o < options.size(); ++o) {
      const double v = m.table.at(l, o);
      CHECK(v >= 0);
      if (!sc.net.layers[l].has_weights()) CHECK(v == 0);
      if (options[o].weight_bits == 2) low += v;
      if (options[o].weight_bits == 8) high += v;
    }
  CHECK(low > high);
  // The cache file is a sensitivity table search/io.hpp reads.
  const search::SensitivityTable t = search::load_sensitivity(m.cache_path, sc.net, options);
  CHECK(t.values == m.table.values);
  CHECK(t.method == "measured");
}

TEST_CASE("sensitivity requests that cannot be honoured are errors", "[search][sensitivity]") {
  const std::string dir = temp_dir();
  const Scenario sc = load_scenario(tiny_scenario_file(dir));
  const std::vector<LayerPrecision> options = options_of(sc);
  pipeline::SensitivityRequest req;
  req.checkpoint = dir + "/none.ckpt";
  CHECK_THROWS_WITH(pipeline::compute_sensitivity(sc, options, req),
                    "checkpoint " + dir + "/none.ckpt does not exist or is unreadable");
  req.method = "fisher";
  CHECK_THROWS_AS(pipeline::compute_sensitivity(sc, options, req), UsageError);
  // A checkpoint of another network.
  std::ofstream(dir + "/junk.ckpt") << "not a checkpoint";
  req.method = "hessian";
  req.checkpoint = dir + "/junk.ckpt";
  CHECK_THROWS_AS(pipeline::compute_sensitivity(sc, options, req), SpecError);
}

TEST_CASE("search CLI computes sensitivities from a checkpoint and says where they came from", "[search][sensitivity][cli]") {
  const std::string dir = temp_dir();
  const std::string file = tiny_scenario_file(dir);
  const std::string args = "search " + file + " --format json --synthetic 48 --samples 12 --out " + dir + "/s";

  // No checkpoint anywhere and no --sensitivity: exit 2, saying how to get one.
  auto r = test::run_cli(args);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: search needs sensitivities and there is no checkpoint at " + dir +
                     "/results/tiny-train/best.ckpt: train one with `mixprec train " + file +
                     "`, or pass --checkpoint C or --sensitivity S.json\n");

  // With --checkpoint: computed, then reused from the cache.
  const std::string ckpt = train(file, dir + "/run", 48);
  r = test::run_cli(args + " --checkpoint " + ckpt);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["sensitivity_method"] == "hessian");
  CHECK(j["sensitivity"]["method"] == "hessian");
  CHECK(j["sensitivity"]["source"] == "computed");
  CHECK(j["sensitivity"]["checkpoint"] == ckpt);
  const std::string cache = j["sensitivity"]["file"].get<std::string>();
  CHECK(cache.rfind(ckpt + ".sens-hessian-", 0) == 0);
  CHECK(read_json(dir + "/s/search.json")["sensitivity"] == j["sensitivity"]);
  CHECK(j["chosen"]["feasible"] == true);
  r = test::run_cli(args + " --checkpoint " + ckpt);
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j["sensitivity"]["source"] == "cache");
  CHECK(j["sensitivity"]["file"] == cache);

  // The table output names the method and the source.
  r = test::run_cli("search " + file + " --synthetic 48 --samples 12 --out " + dir + "/s --checkpoint " + ckpt +
                    " --method measured --threads 2");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("sensitivity: measured computed from " + ckpt + ", cached at " + ckpt + ".sens-measured-") !=
        std::string::npos);
  j = read_json(dir + "/s/search.json");
  CHECK(j["sensitivity"]["method"] == "measured");
  CHECK(j["manifest"]["threads"] == 2);

  // Without --checkpoint, `mixprec train`'s default output is used when it exists.
  train(file, dir + "/results/tiny-train", 48);
  r = test::run_cli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j["sensitivity"]["checkpoint"] == dir + "/results/tiny-train/best.ckpt");
  CHECK(j["sensitivity"]["source"] == "computed");

  // A table file as before; --method is checked against it; options it cannot use are errors.
  r = test::run_cli("search " + file + " --format json --out " + dir + "/s --sensitivity " + cache);
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j["sensitivity"]["source"] == "file");
  CHECK(j["sensitivity"]["file"] == cache);
  r = test::run_cli("search " + file + " --out " + dir + "/s --sensitivity " + cache + " --method measured");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + cache + ": /method: expected sensitivities by method \"measured\" (--method), found \"hessian\"\n");
  r = test::run_cli("search " + file + " --out " + dir + "/s --sensitivity " + cache + " --threads 2");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: --threads applies only when sensitivities are computed from a checkpoint, not with --sensitivity\n");
  r = test::run_cli("search " + file + " --out " + dir + "/s --sensitivity " + cache + " --checkpoint " + ckpt);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: give either --sensitivity FILE or --checkpoint C, not both\n");
  r = test::run_cli("search " + file + " --out " + dir + "/s --checkpoint " + dir + "/missing.ckpt");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: checkpoint " + dir + "/missing.ckpt does not exist or is unreadable\n");
  r = test::run_cli("search " + file + " --out " + dir + "/s --checkpoint " + ckpt + " --method fisher");
  CHECK(r.exit_code == 2);
}
