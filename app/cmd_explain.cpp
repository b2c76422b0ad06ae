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

// How to read a status in the log, said once before the causes of that status: the guide's
// reading rule first, then albsim's rules where the guide is silent (docs/status-rules.md).
constexpr const char* k_reading_status =
    "as the guide advises, first compare `status` with `upstream_status` in the access log. "
    "The same code means the backend may have returned it and the balancer passed it on. "
    "\"-\" means the request was not sent to a backend (the guide says so for throttling; "
    "albsim writes it whenever no backend received the whole request). Another code means, "
    "by albsim's rule, that the request was sent and the exchange failed: 502 for a reset, "
    "a close, an invalid or an incomplete answer, 504 for a response timeout; or that the "
    "backend sent a status the balancer does not pass on (444 by default, answered 502). "
    "albsim writes 502 and 504 the way nginx-family proxies do, so \"status 502, "
    "upstream_status 502\" can also be a failed exchange: the causes below tell them apart.";
constexpr const char* k_reading_499 =
    "the client closed the connection (the guide); 499 is written only to the access log, "
    "the client never saw it. albsim logs 499 when the whole request had arrived and the "
    "answer was not yet complete (albsim's rule: a close before that is 400). upstream_status "
    "is the backend's status if its status line had arrived, 499 if the backend had the "
    "request but had not answered, \"-\" if no backend had it. request_time, tcpinfo_rtt "
    "and upstream_response_time tell the causes apart, as the guide suggests.";

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
  paragraph("  simulation:      ", s.explain.simulation);
  std::cout << "  reproduce:       albsim scenarios run " << c.id << "\n\n";
}

void explain(const explain_options& o) {
  bool status = !o.which.empty() && o.which.find_first_not_of("0123456789") == std::string::npos;
  std::size_t shown = 0;
  for (const auto& c : cause_catalogue()) {
    if (status ? std::to_string(c.status) == o.which : c.id == o.which) {
      if (status && shown == 0) {
        paragraph("Status " + o.which + ": ", c.status == 499 ? k_reading_499 : k_reading_status);
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
