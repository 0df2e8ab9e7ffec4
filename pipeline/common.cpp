#include "pipeline/common.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>

#include "core/io.hpp"
#include "core/scenario.hpp"

namespace mixprec::pipeline {

std::vector<LayerPrecision> precision_for(Scenario& sc, const std::string& file) {
  if (file.empty()) return sc.layer_precision;
  const PrecisionSpec spec = load_precision_file(file);
  apply_rank_overrides(spec, sc.net, file);
  return resolve_precision(spec, sc.net, file);
}

std::string fmt(const char* format, double v) {
  char b[64];
  std::snprintf(b, sizeof b, format, v);
  return b;
}

void make_dirs(const std::string& dir) {
  std::string cur;
  for (std::size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        throw WriteError(cur, std::string("cannot create the directory: ") + std::strerror(errno));
    }
    if (i < dir.size()) cur += dir[i];
  }
}

}  // namespace mixprec::pipeline
