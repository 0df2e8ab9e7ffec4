#include "apps/reproduce.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/common.hpp"
#include "apps/report_render.hpp"
#include "apps/search_run.hpp"
#include "apps/sensitivity_run.hpp"
#include "apps/training.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "model/data/dataset.hpp"
#include "sim/analytical.hpp"
#include "sim/cost_table.hpp"
#include "sim/systemc/engine.hpp"

namespace mixprec::app {

using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kStateVersion = 1;

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

bool file_exists(const std::string& p) { return std::ifstream(p).good(); }

std::string group_of(const Layer& l) {
  switch (l.kind) {
    case LayerKind::Conv2d: return "cnn";
    case LayerKind::Lstm: return "lstm";
    case LayerKind::Linear: return "head";
    default: return "other";
  }
}

double size_bytes(const Network& net, const std::vector<LayerPrecision>& p) {
  double s = 0;
  for (std::size_t i = 0; i < net.layers.size(); ++i) s += sim::weight_bytes(net.layers[i], p[i]);
  return s;
}

// The pipeline's state: options it was started with and each finished phase's result.
class Run {
 public:
  Run(const ReproduceOptions& o, Scenario sc, std::string dir)
      : o_(o),
        sc_(std::move(sc)),
        dir_(std::move(dir)),
        start_(Clock::now()),
        em_(energy::EnergyModel::from_hardware(sc_.hardware, sc_.file)),
        eng_(sc_.hardware, em_) {}

  json execute();

 private:
  // Phase bookkeeping.
  bool done(const std::string& phase) const { return state_["phases"].contains(phase); }
  const json& result(const std::string& phase) const { return state_["phases"][phase]["result"]; }
  template <class F>
  const json& phase(const std::string& name, const std::string& what, F&& body);
  void save_state() { write_file_atomic(dir_ + "/state.json", state_.dump(1) + "\n"); }
  void note(const std::string& s) const {
    if (o_.progress) std::cerr << s << "\n";
    if (o_.on_progress) o_.on_progress({{"event", "phase"}, {"message", s}});
  }

  json options_json() const;
  // QAT (or FP32 with empty precision) training of one configuration into RUN/<name>/.
  json train(const std::string& name, const std::vector<LayerPrecision>& precision,
             const std::string& label, bool fp32_buffers, bool integer_eval = false);
  json reuse_fp32();  // checks and copies o_.reuse_fp32 into RUN/fp32/
  json price(const std::vector<LayerPrecision>& p) const;  // analytical energy, latency, size
  json model_entry(const std::string& name, const std::string& label, const json& trained,
                   const json& priced) const;

