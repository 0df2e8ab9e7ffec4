// Sweeps: the constraint language, sweep-file validation (before any point runs), point
// enumeration (grid order, ranges, Latin hypercube strata), point results against a direct
// simulation, and the run's outputs under threads, resume after a kill, shards + merge and MPI.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>

#include "pipeline/common.hpp"
#include "pipeline/sweep_run.hpp"
#include "core/errors.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "energy_models/area.hpp"
#include "search/sweep_expr.hpp"
#include "search/sweep_plan.hpp"
#include "sim/mapping_engine.hpp"
#include "sim/simulate.hpp"
#include "test_util.hpp"

extern char** environ;

namespace {

using namespace mixprec;
using nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A sweep file in `dir` over the default scenario with the given axes (JSON text) and extras.
std::string write_sweep(const std::string& dir, const std::string& axes, const std::string& extra = "") {
  const std::string path = dir + "/sweep.json";
  spit(path, R"({"mixprec_sweep": 1, "name": "t", "base": ")" + test::source_path("scenarios/venue_cnn_lstm.json") +
                 R"(", "axes": )" + axes + extra + "}");
  return path;
}

std::string load_error(const std::string& path) {
  try {
    (void)sweep::load_sweep(path);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "no error";
}

std::size_t count_lines(const std::string& path) {
  const std::string t = slurp(path);
  return static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n'));
}

}  // namespace

TEST_CASE("constraint expressions: precedence, types and names", "[sweep]") {
  const std::vector<std::string> names{"rows", "cols", "style"};
  const std::vector<json> v{16, 8, "composable"};
  auto holds = [&](const std::string& e) { return sweep::Expr::parse(e, names).holds(v); };
  CHECK(holds("rows * cols <= 128"));
  CHECK_FALSE(holds("rows * cols < 128"));
  CHECK(holds("rows + cols * 2 == 32"));        // * binds tighter than +
  CHECK(holds("(rows + cols) * 2 == 48"));
  CHECK(holds("rows % 5 == 1 && -cols == -8"));
  CHECK(holds("style == 'composable' || rows > 100"));
  CHECK(holds("!(style != \"composable\")"));
  CHECK(holds("rows / cols == 2"));
  CHECK_FALSE(holds("rows > 10 && cols > 10"));
  CHECK(holds("true || rows / 0 == 1"));        // short-circuit: the division never runs
  CHECK_THROWS_WITH(holds("rows / (cols - 8) == 1"), "'/' by zero");
  CHECK_THROWS_WITH(holds("style + 1 > 2"), "'+' needs numbers, found a string and a number");
  CHECK_THROWS_WITH(holds("style == 3"), "'==' compares a string with a number");
  CHECK_THROWS_WITH(holds("rows + 1"), "the constraint is a number, not a condition");
  CHECK_THROWS_WITH(sweep::Expr::parse("row * 2 > 1", names),
                    "at character 1: unknown name 'row' (axis names: rows, cols, style)");
  CHECK_THROWS_WITH(sweep::Expr::parse("rows = 2", names),
                    "at character 6: expected '==' (a single '=' is not an operator), found '= 2'");
  CHECK_THROWS_WITH(sweep::Expr::parse("(rows > 2", names), "at character 10: expected ')', found the end");
}

