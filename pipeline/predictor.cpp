#include "pipeline/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "model/data/rng.hpp"
#include "pipeline/claim_report.hpp"
#include "pipeline/common.hpp"
#include "pipeline/pricing.hpp"
#include "pipeline/reproduce.hpp"
#include "pipeline/sensitivity_run.hpp"
#include "pipeline/training.hpp"
#include "pipeline/verdict.hpp"
#include "report/predictor_render.hpp"
#include "search/solver.hpp"
#include "sim/pricer.hpp"

namespace mixprec::pipeline {

using nlohmann::json;

namespace {

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

// A t-interval of plain per-seed values (stats::paired_t_interval's formula; the values here are
// not differences, so the method text says so).
stats::Interval seed_interval(const std::vector<double>& v, double confidence = 0.95) {
  stats::Interval i = stats::paired_t_interval(v, confidence);
  if (v.size() >= 2)
    i.method = "t-interval over " + std::to_string(v.size()) + " seeds (df = " + std::to_string(v.size() - 1) + ")";
  else
    i.method = "single value (one seed)";
  return i;
}

std::string budget_text(double f) { return fmt("%g", f); }

// A method spec NAME[:N][:aW]: "measured", "measured:256" (validation samples), "ggn:a4" (the
// activation terms weighted 4 against the weight terms; hessian and ggn, whose tables keep both
// terms; the table is the unweighted method's, recombined), "clado:neighbours" (the clado method's
// pair terms for adjacent layers only). Its name, sample count (0: the estimator's default),
// activation weight (1 when not given) and clado pairs ("all" when not given). Returns false
// when malformed.
bool parse_method(const std::string& spec, std::string* name, int* samples, double* act_weight = nullptr,
                  std::string* clado_pairs = nullptr) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto colon = spec.find(':', start);
    parts.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  *name = parts[0];
  *samples = 0;
  if (act_weight) *act_weight = 1.0;
  if (clado_pairs) *clado_pairs = "all";
  if (spec == "qat") return true;
  if (*name != "hessian" && *name != "measured" && *name != "ggn" && *name != "clado") return false;
  bool have_samples = false, have_weight = false, have_pairs = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& n = parts[i];
    if (n == "neighbours" && *name == "clado" && !have_pairs) {
      if (clado_pairs) *clado_pairs = n;
      have_pairs = true;
      continue;
    }
    if (!n.empty() && n[0] == 'a' && (*name == "hessian" || *name == "ggn") && !have_weight) {
      const std::string w = n.substr(1);
      if (w.empty() || w.size() > 12 || w.find_first_not_of("0123456789.") != std::string::npos) return false;
      const double v = std::atof(w.c_str());
      if (!(v > 0)) return false;
      if (act_weight) *act_weight = v;
      have_weight = true;
      continue;
    }
    if (have_samples || have_weight || n.empty() || n.size() > 7 || n.find_first_not_of("0123456789") != std::string::npos)
      return false;
    *samples = std::stoi(n);
    if (*samples <= 0) return false;
    have_samples = true;
  }
  return true;
}

// The table of a method with activation weight w: weight terms + w x activation terms.
void reweight_activation_terms(search::SensitivityTable& t, double w) {
  if (w == 1.0) return;
  MIXPREC_CHECK(t.weight_terms.size() == t.values.size() && t.activation_terms.size() == t.values.size(),
                "an activation weight needs a table of weight and activation terms");
  for (std::size_t i = 0; i < t.values.size(); ++i) t.values[i] = t.weight_terms[i] + w * t.activation_terms[i];
}

// The spec in configuration (directory) names: "measured:256" -> "measured-256".
std::string name_part(std::string spec) {
  std::replace(spec.begin(), spec.end(), ':', '-');
  return spec;
}

}  // namespace

// ---- the configuration set -----------------------------------------------------------------

double predicted_sensitivity(const search::SensitivityTable& t, const std::vector<int>& option_of_layer) {
  return t.total(option_of_layer);
}

