// report.json as `mixprec verify REPORT` reads it before re-running anything: the document, the
// report version, the scenario (whose hash must match) and the reproduce options.
#include "pipeline/verify_report.hpp"
#include "fuzz/fuzz_contract.hpp"

void fuzz_one(const std::string& bytes) {
  (void)mixprec::pipeline::verify_options(mixprec::JsonDoc::load(mixprec::fuzz::write_input("report.json", bytes)));
}
