// `mixprec tensor A.json [B.json ...]`: parameters, MACs, cycles, frames per second and energy
// per frame of each scenario, the contraction plan of every factorized (TT / HT) layer, and the
// ratios of every scenario against the first (docs/tensor_lstm.md).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/factorization.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/engine.hpp"

namespace mixprec::app {
namespace {

struct TensorOpts {
  std::vector<std::string> files;
  std::string engine = "analytical";
  std::string format = "table";
  std::string out;
} g;

struct Figures {
  std::string file, name;
  std::int64_t params = 0, input_matrix_params = 0, macs = 0;
  double cycles = 0, latency_ms = 0, fps = 0, energy_uj = 0, energy_per_frame_uj = 0;
  int frames = 0;
  nlohmann::json factorized = nlohmann::json::array();
};

nlohmann::json plan_json(const Layer& l, std::int64_t rows) {
  const TensorNetwork tn = make_tensor_network(l.factorization);
  const ContractionPlan best = plan_min_macs(tn);
  nlohmann::json j;
  j["layer"] = l.name;
  j["kind"] = to_string(l.factorization.kind);
  j["input_modes"] = l.factorization.input_modes;
  j["output_modes"] = l.factorization.output_modes();
  if (l.factorization.kind == FactorizationKind::TensorTrain) {
    j["ranks"] = l.factorization.ranks;
  } else {
    j["leaf_ranks"] = l.factorization.leaf_ranks;
    j["transfer_ranks"] = l.factorization.transfer_ranks;
  }
  j["parameters"] = tn.parameter_count();
  j["dense_parameters"] = tn.in_features() * tn.out_features();
  j["rows"] = rows;
  j["order"] = describe_order(tn, best);
  j["macs"] = best.macs_per_row * rows;
  j["dense_macs"] = tn.in_features() * tn.out_features() * rows;
  nlohmann::json steps = nlohmann::json::array();
  for (const ContractionStep& s : best.steps)
    steps.push_back({{"core", tn.cores[size_t(s.core)].name}, {"m", s.m * rows}, {"n", s.n},
                     {"k", s.k}, {"macs", s.macs_per_row() * rows}});
  j["steps"] = steps;
  // The two sweep orders for comparison: cores in index order and reversed.
  std::vector<int> fwd;
  for (std::size_t c = 0; c < tn.cores.size(); ++c) fwd.push_back(int(c));
  std::vector<int> rev(fwd.rbegin(), fwd.rend());
  j["macs_index_order"] = plan_contraction(tn, fwd).macs_per_row * rows;
  j["macs_reverse_order"] = plan_contraction(tn, rev).macs_per_row * rows;
  return j;
}

Figures figures(const std::string& file) {
  const Scenario sc = load_scenario(file);
  const std::vector<LayerPrecision> prec = sc.layer_precision;
  sim::NetworkCost cost;
  if (g.engine == "systemc")
    cost = sim::systemc::simulate(sc, prec, {}).result.cost;
  else
    cost = sim::simulate_analytical(sc, prec).cost;
  Figures f;
  f.file = file;
  f.name = sc.name;
  f.params = sc.net.parameter_count();
  f.macs = cost.macs;
  f.cycles = cost.cycles;
  f.latency_ms = cost.latency_ms;
  f.energy_uj = cost.energy_uj;
  f.frames = sc.net.batch * sc.net.frames;
  f.fps = cost.latency_ms > 0 ? f.frames / (cost.latency_ms * 1e-3) : 0;
  f.energy_per_frame_uj = cost.energy_uj / f.frames;
  for (const Layer& l : sc.net.layers) {
    if (l.kind != LayerKind::Lstm) continue;
    if (f.input_matrix_params == 0) {
      // The first LSTM's input-to-hidden matrix: factorized or dense.
      f.input_matrix_params = l.factorization.active()
                                  ? make_tensor_network(l.factorization).parameter_count()
                                  : std::int64_t(l.bidirectional ? 2 : 1) * 4 * l.hidden * l.in.c;
    }
    if (l.factorization.active()) f.factorized.push_back(plan_json(l, std::int64_t(l.in.n) * l.in.t));
  }
  return f;
}

nlohmann::json to_json(const Figures& f) {
  return {{"file", f.file},
          {"name", f.name},
          {"parameters", f.params},
          {"input_matrix_parameters", f.input_matrix_params},
          {"macs", f.macs},
          {"cycles", f.cycles},
          {"latency_ms", f.latency_ms},
          {"frames", f.frames},
          {"frames_per_second", f.fps},
          {"energy_uj", f.energy_uj},
          {"energy_per_frame_uj", f.energy_per_frame_uj},
          {"factorized_layers", f.factorized}};
}

// Ratios of the first scenario to `f`: how many times fewer parameters, MACs, cycles and
// energy per frame, and how many times more frames per second.
nlohmann::json ratios(const Figures& base, const Figures& f) {
  auto r = [](double a, double b) { return b != 0 ? a / b : 0.0; };
  return {{"against", base.name},
          {"name", f.name},
          {"parameters", r(double(base.params), double(f.params))},
          {"input_matrix_parameters", r(double(base.input_matrix_params), double(f.input_matrix_params))},
          {"macs", r(double(base.macs), double(f.macs))},
          {"cycles", r(base.cycles, f.cycles)},
          {"frames_per_second", r(f.fps, base.fps)},
          {"energy_per_frame", r(base.energy_per_frame_uj, f.energy_per_frame_uj)}};
}

std::string table(const std::vector<Figures>& all, const nlohmann::json& rat) {
  std::ostringstream o;
  o << "engine: " << g.engine << "\n\n";
  o << "| scenario | parameters | input-matrix params | MACs | cycles | frames/s | energy/frame (uJ) |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Figures& f : all)
    o << "| " << f.name << " | " << f.params << " | " << f.input_matrix_params << " | " << f.macs << " | "
      << fmt("%.0f", f.cycles) << " | " << fmt("%.1f", f.fps) << " | " << fmt("%.3f", f.energy_per_frame_uj)
      << " |\n";
  if (all.size() > 1) {
    o << "\nratios against " << all.front().name
      << " (times fewer parameters / MACs / cycles / energy per frame; times more frames/s):\n\n";
    o << "| scenario | parameters | input-matrix params | MACs | cycles | frames/s | energy/frame |\n";
    o << "|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& r : rat)
      o << "| " << r["name"].get<std::string>() << " | " << fmt("%.1f", r["parameters"]) << " | "
        << fmt("%.1f", r["input_matrix_parameters"]) << " | " << fmt("%.2f", r["macs"]) << " | "
        << fmt("%.2f", r["cycles"]) << " | " << fmt("%.2f", r["frames_per_second"]) << " | "
        << fmt("%.2f", r["energy_per_frame"]) << " |\n";
  }
  for (const Figures& f : all)
    for (const auto& p : f.factorized) {
      o << "\n" << f.name << " / " << p["layer"].get<std::string>() << " (" << p["kind"].get<std::string>()
        << "): " << p["parameters"] << " parameters (dense " << p["dense_parameters"] << "), order "
        << p["order"].get<std::string>() << ", " << p["macs"] << " MACs (dense " << p["dense_macs"]
        << "; index order " << p["macs_index_order"] << ", reverse order " << p["macs_reverse_order"] << ")\n";
      for (const auto& s : p["steps"])
        o << "  " << s["core"].get<std::string>() << ": M " << s["m"] << " N " << s["n"] << " K " << s["k"]
          << " MACs " << s["macs"] << "\n";
    }
  return o.str();
}

int run() {
  std::vector<Figures> all;
  for (const std::string& f : g.files) all.push_back(figures(f));
  nlohmann::json rat = nlohmann::json::array();
  for (std::size_t i = 1; i < all.size(); ++i) rat.push_back(ratios(all.front(), all[i]));
  if (g.format == "json") {
    nlohmann::json j;
    j["engine"] = g.engine;
    j["scenarios"] = nlohmann::json::array();
    for (const Figures& f : all) j["scenarios"].push_back(to_json(f));
    j["ratios"] = rat;
    j["manifest"] = make_manifest(g.files.front(), 1);
    emit(j.dump(2) + "\n", g.out);
  } else {
    emit(table(all, rat), g.out);
  }
  return 0;
}

void setup(CLI::App& app) {
  auto* s = app.add_subcommand(
      "tensor", "Parameters, MACs, cycles, frames/s and energy per frame of scenarios, their ratios "
                "against the first, and the contraction plans of factorized (TT/HT) layers");
  s->add_option("files", g.files, "Scenario JSON files (the first is the reference)")->required();
  s->add_option("--engine", g.engine, "Cost engine")->check(CLI::IsMember({"analytical", "systemc"}));
  s->add_option("--format", g.format, "Output format")->check(CLI::IsMember({"table", "json"}));
  s->add_option("--out", g.out, "Write the output to this file (atomically)");
}

const CommandRegistrar reg("tensor", setup, run);

}  // namespace
}  // namespace mixprec::app
