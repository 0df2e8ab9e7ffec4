// `mixprec train`: summary.json, checkpoints, --resume, and error exits.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "test_util.hpp"

using namespace mixprec;

namespace {

std::string temp_dir() { return test::temp_dir("train_cli"); }
using test::read_json;

// The default scenario shrunk to a tiny network and data set, written to dir/tiny.json.
std::string tiny_scenario_file(const std::string& dir, int epochs) {
  return test::write_default_scenario_with(dir + "/tiny.json",
      std::string(R"({"network": )") + test::kTinyNetworkPatch + R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []},
    "data": {"samples": 96},
    "training": {"batch_size": 16, "micro_batches": 2, "epochs": )" + std::to_string(epochs) + "}}");
}

}  // namespace

TEST_CASE("train CLI: synthetic run writes summary.json and checkpoints, --resume continues",
          "[model][cli]") {
  const std::string dir = temp_dir();
  const std::string file = tiny_scenario_file(dir, 2);
  const std::string out = dir + "/run";
  auto r = test::run_cli("train " + file + " --out " + out + " --synthetic 48 --epochs 1 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("test accuracy") != std::string::npos);
  nlohmann::json s = read_json(out + "/summary.json");
  CHECK(s["epochs"].size() == 1);
  CHECK(s["test"].contains("accuracy"));
  CHECK(s["precision"] == "fp32");
  CHECK(s["manifest"]["scenario"] == file);
  CHECK(s.contains("wall_seconds"));
  CHECK(std::ifstream(out + "/last.ckpt").good());
  CHECK(std::ifstream(out + "/best.ckpt").good());

  // Two epochs in total: the resumed run trains only the second and reports both.
  r = test::run_cli("train " + file + " --out " + out + " --synthetic 48 --epochs 2 --resume --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("resuming from " + out + "/last.ckpt at step 3") != std::string::npos);
  s = read_json(out + "/summary.json");
  CHECK(s["epochs"].size() == 2);
  CHECK(s["training"]["resumed"] == true);
}

TEST_CASE("train CLI: QAT on the scenario's data reports integer evaluation", "[model][cli]") {
  const std::string dir = temp_dir();
  const std::string file = tiny_scenario_file(dir, 1);
  auto r = test::run_cli("train " + file + " --out " + dir + "/q --qat --threads 2 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json s = read_json(dir + "/q/summary.json");
  CHECK(s["precision"] == "scenario");
  CHECK(s["data"]["name"] == "venue_generator/occupancy");
  CHECK(s["test"].contains("naive_accuracy"));
  CHECK(s["test"]["integer_eval"].contains("accuracy"));
  CHECK(s["manifest"]["threads"] == 2);
}

TEST_CASE("train CLI: bad input exits 2 with a message", "[model][cli]") {
  const std::string dir = temp_dir();
  const std::string file = tiny_scenario_file(dir, 1);
  auto r = test::run_cli("train " + file + " --out " + dir + "/x --precision " + dir + "/missing.json");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: ") == 0);
  std::ofstream(dir + "/w1.json") << R"({"mixprec_precision": 1,
    "default": {"format": "int", "weights": 1, "activations": 8}})";
  r = test::run_cli("train " + file + " --out " + dir + "/x --precision " + dir + "/w1.json --synthetic 8");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + dir + "/w1.json: layer \"cnn.stem\": weights at 1 integer bits; "
                 "quantization-aware training supports 2 to 16\n");
  r = test::run_cli("train " + file + " --out " + dir + "/y --resume --synthetic 8");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no checkpoint to resume from") != std::string::npos);
  // A corrupted checkpoint is rejected, naming the file.
  r = test::run_cli("train " + file + " --out " + dir + "/z --synthetic 16 --no-progress");
  REQUIRE(r.exit_code == 0);
  {
    std::fstream f(dir + "/z/last.ckpt", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  r = test::run_cli("train " + file + " --out " + dir + "/z --resume --synthetic 16");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + dir + "/z/last.ckpt: checksum mismatch: the checkpoint is corrupted\n");
}
