#include "pipeline/reproduce.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "model/data/dataset.hpp"
#include "pipeline/claim_report.hpp"
#include "pipeline/common.hpp"
#include "pipeline/pricing.hpp"
#include "pipeline/search_run.hpp"
#include "pipeline/sensitivity_run.hpp"
#include "pipeline/training.hpp"
#include "sim/analytical.hpp"
#include "sim/systemc/engine.hpp"
#include "sim/systemc/mapping_sim.hpp"

namespace mixprec::pipeline {

using nlohmann::json;

namespace {

// The scenario with seed k's training seed (seeds are consecutive from training.seed).
Scenario seed_scenario(const Scenario& sc, int k) {
  Scenario s = sc;
  s.training.seed = sc.training.seed + k;
  return s;
}

int jobs_of(const ReproduceOptions& o) { return std::max(1, std::min(o.jobs > 0 ? o.jobs : o.threads, o.threads)); }

// The options that fix a run's numbers (a resumed or merged run must match them).
json options_json(const ReproduceOptions& o, const Scenario& sc, const std::vector<double>& budgets) {
  return {{"scenario_hash", file_hash(o.file)},
          {"quick", o.quick},
          {"threads", o.threads},
          {"jobs", jobs_of(o)},
          {"seeds", o.seeds},
          {"full", o.full},
          {"budgets", budgets},
          {"bootstrap_resamples", o.bootstrap_resamples},
          {"reuse_fp32", o.reuse_fp32},
          {"reuse_fp32_hash", o.reuse_fp32.empty() ? "" : file_hash(o.reuse_fp32 + "/best.ckpt")},
          {"seed", sc.training.seed}};
}

// ---- one configuration to train -------------------------------------------------------------

struct Config {
  std::string name, label, kind;  // kind: baseline | frontier | ladder | ablation | pick
  std::vector<LayerPrecision> precision;
  bool fp32_buffers = true;
  bool integer_eval = false;
  json extra = json::object();  // budget_fraction, bits, predicted_sensitivity, option_of_layer
};

// ---- one seed's pipeline --------------------------------------------------------------------

class SeedRun {
 public:
  SeedRun(const ReproduceOptions& o, const Scenario& sc, int k, std::string dir, json opts,
          const std::vector<double>& budgets, std::mutex& progress_mutex)
      : o_(o), sc_(sc), k_(k), dir_(std::move(dir)), opts_(std::move(opts)), budgets_(budgets),
        progress_mutex_(progress_mutex) {}

  // A merge: the state holds every QAT job (a job left to train is an error naming it).
  void merging(std::string sources) { merge_sources_ = std::move(sources); }

  json execute();

 private:
  bool done(const std::string& stage) const { return state_["stages"].contains(stage); }
  const json& result(const std::string& stage) const { return state_["stages"][stage]["result"]; }
  template <class F>
  json stage(const std::string& name, const std::string& what, F&& body);
  void note(const std::string& s) const;
  void open_state();

  json fp32_stage();
  json plan_stage(const json& fp32);
  std::vector<Config> configs_of(const json& plan) const;
  json train(const Config& c, int threads) const;
  // Trains the configurations not trained yet whose place u among the distinct configurations
  // satisfies mine(u) (all of them by default).
  void train_all(const std::vector<Config>& configs,
                 const std::function<bool(std::size_t)>& mine = [](std::size_t) { return true; });
  json fp16_stage();
  json engines_stage(const std::vector<LayerPrecision>& chosen);