TEST_CASE("sweep files: bad axes are rejected before any point runs, at their pointer", "[sweep]") {
  const std::string dir = test::temp_dir("sweep_bad");
  // unknown scenario key (the last name): the scenario parser's message, at the axis value
  std::string f = write_sweep(dir, R"([{"key": "/hardware/pe_array/rowz", "values": [8]}])");
  std::string e = load_error(f);
  CHECK(e.rfind(f + ": /axes/0/values/0: setting /hardware/pe_array/rowz to 8 makes the base scenario invalid: ", 0) == 0);
  CHECK(e.find("/hardware/pe_array/rowz: expected a known key (did you mean \"rows\"?), found unknown key \"rowz\"") != std::string::npos);
  // unknown intermediate name
  f = write_sweep(dir, R"([{"key": "/hardware/pe_aray/rows", "values": [8]}])");
  CHECK(load_error(f) == f + ": /axes/0/key: expected a key whose parent exists in the base scenario "
                             "(/hardware/pe_aray is not there), found string \"/hardware/pe_aray/rows\"");
  // wrong type for the key
  f = write_sweep(dir, R"([{"key": "/hardware/pe_array/rows", "values": [8, "sixteen"]}])");
  e = load_error(f);
  CHECK(e.rfind(f + ": /axes/0/values/1: setting /hardware/pe_array/rows to \"sixteen\" makes", 0) == 0);
  CHECK(e.find("/hardware/pe_array/rows: expected an integer") != std::string::npos);
  // empty range and empty list
  f = write_sweep(dir, R"([{"key": "/hardware/clock_mhz", "range": {"start": 500, "stop": 100, "step": 50}}])");
  CHECK(load_error(f) == f + ": /axes/0/range/stop: expected a value >= start (500) for a positive step, found number 100.0");
  f = write_sweep(dir, R"([{"key": "/hardware/clock_mhz", "values": []}])");
  CHECK(load_error(f) == f + ": /axes/0/values: expected a non-empty list of values, found an empty list");
  // a value out of the key's range (checked by the scenario parser)
  f = write_sweep(dir, R"([{"key": "/hardware/clock_mhz", "range": {"start": 0, "stop": 100, "num": 3}}])");
  CHECK(load_error(f).rfind(f + ": /axes/0/range: setting /hardware/clock_mhz to 0 makes the base scenario invalid", 0) == 0);
  // not a pointer; duplicate names; constraint over an unknown axis; uniform axis in a grid
  f = write_sweep(dir, R"([{"key": "hardware/clock_mhz", "values": [100]}])");
  CHECK(load_error(f) == f + ": /axes/0/key: expected a JSON pointer into the scenario such as \"/hardware/clock_mhz\", found string \"hardware/clock_mhz\"");
  f = write_sweep(dir, R"([{"key": "/hardware/pe_array/rows", "values": [8]}, {"key": "/hardware/pe_array/rows", "values": [16]}])");
  CHECK(load_error(f) == f + ": /axes/1/name: expected a unique axis name, found \"rows\" (used by an earlier axis; give \"name\")");
  f = write_sweep(dir, R"([{"key": "/hardware/pe_array/rows", "values": [8]}])", R"(, "constraints": ["cols > 2"])");
  CHECK(load_error(f) == f + ": /constraints/0: expected a constraint expression over the axis names (at character 1: "
                             "unknown name 'cols' (axis names: rows)), found string \"cols > 2\"");
  f = write_sweep(dir, R"([{"key": "/hardware/clock_mhz", "uniform": {"min": 100, "max": 200}}])");
  CHECK(load_error(f).rfind(f + ": /axes/0/uniform: expected \"values\" or \"range\" for grid sampling", 0) == 0);
  // the CLI: exit code 2 and the message, nothing written
  const std::string out = dir + "/out";
  const test::RunResult r = test::run_cli("sweep " + f + " --out " + out);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/axes/0/uniform") != std::string::npos);
  CHECK(::access(out.c_str(), F_OK) != 0);
}

