// albsim backend (placeholder registered by the foundation; its owner replaces this file).
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace albsim::app {

void add_backend_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("backend", "(not built yet)");
  cmd->callback([] { throw CLI::RuntimeError("albsim backend: not built yet", 1); });
}

}  // namespace albsim::app