  const ReproduceOptions& o_;
  const Scenario& sc_;
  int k_;
  std::string dir_;
  json opts_;
  const std::vector<double>& budgets_;
  std::mutex& progress_mutex_;
  mutable std::mutex state_mutex_;
  json state_;
  std::string merge_sources_;  // non-empty in a merge: the directories the seed came from
};

void SeedRun::note(const std::string& s) const {
  if (!o_.progress) return;
  std::lock_guard<std::mutex> lock(progress_mutex_);
  o_.progress("seed " + std::to_string(sc_.training.seed) + ": " + s, false);
}

template <class F>
json SeedRun::stage(const std::string& name, const std::string& what, F&& body) {
  return run_stage(state_, state_mutex_, dir_ + "/state.json", name, what, [this](const std::string& s) { note(s); },
                   std::forward<F>(body), [](json&) {});
}

void SeedRun::open_state() {
  make_dirs(dir_);
  const std::string path = dir_ + "/state.json";
  if (is_readable_file(path)) {
    if (!o_.resume && !o_.force)
      throw UsageError(dir_ + " already holds a run: --resume continues it, --force starts over, "
                       "--run-id or --out picks another directory");
    if (o_.resume) {
      state_ = load_state(path);
      if (state_.at("options") != opts_)
        throw UsageError("--resume: " + path +
                         " was started with other options or another version of the scenario "
                         "(use --force to start over)");
      return;
    }
  }
  if (o_.force) {
    // Start over: the earlier run's interrupted training directories are stale.
    const json old = is_readable_file(path) ? JsonDoc::load(path).root() : json();
    for (const char* sub : {"fp32"}) std::remove((dir_ + "/" + sub + "/last.ckpt").c_str());
    if (old.is_object() && old.contains("configs"))
      for (const json& n : old["configs"]) std::remove((dir_ + "/" + n.get<std::string>() + "/last.ckpt").c_str());
  }
  state_ = {{"options", opts_}, {"seed", sc_.training.seed}, {"stages", json::object()},
            {"order", json::array()}, {"configs", json::array()}};
  save_state(path, state_);
}

json SeedRun::train(const Config& c, int threads) const {
  TrainJob j;
  j.scenario_file = o_.file;
  j.sc = sc_;
  j.precision = c.precision;
  j.label = c.label;
  j.out = dir_ + "/" + c.name;
  j.init_from = dir_ + "/fp32/best.ckpt";
  j.fp32_buffers = c.fp32_buffers;
  j.integer_eval = c.integer_eval;
  j.threads = threads;
  if (o_.training_progress && jobs_of(o_) == 1) j.progress = o_.progress;
  return train_or_reuse(
      j, o_.reuse_training.empty() ? "" : o_.reuse_training + "/" + std::filesystem::path(dir_).filename().string(),
      [this](const std::string& s, bool) { note(s); });
}

json SeedRun::fp32_stage() {
  Config c{"fp32", "fp32", "fp32", {}, true, false, json::object()};
  if (o_.reuse_fp32.empty() || k_ != 0) return train(c, o_.threads);
  // Reuse a matching `mixprec train` run (the first seed only: it has the scenario's seed).
  const std::string from = o_.reuse_fp32, summary_path = from + "/summary.json";
  const JsonDoc doc = JsonDoc::load(summary_path);
  const json& s = doc.root();
  auto expect = [&](const std::string& ptr, const json& want) {
    const json::json_pointer p(ptr);
    const json found = s.contains(p) ? s.at(p) : json();
    if (found != want)
      throw SpecError(summary_path, ptr, want.dump() + " (as the scenario's FP32 run)",
                      found.is_null() ? "nothing" : found.dump());
  };
  expect("/network", sc_.net.name);
  expect("/precision", "fp32");
  expect("/training/epochs", sc_.training.epochs);
  expect("/training/batch_size", sc_.training.batch_size);
  expect("/training/micro_batches", sc_.training.micro_batches);
  expect("/training/optimizer", sc_.training.optimizer);
  expect("/training/learning_rate", sc_.training.learning_rate);
  expect("/training/weight_decay", sc_.training.weight_decay);
  expect("/training/seed", sc_.training.seed);
  expect("/training/threads", o_.threads);
  const data::Dataset ds_check = data::make_dataset(sc_);
  expect("/data/name", ds_check.name);
  expect("/data/train", ds_check.train.n);
  if (!s.at("test").contains("per_example"))
    throw SpecError(summary_path, "/test/per_example",
                    "per-example test scores (a `mixprec train` run of this version)", "nothing");
  make_dirs(dir_ + "/fp32");
  const std::optional<std::string> ckpt = read_file_bytes(from + "/best.ckpt");
  if (!ckpt) throw UsageError("--reuse-fp32: " + from + "/best.ckpt cannot be read");
  write_file_atomic(dir_ + "/fp32/best.ckpt", *ckpt);
  write_file_atomic(dir_ + "/fp32/summary.json", s.dump(2) + "\n");
  return json{{"test", s.at("test")}, {"best_epoch", s.at("best_epoch")}, {"curves", json::array()},
              {"wall_seconds", s.at("wall_seconds")}, {"reused", from}};
}

json SeedRun::plan_stage(const json& fp32) {
  (void)fp32;
  const SearchSetup setup = prepare_search(sc_);
  SensitivityRequest sr;
  set_method(sr, sc_.search.sensitivity);
  sr.checkpoint = dir_ + "/fp32/best.ckpt";
  sr.threads = o_.threads;
  sr.log = [this](const std::string& line, bool) { note(line); };
  const SensitivityResult sens = compute_sensitivity(sc_, setup.options, sr);
  const search::Problem prob =
      search::make_problem(setup.table, sens.table, sc_.net, setup.rules, setup.default_option);
  auto solution_json = [&](const search::Solution& s) {
    json per_layer = json::array();
    if (s.feasible)
      for (std::size_t l = 0; l < sc_.net.layers.size(); ++l)
        per_layer.push_back(sens.table.at(l, std::size_t(s.option_of_layer[l])));
    return json{{"method", s.method},
                {"feasible", s.feasible},
                {"predicted_sensitivity", s.sensitivity},
                {"option_of_layer", s.option_of_layer},
                {"layer_sensitivity", per_layer}};
  };
  json r;
  r["sensitivity_method"] = sens.table.method;
  r["sensitivity_source"] = sens.cache_path;
  r["sensitivity_seconds"] = sens.seconds;
  json frontier = json::array();
  for (double f : budgets_) {
    json sj = solution_json(search::solve_exact(prob, make_budget(sc_, setup, f)).best);
    sj["budget_fraction"] = f;
    frontier.push_back(sj);
  }
  r["frontier"] = frontier;
  // The uniform ladder and the baseline at the same table: every trained configuration carries
  // its predicted sensitivity (the baseline only when its precision is a search option).
  auto predicted_json = [&](const std::vector<int>& option_of_layer) {
    json per_layer = json::array();
    for (std::size_t l = 0; l < option_of_layer.size(); ++l)
      per_layer.push_back(sens.table.at(l, std::size_t(option_of_layer[l])));
    return json{{"predicted_sensitivity", sens.table.total(option_of_layer)},
                {"option_of_layer", option_of_layer},
                {"layer_sensitivity", per_layer}};
  };
  json ladder = json::array();
  for (const UniformWidth& u : uniform_ladder(sc_)) {
    // Every layer at the search option (int, w, a); fixed layers keep their own option.
    const std::vector<int> opt = uniform_option_of_layer(sc_, setup, u.weight_bits, u.activation_bits);
    if (opt.empty()) continue;
    json lj = predicted_json(opt);
    lj["weight_bits"] = u.weight_bits;
    lj["activation_bits"] = u.activation_bits;
    ladder.push_back(lj);
  }
  r["ladder"] = ladder;
  const std::vector<int> base_opt =
      option_of_precision(setup, uniform_precision(sc_, sc_.constraints.energy.baseline));
  r["baseline"] = base_opt.empty() ? json(nullptr) : predicted_json(base_opt);
  if (o_.full) {
    const search::Budget budget = make_budget(sc_, setup, claim_budget(sc_));
    r["greedy"] = solution_json(search::solve_greedy(prob, budget));
    r["evolutionary"] = solution_json(search::solve_evolutionary(
        prob, budget, sc_.search.baseline_evaluations, std::uint64_t(sc_.search.seed)));
  }
  // The (energy, sensitivity) front without an energy budget, thinned to 200 points.
  search::Budget open = make_budget(sc_, setup, 1.0);
  open.limit[search::kEnergy] = std::numeric_limits<double>::infinity();
  const search::ExactResult front = search::solve_exact(prob, open);
  json pareto = json::array();
  const std::size_t n = front.front.size(), keep = std::min<std::size_t>(n, 200);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& pt = front.front[i];
    if (keep > 1 && (i * (keep - 1)) % (n - 1) < keep - 1)
      pareto.push_back({{"energy_uj", pt.cost[search::kEnergy] * 1e-6},
                        {"sensitivity", pt.sensitivity},
                        {"latency_ms", pt.cost[search::kCycles] / (sc_.hardware.clock_mhz * 1e3)},
                        {"size_bytes", pt.cost[search::kSize]}});
  }
  r["pareto"] = pareto;
  r["pareto_points"] = n;
  return r;
}

std::vector<Config> SeedRun::configs_of(const json& plan) const {
  const SearchSetup setup = prepare_search(sc_);
  auto prec_of = [&](const json& solution) {
    search::Solution sol;
    sol.option_of_layer = solution.at("option_of_layer").get<std::vector<int>>();
    return chosen_precision(sc_, setup, sol);
  };
  const std::string base = sc_.constraints.energy.baseline;
  std::vector<Config> out;
  out.push_back({"baseline", "uniform " + base + " (QAT)", "baseline", uniform_precision(sc_, base), true,
                 true, json::object()});
  if (!plan.at("baseline").is_null())
    out.back().extra = {{"predicted_sensitivity", plan.at("baseline").at("predicted_sensitivity")}};
  const double chosen_f = claim_budget(sc_);
  for (const json& p : plan.at("frontier")) {
    if (!p.at("feasible").get<bool>()) continue;
    const double f = p.at("budget_fraction").get<double>();
    const bool chosen = std::fabs(f - chosen_f) < 1e-9;
    Config c{chosen ? "chosen" : frontier_name(f),
             chosen ? "mixed precision, exact solver at the chosen budget (QAT, FP32 buffers)"
                    : "mixed precision, exact solver at " + fmt("%.1f%%", 100 * f) + " of " + base,
             "frontier", prec_of(p), true, chosen, json::object()};
    c.extra = {{"budget_fraction", f}, {"predicted_sensitivity", p.at("predicted_sensitivity")},
               {"option_of_layer", p.at("option_of_layer")}, {"layer_sensitivity", p.at("layer_sensitivity")}};
    out.push_back(c);
    if (chosen)
      out.push_back({"no_fp32_buffers", "chosen, low-precision gradient accumulation", "ablation", c.precision,
                     false, false, c.extra});
  }
  for (const json& l : plan.at("ladder")) {
    const UniformWidth u{l.at("weight_bits").get<int>(), l.at("activation_bits").get<int>()};
    Config c{ladder_name(u), "uniform w" + std::to_string(u.weight_bits) + "a" + std::to_string(u.activation_bits),
             "ladder", prec_of(l), true, false, json::object()};
    c.extra = {{"weight_bits", u.weight_bits}, {"activation_bits", u.activation_bits},
               {"predicted_sensitivity", l.at("predicted_sensitivity")}};
    out.push_back(c);
  }
  if (o_.full)
    for (const char* pick : {"greedy", "evolutionary"})
      if (plan.contains(pick) && plan.at(pick).at("feasible").get<bool>()) {
        Config c{pick, std::string(pick) + " pick at the chosen budget", "pick", prec_of(plan.at(pick)), true,
                 false, json::object()};
        c.extra = {{"budget_fraction", chosen_f}, {"predicted_sensitivity", plan.at(pick).at("predicted_sensitivity")}};
        out.push_back(c);
      }
  return out;
}

// Trains every configuration not trained yet: identical configurations share one run; up to
// jobs_of(o_) run at once, each on threads / jobs threads.
void SeedRun::train_all(const std::vector<Config>& configs, const std::function<bool(std::size_t)>& mine) {
  std::vector<const Config*> todo;
  std::map<std::string, std::string> same;  // config name -> the config it equals
  {
    std::map<std::string, std::string> first_of;
    for (const Config& c : configs) {
      const std::string key = precision_to_json(sc_.net, c.precision).dump() + (c.fp32_buffers ? "+" : "-");
      auto it = first_of.find(key);
      if (it != first_of.end()) {
        same[c.name] = it->second;
        continue;
      }
      const std::size_t u = first_of.size();
      first_of[key] = c.name;
      std::lock_guard<std::mutex> lock(state_mutex_);
      if (mine(u) && !done("job/" + c.name)) todo.push_back(&c);
    }
  }
  if (!merge_sources_.empty() && !todo.empty())
    throw UsageError("--merge: seed " + std::to_string(sc_.training.seed) + "'s QAT job \"" + todo.front()->name +
                     "\" (" + todo.front()->label + ") is in no shard directory (" + merge_sources_ + ")");
  const int jobs = jobs_of(o_);
  const int per_job = std::max(1, o_.threads / jobs);
  run_concurrently(todo.size(), jobs, [&](std::size_t i) {
    const Config* c = todo[i];
    stage("job/" + c->name, "QAT of " + c->label, [&] { return train(*c, per_job); });
  });
  std::lock_guard<std::mutex> lock(state_mutex_);
  for (const auto& [name, twin] : same)
    if (!done("job/" + name) && done("job/" + twin)) {
      state_["stages"]["job/" + name] = {{"result", {{"same_as", twin}}}, {"seconds", 0}};
      state_["order"].push_back("job/" + name);
    }
  save_state(dir_ + "/state.json", state_);
}

json SeedRun::fp16_stage() {
  EvalRequest r;
  r.sc = sc_;
  r.checkpoint = dir_ + "/fp32/best.ckpt";
  r.precision = uniform_precision(sc_, "fp16");
  r.precision_label = "uniform fp16 (the FP32 model, post-training)";
  r.threads = o_.threads;
  r.per_example = true;
  return json{{"test", run_eval(r)}};
}

json SeedRun::engines_stage(const std::vector<LayerPrecision>& chosen) {
  // The scenario's pricing engine (the report's energies) and the SystemC engine that simulates
  // its work: over the mapping engine's loop nests (systemc-mapping), or over the analytical
  // engine's tiles. The latency sub-claim reads the simulated one.
  auto row = [](const sim::NetworkCost& c) {
    return json{{"cycles", c.cycles}, {"latency_ms", c.latency_ms}, {"energy_uj", c.energy_uj}};
  };
  sim::NetworkCost ref, sim;
  double secs = 0;
  std::string reference;
  if (sc_.cost_model.engine == CostEngine::Mapping) {
    reference = "mapping";
    const sim::systemc::MappingSimResult r = sim::systemc::simulate_mapping_systemc(sc_, chosen, false);
    ref = r.mapping.cost;
    sim = r.result.cost;
    secs = r.wall_seconds;
  } else {
    reference = "analytical";
    sim::Pricer analytical(sc_, CostEngine::Analytical);
    ref = analytical.network_cost(sc_.net, chosen, sc_.phase);
    const auto t0 = Clock::now();
    sim = sim::systemc::network_cost(sc_.hardware, analytical.energy_model(), sc_.net, chosen, sc_.phase);
    secs = seconds_since(t0);
  }
  json s = row(sim);
  s["wall_seconds"] = secs;
  return json{{reference, row(ref)},
              {"systemc", s},
              {"reference", reference},
              {"cycles_difference_pct", ref.cycles > 0 ? 100.0 * (sim.cycles - ref.cycles) / ref.cycles : 0.0},
              {"energy_difference_pct", ref.energy_uj > 0 ? 100.0 * (sim.energy_uj - ref.energy_uj) / ref.energy_uj : 0.0}};
}

json SeedRun::execute() {
  open_state();
  const json fp32 = stage("fp32", "training the FP32 model (" + std::to_string(sc_.training.epochs) + " epochs)",
                          [&] { return fp32_stage(); });
  const json plan = stage("plan", "sensitivities, cost table, frontier and ladder", [&] { return plan_stage(fp32); });
  const std::vector<Config> configs = configs_of(plan);
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    json names = json::array();
    for (const Config& c : configs) names.push_back(c.name);
    state_["configs"] = names;
  }
  if (o_.shard_by_jobs && o_.shard_count > 1) {
    // This shard's share of the seed's QAT jobs; fp16 and engines run when the shards merge.
    train_all(configs, [&](std::size_t u) { return (std::size_t(k_) + u) % std::size_t(o_.shard_count) ==
                                                   std::size_t(o_.shard_index); });
    std::lock_guard<std::mutex> lock(state_mutex_);
    json jobs = json::array();
    for (const Config& c : configs)
      if (done("job/" + c.name)) jobs.push_back(c.name);
    return {{"seed", sc_.training.seed}, {"jobs", jobs}};
  }
  train_all(configs);
  const json fp16 = stage("fp16", "the FP32 model evaluated at fp16", [&] { return fp16_stage(); });
  std::vector<LayerPrecision> chosen;
  for (const Config& c : configs)
    if (c.name == "chosen") chosen = c.precision;
  if (chosen.empty())
    throw SpecError(sc_.file, "/constraints/energy_budget",
                    "a chosen budget that some configuration meets",
                    "none at " + fmt("%.2f", claim_budget(sc_)) + " of the baseline's energy");
  const json engines = stage("engines", "the chosen configuration on the SystemC engine",
                             [&] { return engines_stage(chosen); });
  // The seed's result: every stage's result and each configuration's precision and kind.
  json cfg = json::array();
  for (const Config& c : configs) {
    json j{{"name", c.name}, {"label", c.label}, {"kind", c.kind}, {"fp32_buffers", c.fp32_buffers},
           {"precision", precision_to_json(sc_.net, c.precision)}, {"extra", c.extra}};
    json t = result("job/" + c.name);
    if (t.contains("same_as")) {
      j["same_as"] = t["same_as"];
      t = result("job/" + t["same_as"].get<std::string>());
    }
    j["trained"] = t;
    cfg.push_back(j);
  }
  std::lock_guard<std::mutex> lock(state_mutex_);
  json stages = json::array();
  for (const json& n : state_["order"])
    stages.push_back({{"name", n}, {"seconds", state_["stages"][n.get<std::string>()]["seconds"]}});
  return {{"seed", sc_.training.seed}, {"fp32", fp32}, {"plan", plan}, {"configs", cfg},
          {"fp16", fp16}, {"engines", engines}, {"stages", stages}};
}

