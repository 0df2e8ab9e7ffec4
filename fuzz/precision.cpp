// Precision files: `--precision FILE` (pipeline::precision_for: the file, its TT / HT ranks set on the
// network, every override resolved against the layers) on the shipped TT-LSTM scenario.
#include "pipeline/common.hpp"
#include "core/scenario.hpp"
#include "fuzz/fuzz_contract.hpp"

namespace {
mixprec::Scenario g_base;
}

void fuzz_init() { g_base = mixprec::load_scenario(mixprec::fuzz::source_path("scenarios/venue_tt_lstm.json")); }

void fuzz_one(const std::string& bytes) {
  mixprec::Scenario sc = g_base;  // apply_rank_overrides changes the network
  (void)mixprec::pipeline::precision_for(sc, mixprec::fuzz::write_input("precision.json", bytes));
}