  const ReproduceOptions& o_;
  Scenario sc_;
  std::string dir_;
  Clock::time_point start_;
  const energy::EnergyModel em_;  // priced once per run; eng_ refers to it
  const sim::AnalyticalEngine eng_;
  json state_;
  int phase_index_ = 0, phase_count_ = 7;
  bool regression_ = false;
};

template <class F>
const json& Run::phase(const std::string& name, const std::string& what, F&& body) {
  ++phase_index_;
  if (done(name)) {
    note("[" + std::to_string(phase_index_) + "/" + std::to_string(phase_count_) + "] " + name +
         ": done earlier (resumed)");
    return result(name);
  }
  note("[" + std::to_string(phase_index_) + "/" + std::to_string(phase_count_) + "] " + name + ": " +
       what + " (elapsed " + fmt("%.0f", std::chrono::duration<double>(Clock::now() - start_).count()) +
       " s)");
  const auto t0 = Clock::now();
  json r = body();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  state_["phases"][name] = {{"result", std::move(r)}, {"seconds", secs}};
  state_["order"].push_back(name);
  save_state();
  return result(name);
}

json Run::options_json() const {
  return {{"scenario_hash", file_hash(o_.file)},
          {"quick", o_.quick},
          {"threads", o_.threads},
          {"budget", o_.budget},
          {"sweep", o_.sweep},
          {"ablations", o_.ablations},
          {"reuse_fp32", o_.reuse_fp32},
          {"reuse_fp32_hash", o_.reuse_fp32.empty() ? "" : file_hash(o_.reuse_fp32 + "/best.ckpt")},
          {"seed", sc_.training.seed}};
}

json Run::train(const std::string& name, const std::vector<LayerPrecision>& precision,
                const std::string& label, bool fp32_buffers, bool integer_eval) {
  TrainRequest r;
  r.scenario_file = o_.file;
  r.sc = sc_;
  r.sc.training.fp32_gradient_buffers = fp32_buffers;
  if (!precision.empty()) {
    r.sc.training.epochs = sc_.training.qat_epochs;
    r.sc.training.learning_rate = sc_.training.qat_learning_rate;
    r.init_from = dir_ + "/fp32/best.ckpt";
  }
  r.precision = precision;
  r.precision_label = label;
  r.out = dir_ + "/" + name;
  r.threads = o_.threads;
  r.progress = o_.progress;
  r.checkpoint_every_steps = 25;
  if (o_.on_progress)
    r.on_epoch = [this, name](const json& e) {
      json j = e;
      j["event"] = "epoch";
      j["run"] = name;
      o_.on_progress(j);
    };
  r.integer_eval = integer_eval;  // the baseline and the chosen configuration only
  if (file_exists(r.out + "/last.ckpt")) {
    r.resume = true;  // an interrupted run of this phase
    r.init_from.clear();
  }
  if (!precision.empty()) {
    make_dirs(r.out);
    write_file_atomic(r.out + "/precision.json", precision_to_json(sc_.net, precision).dump(2) + "\n");
  }
  json s = run_training(r);
  json out{{"test", s.at("test")}, {"best_epoch", s.at("best_epoch")},
           {"curves", s.at("epochs")}, {"wall_seconds", s.at("wall_seconds")}};
  return out;
}

json Run::reuse_fp32() {
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
  make_dirs(dir_ + "/fp32");
  std::ifstream in(from + "/best.ckpt", std::ios::binary);
  if (!in) throw UsageError("--reuse-fp32: " + from + "/best.ckpt cannot be read");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  write_file_atomic(dir_ + "/fp32/best.ckpt", bytes.str());
  write_file_atomic(dir_ + "/fp32/summary.json", s.dump(2) + "\n");
  return json{{"test", s.at("test")}, {"best_epoch", s.at("best_epoch")}, {"curves", s.at("epochs")},
              {"wall_seconds", s.at("wall_seconds")}, {"reused", from}};
}

json Run::price(const std::vector<LayerPrecision>& p) const {
  const sim::NetworkCost c = eng_.network_cost(sc_.net, p, sc_.phase);
  json comp = json::object();
  for (std::size_t i = 0; i < sim::kComponents; ++i)
    comp[sim::to_string(sim::Component(i))] = c.energy_pj[i] * 1e-6;
  json layers = json::array();
  for (const sim::LayerCost& l : c.layers)
    layers.push_back({{"energy_uj", l.energy_total_pj() * 1e-6 +
                                        sc_.hardware.energy.static_power_mw * l.cycles * 1e3 /
                                            sc_.hardware.clock_mhz * 1e-6},
                      {"latency_ms", l.cycles / (sc_.hardware.clock_mhz * 1e3)},
                      {"cycles", l.cycles}});
  return {{"energy_uj", c.energy_uj}, {"latency_ms", c.latency_ms}, {"cycles", c.cycles},
          {"size_bytes", size_bytes(sc_.net, p)}, {"components", comp}, {"layers", layers},
          {"fits", c.fits}};
}

json Run::model_entry(const std::string& name, const std::string& label, const json& trained,
                      const json& priced) const {
  json m{{"name", name},
         {"label", label},
         {"energy_uj", priced.at("energy_uj")},
         {"latency_ms", priced.at("latency_ms")},
         {"size_bytes", priced.at("size_bytes")}};
  const json& t = trained.at("test");
  if (regression_) {
    m["rmse"] = t.at("rmse");
  } else {
    m["accuracy"] = t.at("accuracy");
    m["accuracy_ci"] = t.at("accuracy_ci");
    if (t.contains("integer_eval")) m["integer_accuracy"] = t.at("integer_eval").at("accuracy");
  }
  json curves = json::array();
  for (const json& e : trained.at("curves")) {
    json c{{"epoch", e.at("epoch")}, {"train_loss", e.at("train_loss")}};
    if (e.contains("val_loss")) c["val_loss"] = e.at("val_loss");
    if (e.contains("val_accuracy")) c["val_accuracy"] = e.at("val_accuracy");
    if (e.contains("val_rmse")) c["val_rmse"] = e.at("val_rmse");
    curves.push_back(c);
  }
  m["curves"] = curves;
  return m;
}

json Run::execute() {
  make_dirs(dir_);
  const std::string state_path = dir_ + "/state.json";
  const json opts = options_json();
  if (file_exists(state_path)) {
    if (!o_.resume && !o_.force)
      throw UsageError(dir_ + " already holds a run: --resume continues it, --force starts over, "
                       "--run-id or --out picks another directory");
    if (o_.resume) {
      state_ = JsonDoc::load(state_path).root();
      if (state_.value("mixprec_reproduce_state", 0) != kStateVersion || state_.value("options", json()) != opts)
        throw UsageError("--resume: " + state_path +
                         " was started with other options or another version of the scenario "
                         "(use --force to start over)");
    }
  }
  if (state_.is_null() || !o_.resume) {
    if (o_.force) {
      // Start over: the earlier run's training directories are stale.
      for (const char* sub : {"fp32", "baseline", "chosen", "no_fp32_buffers", "uniform_int4",
                              "greedy", "evolutionary"})
        std::remove((dir_ + "/" + sub + "/last.ckpt").c_str());
      for (double f : o_.sweep)
        std::remove((dir_ + "/sweep_" + fmt("%.2f", f) + "/last.ckpt").c_str());
    }
    state_ = {{"mixprec_reproduce_state", kStateVersion}, {"options", opts},
              {"phases", json::object()}, {"order", json::array()}};
    save_state();
  }
  const std::string baseline_name = sc_.constraints.energy.baseline;
  const double fraction = o_.budget >= 0 ? o_.budget
                          : sc_.constraints.energy.fraction ? *sc_.constraints.energy.fraction
                                                            : 0.6;

  // 1. FP32.
  const json fp32 = phase("fp32",
                          o_.reuse_fp32.empty()
                              ? "training the FP32 model (" + std::to_string(sc_.training.epochs) + " epochs)"
                              : "reusing the FP32 model in " + o_.reuse_fp32,
                          [&] { return o_.reuse_fp32.empty() ? train("fp32", {}, "fp32", true) : reuse_fp32(); });
  regression_ = fp32.at("test").contains("rmse");

  // 2. Baseline.
  const std::vector<LayerPrecision> base_prec = uniform_precision(sc_, baseline_name);
  const json base = phase("baseline", "QAT fine-tuning of uniform " + baseline_name,
                          [&] { return train("baseline", base_prec, "uniform " + baseline_name, true, true); });

  // 3. Search.
  const SearchSetup setup = prepare_search(sc_);
  const json& srch = phase("search", "sensitivities, cost table and solvers", [&] {
    SensitivityRequest sr;
    sr.method = sc_.search.sensitivity;
    sr.checkpoint = dir_ + "/fp32/best.ckpt";
    sr.threads = o_.threads;
    const SensitivityResult sens = compute_sensitivity(sc_, setup.options, sr);
    const search::Problem prob =
        search::make_problem(setup.table, sens.table, sc_.net, setup.rules, setup.default_option);
    auto solution_json = [&](const search::Solution& s) {
      const std::vector<LayerPrecision> p = chosen_precision(sc_, setup, s);
      return json{{"method", s.method},
                  {"feasible", s.feasible},
                  {"predicted_sensitivity", s.sensitivity},
                  {"precision", precision_to_json(sc_.net, p)},
                  {"option_of_layer", s.option_of_layer}};
    };
    json r;
    r["sensitivity_method"] = sens.table.method;
    r["sensitivity_source"] = sens.cache_path;
    r["sensitivity_seconds"] = sens.seconds;
    r["sensitivity_from_cache"] = sens.from_cache;
    json per_layer = json::array();
    const search::Budget budget = make_budget(sc_, setup, fraction);
    const search::ExactResult exact = search::solve_exact(prob, budget);
    if (!exact.best.feasible)
      throw SpecError(sc_.file, "/constraints", "a budget that some configuration meets",
                      "none at " + fmt("%.2f", fraction) + " of the " + baseline_name + " energy");
    r["chosen"] = solution_json(exact.best);
    r["greedy"] = solution_json(search::solve_greedy(prob, budget));
    r["evolutionary"] = solution_json(search::solve_evolutionary(
        prob, budget, sc_.search.baseline_evaluations, std::uint64_t(sc_.search.seed)));
    for (std::size_t l = 0; l < sc_.net.layers.size(); ++l)
      per_layer.push_back(sens.table.at(l, std::size_t(exact.best.option_of_layer[l])));
    r["chosen_layer_sensitivity"] = per_layer;
    json sweep = json::array();
    for (double f : o_.ablations ? o_.sweep : std::vector<double>{}) {
      const search::ExactResult e = search::solve_exact(prob, make_budget(sc_, setup, f));
      json sj = solution_json(e.best);
      sj["budget_fraction"] = f;
      sweep.push_back(sj);
    }
    r["sweep"] = sweep;
    // The front of (energy, sensitivity) without an energy budget (other limits kept), thinned
    // to at most 200 points for the report; the whole front goes to pareto.csv.
    search::Budget open = budget;
    open.limit[search::kEnergy] = std::numeric_limits<double>::infinity();
    const search::ExactResult front = search::solve_exact(prob, open);
    std::ostringstream csv;
    csv << "energy_uj,latency_ms,size_bytes,sensitivity\n";
    json pareto = json::array();
    const std::size_t n = front.front.size(), keep = std::min<std::size_t>(n, 200);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& pt = front.front[i];
      const double e = pt.cost[search::kEnergy] * 1e-6;
      const double lat = pt.cost[search::kCycles] / (sc_.hardware.clock_mhz * 1e3);
      csv << e << ',' << lat << ',' << pt.cost[search::kSize] << ',' << pt.sensitivity << '\n';
      if (keep > 1 && (i * (keep - 1)) % (n - 1) < keep - 1)
        pareto.push_back({{"energy_uj", e}, {"sensitivity", pt.sensitivity}, {"latency_ms", lat},
                          {"size_bytes", pt.cost[search::kSize]}});
    }
    write_file_atomic(dir_ + "/pareto.csv", csv.str());
    r["pareto"] = pareto;
    r["pareto_points"] = n;
    return r;
  });
  // A stored solution's per-layer precisions, from its option indices (as the search made them).
  auto prec_of = [&](const json& solution) {
    search::Solution sol;
    sol.option_of_layer = solution.at("option_of_layer").get<std::vector<int>>();
    return chosen_precision(sc_, setup, sol);
  };
  const std::vector<LayerPrecision> chosen_prec = prec_of(srch.at("chosen"));
  write_file_atomic(dir_ + "/precision.json", srch.at("chosen").at("precision").dump(2) + "\n");

