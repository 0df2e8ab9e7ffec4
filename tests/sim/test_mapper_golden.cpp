// Golden mapper results on the default network: the mapping the mapper chooses for every nest of
// every MAC layer of scenarios/venue_cnn_lstm.json at every candidate option of its search space
// (the fixed layers at their own option), through the mapping engine's hierarchy, for the
// objectives EDP (BM_MapNetworkOptions') and the engine's default (energy, then delay).
// Speed work on the mapper must leave every line identical: same search kind, same energy and
// cycles (printed to 17 digits), same mapping (factors, full loop order, keeps).
//
// The expected table (tests/sim/mapper_golden/venue_cnn_lstm.tsv) was produced by this test from
// the mapper before the speed work (first at parent commit 55b0edf; regenerated at 3ffcb31, whose
// hierarchy adds the DRAM-level leakage and whose default scenario has 512-bit output rows, with
// the pre-speed mapper):
//   MIXPREC_WRITE_MAPPER_GOLDEN=tests/sim/mapper_golden/venue_cnn_lstm.tsv
//     build/bin/mixprec_tests "mapper golden*"
// (one command line; 1,108 lines: 2 objectives x 554 layer-option runs, one nest each).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost_table.hpp"
#include "sim/mapping_engine.hpp"
#include "test_util.hpp"

using namespace mixprec;
namespace nest = mixprec::sim::nest;

namespace {

std::string mapping_text(const nest::MapResult& r) {
  std::ostringstream os;
  const std::size_t D = r.problem.dims.size();
  os << "bounds";
  for (std::int64_t b : r.problem.bounds) os << ' ' << b;
  for (int l = 0; l < r.mapping.n_levels; ++l) {
    const nest::LevelMapping& x = r.mapping.levels[static_cast<std::size_t>(l)];
    os << " | L" << l << " t";
    for (std::size_t d = 0; d < D; ++d) os << ' ' << x.temporal[d];
    os << " x";
    for (std::size_t d = 0; d < D; ++d) os << ' ' << x.spatial_x[d];
    os << " y";
    for (std::size_t d = 0; d < D; ++d) os << ' ' << x.spatial_y[d];
    os << " p";
    for (std::size_t d = 0; d < D; ++d) os << ' ' << static_cast<int>(x.permutation[d]);
    os << " k " << x.keep_mask;
  }
  return os.str();
}

std::vector<std::string> golden_lines() {
  const std::string path = test::source_path("scenarios/venue_cnn_lstm.json");
  const Scenario sc = load_scenario(path);
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(sc.hardware, path);
  const std::vector<LayerPrecision>& base = sc.layer_precision;
  const std::vector<LayerPrecision> options = sim::candidate_options(sc.search, base.front());
  nest::Objective edp;
  edp.metrics = {nest::Metric::edp};
  std::vector<std::string> lines;
  for (const auto& [label, obj] : {std::make_pair(std::string("edp"), edp),
                                   std::make_pair(std::string("default"), sim::MappingEngine::default_objective())}) {
    sim::MappingEngine engine(sc.hardware, em, sc.file, obj);
    for (std::size_t l = 0; l < sc.net.layers.size(); ++l) {
      bool fixed = false;
      for (const std::string& name : sc.search.fixed_layers) fixed = fixed || sc.net.layers[l].name == name;
      const std::vector<LayerPrecision> own{base[l]};
      const std::vector<LayerPrecision>& opts = fixed ? own : options;
      for (std::size_t o = 0; o < opts.size(); ++o) {
        std::vector<sim::NestMapping> nests;
        engine.layer_cost(sc.net, static_cast<int>(l), opts[o], sc.phase, &nests);
        for (std::size_t n = 0; n < nests.size(); ++n) {
          const nest::MapResult& r = nests[n].result;
          char num[64];
          std::snprintf(num, sizeof num, "%.17g", r.result.energy_pj);
          std::ostringstream os;
          os << label << '\t' << sc.net.layers[l].name << '\t' << (fixed ? std::string("own") : std::to_string(o)) << '\t'
             << opts[o].weight_bits << 'w' << opts[o].activation_bits << 'a' << '\t' << n << '\t' << nests[n].pass
             << '\t' << (r.kind == nest::SearchKind::exhaustive ? "exact" : "heuristic") << '\t' << num << '\t'
             << r.result.cycles << '\t' << mapping_text(r);
          lines.push_back(os.str());
        }
      }
    }
  }
  return lines;
}

}  // namespace

TEST_CASE("mapper golden: the default network's chosen mappings are unchanged", "[mapper][golden]") {
  const std::vector<std::string> got = golden_lines();
  if (const char* out = std::getenv("MIXPREC_WRITE_MAPPER_GOLDEN")) {
    std::ofstream f(out);
    for (const std::string& s : got) f << s << '\n';
    REQUIRE(f.good());
    WARN("wrote " << got.size() << " lines to " << out);
    return;
  }
  std::ifstream f(test::source_path("tests/sim/mapper_golden/venue_cnn_lstm.tsv"));
  REQUIRE(f.good());
  std::vector<std::string> expected;
  for (std::string s; std::getline(f, s);) expected.push_back(s);
  REQUIRE(got.size() == expected.size());
  int differing = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != expected[i] && ++differing <= 5) CHECK(got[i] == expected[i]);
  CHECK(differing == 0);
}