PredictorPlan predictor_configs(const Scenario& sc, const SearchSetup& setup,
                                const std::vector<std::pair<std::string, search::SensitivityTable>>& tables,
                                const std::vector<double>& budgets, int total, std::uint64_t seed) {
  MIXPREC_CHECK(!tables.empty(), "predictor_configs: at least one method");
  PredictorPlan plan;
  std::map<std::vector<int>, std::size_t> index_of;
  const search::Problem first =
      search::make_problem(setup.table, tables[0].second, sc.net, setup.rules, setup.default_option);
  search::Budget open = make_budget(sc, setup, 1.0);  // latency and size constraints only
  open.limit[search::kEnergy] = std::numeric_limits<double>::infinity();
  auto energy_of = [&](const std::vector<int>& options) {
    // The problem's energy: sum of the cost table's rows (identical for every method's problem).
    double pj = 0;
    for (std::size_t l = 0; l < options.size(); ++l) pj += setup.table.at(l, std::size_t(options[l])).energy_pj;
    return pj * 1e-6;
  };
  auto add = [&](const std::string& name, const std::string& kind, const std::vector<int>& options,
                 const std::string& source) {
    auto it = index_of.find(options);
    if (it != index_of.end()) {
      plan.configs[it->second].sources.push_back(source);
      return it->second;
    }
    PredictorConfig c{name, kind, {source}, options, energy_of(options)};
    plan.configs.push_back(c);
    index_of[options] = plan.configs.size() - 1;
    return plan.configs.size() - 1;
  };
  for (const UniformWidth& u : uniform_ladder(sc, std::numeric_limits<int>::max())) {
    const std::vector<int> opt = uniform_option_of_layer(sc, setup, u.weight_bits, u.activation_bits);
    if (opt.empty()) continue;
    add(ladder_name(u), "uniform", opt, "uniform w" + std::to_string(u.weight_bits) + "a" + std::to_string(u.activation_bits));
  }
  const double chosen = claim_budget(sc);
  for (const auto& [method, table] : tables) {
    const search::Problem prob = search::make_problem(setup.table, table, sc.net, setup.rules, setup.default_option);
    for (double f : budgets) {
      const search::Solution s = search::solve_exact(prob, make_budget(sc, setup, f)).best;
      const std::string src = "exact " + method + " at " + budget_text(f);
      if (!s.feasible) {
        plan.infeasible.push_back(src);
        continue;
      }
      const std::size_t i = add("exact_" + name_part(method) + "_" + budget_text(f), "exact", s.option_of_layer, src);
      plan.picks.push_back({method, "exact", f, i});
    }
    const search::Budget b = make_budget(sc, setup, chosen);
    const search::Solution picks[2] = {
        search::solve_greedy(prob, b),
        search::solve_evolutionary(prob, b, sc.search.baseline_evaluations, std::uint64_t(sc.search.seed))};
    const char* solver[2] = {"greedy", "evolutionary"};
    for (int k = 0; k < 2; ++k) {
      const std::string src = std::string(solver[k]) + " " + method + " at " + budget_text(chosen);
      if (!picks[k].feasible) {
        plan.infeasible.push_back(src);
        continue;
      }
      const std::size_t i = add(std::string(solver[k]) + "_" + name_part(method), solver[k], picks[k].option_of_layer, src);
      plan.picks.push_back({method, solver[k], chosen, i});
    }
  }
  const int structured = int(plan.configs.size());
  if (total < structured)
    throw UsageError("--configs must be at least " + std::to_string(structured) +
                     " (the uniform widths and solver picks of this scenario), found " + std::to_string(total));
  plan.random_requested = total - structured;
  if (plan.random_requested == 0) return plan;

  // A pool of random configurations meeting the non-energy constraints: each group takes either a
  // uniformly random allowed option or the option at a per-draw energy level u (the groups' items
  // ordered by energy), so the pool reaches both ends of the energy range.
  std::vector<std::vector<int>> by_energy(first.groups.size());
  for (std::size_t g = 0; g < first.groups.size(); ++g) {
    auto& order = by_energy[g];
    for (std::size_t k = 0; k < first.groups[g].items.size(); ++k) order.push_back(int(k));
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return first.groups[g].items[size_t(a)].cost[search::kEnergy] < first.groups[g].items[size_t(b)].cost[search::kEnergy];
    });
  }
  data::Rng rng(seed);
  std::vector<std::vector<int>> pool;
  std::vector<double> pool_energy;
  std::set<std::vector<int>> seen;
  constexpr int kDraws = 20000;
  std::vector<int> items(first.groups.size());
  for (int d = 0; d < kDraws; ++d) {
    const double u = rng.uniform();
    for (std::size_t g = 0; g < items.size(); ++g) {
      const int n = int(by_energy[g].size());
      const int k = rng.chance(0.5) ? rng.below(n) : std::min(n - 1, int(u * n));
      items[g] = by_energy[g][size_t(k)];
    }
    const search::Solution s = search::evaluate_choice(first, items, open);
    if (!s.feasible || index_of.count(s.option_of_layer) || !seen.insert(s.option_of_layer).second) continue;
    pool.push_back(s.option_of_layer);
    pool_energy.push_back(energy_of(s.option_of_layer));
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double e : pool_energy) lo = std::min(lo, e), hi = std::max(hi, e);
  for (const PredictorConfig& c : plan.configs) lo = std::min(lo, c.planned_energy_uj), hi = std::max(hi, c.planned_energy_uj);
  // One configuration per equal-width energy stratum: the unused pool entry nearest its centre.
  std::vector<bool> used(pool.size(), false);
  const int R = plan.random_requested;
  int made = 0;
  for (int j = 0; j < R; ++j) {
    const double target = lo + (j + 0.5) * (hi - lo) / R;
    std::size_t best = pool.size();
    for (std::size_t k = 0; k < pool.size(); ++k)
      if (!used[k] && (best == pool.size() || std::fabs(pool_energy[k] - target) < std::fabs(pool_energy[best] - target)))
        best = k;
    if (best == pool.size()) break;
    used[best] = true;
    ++made;
    char name[32];
    std::snprintf(name, sizeof name, "random_%02d", made);
    add(name, "random", pool[best], "random, energy stratum " + std::to_string(j + 1) + " of " + std::to_string(R));
  }
  return plan;
}