// ---- the run --------------------------------------------------------------------------------

struct Prepared {
  Scenario sc;
  std::string dir;
  std::vector<double> budgets;
  json opts;
};

Prepared prepare(const ReproduceOptions& o) {
  if (o.threads < 1) throw UsageError("--threads must be at least 1");
  if (o.jobs < 0) throw UsageError("--jobs must be at least 1");
  if (o.seeds < 1) throw UsageError("--seeds must be at least 1");
  if (o.bootstrap_resamples < 100) throw UsageError("--bootstrap must be at least 100");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw UsageError("--shard must be i/N with 1 <= i <= N");
  if (o.shard_by_jobs && o.shard_count == 1) throw UsageError("--shard-by jobs needs --shard i/N with N > 1");
  for (double f : o.budgets)
    if (!(f > 0 && f <= 1)) throw UsageError("--budgets fractions must be in (0, 1], found " + fmt("%g", f));
  if (o.resume && o.force) throw UsageError("give either --resume or --force, not both");
  Prepared p;
  p.sc = load_scenario(o.file);
  if (p.sc.hardware.kind == HardwareKind::Fpga)
    throw SpecError(p.sc.file, "/hardware/kind",
                    "\"asic\" hardware (reproduce searches per-layer options on the systolic-array template)",
                    "\"fpga\"");
  if (!p.sc.search.ranks.empty())
    throw SpecError(p.sc.file, "/search/ranks",
                    "no rank search in reproduce (its claim is about bitwidths; search ranks with `mixprec "
                    "search`, then train the choice with `mixprec train --precision DIR/precision.json "
                    "--init-from CKPT`, docs/tensor_lstm.md)",
                    std::to_string(p.sc.search.ranks.size()) + " rank-searched layer(s)");
  if (o.quick) p.sc = quick_variant(p.sc);
  const double chosen = claim_budget(p.sc);
  p.budgets = o.budgets.empty() ? default_budgets(o.full, chosen) : o.budgets;
  if (std::none_of(p.budgets.begin(), p.budgets.end(), [&](double f) { return std::fabs(f - chosen) < 1e-9; }))
    p.budgets.push_back(chosen);
  std::sort(p.budgets.begin(), p.budgets.end());
  const std::string id =
      !o.run_id.empty() ? o.run_id
      : o.seeds == 1    ? "seed" + std::to_string(p.sc.training.seed) + (o.quick ? "-quick" : "")
                        : "seeds" + std::to_string(o.seeds) + (o.quick ? "-quick" : "");
  p.dir = o.out.empty() ? p.sc.report.out_dir + "/" + p.sc.name + "/" + id : o.out;
  p.opts = options_json(o, p.sc, p.budgets);
  return p;
}

