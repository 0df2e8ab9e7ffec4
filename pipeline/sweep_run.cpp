#include "pipeline/sweep_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "pipeline/common.hpp"
#include "pipeline/search_run.hpp"
#include "core/errors.hpp"
#include "core/io.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "energy_models/area.hpp"
#include "energy_models/energy_model.hpp"
#include "search/io.hpp"
#include "search/solver.hpp"
#include "sim/analytical.hpp"
#include "sim/cost_table.hpp"
#include "sim/fpga.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/engine.hpp"

namespace mixprec::pipeline {

using nlohmann::json;
using sweep::Point;
using sweep::SweepSpec;

namespace {

constexpr const char* kManifest = "sweep.json";
constexpr const char* kPoints = "points.jsonl";
// Each line of points.jsonl carries the checksum of its content (json_checksum without this key),
// so an edited or corrupted point that is still valid JSON is detected, not merged into results.
constexpr const char* kLineChecksum = "fnv1a64";
// A point as its line of points.jsonl (without the newline).
std::string point_line_text(json line) {
  line[kLineChecksum] = json_checksum(line, kLineChecksum);
  return line.dump();
}

bool file_exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Point evaluation

struct PointEvaluator::Impl {
  const SweepSpec& spec;
  std::optional<PrecisionSpec> precision_file;
  // When every axis sets hardware or constraint keys, the rest of the scenario is the base's:
  // it is parsed once and each point re-parses only those two sections.
  std::optional<Scenario> base;
  explicit Impl(const SweepSpec& s) : spec(s) {
    if (!s.compute.precision_file.empty()) precision_file = load_precision_file(s.compute.precision_file);
    bool hw_only = true;
    for (const auto& a : s.axes)
      for (const auto& k : a.keys)
        hw_only = hw_only && (k.rfind("/hardware/", 0) == 0 || k.rfind("/constraints/", 0) == 0);
    if (hw_only) base = parse_scenario(s.base, JsonCtx{s.base_file});
  }

  Scenario scenario_of(const Point& p) const {
    const JsonCtx ctx{spec.base_file};
    if (!base) return parse_scenario(sweep::apply_point(spec, p), ctx);
    json part = json::object();
    part["hardware"] = spec.base.at("hardware");
    if (spec.base.contains("constraints")) part["constraints"] = spec.base.at("constraints");
    sweep::set_point_values(spec, p, part);
    return reparse_hardware_and_constraints(*base, part, ctx);
  }

  // The sensitivity table for a point's layers and options. With the network and the search
  // section fixed (`base`), every point has the same ones: the file is read once.
  std::shared_ptr<const search::SensitivityTable> sensitivity(const Network& net,
                                                              const std::vector<LayerPrecision>& options,
                                                              const std::vector<SearchSpec::RankSearch>& ranks = {}) const {
    auto load = [&]() {
      return std::make_shared<const search::SensitivityTable>(
          search::load_sensitivity(spec.compute.sensitivity_file, net, options, ranks));
    };
    if (!base) return load();
    std::call_once(sens_once_, [&]() { sens_ = load(); });
    return sens_;
  }
  mutable std::once_flag sens_once_;
  mutable std::shared_ptr<const search::SensitivityTable> sens_;

  // Energy models keyed by the point's hardware section: a sweep over budgets or precisions
  // reuses one; each thread keeps its own (no locking on the hot path).

  // The point's precision; a precision file's ranks are set on sc.net.
  std::vector<LayerPrecision> precision(Scenario& sc) const {
    const std::string& p = spec.compute.precision;
    if (precision_file) {
      apply_rank_overrides(*precision_file, sc.net, spec.compute.precision_file);
      return resolve_precision(*precision_file, sc.net, spec.compute.precision_file);
    }
    if (p == "scenario") return sc.layer_precision;
    return uniform_precision(sc, p);
  }

