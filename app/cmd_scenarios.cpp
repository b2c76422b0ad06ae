// albsim scenarios (placeholder registered by the foundation; its owner replaces this file).
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace albsim::app {

void add_scenarios_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("scenarios", "(not built yet)");
  cmd->callback([] { throw CLI::RuntimeError("albsim scenarios: not built yet", 1); });
}

}  // namespace albsim::app
