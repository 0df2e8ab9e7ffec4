// Provenance recorded in every machine-readable output: enough to re-run and compare.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace mixprec {

// FNV-1a 64-bit over bytes; `h` continues an earlier hash (chain several inputs).
constexpr std::uint64_t kFnv1a64Offset = 1469598103934665603ULL;
std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h = kFnv1a64Offset);
inline std::uint64_t fnv1a64(const std::string& s, std::uint64_t h = kFnv1a64Offset) {
  return fnv1a64(s.data(), s.size(), h);
}
// 16 lower-case hex digits.
std::string hex16(std::uint64_t v);

// The checksum a JSON document carries about itself: hex16 of the FNV-1a of `j`'s compact dump
// without its member `key` (sensitivity caches, points.jsonl lines).
std::string json_checksum(nlohmann::json j, const std::string& key);

// FNV-1a 64-bit hash of a file's bytes, as 16 hex digits ("" if unreadable).
std::string file_hash(const std::string& path);

// {"mixprec_version", "compiler", "cxx_standard", "scenario", "scenario_hash", "threads", ...}
nlohmann::json make_manifest(const std::string& scenario_path, int threads);

// `git describe --always --dirty` of the source tree at configure time.
const char* mixprec_version();

}  // namespace mixprec
