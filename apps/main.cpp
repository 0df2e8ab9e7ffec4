// mixprec: the command-line interface. Library code throws typed errors; this is the only place
// that turns them into messages and exit codes (0 ok, 2 bad input or usage, 1 internal error).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/commands.hpp"
#include "core/errors.hpp"
#include "core/io.hpp"
#include "core/manifest.hpp"

int main(int argc, char** argv) {
  using namespace mixprec;
  CLI::App app{"mixprec: hardware-aware energy simulation and precision search for "
               "mixed-precision neural networks"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mixprec ") + mixprec_version());
  app::register_commands(app);
  try {
    app.parse(argc, argv);
    return app::run_selected(app);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const SpecError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const WriteError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  } catch (const InternalError& e) {
    std::cerr << "internal error (a bug in mixprec, please report it): " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