std::string seed_dir(const std::string& run, const Scenario& sc, int k) {
  return run + "/seed" + std::to_string(sc.training.seed + k);
}

json finish_report(const ReproduceOptions& o, const Prepared& p, const std::vector<json>& seeds,
                   double wall_seconds) {
  ReportInputs in{o, p.sc, p.dir, p.opts, seeds, wall_seconds};
  const json rep = build_report(in);
  write_report_files(p.dir, rep, p.sc.report.formats);
  return rep;
}

}  // namespace

std::vector<double> default_budgets(bool full, double chosen) {
  std::vector<double> b = full ? std::vector<double>{0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.575, 0.6, 0.625,
                                                     0.65, 0.7, 0.8, 0.9}
                               : std::vector<double>{0.3, 0.45, 0.55, 0.6, 0.65, 0.75, 0.9};
  if (std::none_of(b.begin(), b.end(), [&](double f) { return std::fabs(f - chosen) < 1e-9; })) b.push_back(chosen);
  std::sort(b.begin(), b.end());
  return b;
}

Scenario quick_variant(const Scenario& in) {
  Scenario sc = in;
  NetworkSpec& n = sc.network;
  if (n.template_name == "resnet18_bilstm") {
    n.frames = 4;
    n.height = n.width = 8;
    n.stage_widths = {4, 8, 8, 16};
    n.blocks_per_stage = 1;
    n.lstm_hidden = 8;
  } else if (n.template_name == "lstm") {
    n.lstm_hidden = std::min(n.lstm_hidden, 8);
  }
  sc.net = build_network(n, sc.file);
  sc.layer_precision = resolve_precision(sc.precision, sc.net, sc.file);
  sc.data.samples = std::min(sc.data.samples, 384);
  sc.training.epochs = std::min(sc.training.epochs, 2);
  sc.training.qat_epochs = 1;
  sc.search.baseline_evaluations = std::min<long>(sc.search.baseline_evaluations, 300);
  return sc;
}