TEST_CASE("sweep points: grid order, ranges, labels and constraints", "[sweep]") {
  const std::string dir = test::temp_dir("sweep_grid");
  const std::string f = write_sweep(dir, R"([
      {"name": "array", "keys": ["/hardware/pe_array/rows", "/hardware/pe_array/cols"], "values": [8, 16]},
      {"name": "budget", "key": "/constraints/energy_budget/fraction", "range": {"start": 0.5, "stop": 0.8, "step": 0.1}},
      {"name": "dataflow", "key": "/hardware/pe_array/dataflow", "values": ["weight_stationary", "output_stationary"],
       "labels": ["ws", "os"]}])",
                                    R"X(, "constraints": ["!(array == 8 && dataflow == 'os')"])X");
  const sweep::SweepSpec s = sweep::load_sweep(f);
  REQUIRE(s.axes[1].values == std::vector<json>{0.5, 0.6, 0.7, 0.8});  // no 0.6000000000000001
  std::size_t discarded = 0;
  const auto pts = sweep::enumerate_points(s, &discarded);
  CHECK(discarded == 4);  // array 8 x 4 budgets x os
  REQUIRE(pts.size() == 12);
  // the last axis varies fastest; indices are positions after the constraint
  CHECK(sweep::point_inputs(s, pts[0]) == json{{"array", 8}, {"budget", 0.5}, {"dataflow", "ws"}});
  CHECK(sweep::point_inputs(s, pts[1]) == json{{"array", 8}, {"budget", 0.6}, {"dataflow", "ws"}});
  CHECK(sweep::point_inputs(s, pts[4]) == json{{"array", 16}, {"budget", 0.5}, {"dataflow", "ws"}});
  CHECK(sweep::point_inputs(s, pts[5]) == json{{"array", 16}, {"budget", 0.5}, {"dataflow", "os"}});
  for (std::size_t i = 0; i < pts.size(); ++i) CHECK(pts[i].index == i);
  // a point applies every key of its axis; the label names the value
  const json doc = sweep::apply_point(s, pts[5]);
  CHECK(doc["hardware"]["pe_array"]["rows"] == 16);
  CHECK(doc["hardware"]["pe_array"]["cols"] == 16);
  CHECK(doc["hardware"]["pe_array"]["dataflow"] == "output_stationary");
  CHECK(doc["constraints"]["energy_budget"]["fraction"] == 0.5);
  // keys are content hashes: distinct and stable
  std::set<std::string> keys;
  for (const auto& p : pts) keys.insert(p.key);
  CHECK(keys.size() == pts.size());
  CHECK(sweep::enumerate_points(s)[7].key == pts[7].key);
}

TEST_CASE("sweep points: random and Latin-hypercube sampling are seeded and stratified", "[sweep]") {
  const std::string dir = test::temp_dir("sweep_lhs");
  auto make = [&](const std::string& method, int seed) {
    return sweep::load_sweep(write_sweep(dir, R"([
        {"key": "/hardware/clock_mhz", "uniform": {"min": 100, "max": 900}},
        {"key": "/hardware/dram/bandwidth_gbps", "uniform": {"min": 1, "max": 64, "scale": "log"}},
        {"key": "/hardware/pe_array/rows", "values": [4, 8, 16, 32]}])",
                                         R"(, "sampling": {"method": ")" + method + R"(", "points": 40, "seed": )" +
                                             std::to_string(seed) + "}"));
  };
  const auto s = make("latin_hypercube", 3);
  const auto pts = sweep::enumerate_points(s);
  REQUIRE(pts.size() == 40);
  // one sample in each of the 40 strata of every continuous axis (log scale: strata in log space)
  std::set<int> clock_strata, bw_strata;
  std::map<int, int> rows;
  for (const auto& p : pts) {
    const double c = p.values[0].get<double>(), b = p.values[1].get<double>();
    CHECK(c >= 100);
    CHECK(c < 900);
    clock_strata.insert(int((c - 100) / 800 * 40));
    bw_strata.insert(int(std::log(b) / std::log(64.0) * 40 + 1e-9));
    rows[p.values[2].get<int>()]++;
  }
  CHECK(clock_strata.size() == 40);
  CHECK(bw_strata.size() == 40);
  for (int r : {4, 8, 16, 32}) CHECK(rows[r] == 10);  // a discrete axis: each value equally often
  // same seed, same points; another seed or method, other points
  CHECK(sweep::enumerate_points(make("latin_hypercube", 3))[17].key == pts[17].key);
  CHECK(sweep::enumerate_points(make("latin_hypercube", 4))[17].key != pts[17].key);
  CHECK(sweep::enumerate_points(make("random", 3))[17].key != pts[17].key);
}

