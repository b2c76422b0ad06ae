// The teaching report: a static site written from real scenario runs (`albsim report DIR`,
// `albsim scenarios run ... --html DIR`). Everything it needs is in DIR (no network, opened from
// the file system): an index of status codes × causes with each run's result and wall time, a
// page per cause (the exchange as a sequence diagram, the access-log record with the fields
// that identify the cause, the explanation, the command that reproduces it), "reading a
// record" (a decision tree from record fields to causes) and "practice" (real records without
// sim_cause: pick the cause, then see the answer).
#pragma once

#include <string>
#include <vector>

#include "albsim/scenarios/scenario.hpp"
#include "albsim/scenarios/scenario_runner.hpp"

namespace albsim::scenarios {

class html_report {
 public:
  // `scenarios` and `results` pair up by index, as run_scenarios returns them.
  html_report(const std::vector<scenario>& scenarios, const std::vector<scenario_result>& results,
              double wall_s);

  // Writes the site into `dir` (created if missing). Throws std::runtime_error naming the file
  // that could not be written.
  void write(const std::string& dir) const;
  // Creates the site's directories; throws std::runtime_error when they cannot be. Commands call
  // it before running scenarios, so that a bad directory is refused at once.
  static void create_directories(const std::string& dir);

  std::string index_page() const;
  std::string cause_page(std::size_t i) const;
  std::string reading_page() const;
  std::string practice_page() const;

 private:
  const std::vector<scenario>& scenarios_;
  const std::vector<scenario_result>& results_;
  double wall_s_;
};

}  // namespace albsim::scenarios
