// Reads a scenario's `expect` section (docs/scenarios.md) into its expectations: which client
// observations, access-log fields and backend counters a run must show, each with its matcher
// and the file and line it came from. The rest of the scenario file is read by
// scenario_loader.cpp.
#pragma once

namespace albsim {
class yaml_cursor;
struct cause_info;
}  // namespace albsim

namespace albsim::scenarios {

struct scenario;

// Appends the expectations of `expect` to s.expectations. `s` already has its id and backends;
// `cause` is the catalogue entry of s.id, or null for a success scenario.
void parse_expectations(const yaml_cursor& expect, scenario& s, const cause_info* cause);

}  // namespace albsim::scenarios