  sim::NetworkCost price(const Scenario& sc, const std::vector<LayerPrecision>& prec) const {
    if (spec.compute.engine == "systemc") {
      // That engine simulates the analytical engine's tiles, which have no between-layer
      // residency and no phased timing: a point that asks for them is refused, not priced without
      // (the mapping engine's default timing is not asked for; that engine has its own).
      if (sc.cost_model.residency != Residency::None || sc.cost_model.phased_stated())
        throw SpecError(spec.file, "/compute/engine",
                        std::string("\"scenario\" or \"mapping\" for a point with cost_model.residency \"") +
                            to_string(sc.cost_model.residency) + "\" and cost_model.timing \"" +
                            to_string(sc.cost_model.timing) +
                            "\" (the systemc engine simulates the analytical engine's tiles, which have "
                            "neither hand-overs nor the phased timing)",
                        "\"systemc\"");
      sim::systemc::SimOptions o;
      o.baselines = false;
      return sim::systemc::simulate(sc, prec, o).result.cost;
    }
    if (sc.hardware.kind == HardwareKind::Fpga) {
      if (spec.compute.engine == "mapping")
        throw SpecError(spec.file, "/compute/engine",
                        "\"scenario\", \"analytical\" or \"systemc\" for an fpga point (the mapping "
                        "engine expands the asic template)", "\"mapping\"");
      return sim::fpga::analytical_cost(sc, prec);
    }
    sim::Pricer eng(sc, engine_of(sc), &mapper_cache());
    return eng.network_cost(sc.net, prec, sc.phase);
  }

  // The point's engine: the scenario's cost model unless the sweep names one.
  CostEngine engine_of(const Scenario& sc) const {
    const std::string& e = spec.compute.engine;
    return e == "mapping" ? CostEngine::Mapping : e == "analytical" ? CostEngine::Analytical : sc.cost_model.engine;
  }

  // Mapper results shared by the points one thread evaluates (the key holds the architecture).
  static sim::nest::MapperCache& mapper_cache() {
    thread_local sim::nest::MapperCache cache;
    return cache;
  }

  json results_of(const Scenario& sc, const sim::NetworkCost& c,
                  const std::vector<LayerPrecision>& prec) const {
    json r;
    r["engine"] = spec.compute.engine == "systemc"           ? "systemc"
                  : sc.hardware.kind == HardwareKind::Fpga ? "fpga"
                                                           : to_string(engine_of(sc));
    r["energy_uj"] = c.energy_uj;
    r["latency_ms"] = c.latency_ms;
    r["cycles"] = c.cycles;
    r["power_mw"] = c.power_mw;
    r["inferences_per_s"] = c.latency_ms > 0 ? 1000.0 / c.latency_ms : 0.0;
    r["macs"] = c.macs;
    r["dram_bytes"] = c.dram_bytes;
    if (sc.hardware.kind == HardwareKind::Fpga) {
      // FPGA designs: the resources used and the largest fraction of the device they take
      // (the area proxy of a fixed part).
      const json res = sim::fpga::fpga_json(sc, prec, c).at("resources");
      r["resources_used"] = res.at("used");
      double util = 0;
      for (const char* k : {"dsp48", "bram_18k", "luts", "ffs"}) {
        const double avail = res.at("available").at(k).get<double>();
        if (avail > 0) util = std::max(util, res.at("used").at(k).get<double>() / avail);
      }
      r["device_utilization"] = util;
    } else {
      r["area_mm2"] = energy::area_proxy(sc.hardware).total_mm2();
    }
    json by = json::object();
    for (std::size_t k = 0; k < sim::kComponents; ++k)
      by[sim::to_string(static_cast<sim::Component>(k))] = c.energy_pj[k] * 1e-6;
    r["energy_by_component_uj"] = by;
    std::vector<double> wbits;
    double size_bits = 0;
    for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
      const Layer& L = sc.net.layers[l];
      if (!L.has_weights()) continue;
      wbits.push_back(prec[l].weights().bits);
      size_bits += double(L.weight_count() - L.recurrent_weight_count()) * prec[l].weights().bits +
                   double(L.recurrent_weight_count()) * prec[l].recurrent_weights().bits;
    }
    r["mean_weight_bits"] = mean(wbits);
    r["model_size_kib"] = size_bits / 8.0 / 1024.0;
    if (sc.constraints.latency_ms) r["meets_latency"] = c.latency_ms <= *sc.constraints.latency_ms;
    return r;
  }

