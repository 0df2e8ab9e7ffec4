#include "pipeline/claim_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "pipeline/common.hpp"
#include "pipeline/pricing.hpp"
#include "pipeline/search_run.hpp"
#include "report/report_render.hpp"
#include "sim/analytical.hpp"

namespace mixprec::pipeline {

using nlohmann::json;

namespace {

// A precision file's content (as precision_to_json wrote it) resolved against the network.
std::vector<LayerPrecision> precision_of(const Scenario& sc, const json& p) {
  return resolve_precision(parse_precision(p, JsonCtx{sc.file + " (reproduce state)"}, ""), sc.net, sc.file);
}

std::string group_of(const Layer& l) {
  switch (l.kind) {
    case LayerKind::Conv2d: return "cnn";
    case LayerKind::Lstm: return "lstm";
    case LayerKind::Linear: return "head";
    default: return "other";
  }
}

// Every trained model's metric and per-example scores on every seed.
struct Model {
  std::string name, label, kind;
  std::vector<double> metric;                  // per seed: accuracy (fraction) or RMSE
  std::vector<stats::ExampleScores> examples;  // per seed
  std::vector<std::vector<LayerPrecision>> precision;  // per seed (empty for fp32)
  std::vector<json> trained;                   // per seed
  json extra;                                  // seed 0's
  std::vector<double> predicted;               // per seed: predicted sensitivity (empty: none)
  double energy_uj = 0;                        // mean over seeds (the configurations may differ)
  double latency_ms = 0, size_bytes = 0;
};

struct Evidence {
  bool regression = false;
  std::vector<Model> models;
  std::map<std::string, std::size_t> index;
  const Model& at(const std::string& n) const { return models.at(index.at(n)); }
  bool has(const std::string& n) const { return index.count(n) > 0; }
};

stats::ExampleScores scores_of(const json& test, bool regression) {
  stats::ExampleScores s;
  s.regression = regression;
  s.outputs = test.value("outputs_per_example", 1);
  if (test.contains("per_example")) s.values = test.at("per_example").get<std::vector<double>>();
  return s;
}

Evidence collect(const ReportInputs& in, sim::Pricer& eng) {
  Evidence ev;
  const json& first = in.seeds.at(0);
  ev.regression = first.at("fp32").at("test").contains("rmse");
  const char* key = ev.regression ? "rmse" : "accuracy";
  auto add = [&](Model m) {
    ev.index[m.name] = ev.models.size();
    ev.models.push_back(std::move(m));
  };
  auto price_mean = [&](Model& m) {
    double e = 0, lat = 0, size = 0;
    for (const auto& p : m.precision) {
      const json pr = price_configuration(in.sc, eng, p);
      e += pr.at("energy_uj").get<double>();
      lat += pr.at("latency_ms").get<double>();
      size += pr.at("size_bytes").get<double>();
    }
    const double n = double(m.precision.size());
    m.energy_uj = e / n;
    m.latency_ms = lat / n;
    m.size_bytes = size / n;
  };
  // The FP32 model and its fp16 post-training evaluation.
  for (const char* name : {"fp32", "fp16"}) {
    Model m;
    m.name = name;
    m.kind = "reference";
    m.label = std::string(name) == "fp32" ? "FP32" : "uniform fp16 (the FP32 model, post-training)";
    const std::vector<LayerPrecision> p =
        uniform_precision(in.sc, name);
    for (const json& s : in.seeds) {
      const json& t = s.at(name).at("test");
      m.metric.push_back(t.at(key).get<double>());
      m.examples.push_back(scores_of(t, ev.regression));
      m.precision.push_back(p);
      m.trained.push_back(s.at(name));
    }
    price_mean(m);
    add(m);
  }
  const json& cfgs = first.at("configs");
  for (std::size_t c = 0; c < cfgs.size(); ++c) {
    Model m;
    m.name = cfgs[c].at("name").get<std::string>();
    m.label = cfgs[c].at("label").get<std::string>();
    m.kind = cfgs[c].at("kind").get<std::string>();
    m.extra = cfgs[c].at("extra");
    for (const json& s : in.seeds) {
      const json* found = nullptr;
      for (const json& x : s.at("configs"))
        if (x.at("name") == m.name) found = &x;
      if (!found) throw UsageError("seed " + s.at("seed").dump() + " lacks configuration " + m.name);
      const json& t = found->at("trained").at("test");
      m.metric.push_back(t.at(key).get<double>());
      m.examples.push_back(scores_of(t, ev.regression));
      m.precision.push_back(precision_of(in.sc, found->at("precision")));
      m.trained.push_back(found->at("trained"));
      const json& x = found->at("extra");
      if (x.contains("predicted_sensitivity")) m.predicted.push_back(x.at("predicted_sensitivity").get<double>());
    }
    if (m.predicted.size() != m.metric.size()) m.predicted.clear();  // only where every seed has one
    price_mean(m);
    add(m);
  }
  return ev;
}

// The interval of a statistic of several models (paired over seeds, or bootstrap with one seed).
stats::Interval interval(const Evidence& ev, const std::vector<std::string>& names, const stats::Statistic& f,
                         const ReportInputs& in, std::uint64_t salt) {
  std::vector<std::vector<double>> metrics;
  std::vector<std::vector<const stats::ExampleScores*>> examples;
  for (const std::string& n : names) {
    const Model& m = ev.at(n);
    metrics.push_back(m.metric);
    std::vector<const stats::ExampleScores*> e;
    for (const auto& x : m.examples) e.push_back(&x);
    examples.push_back(e);
  }
  return stats::paired_interval(metrics, examples, f, in.sc.report.claim.confidence, in.o.bootstrap_resamples,
                                std::uint64_t(in.sc.training.seed) * 1000003ULL + salt);
}

// The drop of model b against baseline a in the claim's units.
stats::Statistic drop_stat(bool regression) {
  if (regression) return [](const std::vector<double>& m) { return 100.0 * (m[1] - m[0]) / m[0]; };
  return [](const std::vector<double>& m) { return 100.0 * (m[0] - m[1]); };
}

// "positive = the first model is better" in the claim's units.
stats::Statistic advantage_stat(bool regression) {
  if (regression) return [](const std::vector<double>& m) { return 100.0 * (m[1] - m[0]) / m[1]; };
  return [](const std::vector<double>& m) { return 100.0 * (m[0] - m[1]); };
}

stats::Statistic level_stat(bool regression) {
  if (regression) return [](const std::vector<double>& m) { return m[0]; };
  return [](const std::vector<double>& m) { return 100.0 * m[0]; };
}

std::vector<const Model*> of_kind(const Evidence& ev, const std::string& kind) {
  std::vector<const Model*> out;
  for (const Model& m : ev.models)
    if (m.kind == kind) out.push_back(&m);
  std::sort(out.begin(), out.end(), [](const Model* a, const Model* b) { return a->energy_uj < b->energy_uj; });
  return out;
}

// The baseline model a claim baseline name refers to.
std::string baseline_model(const Scenario& sc, const std::string& name) {
  if (name == sc.constraints.energy.baseline) return "baseline";
  if (name == "fp32" || name == "fp16") return name;
  return "";
}

// Mixed minus uniform at matched energy: each frontier point within the ladder's energy range
// against the ladder interpolated linearly in energy; the mean over those points.
struct Matched {
  std::vector<std::string> names;  // frontier points..., ladder points...
  std::vector<std::size_t> point, lo, hi;
  std::vector<double> w;
  std::size_t n_front = 0;
};

Matched match_energy(const Evidence& ev) {
  Matched mt;
  const auto front = of_kind(ev, "frontier");
  const auto ladder = of_kind(ev, "ladder");
  if (ladder.size() < 2) return mt;
  for (const Model* f : front) mt.names.push_back(f->name);
  mt.n_front = front.size();
  for (const Model* u : ladder) mt.names.push_back(u->name);
  for (std::size_t i = 0; i < front.size(); ++i) {
    const double e = front[i]->energy_uj;
    for (std::size_t j = 0; j + 1 < ladder.size(); ++j) {
      const double a = ladder[j]->energy_uj, b = ladder[j + 1]->energy_uj;
      if (e >= a && e <= b && b > a) {
        mt.point.push_back(i);
        mt.lo.push_back(mt.n_front + j);
        mt.hi.push_back(mt.n_front + j + 1);
        mt.w.push_back((e - a) / (b - a));
        break;
      }
    }
  }
  return mt;
}

}  // namespace

double claim_budget(const Scenario& sc) {
  return sc.constraints.energy.fraction ? *sc.constraints.energy.fraction : 0.6;
}

std::string frontier_name(double f) { return "budget_" + fmt("%.3g", f); }

std::vector<UniformWidth> uniform_ladder(const Scenario& sc, int max_weight_bits) {
  std::vector<int> acts = sc.search.activation_bits;
  std::sort(acts.begin(), acts.end());
  std::vector<UniformWidth> out;
  std::vector<int> ws = sc.search.weight_bits;
  std::sort(ws.begin(), ws.end());
  for (int w : ws) {
    if (w < 2 || w > max_weight_bits) continue;
    UniformWidth u{w, w};
    if (std::find(acts.begin(), acts.end(), w) == acts.end()) {
      auto it = std::lower_bound(acts.begin(), acts.end(), w);
      if (it == acts.end()) continue;
      u.activation_bits = *it;
    }
    out.push_back(u);
  }
  return out;
}

std::string ladder_name(const UniformWidth& u) {
  return "uniform_w" + std::to_string(u.weight_bits) + "a" + std::to_string(u.activation_bits);
}

ClaimEvidence claim_evidence(const ReportInputs& in, json* details, sim::Pricer* pricer) {
  std::unique_ptr<sim::Pricer> own;
  if (!pricer) {
    own = std::make_unique<sim::Pricer>(in.sc);
    pricer = own.get();
  }
  const Evidence ev = collect(in, *pricer);
  const ClaimSpec& claim = in.sc.report.claim;
  ClaimEvidence ce;
  ce.regression = ev.regression;
  const auto front = of_kind(ev, "frontier");
  std::uint64_t salt = 1;
  for (const std::string& b : claim.baselines) {
    const std::string bm = baseline_model(in.sc, b);
    if (bm.empty())
      throw SpecError(in.sc.file, "/report/claim/baselines",
                      "baselines reproduce trains or evaluates: \"" + in.sc.constraints.energy.baseline +
                          "\" (constraints.energy_budget.baseline), \"fp16\", \"fp32\"",
                      "\"" + b + "\"");
    BaselineEvidence be;
    be.baseline = b;
    be.energy_uj = ev.at(bm).energy_uj;
    for (const Model* f : front)
      be.points.push_back({f->name, f->energy_uj, interval(ev, {bm, f->name}, drop_stat(ev.regression), in, salt++)});
    ce.baselines.push_back(be);
  }
  const Matched mt = match_energy(ev);
  if (!mt.point.empty()) {
    const bool reg = ev.regression;
    const stats::Statistic adv = [mt, reg](const std::vector<double>& m) {
      double s = 0;
      for (std::size_t k = 0; k < mt.point.size(); ++k) {
        const double u = (1 - mt.w[k]) * m[mt.lo[k]] + mt.w[k] * m[mt.hi[k]];
        const double x = m[mt.point[k]];
        s += reg ? 100.0 * (u - x) / u : 100.0 * (x - u);
      }
      return s / double(mt.point.size());
    };
    ce.mixed_advantage = interval(ev, mt.names, adv, in, salt++);
  }
  if (ev.has("chosen") && ev.has("no_fp32_buffers"))
    ce.fp32_buffer_effect = interval(ev, {"chosen", "no_fp32_buffers"}, advantage_stat(ev.regression), in, salt++);
  if (ev.has("chosen")) {
    if (!ev.regression) ce.chosen_accuracy_pct = interval(ev, {"chosen"}, level_stat(false), in, salt++);
    ce.chosen_name = "chosen";
    double lat = 0;
    for (const json& s : in.seeds) lat = std::max(lat, s.at("engines").at("systemc").at("latency_ms").get<double>());
    ce.latency_ms = lat;
  }
  if (details) {
    // Per model: energy, metric per seed, mean and interval (for tables and the frontier plot).
    json models = json::array();
    for (const Model& m : ev.models) {
      json j{{"name", m.name}, {"label", m.label}, {"kind", m.kind}, {"energy_uj", m.energy_uj},
             {"latency_ms", m.latency_ms}, {"size_bytes", m.size_bytes}, {"per_seed", m.metric}};
      const stats::Interval lv = interval(ev, {m.name}, level_stat(ev.regression), in, 0);
      j["metric_interval"] = interval_json(lv);
      j["extra"] = m.extra;
      if (!m.predicted.empty()) j["predicted_sensitivity_per_seed"] = m.predicted;
      models.push_back(j);
    }
    (*details)["models"] = models;
    json matched = json::array();
    for (std::size_t k = 0; k < mt.point.size(); ++k)
      matched.push_back({{"point", mt.names[mt.point[k]]}, {"uniform_below", mt.names[mt.lo[k]]},
                         {"uniform_above", mt.names[mt.hi[k]]}, {"weight_above", mt.w[k]}});
    (*details)["matched_energy"] = matched;
  }
  return ce;
}

json build_report(const ReportInputs& in) {
  const Scenario& sc = in.sc;
  const ClaimSpec& claim = sc.report.claim;
  json details;
  sim::Pricer eng(sc);
  const ClaimEvidence ce = claim_evidence(in, &details, &eng);
  const Verdict v = judge(ce, claim);
  const bool regression = ce.regression;
  const json& first = in.seeds.at(0);
  const std::string base_name = sc.constraints.energy.baseline;

  std::map<std::string, json> model_of;
  for (const json& m : details["models"]) model_of[m["name"].get<std::string>()] = m;
  const double base_e = model_of.at("baseline")["energy_uj"].get<double>();
  auto saving = [&](double e) { return 100.0 * (base_e - e) / base_e; };
  const char* key = regression ? "rmse" : "accuracy";
  auto mean_metric = [&](const std::string& n) { return model_of.at(n)["metric_interval"]["estimate"].get<double>(); };
  // Drop against the baseline in the claim's units (legacy fields of the renderer).
  auto drop_of = [&](const std::string& n) {
    const double b = mean_metric("baseline"), m = mean_metric(n);
    return regression ? 100.0 * (m - b) / b : b - m;  // level_stat is already in percent
  };

  json rep;
  rep["mixprec_report"] = 1;
  rep["run_id"] = in.dir.substr(in.dir.find_last_of('/') + 1);
  rep["scenario"] = {{"name", sc.name}, {"file", in.o.file}, {"hash", file_hash(in.o.file)}};
  rep["task"] = regression ? "regression" : "classification";
  rep["metric"] = key;
  rep["quick"] = in.o.quick;
  json man = make_manifest(in.o.file, in.o.threads);
  json seeds = json::array();
  for (const json& s : in.seeds) seeds.push_back(s.at("seed"));
  man["seeds"] = seeds;
  man["threads"] = in.o.threads;
  man["options"] = in.options;
  man["wall_seconds"] = in.wall_seconds;
  // Training runs copied from an earlier run (--reuse-training): where each came from.
  json reused = json::array();
  for (const json& s : in.seeds)
    for (const json& c : s.at("configs"))
      if (c.at("trained").contains("reused_from") && !c.contains("same_as"))
        reused.push_back("seed " + s.at("seed").dump() + " " + c.at("name").get<std::string>() + " <- " +
                         c.at("trained").at("reused_from").get<std::string>());
  for (const json& s : in.seeds)
    if (s.at("fp32").contains("reused_from"))
      reused.push_back("seed " + s.at("seed").dump() + " fp32 <- " + s.at("fp32").at("reused_from").get<std::string>());
  if (!reused.empty()) man["reused_training"] = reused;
  json phases = json::array();
  for (const json& s : first.at("stages"))
    phases.push_back({{"name", s.at("name")}, {"seconds", s.at("seconds")}, {"status", "done"}});
  man["phases"] = phases;
  man["training"] = {{"epochs", sc.training.epochs}, {"qat_epochs", sc.training.qat_epochs},
                     {"batch_size", sc.training.batch_size}, {"micro_batches", sc.training.micro_batches},
                     {"learning_rate", sc.training.learning_rate},
                     {"qat_learning_rate", sc.training.qat_learning_rate}, {"optimizer", sc.training.optimizer}};
  rep["manifest"] = man;
  rep["claim"] = {{"energy_saving_pct", {claim.saving_min_pct, claim.saving_max_pct}},
                  {"max_accuracy_drop_pp", claim.max_drop_pp},
                  {"max_rmse_increase_pct", claim.max_rmse_increase_pct},
                  {"latency_ms", claim.latency_ms},
                  {"min_accuracy_pct", claim.min_accuracy_pct},
                  {"confidence", claim.confidence},
                  {"baselines", claim.baselines},
                  {"baseline", base_name},
                  {"pattern", "early CNN layers at higher precision than the LSTM layers"}};
  rep["default_leaves_for_full"] =
      in.o.full ? json("nothing: this is a --full run")
                : json("--full adds 6 frontier budgets (13 in all, every 2.5-5% of the baseline's energy between 30% "
                       "and 70%) and the greedy (HAQ rule) and evolutionary picks at the chosen budget; more seeds "
                       "come from --seeds N");

  // Models (legacy list: the renderer's table) with their intervals.
  json models = json::array();
  for (const json& m : details["models"]) {
    const std::string n = m["name"].get<std::string>();
    if (n == "fp16") continue;  // listed under baselines
    json e{{"name", n}, {"label", m["label"]}, {"kind", m["kind"]}, {"energy_uj", m["energy_uj"]},
           {"latency_ms", m["latency_ms"]}, {"size_bytes", m["size_bytes"]}, {"per_seed", m["per_seed"]},
           {"metric_interval", m["metric_interval"]}};
    if (m.contains("predicted_sensitivity_per_seed")) {
      // Each seed's prediction from its own FP32 model's sensitivity table, and their mean.
      const auto per_seed = m["predicted_sensitivity_per_seed"].get<std::vector<double>>();
      e["predicted_sensitivity_per_seed"] = per_seed;
      e["predicted_sensitivity"] = std::accumulate(per_seed.begin(), per_seed.end(), 0.0) / double(per_seed.size());
    }
    const json& iv = m["metric_interval"];
    if (regression) {
      e["rmse"] = iv["estimate"];
      e["rmse_ci"] = {iv["lo"], iv["hi"]};
    } else {
      e["accuracy"] = iv["estimate"].get<double>() / 100;
      e["accuracy_ci"] = {iv["lo"].get<double>() / 100, iv["hi"].get<double>() / 100};
    }
    // Seed 0's curves and integer evaluation.
    const json* trained = nullptr;
    if (n == "fp32") trained = &first.at("fp32");
    for (const json& c : first.at("configs"))
      if (c.at("name") == n) trained = &c.at("trained");
    if (trained) {
      e["curves"] = trained->value("curves", json::array());
      if (trained->at("test").contains("integer_eval") && !regression)
        e["integer_accuracy"] = trained->at("test").at("integer_eval").at("accuracy");
    }
    models.push_back(e);
  }
  rep["models"] = models;
  rep["baseline"] = "baseline";

  // The task's naive baseline beside the trained models.
  const json& t0 = first.at("fp32").at("test");
  json task{{"metric", key}, {"fp32", mean_metric("fp32")}, {"baseline", mean_metric("baseline")},
            {"chosen", mean_metric("chosen")}, {"units", regression ? "rmse (targets' units)" : "accuracy, percent"}};
  if (t0.contains("naive_accuracy")) task["naive_accuracy_pct"] = 100 * t0["naive_accuracy"].get<double>();
  if (t0.contains("naive_rmse")) task["naive_rmse"] = t0["naive_rmse"];
  rep["task_accuracy"] = task;

  // Baselines of the claim.
  json baselines = json::array();
  for (const BaselineEvidence& b : ce.baselines) {
    const std::string bm = b.baseline == base_name ? "baseline" : b.baseline;
    baselines.push_back({{"name", b.baseline}, {"energy_uj", b.energy_uj}, {"metric", mean_metric(bm)},
                         {"how", bm == "baseline" ? "QAT fine-tune of the FP32 model"
                                 : bm == "fp32"   ? "the FP32 model"
                                                  : "the FP32 model evaluated at fp16 (post-training)"}});
  }
  rep["claim_baselines"] = baselines;

  // The frontier and the ladder.
  json frontier = json::array(), sweep = json::array(), ladder = json::array();
  for (const json& m : details["models"]) {
    const std::string kind = m["kind"].get<std::string>();
    if (kind != "frontier" && kind != "ladder") continue;
    json p{{"name", m["name"]}, {"label", m["label"]}, {"energy_uj", m["energy_uj"]},
           {"energy_saving_pct", saving(m["energy_uj"].get<double>())}, {"latency_ms", m["latency_ms"]},
           {"metric", m["metric_interval"]["estimate"]}, {"metric_interval", m["metric_interval"]},
           {"per_seed", m["per_seed"]}};
    if (kind == "frontier") {
      p["budget_fraction"] = m["extra"]["budget_fraction"];
      p["predicted_sensitivity"] = m["extra"]["predicted_sensitivity"];
      json drops = json::object();
      for (const BaselineEvidence& b : ce.baselines)
        for (const FrontierPoint& fp : b.points)
          if (fp.name == m["name"]) drops[b.baseline] = interval_json(fp.drop);
      p["drop"] = drops;
      frontier.push_back(p);
      json sj{{"budget_fraction", p["budget_fraction"]}, {"feasible", true}, {"energy_uj", p["energy_uj"]},
              {"energy_saving_pct", p["energy_saving_pct"]}, {"predicted_sensitivity", p["predicted_sensitivity"]}};
      if (regression) {
        sj["rmse"] = p["metric"];
        sj["rmse_increase_pct"] = drop_of(m["name"]);
      } else {
        sj["accuracy"] = p["metric"].get<double>() / 100;
        sj["accuracy_drop_pp"] = drop_of(m["name"]);
      }
      sweep.push_back(sj);
    } else {
      p["weight_bits"] = m["extra"]["weight_bits"];
      p["activation_bits"] = m["extra"]["activation_bits"];
      p["predicted_sensitivity"] = m["extra"]["predicted_sensitivity"];
      ladder.push_back(p);
    }
  }
  rep["frontier"] = frontier;
  // Budgets no configuration of the search space meets (on the first seed).
  json infeasible = json::array();
  for (const json& p : first.at("plan").at("frontier"))
    if (!p.at("feasible").get<bool>()) infeasible.push_back(p.at("budget_fraction"));
  rep["frontier_infeasible_budgets"] = infeasible;
  rep["uniform_ladder"] = ladder;
  rep["matched_energy"] = details["matched_energy"];
  rep["budget_sweep"] = sweep;

  // Ablations (legacy list): no FP32 buffers; --full: the greedy and evolutionary picks.
  json ablations = json::array();
  for (const json& m : details["models"]) {
    const std::string kind = m["kind"].get<std::string>();
    if (kind != "ablation" && kind != "pick") continue;
    const std::string n = m["name"].get<std::string>();
    json a{{"name", n}, {"label", m["label"]},
           {"description", n == "no_fp32_buffers"
                               ? "the chosen configuration with gradients accumulated over micro-batches at each "
                                 "layer's gradient precision instead of in FP32 buffers"
                               : "the " + n + " solver's pick at the chosen budget, same tables"},
           {"energy_uj", m["energy_uj"]}, {"energy_saving_pct", saving(m["energy_uj"].get<double>())}};
    if (regression) {
      a["rmse"] = m["metric_interval"]["estimate"];
      a["rmse_increase_pct"] = drop_of(n);
    } else {
      a["accuracy"] = m["metric_interval"]["estimate"].get<double>() / 100;
      a["accuracy_drop_pp"] = drop_of(n);
    }
    ablations.push_back(a);
  }
  rep["ablations"] = ablations;

  // The chosen configuration (seed 0's), per layer.
  std::vector<LayerPrecision> chosen_prec, base_prec;
  for (const json& c : first.at("configs")) {
    if (c.at("name") == "chosen")
      chosen_prec = precision_of(sc, c.at("precision"));
    if (c.at("name") == "baseline")
      base_prec = precision_of(sc, c.at("precision"));
  }
  const json chosen_price = price_configuration(sc, eng, chosen_prec);
  const json base_price = price_configuration(sc, eng, base_prec);
  json chosen_extra;
  for (const json& c : first.at("configs"))
    if (c.at("name") == "chosen") chosen_extra = c.at("extra");
  const SearchSetup setup = prepare_search(sc);
  json layers = json::array();
  double cnn_bits = 0, lstm_bits = 0;
  int cnn_n = 0, lstm_n = 0, conv_seen = 0, conv_total = 0;
  for (const Layer& l : sc.net.layers) conv_total += l.kind == LayerKind::Conv2d;
  for (std::size_t i = 0; i < sc.net.layers.size(); ++i) {
    const Layer& l = sc.net.layers[i];
    if (!l.has_weights()) continue;
    const LayerPrecision& p = chosen_prec[i];
    const bool is_int = p.format == NumFormat::Int;
    layers.push_back({{"name", l.name}, {"group", group_of(l)}, {"format", to_string(p.format)},
                      {"weight_bits", is_int ? json(p.weights().bits) : json(nullptr)},
                      {"activation_bits", is_int ? json(p.activations().bits) : json(nullptr)},
                      {"energy_uj", chosen_price.at("layers").at(i).at("energy_uj")},
                      {"latency_ms", chosen_price.at("layers").at(i).at("latency_ms")},
                      {"sensitivity", chosen_extra.at("layer_sensitivity").at(i)}});
    const bool fixed = std::find(setup.rules.fixed_layers.begin(), setup.rules.fixed_layers.end(), int(i)) !=
                       setup.rules.fixed_layers.end();
    if (l.kind == LayerKind::Conv2d) {
      ++conv_seen;
      // "Early" CNN layers: the first half of the convolutions; fixed layers are excluded.
      if (!fixed && 2 * conv_seen <= conv_total) {
        cnn_bits += p.weights().bits;
        ++cnn_n;
      }
    } else if (l.kind == LayerKind::Lstm && !fixed) {
      lstm_bits += p.weights().bits;
      ++lstm_n;
    }
  }
  const double chosen_e = model_of.at("chosen")["energy_uj"].get<double>();
  rep["chosen"] = {{"budget_fraction", claim_budget(sc)},
                   {"solver", "exact"},
                   {"sensitivity_method", first.at("plan").at("sensitivity_method")},
                   {"sensitivity_source", first.at("plan").at("sensitivity_source")},
                   {"energy_uj", chosen_e},
                   {"latency_ms", model_of.at("chosen")["latency_ms"]},
                   {"size_bytes", model_of.at("chosen")["size_bytes"]},
                   {"predicted_sensitivity", chosen_extra.at("predicted_sensitivity")},
                   {"layers", layers}};
  json comps = json::array(), entries = json::array();
  for (std::size_t i = 0; i < sim::kComponents; ++i) comps.push_back(sim::to_string(sim::Component(i)));
  for (const auto& [name, pr] :
       {std::pair<std::string, const json*>{"baseline", &base_price}, {"chosen", &chosen_price}}) {
    json vals = json::array();
    for (const json& c : comps) vals.push_back(pr->at("components").at(c.get<std::string>()));
    entries.push_back({{"name", name}, {"values", vals}});
  }
  rep["energy_breakdown"] = {{"components", comps}, {"entries", entries}};
  rep["engines"] = first.at("engines");
  rep["pareto"] = first.at("plan").at("pareto");

  // The verdict: legacy fields for the chosen point, then the sub-verdicts.
  json vj = verdict_json(v, ce, claim);
  vj["energy_saving_pct"] = saving(chosen_e);
  vj["accuracy_drop_pp"] = drop_of("chosen");
  if (regression) vj["rmse_increase_pct"] = drop_of("chosen");
  vj["energy_claim_held"] = !v.energy.empty() && v.energy[0].outcome == Outcome::Held;
  vj["energy_in_band"] = !v.energy.empty() && v.energy[0].outcome == Outcome::Held && !v.energy[0].above_band;
  bool chosen_drop_held = false;
  for (const BaselineEvidence& b : ce.baselines)
    if (b.baseline == base_name)
      for (const FrontierPoint& fp : b.points)
        if (fp.name == "chosen")
          chosen_drop_held = below(fp.drop, regression ? claim.max_rmse_increase_pct : claim.max_drop_pp) == Outcome::Held;
  vj["accuracy_claim_held"] = chosen_drop_held;
  vj["latency_claim_held"] = v.latency == Outcome::Held;
  const bool pattern = cnn_n > 0 && lstm_n > 0 && cnn_bits / cnn_n > lstm_bits / lstm_n;
  vj["pattern_held"] = pattern;
  vj["pattern_detail"] =
      cnn_n > 0 && lstm_n > 0
          ? "mean weight bits: early CNN layers " + fmt("%.2f", cnn_bits / cnn_n) + " (" + std::to_string(cnn_n) +
                " layers searched), LSTM layers " + fmt("%.2f", lstm_bits / lstm_n) + " (" + std::to_string(lstm_n) + ")"
          : std::string("not applicable: the network lacks searched CNN or LSTM layers");
  rep["verdict"] = vj;
  return rep;
}

void write_report_files(const std::string& dir, const json& rep, const std::vector<std::string>& formats) {
  write_file_atomic(dir + "/report.json", rep.dump(2) + "\n");
  auto wants = [&](const char* f) { return std::find(formats.begin(), formats.end(), f) != formats.end(); };
  if (wants("md")) write_file_atomic(dir + "/report.md", report::render_report_md(rep));
  if (wants("html")) write_file_atomic(dir + "/report.html", report::render_report_html(rep));
}

}  // namespace mixprec::pipeline
