// Helpers shared by the pipeline stages and the CLI.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/spec.hpp"

namespace mixprec::pipeline {

// The scenario's per-layer precision, or the one a precision file gives (resolved against it).
// A precision file's "ranks" (e.g. `mixprec search` with search.ranks) are set on sc.net's
// factorized layers.
std::vector<LayerPrecision> precision_for(Scenario& sc, const std::string& file);

// One number through a printf format ("%.1f%%"), for progress lines and generated sentences.
std::string fmt(const char* format, double v);

// Whether `path` names a file this process can open for reading.
bool is_readable_file(const std::string& path);

// Creates a directory and its parents; throws on failure.
void make_dirs(const std::string& dir);

// Runs body(0) ... body(count - 1) on up to `jobs` threads (the calling thread is one of them),
// taking tasks in index order. The first exception stops the taking of new tasks and is
// rethrown once the running ones have finished.
void run_concurrently(std::size_t count, int jobs, const std::function<void(std::size_t)>& body);

}  // namespace mixprec::pipeline
