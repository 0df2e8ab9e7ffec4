// JSON format of the nest-analysis model: {"mixprec_nest": 1, "problem", "architecture",
// "mapping"}. The three sections are self-contained so a scenario's hardware section can embed
// "architecture" and a per-layer mapping file can embed "mapping". Format: docs/nest.md.
#pragma once
#include <string>

#include "core/json_reader.hpp"
#include "sim/nest/nest.hpp"

namespace mixprec::sim::nest {

struct NestSpec {
  Problem problem;
  Architecture architecture;
  Mapping mapping;
};

// Every parser validates completely; errors are SpecError(file, JSON pointer, expected, found).
Problem parse_problem(const json& j, const JsonCtx& ctx, const std::string& pointer);
Architecture parse_architecture(const json& j, const JsonCtx& ctx, const std::string& pointer,
                                const Problem& p);
Mapping parse_mapping(const json& j, const JsonCtx& ctx, const std::string& pointer,
                      const Problem& p, const Architecture& a);
NestSpec parse_nest_spec(const JsonDoc& doc);
NestSpec load_nest_spec(const std::string& path);

json to_json(const Problem& p);
json to_json(const Architecture& a, const Problem& p);
json to_json(const Mapping& m, const Problem& p, const Architecture& a);
json to_json(const NestSpec& s);
// Per level and dataspace statistics, cycles and energy of an evaluation.
json result_to_json(const Problem& p, const Architecture& a, const Result& r);

}  // namespace mixprec::sim::nest
