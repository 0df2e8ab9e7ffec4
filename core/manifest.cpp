#include "core/manifest.hpp"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace mixprec {

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::uint64_t h = 1469598103934665603ULL;
  std::istreambuf_iterator<char> it(in), end;
  for (; it != end; ++it) {
    h ^= static_cast<unsigned char>(*it);
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
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
