#include "pipeline/search_run.hpp"

#include <algorithm>
#include <limits>

#include "core/errors.hpp"
#include "core/precision.hpp"

namespace mixprec::pipeline {

namespace {


std::vector<int> match_layers(const Network& net, const std::string& pattern) {
  std::vector<int> out;
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    if (glob_match(pattern, net.layers[i].name)) out.push_back(int(i));
  return out;
}

}  // namespace

std::vector<LayerPrecision> uniform_precision(const Scenario& sc, const std::string& name) {
  LayerPrecision p;
  if (name == "int4") {
    p = LayerPrecision::uniform(NumFormat::Int, 4);
  } else {
    bool found = false;
    for (const auto& b : sim::standard_baselines())
      if (name == b.name) {
        p = b.precision;
        found = true;
      }
    if (!found)
      throw SpecError(sc.file, "/constraints/energy_budget/baseline",
                      "one of \"int8\", \"int16\", \"fp16\", \"fp32\"", "\"" + name + "\"");
  }
  // The training recipe (gradient bitwidth) is the scenario's, whatever the inference precision.
  std::vector<LayerPrecision> out(sc.net.layers.size(), p);
  for (std::size_t l = 0; l < out.size(); ++l) out[l].gradient_bits = sc.layer_precision[l].gradient_bits;
  return out;
}

std::vector<int> uniform_option_of_layer(const Scenario& sc, const SearchSetup& s, int weight_bits,
                                         int activation_bits) {
  int option = -1;
  for (std::size_t k = 0; k < s.options.size(); ++k)
    if (s.options[k].format == NumFormat::Int && s.options[k].weight_bits == weight_bits &&
        s.options[k].activation_bits == activation_bits)
      option = int(k);
  if (option < 0) return {};
  std::vector<int> out(sc.net.layers.size(), option);
  for (int l : s.rules.fixed_layers) out[size_t(l)] = s.default_option[size_t(l)];
  return out;
}

std::vector<int> option_of_precision(const SearchSetup& s, const std::vector<LayerPrecision>& precision) {
  std::vector<int> out(precision.size(), -1);
  for (std::size_t l = 0; l < precision.size(); ++l) {
    for (std::size_t o = 0; o < s.options.size() && out[l] < 0; ++o)
      if (same_option(s.options[o], precision[l])) out[l] = int(o);
    if (out[l] < 0) return {};
  }
  return out;
}

SearchSetup prepare_search(const Scenario& sc, sim::nest::MapperCache* cache) {
  if (sc.hardware.kind == HardwareKind::Fpga)
    throw SpecError(sc.file, "/hardware/kind",
                    "\"asic\" hardware (precision search prices per-layer options on the systolic-array template)",
                    "\"fpga\"");
  SearchSetup s;
  sim::Pricer eng(sc, cache);
  s.engine = eng.engine_name();
  // Candidate options; fixed layers keep their scenario precision (added as an option if new).
  LayerPrecision base;
  sc.precision.defaults.apply_to(base);
  s.options = sim::candidate_options(sc.search, base);
  s.default_option.assign(sc.net.layers.size(), 0);
  for (const auto& pat : sc.search.fixed_layers)
    for (int l : match_layers(sc.net, pat)) s.rules.fixed_layers.push_back(l);
  for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
    int idx = -1;
    for (std::size_t o = 0; o < s.options.size(); ++o)
      if (same_option(s.options[o], sc.layer_precision[l])) idx = int(o);
    const bool fixed = std::find(s.rules.fixed_layers.begin(), s.rules.fixed_layers.end(),
                                 int(l)) != s.rules.fixed_layers.end();
    if (idx < 0 && fixed) {
      s.options.push_back(sc.layer_precision[l]);
      idx = int(s.options.size()) - 1;
    }
    s.default_option[l] = std::max(idx, 0);
  }
  for (const auto& tie : sc.search.ties) {
    std::vector<int> members;
    for (const auto& pat : tie)
      for (int l : match_layers(sc.net, pat)) members.push_back(l);
    s.rules.ties.push_back(members);
  }
  for (const auto& r : sc.search.rules)
    for (int l : match_layers(sc.net, r.match))
      s.rules.bit_limits.push_back({l, r.min_weight_bits, r.max_weight_bits, r.min_activation_bits,
                                    r.max_activation_bits});
  s.table = sim::build_cost_table(eng, sc.net, s.options, sc.phase);
  for (const SearchSpec::RankSearch& rs : sc.search.ranks) {
    search::RankChoice rc;
    rc.layer = sc.net.find(rs.layer);
    Network vnet = sc.net;
    for (const Factorization& f : rs.candidates) {
      vnet.layers[size_t(rc.layer)].factorization = f;
      rc.labels.push_back(rank_label(f));
      rc.cost.push_back(sim::cost_row(eng, vnet, rc.layer, s.options, sc.phase, s.table.handover_edges));
    }
    s.rank_costs.push_back(std::move(rc));
  }
  s.baseline_energy_uj =
      eng.network_cost(sc.net, uniform_precision(sc, sc.constraints.energy.baseline), sc.phase).energy_uj;
  return s;
}

