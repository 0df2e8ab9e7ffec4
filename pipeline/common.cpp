#include "pipeline/common.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>

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

bool is_readable_file(const std::string& path) { return std::ifstream(path).good(); }

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

void run_concurrently(std::size_t count, int jobs, const std::function<void(std::size_t)>& body) {
  std::size_t next = 0;
  std::mutex next_mutex;
  std::exception_ptr error;
  auto worker = [&] {
    for (;;) {
      std::size_t i = 0;
      {
        std::lock_guard<std::mutex> lock(next_mutex);
        if (error || next >= count) return;
        i = next++;
      }
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(next_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t j = 1; j < std::min<std::size_t>(std::size_t(std::max(jobs, 1)), count); ++j)
    pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace mixprec::pipeline
