// Scenario files: `mixprec validate FILE` (parse, validate, build the network).
#include "core/scenario.hpp"
#include "fuzz/fuzz_contract.hpp"

void fuzz_one(const std::string& bytes) {
  (void)mixprec::load_scenario(mixprec::fuzz::write_input("scenario.json", bytes));
}
