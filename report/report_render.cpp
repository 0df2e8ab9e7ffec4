#include "report/report_render.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "report/svg_plot.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"

namespace mixprec::report {

namespace {

using nlohmann::json;
using std::optional;

constexpr const char* kFile = "report.json";
constexpr const char* kDash = "—";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// =============================================================================================
// Reading: report.json -> ReportView, every value checked once, every error naming its pointer.

[[noreturn]] void fail(const std::string& ptr, const std::string& expected, const json* found) {
  throw SpecError(kFile, ptr, expected,
                  found ? describe_json(*found) : std::string("nothing (the key is missing)"));
}

class Obj {
 public:
  Obj(const json& j, std::string ptr) : j_(j), ptr_(std::move(ptr)) {
    if (!j_.is_object()) fail(ptr_.empty() ? "/" : ptr_, "an object", &j_);
  }
  std::string at(const std::string& key) const { return pointer_join(ptr_, key); }

  // The value, or nullptr when missing or null.
  const json* find(const std::string& key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  bool has(const std::string& key) const { return find(key) != nullptr; }

  double num(const std::string& key) const {
    const json* v = find(key);
    if (!v || !v->is_number()) fail(at(key), "a number", raw(key));
    return v->get<double>();
  }
  optional<double> opt_num(const std::string& key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail(at(key), "a number or null", v);
    return v->get<double>();
  }
  std::string str(const std::string& key) const {
    const json* v = find(key);
    if (!v || !v->is_string()) fail(at(key), "a string", raw(key));
    return v->get<std::string>();
  }
  std::string opt_str(const std::string& key, const std::string& dflt = "") const {
    const json* v = find(key);
    if (!v) return dflt;
    if (!v->is_string()) fail(at(key), "a string", v);
    return v->get<std::string>();
  }
  bool boolean(const std::string& key) const {
    const json* v = find(key);
    if (!v || !v->is_boolean()) fail(at(key), "true or false", raw(key));
    return v->get<bool>();
  }
  optional<bool> opt_bool(const std::string& key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail(at(key), "true or false", v);
    return v->get<bool>();
  }
  const json& arr(const std::string& key) const {
    const json* v = find(key);
    if (!v || !v->is_array()) fail(at(key), "an array", raw(key));
    return *v;
  }
  // Missing or null: an empty array.
  const json& opt_arr(const std::string& key) const {
    static const json kEmpty = json::array();
    const json* v = find(key);
    if (!v) return kEmpty;
    if (!v->is_array()) fail(at(key), "an array", v);
    return *v;
  }
  Obj obj(const std::string& key) const {
    const json* v = find(key);
    if (!v) fail(at(key), "an object", raw(key));
    return Obj(*v, at(key));
  }
  optional<Obj> opt_obj(const std::string& key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    return Obj(*v, at(key));
  }
  const json& value() const { return j_; }
  // The value as stored (null included), or nullptr when missing: for "found ..." messages.
  const json* raw(const std::string& key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

 private:
  const json& j_;
  std::string ptr_;
};

// The i-th element of `a` (at `ptr`) as an object.
Obj element(const json& a, const std::string& ptr, std::size_t i) {
  return Obj(a.at(i), pointer_join(ptr, i));
}

struct Interval {
  double lo = 0, hi = 0;
};

optional<Interval> opt_interval(const Obj& o, const std::string& key) {
  const json* v = o.find(key);
  if (!v) return std::nullopt;
  if (!v->is_array() || v->size() != 2 || !(*v)[0].is_number() || !(*v)[1].is_number())
    fail(o.at(key), "an array of two numbers [low, high]", v);
  return Interval{(*v)[0].get<double>(), (*v)[1].get<double>()};
}

// Which keys hold the quality metric: accuracy for classification, RMSE for regression.
struct MetricKeys {
  const char* value;
  const char* ci;
  const char* drop;
  const char* drop_fallback;  // or nullptr
};
constexpr MetricKeys kAccuracyKeys{"accuracy", "accuracy_ci", "accuracy_drop_pp", nullptr};
constexpr MetricKeys kRmseKeys{"rmse", "rmse_ci", "rmse_increase_pct", "accuracy_drop_pp"};

optional<double> opt_drop(const Obj& o, const MetricKeys& k) {
  if (o.has(k.drop) || !k.drop_fallback) return o.opt_num(k.drop);
  return o.opt_num(k.drop_fallback);
}

struct CurvePoint {
  double epoch = 0;
  optional<double> train_loss, val_loss, val_accuracy, val_rmse;
};

struct ModelView {
  std::string name, label;
  double energy_uj = 0;
  optional<double> latency_ms, size_bytes, metric, predicted_sensitivity;
  optional<Interval> ci;
  std::size_t seeds = 0;
  std::vector<CurvePoint> curves;
};

struct LayerView {
  std::string name, group, format;
  optional<double> weight_bits, activation_bits, energy_uj, latency_ms, sensitivity;
};

struct ChosenView {
  optional<double> budget_fraction, latency_ms, size_bytes, predicted_sensitivity;
  std::string solver, sensitivity_method, sensitivity_source;
  double energy_uj = 0;
  std::vector<LayerView> layers;
};

struct BreakdownView {
  std::vector<std::string> components;
  std::vector<std::pair<std::string, std::vector<double>>> entries;
};

struct EngineView {
  std::string name;
  optional<double> cycles, latency_ms, energy_uj;
};

struct EnginesView {
  std::vector<EngineView> engines;
  std::string reference = "analytical";  // the engine whose work the SystemC engine simulates
  optional<double> cycles_difference_pct, energy_difference_pct;
};

struct ParetoPoint {
  double energy_uj = 0, sensitivity = 0;
};

struct AblationView {
  std::string name, label, description;
  double energy_uj = 0;
  optional<double> energy_saving_pct, metric, drop;
};

struct SweepPoint {
  double budget_fraction = 0, energy_uj = 0;
  optional<double> energy_saving_pct, predicted_sensitivity, metric, drop;
};

struct ClaimView {
  Interval saving_pct;
  double max_drop = 0;
  optional<double> latency_ms;
  std::string baseline, pattern;
};

// A frontier (mixed) or ladder (uniform) point: energy, metric as plotted, its interval.
struct FrontView {
  std::string name;
  double energy_uj = 0, metric = 0;
  optional<Interval> ci;
};

struct VerdictView {
  std::string overall;                                   // sub-verdict reports only
  std::vector<std::pair<std::string, std::string>> subs;  // sub-claim, outcome
  double saving_pct = 0, drop = 0;
  optional<double> latency_ms;
  bool energy_held = false, accuracy_held = false, claim_held = false;
  optional<bool> latency_held, pattern_held;
  std::string pattern_detail, summary;
};

struct PhaseView {
  std::string name, status;
  optional<double> seconds;
};

struct ReportView {
  std::string run_id, scenario_name, scenario_file, scenario_hash, task;
  bool regression = false, quick = false;
  std::vector<std::pair<std::string, std::string>> manifest;  // key, rendered value
  std::vector<PhaseView> phases;
  ClaimView claim;
  std::vector<ModelView> models;
  std::string baseline_name;
  std::size_t baseline = 0;        // index into models
  optional<std::size_t> chosen_model;  // the model named "chosen", if trained
  ChosenView chosen;
  optional<BreakdownView> breakdown;
  optional<EnginesView> engines;
  std::vector<ParetoPoint> pareto;
  std::vector<AblationView> ablations;
  std::vector<SweepPoint> sweep;
  std::vector<FrontView> frontier, ladder;
  optional<double> threshold;  // the claim's drop threshold in its units
  VerdictView verdict;

  double baseline_energy() const { return models[baseline].energy_uj; }
  // The claim band in energy: savings hi..lo percent below the baseline.
  Interval band_uj() const {
    double lo_pct = std::min(claim.saving_pct.lo, claim.saving_pct.hi);
    double hi_pct = std::max(claim.saving_pct.lo, claim.saving_pct.hi);
    return {(1 - hi_pct / 100) * baseline_energy(), (1 - lo_pct / 100) * baseline_energy()};
  }
};

// Compact JSON text; invalid UTF-8 is replaced rather than thrown on.
std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// Renders a manifest value for the "how it was made" table.
std::string manifest_value(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    bool scalars = std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_primitive(); });
    if (scalars) {
      std::string s;
      for (const json& e : v) {
        if (!s.empty()) s += ", ";
        s += e.is_string() ? e.get<std::string>() : dump(e);
      }
      return s;
    }
  }
  return dump(v);
}

void read_manifest(const Obj& m, ReportView& r) {
  // Provenance first, in reading order; everything else alphabetically (json objects are sorted).
  static const char* const kFirst[] = {"mixprec_version", "git_commit", "version", "compiler",
                                       "cxx_standard", "build_type", "cxx_flags", "flags",
                                       "seeds", "threads"};
  std::vector<std::string> order;
  for (const char* k : kFirst)
    if (m.value().contains(k)) order.push_back(k);
  for (auto it = m.value().begin(); it != m.value().end(); ++it)
    if (std::find(order.begin(), order.end(), it.key()) == order.end()) order.push_back(it.key());
  for (const std::string& k : order) {
    if (k == "phases") continue;
    const json& v = m.value().at(k);
    if (v.is_null()) continue;
    r.manifest.emplace_back(k, manifest_value(v));
  }
  const json& phases = m.opt_arr("phases");
  for (std::size_t i = 0; i < phases.size(); ++i) {
    Obj p = element(phases, m.at("phases"), i);
    r.phases.push_back({p.str("name"), p.opt_str("status"), p.opt_num("seconds")});
  }
}

ReportView read_report(const json& root_json) {
  Obj root(root_json, "");
  ReportView r;
  {
    const json* v = root.raw("mixprec_report");
    if (!v || !v->is_number() || v->get<double>() != 1)
      fail("/mixprec_report", "1 (the report format version)", v);
  }
  r.task = root.str("task");
  if (r.task != "classification" && r.task != "regression")
    fail("/task", "\"classification\" or \"regression\"", root.find("task"));
  r.regression = r.task == "regression";
  const MetricKeys& k = r.regression ? kRmseKeys : kAccuracyKeys;
  if (root.has("metric") && root.str("metric") != k.value)
    fail("/metric", std::string("\"") + k.value + "\" for a " + r.task + " task", root.find("metric"));
  r.run_id = root.opt_str("run_id");
  r.quick = root.opt_bool("quick").value_or(false);

  Obj sc = root.obj("scenario");
  r.scenario_name = sc.str("name");
  r.scenario_file = sc.opt_str("file");
  r.scenario_hash = sc.opt_str("hash");

  if (auto m = root.opt_obj("manifest")) read_manifest(*m, r);

  Obj claim = root.obj("claim");
  {
    const json* v = claim.find("energy_saving_pct");
    if (!v || !v->is_array() || v->size() != 2 || !(*v)[0].is_number() || !(*v)[1].is_number())
      fail(claim.at("energy_saving_pct"), "an array of two numbers [low, high] (percent)",
           v ? v : nullptr);
    r.claim.saving_pct = {(*v)[0].get<double>(), (*v)[1].get<double>()};
  }
  r.claim.max_drop = claim.num("max_accuracy_drop_pp");
  r.claim.latency_ms = claim.opt_num("latency_ms");
  r.claim.baseline = claim.opt_str("baseline");
  r.claim.pattern = claim.opt_str("pattern");

  const json& models = root.arr("models");
  if (models.empty()) fail("/models", "a non-empty array of trained models", &models);
  for (std::size_t i = 0; i < models.size(); ++i) {
    Obj m = element(models, "/models", i);
    ModelView mv;
    mv.name = m.str("name");
    mv.label = m.opt_str("label");
    mv.energy_uj = m.num("energy_uj");
    mv.latency_ms = m.opt_num("latency_ms");
    mv.size_bytes = m.opt_num("size_bytes");
    mv.predicted_sensitivity = m.opt_num("predicted_sensitivity");
    mv.metric = m.opt_num(k.value);
    mv.ci = opt_interval(m, k.ci);
    mv.seeds = m.opt_arr("seeds").size();
    const json& curves = m.opt_arr("curves");
    for (std::size_t j = 0; j < curves.size(); ++j) {
      Obj c = element(curves, m.at("curves"), j);
      mv.curves.push_back(
          {c.num("epoch"), c.opt_num("train_loss"), c.opt_num("val_loss"),
           c.opt_num("val_accuracy"), c.opt_num("val_rmse")});
    }
    r.models.push_back(std::move(mv));
  }
  r.baseline_name = root.str("baseline");
  {
    auto it = std::find_if(r.models.begin(), r.models.end(),
                           [&](const ModelView& m) { return m.name == r.baseline_name; });
    if (it == r.models.end()) fail("/baseline", "the name of an entry in /models", root.find("baseline"));
    r.baseline = static_cast<std::size_t>(it - r.models.begin());
    auto ch = std::find_if(r.models.begin(), r.models.end(),
                           [](const ModelView& m) { return m.name == "chosen"; });
    if (ch != r.models.end()) r.chosen_model = static_cast<std::size_t>(ch - r.models.begin());
  }

  Obj ch = root.obj("chosen");
  r.chosen.budget_fraction = ch.opt_num("budget_fraction");
  r.chosen.solver = ch.opt_str("solver");
  r.chosen.sensitivity_method = ch.opt_str("sensitivity_method");
  r.chosen.sensitivity_source = ch.opt_str("sensitivity_source");
  r.chosen.energy_uj = ch.num("energy_uj");
  r.chosen.latency_ms = ch.opt_num("latency_ms");
  r.chosen.size_bytes = ch.opt_num("size_bytes");
  r.chosen.predicted_sensitivity = ch.opt_num("predicted_sensitivity");
  const json& layers = ch.arr("layers");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    Obj l = element(layers, ch.at("layers"), i);
    r.chosen.layers.push_back({l.str("name"), l.opt_str("group", "other"), l.opt_str("format"),
                               l.opt_num("weight_bits"), l.opt_num("activation_bits"),
                               l.opt_num("energy_uj"), l.opt_num("latency_ms"),
                               l.opt_num("sensitivity")});
  }

