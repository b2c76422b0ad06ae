// One expected observation of a scenario and its comparison with what was observed. The
// observations of a run are one JSON document ({"client": ..., "log": ..., "backend": {name:
// counters}}); an expectation names a field in it ("log.upstream_connect_time") and a matcher.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace albsim::scenarios {

struct value_matcher {
  enum class kind {
    equals,   // scalar: numbers compare numerically, anything else as text
    approx,   // |observed - value| <= tolerance
    range,    // at_least <= observed <= at_most (either bound optional)
    present,  // the field exists and is not "-"
    absent,   // the field is missing or "-"
    one_of,   // equals one of `choices`
    same_as,  // equals the observation at the path in `text` (both present, not "-")
  };
  kind k = kind::equals;
  std::string text;              // equals: the expected value as written; same_as: the path
  std::optional<double> number;  // equals: the value when it is a number
  double value = 0;              // approx
  double tolerance = 0;          // approx
  std::optional<double> at_least, at_most;
  std::vector<std::string> choices;

  // "= 504", "≈ 5.0 ± 0.3", ">= 0.2 and <= 1.5", "present", ...
  std::string describe() const;
};

struct expectation {
  std::string
      field;  // path in the observations, e.g. "log.status", "client.headers.alb-qps-limited"
  value_matcher matcher;
  std::string file;  // where it was written, for messages
  int line = 0;
};

struct check_result {
  expectation expected;
  bool pass = false;
  std::string observed;  // the observed value as text ("(not observed)" when missing)
};

// Looks the field up in `observations` (a dotted path; header names are lower case) and
// compares. Never throws.
check_result check(const expectation& e, const nlohmann::json& observations);

// The observed value at a dotted path, or nullptr.
const nlohmann::json* lookup(const nlohmann::json& observations, const std::string& field);

}  // namespace albsim::scenarios
