// `mixprec map SPEC.json [--objective energy|delay|edp ...] [--constraints C.yaml] [--json OUT]`:
// run the mapper (sim/mapper) on a mixprec_nest spec's problem and architecture and print the
// chosen loop nest (like Timeloop's map.txt) with its statistics. A mapping in the spec, if any,
// is evaluated too and compared on the same objective (e.g. another tool's published mapping).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/json_reader.hpp"
#include "sim/mapper/mapper.hpp"
#include "sim/nest/nest_json.hpp"

namespace mixprec::app {
namespace {

struct MapOpts {
  std::string spec;
  std::vector<std::string> objective{"energy"};
  std::string constraints;
  double exhaustive_limit = 5e6;
  bool no_pad = false;
  std::string json_out;
} g;

int run_map() {
  using namespace sim::nest;
  const JsonDoc doc = JsonDoc::load(g.spec);
  ObjectReader top(doc.root(), doc.ctx(), "");
  Range version;
  version.min = version.max = 1;
  top.integer("mixprec_nest", version);
  const Problem p = parse_problem(top.object("problem"), doc.ctx(), "/problem");
  const Architecture a = parse_architecture(top.object("architecture"), doc.ctx(), "/architecture", p);
  std::optional<Mapping> reference;
  if (top.has("mapping")) reference = parse_mapping(top.any("mapping"), doc.ctx(), "/mapping", p, a);
  top.finish();

  MapperOptions o;
  o.objective.metrics.clear();
  for (const std::string& m : g.objective) o.objective.metrics.push_back(parse_metric(m));
  if (!g.constraints.empty()) o.constraints = parse_timeloop_constraints(g.constraints, p, a);
  o.exhaustive_limit = g.exhaustive_limit;
  o.pad = !g.no_pad;

  const MapResult r = map_layer(p, a, o);
  std::cout << render_map_result(p, a, r, o.objective);
  json j;
  j["spec"] = g.spec;
  j["objective"] = o.objective.describe();
  j["search"] = r.space;
  j["evaluations"] = r.evaluations;
  j["found"] = r.found;
  if (r.found) {
    j["mapping"] = to_json(r.mapping, r.problem, a);
    j["result"] = result_to_json(r.problem, a, r.result);
    j["utilization"] = r.utilization;
  }
  if (reference) {
    const Result ref = evaluate(p, a, *reference);
    std::cout << "\nMapping given in the spec: ";
    if (!ref.status.ok()) {
      std::cout << "invalid (" << describe(ref.status, p, a) << ")\n";
    } else {
      char buf[160];
      std::snprintf(buf, sizeof buf, "cycles %lld, energy %.3f pJ; the mapper's is %s on %s\n",
                    static_cast<long long>(ref.cycles), ref.energy_pj,
                    o.objective.better(ref, r.result) ? "WORSE" : "at least as good", o.objective.describe().c_str());
      std::cout << buf;
      j["reference"] = result_to_json(p, a, ref);
    }
  }
  if (!g.json_out.empty()) write_file_atomic(g.json_out, j.dump(2) + "\n");
  return r.found ? 0 : 1;
}

void setup_map(CLI::App& app) {
  auto* s = app.add_subcommand("map", "Find a mapping (loop nest) of a nest spec's layer on its architecture");
  s->add_option("spec", g.spec, "A mixprec_nest JSON file (problem, architecture; a mapping is compared)")->required();
  s->add_option("--objective", g.objective,
                "energy, delay or edp; several = lexicographic (e.g. --objective delay energy)")
      ->check(CLI::IsMember({"energy", "delay", "edp"}))
      ->expected(1, 3);
  s->add_option("--constraints", g.constraints, "Timeloop v0.4 mapspace constraints YAML");
  s->add_option("--exhaustive-limit", g.exhaustive_limit,
                "Largest mapspace (canonical bound) searched exactly; larger ones use the heuristic")
      ->check(CLI::NonNegativeNumber);
  s->add_flag("--no-pad", g.no_pad, "Only exact divisors (no padding of a dimension to the array)");
  s->add_option("--json", g.json_out, "Also write the mapping and statistics as JSON (atomically)");
}

const CommandRegistrar reg_map("map", setup_map, run_map);

}  // namespace
}  // namespace mixprec::app