  if (auto eb = root.opt_obj("energy_breakdown")) {
    BreakdownView b;
    const json& comps = eb->arr("components");
    for (std::size_t i = 0; i < comps.size(); ++i) {
      if (!comps[i].is_string())
        fail(pointer_join(eb->at("components"), i), "a component name (string)", &comps[i]);
      b.components.push_back(comps[i].get<std::string>());
    }
    const json& entries = eb->arr("entries");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      Obj e = element(entries, eb->at("entries"), i);
      const json& vals = e.arr("values");
      if (vals.size() != b.components.size())
        fail(e.at("values"),
             "an array of " + std::to_string(b.components.size()) + " numbers (one per component)",
             &vals);
      std::vector<double> v;
      for (std::size_t j = 0; j < vals.size(); ++j) {
        if (!vals[j].is_number()) fail(pointer_join(e.at("values"), j), "a number (µJ)", &vals[j]);
        v.push_back(vals[j].get<double>());
      }
      b.entries.emplace_back(e.str("name"), std::move(v));
    }
    r.breakdown = std::move(b);
  }

  if (auto en = root.opt_obj("engines")) {
    EnginesView e;
    for (auto it = en->value().begin(); it != en->value().end(); ++it) {
      if (!it->is_object()) continue;
      Obj o(*it, en->at(it.key()));
      e.engines.push_back({it.key(), o.opt_num("cycles"), o.opt_num("latency_ms"), o.opt_num("energy_uj")});
    }
    e.reference = en->opt_str("reference", "analytical");
    e.cycles_difference_pct = en->opt_num("cycles_difference_pct");
    e.energy_difference_pct = en->opt_num("energy_difference_pct");
    r.engines = std::move(e);
  }

  const json& pareto = root.opt_arr("pareto");
  for (std::size_t i = 0; i < pareto.size(); ++i) {
    Obj p = element(pareto, "/pareto", i);
    r.pareto.push_back({p.num("energy_uj"), p.num("sensitivity")});
  }

  const json& ablations = root.opt_arr("ablations");
  for (std::size_t i = 0; i < ablations.size(); ++i) {
    Obj a = element(ablations, "/ablations", i);
    r.ablations.push_back({a.str("name"), a.opt_str("label"), a.opt_str("description"),
                           a.num("energy_uj"), a.opt_num("energy_saving_pct"),
                           a.opt_num(k.value), opt_drop(a, k)});
  }

  const json& sweep = root.opt_arr("budget_sweep");
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    Obj s = element(sweep, "/budget_sweep", i);
    r.sweep.push_back({s.num("budget_fraction"), s.num("energy_uj"), s.opt_num("energy_saving_pct"),
                       s.opt_num("predicted_sensitivity"), s.opt_num(k.value), opt_drop(s, k)});
  }

  Obj v = root.obj("verdict");
  r.verdict.saving_pct = v.num("energy_saving_pct");
  r.verdict.drop = r.regression && v.has("rmse_increase_pct") ? v.num("rmse_increase_pct")
                                                              : v.num("accuracy_drop_pp");
  r.verdict.latency_ms = v.opt_num("latency_ms");
  r.verdict.energy_held = v.boolean("energy_claim_held");
  r.verdict.accuracy_held = v.boolean("accuracy_claim_held");
  r.verdict.latency_held = v.opt_bool("latency_claim_held");
  r.verdict.pattern_held = v.opt_bool("pattern_held");
  r.verdict.pattern_detail = v.opt_str("pattern_detail");
  r.verdict.claim_held = v.boolean("claim_held");
  r.verdict.summary = v.opt_str("summary");
  r.verdict.overall = v.opt_str("overall");
  if (!r.verdict.overall.empty()) {
    const json& energy = v.opt_arr("energy");
    for (std::size_t i = 0; i < energy.size(); ++i) {
      Obj e = element(energy, v.at("energy"), i);
      std::string what = "Energy saving against " + e.str("baseline");
      if (auto cs = e.opt_num("certified_saving_pct")) what += " (largest certified: " + svg::fmt_fixed(*cs, 1) + "%)";
      r.verdict.subs.emplace_back(what, e.str("outcome"));
    }
    for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{
             {"mixed_vs_uniform", "Mixed beats uniform precision at matched energy"},
             {"fp32_buffers", "FP32 gradient buffers help"},
             {"task_accuracy", "Task accuracy"},
             {"latency", "Latency"}})
      if (v.opt_str(key) != "not applicable" && !v.opt_str(key).empty()) r.verdict.subs.emplace_back(label, v.opt_str(key));
    r.threshold = v.opt_num("threshold");
  }
  for (const auto& [key, out] : {std::pair<const char*, std::vector<FrontView>*>{"frontier", &r.frontier},
                                 {"uniform_ladder", &r.ladder}}) {
    const json& pts = root.opt_arr(key);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      Obj p = element(pts, std::string("/") + key, i);
      FrontView f{p.str("name"), p.num("energy_uj"), p.num("metric"), std::nullopt};
      if (auto iv = p.opt_obj("metric_interval")) f.ci = Interval{iv->num("lo"), iv->num("hi")};
      out->push_back(f);
    }
  }
  return r;
}

