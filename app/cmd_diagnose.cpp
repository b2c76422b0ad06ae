// albsim diagnose [FILE…|-]: from a customer's access-log records to ranked candidate causes
// with their evidence (docs/diagnose.md). The work is in the diagnose library.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <iostream>

#include "albsim/diagnose/log_diagnosis.hpp"
#include "commands.hpp"

namespace albsim::app {

void add_diagnose_command(CLI::App& app) {
  auto options = std::make_shared<diagnose::diagnose_options>();
  options->files.clear();
  auto format = std::make_shared<std::string>("auto");
  auto* cmd = app.add_subcommand(
      "diagnose", "read access-log records (JSON Lines, CSV, gzip) and rank their causes");
  cmd->add_option("files", options->files, "log files; - or none = standard input");
  cmd->add_option("--format", *format, "input format")
      ->check(CLI::IsMember({"auto", "json", "csv", "albsim"}));
  cmd->add_flag("--records", options->records, "each record's candidates with their evidence");
  cmd->add_flag("--json", options->json, "one JSON object per record, then the summary");
  cmd->add_flag("--redact", options->redact, "hash IP addresses, drop query strings");
  cmd->callback([options, format] {
    options->format = *diagnose::input_format_from_string(*format);
    if (options->files.empty()) {
      // Reading a terminal would wait for typed records: almost always a forgotten FILE.
      if (isatty(STDIN_FILENO)) {
        std::cerr << "albsim diagnose: no FILE given and standard input is a terminal\n";
        throw CLI::RuntimeError(2);
      }
      options->files = {"-"};
    }
    std::ios::sync_with_stdio(false);
    const int status = diagnose::diagnose_logs(*options, std::cout, std::cerr);
    std::cout.flush();
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace albsim::app
