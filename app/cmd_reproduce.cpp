// albsim reproduce RECORD: builds a scenario from one customer record (the diagnosed cause,
// the timeouts its timings show, its method), runs it for real in-process and prints the
// customer's record beside albsim's (docs/diagnose.md). The work is in the diagnose library.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "albsim/diagnose/reproduction.hpp"
#include "albsim/scenarios/scenario_runner.hpp"
#include "commands.hpp"

namespace albsim::app {
namespace {

struct reproduce_cli {
  std::string record = "-";
  std::string format = "auto";
  std::string save;
  bool redact = false;
  diagnose::reproduce_options options;
};

int reproduce(const reproduce_cli& o) {
  try {
    const auto customer =
        diagnose::read_record(o.record, *diagnose::input_format_from_string(o.format));
    auto rep = diagnose::build_reproduction(customer.view(), o.options);
    if (!o.save.empty()) {
      std::filesystem::path target = o.save;
      if (std::filesystem::is_directory(target)) target /= rep.cause + ".yaml";
      if (target.extension() == ".yaml" && target.stem() != rep.cause) {
        std::cerr << "albsim reproduce: " << target.string() << ": a scenario file must be named "
                  << rep.cause << ".yaml (or give a directory)\n";
        return 2;
      }
      std::ofstream out(target);
      out << rep.yaml;
      if (!out) {
        std::cerr << "albsim reproduce: " << target.string() << ": cannot write\n";
        return 2;
      }
      std::cout << "scenario written to " << target.string() << " (albsim scenarios run "
                << rep.cause << " --dir " << target.parent_path().string() << ")\n";
    }
    auto result = scenarios::run_scenario(rep.scenario);
    if (!result.error.empty()) {
      std::cerr << "albsim reproduce: the scenario could not run: " << result.error << "\n";
      return 1;
    }
    const diagnose::redactor redact(o.redact);
    const auto rows = diagnose::compare(customer.view(), result.observations["log"], rep, redact);
    diagnose::print_comparison(std::cout, o.record, rep, rows);
    return diagnose::reproduced(rows) ? 0 : 1;
  } catch (const diagnose::input_error& e) {
    std::cerr << "albsim reproduce: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

void add_reproduce_command(CLI::App& app) {
  auto o = std::make_shared<reproduce_cli>();
  auto* cmd = app.add_subcommand(
      "reproduce", "run the diagnosed cause of one access-log record and compare the records");
  cmd->add_option("record", o->record, "FILE:LINE, or - for one record on standard input");
  cmd->add_option("--format", o->format, "input format")
      ->check(CLI::IsMember({"auto", "json", "csv", "albsim"}));
  cmd->add_option("--cause", o->options.cause, "reproduce this candidate instead of the first");
  cmd->add_option("--time-scale", o->options.time_scale,
                  "run with the customer's timeouts times this (default: the scenario's own)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--save", o->save, "write the scenario (catalogue format) to FILE or DIR");
  cmd->add_option("--dir", o->options.dir, "scenario directory");
  cmd->add_flag("--redact", o->redact, "hash IP addresses, drop query strings");
  cmd->callback([o] {
    const int status = reproduce(*o);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace albsim::app
