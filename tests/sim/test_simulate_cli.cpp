// The `simulate` command's output contract: JSON fields, CSV columns, --precision, --out.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/json_reader.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {
const std::string kDefault = test::source_path("scenarios/venue_cnn_lstm.json");
}

TEST_CASE("simulate --format json holds layers, total, baselines and a manifest", "[cli][simulate]") {
  auto r = test::run_cli("simulate " + kDefault + " --format json");
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  REQUIRE(j["layers"].size() == 33);
  for (const auto& l : j["layers"]) {
    for (const char* k : {"name", "kind", "macs", "bits", "cycles", "energy_pj"}) CHECK(l.contains(k));
    double sum = 0;
    for (auto it = l["energy_pj"].begin(); it != l["energy_pj"].end(); ++it)
      if (it.key() != "total") sum += it.value().get<double>();
    CHECK(l["energy_pj"]["total"].get<double>() == Approx(sum));
  }
  for (const char* k : {"mac", "register_file", "interconnect", "weight_buffer", "input_buffer",
                        "output_buffer", "dram", "nonlinear", "static"})
    CHECK(j["layers"][0]["energy_pj"].contains(k));
  for (const char* k : {"cycles", "latency_ms", "energy_uj"}) CHECK(j["total"].contains(k));
  for (const char* b : {"int8", "int16", "fp16", "fp32"}) {
    REQUIRE(j["baselines"].contains(b));
    const double e = j["baselines"][b]["energy_uj"], mine = j["total"]["energy_uj"];
    CHECK(j["baselines"][b]["saving_percent"].get<double>() == Approx(100.0 * (e - mine) / e));
  }
  CHECK(j["manifest"]["scenario_hash_fnv1a64"].get<std::string>().size() == 16);
  CHECK(j["engine"] == "mapping");  // the scenario's cost_model default on asic hardware
  CHECK(j["timing"] == "phased");   // and its nest timing's
  const auto t = test::run_cli("simulate " + kDefault);
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.rfind("mixprec simulate: venue_cnn_lstm on edge-16x16-bitfusion (mapping, phased timing, inference)\n", 0) == 0);
  const auto a = test::run_cli("simulate " + kDefault + " --engine analytical --format json");
  REQUIRE(a.exit_code == 0);
  CHECK_FALSE(nlohmann::json::parse(a.out).contains("timing"));  // the analytical engine has its own
}

TEST_CASE("simulate output is deterministic", "[cli][simulate]") {
  auto a = test::run_cli("simulate " + kDefault + " --format csv");
  auto b = test::run_cli("simulate " + kDefault + " --format csv");
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  std::istringstream lines(a.out);
  std::string header;
  std::getline(lines, header);
  CHECK(header.rfind("name,kind,bits,macs,cycles,utilization,dram_bytes,energy_pj_mac,", 0) == 0);
  int rows = 0;
  for (std::string line; std::getline(lines, line);) ++rows;
  CHECK(rows == 33);
}

TEST_CASE("simulate --precision replaces the scenario's precision, and uniform int8 saves 0% against int8", "[cli][simulate]") {
  auto r = test::run_cli("simulate " + kDefault + " --format json --precision " +
                         test::source_path("scenarios/precision/venue_uniform_int4.json"));
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["layers"][1]["bits"]["weights"] == 4);
  CHECK(j["layers"][0]["bits"]["weights"] == 8);
  CHECK(j["baselines"]["int8"]["saving_percent"].get<double>() > 0);

  char path[] = "/tmp/mixprec_prec_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  { std::ofstream(path) << R"({"mixprec_precision": 1, "default": {"weights": 8, "activations": 8}})"; }
  auto u = test::run_cli("simulate " + kDefault + " --format json --precision " + path);
  std::remove(path);
  REQUIRE(u.exit_code == 0);
  CHECK(json::parse(u.out)["baselines"]["int8"]["saving_percent"].get<double>() == Approx(0).margin(1e-9));
}

TEST_CASE("a bad precision file is rejected with its own path and pointer", "[cli][simulate]") {
  char path[] = "/tmp/mixprec_prec_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  { std::ofstream(path) << R"({"mixprec_precision": 1, "layers": [{"match": "lstm.l7", "weights": 4}]})"; }
  auto r = test::run_cli("simulate " + kDefault + " --precision " + path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == std::string("error: ") + path + ": /layers/0/match: expected a layer of network "
                 "\"venue_resnet18_bilstm\" (did you mean \"lstm.l0\"?), found \"lstm.l7\", which matches no layer\n");
  std::remove(path);
}

TEST_CASE("simulate --out writes the file atomically and prints nothing on stdout", "[cli][simulate]") {
  char dir[] = "/tmp/mixprec_out_XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string out = std::string(dir) + "/cost.json";
  auto r = test::run_cli("simulate " + kDefault + " --format json --out " + out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  std::ifstream in(out);
  REQUIRE(in.good());
  json j = json::parse(in);
  CHECK(j["layers"].size() == 33);
  std::remove(out.c_str());
  rmdir(dir);
}

TEST_CASE("usage errors exit 2", "[cli]") {
  CHECK(test::run_cli("simulate " + kDefault + " --format yaml").exit_code == 2);
  CHECK(test::run_cli("frobnicate").exit_code == 2);
  CHECK(test::run_cli("--help").exit_code == 0);
}
