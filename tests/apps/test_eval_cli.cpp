// `mixprec eval`, `train --init-from` and pipeline::load_weights-based fine-tuning.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "pipeline/training.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

std::string temp_dir() { return test::temp_dir("eval_cli"); }
using test::read_json;

std::string tiny_file(const std::string& dir) {
  return test::write_default_scenario_with(dir + "/tiny.json", std::string(R"({"network": )") +
      test::kTinyNetworkPatch + R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []},
    "training": {"batch_size": 16, "micro_batches": 2, "epochs": 2}})");
}

}  // namespace

TEST_CASE("eval CLI: a checkpoint evaluates to the accuracy train reported", "[apps][cli]") {
  const std::string dir = temp_dir();
  const std::string file = tiny_file(dir);
  auto r = test::run_cli("train " + file + " --out " + dir + "/fp32 --synthetic 64 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json s = read_json(dir + "/fp32/summary.json");
  r = test::run_cli("eval " + file + " --checkpoint " + dir + "/fp32/best.ckpt --synthetic 64 --format json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json e = nlohmann::json::parse(r.out);
  CHECK(e["split"] == "test");
  CHECK(e["samples"] == s["test"]["samples"]);
  CHECK(e["accuracy"].get<double>() == s["test"]["accuracy"].get<double>());
  CHECK(e["loss"].get<double>() == Approx(s["test"]["loss"].get<double>()).epsilon(1e-12));
  CHECK(e["calibrated"].empty());
  const double lo = e["accuracy_ci"][0], hi = e["accuracy_ci"][1];
  CHECK(lo <= e["accuracy"].get<double>());
  CHECK(hi >= e["accuracy"].get<double>());

  // Post-training quantization of the FP32 checkpoint: quantizer ranges are calibrated.
  std::ofstream(dir + "/int8.json") << R"({"mixprec_precision": 1,
    "default": {"format": "int", "weights": 8, "activations": 8}})";
  r = test::run_cli("eval " + file + " --checkpoint " + dir + "/fp32/best.ckpt --synthetic 64 --format json"
                    " --precision " + dir + "/int8.json --integer --out " + dir + "/eval.json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json q = nlohmann::json::parse(r.out);
  CHECK(q == read_json(dir + "/eval.json"));
  CHECK(q["integer_arithmetic"] == true);
  CHECK_FALSE(q["calibrated"].empty());
  CHECK(q["calibrated"][0].get<std::string>().find("input_range") != std::string::npos);
  // 8-bit PTQ of a tiny model stays close to FP32 on this easy task.
  CHECK(std::abs(q["accuracy"].get<double>() - e["accuracy"].get<double>()) <= 0.25);

  // Fine-tuning from the FP32 weights: the first QAT epoch starts from them.
  r = test::run_cli("train " + file + " --out " + dir + "/qat --synthetic 64 --no-progress --epochs 1"
                    " --precision " + dir + "/int8.json --init-from " + dir + "/fp32/best.ckpt");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json f = read_json(dir + "/qat/summary.json");
  CHECK(f["training"]["initialized_from"] == dir + "/fp32/best.ckpt");
  CHECK(f["test"].contains("integer_eval"));
}

TEST_CASE("eval CLI: bad input exits 2 naming the problem", "[apps][cli]") {
  const std::string dir = temp_dir();
  const std::string file = tiny_file(dir);
  auto r = test::run_cli("eval " + file + " --checkpoint " + dir + "/none.ckpt --synthetic 16");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(dir + "/none.ckpt") != std::string::npos);
  // A checkpoint of another network.
  std::ifstream in(file);
  nlohmann::json other = nlohmann::json::parse(in);
  other["network"]["name"] = "other_net";
  std::ofstream(dir + "/other.json") << other.dump();
  r = test::run_cli("train " + dir + "/other.json --out " + dir + "/o --synthetic 16 --epochs 1 --no-progress");
  REQUIRE(r.exit_code == 0);
  r = test::run_cli("eval " + file + " --checkpoint " + dir + "/o/best.ckpt --synthetic 16");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + dir + "/o/best.ckpt: checkpoint is for network \"other_net\", not \"" +
                     nlohmann::json::parse(std::ifstream(file))["network"]["name"].get<std::string>() + "\"\n");
  r = test::run_cli("eval " + file + " --checkpoint " + dir + "/o/best.ckpt --split dev");
  CHECK(r.exit_code == 2);
  r = test::run_cli("eval " + file + " --checkpoint " + dir + "/o/best.ckpt --integer --synthetic 16");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: --integer needs an integer precision (give --precision)\n");
  r = test::run_cli("train " + file + " --out " + dir + "/x --resume --init-from " + dir + "/o/best.ckpt");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: give either --resume or --init-from, not both\n");
}

TEST_CASE("wilson interval: hand-computed values", "[apps]") {
  // p = 0.5, n = 100: centre 0.5, half-width 1.96/(1+0.0384) * sqrt(0.0025 + 0.000096) = 0.0962.
  const auto a = pipeline::wilson_interval(0.5, 100);
  CHECK(a.first == Approx(0.4038).margin(1e-4));
  CHECK(a.second == Approx(0.5962).margin(1e-4));
  const auto b = pipeline::wilson_interval(1.0, 50);  // all correct: upper bound 1, lower 0.9287
  CHECK(b.second == Approx(1.0));
  CHECK(b.first == Approx(0.9287).margin(1e-4));
}
