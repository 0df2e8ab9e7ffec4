#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "apps/registry.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "sim/cost_json.hpp"
#include "sim/mapping_engine.hpp"
#include "sim/pricer.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/compare.hpp"
#include "sim/systemc/engine.hpp"
#include "sim/systemc/mapping_sim.hpp"

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
  std::string engine;  // "" -> the scenario's cost_model.engine
  std::string out;
  bool compare = false;  // run both engines side by side
  std::string trace;     // SystemC timeline (Chrome trace-event JSON)
  bool show_mapping = false;  // mapping engine: each layer's loop nests
};

ValidateOpts g_validate;
SimulateOpts g_simulate;

int run_validate() {
  for (const auto& f : g_validate.files) {
    Scenario sc = load_scenario(f);
    if (!g_validate.precision.empty()) precision_for(sc, g_validate.precision);
    std::cout << f << ": ok (scenario \"" << sc.name << "\", " << sc.net.layers.size()
              << " layers, " << sc.net.parameter_count() << " parameters)\n";
  }
  return 0;
}

void write_trace(const std::string& trace_json) {
  if (g_simulate.trace.empty()) return;
  write_file_atomic(g_simulate.trace, trace_json);
  std::cerr << "wrote " << g_simulate.trace << "\n";
}

nlohmann::json manifest_json() {
  nlohmann::json m = make_manifest(g_simulate.file, 1);
  if (!g_simulate.precision.empty()) m["precision_file"] = g_simulate.precision;
  return m;
}

int run_compare(const Scenario& sc, const std::vector<LayerPrecision>& prec) {
  const sim::SimulationResult a = sim::simulate_analytical(sc, prec);
  sim::systemc::SimOptions opts;
  opts.trace = !g_simulate.trace.empty();
  const sim::systemc::SystemCResult s = sim::systemc::simulate(sc, prec, opts);
  const sim::systemc::Comparison cmp = sim::systemc::compare(a.cost, s.result.cost);
  if (g_simulate.format == "json") {
    nlohmann::json j = sim::systemc::comparison_to_json(sc, a, s.result, cmp);
    j["manifest"] = manifest_json();
    emit(j.dump(2) + "\n", g_simulate.out);
  } else if (g_simulate.format == "csv") {
    emit(sim::systemc::comparison_to_csv(cmp), g_simulate.out);
  } else {
    emit(sim::systemc::comparison_to_table(sc, cmp), g_simulate.out);
  }
  write_trace(s.trace_json);
  return 0;
}