// ---- the statistics --------------------------------------------------------------------------

namespace {

// Per seed, `x`'s metric minus `y`'s, signed so that positive means x is better.
std::vector<double> advantage(const TrainedPoint& x, const TrainedPoint& y, bool higher_is_better) {
  MIXPREC_CHECK(x.metric.size() == y.metric.size() && !x.metric.empty(), "predictor: one metric per seed");
  std::vector<double> d(x.metric.size());
  for (std::size_t s = 0; s < d.size(); ++s)
    d[s] = higher_is_better ? x.metric[s] - y.metric[s] : y.metric[s] - x.metric[s];
  return d;
}

double goodness(const TrainedPoint& p, bool higher_is_better) {
  const double m = mean_of(p.metric);
  return higher_is_better ? m : -m;
}

}  // namespace

Regret regret_of(const std::vector<TrainedPoint>& points, std::size_t pick, bool higher_is_better, double confidence) {
  MIXPREC_CHECK(pick < points.size(), "predictor: pick out of range");
  std::size_t best = pick;
  for (std::size_t i = 0; i < points.size(); ++i)
    if (points[i].energy_uj <= points[pick].energy_uj &&
        goodness(points[i], higher_is_better) > goodness(points[best], higher_is_better))
      best = i;
  return {points[best].name, stats::paired_t_interval(advantage(points[best], points[pick], higher_is_better), confidence)};
}

Domination domination_of(const std::vector<TrainedPoint>& points, std::size_t pick, bool higher_is_better,
                         double confidence) {
  MIXPREC_CHECK(pick < points.size(), "predictor: pick out of range");
  std::size_t best = points.size();
  for (std::size_t i = 0; i < points.size(); ++i)
    if (i != pick && points[i].uniform && points[i].energy_uj <= points[pick].energy_uj &&
        (best == points.size() || goodness(points[i], higher_is_better) > goodness(points[best], higher_is_better)))
      best = i;
  Domination d;
  if (best == points.size()) {
    d.status = "not dominated";
    return d;
  }
  d.uniform = points[best].name;
  d.advantage = stats::paired_t_interval(advantage(points[best], points[pick], higher_is_better), confidence);
  d.status = d.advantage.lo > 0 ? "dominated" : d.advantage.hi < 0 ? "not dominated" : "matched";
  return d;
}

RankAgreement rank_agreement(const std::vector<double>& predicted, const std::vector<double>& measured,
                             int resamples, std::uint64_t seed, double confidence) {
  MIXPREC_CHECK(predicted.size() == measured.size() && !predicted.empty(), "predictor: paired values");
  auto on = [&](double (*f)(const std::vector<double>&, const std::vector<double>&)) {
    return [&, f](const std::vector<std::uint32_t>& idx) {
      std::vector<double> x(idx.size()), y(idx.size());
      for (std::size_t k = 0; k < idx.size(); ++k) x[k] = predicted[idx[k]], y[k] = measured[idx[k]];
      const double v = f(x, y);
      return std::isfinite(v) ? v : 0.0;
    };
  };
  RankAgreement r;
  r.kendall_tau = stats::bootstrap(predicted.size(), on(&stats::kendall_tau_b), confidence, resamples, seed);
  r.spearman_rho = stats::bootstrap(predicted.size(), on(&stats::spearman_rho), confidence, resamples, seed);
  r.kendall_tau.method = "Kendall tau-b, percentile bootstrap over " + std::to_string(predicted.size()) +
                         " configurations (" + std::to_string(resamples) + " resamples)";
  r.spearman_rho.method = "Spearman rho (average ranks), percentile bootstrap over " +
                          std::to_string(predicted.size()) + " configurations (" + std::to_string(resamples) +
                          " resamples)";
  return r;
}

// ---- the run -------------------------------------------------------------------------------

namespace {

// The "qat" sensitivity method: per free group of the search problem and each option it allows,
// a QAT fine-tune (training.qat_epochs from the seed's FP32 model) with only that group
// quantized; its sensitivity is the best validation loss of that fine-tune minus the one of the
// same fine-tune with nothing quantized (floored at 0: the solver needs non-negative terms),
// entered on the group's first layer. The issue-21 direction "sensitivities after a short
// QAT fine-tune per option".
struct QatProbe {
  std::string name;  // "reference" or "<layer>_o<option>"
  int layer = -1;    // the group's first layer (-1: the reference)
  int option = -1;
  std::vector<LayerPrecision> precision;
};

double best_val_loss(const json& r) {
  const int best = r.at("best_epoch").get<int>();
  for (const json& c : r.at("curves"))
    if (c.at("epoch").get<int>() == best && c.contains("val_loss")) return c.at("val_loss").get<double>();
  throw InternalError("predictor: a QAT probe without the validation loss of its best epoch");
}

class PredictorRun {
 public:
  PredictorRun(const PredictorOptions& o, Scenario sc, std::string dir, json opts)
      : o_(o), sc_(std::move(sc)), dir_(std::move(dir)), opts_(std::move(opts)) {}
  json execute();