TEST_CASE("sweep point results equal a direct simulation of the modified scenario", "[sweep]") {
  const std::string dir = test::temp_dir("sweep_point");
  const std::string f = write_sweep(dir, R"([
      {"key": "/hardware/pe_array/rows", "values": [8, 32]},
      {"key": "/hardware/buffers/weight/size_kib", "values": [64]}])",
                                    R"(, "compute": {"kind": "simulate", "precision": "int8"})");
  const sweep::SweepSpec s = sweep::load_sweep(f);
  const auto pts = sweep::enumerate_points(s);
  const pipeline::PointEvaluator eval(s);
  const json line = eval.evaluate(pts[1]);
  REQUIRE(line["status"] == "ok");
  Scenario sc = test::default_scenario_with(R"({"hardware": {"pe_array": {"rows": 32}, "buffers": {"weight": {"size_kib": 64}}}})");
  std::vector<LayerPrecision> int8(sc.net.layers.size(), LayerPrecision::uniform(NumFormat::Int, 8));
  for (std::size_t l = 0; l < int8.size(); ++l) int8[l].gradient_bits = sc.layer_precision[l].gradient_bits;
  const sim::SimulationResult direct = sim::simulate_mapping(sc, int8);  // the scenario's engine
  const json& r = line["results"];
  CHECK(r["engine"] == "mapping");
  CHECK(r["energy_uj"].get<double>() == Approx(direct.cost.energy_uj).epsilon(1e-12));
  CHECK(r["cycles"].get<double>() == Approx(direct.cost.cycles).epsilon(1e-12));
  CHECK(r["latency_ms"].get<double>() == Approx(direct.cost.latency_ms).epsilon(1e-12));
  CHECK(r["inferences_per_s"].get<double>() == Approx(1000.0 / direct.cost.latency_ms));
  CHECK(r["mean_weight_bits"].get<double>() == 8.0);
  // area proxy by hand: 32 x 16 fusible 8-bit PEs (1.9 x 282 um^2 multiplier + a 24-bit adder)
  // and (64 + 64 + 64 KiB + 512 PEs x 64 B) of SRAM at 0.346 um^2 / 0.7 per bit, at 45 nm
  const double adder24 = 36.0 * std::pow(3.0, std::log(137.0 / 36.0) / std::log(4.0));
  const double mac = 512 * (1.9 * 282.0 + adder24);
  const double sram = (3 * 64.0 * 1024 * 8 + 512 * 64 * 8) * 0.346 / 0.7;
  CHECK(r["area_mm2"].get<double>() == Approx((mac + sram) * 1e-6).epsilon(1e-9));
  // a budget no configuration meets is a point error, not a crash; a feasible one is priced
  const std::string f2 = write_sweep(
      dir, R"([{"key": "/constraints/energy_budget/fraction", "values": [0.05, 0.6]}])",
      R"(, "compute": {"kind": "search", "sensitivity": ")" +
          test::source_path("results/venue_cnn_lstm/sensitivity_measured.json") + R"("})");
  const sweep::SweepSpec s2 = sweep::load_sweep(f2);
  const pipeline::PointEvaluator e2(s2);
  const json bad = e2.evaluate(sweep::enumerate_points(s2)[0]);
  CHECK(bad["status"] == "error");
  CHECK(bad.value("error", "") == "at this point, " + test::source_path("scenarios/venue_cnn_lstm.json") +
                                      ": /constraints: expected a budget some configuration meets, found none fits (solver exact)");
  const json good = e2.evaluate(sweep::enumerate_points(s2)[1]);
  REQUIRE(good["status"] == "ok");
  CHECK(good["results"]["energy_uj"].get<double>() <= good["results"]["budget_uj"].get<double>());
  CHECK(good["results"]["saving_pct"].get<double>() == Approx(40.0).margin(0.5));  // 60% budget: about 40%
  CHECK(good["results"]["accuracy_proxy"].get<double>() > 0);
}