  // 4. Chosen configuration.
  const json chosen = phase("chosen", "QAT fine-tuning of the chosen configuration (FP32 buffers)",
                            [&] { return train("chosen", chosen_prec, "chosen", true, true); });

  // 5. Engines.
  const json& engines = phase("engines", "pricing with the analytical and the SystemC engine", [&] {
    const json a = price(chosen_prec);
    const auto t0 = Clock::now();
    const sim::NetworkCost s =
        sim::systemc::network_cost(sc_.hardware, em_, sc_.net, chosen_prec, sc_.phase);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double ac = a.at("cycles").get<double>(), ae = a.at("energy_uj").get<double>();
    return json{{"analytical", {{"cycles", ac}, {"latency_ms", a.at("latency_ms")}, {"energy_uj", ae}}},
                {"systemc", {{"cycles", s.cycles}, {"latency_ms", s.latency_ms}, {"energy_uj", s.energy_uj},
                             {"wall_seconds", secs}}},
                {"cycles_difference_pct", ac > 0 ? 100.0 * (s.cycles - ac) / ac : 0.0},
                {"energy_difference_pct", ae > 0 ? 100.0 * (s.energy_uj - ae) / ae : 0.0}};
  });

  // 6. Ablations: each a QAT run of another configuration (identical configurations share one).
  struct Ablation {
    std::string name, label, description;
    std::vector<LayerPrecision> precision;
    bool fp32_buffers = true;
  };
  std::vector<Ablation> abl;
  if (o_.ablations) {
    abl.push_back({"no_fp32_buffers", "chosen, low-precision gradient accumulation",
                   "the chosen configuration with gradients accumulated over micro-batches at each "
                   "layer's gradient precision instead of in FP32 buffers",
                   chosen_prec, false});
    std::vector<LayerPrecision> u4 = uniform_precision(sc_, "int4");
    for (int l : setup.rules.fixed_layers) u4[size_t(l)] = sc_.layer_precision[size_t(l)];
    abl.push_back({"uniform_int4", "uniform int4",
                   "every layer at 4-bit weights and activations (fixed layers as the search keeps "
                   "them)",
                   u4, true});
    abl.push_back({"greedy", "greedy (HAQ rule) at the budget",
                   "greedy bit-lowering by sensitivity per energy saved, same budget and tables",
                   prec_of(srch.at("greedy")), true});
    abl.push_back({"evolutionary", "evolutionary at the budget",
                   "evolutionary search with the same number of evaluations as the random baseline",
                   prec_of(srch.at("evolutionary")), true});
  }
  const json& abl_res = phase("ablations", std::to_string(abl.size()) + " ablations and a " +
                                               std::to_string(o_.sweep.size()) + "-point budget sweep",
                              [&] {
    json r = json::object();
    for (const Ablation& a : abl) {
      note("  ablation " + a.name + ": " + a.label);
      if (a.fp32_buffers && precision_to_json(sc_.net, a.precision) == precision_to_json(sc_.net, chosen_prec)) {
        r[a.name] = {{"same_as", "chosen"}, {"trained", chosen}};
        continue;
      }
      r[a.name] = {{"trained", train(a.name, a.precision, a.label, a.fp32_buffers)}};
    }
    json sweep = json::object();
    for (const json& s : srch.at("sweep")) {
      const double f = s.at("budget_fraction").get<double>();
      const std::string key = "sweep_" + fmt("%.2f", f);
      if (!s.at("feasible").get<bool>()) {
        sweep[key] = {{"feasible", false}};
        continue;
      }
      const std::vector<LayerPrecision> p = prec_of(s);
      if (precision_to_json(sc_.net, p) == precision_to_json(sc_.net, chosen_prec)) {
        sweep[key] = {{"same_as", "chosen"}, {"trained", chosen}};
        continue;
      }
      note("  budget sweep: " + fmt("%.0f%%", 100 * f) + " of " + baseline_name + " energy");
      sweep[key] = {{"trained", train(key, p, key, true)}};
    }
    r["sweep"] = sweep;
    return r;
  });

