// Reuse of finished training runs (`reproduce --reuse-training`, `predictor --reuse-training`):
// a run directory whose jobs are copied gives the report a fresh run gives, and a job is only
// recognised when every training input is the same.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/scenario.hpp"
#include "pipeline/reproduce.hpp"
#include "pipeline/search_run.hpp"
#include "pipeline/training.hpp"
#include "test_util.hpp"

using namespace mixprec;
using nlohmann::json;
using test::read_json;

namespace {
std::string tiny_scenario(const std::string& dir) { return test::write_tiny_reproduce_scenario(dir + "/tiny.json"); }
}  // namespace

TEST_CASE("reproduce --reuse-training: every job of an identical run is copied, the report is the same",
          "[pipeline][reproduce][reuse]") {
  const std::string dir = test::temp_dir("reuse");
  const std::string file = tiny_scenario(dir);
  // 0.9: on the tiny network DRAM bursts dominate and 60% of int8 is out of reach.
  auto r = test::run_cli("reproduce " + file + " --no-progress --budgets 0.9 --out " + dir + "/a");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json a = read_json(dir + "/a/report.json");
  CHECK_FALSE(a.at("manifest").contains("reused_training"));

  r = test::run_cli("reproduce " + file + " --no-progress --budgets 0.9 --reuse-training " + dir + "/a --out " + dir +
                    "/b");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json b = read_json(dir + "/b/report.json");
  CHECK(pipeline::compare_reports(a, b).empty());
  // The FP32 model and every distinct configuration (the ladder's int8 is the baseline's twin).
  const json st = read_json(dir + "/b/seed1/state.json");
  std::size_t trained = 0;
  for (const auto& it : st.at("stages").items())
    if (it.key() == "fp32" || (it.key().rfind("job/", 0) == 0 && !it.value()["result"].contains("same_as"))) {
      ++trained;
      CHECK(it.value()["result"]["reused_from"].get<std::string>().rfind(dir + "/a/seed1/", 0) == 0);
    }
  REQUIRE(trained >= 4);
  CHECK(b.at("manifest").at("reused_training").size() == trained);
  CHECK(read_json(dir + "/b/seed1/baseline/summary.json")["reused_from"] == dir + "/a/seed1/baseline");
  // verify of the reused run's report re-trains everything and agrees.
  r = test::run_cli("verify " + dir + "/b/report.json --no-progress --work " + dir + "/v");
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("find_finished_job: only a run with every training input equal", "[pipeline][reuse]") {
  const std::string dir = test::temp_dir("reuse_find");
  const std::string file = tiny_scenario(dir);
  auto r = test::run_cli("reproduce " + file + " --no-progress --budgets 0.9 --out " + dir + "/a");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Scenario sc = load_scenario(file);
  const std::string seed = dir + "/a/seed" + std::to_string(sc.training.seed);
  pipeline::TrainJob j;
  j.scenario_file = file;
  j.sc = sc;
  j.precision = pipeline::uniform_precision(sc, sc.constraints.energy.baseline);
  j.label = "baseline";
  j.out = dir + "/probe";
  j.init_from = seed + "/fp32/best.ckpt";
  j.integer_eval = true;
  j.threads = 1;
  CHECK(pipeline::find_finished_job(seed, j) == seed + "/baseline");
  CHECK(pipeline::find_finished_job(dir + "/absent", j).empty());

  pipeline::TrainJob fp32 = j;
  fp32.precision.clear();
  fp32.integer_eval = false;
  CHECK(pipeline::find_finished_job(seed, fp32) == seed + "/fp32");

  SECTION("another thread count") {
    j.threads = 2;
    CHECK(pipeline::find_finished_job(seed, j).empty());
  }
  SECTION("no integer test pass") {
    j.integer_eval = false;
    CHECK(pipeline::find_finished_job(seed, j).empty());
  }
  SECTION("other weight bits") {
    for (LayerPrecision& l : j.precision) l.weight_bits = 7;
    CHECK(pipeline::find_finished_job(seed, j).empty());
  }
  SECTION("another QAT learning rate") {
    j.sc.training.qat_learning_rate *= 2;
    CHECK(pipeline::find_finished_job(seed, j).empty());
  }
  SECTION("low-precision gradient accumulation") {
    j.fp32_buffers = false;
    CHECK(pipeline::find_finished_job(seed, j).empty());
  }
  SECTION("an initial checkpoint with other bytes") {
    std::ifstream in(j.init_from, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::string b = bytes.str();
    b.back() = char(b.back() ^ 1);
    j.init_from = dir + "/other.ckpt";
    std::ofstream(j.init_from, std::ios::binary) << b;
    CHECK(pipeline::find_finished_job(seed, j).empty());
  }
  SECTION("another scenario file") {
    j.scenario_file = dir + "/copy.json";
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf() << "\n";
    std::ofstream(j.scenario_file) << text.str();
    CHECK(pipeline::find_finished_job(seed, j).empty());
  }
}
