// `mixprec reproduce --quick` end to end: the report's numbers agree with each other, a finished
// or interrupted run resumes to the identical report, and `verify` catches a changed number.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "pipeline/reproduce.hpp"
#include "test_util.hpp"

using namespace mixprec;
using nlohmann::json;

namespace {

std::string temp_dir() { return test::temp_dir("reproduce"); }
using test::read_json;

const json& model_named(const json& rep, const std::string& name) {
  for (const json& m : rep.at("models"))
    if (m.at("name") == name) return m;
  FAIL("no model " << name);
  throw 0;
}

}  // namespace

TEST_CASE("reproduce --quick: a consistent report, resume and verify", "[apps][reproduce]") {
  const std::string dir = temp_dir();
  const std::string scenario = test::source_path("scenarios/venue_cnn_lstm.json");
  const std::string run = dir + "/run";
  auto r = test::run_cli("reproduce " + scenario + " --quick --no-progress --out " + run);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("At 60% of the uniform int8 energy budget") == 0);
  const json rep = read_json(run + "/report.json");

  // Structure and provenance.
  CHECK(rep["mixprec_report"] == 1);
  CHECK(rep["quick"] == true);
  CHECK(rep["scenario"]["name"] == "venue_cnn_lstm");
  CHECK(rep["manifest"]["phases"].size() == 6);
  CHECK(rep["chosen"]["sensitivity_method"] == "measured");

  // The verdict follows from the models' numbers.
  const json& base = model_named(rep, "baseline");
  const json& chosen = model_named(rep, "chosen");
  const double be = base["energy_uj"], ce = chosen["energy_uj"];
  CHECK(ce <= 0.6 * be * (1 + 1e-9));  // the budget holds
  const json& v = rep["verdict"];
  CHECK(v["energy_saving_pct"].get<double>() == Approx(100 * (be - ce) / be));
  CHECK(v["accuracy_drop_pp"].get<double>() ==
        Approx(100 * (base["accuracy"].get<double>() - chosen["accuracy"].get<double>())));
  CHECK(v["energy_claim_held"] == (v["energy_saving_pct"].get<double>() >= 35));
  CHECK(v["accuracy_claim_held"] == (v["accuracy_drop_pp"].get<double>() < 2));
  CHECK(v["claim_held"] == (v["energy_claim_held"] && v["accuracy_claim_held"] && v["latency_claim_held"]));
  // Per-layer energies sum to the whole (layers without weights carry the rest).
  double layer_sum = 0;
  for (const json& l : rep["chosen"]["layers"]) layer_sum += l["energy_uj"].get<double>();
  CHECK(layer_sum <= rep["chosen"]["energy_uj"].get<double>() * (1 + 1e-9));
  CHECK(layer_sum > 0.5 * rep["chosen"]["energy_uj"].get<double>());
  // Component breakdown sums to the totals.
  for (const json& e : rep["energy_breakdown"]["entries"]) {
    double s = 0;
    for (const json& x : e["values"]) s += x.get<double>();
    CHECK(s == Approx(e["name"] == "chosen" ? ce : be).epsilon(1e-6));
  }
  // Both engines agree within the bounds tests/systemc holds them to.
  CHECK(std::abs(rep["engines"]["cycles_difference_pct"].get<double>()) < 10);
  CHECK(std::abs(rep["engines"]["energy_difference_pct"].get<double>()) < 1);
  CHECK(rep["ablations"].size() == 4);
  CHECK(rep["budget_sweep"].size() == 4);  // 0.5 0.6 0.7 0.9
  for (const json& s : rep["budget_sweep"])
    if (s["feasible"] == true)
      CHECK(s["energy_uj"].get<double>() <= s["budget_fraction"].get<double>() * be * (1 + 1e-9));
  for (const char* f : {"/report.md", "/report.html", "/pareto.csv", "/precision.json", "/state.json"})
    CHECK(std::ifstream(run + f).good());

  // A second invocation without --resume or --force refuses to touch the run.
  r = test::run_cli("reproduce " + scenario + " --quick --no-progress --out " + run);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + run + " already holds a run: --resume continues it, --force starts over, "
                 "--run-id or --out picks another directory\n");

  // An interruption after the search phase: resume redoes the rest to the identical numbers.
  json state = read_json(run + "/state.json");
  for (const char* p : {"chosen", "engines", "ablations"}) state["phases"].erase(p);
  json order = json::array();
  for (const json& n : state["order"])
    if (state["phases"].contains(n.get<std::string>())) order.push_back(n);
  state["order"] = order;
  std::ofstream(run + "/state.json") << state.dump();
  std::remove((run + "/chosen/summary.json").c_str());
  r = test::run_cli("reproduce " + scenario + " --quick --no-progress --resume --out " + run);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(pipeline::compare_reports(rep, read_json(run + "/report.json")).empty());

  // Resuming with other options is refused.
  r = test::run_cli("reproduce " + scenario + " --quick --no-progress --resume --budget 0.7 --out " + run);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("was started with other options") != std::string::npos);

  // verify: the same numbers again; a changed number is reported with its pointer.
  r = test::run_cli("verify " + run + "/report.json --no-progress --work " + dir + "/again");
  INFO(r.out + r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("verified") == 0);
  json tampered = rep;
  tampered["verdict"]["energy_saving_pct"] = rep["verdict"]["energy_saving_pct"].get<double>() + 1;
  std::ofstream(dir + "/tampered.json") << tampered.dump();
  r = test::run_cli("verify " + dir + "/tampered.json --no-progress --work " + dir + "/again2");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("1 numbers differ") == 0);
  CHECK(r.out.find("/verdict/energy_saving_pct") != std::string::npos);
}

