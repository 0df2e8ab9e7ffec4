// Shared helpers for the test suite.
#pragma once
#include <string>

#include <unistd.h>

#include "core/scenario.hpp"

namespace mixprec::test {

inline std::string source_path(const std::string& rel) { return std::string(MIXPREC_SOURCE_DIR) + "/" + rel; }

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs build/bin/mixprec with `args` (shell-quoted by the caller), capturing stdout and stderr.
RunResult run_cli(const std::string& args);

// Parses a scenario given as JSON text (file label "inline.json").
Scenario scenario_from_text(const std::string& text);
// The default scenario with `patch` merged in (RFC 7386 merge patch), parsed.
Scenario default_scenario_with(const std::string& merge_patch_json);

}  // namespace mixprec::test
