// Mapper constraints: `mixprec map SPEC.json --constraints C.yaml` (parse_timeloop_constraints,
// yaml-cpp) against the problem and architecture of the shipped nest spec
// scenarios/nest/venue_conv_stage2.json (the spec file itself is the nest target's).
#include "fuzz/fuzz_contract.hpp"
#include "sim/mapper/mapspace.hpp"
#include "sim/nest/nest_json.hpp"

namespace {
mixprec::sim::nest::NestSpec g_spec;
}

void fuzz_init() {
  g_spec = mixprec::sim::nest::load_nest_spec(mixprec::fuzz::source_path("scenarios/nest/venue_conv_stage2.json"));
}

void fuzz_one(const std::string& bytes) {
  (void)mixprec::sim::nest::parse_timeloop_constraints(mixprec::fuzz::write_input("constraints.yaml", bytes),
                                                       g_spec.problem, g_spec.architecture);
}
