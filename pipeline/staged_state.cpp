#include "pipeline/staged_state.hpp"

#include <string>

#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"

namespace mixprec::pipeline {

using nlohmann::json;

namespace {
// Format of state.json; a state written by another version is refused by load_state.
constexpr int kStateVersion = 3;  // 3: reproduce's plan carries the ladder's and baseline's predictions
}  // namespace

json load_state(const std::string& path) {
  const JsonDoc doc = JsonDoc::load(path);
  json s = doc.root();
  if (!s.is_object() || s.value("mixprec_reproduce_state", 0) != kStateVersion)
    throw SpecError(path, "/mixprec_reproduce_state", std::to_string(kStateVersion) + " (this version's state)",
                    s.is_object() && s.contains("mixprec_reproduce_state") ? s["mixprec_reproduce_state"].dump()
                                                                           : "nothing");
  if (!s.contains("checksum") || !s["checksum"].is_string())
    throw SpecError(path, "/checksum", "the state's checksum", "nothing");
  const std::string want = s["checksum"].get<std::string>();
  const std::string have = json_checksum(s, "checksum");
  s.erase("checksum");
  if (have != want)
    throw SpecError(path, "/checksum", "\"" + have + "\" (the FNV-1a of the state as written)",
                    "\"" + want + "\": the file was altered or damaged (--force starts the seed over)");
  return s;
}

void save_state(const std::string& path, json state) {
  state.erase("checksum");
  state["mixprec_reproduce_state"] = kStateVersion;
  state["checksum"] = json_checksum(state, "checksum");
  write_file_atomic(path, state.dump(1) + "\n");
}

}  // namespace mixprec::pipeline
