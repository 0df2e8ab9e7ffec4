// Subcommands of the CLI. Each registers its options on the CLI11 app and runs when selected.
#pragma once
#include <CLI/CLI.hpp>

namespace mixprec::app {

void register_commands(CLI::App& app);
int run_selected(CLI::App& app);

}  // namespace mixprec::app
