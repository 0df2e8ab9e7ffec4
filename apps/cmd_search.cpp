// `mixprec search FILE`: price every (layer, option) once into a cost table, read the
// sensitivity table, and pick per-layer precisions under the scenario's budgets with the exact
// solver; the baselines (uniform, greedy, random, evolutionary) run on the same tables.
#include <cmath>
#include <iostream>
#include <sstream>

#include "apps/common.hpp"
#include "apps/registry.hpp"
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
  std::string format = "table";
  std::string out;
} g;

bool same_option(const LayerPrecision& a, const LayerPrecision& b) {
  return a.format == b.format && a.weights().bits == b.weights().bits &&
         a.activations().bits == b.activations().bits;
}

std::vector<int> match_layers(const Network& net, const std::string& pattern) {
  std::vector<int> out;
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    if (glob_match(pattern, net.layers[i].name)) out.push_back(int(i));
  return out;
}

json solution_json(const search::Problem& p, const search::Solution& s, double base_uj) {
  const double e_uj = s.cost[search::kEnergy] * 1e-6;
  return json{{"method", s.method},
              {"feasible", s.feasible},
              {"energy_uj", e_uj},
              {"latency_ms", s.cost[search::kCycles] / (p.clock_mhz * 1e3)},
              {"size_bytes", s.cost[search::kSize]},
              {"sensitivity", s.sensitivity},
              {"saving_percent", base_uj > 0 ? 100.0 * (base_uj - e_uj) / base_uj : 0.0},
              {"evaluations", s.evaluations}};
}

