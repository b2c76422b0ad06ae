// Reads a scenario's `expect` section (expectation_loader.hpp): the matcher of each expected
// value and the names a scenario may expect, refused with file, line and field otherwise.
#include "expectation_loader.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "albsim/access_log_fields.hpp"
#include "albsim/cause.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "albsim/yaml_cursor.hpp"

namespace albsim::scenarios {
namespace {

// The sim_cause of a request the balancer passed on without a fault (a 2xx or 3xx answer).
constexpr std::string_view k_success_cause = "ok";

const std::set<std::string> k_client_fields{
    "outcome",   "status",    "reason", "elapsed",     "body_bytes",   "sent_bytes", "sent",
    "responses", "throttled", "ok",     "no_response", "tls_protocol", "tls_cipher"};
const std::set<std::string> k_client_group_fields{"sent", "responses", "throttled", "ok",
                                                  "no_response"};
const std::set<std::string> k_backend_counters{
    "connections", "requests", "resets", "overflows", "health_checks", "bad_requests", "overrides"};

value_matcher parse_matcher(const yaml_cursor& c) {
  value_matcher m;
  if (c.is_scalar()) {
    m.k = value_matcher::kind::equals;
    m.text = c.as_string();
    try {
      std::size_t used = 0;
      double d = std::stod(m.text, &used);
      if (used == m.text.size()) m.number = d;
    } catch (...) {
    }
    return m;
  }
  if (!c.is_map())
    c.fail(
        "expected a value or a map with approx/tolerance, at_least/at_most, present, one_of "
        "or same_as");
  c.only_keys({"approx", "tolerance", "at_least", "at_most", "present", "one_of", "same_as"});
  if (c.entries().size() > 1 && c.has("same_as")) c.fail("same_as stands alone");
  if (c.has("approx")) {
    m.k = value_matcher::kind::approx;
    m.value = c.required("approx").as_double(-1e18, 1e18);
    m.tolerance = c.required("tolerance").as_double(0, 1e18);
    if (c.has("at_least") || c.has("at_most") || c.has("present") || c.has("one_of")) {
      c.fail("approx/tolerance cannot be combined with other matchers");
    }
  } else if (c.has("at_least") || c.has("at_most")) {
    m.k = value_matcher::kind::range;
    if (auto v = c.optional("at_least")) m.at_least = v->as_double(-1e18, 1e18);
    if (auto v = c.optional("at_most")) m.at_most = v->as_double(-1e18, 1e18);
    if (c.has("tolerance")) c.required("tolerance").fail("tolerance goes with approx");
  } else if (auto v = c.optional("present")) {
    m.k = v->as_bool() ? value_matcher::kind::present : value_matcher::kind::absent;
  } else if (auto v = c.optional("one_of")) {
    m.k = value_matcher::kind::one_of;
    for (const auto& item : v->items()) m.choices.push_back(item.as_string());
    if (m.choices.empty()) v->fail("needs at least one value");
  } else if (auto v = c.optional("same_as")) {
    m.k = value_matcher::kind::same_as;
    m.text = v->as_string();
    if (m.text.rfind("client.", 0) != 0 && m.text.rfind("log.", 0) != 0 &&
        m.text.rfind("backend.", 0) != 0) {
      v->fail(
          "expected an observation path: client.<field>, log.<field> or backend.<name>.<counter>");
    }
  } else {
    c.fail("expected approx/tolerance, at_least/at_most, present, one_of or same_as");
  }
  return m;
}

void add_expectation(std::vector<expectation>& out, const std::string& field,
                     const yaml_cursor& c) {
  out.push_back(expectation{field, parse_matcher(c), c.file(), c.line()});
}

void parse_client_expectations(const yaml_cursor& c, std::vector<expectation>& out) {
  if (!c.is_map()) c.fail("expected a map of client observations");
  for (const auto& [key, value] : c.entries()) {
    if (key == "headers") {
      if (!value.is_map()) value.fail("expected a map of header names to values");
      for (const auto& [name, v] : value.entries()) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        add_expectation(out, "client.headers." + lower, v);
      }
    } else if (key == "pinned" || key == "spread") {
      if (!value.is_map()) value.fail("expected a map of counts");
      for (const auto& [name, v] : value.entries()) {
        if (!k_client_group_fields.count(name)) {
          v.fail(
              "unknown client observation (allowed: sent, responses, throttled, ok, no_response)");
        }
        add_expectation(out, "client." + key + "." + name, v);
      }
    } else if (k_client_fields.count(key)) {
      if (key == "outcome") {
        value.as_enum({"response", "closed", "reset", "timeout", "refused", "client-closed"});
      }
      add_expectation(out, "client." + key, value);
    } else {
      value.fail(
          "unknown client observation (allowed: outcome, status, reason, headers, "
          "elapsed, body_bytes, sent_bytes, sent, responses, throttled, ok, no_response, "
          "tls_protocol, tls_cipher, pinned, spread)");
    }
  }
}

}  // namespace

void parse_expectations(const yaml_cursor& expect, scenario& s, const cause_info* cause) {
  expect.only_keys({"client", "log", "log_count", "backend"});
  parse_client_expectations(expect.required("client"), s.expectations);
  auto log = expect.required("log");
  if (!log.is_map()) log.fail("expected a map of access-log fields");
  log.required("status");
  auto sim_cause = log.required("sim_cause");
  const std::string cause_id = cause ? s.id : std::string(k_success_cause);
  if (sim_cause.as_string() != cause_id) {
    sim_cause.fail(cause ? "must be the scenario's id, " + s.id
                         : "a success scenario's record has sim_cause " + cause_id);
  }
  for (const auto& [key, value] : log.entries()) {
    if (!is_access_log_field(key)) value.fail("not an access-log field (see ALB-FACTS.md)");
    add_expectation(s.expectations, "log." + key, value);
  }
  if (auto v = expect.optional("log_count")) add_expectation(s.expectations, "log_count", *v);
  if (auto b = expect.optional("backend")) {
    if (!b->is_map()) b->fail("expected a map of backend names to counters");
    for (const auto& [bname, counters] : b->entries()) {
      bool known = std::any_of(s.backends.begin(), s.backends.end(),
                               [&](const backend_spec& spec) { return spec.name == bname; });
      if (!known) counters.fail("names no backend of this scenario: '" + bname + "'");
      if (!counters.is_map()) counters.fail("expected a map of counters");
      for (const auto& [counter, value] : counters.entries()) {
        if (!k_backend_counters.count(counter)) {
          value.fail(
              "unknown backend counter (allowed: connections, requests, resets, "
              "overflows, health_checks, bad_requests, overrides)");
        }
        add_expectation(s.expectations, "backend." + bname + "." + counter, value);
      }
    }
  }
}

}  // namespace albsim::scenarios