  json evaluate(const Point& p) const {
    json line;
    line["index"] = p.index;
    line["key"] = p.key;
    line["inputs"] = sweep::point_inputs(spec, p);
    try {
      Scenario sc = scenario_of(p);
      json results;
      if (spec.compute.kind == sweep::ComputeKind::Simulate) {
        const std::vector<LayerPrecision> prec = precision(sc);
        const sim::NetworkCost c = price(sc, prec);
        if (!c.fits) throw SpecError(sc.file, "/hardware/buffers", "buffers that hold a tile of every layer", "a layer no tiling fits");
        results = results_of(sc, c, prec);
        if (!spec.compute.sensitivity_file.empty()) {
          // Accuracy proxy: the configuration's summed sensitivity, read from the table at each
          // layer's option (the configuration must be among the table's options).
          const std::vector<LayerPrecision> options = sim::candidate_options(sc.search, LayerPrecision{});
          const auto t = sensitivity(sc.net, options);
          double s = 0;
          for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
            if (!sc.net.layers[l].has_weights()) continue;
            std::size_t o = 0;
            while (o < options.size() && !same_option(options[o], prec[l])) ++o;
            if (o == options.size())
              throw SpecError(spec.compute.sensitivity_file, "/entries",
                              "an entry for layer " + sc.net.layers[l].name + " at the simulated precision",
                              "none (the table's options come from the scenario's search section)");
            s += t->at(l, o);
          }
          results["accuracy_proxy"] = s;
        }
      } else {
        Scenario s2 = sc;
        if (!spec.compute.solver.empty()) s2.search.solver = spec.compute.solver;
        if (spec.compute.engine == "mapping" || spec.compute.engine == "analytical")
          s2.cost_model.engine = engine_of(s2);
        const SearchSetup setup = prepare_search(s2, &mapper_cache());
        const auto sens = sensitivity(s2.net, setup.options, s2.search.ranks);
        const search::Problem prob =
            search::make_problem(setup.table, *sens, s2.net, setup.rules, setup.default_option,
                                 rank_choices(s2, setup, *sens, spec.compute.sensitivity_file));
        const search::Budget budget = make_budget(s2, setup);
        search::Solution sol;
        const std::string& solver = s2.search.solver;
        if (solver == "exact") sol = search::solve_exact(prob, budget).best;
        else if (solver == "greedy") sol = search::solve_greedy(prob, budget);
        else if (solver == "random")
          sol = search::solve_random(prob, budget, s2.search.baseline_evaluations, std::uint64_t(s2.search.seed));
        else
          sol = search::solve_evolutionary(prob, budget, s2.search.baseline_evaluations, std::uint64_t(s2.search.seed));
        if (!sol.feasible)
          throw SpecError(sc.file, "/constraints", "a budget some configuration meets",
                          "none fits (solver " + solver + ")");
        const std::vector<LayerPrecision> prec = chosen_precision(s2, setup, sol);
        // The chosen ranks priced with the chosen bits, and reported per rank-searched layer.
        json ranks = json::object();
        const std::vector<Factorization> chosen_f = chosen_factorization(s2, sol);
        for (const SearchSpec::RankSearch& rs : s2.search.ranks) {
          const int l = s2.net.find(rs.layer);
          ranks[rs.layer] = rank_label(chosen_f[size_t(l)]);
          s2.net.layers[size_t(l)].factorization = chosen_f[size_t(l)];
        }
        const sim::NetworkCost c = price(s2, prec);
        results = results_of(s2, c, prec);
        if (!ranks.empty()) results["ranks"] = ranks;
        results["accuracy_proxy"] = sol.sensitivity;
        results["solver"] = solver;
        results["baseline_energy_uj"] = setup.baseline_energy_uj;
        results["saving_pct"] = 100.0 * (1.0 - c.energy_uj / setup.baseline_energy_uj);
        if (budget.limit[search::kEnergy] < std::numeric_limits<double>::infinity())
          results["budget_uj"] = budget.limit[search::kEnergy] * 1e-6;
        json wb = json::array(), ab = json::array();
        for (std::size_t l = 0; l < s2.net.layers.size(); ++l)
          if (s2.net.layers[l].has_weights()) {
            wb.push_back(prec[l].weights().bits);
            ab.push_back(prec[l].activations().bits);
          }
        results["weight_bits"] = wb;
        results["activation_bits"] = ab;
      }
      line["status"] = "ok";
      line["results"] = results;
    } catch (const SpecError& e) {
      line["status"] = "error";
      line["error"] = std::string("at this point, ") + e.what();
    } catch (const std::exception& e) {
      line["status"] = "error";
      line["error"] = std::string("internal: ") + e.what();
    }
    return line;
  }
};