search::Budget make_budget(const Scenario& sc, const SearchSetup& s, double fraction) {
  search::Budget b;
  if (fraction >= 0)
    b.limit[search::kEnergy] = fraction * s.baseline_energy_uj * 1e6;
  else if (sc.constraints.energy.energy_uj)
    b.limit[search::kEnergy] = *sc.constraints.energy.energy_uj * 1e6;
  else if (sc.constraints.energy.fraction)
    b.limit[search::kEnergy] = *sc.constraints.energy.fraction * s.baseline_energy_uj * 1e6;
  if (sc.constraints.latency_ms)
    b.limit[search::kCycles] = *sc.constraints.latency_ms * sc.hardware.clock_mhz * 1e3;
  if (sc.constraints.model_size_kib) b.limit[search::kSize] = *sc.constraints.model_size_kib * 1024.0;
  return b;
}

std::vector<search::RankChoice> rank_choices(const Scenario& sc, const SearchSetup& s,
                                             const search::SensitivityTable& sens, const std::string& sens_file) {
  std::vector<search::RankChoice> out = s.rank_costs;
  const std::size_t O = s.options.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const SearchSpec::RankSearch& rs = sc.search.ranks[i];
    const search::SensitivityTable::RankRows* rows = nullptr;
    for (const auto& r : sens.rank_rows)
      if (r.layer == rs.layer) rows = &r;
    if (!rows || rows->labels != out[i].labels)
      throw SpecError(sens_file, "/entries",
                      "sensitivities of layer \"" + rs.layer + "\" at every rank candidate of " + rs.pointer +
                          " (\"ranks\" entries, computed with search.ranks in the scenario)",
                      rows ? std::to_string(rows->labels.size()) + " other candidates" : "none");
    MIXPREC_CHECK(rows->values.size() == rows->labels.size() * O, "rank rows per option");
    for (std::size_t v = 0; v < rows->labels.size(); ++v)
      out[i].sensitivity.emplace_back(rows->values.begin() + std::ptrdiff_t(v * O),
                                      rows->values.begin() + std::ptrdiff_t((v + 1) * O));
  }
  return out;
}

std::vector<Factorization> chosen_factorization(const Scenario& sc, const search::Solution& sol) {
  std::vector<Factorization> out;
  for (const Layer& l : sc.net.layers) out.push_back(l.factorization);
  for (const SearchSpec::RankSearch& rs : sc.search.ranks) {
    const int l = sc.net.find(rs.layer);
    const int v = sol.variant_of_layer.empty() ? -1 : sol.variant_of_layer[size_t(l)];
    if (v >= 0) out[size_t(l)] = rs.candidates[size_t(v)];
  }
  return out;
}

std::vector<LayerPrecision> chosen_precision(const Scenario& sc, const SearchSetup& s,
                                             const search::Solution& sol) {
  std::vector<LayerPrecision> out(sc.net.layers.size());
  for (std::size_t l = 0; l < out.size(); ++l) {
    out[l] = sc.layer_precision[l];
    const LayerPrecision& o = s.options[size_t(sol.option_of_layer[l])];
    out[l].format = o.format;
    out[l].weight_bits = o.weight_bits;
    out[l].recurrent_weight_bits = o.recurrent_weight_bits;
    out[l].activation_bits = o.activation_bits;
    out[l].output_bits = o.output_bits;
  }
  return out;
}

SearchOutcome solve_search(const Scenario& sc, const SearchSetup& s, const search::SensitivityTable& sens,
                           const std::string& sens_file) {
  SearchOutcome o;
  o.problem = search::make_problem(s.table, sens, sc.net, s.rules, s.default_option, rank_choices(sc, s, sens, sens_file));
  const search::Problem& prob = o.problem;
  // Budgets: energy against the named uniform baseline (same hardware and engine) or absolute.
  o.budget = make_budget(sc, s);
  o.exact = search::solve_exact(prob, o.budget);
  search::Budget front_budget = o.budget;
  front_budget.limit[search::kEnergy] = std::numeric_limits<double>::infinity();
  o.front = search::solve_exact(prob, front_budget);
  const long evals = sc.search.baseline_evaluations;
  const auto seed = std::uint64_t(sc.search.seed);
  o.baselines = {search::solve_uniform(prob, o.budget), search::solve_greedy(prob, o.budget),
                 search::solve_random(prob, o.budget, evals, seed),
                 search::solve_evolutionary(prob, o.budget, evals, seed)};
  o.chosen = o.exact.best;
  for (const auto& b : o.baselines)
    if (b.method == sc.search.solver) o.chosen = b;
  if (!o.chosen.feasible)
    throw SpecError(sc.file, "/constraints", "a budget that some configuration meets",
                    "none of the candidate options fits it (solver " + sc.search.solver + ")");
  return o;
}

nlohmann::json cost_summary(const search::Problem& p, const search::Costs& cost, double sensitivity,
                            double baseline_uj) {
  const double e_uj = cost[search::kEnergy] * 1e-6;
  return {{"energy_uj", e_uj},
          {"latency_ms", cost[search::kCycles] / (p.clock_mhz * 1e3)},
          {"size_bytes", cost[search::kSize]},
          {"sensitivity", sensitivity},
          {"saving_percent", baseline_uj > 0 ? 100.0 * (baseline_uj - e_uj) / baseline_uj : 0.0}};
}

}  // namespace mixprec::pipeline
