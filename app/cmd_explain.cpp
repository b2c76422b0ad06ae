// albsim explain STATUS|ID: how to recognise a cause in the access log, what to check, and the
// command that reproduces it. The text comes from the scenario files, so the explanation shown
// here is the one the scenario proves.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "albsim/cause.hpp"
#include "albsim/config_error.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "commands.hpp"

namespace albsim::app {
namespace {

struct explain_options {
  std::string which;
  std::string dir = scenarios::default_scenario_dir();
};

void paragraph(const std::string& label, const std::string& text) {
  if (text.empty()) return;
  const std::string pad(label.size(), ' ');
  std::istringstream words(text);
  std::string word, line = label;
  bool fresh = true;
  while (words >> word) {
    if (!fresh && line.size() + 1 + word.size() > 100) {
      std::cout << line << "\n";
      line = pad;
      fresh = true;
    }
    line += (fresh ? "" : " ") + word;
    fresh = false;
  }
  std::cout << line << "\n";
}

void explain_cause(const cause_info& c, const std::string& dir) {
  std::cout << c.id << " (" << c.status << "): " << c.title << "\n";
  std::string file = (std::filesystem::path(dir) / (std::string(c.id) + ".yaml")).string();
  if (!std::filesystem::exists(file)) {
    std::cout << "  (no scenario file in " << dir << ")\n\n";
    return;
  }
  auto s = scenarios::load_scenario_file(file);
  paragraph("  at the balancer: ", s.explain.balancer);
  paragraph("  in the log:      ", s.explain.log);
  paragraph("  check:           ", s.explain.check);
  paragraph("  rule:            ", s.explain.rule);
  std::cout << "  reproduce:       albsim scenarios run " << c.id << "\n\n";
}

void explain(const explain_options& o) {
  bool status = !o.which.empty() && o.which.find_first_not_of("0123456789") == std::string::npos;
  std::size_t shown = 0;
  for (const auto& c : cause_catalogue()) {
    if (status ? std::to_string(c.status) == o.which : c.id == o.which) {
      if (status && shown == 0 && c.status == 499) {
        paragraph("Status 499: ",
                  "written only to the access log; the client closed the "
                  "connection before the answer, so it never saw a status. request_time, "
                  "tcpinfo_rtt and upstream_response_time tell the causes apart.");
        std::cout << "\n";
      } else if (status && shown == 0) {
        paragraph("Status " + o.which + ": ",
                  "first compare `status` with `upstream_status` "
                  "in the access log. Equal means the backend produced it and the balancer "
                  "relayed it; \"-\" means the balancer decided it itself.");
        std::cout << "\n";
      }
      explain_cause(c, o.dir);
      ++shown;
    }
  }
  if (shown == 0) {
    throw config_error("<command line>", 0, "",
                       "'" + o.which +
                           "' is neither a status nor a cause ID of the catalogue (albsim "
                           "scenarios list shows them)");
  }
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto o = std::make_shared<explain_options>();
  auto* cmd = app.add_subcommand("explain", "Explain a status or a cause: log signature, checks");
  cmd->add_option("which", o->which, "a status (e.g. 502) or a cause ID")->required();
  cmd->add_option("--dir", o->dir, "scenario directory")->capture_default_str();
  cmd->callback([o] { explain(*o); });
}

}  // namespace albsim::app
