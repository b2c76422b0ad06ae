// Each subcommand of the `albsim` executable registers itself here; main() only dispatches.
#pragma once

namespace CLI {
class App;
}

namespace albsim::app {

void add_backend_command(CLI::App& app);    // albsim backend
void add_serve_command(CLI::App& app);      // albsim serve
void add_scenarios_command(CLI::App& app);  // albsim scenarios list|run
void add_explain_command(CLI::App& app);    // albsim explain
void add_diagnose_command(CLI::App& app);   // albsim diagnose
void add_reproduce_command(CLI::App& app);  // albsim reproduce
void add_report_command(CLI::App& app);     // albsim report DIR

}  // namespace albsim::app
