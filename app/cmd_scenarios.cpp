// albsim scenarios list|run: the cause catalogue as runnable, self-checking scenarios
// (scenarios/catalogue/<ID>.yaml, docs/scenarios.md).
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "albsim/cause.hpp"
#include "albsim/config_error.hpp"
#include "albsim/scenarios/html_report.hpp"
#include "albsim/scenarios/scenario_runner.hpp"
#include "commands.hpp"

namespace albsim::app {
namespace {

struct scenarios_options {
  std::string dir = scenarios::default_scenario_dir();
  int status = 0;
  std::string which;
  bool json = false;
  bool quiet = false;
  unsigned jobs = 0;
  std::string html;  // also write the teaching report here
};

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The scenarios `which` selects: an ID, a status, or "all".
std::vector<scenarios::scenario> select(const scenarios_options& o) {
  std::vector<scenarios::scenario> out;
  if (o.which != "all" && !all_digits(o.which)) {
    std::string file = (std::filesystem::path(o.dir) / (o.which + ".yaml")).string();
    if (!std::filesystem::exists(file)) {
      std::string hint = find_cause(o.which) ? "the catalogue has this cause but " + o.dir +
                                                   " has no scenario file for it"
                                             : "no such cause ID (albsim scenarios list)";
      throw config_error(file, 0, "", hint);
    }
    out.push_back(scenarios::load_scenario_file(file));
    return out;
  }
  int status = o.which == "all" ? 0 : std::stoi(o.which);
  for (const auto& file : scenarios::scenario_files(o.dir)) {
    auto s = scenarios::load_scenario_file(file);
    if (status == 0 || s.status == status) out.push_back(std::move(s));
  }
  if (out.empty()) throw config_error(o.dir, 0, "", "no scenario matches '" + o.which + "'");
  return out;
}

void list(const scenarios_options& o) {
  for (const auto& file : scenarios::scenario_files(o.dir)) {
    auto s = scenarios::load_scenario_file(file);
    if (o.status != 0 && s.status != o.status) continue;
    std::printf("%-34s %d  %s\n", s.id.c_str(), s.status, s.title.c_str());
  }
}

int run(const scenarios_options& o) {
  auto list = select(o);
  if (!o.html.empty()) scenarios::html_report::create_directories(o.html);
  auto start = std::chrono::steady_clock::now();
  auto results = scenarios::run_scenarios(list, o.jobs);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bool ok = true;
  for (const auto& r : results) ok = ok && r.passed;
  if (!o.html.empty()) scenarios::html_report(list, results, wall).write(o.html);
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : results) out.push_back(scenarios::to_json(r));
    std::cout << (results.size() == 1 ? out.front() : out).dump(2) << "\n";
    return ok ? 0 : 1;
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!o.quiet || !results[i].passed) scenarios::print_report(std::cout, list[i], results[i]);
  }
  if (results.size() > 1) scenarios::print_summary(std::cout, results, wall);
  return ok ? 0 : 1;
}

}  // namespace

void add_scenarios_command(CLI::App& app) {
  auto o = std::make_shared<scenarios_options>();
  auto* cmd = app.add_subcommand("scenarios", "Run the cause catalogue as self-checking scenarios");
  cmd->require_subcommand(1);

  auto* ls = cmd->add_subcommand("list", "List the scenarios: ID, status, title");
  ls->add_option("--status", o->status, "only this status");
  ls->add_option("--dir", o->dir, "scenario directory")->capture_default_str();
  ls->callback([o] { list(*o); });

  auto* rn = cmd->add_subcommand("run", "Run scenarios in-process on loopback and check them");
  rn->add_option("which", o->which, "a cause ID, a status (e.g. 502) or 'all'")->required();
  rn->add_option("--dir", o->dir, "scenario directory")->capture_default_str();
  rn->add_option("--jobs", o->jobs, "scenarios at a time (0 = all at once)")->capture_default_str();
  rn->add_flag("--json", o->json, "print the results as JSON");
  rn->add_flag("--quiet", o->quiet, "print only failed scenarios and the summary");
  rn->add_option("--html", o->html, "also write the teaching report (a static site) to DIR");
  rn->callback([o] {
    int rc = run(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace albsim::app
