#include "core/manifest.hpp"

#include "mixprec_version.hpp"  // generated at build time (cmake/version.cmake)

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace mixprec {

std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

std::string json_checksum(nlohmann::json j, const std::string& key) {
  j.erase(key);
  return hex16(fnv1a64(j.dump()));
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return hex16(fnv1a64(bytes));
}

const char* mixprec_version() { return MIXPREC_VERSION; }

nlohmann::json make_manifest(const std::string& scenario_path, int threads) {
  nlohmann::json m;
  m["mixprec_version"] = mixprec_version();
#if defined(__clang__)
  m["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  m["compiler"] = std::string("g++ ") + __VERSION__;
#endif
  m["cxx_standard"] = static_cast<long>(__cplusplus);
  m["scenario"] = scenario_path;
  m["scenario_hash_fnv1a64"] = file_hash(scenario_path);
  m["threads"] = threads;
  return m;
}

}  // namespace mixprec