TEST_CASE("sweep points over cost_model.timing: priced per point, refused by the systemc engine", "[sweep][timing]") {
  const std::string dir = test::temp_dir("sweep_timing");
  // The base: the default scenario with its cost_model section written out (an axis key's parent
  // must exist in the base).
  json base = test::read_json(test::source_path("scenarios/venue_cnn_lstm.json"));
  base["cost_model"] = {{"engine", "mapping"}};
  spit(dir + "/base.json", base.dump(2));
  auto sweep_file = [&](const std::string& name, const std::string& compute) {
    spit(dir + "/" + name, R"({"mixprec_sweep": 1, "name": "t", "base": ")" + dir +
                               R"(/base.json", "axes": [{"key": "/cost_model/timing", "values": ["overlap", "phased"]}], )"
                               R"("compute": )" + compute + "}");
    return dir + "/" + name;
  };
  const std::string f = sweep_file("mapping.json", R"({"kind": "simulate", "precision": "int8"})");
  const sweep::SweepSpec s = sweep::load_sweep(f);
  const auto pts = sweep::enumerate_points(s);
  REQUIRE(pts.size() == 2);
  const pipeline::PointEvaluator eval(s);
  const json overlap = eval.evaluate(pts[0]), phased = eval.evaluate(pts[1]);
  REQUIRE(overlap["status"] == "ok");
  REQUIRE(phased["status"] == "ok");
  // Each point is the direct simulation of its scenario (the key reaches the mapping engine).
  Scenario sc = test::default_scenario_with(R"({"cost_model": {"timing": "phased"}})");
  std::vector<LayerPrecision> int8(sc.net.layers.size(), LayerPrecision::uniform(NumFormat::Int, 8));
  for (std::size_t l = 0; l < int8.size(); ++l) int8[l].gradient_bits = sc.layer_precision[l].gradient_bits;
  CHECK(phased["results"]["cycles"].get<double>() == Approx(sim::simulate_mapping(sc, int8).cost.cycles).epsilon(1e-12));
  CHECK(phased["results"]["cycles"].get<double>() > overlap["results"]["cycles"].get<double>());
  // The systemc engine has no phased timing: that point is an error naming the sweep file.
  const std::string f2 = sweep_file("systemc.json", R"({"kind": "simulate", "precision": "int8", "engine": "systemc"})");
  const sweep::SweepSpec s2 = sweep::load_sweep(f2);
  const pipeline::PointEvaluator e2(s2);
  CHECK(e2.evaluate(sweep::enumerate_points(s2)[0])["status"] == "ok");
  const json bad = e2.evaluate(sweep::enumerate_points(s2)[1]);
  CHECK(bad["status"] == "error");
  CHECK(bad.value("error", "") ==
        "at this point, " + f2 +
            ": /compute/engine: expected \"scenario\" or \"mapping\" for a point with cost_model.residency \"none\" "
            "and cost_model.timing \"phased\" (the systemc engine simulates the analytical engine's tiles, which "
            "have neither hand-overs nor the phased timing), found \"systemc\"");
}

namespace {

// A sweep of `n` Latin-hypercube points over the default network's hardware.
std::string lhs_sweep(const std::string& dir, int n) {
  return write_sweep(dir, R"([
      {"name": "clock", "key": "/hardware/clock_mhz", "uniform": {"min": 100, "max": 1000}},
      {"name": "bw", "key": "/hardware/dram/bandwidth_gbps", "uniform": {"min": 1, "max": 51.2, "scale": "log"}},
      {"name": "rows", "key": "/hardware/pe_array/rows", "values": [8, 16, 32]},
      {"name": "wkib", "key": "/hardware/buffers/weight/size_kib", "values": [32, 64, 128, 256]}])",
                     R"(, "sampling": {"method": "latin_hypercube", "points": )" + std::to_string(n) +
                         R"(, "seed": 5}, "constraints": ["rows * wkib <= 4096"],)"
                         // The sweep's mechanics on the fast engine (a point of the mapping
                         // engine maps the whole network anew on new hardware).
                         R"( "compute": {"engine": "analytical"})");
}