 private:
  Scenario seed_scenario(int k) const {
    Scenario s = sc_;
    s.training.seed = sc_.training.seed + k;
    return s;
  }
  std::string seed_dir(int k) const { return dir_ + "/seed" + std::to_string(sc_.training.seed + k); }
  // The folder of --reuse-training's run that corresponds to the job's (its parent), or "".
  std::string reuse_root(const TrainJob& j) const {
    if (o_.reuse_training.empty()) return "";
    const std::string parent = j.out.substr(0, j.out.find_last_of('/'));
    return o_.reuse_training + parent.substr(dir_.size());
  }
  ProgressSink reuse_log() const {
    return [this](const std::string& s, bool) { note(s); };
  }
  void note(const std::string& s) const {
    if (!o_.progress) return;
    std::lock_guard<std::mutex> lock(progress_mutex_);
    o_.progress(s, false);
  }
  template <class F>
  json stage(const std::string& name, const std::string& what, F&& body);
  void open_state();
  SensitivityRequest sens_request(const std::string& method, int k) const;
  std::vector<QatProbe> qat_probes(const SearchSetup& setup) const;
  search::SensitivityTable qat_table(const SearchSetup& setup, const std::vector<QatProbe>& probes, int k);
  json build(const PredictorPlan& plan, const std::vector<std::vector<search::SensitivityTable>>& tables,
             double wall_seconds);

