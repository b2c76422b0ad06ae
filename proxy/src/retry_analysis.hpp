// What a retry test asks the journal (docs/retry-kit.md): per logical operation (journal key),
// how many attempts the client made, the intervals between them (its backoff), whether it
// re-sent a non-idempotent request after a failure that may have reached the backend, and
// whether it waited as long as a Retry-After it was given.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "request_journal.hpp"

namespace albsim::proxy {

// Slack for clock reading when judging a wait against Retry-After (the journal's times are
// wall-clock readings of the balancer, good to a few milliseconds).
inline constexpr double k_retry_after_slack_s = 0.010;

struct retry_report {
  std::string key;
  std::size_t attempts = 0;
  std::vector<int> statuses;        // per attempt, in order
  std::vector<double> intervals_s;  // between successive attempts' first bytes
  // A POST or PATCH sent again after an attempt that failed (status >= 500) once the request
  // had reached a backend (upstream_status not "-"): the operation may have run twice.
  bool non_idempotent_resent = false;
  std::string resent_detail;
  // nullopt: no attempt was answered with Retry-After and followed by another.
  std::optional<bool> retry_after_honoured;
  std::string retry_after_detail;
};

// One report per non-empty key, in the order keys first appear; `entries` oldest first.
std::vector<retry_report> analyse_retries(const std::vector<journal_entry>& entries);

}  // namespace albsim::proxy