void same_outputs(const std::string& a, const std::string& b) {
  for (const char* f : {"points.jsonl", "results.csv", "pareto.csv", "pareto.json"}) {
    INFO(f);
    CHECK(slurp(a + "/" + f) == slurp(b + "/" + f));
  }
}

}  // namespace

TEST_CASE("a sweep's outputs do not depend on threads, resume, or shards", "[sweep]") {
  const std::string dir = test::temp_dir("sweep_run");
  const std::string f = lhs_sweep(dir, 300);
  const sweep::SweepSpec s = sweep::load_sweep(f);
  pipeline::SweepOptions o;
  o.out_dir = dir + "/one";
  o.jobs = 1;
  const pipeline::SweepSummary one = pipeline::run_sweep(s, o);
  CHECK(one.complete);
  CHECK(one.total + one.discarded == 300);
  CHECK(one.errors == 0);
  CHECK(count_lines(dir + "/one/points.jsonl") == one.total);
  CHECK(count_lines(dir + "/one/results.csv") == one.total + 1);
  CHECK(one.pareto >= 1);

  o.out_dir = dir + "/two";
  o.jobs = 2;
  (void)pipeline::run_sweep(s, o);
  same_outputs(dir + "/one", dir + "/two");

  // Re-running into a finished output needs --resume or --force.
  CHECK_THROWS_WITH(pipeline::run_sweep(s, o), dir + "/two already holds a sweep's output: pass --resume to continue it or --force to start over");

  // Resume after a crash: keep 100 lines and a torn 101st, as a killed process leaves them.
  const std::string full = slurp(dir + "/one/points.jsonl");
  std::size_t pos = 0;
  for (int i = 0; i < 100; ++i) pos = full.find('\n', pos) + 1;
  o.out_dir = dir + "/resumed";
  pipeline::make_dirs(o.out_dir);
  spit(o.out_dir + "/points.jsonl", full.substr(0, pos) + full.substr(pos, 40));
  o.resume = true;
  const pipeline::SweepSummary res = pipeline::run_sweep(s, o);
  CHECK(res.skipped == 100);
  CHECK(res.evaluated == one.total - 100);
  same_outputs(dir + "/one", dir + "/resumed");

  // Resume refuses another sweep's output.
  const sweep::SweepSpec other = sweep::load_sweep(lhs_sweep(test::temp_dir("sweep_other"), 301));
  o.out_dir = dir + "/one";
  CHECK_THROWS_WITH(pipeline::run_sweep(other, o), Catch::Contains("--resume: " + dir + "/one holds the output of another sweep"));

  // Shards 1/3..3/3 merged equal the single run.
  std::vector<std::string> shards;
  o.resume = false;
  for (int i = 0; i < 3; ++i) {
    o.part.shard = sweep::parse_shard(std::to_string(i + 1) + "/3");
    o.out_dir = dir + "/shard" + std::to_string(i);
    const pipeline::SweepSummary sh = pipeline::run_sweep(s, o);
    CHECK(sh.total == (one.total + 2 - std::size_t(i)) / 3);
    shards.push_back(o.out_dir);
  }
  CHECK_THROWS_WITH(pipeline::merge_shards({shards[0], shards[2]}, dir + "/merged"), "merge: shards missing: 2 of 3");
  (void)pipeline::merge_shards(shards, dir + "/merged");
  same_outputs(dir + "/one", dir + "/merged");

  CHECK_THROWS_WITH(sweep::parse_shard("0/3"), "--shard: expected i/N with 1 <= i <= N (e.g. 2/8), found \"0/3\"");
  CHECK_THROWS_WITH(sweep::parse_shard("4/3"), "--shard: expected i/N with 1 <= i <= N (e.g. 2/8), found \"4/3\"");
  CHECK_THROWS_WITH(sweep::parse_shard("2"), "--shard: expected i/N with 1 <= i <= N (e.g. 2/8), found \"2\"");
}