PointEvaluator::PointEvaluator(const SweepSpec& spec) : impl_(std::make_unique<Impl>(spec)) {}
PointEvaluator::~PointEvaluator() = default;
json PointEvaluator::evaluate(const Point& p) const { return impl_->evaluate(p); }

// ---------------------------------------------------------------------------------------------
// Outputs

namespace {

json manifest_json(const SweepSpec& spec, const sweep::Shard& shard, std::size_t points,
                   std::size_t discarded) {
  json m;
  m["mixprec_sweep_output"] = 1;
  m["name"] = spec.name;
  m["sweep_file"] = spec.file;
  m["sweep_hash"] = spec.hash;
  m["base_scenario"] = spec.base_file;
  m["mixprec_version"] = mixprec_version();
  json axes = json::array();
  for (const auto& a : spec.axes) axes.push_back({{"name", a.name}, {"keys", a.keys}});
  m["axes"] = axes;
  m["sampling"] = sweep::to_string(spec.sampling);
  m["compute"] = {{"kind", spec.compute.kind == sweep::ComputeKind::Search ? "search" : "simulate"},
                  {"engine", spec.compute.engine}};
  m["shard"] = {{"index", shard.index + 1}, {"count", shard.count}};
  m["points_in_shard"] = points;
  m["discarded_by_constraints"] = discarded;
  return m;
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c == '\n' ? ' ' : c;
  }
  return o + "\"";
}

std::string csv_value(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_escape(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number()) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.10g", v.get<double>());
    return buf;
  }
  return csv_escape(v.dump());
}

const char* kResultColumns[] = {"energy_uj", "latency_ms", "cycles", "power_mw", "inferences_per_s",
                                "area_mm2", "device_utilization", "accuracy_proxy", "macs", "dram_bytes",
                                "mean_weight_bits", "model_size_kib", "meets_latency",
                                "saving_pct", "budget_uj", "ranks"};

// The objectives of the Pareto summary, all minimized: energy, latency, an area proxy (mm² for
// accelerators, the device fraction for FPGA designs) and the accuracy proxy, each when every
// successful point has it.
std::vector<std::string> objectives(const std::vector<json>& lines) {
  std::vector<std::string> o;
  for (const char* k : {"energy_uj", "latency_ms", "area_mm2", "device_utilization", "accuracy_proxy"}) {
    bool all = true, any = false;
    for (const auto& l : lines)
      if (l.value("status", "") == "ok") {
        any = true;
        all = all && l.at("results").contains(k);
      }
    if (all && any) o.push_back(k);
  }
  return o;
}

}  // namespace

