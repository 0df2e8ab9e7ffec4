// Shared helpers for the test suite.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

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
// The SpecError message scenario_from_text(text) throws, or "accepted".
std::string spec_error(const std::string& text);
// The default scenario with `patch` merged in (RFC 7386 merge patch), parsed.
Scenario default_scenario_with(const std::string& merge_patch_json);

// A fresh directory /tmp/mixprec_<tag>XXXXXX.
std::string temp_dir(const std::string& tag);
// A JSON file's content (the test fails if it cannot be read).
nlohmann::json read_json(const std::string& path);
// Writes the default scenario with `merge_patch_json` merged in to `path`; returns path.
std::string write_default_scenario_with(const std::string& path, const std::string& merge_patch_json);
// The default network shrunk for CLI tests: 2 frames of 3 x 8 x 8, widths 4-8, one block per
// stage, LSTM 4 units (a merge patch for the "network" section, to combine with others).
inline const char* kTinyNetworkPatch =
    R"({"input": {"frames": 2, "channels": 3, "height": 8, "width": 8},
        "cnn": {"stage_widths": [4, 8], "stage_strides": [1, 2], "blocks_per_stage": 1},
        "lstm": {"hidden": 4}})";
// Writes the tiny-network scenario the reproduce CLI tests train in seconds (kTinyNetworkPatch,
// int8 with 4-bit LSTM weights, 128 samples, one epoch, a 0.9 energy budget) to `path`.
std::string write_tiny_reproduce_scenario(const std::string& path);

}  // namespace mixprec::test