json run_reproduce(const ReproduceOptions& o, std::string* run_dir) {
  const auto t0 = Clock::now();
  const Prepared p = prepare(o);
  if (run_dir) *run_dir = p.dir;
  make_dirs(p.dir);
  std::mutex progress_mutex;
  std::vector<json> seeds;
  std::vector<int> ran;
  for (int k = 0; k < o.seeds; ++k) {
    if (!o.shard_by_jobs && k % o.shard_count != o.shard_index) continue;
    const Scenario sc = seed_scenario(p.sc, k);
    SeedRun run(o, sc, k, seed_dir(p.dir, p.sc, k), p.opts, p.budgets, progress_mutex);
    seeds.push_back(run.execute());
    ran.push_back(sc.training.seed);
  }
  if (o.shard_count > 1)
    return json{{"shard", std::to_string(o.shard_index + 1) + "/" + std::to_string(o.shard_count)},
                {"by", o.shard_by_jobs ? "jobs" : "seeds"}, {"seeds", ran}, {"dir", p.dir}};
  if (o.progress) o.progress("report: " + p.dir, false);
  return finish_report(o, p, seeds, seconds_since(t0));
}

namespace {

// Assembles seed `name`'s state in `merged` from the shard directories holding it (the QAT jobs
// of --shard-by jobs): their options, FP32 and plan stages must agree (compare_reports: all but
// wall times); jobs are united
// (one found in several shards must be identical too). The FP32 checkpoint is copied (the fp16
// stage evaluates it).
void assemble_seed(const std::vector<std::string>& from, const std::string& merged, const json& opts) {
  json st;
  std::string first;
  for (const std::string& d : from) {
    const std::string path = d + "/state.json";
    json s = load_state(path);
    if (s.at("options") != opts) throw SpecError(path, "/options", opts.dump(), s.at("options").dump());
    if (st.is_null()) {
      st = std::move(s);
      first = path;
      continue;
    }
    for (const char* stage : {"fp32", "plan"}) {
      const bool a = st["stages"].contains(stage), b = s["stages"].contains(stage);
      if (a && b && !compare_reports(st["stages"][stage]["result"], s["stages"][stage]["result"]).empty())
        throw SpecError(path, std::string("/stages/") + stage + "/result",
                        std::string("the ") + stage + " stage's result in " + first +
                            " (shards of one run must agree: same binary, scenario, options and threads)",
                        "a different result");
      if (!a && b) st["stages"][stage] = s["stages"][stage];
    }
    for (auto it = s["stages"].begin(); it != s["stages"].end(); ++it) {
      const std::string& n = it.key();
      if (n.rfind("job/", 0) != 0) continue;
      if (!st["stages"].contains(n)) {
        st["stages"][n] = it.value();
        st["order"].push_back(n);
      } else if (!compare_reports(st["stages"][n]["result"], it.value()["result"]).empty()) {
        throw SpecError(path, "/stages/" + n + "/result", "the result " + first + " holds for it",
                        "a different result");
      }
    }
    if (st["configs"].empty()) st["configs"] = s["configs"];
  }
  // Stages after the jobs run again in the merged directory.
  for (const char* stage : {"fp16", "engines"}) st["stages"].erase(stage);
  json order = json::array();
  for (const json& n : st["order"])
    if (st["stages"].contains(n.get<std::string>())) order.push_back(n);
  st["order"] = order;
  make_dirs(merged + "/fp32");
  const std::string ckpt = from.front() + "/fp32/best.ckpt";
  const std::optional<std::string> bytes = read_file_bytes(ckpt);
  if (!bytes) throw UsageError("--merge: " + ckpt + " is missing (the FP32 model the fp16 stage evaluates)");
  write_file_atomic(merged + "/fp32/best.ckpt", *bytes);
  save_state(merged + "/state.json", st);
}

}  // namespace

