// Runs scenarios for real: each starts its own backends and proxy in-process on loopback (ports
// from the kernel), lets the scripted client act, collects the client's view, the access-log
// record and the backend counters, and compares them with the expectations.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <vector>

#include "albsim/scenarios/expectation.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "albsim/scenarios/sequence_event.hpp"

namespace albsim::scenarios {

// One line of the timeline: seconds since the scenario started, the hop, what happened.
struct timeline_event {
  double at = 0;
  std::string hop;  // "client", "balancer", "backend <name>"
  std::string what;
};

struct scenario_result {
  std::string id;
  int status = 0;
  std::string title;
  bool passed = false;
  double wall_s = 0;
  std::string error;  // set when the scenario could not run (start-up failure)
  std::vector<timeline_event> timeline;
  nlohmann::json observations;  // {"client": ..., "log": ..., "log_count": N, "backend": ...}
  std::vector<check_result> checks;
  // The exchange the checks read (the record of interest), as a sequence of wire events.
  std::vector<sequence_event> sequence;
  std::string sequence_scope;  // which exchange that is, when the client made several
};

scenario_result run_scenario(const scenario& s);
// Runs all of them with at most `jobs` at a time (0 = all at once); results in input order.
std::vector<scenario_result> run_scenarios(const std::vector<scenario>& list, unsigned jobs);

// The human-readable report of one run: timeline, client view, record, checks, explanation.
void print_report(std::ostream& out, const scenario& s, const scenario_result& r);
// The summary table of several runs and the total wall time.
void print_summary(std::ostream& out, const std::vector<scenario_result>& results, double wall_s);
nlohmann::json to_json(const scenario_result& r);

}  // namespace albsim::scenarios