  const PredictorOptions& o_;
  Scenario sc_;
  std::string dir_;
  json opts_;
  mutable std::mutex state_mutex_, progress_mutex_;
  json state_;
  bool fresh_ = false;  // --force over an earlier run
  Clock::time_point started_;
  double earlier_seconds_ = 0;
  // Records training directories in the state (under state_mutex_); with --force, removes an
  // earlier run's interrupted checkpoint there.
  void list_job(const std::string& dir) {
    if (fresh_) std::remove((dir + "/last.ckpt").c_str());
    state_["jobs"].push_back(dir);
  }
};

template <class F>
json PredictorRun::stage(const std::string& name, const std::string& what, F&& body) {
  return run_stage(state_, state_mutex_, dir_ + "/state.json", name, what, [this](const std::string& s) { note(s); },
                   std::forward<F>(body),
                   [this](json& st) { st["wall_seconds"] = earlier_seconds_ + seconds_since(started_); });
}

void PredictorRun::open_state() {
  make_dirs(dir_);
  const std::string path = dir_ + "/state.json";
  if (std::ifstream(path).good()) {
    if (!o_.resume && !o_.force)
      throw UsageError(dir_ + " already holds a run: --resume continues it, --force starts over, --out picks "
                       "another directory");
    if (o_.resume) {
      state_ = load_state(path);
      if (!state_.contains("predictor_options") || state_.at("predictor_options") != opts_)
        throw UsageError("--resume: " + path +
                         " was started with other options or another version of the scenario (use --force to "
                         "start over)");
      return;
    }
    // --force: interrupted training directories of the earlier run are stale; list_jobs removes
    // their last.ckpt (whether or not the old state can still be read).
    fresh_ = true;
  }
  state_ = {{"predictor_options", opts_}, {"stages", json::object()}, {"order", json::array()}, {"jobs", json::array()}};
  save_state(path, state_);
}

std::vector<QatProbe> PredictorRun::qat_probes(const SearchSetup& setup) const {
  search::SensitivityTable zero;
  for (const Layer& l : sc_.net.layers) zero.layers.push_back(l.name);
  zero.options = setup.options;
  zero.values.assign(zero.layers.size() * zero.options.size(), 0.0);
  const search::Problem prob = search::make_problem(setup.table, zero, sc_.net, setup.rules, setup.default_option);
  const std::vector<LayerPrecision> fp32 = uniform_precision(sc_, "fp32");
  std::vector<QatProbe> out{{"reference", -1, -1, fp32}};
  for (const search::Group& g : prob.groups) {
    if (g.items.size() < 2) continue;  // fixed
    for (const search::Item& it : g.items) {
      search::Solution all;
      all.option_of_layer.assign(sc_.net.layers.size(), it.option);
      const std::vector<LayerPrecision> q = chosen_precision(sc_, setup, all);
      QatProbe p{sc_.net.layers[size_t(g.layers[0])].name + "_o" + std::to_string(it.option), g.layers[0], it.option, fp32};
      for (int l : g.layers) p.precision[size_t(l)] = q[size_t(l)];
      out.push_back(p);
    }
  }
  return out;
}

search::SensitivityTable PredictorRun::qat_table(const SearchSetup& setup, const std::vector<QatProbe>& probes, int k) {
  search::SensitivityTable t;
  t.method = "qat";
  t.checkpoint = seed_dir(k) + "/fp32/best.ckpt";
  for (const Layer& l : sc_.net.layers) t.layers.push_back(l.name);
  t.options = setup.options;
  t.values.assign(t.layers.size() * t.options.size(), 0.0);
  const std::string prefix = "qatsens/seed" + std::to_string(sc_.training.seed + k) + "/";
  std::lock_guard<std::mutex> lock(state_mutex_);
  const double ref = state_["stages"][prefix + "reference"]["result"]["val_loss"].get<double>();
  for (const QatProbe& q : probes)
    if (q.layer >= 0)
      t.values[size_t(q.layer) * t.options.size() + size_t(q.option)] =
          std::max(0.0, state_["stages"][prefix + q.name]["result"]["val_loss"].get<double>() - ref);
  return t;
}

SensitivityRequest PredictorRun::sens_request(const std::string& method, int k) const {
  SensitivityRequest r;
  parse_method(method, &r.method, &r.samples, nullptr, &r.clado_pairs);
  r.checkpoint = seed_dir(k) + "/fp32/best.ckpt";
  r.threads = 1;
  r.log = [this](const std::string& line, bool) { note(line); };
  return r;
}

json PredictorRun::execute() {
  started_ = Clock::now();
  open_state();
  earlier_seconds_ = state_.value("wall_seconds", 0.0);  // of the sessions a --resume continues
  const int S = o_.seeds;
  const int jobs = std::max(1, o_.threads);
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    state_["jobs"] = json::array();
    for (int k = 0; k < S; ++k) list_job(seed_dir(k) + "/fp32");
  }
  // FP32 models, one per seed.
  run_concurrently(std::size_t(S), jobs, [&](std::size_t k) {
    const Scenario sc = seed_scenario(int(k));
    stage("fp32/seed" + std::to_string(sc.training.seed), "training the FP32 model", [&] {
      TrainJob j;
      j.scenario_file = o_.file;
      j.sc = sc;
      j.out = seed_dir(int(k)) + "/fp32";
      return train_or_reuse(j, reuse_root(j), reuse_log());
    });
  });
  const SearchSetup setup = prepare_search(sc_);
  const std::size_t M = o_.methods.size();
  // The "qat" method's probes: short QAT fine-tunes, one per (seed, free group, allowed option).
  const bool qat = std::find(o_.methods.begin(), o_.methods.end(), "qat") != o_.methods.end();
  std::vector<QatProbe> probes;
  if (qat) {
    probes = qat_probes(setup);
    {
      std::lock_guard<std::mutex> lock(state_mutex_);
      for (int k = 0; k < S; ++k)
        for (const QatProbe& q : probes) list_job(seed_dir(k) + "/qatsens/" + q.name);
    }
    run_concurrently(probes.size() * size_t(S), jobs, [&](std::size_t i) {
      const QatProbe& q = probes[i % probes.size()];
      const int k = int(i / probes.size());
      const Scenario sc = seed_scenario(k);
      stage("qatsens/seed" + std::to_string(sc.training.seed) + "/" + q.name, "QAT probe", [&] {
        TrainJob j;
        j.scenario_file = o_.file;
        j.sc = sc;
        j.precision = q.precision;
        j.label = "probe " + q.name;
        j.out = seed_dir(k) + "/qatsens/" + q.name;
        j.init_from = seed_dir(k) + "/fp32/best.ckpt";
        j.integer_eval = false;
        const json r = train_or_reuse(j, reuse_root(j), reuse_log());
        json probe{{"val_loss", best_val_loss(r)}, {"wall_seconds", r.at("wall_seconds")}};
        if (r.contains("reused_from")) probe["reused_from"] = r.at("reused_from");
        return probe;
      });
    });
  }
  // Sensitivity tables, one per (method, seed).
  std::vector<std::vector<search::SensitivityTable>> tables(M, std::vector<search::SensitivityTable>(size_t(S)));
  run_concurrently(M * size_t(S), jobs, [&](std::size_t i) {
    const std::size_t m = i / size_t(S);
    const int k = int(i % size_t(S));
    const Scenario sc = seed_scenario(k);
    const std::string& method = o_.methods[m];
    SensitivityResult r;
    if (method == "qat") {
      tables[m][size_t(k)] = qat_table(setup, probes, k);
      stage("sens/qat/seed" + std::to_string(sc.training.seed), "qat sensitivities (from the probes)", [&] {
        double secs = 0;
        for (const QatProbe& q : probes)
          secs += state_["stages"]["qatsens/seed" + std::to_string(sc.training.seed) + "/" + q.name]["seconds"].get<double>();
        return json{{"seconds", 0.0}, {"compute_seconds", secs}, {"cache", ""}};
      });
      return;
    }
    stage("sens/" + method + "/seed" + std::to_string(sc.training.seed), method + " sensitivities", [&] {
      r = compute_sensitivity(sc, setup.options, sens_request(method, k));
      return json{{"seconds", r.seconds}, {"compute_seconds", r.compute_seconds}, {"cache", r.cache_path}};
    });
    if (r.table.values.empty()) r = compute_sensitivity(sc, setup.options, sens_request(method, k));  // resumed: the cache
    std::string name;
    int samples = 0;
    double act_weight = 1.0;
    parse_method(method, &name, &samples, &act_weight);
    reweight_activation_terms(r.table, act_weight);
    tables[m][size_t(k)] = r.table;
  });
  // The configuration set, from the first seed's tables.
  std::vector<std::pair<std::string, search::SensitivityTable>> first;
  for (std::size_t m = 0; m < M; ++m) first.emplace_back(o_.methods[m], tables[m][0]);
  const json plan_json = stage("plan", "the configuration set", [&] {
    const PredictorPlan p = predictor_configs(sc_, setup, first, opts_.at("budgets").get<std::vector<double>>(),
                                              o_.configs, std::uint64_t(sc_.search.seed));
    json cfg = json::array(), picks = json::array();
    for (const PredictorConfig& c : p.configs)
      cfg.push_back({{"name", c.name}, {"kind", c.kind}, {"sources", c.sources}, {"option_of_layer", c.option_of_layer},
                     {"planned_energy_uj", c.planned_energy_uj}});
    for (const PredictorPick& k : p.picks)
      picks.push_back({{"method", k.method}, {"solver", k.solver}, {"budget_fraction", k.budget_fraction},
                       {"config", k.config}});
    return json{{"configs", cfg}, {"picks", picks}, {"infeasible", p.infeasible},
                {"random_requested", p.random_requested}};
  });
  PredictorPlan plan;
  for (const json& c : plan_json.at("configs"))
    plan.configs.push_back({c.at("name").get<std::string>(), c.at("kind").get<std::string>(),
                            c.at("sources").get<std::vector<std::string>>(), c.at("option_of_layer").get<std::vector<int>>(),
                            c.at("planned_energy_uj").get<double>()});
  for (const json& k : plan_json.at("picks"))
    plan.picks.push_back({k.at("method").get<std::string>(), k.at("solver").get<std::string>(),
                          k.at("budget_fraction").get<double>(), k.at("config").get<std::size_t>()});
  plan.infeasible = plan_json.at("infeasible").get<std::vector<std::string>>();
  plan.random_requested = plan_json.at("random_requested").get<int>();
  // QAT jobs, one per (configuration, seed).
  const std::size_t C = plan.configs.size();
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    for (int k = 0; k < S; ++k)
      for (const PredictorConfig& c : plan.configs) list_job(seed_dir(k) + "/" + c.name);
    save_state(dir_ + "/state.json", state_);
  }
  run_concurrently(C * size_t(S), jobs, [&](std::size_t i) {
    const PredictorConfig& c = plan.configs[i % C];
    const int k = int(i / C);
    const Scenario sc = seed_scenario(k);
    search::Solution sol;
    sol.option_of_layer = c.option_of_layer;
    stage("job/" + c.name + "/seed" + std::to_string(sc.training.seed), "QAT (" + c.sources.front() + ")", [&] {
      TrainJob j;
      j.scenario_file = o_.file;
      j.sc = sc;
      j.precision = chosen_precision(sc, setup, sol);
      j.label = c.name;
      j.out = seed_dir(k) + "/" + c.name;
      j.init_from = seed_dir(k) + "/fp32/best.ckpt";
      json r = train_or_reuse(j, reuse_root(j), reuse_log());
      r["test"].erase("per_example");  // the predictor compares means over seeds
      return r;
    });
  });
  if (o_.progress) o_.progress("report: " + dir_, false);
  return build(plan, tables, earlier_seconds_ + seconds_since(started_));
}

