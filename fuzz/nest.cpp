// Loop-nest specs: `mixprec nest SPEC.json` (load_nest_spec: problem, architecture, mapping, then
// the nest analysis of the mapping) and the reader `mixprec map` uses for the same file
// (parse_problem / parse_architecture / parse_mapping). An unrunnable mapping is reported through
// Result::status (the CLI turns it into a SpecError), which is a valid result here.
#include "fuzz/fuzz_contract.hpp"
#include "sim/nest/nest_json.hpp"

void fuzz_one(const std::string& bytes) {
  using namespace mixprec::sim::nest;
  const NestSpec s = load_nest_spec(mixprec::fuzz::write_input("nest.json", bytes));
  (void)evaluate(s.problem, s.architecture, s.mapping);
}