void write_final_outputs(const SweepSpec& spec, const std::vector<json>& unordered,
                         const std::string& dir, SweepSummary& summary) {
  std::vector<std::reference_wrapper<const json>> lines(unordered.begin(), unordered.end());
  std::sort(lines.begin(), lines.end(), [](const json& a, const json& b) {
    return a.at("index").get<std::size_t>() < b.at("index").get<std::size_t>();
  });
  {
    std::string text;
    for (const json& l : lines) text += point_line_text(l) + "\n";
    write_file_atomic(dir + "/" + kPoints, text);
  }
  // results.csv
  std::ostringstream csv;
  csv << "index,key";
  for (const auto& a : spec.axes) csv << ',' << csv_escape(a.name);
  csv << ",status";
  for (const char* c : kResultColumns) csv << ',' << c;
  csv << ",error\n";
  std::size_t errors = 0;
  for (const json& l : lines) {
    csv << l.at("index").get<std::size_t>() << ',' << l.at("key").get<std::string>();
    const json& in = l.at("inputs");
    for (const auto& a : spec.axes) csv << ',' << csv_value(in.value(a.name, json()));
    const bool ok = l.at("status") == "ok";
    if (!ok) ++errors;
    csv << ',' << l.at("status").get<std::string>();
    for (const char* c : kResultColumns)
      csv << ',' << (ok && l.at("results").contains(c) ? csv_value(l.at("results").at(c)) : "");
    csv << ',' << (ok ? "" : csv_escape(l.value("error", ""))) << '\n';
  }
  write_file_atomic(dir + "/results.csv", csv.str());

  // Pareto summary: points no other point beats (<= everywhere, < somewhere).
  const std::vector<std::string> obj = objectives(unordered);
  std::vector<const json*> ok;
  for (const json& l : lines)
    if (l.at("status") == "ok") {
      bool has_all = true;
      for (const auto& o : obj) has_all = has_all && l.at("results").contains(o);
      if (has_all) ok.push_back(&l);
    }
  std::vector<std::vector<double>> val(ok.size(), std::vector<double>(obj.size()));
  for (std::size_t i = 0; i < ok.size(); ++i)
    for (std::size_t k = 0; k < obj.size(); ++k) val[i][k] = ok[i]->at("results").at(obj[k]).get<double>();
  // Sort by the objectives lexicographically; a point can only be dominated by an earlier one.
  std::vector<std::size_t> order(ok.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (val[a] != val[b]) return val[a] < val[b];
    return a < b;
  });
  std::vector<std::size_t> front;
  for (std::size_t i : order) {
    bool dominated = false;
    for (std::size_t j : front) {
      bool le = true, lt = false;
      for (std::size_t k = 0; k < obj.size(); ++k) {
        le = le && val[j][k] <= val[i][k];
        lt = lt || val[j][k] < val[i][k];
      }
      if (le && (lt || val[j] == val[i])) {  // equal points: keep the first (lowest index)
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(i);
  }
  std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
    return ok[a]->at("index").get<std::size_t>() < ok[b]->at("index").get<std::size_t>();
  });
  std::ostringstream pc;
  pc << "index,key";
  for (const auto& a : spec.axes) pc << ',' << csv_escape(a.name);
  for (const auto& o : obj) pc << ',' << o;
  pc << '\n';
  json pj;
  pj["objectives"] = obj;
  pj["minimized"] = true;
  pj["points_considered"] = ok.size();
  json pts = json::array();
  for (std::size_t i : front) {
    const json& l = *ok[i];
    pc << l.at("index").get<std::size_t>() << ',' << l.at("key").get<std::string>();
    for (const auto& a : spec.axes) pc << ',' << csv_value(l.at("inputs").value(a.name, json()));
    json pv{{"index", l.at("index")}, {"key", l.at("key")}, {"inputs", l.at("inputs")}};
    for (std::size_t k = 0; k < obj.size(); ++k) {
      pc << ',' << csv_value(json(val[i][k]));
      pv[obj[k]] = val[i][k];
    }
    pc << '\n';
    pts.push_back(pv);
  }
  pj["front"] = pts;
  write_file_atomic(dir + "/pareto.csv", pc.str());
  write_file_atomic(dir + "/pareto.json", pj.dump(2) + "\n");
  summary.errors = errors;
  summary.pareto = front.size();
}

std::string default_out_dir(const SweepSpec& spec, const sweep::Shard& shard) {
  std::string d = "results/sweeps/" + spec.name;
  if (shard.count > 1)
    d += "/shard-" + std::to_string(shard.index + 1) + "-of-" + std::to_string(shard.count);
  return d;
}

namespace {

// Reads points.jsonl: complete lines of this sweep. A last line without its newline (the point
// being written when the process died) is dropped and the file truncated to the good prefix;
// anything else unreadable is an error (never silently discarded).
std::vector<json> read_points(const std::string& path, const std::vector<Point>& points,
                              bool repair, const ProgressSink& log = nullptr) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<json> lines;
  std::size_t pos = 0, good = 0, lineno = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    ++lineno;
    if (nl == std::string::npos) break;  // torn last line
    const std::string s = text.substr(pos, nl - pos);
    json j;
    try {
      j = JsonDoc::parse(s, path).root();
    } catch (const SpecError&) {
      throw SpecError(path, "line " + std::to_string(lineno), "a JSON object per line (a point of this sweep)",
                      describe_json(json(s.substr(0, 60))));
    }
    if (!j.is_object() || !j.contains("index") || !j.contains("key") || !j.at("index").is_number_unsigned())
      throw SpecError(path, "line " + std::to_string(lineno), "a point with \"index\" and \"key\"", describe_json(j));
    const std::size_t idx = j.at("index").get<std::size_t>();
    if (idx >= points.size() || points[idx].key != j.at("key").get<std::string>())
      throw SpecError(path, "line " + std::to_string(lineno),
                      "a point of this sweep (index < " + std::to_string(points.size()) + " with its key)",
                      "index " + std::to_string(idx) + " key " + j.at("key").dump());
    const std::string sum = json_checksum(j, kLineChecksum);
    if (!j.contains(kLineChecksum) || j.at(kLineChecksum) != sum)
      throw SpecError(path, "line " + std::to_string(lineno),
                      std::string("a point whose \"") + kLineChecksum + "\" is \"" + sum + "\" (the checksum of its content)",
                      j.contains(kLineChecksum) ? j.at(kLineChecksum).dump() + ": the line was changed or corrupted"
                                                : std::string("no checksum"));
    j.erase(kLineChecksum);
    lines.push_back(std::move(j));
    pos = nl + 1;
    good = pos;
  }
  if (good < text.size() && repair) {
    if (log)
      log("sweep: dropping a torn last line of " + path + " (" + std::to_string(text.size() - good) +
              " bytes; that point runs again)",
          false);
    if (::truncate(path.c_str(), static_cast<off_t>(good)) != 0)
      throw WriteError(path, std::string("cannot truncate: ") + std::strerror(errno));
  }
  return lines;
}

