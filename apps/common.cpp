#include "apps/common.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <sys/stat.h>

#include "core/json_reader.hpp"
#include "core/io.hpp"
#include "core/scenario.hpp"

namespace mixprec::app {

void emit(const std::string& text, const std::string& out) {
  if (out.empty()) {
    std::cout << text;
    std::cout.flush();
  } else {
    write_file_atomic(out, text);
    std::cerr << "wrote " << out << "\n";
  }
}

std::vector<LayerPrecision> precision_for(Scenario& sc, const std::string& file) {
  if (file.empty()) return sc.layer_precision;
  const PrecisionSpec spec = load_precision_file(file);
  apply_rank_overrides(spec, sc.net, file);
  return resolve_precision(spec, sc.net, file);
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

}  // namespace mixprec::app
