// What `mixprec verify REPORT` reads from a report before it re-runs anything: the report's
// version, the scenario (which must still hash as recorded) and the reproduce options.
#pragma once
#include <string>

#include "apps/reproduce.hpp"
#include "core/json_reader.hpp"

namespace mixprec::app {

// The options that re-run `report` (a parsed report.json; its file names the errors). Throws
// SpecError naming the report and the pointer for anything missing, of the wrong type or out of
// range, and when the scenario file's hash differs from the recorded one. `out`, `force` and
// `progress` are left for the caller.
ReproduceOptions verify_options(const JsonDoc& report);

}  // namespace mixprec::app
