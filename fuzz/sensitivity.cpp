// Sensitivity tables: `search --sensitivity FILE` and the sensitivity cache, read against the
// candidate options of the shipped TT-LSTM scenario (bits and rank candidates).
#include "pipeline/search_run.hpp"
#include "core/scenario.hpp"
#include "fuzz/fuzz_contract.hpp"
#include "search/io.hpp"

namespace {
mixprec::Scenario g_sc;
std::vector<mixprec::LayerPrecision> g_options;
}  // namespace

void fuzz_init() {
  g_sc = mixprec::load_scenario(mixprec::fuzz::source_path("scenarios/venue_tt_lstm.json"));
  g_options = mixprec::pipeline::prepare_search(g_sc).options;
}

void fuzz_one(const std::string& bytes) {
  (void)mixprec::search::load_sensitivity(mixprec::fuzz::write_input("sensitivity.json", bytes), g_sc.net,
                                          g_options, g_sc.search.ranks);
}