// =============================================================================================
// Number formatting: energies, latencies and sensitivities to 3 significant digits, percentages
// to fixed decimals, accuracies as percent with one decimal.

std::string or_dash(const optional<double>& v, const std::function<std::string(double)>& f) {
  return v && std::isfinite(*v) ? f(*v) : kDash;
}
std::string sig3(double v) { return svg::fmt_sig(v, 3); }
std::string pct1(double v) { return svg::fmt_fixed(v, 1) + "%"; }
std::string kib(double bytes) { return svg::fmt_sig(bytes / 1024.0, 3); }
// Claim figures as written ("35", "2", "0.6"): up to 3 decimals, trailing zeros dropped.
std::string plain(double v) {
  std::string s = svg::fmt_fixed(v, 3);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

struct Words {
  bool regression;
  std::string metric_name() const { return regression ? "RMSE" : "accuracy"; }
  std::string Metric_name() const { return regression ? "RMSE" : "Accuracy"; }
  std::string metric(double v) const {
    return regression ? svg::fmt_sig(v, 3) : svg::fmt_fixed(v * 100, 1) + "%";
  }
  // A metric value for plots: accuracy in percent, RMSE as is.
  double plotted(double v) const { return regression ? v : v * 100; }
  std::string metric_axis() const { return regression ? "RMSE" : "accuracy (%)"; }
  std::string drop(double v) const {
    return svg::fmt_fixed(v, 2) + (regression ? "%" : " pp");
  }
  std::string drop_header() const {
    return regression ? "RMSE increase (%)" : "Accuracy drop (pp)";
  }
  std::string metric_with_ci(const optional<double>& m, const optional<Interval>& ci) const {
    if (!m) return kDash;
    std::string s = metric(*m);
    if (ci) {
      if (regression)
        s += " (" + metric(ci->lo) + "–" + metric(ci->hi) + ")";
      else  // "95.3% (94.0–96.5%)"
        s += " (" + svg::fmt_fixed(ci->lo * 100, 1) + "–" + metric(ci->hi) + ")";
    }
    return s;
  }
};

// =============================================================================================
// A small document model rendered twice: to Markdown and to HTML.

struct Span {
  // FigLink: `href` is a figure id in report.html ("report.html#id" from Markdown, "#id" inside).
  enum Kind { Text, Bold, Code, FigLink } kind = Text;
  std::string text, href;
};
using Line = std::vector<Span>;
Span T(std::string s) { return {Span::Text, std::move(s), ""}; }
Span B(std::string s) { return {Span::Bold, std::move(s), ""}; }
Span C(std::string s) { return {Span::Code, std::move(s), ""}; }
Span F(std::string s, std::string fig_id) { return {Span::FigLink, std::move(s), std::move(fig_id)}; }

struct Cell {
  std::string text;
  bool code = false;
};
Cell code_cell(std::string s) { return {std::move(s), true}; }

struct Table {
  std::vector<std::string> head;
  std::vector<bool> numeric;  // right-aligned columns
  std::vector<std::vector<Cell>> rows;
};

struct Block {
  enum Kind { Title, Heading, Para, List, Tab, Figure, Open, Close } kind = Para;
  Line line;
  std::vector<Line> items;
  Table table;
  std::string id, css, name, caption, tag;
  std::function<std::string()> svg;
};

class Doc {
 public:
  void title(Line l) { add(Block::Title).line = std::move(l); }
  void heading(const std::string& text, const std::string& id) {
    Block& b = add(Block::Heading);
    b.line = {T(text)};
    b.id = id;
  }
  void para(Line l) { add(Block::Para).line = std::move(l); }
  void list(std::vector<Line> items) { add(Block::List).items = std::move(items); }
  void table(Table t) { add(Block::Tab).table = std::move(t); }
  void figure(const std::string& id, const std::string& name, const std::string& caption,
              std::function<std::string()> f) {
    Block& b = add(Block::Figure);
    b.id = id;
    b.name = name;
    b.caption = caption;
    b.svg = std::move(f);
  }
  void open(const std::string& tag, const std::string& id, const std::string& css) {
    Block& b = add(Block::Open);
    b.tag = tag;
    b.id = id;
    b.css = css;
  }
  void close(const std::string& tag) { add(Block::Close).tag = tag; }
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  Block& add(Block::Kind k) {
    blocks_.emplace_back();
    blocks_.back().kind = k;
    return blocks_.back();
  }
  std::vector<Block> blocks_;
};

// ---- Markdown --------------------------------------------------------------------------------

std::string one_line(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return out;
}

// Backslash-escapes Markdown punctuation so text stays text (also raw HTML: "\<").
std::string md_text(const std::string& s) {
  std::string out;
  for (char c : one_line(s)) {
    if (std::string("\\`*_[]<>&|#~").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// A code span whose fence outruns any backtick run inside; "|" escaped inside tables (GFM).
std::string md_code(const std::string& s, bool in_table) {
  std::string body = one_line(s);
  std::size_t run = 0, longest = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  if (in_table) {
    std::string e;
    for (char c : body) {
      if (c == '|') e += '\\';
      e += c;
    }
    body = e;
  }
  std::string fence(longest + 1, '`');
  bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string md_line(const Line& line, bool in_table = false) {
  std::string out;
  for (const Span& s : line) {
    switch (s.kind) {
      case Span::Text: out += md_text(s.text); break;
      case Span::Bold: out += "**" + md_text(s.text) + "**"; break;
      case Span::Code: out += md_code(s.text, in_table); break;
      case Span::FigLink: out += "[" + md_text(s.text) + "](report.html#" + s.href + ")"; break;
    }
  }
  return out;
}

std::string render_md(const Doc& doc) {
  std::string out;
  for (const Block& b : doc.blocks()) {
    switch (b.kind) {
      case Block::Title: out += "# " + md_line(b.line) + "\n\n"; break;
      case Block::Heading: out += "## " + md_line(b.line) + "\n\n"; break;
      case Block::Para: out += md_line(b.line) + "\n\n"; break;
      case Block::List:
        for (const Line& item : b.items) out += "- " + md_line(item) + "\n";
        out += "\n";
        break;
      case Block::Tab: {
        const Table& t = b.table;
        out += "|";
        for (const std::string& h : t.head) out += " " + md_text(h) + " |";
        out += "\n|";
        for (std::size_t i = 0; i < t.head.size(); ++i)
          out += i < t.numeric.size() && t.numeric[i] ? " --: |" : " --- |";
        out += "\n";
        for (const auto& row : t.rows) {
          out += "|";
          for (const Cell& c : row)
            out += " " + (c.code ? md_code(c.text, true) : md_text(c.text)) + " |";
          out += "\n";
        }
        out += "\n";
        break;
      }
      case Block::Figure:
        out += "*Plot in report.html:* " +
               md_line({F(b.name, b.id), T(" — " + b.caption)}) +
               "\n\n";
        break;
      case Block::Open:
      case Block::Close: break;
    }
  }
  return out;
}

// ---- HTML ------------------------------------------------------------------------------------

std::string html_line(const Line& line) {
  std::string out;
  for (const Span& s : line) {
    switch (s.kind) {
      case Span::Text: out += svg::escape(s.text); break;
      case Span::Bold: out += "<strong>" + svg::escape(s.text) + "</strong>"; break;
      case Span::Code: out += "<code>" + svg::escape(s.text) + "</code>"; break;
      case Span::FigLink:
        out += "<a href=\"#" + svg::escape(s.href) + "\">" + svg::escape(s.text) + "</a>";
        break;
    }
  }
  return out;
}

const char* kCss = R"(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;background:#f6f6f4;color:#222;line-height:1.45}
main{max-width:1340px;margin:0 auto;padding:20px 28px 48px}
h1{font-size:1.6em;margin:.4em 0 .3em}
h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #d8d8d8;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0 1em;background:#fff;font-size:.9em}
th,td{border:1px solid #dcdcdc;padding:3px 9px;text-align:left;vertical-align:top}
th{background:#efefec}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.verdict{background:#fff;border-left:6px solid #888;padding:2px 18px 6px;margin:1em 0}
.verdict.held{border-left-color:#2e7d32}
.verdict.not-held{border-left-color:#c62828}
.plots{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:.6em 0;background:#fff;border:1px solid #dcdcdc;padding:8px;max-width:100%;overflow-x:auto}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.86em;color:#555;margin-top:4px}
)";

std::string render_html(const Doc& doc, const std::string& title) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + svg::escape(title) + "</title>\n<style>\n" + kCss + "</style>\n</head>\n";
  out += "<body>\n<main>\n";
  for (const Block& b : doc.blocks()) {
    switch (b.kind) {
      case Block::Title: out += "<h1>" + html_line(b.line) + "</h1>\n"; break;
      case Block::Heading:
        out += "<h2 id=\"" + svg::escape(b.id) + "\">" + html_line(b.line) + "</h2>\n";
        break;
      case Block::Para: out += "<p>" + html_line(b.line) + "</p>\n"; break;
      case Block::List:
        out += "<ul>\n";
        for (const Line& item : b.items) out += "<li>" + html_line(item) + "</li>\n";
        out += "</ul>\n";
        break;
      case Block::Tab: {
        const Table& t = b.table;
        auto num = [&](std::size_t i) {
          return i < t.numeric.size() && t.numeric[i] ? " class=\"num\"" : "";
        };
        out += "<table>\n<thead><tr>";
        for (std::size_t i = 0; i < t.head.size(); ++i)
          out += std::string("<th") + num(i) + ">" + svg::escape(t.head[i]) + "</th>";
        out += "</tr></thead>\n<tbody>\n";
        for (const auto& row : t.rows) {
          out += "<tr>";
          for (std::size_t i = 0; i < row.size(); ++i) {
            std::string text = svg::escape(row[i].text);
            if (row[i].code) text = "<code>" + text + "</code>";
            out += std::string("<td") + num(i) + ">" + text + "</td>";
          }
          out += "</tr>\n";
        }
        out += "</tbody>\n</table>\n";
        break;
      }
      case Block::Figure:
        out += "<figure id=\"" + svg::escape(b.id) + "\">\n" + b.svg() + "<figcaption>" +
               svg::escape(b.caption) + "</figcaption>\n</figure>\n";
        break;
      case Block::Open:
        out += "<" + b.tag;
        if (!b.id.empty()) out += " id=\"" + svg::escape(b.id) + "\"";
        if (!b.css.empty()) out += " class=\"" + svg::escape(b.css) + "\"";
        out += ">\n";
        break;
      case Block::Close: out += "</" + b.tag + ">\n"; break;
    }
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

// =============================================================================================
// Plots.

const char* group_color(const std::string& group) {
  if (group == "cnn") return "#4e79a7";
  if (group == "lstm") return "#f28e2b";
  if (group == "head") return "#59a14f";
  return "#9c755f";
}

constexpr const char* kBandColor = "#59a14f";
constexpr const char* kChosenColor = "#d62728";

std::string band_label(const ReportView& r) {
  return "claim: " + plain(std::min(r.claim.saving_pct.lo, r.claim.saving_pct.hi)) + "–" +
         plain(std::max(r.claim.saving_pct.lo, r.claim.saving_pct.hi)) +
         "% saving vs baseline";
}

std::string svg_id(const char* fig) { return std::string(fig) + "-svg"; }

svg::Series make_series(std::string name, std::string color, svg::Mark mark,
                        std::vector<double> x = {}, std::vector<double> y = {}) {
  svg::Series s;
  s.name = std::move(name);
  s.color = std::move(color);
  s.mark = mark;
  s.x = std::move(x);
  s.y = std::move(y);
  return s;
}

// The chosen configuration: one hollow point drawn over a plot's other series.
svg::Series chosen_marker(double x, double y, double radius_px) {
  svg::Series ch = make_series("chosen", kChosenColor, svg::Mark::Points, {x}, {y});
  ch.hollow = true;
  ch.radius_px = radius_px;
  ch.css_class = "chosen";
  return ch;
}

std::string plot_pareto(const ReportView& r) {
  svg::XYPlot p(svg_id(kFigPareto), "Predicted Pareto front (search)", "energy per inference (µJ)",
                "predicted sensitivity");
  std::vector<ParetoPoint> pts = r.pareto;
  std::stable_sort(pts.begin(), pts.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    return a.energy_uj < b.energy_uj;
  });
  svg::Series front = make_series("Pareto front", svg::palette(0), svg::Mark::LinePoints);
  for (const ParetoPoint& q : pts) {
    front.x.push_back(q.energy_uj);
    front.y.push_back(q.sensitivity);
  }
  front.css_class = "pareto";
  p.add(std::move(front));
  if (r.chosen.predicted_sensitivity)
    p.add(chosen_marker(r.chosen.energy_uj, *r.chosen.predicted_sensitivity, 7));
  Interval band = r.band_uj();
  p.add_band({band.lo, band.hi, band_label(r), kBandColor, "band-pareto"});
  return p.render();
}

std::string plot_measured(const ReportView& r, const Words& w) {
  svg::XYPlot p(svg_id(kFigMeasured), "Measured: energy vs " + w.metric_name(),
                "energy per inference (µJ)", w.metric_axis());
  std::vector<const SweepPoint*> sw;
  for (const SweepPoint& s : r.sweep)
    if (s.metric) sw.push_back(&s);
  std::stable_sort(sw.begin(), sw.end(), [](const SweepPoint* a, const SweepPoint* b) {
    return a->energy_uj < b->energy_uj;
  });
  if (!sw.empty()) {
    svg::Series s = make_series("budget sweep", svg::palette(1), svg::Mark::LinePoints);
    for (const SweepPoint* q : sw) {
      s.x.push_back(q->energy_uj);
      s.y.push_back(w.plotted(*q->metric));
    }
    s.dashed = true;
    s.css_class = "sweep";
    p.add(std::move(s));
  }
  svg::Series m = make_series("trained models", svg::palette(0), svg::Mark::Points);
  for (const ModelView& mv : r.models) {
    if (!mv.metric) continue;
    m.x.push_back(mv.energy_uj);
    m.y.push_back(w.plotted(*mv.metric));
    m.labels.push_back(mv.name);
  }
  m.radius_px = 4.5;
  m.css_class = "model";
  p.add(std::move(m));
  if (r.chosen_model && r.models[*r.chosen_model].metric) {
    const ModelView& cm = r.models[*r.chosen_model];
    p.add(chosen_marker(cm.energy_uj, w.plotted(*cm.metric), 8));
  }
  Interval band = r.band_uj();
  p.add_band({band.lo, band.hi, band_label(r), kBandColor, "band-measured"});
  return p.render();
}

// Mixed (frontier) and uniform (ladder) precision on one energy axis, each point with its
// interval, and the region within the claim's threshold of the baseline shaded.
std::string plot_frontier(const ReportView& r, const Words& w) {
  svg::XYPlot p(svg_id(kFigFrontier), "Mixed vs uniform precision: " + w.metric_name() + " vs energy",
                "energy per inference (µJ)", w.regression ? "RMSE" : "accuracy (%)");
  for (const auto& [pts, name, color] :
       {std::tuple<const std::vector<FrontView>*, const char*, const char*>{&r.frontier, "mixed (exact solver)", kChosenColor},
        {&r.ladder, "uniform", svg::palette(0)}}) {
    std::vector<FrontView> v = *pts;
    std::stable_sort(v.begin(), v.end(), [](const FrontView& a, const FrontView& b) { return a.energy_uj < b.energy_uj; });
    svg::Series s = make_series(name, color, svg::Mark::LinePoints);
    for (const FrontView& f : v) {
      s.x.push_back(f.energy_uj);
      s.y.push_back(f.metric);
      s.y_lo.push_back(f.ci ? f.ci->lo : kNaN);
      s.y_hi.push_back(f.ci ? f.ci->hi : kNaN);
      s.labels.push_back(f.name);
    }
    s.css_class = std::string(name) == "uniform" ? "ladder" : "frontier";
    p.add(std::move(s));
  }
  const ModelView& base = r.models[r.baseline];
  if (r.threshold && base.metric) {
    const double b = w.plotted(*base.metric);
    if (w.regression)
      p.add_band_y({b, b * (1 + *r.threshold / 100), "within " + plain(*r.threshold) + "% RMSE of the baseline",
                    kBandColor, "band-threshold"});
    else
      p.add_band_y({b - *r.threshold, b, "within " + plain(*r.threshold) + " points of the baseline", kBandColor,
                    "band-threshold"});
  }
  return p.render();
}

// Bits a float format implies when the JSON leaves them null.
double bits_or_format(const optional<double>& bits, const std::string& format) {
  if (bits) return *bits;
  if (format == "fp16" || format == "bf16") return 16;
  if (format == "fp32") return 32;
  return kNaN;
}

std::string plot_bitwidths(const ReportView& r) {
  const auto& layers = r.chosen.layers;
  svg::Frame f;
  f.width_px = std::max(640.0, f.left_px + f.right_px + 30.0 * static_cast<double>(layers.size()));
  svg::BarPlot p(svg_id(kFigBitwidths), "Chosen bitwidth per layer", "bits", f);
  std::vector<std::string> names, colors;
  svg::BarSeries wb{"weight bits", "#555555", {}, {}, 1.0, "bar-weight"};
  svg::BarSeries ab{"activation bits", "#555555", {}, {}, 0.45, "bar-activation"};
  std::vector<std::string> groups;
  for (const LayerView& l : layers) {
    names.push_back(l.name);
    wb.values.push_back(bits_or_format(l.weight_bits, l.format));
    ab.values.push_back(bits_or_format(l.activation_bits, l.format));
    wb.bar_colors.push_back(group_color(l.group));
    ab.bar_colors.push_back(group_color(l.group));
    if (std::find(groups.begin(), groups.end(), l.group) == groups.end()) groups.push_back(l.group);
  }
  std::vector<svg::LegendEntry> legend;
  for (const char* g : {"cnn", "lstm", "head"})
    if (std::find(groups.begin(), groups.end(), g) != groups.end())
      legend.push_back({std::string(g) == "cnn" ? "CNN layers" : std::string(g) == "lstm" ? "LSTM layers" : "head", group_color(g)});
  bool other = std::any_of(groups.begin(), groups.end(), [](const std::string& g) {
    return g != "cnn" && g != "lstm" && g != "head";
  });
  if (other) legend.push_back({"other layers", group_color("other")});
  legend.push_back({"weights (solid)", "#555555", 1.0});
  legend.push_back({"activations (light)", "#555555", 0.45});
  p.set_categories(std::move(names));
  p.add(std::move(wb));
  p.add(std::move(ab));
  p.set_legend(std::move(legend));
  return p.render();
}

std::string plot_breakdown(const BreakdownView& b) {
  svg::BarPlot p(svg_id(kFigBreakdown), "Energy by component", "energy per inference (µJ)");
  std::vector<std::string> cats;
  for (const auto& e : b.entries) cats.push_back(e.first);
  p.set_categories(std::move(cats));
  for (std::size_t c = 0; c < b.components.size(); ++c) {
    svg::BarSeries s{b.components[c], svg::palette(c), {}, {}, 1.0, "bar-component"};
    for (const auto& e : b.entries) s.values.push_back(e.second[c]);
    p.add(std::move(s));
  }
  p.set_stacked(true);
  return p.render();
}

bool any_curves(const ReportView& r) {
  return std::any_of(r.models.begin(), r.models.end(),
                     [](const ModelView& m) { return !m.curves.empty(); });
}

// What the training-curve plot shows: the task's metric on the validation set when any curve
// has it, else the validation loss, else the training loss.
struct CurveChoice {
  optional<double> CurvePoint::*field;
  double scale;  // accuracy in percent
  const char* title;
  const char* axis;
};

CurveChoice curve_choice(const ReportView& r) {
  std::vector<CurveChoice> order;
  if (r.regression)
    order.push_back({&CurvePoint::val_rmse, 1, "Validation RMSE per epoch", "validation RMSE"});
  else
    order.push_back({&CurvePoint::val_accuracy, 100, "Validation accuracy per epoch",
                     "validation accuracy (%)"});
  order.push_back({&CurvePoint::val_loss, 1, "Validation loss per epoch", "validation loss"});
  order.push_back({&CurvePoint::train_loss, 1, "Training loss per epoch", "training loss"});
  for (const CurveChoice& c : order)
    for (const ModelView& m : r.models)
      for (const CurvePoint& p : m.curves)
        if (p.*(c.field)) return c;
  return order.back();
}

std::string plot_curves(const ReportView& r) {
  CurveChoice choice = curve_choice(r);
  svg::XYPlot p(svg_id(kFigCurves), choice.title, "epoch", choice.axis);
  p.set_x_min_step(1);
  std::size_t color = 0;
  for (const ModelView& m : r.models) {
    if (m.curves.empty()) continue;
    svg::Series s = make_series(m.name, svg::palette(color++), svg::Mark::LinePoints);
    for (const CurvePoint& c : m.curves) {
      const optional<double>& y = c.*(choice.field);
      s.x.push_back(c.epoch);
      s.y.push_back(y ? *y * choice.scale : kNaN);
    }
    s.radius_px = 2.5;
    s.css_class = "curve";
    p.add(std::move(s));
  }
  return p.render();
}

// =============================================================================================
// Content, in reading order: verdict first.

std::string held_word(bool held) { return held ? "held" : "not held"; }

void add_verdict(Doc& d, const ReportView& r, const Words& w) {
  const VerdictView& v = r.verdict;
  const ClaimView& c = r.claim;
  d.open("section", "verdict", v.claim_held ? "verdict held" : "verdict not-held");
  d.heading("Verdict", "verdict-heading");
  if (r.quick)
    d.para({B("Quick run:"), T(" sizes were reduced for a smoke test; these numbers are not "
                               "evidence for or against the claim.")});

  const ModelView& base = r.models[r.baseline];
  std::string energy = std::string(" The chosen mixed-precision design uses ") +
                       pct1(std::fabs(v.saving_pct)) + (v.saving_pct >= 0 ? " less" : " more") +
                       " energy per inference than the baseline (" + sig3(r.chosen.energy_uj) +
                       " µJ against " + sig3(base.energy_uj) + " µJ)";
  std::string quality;
  if (w.regression)
    quality = std::string(v.drop >= 0 ? "raises" : "lowers") + " RMSE by " + w.drop(std::fabs(v.drop));
  else
    quality = std::string(v.drop >= 0 ? "loses " : "gains ") + w.drop(std::fabs(v.drop)) + " of accuracy";
  if (r.chosen_model && r.models[*r.chosen_model].metric && base.metric)
    quality += " (" + w.metric(*r.models[*r.chosen_model].metric) + " against " +
               w.metric(*base.metric) + ")";
  optional<double> latency = v.latency_ms ? v.latency_ms : r.chosen.latency_ms;
  std::string lat = latency ? ", and runs in " + sig3(*latency) + " ms per inference" : "";
  if (!v.overall.empty()) {
    // Sub-verdict reports: the generated summary leads; the sub-claims follow as a list.
    d.para({B("Verdict: " + v.overall + "."), T(" " + v.summary)});
  } else {
    d.para({B(v.claim_held ? "The claim held." : "The claim did not hold."),
            T(energy + (latency ? ", " : " and ") + quality + lat + ".")});
  }

  std::string band = plain(std::min(c.saving_pct.lo, c.saving_pct.hi)) + "–" +
                     plain(std::max(c.saving_pct.lo, c.saving_pct.hi)) + "%";
  std::string base_desc = c.baseline.empty() ? std::string("the baseline")
                                             : "the " + c.baseline + " baseline";
  std::string claim = band + " less energy than " + base_desc + ", at most " + w.drop(c.max_drop) +
                      (w.regression ? " RMSE increase" : " accuracy loss");
  if (c.latency_ms) claim += ", at most " + plain(*c.latency_ms) + " ms per inference";
  if (!c.pattern.empty()) claim += ", and " + c.pattern;
  d.para({B("Claim:"), T(" " + claim + ".")});

  std::vector<Line> items;
  if (!v.overall.empty()) {
    for (const auto& [what, outcome] : v.subs) items.push_back({T(what + ": "), B(outcome)});
    if (!c.pattern.empty() || v.pattern_held) {
      Line item{T("Precision pattern" + (c.pattern.empty() ? "" : " (" + c.pattern + ")") + ": "),
                B(v.pattern_held ? held_word(*v.pattern_held) : "not assessed")};
      if (!v.pattern_detail.empty()) item.push_back(T(" — " + v.pattern_detail));
      items.push_back(std::move(item));
    }
    d.list(std::move(items));
    d.close("section");
    return;
  }
  items.push_back({T("Energy saving " + pct1(v.saving_pct) + " (claimed " + band + "): "),
                   B(held_word(v.energy_held))});
  items.push_back({T(w.Metric_name() + (w.regression ? " increase " : " drop ") + w.drop(v.drop) +
                     " (claimed at most " + w.drop(c.max_drop) + "): "),
                   B(held_word(v.accuracy_held))});
  if (latency || c.latency_ms || v.latency_held) {
    std::string t = "Latency " + (latency ? sig3(*latency) + " ms" : std::string(kDash));
    if (c.latency_ms) t += " (claimed at most " + plain(*c.latency_ms) + " ms)";
    items.push_back({T(t + ": "), B(v.latency_held ? held_word(*v.latency_held) : "not assessed")});
  }
  if (!c.pattern.empty() || v.pattern_held) {
    Line item{T("Precision pattern" + (c.pattern.empty() ? "" : " (" + c.pattern + ")") + ": "),
              B(v.pattern_held ? held_word(*v.pattern_held) : "not assessed")};
    if (!v.pattern_detail.empty()) item.push_back(T(" — " + v.pattern_detail));
    items.push_back(std::move(item));
  }
  d.list(std::move(items));
  if (!v.summary.empty()) d.para({T(v.summary)});
  d.close("section");
}

void add_models(Doc& d, const ReportView& r, const Words& w) {
  d.heading("Models", "models");
  const ModelView& base = r.models[r.baseline];
  d.para({T("Every trained configuration; energy and latency per inference. Savings are against "
            "the baseline "),
          C(base.name),
          T(" (" + sig3(base.energy_uj) +
            " µJ). Predicted sensitivity: the search's loss estimate of the configuration, the mean over "
            "seeds of each seed's table (none for the FP32 reference and precisions outside the search "
            "space).")});
  Table t;
  t.head = {"Model", "Label", "Energy (µJ)", "Saving vs baseline", "Latency (ms)", "Size (KiB)",
            "Predicted sensitivity", w.Metric_name() + " (CI)", "Seeds"};
  t.numeric = {false, false, true, true, true, true, true, true, true};
  for (std::size_t i = 0; i < r.models.size(); ++i) {
    const ModelView& m = r.models[i];
    std::string saving =
        i == r.baseline ? std::string("baseline")
                        : base.energy_uj > 0 ? pct1((1 - m.energy_uj / base.energy_uj) * 100)
                                             : std::string(kDash);
    t.rows.push_back({code_cell(m.name), {m.label}, {sig3(m.energy_uj)}, {saving},
                      {or_dash(m.latency_ms, sig3)}, {or_dash(m.size_bytes, kib)},
                      {or_dash(m.predicted_sensitivity, sig3)}, {w.metric_with_ci(m.metric, m.ci)},
                      {m.seeds ? std::to_string(m.seeds) : std::string(kDash)}});
  }
  d.table(std::move(t));
  d.open("div", "", "plots");
  if (!r.pareto.empty())
    d.figure(kFigPareto, "Pareto front",
             "Predicted Pareto front of the search (energy vs predicted sensitivity); the chosen "
             "design ringed; the claim's energy band shaded.",
             [&r] { return plot_pareto(r); });
  if (!r.frontier.empty())
    d.figure(kFigFrontier, "mixed vs uniform",
             "Mixed-precision frontier (exact solver at each budget) and the uniform ladder against energy, "
             "each point with its interval; the region within the claim's threshold of the baseline shaded.",
             [&r, w] { return plot_frontier(r, w); });
  d.figure(kFigMeasured, "energy vs " + w.metric_name(),
           "Measured " + w.metric_name() +
               " of the trained models and the budget sweep against energy; the chosen design "
               "ringed; the claim's energy band shaded.",
           [&r, w] { return plot_measured(r, w); });
  d.close("div");
}

void add_chosen(Doc& d, const ReportView& r) {
  const ChosenView& c = r.chosen;
  d.heading("Chosen per-layer precisions", "chosen");
  std::string what = "The chosen design: " + sig3(c.energy_uj) + " µJ";
  if (c.latency_ms) what += ", " + sig3(*c.latency_ms) + " ms";
  if (c.size_bytes) what += ", " + kib(*c.size_bytes) + " KiB";
  if (c.predicted_sensitivity) what += ", predicted sensitivity " + sig3(*c.predicted_sensitivity);
  Line info{T(what + ".")};
  std::vector<std::string> how;
  if (c.budget_fraction) how.push_back("energy budget " + plain(*c.budget_fraction) + " of the baseline");
  if (!c.solver.empty()) how.push_back("solver " + c.solver);
  if (!c.sensitivity_method.empty()) how.push_back("sensitivity method " + c.sensitivity_method);
  if (!how.empty() || !c.sensitivity_source.empty()) {
    std::string text = " Search:";
    for (std::size_t i = 0; i < how.size(); ++i) text += (i ? ", " : " ") + how[i];
    info.push_back(T(text));
    if (!c.sensitivity_source.empty()) {
      info.push_back(T(how.empty() ? " sensitivity table " : " (table "));
      info.push_back(C(c.sensitivity_source));
      if (!how.empty()) info.push_back(T(")"));
    }
    info.push_back(T("."));
  }
  d.para(std::move(info));
  if (c.layers.empty()) {
    d.para({T("The report lists no layers.")});
    return;
  }
  Table t;
  t.head = {"Layer", "Group", "Format", "Weight bits", "Activation bits", "Energy (µJ)",
            "Latency (ms)", "Sensitivity"};
  t.numeric = {false, false, false, true, true, true, true, true};
  auto bits = [](double b) { return svg::fmt_fixed(b, 0); };
  for (const LayerView& l : c.layers)
    t.rows.push_back({code_cell(l.name), {l.group}, {l.format.empty() ? kDash : l.format},
                      {or_dash(l.weight_bits, bits)}, {or_dash(l.activation_bits, bits)},
                      {or_dash(l.energy_uj, sig3)}, {or_dash(l.latency_ms, sig3)},
                      {or_dash(l.sensitivity, sig3)}});
  d.table(std::move(t));
  d.figure(kFigBitwidths, "per-layer bitwidths",
           "Weight (solid) and activation (light) bits per layer of the chosen design, coloured "
           "by layer group.",
           [&r] { return plot_bitwidths(r); });
}

void add_breakdown(Doc& d, const ReportView& r) {
  d.heading("Energy by component", "breakdown");
  if (!r.breakdown || r.breakdown->entries.empty() || r.breakdown->components.empty()) {
    d.para({T("The report has no energy breakdown.")});
    return;
  }
  const BreakdownView& b = *r.breakdown;
  d.para({T("Energy per inference by hardware component (µJ).")});
  Table t;
  t.head = {"Component"};
  t.numeric = {false};
  for (const auto& e : b.entries) {
    t.head.push_back(e.first);
    t.numeric.push_back(true);
  }
  std::vector<double> totals(b.entries.size(), 0.0);
  for (std::size_t c = 0; c < b.components.size(); ++c) {
    std::vector<Cell> row{code_cell(b.components[c])};
    for (std::size_t e = 0; e < b.entries.size(); ++e) {
      row.push_back({sig3(b.entries[e].second[c])});
      totals[e] += b.entries[e].second[c];
    }
    t.rows.push_back(std::move(row));
  }
  std::vector<Cell> total{{"total"}};
  for (double v : totals) total.push_back({sig3(v)});
  t.rows.push_back(std::move(total));
  d.table(std::move(t));
  d.figure(kFigBreakdown, "energy by component", "Energy per inference by component, stacked per configuration.",
           [&b] { return plot_breakdown(b); });
}

void add_engines(Doc& d, const ReportView& r) {
  d.heading("Cost engines", "engines");
  if (!r.engines || r.engines->engines.empty()) {
    d.para({T("The engines were not compared in this run.")});
    return;
  }
  const EnginesView& e = *r.engines;
  Table t;
  t.head = {"Engine", "Cycles", "Latency (ms)", "Energy (µJ)"};
  t.numeric = {false, true, true, true};
  auto cycles = [](double v) { return svg::fmt_fixed(v, 0); };
  for (const EngineView& g : e.engines)
    t.rows.push_back({{g.name}, {or_dash(g.cycles, cycles)}, {or_dash(g.latency_ms, sig3)},
                      {or_dash(g.energy_uj, sig3)}});
  d.table(std::move(t));
  if (e.cycles_difference_pct || e.energy_difference_pct) {
    auto pct = [](double v) { return svg::fmt_fixed(v, 2) + "%"; };
    d.para({T("Difference of the SystemC engine from the " + e.reference +
              " engine whose work it simulates: cycles " + or_dash(e.cycles_difference_pct, pct) +
              ", energy " + or_dash(e.energy_difference_pct, pct) + ".")});
  }
}

void add_ablations(Doc& d, const ReportView& r, const Words& w) {
  d.heading("Ablations", "ablations");
  if (r.ablations.empty()) {
    d.para({T("No ablations were run.")});
    return;
  }
  Table t;
  t.head = {"Ablation", "Label", "Description", "Energy (µJ)", "Saving vs baseline",
            w.Metric_name(), w.drop_header()};
  t.numeric = {false, false, false, true, true, true, true};
  auto drop = [](double v) { return svg::fmt_fixed(v, 2); };
  auto metric = [&w](double v) { return w.metric(v); };
  for (const AblationView& a : r.ablations)
    t.rows.push_back({code_cell(a.name), {a.label}, {a.description}, {sig3(a.energy_uj)},
                      {or_dash(a.energy_saving_pct, pct1)}, {or_dash(a.metric, metric)},
                      {or_dash(a.drop, drop)}});
  d.table(std::move(t));
}

void add_sweep(Doc& d, const ReportView& r, const Words& w) {
  d.heading("Energy-budget sweep", "sweep");
  if (r.sweep.empty()) {
    d.para({T("No budget sweep was run.")});
  } else {
    Table t;
    t.head = {"Budget (fraction of baseline)", "Energy (µJ)", "Saving vs baseline",
              "Predicted sensitivity", w.Metric_name(), w.drop_header()};
    t.numeric = {true, true, true, true, true, true};
    auto drop = [](double v) { return svg::fmt_fixed(v, 2); };
    auto metric = [&w](double v) { return w.metric(v); };
    for (const SweepPoint& s : r.sweep)
      t.rows.push_back({{plain(s.budget_fraction)}, {sig3(s.energy_uj)},
                        {or_dash(s.energy_saving_pct, pct1)},
                        {or_dash(s.predicted_sensitivity, sig3)}, {or_dash(s.metric, metric)},
                        {or_dash(s.drop, drop)}});
    d.table(std::move(t));
  }
  if (!r.pareto.empty())
    d.para({T("The search's predicted Pareto front has " + std::to_string(r.pareto.size()) +
              " points; see the energy plots above.")});
}

void add_curves(Doc& d, const ReportView& r) {
  d.heading("Training curves", "curves");
  if (!any_curves(r)) {
    d.para({T("The report has no training curves.")});
    return;
  }
  d.figure(kFigCurves, "training curves",
           std::string(curve_choice(r).title) + " for each trained model.",
           [&r] { return plot_curves(r); });
}

void add_provenance(Doc& d, const ReportView& r) {
  d.heading("How it was made", "provenance");
  Line l{T("Scenario "), C(r.scenario_name)};
  if (!r.scenario_file.empty()) {
    l.push_back(T(" from "));
    l.push_back(C(r.scenario_file));
  }
  if (!r.scenario_hash.empty()) {
    l.push_back(T(" (hash "));
    l.push_back(C(r.scenario_hash));
    l.push_back(T(")"));
  }
  if (!r.run_id.empty()) {
    l.push_back(T("; run "));
    l.push_back(C(r.run_id));
  }
  l.push_back(T("; task " + r.task + "."));
  d.para(std::move(l));
  if (!r.manifest.empty()) {
    Table t;
    t.head = {"Manifest", "Value"};
    for (const auto& kv : r.manifest) t.rows.push_back({code_cell(kv.first), code_cell(kv.second)});
    d.table(std::move(t));
  }
  if (!r.phases.empty()) {
    Table t;
    t.head = {"Phase", "Wall time (s)", "Status"};
    t.numeric = {false, true, false};
    double total = 0;
    bool any = false;
    for (const PhaseView& p : r.phases) {
      t.rows.push_back({{p.name}, {or_dash(p.seconds, [](double v) { return svg::fmt_fixed(v, 1); })},
                        {p.status.empty() ? kDash : p.status}});
      if (p.seconds) total += *p.seconds, any = true;
    }
    if (any) t.rows.push_back({{"total"}, {svg::fmt_fixed(total, 1)}, {""}});
    d.table(std::move(t));
  }
}

Doc build(const ReportView& r, const Words& w, bool html) {
  Doc d;
  d.title({T("mixprec reproducibility report: "), C(r.scenario_name)});
  Line sub;
  if (!r.run_id.empty()) {
    sub.push_back(T("Run "));
    sub.push_back(C(r.run_id));
    sub.push_back(T(" · "));
  }
  sub.push_back(T("task " + r.task + " (metric " + (w.regression ? "RMSE" : "accuracy") + ")"));
  if (r.quick) sub.push_back(T(" · quick run"));
  sub.push_back(T(html ? ". Plots: " : ". Plots are in report.html: "));
  std::vector<std::pair<const char*, const char*>> figs;
  if (!r.pareto.empty()) figs.push_back({kFigPareto, "Pareto front"});
  if (!r.frontier.empty()) figs.push_back({kFigFrontier, "mixed vs uniform"});
  figs.push_back({kFigMeasured, w.regression ? "energy vs RMSE" : "energy vs accuracy"});
  if (!r.chosen.layers.empty()) figs.push_back({kFigBitwidths, "per-layer bitwidths"});
  if (r.breakdown && !r.breakdown->entries.empty() && !r.breakdown->components.empty())
    figs.push_back({kFigBreakdown, "energy by component"});
  if (any_curves(r)) figs.push_back({kFigCurves, "training curves"});
  for (std::size_t i = 0; i < figs.size(); ++i) {
    if (i) sub.push_back(T(", "));
    sub.push_back(F(figs[i].second, figs[i].first));
  }
  sub.push_back(T("."));
  d.para(std::move(sub));

  add_verdict(d, r, w);
  add_models(d, r, w);
  add_chosen(d, r);
  add_breakdown(d, r);
  add_engines(d, r);
  add_ablations(d, r, w);
  add_sweep(d, r, w);
  add_curves(d, r);
  add_provenance(d, r);
  return d;
}

}  // namespace

std::string render_report_md(const nlohmann::json& report) {
  ReportView r = read_report(report);
  Words w{r.regression};
  return render_md(build(r, w, false));
}

std::string render_report_html(const nlohmann::json& report) {
  ReportView r = read_report(report);
  Words w{r.regression};
  return render_html(build(r, w, true), "mixprec report: " + r.scenario_name +
                                      (r.run_id.empty() ? "" : " (" + r.run_id + ")"));
}

}  // namespace mixprec::report
