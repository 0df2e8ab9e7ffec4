// Helpers shared by the CLI commands.
#pragma once
#include <string>
#include <vector>

#include "core/spec.hpp"

namespace mixprec::app {

// Writes `text` to `out` atomically (temporary file, then rename), or to stdout when empty.
void emit(const std::string& text, const std::string& out);

// The scenario's per-layer precision, or the one a precision file gives (resolved against it).
std::vector<LayerPrecision> precision_for(const Scenario& sc, const std::string& file);

// Creates a directory and its parents; throws on failure.
void make_dirs(const std::string& dir);

}  // namespace mixprec::app