class Progress {
 public:
  Progress(std::size_t total, std::size_t done, ProgressSink sink)
      : total_(total), done_(done), base_(done), sink_(std::move(sink)) {
    start_ = std::chrono::steady_clock::now();
    last_ = start_ - std::chrono::hours(1);
  }
  void tick(std::size_t done) {
    done_ = done;
    if (!sink_) return;
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() < kTransientSeconds) return;
    last_ = now;
    print(false);
  }
  void end() {
    if (sink_) print(true);
  }

 private:
  void print(bool final) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = t > 0 ? double(done_ - base_) / t : 0;
    const double eta = rate > 0 ? double(total_ - done_) / rate : 0;
    const int width = 30;
    const int fill = total_ ? int(double(width) * double(done_) / double(total_)) : width;
    char buf[200];
    std::snprintf(buf, sizeof buf, "sweep [%s%s] %zu/%zu points  %.1f points/s  ETA %.0f s",
                  std::string(std::size_t(fill), '#').c_str(), std::string(std::size_t(width - fill), '.').c_str(),
                  done_, total_, rate, eta);
    sink_(buf, !final);
  }
  std::size_t total_, done_, base_;
  ProgressSink sink_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& opt, LineExchange* exchange) {
  LineExchange single;
  LineExchange& ex = exchange ? *exchange : single;
  const auto t0 = std::chrono::steady_clock::now();
  SweepSummary sum;
  Participation part = opt.part;
  part.rank = ex.rank();
  part.ranks = ex.size();
  const bool root = part.rank == 0;
  sum.out_dir = opt.out_dir.empty() ? default_out_dir(spec, part.shard) : opt.out_dir;
  const std::string man_path = sum.out_dir + "/" + kManifest;
  const std::string pts_path = sum.out_dir + "/" + kPoints;

  const std::vector<Point> points = sweep::enumerate_points(spec, &sum.discarded);
  std::vector<std::size_t> slice;  // this shard's points (all ranks)
  for (const auto& p : points)
    if (part.shard.contains(p.index)) slice.push_back(p.index);
  sum.total = slice.size();

  std::vector<json> done_lines;
  std::vector<std::size_t> done;
  int setup_ok = 1;
  std::string setup_error;
  if (root) {
    try {
      make_dirs(sum.out_dir);
      if (file_exists(pts_path) || file_exists(man_path)) {
        if (opt.force) {
          std::remove(pts_path.c_str());
        } else if (!opt.resume) {
          throw UsageError(sum.out_dir + " already holds a sweep's output: pass --resume to continue it "
                                         "or --force to start over");
        } else {
          if (file_exists(man_path)) {
            const json m = JsonDoc::load(man_path).root();
            if (m.value("sweep_hash", "") != spec.hash ||
                m.value("shard", json::object()).value("count", 1) != part.shard.count ||
                m.value("shard", json::object()).value("index", 1) != part.shard.index + 1)
              throw UsageError("--resume: " + sum.out_dir + " holds the output of another sweep or shard (hash " +
                               m.value("sweep_hash", "?") + ", this sweep " + spec.hash +
                               "); use another --out or --force");
          }
          done_lines = read_points(pts_path, points, true, opt.progress);
          std::set<std::size_t> seen;
          for (const auto& l : done_lines) {
            const std::size_t i = l.at("index").get<std::size_t>();
            if (!part.shard.contains(i) || !seen.insert(i).second)
              throw SpecError(pts_path, "", "each point of this shard at most once",
                              "point " + std::to_string(i) + " twice or from another shard");
            done.push_back(i);
          }
        }
      }
      json m = manifest_json(spec, part.shard, slice.size(), sum.discarded);
      m["status"] = "running";
      write_file_atomic(man_path, m.dump(2) + "\n");
    } catch (const std::exception& e) {
      setup_ok = 0;
      setup_error = e.what();
      if (ex.size() == 1) throw;
    }
  }
  // Every rank learns which points are done (and whether rank 0 could start at all).
  {
    std::vector<std::size_t> shared = done;
    shared.push_back(static_cast<std::size_t>(setup_ok));
    ex.share_done(shared);
    setup_ok = static_cast<int>(shared.back());
    shared.pop_back();
    done = shared;
  }
  if (!setup_ok) {
    if (root) throw UsageError(setup_error);
    throw UsageError("rank 0 could not start the sweep");
  }
  sum.skipped = done.size();
  const std::set<std::size_t> done_set(done.begin(), done.end());

  std::vector<std::size_t> mine;  // this rank's pending points
  for (std::size_t i : slice)
    if (!done_set.count(i) && part.owns(i)) mine.push_back(i);

  const PointEvaluator eval(spec);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<json, std::string>> finished;  // a point and its line
  std::atomic<std::size_t> next{0};
  int active = std::max(1, opt.jobs);
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, opt.jobs); ++t)
    workers.emplace_back([&]() {
      for (;;) {
        const std::size_t k = next.fetch_add(1);
        if (k >= mine.size()) break;
        json line = eval.evaluate(points[mine[k]]);
        std::string text = point_line_text(line);  // serialized here, in parallel, not by the writer
        std::lock_guard<std::mutex> lk(mu);
        finished.emplace_back(std::move(line), std::move(text));
        cv.notify_one();
      }
      std::lock_guard<std::mutex> lk(mu);
      --active;
      cv.notify_one();
    });

  std::FILE* out = nullptr;
  if (root) {
    out = std::fopen(pts_path.c_str(), "ab");
    if (!out) throw WriteError(pts_path, std::strerror(errno));
  }
  Progress progress(slice.size(), done.size(), root ? opt.progress : nullptr);
  std::size_t written = 0;
  bool remote_open = root && ex.size() > 1;  // rank 0 still expects lines from workers
  std::vector<std::string> incoming;
  // Lines are written as they arrive and flushed once per batch (a crash loses only the
  // points not yet handed to the OS: those in flight).
  auto write_line = [&](json line, const std::string& text) {
    line.erase(kLineChecksum);
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fputc('\n', out) == EOF)
      throw WriteError(pts_path, std::strerror(errno));
    done_lines.push_back(std::move(line));
    ++written;
  };
  auto flush = [&]() {
    if (std::fflush(out) != 0) throw WriteError(pts_path, std::strerror(errno));
    progress.tick(done.size() + written);
  };
  for (;;) {
    std::deque<std::pair<json, std::string>> batch;
    bool locals_done = false;
    {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait_for(lk, std::chrono::milliseconds(remote_open ? 2 : 200),
                  [&]() { return !finished.empty() || active == 0; });
      batch.swap(finished);
      locals_done = active == 0 && finished.empty();
    }
    for (auto& l : batch) {
      if (root)
        write_line(std::move(l.first), l.second);
      else
        ex.send(l.second);
    }
    if (root && !batch.empty()) flush();
    if (root && remote_open) {
      incoming.clear();
      remote_open = ex.receive(incoming);
      for (auto& l : incoming) write_line(JsonDoc::parse(l, pts_path + " (a line from an MPI rank)").root(), l);
      if (!incoming.empty()) flush();
    }
    if (locals_done && batch.empty() && !remote_open) break;
  }
  for (auto& w : workers) w.join();
  if (!root) {
    ex.finish();
    ex.barrier();
    sum.evaluated = mine.size();
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return sum;
  }
  std::fclose(out);
  progress.end();
  sum.evaluated = written;
  sum.complete = done_lines.size() == slice.size();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  json m = manifest_json(spec, part.shard, slice.size(), sum.discarded);
  if (sum.complete) {
    write_final_outputs(spec, done_lines, sum.out_dir, sum);
    m["status"] = "complete";
  } else {
    m["status"] = "interrupted";
  }
  m["points_done"] = done_lines.size();
  m["errors"] = sum.errors;
  m["pareto_points"] = sum.pareto;
  m["last_run"] = {{"jobs", opt.jobs}, {"ranks", ex.size()}, {"evaluated", written},
                   {"skipped", sum.skipped}, {"seconds", sum.seconds}};
  write_file_atomic(man_path, m.dump(2) + "\n");
  ex.barrier();
  return sum;
}