json merge_reproduce(const ReproduceOptions& o, const std::vector<std::string>& shard_dirs) {
  const auto t0 = Clock::now();
  if (o.out.empty()) throw UsageError("--merge needs --out DIR for the merged report");
  Prepared p = prepare(o);
  std::vector<json> seeds;
  for (int k = 0; k < o.seeds; ++k) {
    const std::string name = "seed" + std::to_string(p.sc.training.seed + k);
    std::vector<std::string> found;
    for (const std::string& d : shard_dirs)
      if (is_readable_file(d + "/" + name + "/state.json")) found.push_back(d + "/" + name);
    if (found.empty())
      throw UsageError("--merge: no shard directory holds " + name + "/state.json (seed " + std::to_string(k + 1) +
                       " of " + std::to_string(o.seeds) + ")");
    std::string dir = found.front(), sources;
    for (const std::string& f : found) sources += (sources.empty() ? "" : ", ") + f;
    if (found.size() > 1 || !load_state(dir + "/state.json").at("stages").contains("engines")) {
      // Jobs sharded: assembled in the merged run directory, its last stages run there.
      dir = seed_dir(p.dir, p.sc, k);
      if (std::find(found.begin(), found.end(), dir) != found.end())
        throw UsageError("--merge: --out " + p.dir + " is one of the shard directories");
      assemble_seed(found, dir, p.opts);
    } else {
      // Resume the seed from its finished state: nothing left to run, the result is rebuilt.
      const json st = load_state(dir + "/state.json");
      if (st.at("options") != p.opts)
        throw SpecError(dir + "/state.json", "/options", p.opts.dump(), st.at("options").dump());
    }
    ReproduceOptions ro = o;
    ro.resume = true;
    ro.force = false;
    ro.shard_count = 1;
    ro.shard_by_jobs = false;
    ro.progress = nullptr;
    std::mutex m;
    const Scenario sc = seed_scenario(p.sc, k);
    SeedRun run(ro, sc, k, dir, p.opts, p.budgets, m);
    run.merging(sources);
    seeds.push_back(run.execute());
  }
  make_dirs(p.dir);
  return finish_report(o, p, seeds, seconds_since(t0));
}

