// Helpers shared by the CLI commands.
#pragma once
#include <string>

#include "pipeline/common.hpp"

namespace mixprec::app {

// The pipeline library's names, visible to every command.
using namespace mixprec::pipeline;

// Writes `text` to `out` atomically (temporary file, then rename), or to stdout when empty.
void emit(const std::string& text, const std::string& out);

}  // namespace mixprec::app
