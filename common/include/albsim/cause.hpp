// The cause catalogue (../shared/CAUSES.md) as data: every status the simulated balancer can
// produce, with the stable ID that travels from the place it is decided to the access-log
// record (`sim_cause`), the scenario files, `albsim explain` and the tests.
#pragma once

#include <span>
#include <string_view>

namespace albsim {

struct cause_info {
  std::string_view id;     // stable catalogue ID, e.g. "504-connect-timeout"
  int status;              // the status the balancer logs
  std::string_view title;  // one line, in the project's own words
};

// Every catalogue entry, ordered by status then as in CAUSES.md.
std::span<const cause_info> cause_catalogue();

// nullptr when `id` is not in the catalogue.
const cause_info* find_cause(std::string_view id);

// `sim_cause` for a request that completed normally (status from the backend, nothing wrong).
inline constexpr std::string_view k_cause_ok = "ok";

}  // namespace albsim