  // 7. Report.
  ++phase_index_;
  note("[" + std::to_string(phase_index_) + "/" + std::to_string(phase_count_) + "] report");
  const json fp32_price = price({std::vector<LayerPrecision>(sc_.net.layers.size(),
                                                             LayerPrecision::uniform(NumFormat::Fp32, 32))});
  const json base_price = price(base_prec);
  const json chosen_price = price(chosen_prec);
  const double base_e = base_price.at("energy_uj").get<double>();
  auto metric = [&](const json& trained) {
    return trained.at("test").at(regression_ ? "rmse" : "accuracy").get<double>();
  };
  const double base_metric = metric(base);
  // Accuracy drop in percentage points; for regression the RMSE increase in % of the baseline's.
  auto drop = [&](const json& trained) {
    const double m = metric(trained);
    return regression_ ? 100.0 * (m - base_metric) / base_metric : 100.0 * (base_metric - m);
  };
  auto saving = [&](double e) { return 100.0 * (base_e - e) / base_e; };

  json rep;
  rep["mixprec_report"] = 1;
  rep["run_id"] = dir_.substr(dir_.find_last_of('/') + 1);
  rep["scenario"] = {{"name", sc_.name}, {"file", o_.file}, {"hash", file_hash(o_.file)}};
  rep["task"] = regression_ ? "regression" : "classification";
  rep["metric"] = regression_ ? "rmse" : "accuracy";
  rep["quick"] = o_.quick;
  json man = make_manifest(o_.file, o_.threads);
  man["seeds"] = {sc_.training.seed};
  man["threads"] = o_.threads;
  man["options"] = options_json();
  json phases = json::array();
  for (const json& n : state_["order"])
    phases.push_back({{"name", n}, {"seconds", state_["phases"][n.get<std::string>()]["seconds"]},
                      {"status", "done"}});
  man["phases"] = phases;
  man["training"] = {{"epochs", sc_.training.epochs}, {"qat_epochs", sc_.training.qat_epochs},
                     {"batch_size", sc_.training.batch_size}, {"micro_batches", sc_.training.micro_batches},
                     {"learning_rate", sc_.training.learning_rate},
                     {"qat_learning_rate", sc_.training.qat_learning_rate},
                     {"optimizer", sc_.training.optimizer}};
  rep["manifest"] = man;
  const double max_drop = 2.0, band_lo = 35, band_hi = 45;
  const double latency_bound = sc_.constraints.latency_ms ? *sc_.constraints.latency_ms : 5.0;
  rep["claim"] = {{"energy_saving_pct", {band_lo, band_hi}},
                  {"max_accuracy_drop_pp", max_drop},
                  {"latency_ms", latency_bound},
                  {"baseline", baseline_name},
                  {"pattern", "early CNN layers at higher precision than the LSTM layers"}};

