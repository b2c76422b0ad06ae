// The ranking rules of `albsim diagnose` as data: one row per catalogue cause ID
// (albsim::cause_catalogue()), each a list of conditions on the record's fields with the
// source of the rule (the guide's section, or albsim's own rule where the guide is silent).
// A cause added to the catalogue needs one row here and nothing else. The limits the
// conditions compare with come from the proxy's configuration defaults (the same numbers the
// simulated balancer applies), not from literals.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "albsim/diagnose/log_record.hpp"

namespace albsim::diagnose {

// A named limit a condition compares with; its value and source are in `limits`.
enum class limit : std::uint8_t {
  none,
  connect_timeout_s,      // the balancer's connect timeout to a backend
  request_timeout_s,      // the listener's default request timeout
  min_request_timeout_s,  // the smallest request timeout a listener accepts
  header_line_bytes,      // the longest request header line
  uri_bytes,              // the longest request target
  slow_rtt_us,            // a client RTT that is a network problem (albsim's own)
  quick_leave_s,          // a client that leaves this soon did not wait for anything (albsim's)
  path_mtu_bytes,         // a request larger than one packet (albsim's own)
  head_only_bytes,        // a request this small carried at most its head (albsim's own)
  long_write_ms,          // a response write this long was held back (albsim's own)
  count_
};

struct limit_value {
  double value = 0;
  std::string_view unit;    // "s", "bytes", "µs", "ms"
  std::string_view source;  // where the number comes from
};

// The limits' values (from proxy::limits_config / listener_config defaults and albsim's own).
const limit_value& limit_of(limit l);

enum class test : std::uint8_t {
  same_as_status,       // the field's code equals the record's status (the backend's own answer)
  other_code,           // the field holds a code different from status (a backend's 444, 504, ...)
  absent_or_same_code,  // "-", or the same code as status
  code_is,              // the field's code equals `factor` (e.g. upstream_status 502)
  absent,               // "-" or missing
  present,              // holds a value
  equals,               // equals `text` (case-insensitive)
  at_least,             // number >= limit x factor (limit::none: >= factor)
  at_most,              // number <= limit x factor
  near,                 // |number - limit| <= limit x factor
  longer_than,          // the text is longer than limit x factor characters
  over_usual_latency,   // number >= factor x the upstream's usual latency in this log
  under_usual_latency,  // number < factor x the upstream's usual latency in this log
};

struct condition {
  field on;
  test kind;
  limit against = limit::none;
  double factor = 1;
  std::string_view text;  // for `equals`
  int weight = 0;         // added to the score when the condition holds
  bool required = false;  // when it does not hold, the cause is ruled out
};

struct cause_rule {
  std::string_view cause;   // catalogue ID
  std::string_view source;  // "guide 502 #4" (the 4th possible cause under 502) or "albsim"
  std::vector<condition> conditions;
  // What would tell it apart from the causes it shares a record with, beyond the log.
  std::string_view separate_by;
};

// Causes whose records the access log alone cannot tell apart, and the evidence that can.
struct ambiguity_set {
  std::string_view name;
  std::vector<std::string_view> causes;
  std::string_view separate_by;
};

// Every row, in catalogue order; a catalogue ID without a row has no rule (a test checks
// there is none).
std::span<const cause_rule> rule_table();
const cause_rule* find_rule(std::string_view cause);
std::span<const ambiguity_set> ambiguity_sets();
// The set containing both causes, or nullptr.
const ambiguity_set* shared_set(std::string_view a, std::string_view b);

// What the guide says for "the balancer's status equals the backend's": passed through.
inline constexpr std::string_view k_passed_through_source = "guide, introduction";

}  // namespace albsim::diagnose