json PredictorRun::build(const PredictorPlan& plan, const std::vector<std::vector<search::SensitivityTable>>& tables,
                         double wall_seconds) {
  const int S = o_.seeds;
  const std::size_t C = plan.configs.size(), M = o_.methods.size();
  const SearchSetup setup = prepare_search(sc_);
  sim::Pricer pricer(sc_);
  bool regression = false;
  std::vector<TrainedPoint> points(C);
  std::vector<std::vector<double>> loss(C);
  json configs = json::array();
  for (std::size_t i = 0; i < C; ++i) {
    const PredictorConfig& c = plan.configs[i];
    search::Solution sol;
    sol.option_of_layer = c.option_of_layer;
    const std::vector<LayerPrecision> prec = chosen_precision(sc_, setup, sol);
    const json price = price_configuration(sc_, pricer, prec);
    TrainedPoint& p = points[i];
    p.name = c.name;
    p.uniform = c.kind == "uniform";
    p.energy_uj = price.at("energy_uj").get<double>();
    for (int k = 0; k < S; ++k) {
      const json& t = state_["stages"]["job/" + c.name + "/seed" + std::to_string(sc_.training.seed + k)]["result"]["test"];
      regression = t.contains("rmse");
      p.metric.push_back(regression ? t.at("rmse").get<double>() : 100 * t.at("accuracy").get<double>());
      loss[i].push_back(t.at("loss").get<double>());
    }
    json predicted = json::object();
    for (std::size_t m = 0; m < M; ++m) {
      std::vector<double> per_seed;
      for (int k = 0; k < S; ++k) per_seed.push_back(predicted_sensitivity(tables[m][size_t(k)], c.option_of_layer));
      predicted[o_.methods[m]] = {{"mean", mean_of(per_seed)}, {"per_seed", per_seed}};
    }
    json bits = json::array();
    for (const LayerPrecision& l : prec)
      bits.push_back(std::string(l.format == NumFormat::Int ? "int" : "fp") + std::to_string(l.weight_bits) + "/" +
                     std::to_string(l.activation_bits));
    configs.push_back({{"name", c.name}, {"kind", c.kind}, {"sources", c.sources}, {"held_out", c.kind == "random"},
                       {"weight_activation_bits", bits}, {"option_of_layer", c.option_of_layer},
                       {"energy_uj", p.energy_uj}, {"latency_ms", price.at("latency_ms")},
                       {"size_bytes", price.at("size_bytes")}, {"predicted_sensitivity", predicted},
                       {"test_loss", {{"mean", mean_of(loss[i])}, {"per_seed", loss[i]}, {"interval", interval_json(seed_interval(loss[i]))}}},
                       {"metric", {{"mean", mean_of(p.metric)}, {"per_seed", p.metric}, {"interval", interval_json(seed_interval(p.metric))}}}});
  }
  const std::string metric = regression ? "rmse" : "accuracy";
  json methods = json::object();
  for (std::size_t m = 0; m < M; ++m) {
    const std::string& method = o_.methods[m];
    json mj;
    // Rank agreement on all configurations and on the held-out (random) ones.
    for (const bool held_out : {false, true}) {
      std::vector<double> pred, l, met;
      for (std::size_t i = 0; i < C; ++i) {
        if (held_out && plan.configs[i].kind != "random") continue;
        pred.push_back(configs[i]["predicted_sensitivity"][method]["mean"].get<double>());
        l.push_back(mean_of(loss[i]));
        met.push_back(mean_of(points[i].metric));
      }
      json block{{"configurations", pred.size()}};
      if (pred.size() >= 2) {
        const std::uint64_t seed = std::uint64_t(sc_.training.seed) * 1000 + m * 10 + (held_out ? 5 : 0);
        const RankAgreement al = rank_agreement(pred, l, o_.bootstrap_resamples, seed);
        const RankAgreement am = rank_agreement(pred, met, o_.bootstrap_resamples, seed + 1);
        block["test_loss"] = {{"kendall_tau", interval_json(al.kendall_tau)}, {"spearman_rho", interval_json(al.spearman_rho)}};
        block[metric] = {{"kendall_tau", interval_json(am.kendall_tau)}, {"spearman_rho", interval_json(am.spearman_rho)}};
      }
      mj[held_out ? "held_out" : "all"] = block;
    }
    // Per seed: that seed's table against that seed's losses.
    std::vector<double> tau_seed;
    for (int k = 0; k < S; ++k) {
      std::vector<double> pred, l;
      for (std::size_t i = 0; i < C; ++i) {
        pred.push_back(configs[i]["predicted_sensitivity"][method]["per_seed"][size_t(k)].get<double>());
        l.push_back(loss[i][size_t(k)]);
      }
      const double t = stats::kendall_tau_b(pred, l);
      tau_seed.push_back(std::isfinite(t) ? t : 0.0);
    }
    mj["per_seed_kendall_tau_test_loss"] = {{"per_seed", tau_seed}, {"interval", interval_json(seed_interval(tau_seed))}};
    json picks = json::array();
    for (const PredictorPick& k : plan.picks) {
      if (k.method != method) continue;
      const Regret r = regret_of(points, k.config, !regression);
      const Domination d = domination_of(points, k.config, !regression);
      json dj{{"status", d.status}, {"uniform", d.uniform}};
      if (!d.uniform.empty()) dj["advantage"] = interval_json(d.advantage);
      picks.push_back({{"solver", k.solver}, {"budget_fraction", k.budget_fraction},
                       {"chosen_budget", std::fabs(k.budget_fraction - claim_budget(sc_)) < 1e-9},
                       {"config", plan.configs[k.config].name}, {"energy_uj", points[k.config].energy_uj},
                       {metric, interval_json(seed_interval(points[k.config].metric))},
                       {"regret", {{"best", r.best}, {"interval", interval_json(r.regret)}}}, {"domination", dj}});
    }
    mj["picks"] = picks;
    std::vector<double> secs;
    for (int k = 0; k < S; ++k)
      secs.push_back(
          state_["stages"]["sens/" + method + "/seed" + std::to_string(sc_.training.seed + k)]["result"]["compute_seconds"]
              .get<double>());
    mj["sensitivity_compute_seconds"] = secs;
    methods[method] = mj;
  }
  json seeds = json::array();
  for (int k = 0; k < S; ++k) seeds.push_back(sc_.training.seed + k);
  json counts = json::object();
  for (const PredictorConfig& c : plan.configs) counts[c.kind] = counts.value(c.kind, 0) + 1;
  json stages = json::array();
  for (const json& n : state_["order"])
    stages.push_back({{"name", n}, {"seconds", state_["stages"][n.get<std::string>()]["seconds"]}});
  json rep{{"mixprec_predictor_report", 1},
           {"scenario", {{"name", sc_.name}, {"file", o_.file}, {"hash", file_hash(o_.file)}}},
           {"options", opts_},
           {"metric", metric},
           {"metric_unit", regression ? sc_.name + " target units" : "%"},
           {"seeds", seeds},
           {"chosen_budget", claim_budget(sc_)},
           {"baseline_energy_uj", setup.baseline_energy_uj},
           {"config_counts", counts},
           {"random_requested", plan.random_requested},
           {"infeasible_picks", plan.infeasible},
           {"configs", configs},
           {"methods", methods},
           {"wall_seconds", wall_seconds},
           {"stages", stages}};
  // Training runs copied from an earlier run (--reuse-training), stage <- source.
  json reused = json::array();
  for (const json& n : state_["order"]) {
    const json& r = state_["stages"][n.get<std::string>()]["result"];
    if (r.is_object() && r.contains("reused_from")) reused.push_back(n.get<std::string>() + " <- " + r["reused_from"].get<std::string>());
  }
  if (!reused.empty()) rep["reused_training"] = reused;
  write_file_atomic(dir_ + "/report.json", rep.dump(2) + "\n");
  write_file_atomic(dir_ + "/report.md", report::predictor_markdown(rep));
  for (const std::string& method : o_.methods)
    write_file_atomic(dir_ + "/scatter_" + name_part(method) + ".svg", report::predictor_scatter_svg(rep, method));
  write_file_atomic(dir_ + "/energy_" + metric + ".svg", report::predictor_energy_svg(rep));
  return rep;
}

}  // namespace