  json models = json::array();
  models.push_back(model_entry("fp32", "FP32", fp32, fp32_price));
  models.push_back(model_entry("baseline", "uniform " + baseline_name + " (QAT)", base, base_price));
  models.push_back(model_entry("chosen", "mixed precision, exact solver (QAT, FP32 buffers)", chosen,
                               chosen_price));
  json ablations = json::array();
  for (const Ablation& a : abl) {
    const json& t = abl_res.at(a.name).at("trained");
    const json pr = price(a.precision);
    models.push_back(model_entry(a.name, a.label, t, pr));
    json aj{{"name", a.name}, {"label", a.label}, {"description", a.description},
            {"energy_uj", pr.at("energy_uj")},
            {"energy_saving_pct", saving(pr.at("energy_uj").get<double>())}};
    if (abl_res.at(a.name).contains("same_as")) aj["same_as"] = "chosen";
    if (regression_) {
      aj["rmse"] = metric(t);
      aj["rmse_increase_pct"] = drop(t);
    } else {
      aj["accuracy"] = metric(t);
      aj["accuracy_drop_pp"] = drop(t);
    }
    ablations.push_back(aj);
  }
  rep["models"] = models;
  rep["baseline"] = "baseline";
  rep["ablations"] = ablations;

  json sweep = json::array();
  for (const json& s : srch.at("sweep")) {
    const double f = s.at("budget_fraction").get<double>();
    const std::string key = "sweep_" + fmt("%.2f", f);
    json sj{{"budget_fraction", f}, {"feasible", s.at("feasible")}};
    if (s.at("feasible").get<bool>() && abl_res.at("sweep").contains(key)) {
      const json& t = abl_res.at("sweep").at(key).at("trained");
      const json pr = price(prec_of(s));
      sj["energy_uj"] = pr.at("energy_uj");
      sj["energy_saving_pct"] = saving(pr.at("energy_uj").get<double>());
      sj["predicted_sensitivity"] = s.at("predicted_sensitivity");
      if (regression_) {
        sj["rmse"] = metric(t);
        sj["rmse_increase_pct"] = drop(t);
      } else {
        sj["accuracy"] = metric(t);
        sj["accuracy_drop_pp"] = drop(t);
      }
    }
    sweep.push_back(sj);
  }
  rep["budget_sweep"] = sweep;