TEST_CASE("a sweep killed mid-run and resumed writes exactly the uninterrupted output", "[sweep][cli]") {
  const std::string dir = test::temp_dir("sweep_kill");
  const std::string f = lhs_sweep(dir, 12000);
  const std::string out = dir + "/killed";
  // Start the CLI, wait until it has written some points, kill it without warning.
  const std::string cli = MIXPREC_CLI;
  std::vector<std::string> args{cli, "sweep", f, "--out", out, "--jobs", "1", "--quiet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, cli.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  while (count_lines(out + "/points.jsonl") < 200 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));  // killed before it finished
  const std::size_t had = count_lines(out + "/points.jsonl");
  CHECK(had >= 200);
  CHECK(test::read_json(out + "/sweep.json")["status"] == "running");

  test::RunResult r = test::run_cli("sweep " + f + " --out " + out + " --jobs 2 --quiet");
  CHECK(r.exit_code == 2);  // an existing output without --resume
  CHECK(r.err.find("pass --resume to continue it or --force to start over") != std::string::npos);
  r = test::run_cli("sweep " + f + " --out " + out + " --jobs 2 --quiet --resume");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("resumed past") != std::string::npos);
  r = test::run_cli("sweep " + f + " --out " + dir + "/whole --jobs 2 --quiet");
  REQUIRE(r.exit_code == 0);
  same_outputs(dir + "/whole", out);
  CHECK(test::read_json(out + "/sweep.json")["status"] == "complete");
}

TEST_CASE("the MPI mode over 2 local ranks equals a single-process run", "[sweep][mpi]") {
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) {
    WARN("SKIPPED: mpirun not found (install openmpi-bin; scripts/setup.sh does)");
    return;
  }
  const std::string dir = test::temp_dir("sweep_mpi");
  const std::string f = lhs_sweep(dir, 400);
  // Under the sanitizer build, LeakSanitizer would report Open MPI's own allocations (its
  // plugins are unloaded before the check, so no suppression can name them): leak checking is
  // off for the MPI processes only; addresses and undefined behaviour are still checked.
  const std::string env =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "
      "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" ";
  const std::string cmd = env + "mpirun -np 2 " + std::string(MIXPREC_CLI) + " sweep " + f + " --out " + dir +
                          "/mpi --jobs 1 --quiet > " + dir + "/mpi.log 2>&1";
  const int rc = std::system(cmd.c_str());
  INFO(slurp(dir + "/mpi.log"));
  REQUIRE(rc == 0);
  const test::RunResult r = test::run_cli("sweep " + f + " --out " + dir + "/single --jobs 1 --quiet");
  REQUIRE(r.exit_code == 0);
  same_outputs(dir + "/single", dir + "/mpi");
  const json m = test::read_json(dir + "/mpi/sweep.json");
  CHECK(m["last_run"]["ranks"] == 2);
}