int run() {
  Scenario sc = load_scenario(g.file);
  if (g.budget >= 0) {
    if (!(g.budget > 0 && g.budget <= 1)) throw UsageError("--budget must be in (0, 1], found " + std::to_string(g.budget));
    sc.constraints.energy.fraction = g.budget;
    sc.constraints.energy.energy_uj.reset();
  }
  if (g.sensitivity.empty())
    throw UsageError("search needs a sensitivity table: pass --sensitivity FILE "
                     "(format: search/io.hpp, \"mixprec_sensitivity\": 1)");
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, sc.file);
  const sim::AnalyticalEngine eng(sc.hardware, em);

  // Candidate options; fixed layers keep their scenario precision (added as an option if new).
  LayerPrecision base;
  sc.precision.defaults.apply_to(base);
  std::vector<LayerPrecision> options = sim::candidate_options(sc.search, base);
  search::Rules rules;
  std::vector<int> default_option(sc.net.layers.size(), 0);
  for (const auto& pat : sc.search.fixed_layers)
    for (int l : match_layers(sc.net, pat)) rules.fixed_layers.push_back(l);
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
    int idx = -1;
    for (std::size_t o = 0; o < options.size(); ++o)
      if (same_option(options[o], sc.layer_precision[l])) idx = int(o);
    bool fixed = false;
    for (int f : rules.fixed_layers) fixed = fixed || f == int(l);
    if (idx < 0 && fixed) {
      options.push_back(sc.layer_precision[l]);
      idx = int(options.size()) - 1;
    }
    default_option[l] = std::max(idx, 0);
  }
  for (const auto& tie : sc.search.ties) {
    std::vector<int> members;
    for (const auto& pat : tie)
      for (int l : match_layers(sc.net, pat)) members.push_back(l);
    rules.ties.push_back(members);
  }
  for (const auto& r : sc.search.rules)
    for (int l : match_layers(sc.net, r.match))
      rules.bit_limits.push_back({l, r.min_weight_bits, r.max_weight_bits, r.min_activation_bits, r.max_activation_bits});

  const sim::CostTable table = sim::build_cost_table(eng, sc.net, options, sc.phase);
  const search::SensitivityTable sens = search::load_sensitivity(g.sensitivity, sc.net, options);
  const search::Problem prob = search::make_problem(table, sens, sc.net, rules, default_option);

  // Budgets: energy against the named uniform baseline (same hardware and engine) or absolute.
  double base_uj = 0;
  for (const auto& b : sim::standard_baselines())
    if (sc.constraints.energy.baseline == b.name) {
      std::vector<LayerPrecision> uni(sc.net.layers.size(), b.precision);
      base_uj = eng.network_cost(sc.net, uni, sc.phase).energy_uj;
    }
  search::Budget budget;
  if (sc.constraints.energy.energy_uj)
    budget.limit[search::kEnergy] = *sc.constraints.energy.energy_uj * 1e6;
  else if (sc.constraints.energy.fraction)
    budget.limit[search::kEnergy] = *sc.constraints.energy.fraction * base_uj * 1e6;
  if (sc.constraints.latency_ms) budget.limit[search::kCycles] = *sc.constraints.latency_ms * sc.hardware.clock_mhz * 1e3;
  if (sc.constraints.model_size_kib) budget.limit[search::kSize] = *sc.constraints.model_size_kib * 1024.0;

  search::ExactResult exact = search::solve_exact(prob, budget);
  search::Budget front_budget = budget;
  front_budget.limit[search::kEnergy] = std::numeric_limits<double>::infinity();
  search::ExactResult front = search::solve_exact(prob, front_budget);
  std::vector<search::Solution> baselines{
      search::solve_uniform(prob, budget), search::solve_greedy(prob, budget),
      search::solve_random(prob, budget, sc.search.baseline_evaluations, std::uint64_t(sc.search.seed)),
      search::solve_evolutionary(prob, budget, sc.search.baseline_evaluations, std::uint64_t(sc.search.seed))};
  search::Solution chosen = exact.best;
  for (const auto& b : baselines)
    if (b.method == sc.search.solver) chosen = b;
  if (!chosen.feasible)
    throw SpecError(sc.file, "/constraints", "a budget that some configuration meets",
                    "none of the candidate options fits it (solver " + sc.search.solver + ")");

  // Outputs.
  std::vector<LayerPrecision> chosen_prec(sc.net.layers.size());
  for (std::size_t l = 0; l < chosen_prec.size(); ++l) {
    chosen_prec[l] = sc.layer_precision[l];
    const LayerPrecision& o = options[chosen.option_of_layer[l]];
    chosen_prec[l].format = o.format;
    chosen_prec[l].weight_bits = o.weight_bits;
    chosen_prec[l].recurrent_weight_bits = o.recurrent_weight_bits;
    chosen_prec[l].activation_bits = o.activation_bits;
    chosen_prec[l].output_bits = o.output_bits;
  }
  json j;
  j["scenario"] = sc.name;
  j["solver"] = sc.search.solver;
  j["sensitivity_method"] = sens.method;
  j["sensitivity_file"] = g.sensitivity;
  j["budget"] = {{"energy_uj", budget.active(search::kEnergy) ? json(budget.limit[search::kEnergy] * 1e-6) : json(nullptr)},
                 {"baseline", sc.constraints.energy.baseline},
                 {"baseline_energy_uj", base_uj},
                 {"latency_ms", sc.constraints.latency_ms ? json(*sc.constraints.latency_ms) : json(nullptr)},
                 {"model_size_kib", sc.constraints.model_size_kib ? json(*sc.constraints.model_size_kib) : json(nullptr)}};
  json chosen_j = solution_json(prob, chosen, base_uj);
  json layers = json::array();
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
    const int o = chosen.option_of_layer[l];
    const sim::CostEntry& e = table.at(l, o);
    json lj = layer_precision_to_json(chosen_prec[l], sc.net.layers[l].kind == LayerKind::Lstm);
    lj["name"] = sc.net.layers[l].name;
    lj["energy_uj"] = e.energy_pj * 1e-6;
    lj["latency_ms"] = e.cycles / (sc.hardware.clock_mhz * 1e3);
    lj["size_bytes"] = e.weight_bytes;
    lj["sensitivity"] = sens.at(l, o);
    layers.push_back(lj);
  }
  chosen_j["layers"] = layers;
  j["chosen"] = chosen_j;
  json pareto = json::array();
  std::ostringstream csv;
  csv << "energy_uj,latency_ms,size_bytes,sensitivity,saving_percent\n";
  for (const auto& pt : front.front) {
    const double e_uj = pt.cost[search::kEnergy] * 1e-6;
    const double lat = pt.cost[search::kCycles] / (sc.hardware.clock_mhz * 1e3);
    const double save = base_uj > 0 ? 100.0 * (base_uj - e_uj) / base_uj : 0.0;
    pareto.push_back({{"energy_uj", e_uj}, {"latency_ms", lat}, {"size_bytes", pt.cost[search::kSize]},
                      {"sensitivity", pt.sensitivity}, {"saving_percent", save}});
    csv << e_uj << ',' << lat << ',' << pt.cost[search::kSize] << ',' << pt.sensitivity << ',' << save << '\n';
  }
  j["pareto"] = pareto;
  json bj = json::object();
  bj["exact"] = solution_json(prob, exact.best, base_uj);
  for (const auto& b : baselines) bj[b.method] = solution_json(prob, b, base_uj);
  j["solvers"] = bj;
  j["exact_stats"] = {{"states", exact.states}, {"max_front", exact.max_front}, {"pareto_points", front.front.size()}};
  j["manifest"] = make_manifest(g.file, 1);

  const std::string dir = g.out.empty() ? sc.report.out_dir + "/" + sc.name + "/search" : g.out;
  make_dirs(dir);
  write_file_atomic(dir + "/precision.json", precision_to_json(sc.net, chosen_prec).dump(2) + "\n");
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
  t << "mixprec search: " << sc.name << " (solver " << sc.search.solver << ", sensitivity " << sens.method << ")\n";
  std::snprintf(line, sizeof line, "%-34s %-14s %12s %10s %10s %12s\n", "layer", "bits", "energy uJ", "latency ms", "size B", "sensitivity");
  t << line;
  for (const auto& lj : layers) {
    std::snprintf(line, sizeof line, "%-34s %-14s %12.4f %10.5f %10.0f %12.5g\n", lj["name"].get<std::string>().c_str(),
                  sim::precision_label(chosen_prec[&lj - &layers[0]], false).c_str(), lj["energy_uj"].get<double>(),
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
  s->add_option("--format", g.format, "Output format")->check(CLI::IsMember({"table", "json"}));
  s->add_option("--out", g.out, "Output directory (default results/<scenario>/search)");
}

const CommandRegistrar reg("search", setup, run);

}  // namespace
}  // namespace mixprec::app
