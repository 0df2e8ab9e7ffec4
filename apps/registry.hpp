// Self-registering subcommands: a command lives in its own apps/cmd_*.cpp and registers itself
// with a static CommandRegistrar, so adding a command never edits a shared file.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace mixprec::app {

struct Command {
  std::string name;
  std::function<void(CLI::App&)> setup;  // adds the subcommand and its options
  std::function<int()> run;              // runs when the subcommand was given
};

inline std::vector<Command>& command_registry() {
  static std::vector<Command> r;
  return r;
}

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::function<void(CLI::App&)> setup, std::function<int()> run) {
    command_registry().push_back(Command{std::move(name), std::move(setup), std::move(run)});
  }
};

}  // namespace mixprec::app