int run_simulate() {
  // Options that only the SystemC engine can honour are refused, never ignored.
  if (!g_simulate.trace.empty() && g_simulate.engine != "systemc" && !g_simulate.compare)
    throw UsageError("--trace needs the SystemC engine (--engine systemc or --compare)");
  if (g_simulate.show_mapping && g_simulate.format == "csv")
    throw UsageError("--show-mapping needs --format table or json (CSV has one row per layer)");
  Scenario sc = load_scenario(g_simulate.file);
  if (g_simulate.engine.empty() && !g_simulate.compare) g_simulate.engine = to_string(sc.cost_model.engine);
  if (g_simulate.show_mapping && g_simulate.engine != "mapping")
    throw UsageError("--show-mapping needs the mapping engine (--engine mapping, or the scenario's "
                     "cost_model.engine; this run uses " + (g_simulate.compare ? std::string("--compare") : g_simulate.engine) + ")");
  if (sc.cost_model.residency != Residency::None && (g_simulate.compare || g_simulate.engine == "analytical" ||
                                                     g_simulate.engine == "systemc"))
    throw UsageError(std::string(g_simulate.compare ? "--compare" : "--engine " + g_simulate.engine) +
                     " does not price between-layer residency (the scenario's cost_model.residency is \"" +
                     to_string(sc.cost_model.residency) + "\"): use --engine mapping, or set \"residency\": \"none\"");
  if (sc.cost_model.phased_stated() && (g_simulate.compare || g_simulate.engine == "analytical" ||
                                                 g_simulate.engine == "systemc"))
    throw UsageError(std::string(g_simulate.compare ? "--compare" : "--engine " + g_simulate.engine) +
                     " does not use the mapping engine's nest timing (the scenario's cost_model.timing is \"" +
                     to_string(sc.cost_model.timing) + "\"): use --engine mapping or systemc-mapping, or set "
                     "\"timing\": \"overlap\"");
  std::vector<LayerPrecision> prec = precision_for(sc, g_simulate.precision);
  if (g_simulate.compare) return run_compare(sc, prec);
  sim::SimulationResult r;
  std::string trace_json;
  std::string agreement_text;  // systemc-mapping: the per-layer agreement with the mapping engine
  nlohmann::json agreement_json;
  std::vector<std::vector<sim::NestMapping>> mappings;
  if (g_simulate.engine == "mapping") {
    r = sim::simulate_mapping(sc, prec, g_simulate.show_mapping ? &mappings : nullptr);
  } else if (g_simulate.engine == "systemc-mapping") {
    sim::systemc::MappingSimResult s = sim::systemc::simulate_mapping_systemc(sc, prec);
    agreement_text = "\n" + sim::systemc::agreement_to_table(s);
    agreement_json = sim::systemc::agreement_to_json(s);
    r = std::move(s.result);
  } else if (g_simulate.engine == "systemc") {
    sim::systemc::SimOptions opts;
    opts.trace = !g_simulate.trace.empty();
    sim::systemc::SystemCResult s = sim::systemc::simulate(sc, prec, opts);
    r = std::move(s.result);
    trace_json = std::move(s.trace_json);
  } else {
    r = sim::simulate_analytical(sc, prec);
  }
  if (g_simulate.format == "json") {
    nlohmann::json j = sim::network_to_json(sc, r.cost, r.baselines, r.engine);
    j["manifest"] = manifest_json();
    if (!agreement_json.is_null()) j["agreement_with_mapping"] = agreement_json;
    if (g_simulate.show_mapping)
      j["mappings"] = sim::mappings_to_json(sc.net, mappings, sim::objective_of(sc.cost_model.objective));
    emit(j.dump(2) + "\n", g_simulate.out);
  } else if (g_simulate.format == "csv") {
    emit(sim::network_to_csv(sc.net, r.cost), g_simulate.out);
  } else {
    std::string text = sim::network_to_table(sc, r.cost, r.baselines, r.engine);
    if (g_simulate.show_mapping)
      text += "\nloop nests (mapping engine, objective " +
              sim::objective_of(sc.cost_model.objective).describe() + "):\n\n" +
              sim::render_mappings(sc.net, mappings, sim::objective_of(sc.cost_model.objective));
    emit(text + agreement_text, g_simulate.out);
  }
  write_trace(trace_json);
  return 0;
}

}  // namespace

void register_commands(CLI::App& app) {
  for (const Command& c : command_registry()) c.setup(app);
  auto* v = app.add_subcommand("validate", "Check scenario files (and optionally a precision file)");
  v->add_option("files", g_validate.files, "Scenario JSON files")->required();
  v->add_option("--precision", g_validate.precision, "Precision file to check against the scenario");

  auto* s = app.add_subcommand("simulate", "Price every layer of a scenario's network on its hardware");
  s->add_option("file", g_simulate.file, "Scenario JSON file")->required();
  s->add_option("--precision", g_simulate.precision,
                "Precision file (overrides the scenario's precision section)");
  s->add_option("--format", g_simulate.format, "Output format")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  auto* engine = s->add_option("--engine", g_simulate.engine,
                                "Cost engine (default: the scenario's cost_model.engine, mapping on asic "
                                "hardware): mapping (loop-nest mappings over the storage hierarchy, chosen "
                                "by the mapper), analytical (closed form), systemc (cycle-approximate "
                                "model of the analytical engine's tiles) or systemc-mapping (the SystemC "
                                "model simulating the mapping engine's loop nests, with its agreement per layer)")
                     ->check(CLI::IsMember({"analytical", "systemc", "mapping", "systemc-mapping"}));
  s->add_option("--out", g_simulate.out, "Write the output to this file (atomically)");
  s->add_flag("--compare", g_simulate.compare,
              "Run the analytical and SystemC engines and print them side by side with the differences")
      ->excludes(engine);
  s->add_option("--trace", g_simulate.trace,
                "Write the SystemC timeline to this file (Chrome trace-event JSON for Perfetto or "
                "chrome://tracing); needs --engine systemc or --compare");
  s->add_flag("--show-mapping", g_simulate.show_mapping,
              "Print each layer's chosen loop nest (like Timeloop's map.txt); needs the mapping engine");
}

int run_selected(CLI::App& app) {
  for (const Command& c : command_registry())
    if (app.got_subcommand(c.name)) return c.run();
  if (app.got_subcommand("validate")) return run_validate();
  if (app.got_subcommand("simulate")) return run_simulate();
  throw UsageError("no command given; see mixprec --help");
}

}  // namespace mixprec::app