  json layers = json::array();
  double cnn_bits = 0, lstm_bits = 0;
  int cnn_n = 0, lstm_n = 0, conv_seen = 0, conv_total = 0;
  for (const Layer& l : sc_.net.layers) conv_total += l.kind == LayerKind::Conv2d;
  for (std::size_t i = 0; i < sc_.net.layers.size(); ++i) {
    const Layer& l = sc_.net.layers[i];
    if (!l.has_weights()) continue;
    const LayerPrecision& p = chosen_prec[i];
    const bool is_int = p.format == NumFormat::Int;
    json lj{{"name", l.name}, {"group", group_of(l)}, {"format", to_string(p.format)},
            {"weight_bits", is_int ? json(p.weights().bits) : json(nullptr)},
            {"activation_bits", is_int ? json(p.activations().bits) : json(nullptr)},
            {"energy_uj", chosen_price.at("layers").at(i).at("energy_uj")},
            {"latency_ms", chosen_price.at("layers").at(i).at("latency_ms")},
            {"sensitivity", srch.at("chosen_layer_sensitivity").at(i)}};
    layers.push_back(lj);
    const bool fixed = std::find(setup.rules.fixed_layers.begin(), setup.rules.fixed_layers.end(),
                                 int(i)) != setup.rules.fixed_layers.end();
    if (l.kind == LayerKind::Conv2d) {
      ++conv_seen;
      // "Early" CNN layers: the first half of the convolutions; fixed layers are excluded (the
      // search did not choose them).
      if (!fixed && 2 * conv_seen <= conv_total) {
        cnn_bits += p.weights().bits;
        ++cnn_n;
      }
    } else if (l.kind == LayerKind::Lstm && !fixed) {
      lstm_bits += p.weights().bits;
      ++lstm_n;
    }
  }
  const double chosen_e = chosen_price.at("energy_uj").get<double>();
  rep["chosen"] = {{"budget_fraction", fraction},
                   {"solver", "exact"},
                   {"sensitivity_method", srch.at("sensitivity_method")},
                   {"sensitivity_source", srch.at("sensitivity_source")},
                   {"energy_uj", chosen_e},
                   {"latency_ms", chosen_price.at("latency_ms")},
                   {"size_bytes", chosen_price.at("size_bytes")},
                   {"predicted_sensitivity", srch.at("chosen").at("predicted_sensitivity")},
                   {"layers", layers}};
  json comps = json::array(), entries = json::array();
  for (std::size_t i = 0; i < sim::kComponents; ++i) comps.push_back(sim::to_string(sim::Component(i)));
  for (const auto& [name, pr] : {std::pair<std::string, const json*>{"baseline", &base_price},
                                 {"chosen", &chosen_price}}) {
    json v = json::array();
    for (const json& c : comps) v.push_back(pr->at("components").at(c.get<std::string>()));
    entries.push_back({{"name", name}, {"values", v}});
  }
  rep["energy_breakdown"] = {{"components", comps}, {"entries", entries}};
  rep["engines"] = engines;
  rep["pareto"] = srch.at("pareto");