TEST_CASE("the shipped example sweeps load, and FPGA design points match mixprec simulate", "[sweep]") {
  const std::vector<std::pair<const char*, std::size_t>> shipped{
      {"scenarios/sweeps/default_arch_budget.json", 210}, {"scenarios/sweeps/default_arch_lhs.json", 1773},
      {"scenarios/sweeps/fpga_lstm_clock_macs_bits.json", 30}, {"scenarios/sweeps/video_tt_rank_bits.json", 30}};
  for (const auto& [file, n] : shipped) {
    INFO(file);
    const sweep::SweepSpec s = sweep::load_sweep(test::source_path(file));
    CHECK(sweep::enumerate_points(s).size() == n);
  }
  const sweep::SweepSpec s = sweep::load_sweep(test::source_path("scenarios/sweeps/fpga_lstm_clock_macs_bits.json"));
  const auto pts = sweep::enumerate_points(s);
  // clock 100 MHz, 4 MAC units, Q7.8: the scenario as shipped
  const sweep::Point* p = nullptr;
  for (const auto& q : pts)
    if (sweep::point_inputs(s, q) == json{{"clock_mhz", 100}, {"mac_units", 4}, {"bits", "q7_8"}}) p = &q;
  REQUIRE(p != nullptr);
  const json line = pipeline::PointEvaluator(s).evaluate(*p);
  REQUIRE(line["status"] == "ok");
  const Scenario sc = load_scenario(test::source_path("scenarios/fpga_lstm_traffic.json"));
  const sim::SimulationResult direct = sim::simulate_analytical(sc, sc.layer_precision);
  const json& r = line["results"];
  CHECK(r["cycles"].get<double>() == direct.cost.cycles);
  // docs/fpga_lstm.md: handshake 4 + input load 6 + 6 x (2 + 20 x 43) + 5, head 2 + 40
  CHECK(r["cycles"].get<double>() == 5229);
  CHECK(r["energy_uj"].get<double>() == Approx(direct.cost.energy_uj).epsilon(1e-12));
  CHECK(r["power_mw"].get<double>() == Approx(direct.cost.power_mw).epsilon(1e-12));
  CHECK_FALSE(r.contains("area_mm2"));
  // the design's largest share of the device: LUTs 1000 of 8000, FFs 800 of 16000, DSPs and
  // block RAMs as the design states them
  const json res = r["resources_used"];
  double util = std::max(res["luts"].get<double>() / 8000, res["ffs"].get<double>() / 16000);
  util = std::max(util, std::max(res["dsp48"].get<double>() / 20, res["bram_18k"].get<double>() / 20));
  CHECK(r["device_utilization"].get<double>() == Approx(util));
  CHECK(res["luts"] == 1000);
}

TEST_CASE("sweep --resume refuses an edited or corrupted points.jsonl line, naming the line", "[sweep][cli]") {
  const std::string dir = test::temp_dir("sweep_corrupt");
  const std::string f = lhs_sweep(dir, 12);
  const std::string out = dir + "/out";
  REQUIRE(test::run_cli("sweep " + f + " --out " + out + " --quiet").exit_code == 0);
  const std::string pts = out + "/points.jsonl";
  std::vector<std::string> lines;
  {
    std::ifstream in(pts);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  REQUIRE(lines.size() >= 3);
  json first = json::parse(lines[1]);
  const std::string recorded = first.at("fnv1a64").get<std::string>();
  CHECK(recorded == json_checksum(first, "fnv1a64"));  // each line carries its own checksum
  auto resume_with = [&](const json& second) {
    std::ofstream o(pts, std::ios::trunc);
    o << lines[0] << "\n" << second.dump() << "\n";
    o.close();
    return test::run_cli("sweep " + f + " --out " + out + " --quiet --resume");
  };
  SECTION("a changed number, still valid JSON") {
    first["results"]["energy_uj"] = 1.0;
    const test::RunResult r = resume_with(first);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: " + pts + ": line 2: expected a point whose \"fnv1a64\" is \"" +
                       json_checksum(first, "fnv1a64") + "\" (the checksum of its content), found \"" + recorded +
                       "\": the line was changed or corrupted\n");
  }
  SECTION("a line without its checksum") {
    first.erase("fnv1a64");
    const test::RunResult r = resume_with(first);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: " + pts + ": line 2: expected a point whose \"fnv1a64\" is \"" +
                       json_checksum(first, "fnv1a64") + "\" (the checksum of its content), found no checksum\n");
  }
}