SweepSummary merge_shards(const std::vector<std::string>& dirs, const std::string& out_dir,
                          const ProgressSink& progress) {
  if (dirs.empty()) throw UsageError("merge: give the shard output directories");
  std::string hash, sweep_file;
  int count = 0;
  std::set<int> have;
  std::vector<json> manifests;
  for (const auto& d : dirs) {
    const std::string mp = d + "/" + kManifest;
    if (!file_exists(mp)) throw UsageError("merge: " + d + " has no " + kManifest + " (not a sweep output)");
    json m = JsonDoc::load(mp).root();
    const std::string h = m.value("sweep_hash", "");
    const int c = m.value("shard", json::object()).value("count", 0);
    const int i = m.value("shard", json::object()).value("index", 0);
    if (hash.empty()) {
      hash = h;
      count = c;
      sweep_file = m.value("sweep_file", "");
    } else if (h != hash || c != count) {
      throw UsageError("merge: " + d + " is from another sweep or sharding (hash " + h + ", " +
                       std::to_string(c) + " shards; expected " + hash + ", " + std::to_string(count) + ")");
    }
    if (!have.insert(i).second) throw UsageError("merge: shard " + std::to_string(i) + " given twice");
    if (m.value("status", "") != "complete")
      throw UsageError("merge: shard " + std::to_string(i) + "/" + std::to_string(c) + " in " + d +
                       " is not complete (status " + m.value("status", "?") + "); resume it first");
    manifests.push_back(m);
  }
  if (static_cast<int>(have.size()) != count) {
    std::string missing;
    for (int i = 1; i <= count; ++i)
      if (!have.count(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    throw UsageError("merge: shards missing: " + missing + " of " + std::to_string(count));
  }
  // The sweep file defines the columns and the point list; it must still hash the same.
  const SweepSpec spec = sweep::load_sweep(sweep_file);
  if (spec.hash != hash)
    throw UsageError("merge: " + sweep_file + " changed since the shards ran (hash " + spec.hash +
                     ", shards " + hash + ")");
  std::size_t discarded = 0;
  const std::vector<Point> points = sweep::enumerate_points(spec, &discarded);
  std::vector<json> lines;
  for (const auto& d : dirs) {
    auto l = read_points(d + "/" + kPoints, points, false);
    lines.insert(lines.end(), l.begin(), l.end());
  }
  std::set<std::size_t> seen;
  for (const auto& l : lines)
    if (!seen.insert(l.at("index").get<std::size_t>()).second)
      throw UsageError("merge: point " + l.at("index").dump() + " appears in two shards");
  if (lines.size() != points.size())
    throw UsageError("merge: the shards hold " + std::to_string(lines.size()) + " of " +
                     std::to_string(points.size()) + " points");
  SweepSummary sum;
  sum.out_dir = out_dir.empty() ? default_out_dir(spec, sweep::Shard{}) : out_dir;
  make_dirs(sum.out_dir);
  sum.total = points.size();
  sum.complete = true;
  write_final_outputs(spec, lines, sum.out_dir, sum);
  sum.discarded = discarded;
  json m = manifest_json(spec, sweep::Shard{}, points.size(), discarded);
  m["status"] = "complete";
  m["points_done"] = lines.size();
  m["errors"] = sum.errors;
  m["pareto_points"] = sum.pareto;
  m["merged_from"] = dirs;
  write_file_atomic(sum.out_dir + "/" + kManifest, m.dump(2) + "\n");
  if (progress)
    progress("merge: " + std::to_string(dirs.size()) + " shards, " + std::to_string(lines.size()) + " points -> " +
                 sum.out_dir,
             false);
  return sum;
}

}  // namespace mixprec::pipeline