  const double save = saving(chosen_e), d = drop(chosen);
  const double lat = engines.at("systemc").at("latency_ms").get<double>();
  json v;
  v["energy_saving_pct"] = save;
  if (regression_)
    v["rmse_increase_pct"] = d;
  v["accuracy_drop_pp"] = d;
  v["latency_ms"] = lat;
  v["energy_claim_held"] = save >= band_lo;
  v["energy_in_band"] = save >= band_lo && save <= band_hi;
  v["accuracy_claim_held"] = d < max_drop;
  v["latency_claim_held"] = lat <= latency_bound;
  const bool pattern = cnn_n > 0 && lstm_n > 0 && cnn_bits / cnn_n > lstm_bits / lstm_n;
  v["pattern_held"] = pattern;
  v["pattern_detail"] =
      cnn_n > 0 && lstm_n > 0
          ? "mean weight bits: early CNN layers " + fmt("%.2f", cnn_bits / cnn_n) + " (" +
                std::to_string(cnn_n) + " layers searched), LSTM layers " +
                fmt("%.2f", lstm_bits / lstm_n) + " (" + std::to_string(lstm_n) + ")"
          : std::string("not applicable: the network lacks searched CNN or LSTM layers");
  const bool held = v["energy_claim_held"].get<bool>() && v["accuracy_claim_held"].get<bool>() &&
                    v["latency_claim_held"].get<bool>();
  v["claim_held"] = held;
  std::ostringstream sum;
  sum << "At " << fmt("%.0f%%", 100 * fraction) << " of the uniform " << baseline_name
      << " energy budget, the exact solver's mixed-precision configuration uses "
      << fmt("%.4g", chosen_e) << " uJ per inference against " << fmt("%.4g", base_e) << " uJ: a saving of "
      << fmt("%.1f%%", save) << (save >= band_lo && save <= band_hi ? " (inside" : " (outside")
      << " the claimed 35-45% band). ";
  if (regression_)
    sum << "Its test RMSE is " << fmt("%.3f", metric(chosen)) << " against the baseline's "
        << fmt("%.3f", base_metric) << " (" << fmt("%+.2f%%", d) << "). ";
  else
    sum << "Its test accuracy is " << fmt("%.2f%%", 100 * metric(chosen)) << " against the baseline's "
        << fmt("%.2f%%", 100 * base_metric) << " (a drop of " << fmt("%.2f", d)
        << " points; the claim allows under 2). ";
  sum << "SystemC latency " << fmt("%.3f", lat) << " ms per inference (bound " << fmt("%.1f", latency_bound)
      << " ms). The claim " << (held ? "held" : "did not hold") << " on this run"
      << (pattern ? "; the chosen bitwidths follow the claimed pattern." : "; the chosen bitwidths do not follow the claimed pattern.");
  v["summary"] = sum.str();
  rep["verdict"] = v;

