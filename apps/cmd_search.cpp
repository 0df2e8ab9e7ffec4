// `mixprec search FILE`: price every (layer, option) once into a cost table, get the
// sensitivity table, and pick per-layer precisions under the scenario's budgets with the exact
// solver; the baselines (uniform, greedy, random, evolutionary) run on the same tables.
//
//   mixprec search FILE [--budget F] [--format table|json] [--out DIR]
//                       [--sensitivity S.json | --checkpoint C [--method hessian|measured]
//                        [--threads N] [--synthetic N] [--samples N] [--no-cache]]
//
// Sensitivities: a table file (--sensitivity), or computed from a checkpoint (--checkpoint C,
// default <report.out_dir>/<scenario>-train/best.ckpt when it exists, else the weights of the
// ONNX file of `network: {"onnx": ...}`) by the scenario's
// search.sensitivity method or --method, cached next to the checkpoint
// (pipeline/sensitivity_run.hpp). search.json says which method fed the solver and where the table
// came from.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/progress.hpp"
#include "pipeline/search_run.hpp"
#include "pipeline/sensitivity_run.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "search/io.hpp"
#include "search/solver.hpp"
#include "sim/analytical.hpp"
#include "sim/cost_json.hpp"
#include "sim/cost_table.hpp"

namespace mixprec::app {
namespace {

struct SearchOpts {
  std::string file;
  double budget = -1;  // fraction of the baseline energy; < 0: the scenario's constraint
  std::string sensitivity;
  std::string checkpoint;
  std::string method;  // "": the scenario's search.sensitivity
  int threads = 1;
  int synthetic = 0;
  int samples = 0;
  bool no_cache = false;
  std::string format = "table";
  std::string out;
  // Options that only apply when sensitivities are computed (given explicitly?).
  CLI::Option *threads_opt = nullptr, *synthetic_opt = nullptr, *samples_opt = nullptr, *no_cache_opt = nullptr;
} g;

// Where the sensitivity table came from, for search.json and the table header.
struct SensitivitySource {
  search::SensitivityTable table;
  json info;
  std::string label;
};

SensitivitySource get_sensitivity(const Scenario& sc, const std::vector<LayerPrecision>& options) {
  SensitivitySource src;
  if (!g.sensitivity.empty() && !g.checkpoint.empty())
    throw UsageError("give either --sensitivity FILE or --checkpoint C, not both");
  if (!g.sensitivity.empty()) {
    for (const CLI::Option* o : {g.threads_opt, g.synthetic_opt, g.samples_opt, g.no_cache_opt})
      if (o && o->count() > 0)
        throw UsageError(o->get_name() + " applies only when sensitivities are computed from a checkpoint, "
                         "not with --sensitivity");
    src.table = search::load_sensitivity(g.sensitivity, sc.net, options, sc.search.ranks);
    SensitivityRequest wanted;
    set_method(wanted, g.method);
    if (!g.method.empty() && src.table.method != wanted.method)
      throw SpecError(g.sensitivity, "/method", "sensitivities by method \"" + g.method + "\" (--method)",
                      "\"" + src.table.method + "\"");
    src.info = {{"method", src.table.method}, {"source", "file"}, {"file", g.sensitivity},
                {"checkpoint", src.table.checkpoint.empty() ? json(nullptr) : json(src.table.checkpoint)}};
    src.label = src.table.method + " from " + g.sensitivity;
    return src;
  }
  SensitivityRequest req;
  req.log = stderr_progress();
  set_method(req, g.method.empty() ? sc.search.sensitivity : g.method);
  req.checkpoint = g.checkpoint;
  if (req.checkpoint.empty()) {
    req.checkpoint = sc.report.out_dir + "/" + sc.name + "-train/best.ckpt";
    if (!std::ifstream(req.checkpoint).good() && !sc.network.onnx_path.empty()) {
      // `network: {"onnx": ...}` and nothing trained yet: the ONNX file's own (pretrained) weights.
      std::cerr << "sensitivity: no checkpoint at " << req.checkpoint << "; using the weights of "
                << sc.network.onnx_path << "\n";
      req.checkpoint = sc.network.onnx_path;
    }
    if (!std::ifstream(req.checkpoint).good())
      throw UsageError("search needs sensitivities and there is no checkpoint at " + req.checkpoint +
                       ": train one with `mixprec train " + g.file + "`, or pass --checkpoint C or --sensitivity S.json");
  }
  req.threads = g.threads;
  req.synthetic = g.synthetic;
  req.samples = g.samples;
  req.use_cache = !g.no_cache;
  if (req.use_cache && std::ifstream(req.checkpoint).good())
    std::cerr << "sensitivity: " << req.method << " from " << req.checkpoint << " (cache "
              << sensitivity_cache_path(sc, options, req) << ")\n";
  SensitivityResult r = compute_sensitivity(sc, options, req);
  char took[64];
  std::snprintf(took, sizeof took, "computed in %.1f s", r.compute_seconds);
  std::cerr << "sensitivity: " << (r.from_cache ? std::string("reused the cache") : std::string(took)) << "\n";
  src.table = std::move(r.table);
  src.info = {{"method", src.table.method},
              {"source", r.from_cache ? "cache" : "computed"},
              {"file", r.cache_path.empty() ? json(nullptr) : json(r.cache_path)},
              {"checkpoint", req.checkpoint},
              {"checkpoint_hash", src.table.checkpoint_hash},
              {"cache_status", r.cache_status},
              {"compute_seconds", r.compute_seconds},
              {"settings", r.settings}};
  src.label = src.table.method + (r.from_cache ? " from cache " + r.cache_path
                                               : " computed from " + req.checkpoint +
                                                     (r.cache_path.empty() ? "" : ", cached at " + r.cache_path));
  return src;
}

json solution_json(const search::Problem& p, const search::Solution& s, double base_uj) {
  json j = cost_summary(p, s.cost, s.sensitivity, base_uj);
  j["method"] = s.method;
  j["feasible"] = s.feasible;
  j["evaluations"] = s.evaluations;
  return j;
}

int run() {
  Scenario sc = load_scenario(g.file);
  if (g.budget >= 0) {
    if (!(g.budget > 0 && g.budget <= 1)) throw UsageError("--budget must be in (0, 1], found " + std::to_string(g.budget));
    sc.constraints.energy.fraction = g.budget;
    sc.constraints.energy.energy_uj.reset();
  }
  // Options, rules, the cost table and the baseline's energy (pipeline/search_run.hpp).
  const SearchSetup setup = prepare_search(sc);
  const std::vector<LayerPrecision>& options = setup.options;
  const sim::CostTable& table = setup.table;
  const SensitivitySource sens_src = get_sensitivity(sc, options);
  const search::SensitivityTable& sens = sens_src.table;
  const std::string sens_file = sens_src.info["file"].is_string() ? sens_src.info["file"].get<std::string>() : "";
  const SearchOutcome outcome = solve_search(sc, setup, sens, sens_file);
  const search::Problem& prob = outcome.problem;
  const double base_uj = setup.baseline_energy_uj;
  const search::Budget& budget = outcome.budget;
  const search::ExactResult& exact = outcome.exact;
  const search::ExactResult& front = outcome.front;
  const std::vector<search::Solution>& baselines = outcome.baselines;
  const search::Solution& chosen = outcome.chosen;

  // Outputs.
  const std::vector<LayerPrecision> chosen_prec = chosen_precision(sc, setup, chosen);
  const std::vector<Factorization> chosen_f = chosen_factorization(sc, chosen);
  // A layer's cost and sensitivity at the chosen option: its rank candidate's, if it has them.
  auto chosen_cost = [&](std::size_t l) -> std::pair<const sim::CostEntry*, double> {
    const int o = chosen.option_of_layer[l];
    for (const search::RankChoice& rc : prob.rank_choices)
      if (rc.layer == int(l)) {
        const std::size_t v = size_t(chosen.variant_of_layer[l]);
        return {&rc.cost[v][size_t(o)], rc.sensitivity[v][size_t(o)]};
      }
    return {&table.at(l, size_t(o)), sens.at(l, size_t(o))};
  };
  json j;
  j["scenario"] = sc.name;
  j["solver"] = sc.search.solver;
  j["sensitivity_method"] = sens.method;
  j["sensitivity_file"] = sens_src.info["file"];
  j["sensitivity"] = sens_src.info;
  j["budget"] = {{"energy_uj", budget.active(search::kEnergy) ? json(budget.limit[search::kEnergy] * 1e-6) : json(nullptr)},
                 {"baseline", sc.constraints.energy.baseline},
                 {"baseline_energy_uj", base_uj},
                 {"latency_ms", sc.constraints.latency_ms ? json(*sc.constraints.latency_ms) : json(nullptr)},
                 {"model_size_kib", sc.constraints.model_size_kib ? json(*sc.constraints.model_size_kib) : json(nullptr)}};
  json chosen_j = solution_json(prob, chosen, base_uj);
  json layers = json::array();
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
    const auto [entry, sensitivity] = chosen_cost(l);
    const sim::CostEntry& e = *entry;
    json lj = layer_precision_to_json(chosen_prec[l], is_recurrent(sc.net.layers[l].kind));
    lj["name"] = sc.net.layers[l].name;
    if (chosen.variant_of_layer[l] >= 0) {
      lj["ranks"] = ranks_to_json(chosen_f[l]);
      lj["parameters"] = make_tensor_network(chosen_f[l]).parameter_count();
    }
    lj["energy_uj"] = e.energy_pj * 1e-6;
    lj["latency_ms"] = e.cycles / (sc.hardware.clock_mhz * 1e3);
    lj["size_bytes"] = e.weight_bytes;
    lj["sensitivity"] = sensitivity;
    layers.push_back(lj);
  }
  chosen_j["layers"] = layers;
  j["chosen"] = chosen_j;
  // Rank-searched layers: every candidate at the chosen option (what the rank alone changes).
  json rank_j = json::array();
  for (std::size_t i = 0; i < prob.rank_choices.size(); ++i) {
    const search::RankChoice& rc = prob.rank_choices[i];
    const std::size_t l = size_t(rc.layer), o = size_t(chosen.option_of_layer[l]);
    json cands = json::array();
    for (std::size_t v = 0; v < rc.labels.size(); ++v) {
      const Factorization& f = sc.search.ranks[i].candidates[v];
      cands.push_back({{"ranks", ranks_to_json(f)},
                       {"parameters", make_tensor_network(f).parameter_count()},
                       {"energy_uj", rc.cost[v][o].energy_pj * 1e-6},
                       {"latency_ms", rc.cost[v][o].cycles / (sc.hardware.clock_mhz * 1e3)},
                       {"size_bytes", rc.cost[v][o].weight_bytes},
                       {"sensitivity", rc.sensitivity[v][o]},
                       {"chosen", int(v) == chosen.variant_of_layer[l]}});
    }
    rank_j.push_back({{"layer", sc.net.layers[l].name}, {"option", sim::precision_label(chosen_prec[l], false)},
                      {"candidates", cands}});
  }
  if (!rank_j.empty()) j["rank_candidates"] = rank_j;
  json pareto = json::array();
  std::ostringstream csv;
  csv << "energy_uj,latency_ms,size_bytes,sensitivity,saving_percent\n";
  for (const auto& pt : front.front) {
    json pj = cost_summary(prob, pt.cost, pt.sensitivity, base_uj);
    csv << pj["energy_uj"].get<double>() << ',' << pj["latency_ms"].get<double>() << ','
        << pj["size_bytes"].get<double>() << ',' << pt.sensitivity << ',' << pj["saving_percent"].get<double>() << '\n';
    pareto.push_back(std::move(pj));
  }
  j["pareto"] = pareto;
  json bj = json::object();
  bj["exact"] = solution_json(prob, exact.best, base_uj);
  for (const auto& b : baselines) bj[b.method] = solution_json(prob, b, base_uj);
  j["solvers"] = bj;
  j["exact_stats"] = {{"states", exact.states}, {"max_front", exact.max_front}, {"pareto_points", front.front.size()}};
  j["manifest"] = make_manifest(g.file, g.threads);

