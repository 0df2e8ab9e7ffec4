// `mixprec nest SPEC.json [--json OUT]`: evaluate one mapping with the nest-analysis model and
// print the loop nest (like Timeloop's map.txt) and the per-level / per-tensor statistics.
// `mixprec import-timeloop --arch A.yaml [--arch B.yaml] --problem P.yaml --mapping M.yaml
// [--ert ERT.yaml] [--constraints C.yaml] --out SPEC.json`: translate Timeloop v0.4 inputs.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "apps/registry.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "sim/nest/nest_json.hpp"
#include "sim/nest/timeloop_import.hpp"

namespace mixprec::app {
namespace {

struct NestOpts {
  std::string spec;
  std::string json_out;
} g;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string render_stats(const sim::nest::NestSpec& s, const sim::nest::Result& r) {
  using namespace sim::nest;
  std::ostringstream o;
  o << render_loop_nest(s.problem, s.architecture, s.mapping, r) << "\n";
  o << "MACs " << r.macs << ", compute instances " << r.utilized_compute << " of " << s.architecture.compute.instances
    << ", compute cycles " << r.compute_cycles << ", cycles " << r.cycles << ", utilization "
    << fixed(100 * r.utilization, 2) << "%\n";
  o << "energy " << fixed(r.energy_pj, 2) << " pJ (" << fixed(r.energy_pj * 1000.0 / double(r.macs), 2)
    << " fJ/MAC); compute " << fixed(r.compute_energy_pj, 2) << " pJ\n\n";
  for (int l = r.n_levels - 1; l >= 0; --l) {
    const LevelStats& ls = r.levels[std::size_t(l)];
    o << "=== " << s.architecture.levels[std::size_t(l)].name << " ===  cycles " << fixed(ls.cycles, 0)
      << ", bandwidth throttling " << fixed(ls.bandwidth_throttling, 3) << ", energy " << fixed(ls.energy_pj, 2)
      << " pJ (leakage " << fixed(ls.leak_pj, 2) << ")\n";
    for (std::size_t d = 0; d < s.problem.dataspaces.size(); ++d) {
      const DataspaceStats& ds = ls.ds[d];
      if (!ds.kept) continue;
      o << "  " << s.problem.dataspaces[d].name << " (" << s.problem.dataspaces[d].bits << " b): capacity "
        << ds.utilized_capacity << ", instances " << ds.utilized_instances << ", reads " << ds.reads << ", fills "
        << ds.fills << ", updates " << ds.updates << ", temporal reductions " << ds.temporal_reductions
        << ", multicast " << fixed(ds.multicast_factor, 0) << ", energy " << fixed(ds.energy_pj, 2) << " pJ\n";
    }
  }
  return o.str();
}

int run_nest() {
  const sim::nest::NestSpec s = sim::nest::load_nest_spec(g.spec);
  const sim::nest::Result r = sim::nest::evaluate(s.problem, s.architecture, s.mapping);
  if (!r.status.ok())
    throw SpecError(g.spec, "/mapping", "a mapping the architecture can run",
                    sim::nest::describe(r.status, s.problem, s.architecture));
  std::cout << render_stats(s, r);
  if (!g.json_out.empty()) {
    json j;
    j["spec"] = g.spec;
    j["result"] = sim::nest::result_to_json(s.problem, s.architecture, r);
    j["manifest"] = make_manifest(g.spec, 1);
    write_file_atomic(g.json_out, j.dump(2) + "\n");
  }
  return 0;
}

void setup_nest(CLI::App& app) {
  auto* s = app.add_subcommand("nest", "Evaluate one loop-nest mapping on a storage hierarchy (nest analysis)");
  s->add_option("spec", g.spec, "A mixprec_nest JSON file (problem, architecture, mapping)")->required();
  s->add_option("--json", g.json_out, "Also write the statistics as JSON to this file (atomically)");
}

const CommandRegistrar reg_nest("nest", setup_nest, run_nest);

struct ImportOpts {
  sim::nest::TimeloopFiles files;
  std::string out;
} gi;

int run_import() {
  const sim::nest::NestSpec s = sim::nest::import_timeloop(gi.files);
  write_file_atomic(gi.out, sim::nest::to_json(s).dump(2) + "\n");
  std::cout << "wrote " << gi.out << ": " << s.architecture.levels.size() << " storage levels, "
            << s.problem.dims.size() << " dimensions, " << s.problem.macs() << " MACs\n";
  return 0;
}

void setup_import(CLI::App& app) {
  auto* s = app.add_subcommand("import-timeloop", "Translate Timeloop v0.4 YAML inputs into a mixprec_nest JSON file");
  s->add_option("--arch", gi.files.arch, "Architecture YAML (repeatable; top-level keys are merged)")->required();
  s->add_option("--problem", gi.files.problem, "Problem YAML (shape + instance)")->required();
  s->add_option("--mapping", gi.files.mapping, "Mapping YAML (temporal / spatial / bypass entries)")->required();
  s->add_option("--ert", gi.files.ert, "Accelergy ERT YAML (energy per action)");
  s->add_option("--constraints", gi.files.constraints,
                "Constraints YAML: bypass entries restrict keep sets; the mapping must meet keep and factor constraints (loop-order constraints are not checked)");
  s->add_option("--out", gi.out, "Output JSON (written atomically)")->required();
}

const CommandRegistrar reg_import("import-timeloop", setup_import, run_import);

}  // namespace
}  // namespace mixprec::app