TEST_CASE("compare_reports: skips provenance, reports pointers", "[apps][reproduce]") {
  const json a = json::parse(R"({"run_id": "a", "manifest": {"x": 1}, "v": {"e": 1.0, "l": [1, 2]},
                                 "wall_seconds": 3})");
  json b = a;
  b["run_id"] = "b";
  b["manifest"]["x"] = 2;
  b["wall_seconds"] = 4;
  CHECK(pipeline::compare_reports(a, b).empty());
  b["v"]["l"][1] = 3;
  b["v"]["extra"] = true;
  const auto d = pipeline::compare_reports(a, b);
  REQUIRE(d.size() == 2);
  CHECK(d[0] == "/v/l/1: 2 != 3");
  CHECK(d[1] == "/v/extra: only in the re-run");
}

TEST_CASE("reproduce --reuse-fp32: a matching train run is reused, another refused", "[apps][reproduce]") {
  const std::string dir = temp_dir();
  const std::string file = test::write_default_scenario_with(dir + "/tiny.json",
      std::string(R"({"network": )") + test::kTinyNetworkPatch + R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8, "gradients": 8},
                  "layers": [{"match": "lstm.*", "weights": 4, "activations": 8}]},
    "data": {"samples": 128},
    "training": {"batch_size": 16, "micro_batches": 2, "epochs": 1}})");
  auto r = test::run_cli("train " + file + " --out " + dir + "/fp32 --no-progress");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json summary = read_json(dir + "/fp32/summary.json");
  r = test::run_cli("reproduce " + file + " --no-progress --no-ablations --reuse-fp32 " + dir +
                    "/fp32 --out " + dir + "/run");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const json rep = read_json(dir + "/run/report.json");
  CHECK(model_named(rep, "fp32")["accuracy"] == summary["test"]["accuracy"]);
  CHECK(rep["ablations"].empty());
  CHECK(rep["budget_sweep"].empty());

  // Trained with another thread count: not the same run.
  r = test::run_cli("reproduce " + file + " --no-progress --threads 2 --reuse-fp32 " + dir +
                    "/fp32 --out " + dir + "/run2");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: " + dir + "/fp32/summary.json: /training/threads: expected 2 (as the "
                 "scenario's FP32 run), found 1\n");
}