  const std::string dir = g.out.empty() ? sc.report.out_dir + "/" + sc.name + "/search" : g.out;
  make_dirs(dir);
  json prec_j = precision_to_json(sc.net, chosen_prec);
  if (!sc.search.ranks.empty()) {
    json r = json::object();
    for (const SearchSpec::RankSearch& rs : sc.search.ranks)
      r[rs.layer] = ranks_to_json(chosen_f[size_t(sc.net.find(rs.layer))]);
    prec_j["ranks"] = r;
  }
  write_file_atomic(dir + "/precision.json", prec_j.dump(2) + "\n");
  write_file_atomic(dir + "/pareto.json", pareto.dump(2) + "\n");
  write_file_atomic(dir + "/pareto.csv", csv.str());
  write_file_atomic(dir + "/search.json", j.dump(2) + "\n");
  std::cerr << "wrote " << dir << "/{precision.json,pareto.json,pareto.csv,search.json}\n";

  if (g.format == "json") {
    emit(j.dump(2) + "\n", "");
    return 0;
  }
  std::ostringstream t;
  char line[256];
  t << "mixprec search: " << sc.name << " (solver " << sc.search.solver << ")\n";
  t << "sensitivity: " << sens_src.label << "\n";
  std::snprintf(line, sizeof line, "%-34s %-14s %12s %10s %10s %12s\n", "layer", "bits", "energy uJ", "latency ms", "size B", "sensitivity");
  t << line;
  for (const auto& lj : layers) {
    const std::size_t l = std::size_t(&lj - &layers[0]);
    std::string bits = sim::precision_label(chosen_prec[l], false);
    if (chosen.variant_of_layer[l] >= 0) bits += " r" + rank_label(chosen_f[l]);
    std::snprintf(line, sizeof line, "%-34s %-14s %12.4f %10.5f %10.0f %12.5g\n", lj["name"].get<std::string>().c_str(),
                  bits.c_str(), lj["energy_uj"].get<double>(),
                  lj["latency_ms"].get<double>(), lj["size_bytes"].get<double>(), lj["sensitivity"].get<double>());
    t << line;
  }
  for (auto it = bj.begin(); it != bj.end(); ++it) {
    const json& s = it.value();
    std::snprintf(line, sizeof line, "%-13s %s energy %10.4f uJ (saving %6.2f%% vs %s), latency %.4f ms, size %.0f B, sensitivity %.6g, %ld evaluations\n",
                  it.key().c_str(), s["feasible"].get<bool>() ? "ok        " : "infeasible", s["energy_uj"].get<double>(),
                  s["saving_percent"].get<double>(), sc.constraints.energy.baseline.c_str(), s["latency_ms"].get<double>(),
                  s["size_bytes"].get<double>(), s["sensitivity"].get<double>(), s["evaluations"].get<long>());
    t << line;
  }
  t << "Pareto front: " << front.front.size() << " points (" << dir << "/pareto.csv)\n";
  emit(t.str(), "");
  return 0;
}

void setup(CLI::App& app) {
  auto* s = app.add_subcommand("search", "Pick per-layer precisions under the scenario's budgets");
  s->add_option("file", g.file, "Scenario JSON file")->required();
  s->add_option("--budget", g.budget, "Energy budget as a fraction of the scenario's baseline (e.g. 0.6)");
  s->add_option("--sensitivity", g.sensitivity, "Sensitivity table JSON (mixprec_sensitivity 1)");
  s->add_option("--checkpoint", g.checkpoint,
                "Compute sensitivities from this checkpoint (default <out_dir>/<scenario>-train/best.ckpt)");
  s->add_option("--method", g.method, "Sensitivity method (default: the scenario's search.sensitivity)")
      ->check(CLI::IsMember({"hessian", "measured", "ggn", "clado", "clado:neighbours"}));
  g.threads_opt = s->add_option("--threads", g.threads, "Threads for computing sensitivities")->check(CLI::PositiveNumber);
  g.synthetic_opt = s->add_option("--synthetic", g.synthetic,
                                  "Sensitivities on the synthetic task of `train --synthetic N`")
                        ->check(CLI::PositiveNumber);
  g.samples_opt = s->add_option("--samples", g.samples,
                                "Validation samples the sensitivities average over (default 64 hessian, 32 measured)")
                      ->check(CLI::PositiveNumber);
  g.no_cache_opt = s->add_flag("--no-cache", g.no_cache, "Neither read nor write the sensitivity cache");
  s->add_option("--format", g.format, "Output format")->check(CLI::IsMember({"table", "json"}));
  s->add_option("--out", g.out, "Output directory (default results/<scenario>/search)");
}

const CommandRegistrar reg("search", setup, run);

}  // namespace
}  // namespace mixprec::app