  write_file_atomic(dir_ + "/report.json", rep.dump(2) + "\n");
  write_file_atomic(dir_ + "/report.md", render_report_md(rep));
  write_file_atomic(dir_ + "/report.html", render_report_html(rep));
  return rep;
}

}  // namespace

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
  if (o.threads < 1) throw UsageError("--threads must be at least 1");
  if (o.budget >= 0 && !(o.budget > 0 && o.budget <= 1))
    throw UsageError("--budget must be in (0, 1], found " + fmt("%g", o.budget));
  for (double f : o.sweep)
    if (!(f > 0 && f <= 1)) throw UsageError("--sweep fractions must be in (0, 1], found " + fmt("%g", f));
  if (o.resume && o.force) throw UsageError("give either --resume or --force, not both");
  Scenario sc = load_scenario(o.file);
  if (sc.hardware.kind == HardwareKind::Fpga)
    throw SpecError(sc.file, "/hardware/kind",
                    "\"asic\" hardware (reproduce searches per-layer options on the systolic-array template)",
                    "\"fpga\"");
  if (!sc.search.ranks.empty())
    throw SpecError(sc.file, "/search/ranks",
                    "no rank search in reproduce (its claim is about bitwidths; search ranks with `mixprec "
                    "search`, then train the choice with `mixprec train --precision DIR/precision.json "
                    "--init-from CKPT`, docs/tensor_lstm.md)",
                    std::to_string(sc.search.ranks.size()) + " rank-searched layer(s)");
  if (o.quick) sc = quick_variant(sc);
  const std::string id =
      o.run_id.empty() ? "seed" + std::to_string(sc.training.seed) + (o.quick ? "-quick" : "") : o.run_id;
  const std::string dir = o.out.empty() ? sc.report.out_dir + "/" + sc.name + "/" + id : o.out;
  if (run_dir) *run_dir = dir;
  Run run(o, std::move(sc), dir);
  return run.execute();
}

namespace {

bool skipped_key(const std::string& k) {
  return k == "manifest" || k == "run_id" || k == "seconds" || k == "wall_seconds" ||
         k == "sensitivity_source" || k == "file" || k == "checkpoint";
}

void diff(const json& a, const json& b, const std::string& ptr, double tol,
          std::vector<std::string>& out) {
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
      if (!skipped_key(it.key()) && !a.contains(it.key()))
        out.push_back(ptr + "/" + it.key() + ": only in the re-run");
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

}  // namespace mixprec::app
