// Reading and writing search inputs and outputs: sensitivity tables (JSON), the search result
// (JSON), the Pareto front (CSV), and the chosen precision file.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "search/problem.hpp"
#include "search/solver.hpp"

namespace mixprec::search {

constexpr int kSensitivityVersion = 1;

// {"mixprec_sensitivity": 1, "method", "checkpoint", "network",
//  "entries": [{"layer", "format", "weights", "activations", "value"}, ...]}
// Optional metadata (written when computed from a checkpoint, pipeline/sensitivity_run.hpp):
// "checkpoint_hash" and "settings_hash" (16 hex digits), "settings" (an object: what the
// estimate depended on), "seconds" (time to compute); per entry "weight_term" and
// "activation_term" (Hessian method: value = weight_term + activation_term).
// Every (layer, option) pair of `options` for the layers in `net` must have an entry.
// Rank-searched layers (scenario search.ranks): entries with "ranks" (the candidate's
// rank_label, e.g. "1-4-4-1") hold the layer truncated to that candidate at the option; every
// (candidate, option) of `ranks` must have one (SensitivityTable::rank_rows, in `ranks` order).
// Optional "pairs" (the "clado" method, SensitivityTable::pairs): [{"layers": [a, b] (network
// order), "options": [{"format", "weights", "activations"}, ...], "values": options x options
// numbers, row-major, any sign}]; each pair's options must cover `options`. Absent: no pairs.
SensitivityTable load_sensitivity(const std::string& path, const Network& net,
                                  const std::vector<LayerPrecision>& options,
                                  const std::vector<SearchSpec::RankSearch>& ranks = {});
// `extra`: further top-level keys (e.g. "settings", "seconds").
nlohmann::json sensitivity_to_json(const SensitivityTable& t, const std::string& network_name,
                                   const nlohmann::json& extra = nlohmann::json::object());

}  // namespace mixprec::search