namespace {

bool skipped_key(const std::string& k) {
  return k == "manifest" || k == "run_id" || k == "reused_from" || k == "seconds" || k == "wall_seconds" ||
         k == "sensitivity_source" || k == "file" || k == "checkpoint" || k == "sensitivity_seconds" ||
         k == "stages";
}

void diff(const json& a, const json& b, const std::string& ptr, double tol, std::vector<std::string>& out) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    if (std::fabs(x - y) > tol * std::max({1.0, std::fabs(x), std::fabs(y)}))
      out.push_back(ptr + ": " + a.dump() + " != " + b.dump());
    return;
  }
  if (a.type() != b.type()) {
    out.push_back(ptr + ": " + a.dump() + " != " + b.dump());
    return;
  }
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (skipped_key(it.key())) continue;
      if (!b.contains(it.key()))
        out.push_back(ptr + "/" + it.key() + ": missing in the re-run");
      else
        diff(it.value(), b.at(it.key()), ptr + "/" + it.key(), tol, out);
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!skipped_key(it.key()) && !a.contains(it.key())) out.push_back(ptr + "/" + it.key() + ": only in the re-run");
    return;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) {
      out.push_back(ptr + ": " + std::to_string(a.size()) + " entries != " + std::to_string(b.size()));
      return;
    }
    for (std::size_t i = 0; i < a.size(); ++i) diff(a[i], b[i], ptr + "/" + std::to_string(i), tol, out);
    return;
  }
  if (a != b) out.push_back(ptr + ": " + a.dump() + " != " + b.dump());
}

}  // namespace

std::vector<std::string> compare_reports(const json& a, const json& b, double rel_tol) {
  std::vector<std::string> out;
  diff(a, b, "", rel_tol, out);
  return out;
}

}  // namespace mixprec::pipeline