json run_predictor(const PredictorOptions& o, std::string* run_dir) {
  if (o.threads < 1) throw UsageError("--threads must be at least 1, found " + std::to_string(o.threads));
  if (o.seeds < 1) throw UsageError("--seeds must be at least 1, found " + std::to_string(o.seeds));
  if (o.configs < 2) throw UsageError("--configs must be at least 2, found " + std::to_string(o.configs));
  if (o.bootstrap_resamples < 100)
    throw UsageError("--bootstrap must be at least 100, found " + std::to_string(o.bootstrap_resamples));
  if (o.resume && o.force) throw UsageError("give either --resume or --force, not both");
  if (o.methods.empty()) throw UsageError("--methods must name at least one sensitivity method");
  std::set<std::string> seen;
  for (const std::string& m : o.methods) {
    std::string name;
    int samples = 0;
    if (!parse_method(m, &name, &samples))
      throw UsageError("--methods: expected a comma-separated list of \"hessian\", \"measured\", \"ggn\", \"clado\" "
                       "(optionally with \":N\" validation samples, e.g. measured:256; hessian and ggn also \":aW\", "
                       "the activation terms weighted W > 0, e.g. ggn:a4; clado also \":neighbours\", the pairs of "
                       "adjacent layers only), \"qat\"; found \"" + m + "\"");
    if (!seen.insert(m).second) throw UsageError("--methods: \"" + m + "\" is given twice");
  }
  for (double f : o.budgets)
    if (!(f > 0 && f <= 1)) throw UsageError("--budgets fractions must be in (0, 1], found " + fmt("%g", f));
  Scenario sc = load_scenario(o.file);
  if (sc.hardware.kind == HardwareKind::Fpga)
    throw SpecError(sc.file, "/hardware/kind", "\"asic\" hardware (the predictor searches per-layer options)",
                    "\"fpga\"");
  if (!sc.search.ranks.empty())
    throw SpecError(sc.file, "/search/ranks", "no rank search in predictor (it ranks bitwidth configurations)",
                    std::to_string(sc.search.ranks.size()) + " rank-searched layer(s)");
  std::vector<double> budgets = o.budgets.empty() ? default_budgets(true, claim_budget(sc)) : o.budgets;
  std::sort(budgets.begin(), budgets.end());
  budgets.erase(std::unique(budgets.begin(), budgets.end()), budgets.end());
  // The structured configurations at most (before identical picks merge): checked before any training.
  const int widths = int(uniform_ladder(sc, std::numeric_limits<int>::max()).size());
  const int most = widths + int(o.methods.size()) * (int(budgets.size()) + 2);
  if (o.configs < most)
    throw UsageError("--configs must be at least " + std::to_string(most) + " (" + std::to_string(widths) +
                     " uniform widths + " + std::to_string(o.methods.size()) + " methods x (" +
                     std::to_string(budgets.size()) + " budgets + greedy + evolutionary)), found " +
                     std::to_string(o.configs));
  const std::string dir = o.out.empty() ? sc.report.out_dir + "/" + sc.name + "/predictor" : o.out;
  if (run_dir) *run_dir = dir;
  const json opts{{"scenario_hash", file_hash(o.file)}, {"seeds", o.seeds}, {"configs", o.configs},
                  {"methods", o.methods}, {"budgets", budgets}, {"bootstrap_resamples", o.bootstrap_resamples},
                  {"seed", sc.training.seed}};
  PredictorRun run(o, std::move(sc), dir, opts);
  return run.execute();
}

}  // namespace mixprec::pipeline
