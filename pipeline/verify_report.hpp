// What `mixprec verify REPORT` reads from a report before it re-runs anything: the report's
// version, the scenario (which must still hash as recorded) and the reproduce options.
#pragma once
#include <string>

#include "core/json_reader.hpp"
#include "pipeline/reproduce.hpp"

namespace mixprec::pipeline {

// The options that re-run `report` (a parsed report.json; its file names the errors). Throws
// SpecError naming the report and the pointer for anything missing, of the wrong type or out of
// range (a report of an earlier `reproduce`, without the seed/frontier options, included), and
// when the scenario file's hash differs from the recorded one. `out`, `force` and `progress` are
// left for the caller.
ReproduceOptions verify_options(const JsonDoc& report);

}  // namespace mixprec::pipeline
