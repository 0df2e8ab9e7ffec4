#include "apps/commands.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "sim/cost_json.hpp"
#include "sim/simulate.hpp"

namespace mixprec::app {

namespace {

struct ValidateOpts {
  std::vector<std::string> files;
  std::string precision;
};

struct SimulateOpts {
  std::string file;
  std::string precision;
  std::string format = "table";
  std::string engine = "analytical";
  std::string out;
};

ValidateOpts g_validate;
SimulateOpts g_simulate;

// Writes to --out atomically, or to stdout.
void emit(const std::string& text, const std::string& out) {
  if (out.empty()) {
    std::cout << text;
    std::cout.flush();
  } else {
    write_file_atomic(out, text);
    std::cerr << "wrote " << out << "\n";
  }
}

std::vector<LayerPrecision> precision_for(const Scenario& sc, const std::string& file) {
  if (file.empty()) return sc.layer_precision;
  return resolve_precision(load_precision_file(file), sc.net, file);
}

int run_validate() {
  for (const auto& f : g_validate.files) {
    Scenario sc = load_scenario(f);
    if (!g_validate.precision.empty()) precision_for(sc, g_validate.precision);
    std::cout << f << ": ok (scenario \"" << sc.name << "\", " << sc.net.layers.size()
              << " layers, " << sc.net.parameter_count() << " parameters)\n";
  }
  return 0;
}

int run_simulate() {
  Scenario sc = load_scenario(g_simulate.file);
  std::vector<LayerPrecision> prec = precision_for(sc, g_simulate.precision);
  sim::SimulationResult r = sim::simulate_analytical(sc, prec);
  if (g_simulate.format == "json") {
    nlohmann::json j = sim::network_to_json(sc, r.cost, r.baselines, r.engine);
    j["manifest"] = make_manifest(g_simulate.file, 1);
    if (!g_simulate.precision.empty()) j["manifest"]["precision_file"] = g_simulate.precision;
    emit(j.dump(2) + "\n", g_simulate.out);
  } else if (g_simulate.format == "csv") {
    emit(sim::network_to_csv(sc.net, r.cost), g_simulate.out);
  } else {
    emit(sim::network_to_table(sc, r.cost, r.baselines, r.engine), g_simulate.out);
  }
  return 0;
}

}  // namespace

void register_commands(CLI::App& app) {
  auto* v = app.add_subcommand("validate", "Check scenario files (and optionally a precision file)");
  v->add_option("files", g_validate.files, "Scenario JSON files")->required();
  v->add_option("--precision", g_validate.precision, "Precision file to check against the scenario");

  auto* s = app.add_subcommand("simulate", "Price every layer of a scenario's network on its hardware");
  s->add_option("file", g_simulate.file, "Scenario JSON file")->required();
  s->add_option("--precision", g_simulate.precision,
                "Precision file (overrides the scenario's precision section)");
  s->add_option("--format", g_simulate.format, "Output format")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  s->add_option("--engine", g_simulate.engine, "Cost engine")
      ->check(CLI::IsMember({"analytical"}));
  s->add_option("--out", g_simulate.out, "Write the output to this file (atomically)");
}

int run_selected(CLI::App& app) {
  if (app.got_subcommand("validate")) return run_validate();
  if (app.got_subcommand("simulate")) return run_simulate();
  throw UsageError("no command given; see mixprec --help");
}

}  // namespace mixprec::app
