// Provenance recorded in every machine-readable output: enough to re-run and compare.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace mixprec {

// FNV-1a 64-bit hash of a file's bytes, as 16 hex digits ("" if unreadable).
std::string file_hash(const std::string& path);

// {"mixprec_version", "compiler", "cxx_standard", "scenario", "scenario_hash", "threads", ...}
nlohmann::json make_manifest(const std::string& scenario_path, int threads);

// `git describe --always --dirty` of the source tree at configure time.
const char* mixprec_version();

}  // namespace mixprec
