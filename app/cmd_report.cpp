// albsim report DIR: runs the whole cause catalogue and writes the teaching report, a static
// site in DIR (html_report.hpp). The exit status is 1 when a scenario failed; the site is
// written either way, and shows the failure.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>

#include "albsim/config_error.hpp"
#include "albsim/scenarios/html_report.hpp"
#include "albsim/scenarios/scenario_runner.hpp"
#include "commands.hpp"

namespace albsim::app {
namespace {

struct report_options {
  std::string out;
  std::string dir = scenarios::default_scenario_dir();
  unsigned jobs = 0;
};

int report(const report_options& o) {
  using clock = std::chrono::steady_clock;
  scenarios::html_report::create_directories(o.out);
  auto start = clock::now();
  std::vector<scenarios::scenario> list;
  for (const auto& file : scenarios::scenario_files(o.dir))
    list.push_back(scenarios::load_scenario_file(file));
  if (list.empty()) throw config_error(o.dir, 0, "", "no scenario files (*.yaml) here");
  auto results = scenarios::run_scenarios(list, o.jobs);
  double ran = std::chrono::duration<double>(clock::now() - start).count();
  scenarios::html_report(list, results, ran).write(o.out);
  double total = std::chrono::duration<double>(clock::now() - start).count();
  std::size_t passed = 0;
  for (const auto& r : results) passed += r.passed ? 1 : 0;
  for (const auto& r : results) {
    if (!r.passed) std::cout << "FAIL " << r.id << "\n";
  }
  std::printf("%zu of %zu scenarios passed in %.3f s; wrote %s/index.html in %.3f s in all\n",
              passed, results.size(), ran, o.out.c_str(), total);
  return passed == results.size() ? 0 : 1;
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto o = std::make_shared<report_options>();
  auto* cmd = app.add_subcommand(
      "report", "Run every scenario and write the teaching report (a static HTML site) to DIR");
  cmd->add_option("site", o->out, "directory to write the site into (created)")->required();
  cmd->add_option("--dir", o->dir, "scenario directory")->capture_default_str();
  cmd->add_option("--jobs", o->jobs, "scenarios at a time (0 = all at once)")
      ->capture_default_str();
  cmd->callback([o] {
    int rc = report(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace albsim::app
