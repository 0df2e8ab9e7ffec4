// Reading scenario files and precision files. Every function validates completely and throws
// SpecError (file, JSON pointer, expected, found) on the first problem.
#pragma once
#include <string>
#include <vector>

#include "core/json_reader.hpp"
#include "core/spec.hpp"

namespace mixprec {

constexpr int kScenarioVersion = 1;
constexpr int kPrecisionVersion = 1;

Scenario load_scenario(const std::string& path);
Scenario parse_scenario(const json& root, const JsonCtx& ctx);
// A scenario whose document differs from `base`'s only in the hardware and constraints
// sections: those two are parsed and validated from `root`, the rest is copied (sweeps over
// hardware keys and budgets, where re-parsing the network per point would dominate).
Scenario reparse_hardware_and_constraints(const Scenario& base, const json& root, const JsonCtx& ctx);

// The `precision` section (at `pointer`) or a standalone precision file.
PrecisionSpec parse_precision(const json& section, const JsonCtx& ctx, const std::string& pointer);
PrecisionSpec load_precision_file(const std::string& path);
// A precision file's document already in memory (e.g. a Python dict); ctx.file names it.
PrecisionSpec parse_precision_file(const json& root, const JsonCtx& ctx);

// A precision file's "ranks" (PrecisionSpec::ranks) set on the named factorized layers of `net`
// (SpecError naming the file and pointer for a layer that is not factorized or ranks of the
// wrong form).
void apply_rank_overrides(const PrecisionSpec& spec, Network& net, const std::string& file);
// A factorization's ranks in the precision-file form: TT an array, HT {leaf_ranks, transfer_ranks}.
json ranks_to_json(const Factorization& f);

// Applies defaults and overrides in order. A name that matches no layer, or a pattern that
// matches none, is an error naming the override's pointer and the nearest layer name.
std::vector<LayerPrecision> resolve_precision(const PrecisionSpec& spec, const Network& net,
                                              const std::string& file);

// Precision file (the format `search` writes and `--precision` reads): one entry per layer.
json precision_to_json(const Network& net, const std::vector<LayerPrecision>& p);
json layer_precision_to_json(const LayerPrecision& p, bool lstm);

// Parses a format name ("int", "fp16", "bf16", "fp32"); throws SpecError at `pointer`.
NumFormat parse_format(const json& v, const JsonCtx& ctx, const std::string& pointer);

}  // namespace mixprec
