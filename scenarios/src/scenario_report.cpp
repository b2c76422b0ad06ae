// The text and JSON renderings of scenario runs (`albsim scenarios run`).
#include <algorithm>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "albsim/scenarios/scenario_runner.hpp"

namespace albsim::scenarios {

const char* to_string(lane l) {
  switch (l) {
    case lane::client:
      return "client";
    case lane::balancer:
      return "balancer";
    case lane::backend:
      return "backend";
  }
  return "?";
}

namespace {

std::string fixed(double v, int decimals = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Wraps `text` at `width` columns, every line after the first indented by `indent`.
void wrapped(std::ostream& out, const std::string& label, const std::string& text,
             std::size_t width = 100) {
  const std::string pad(label.size(), ' ');
  std::istringstream words(text);
  std::string word, line = label;
  bool fresh = true;
  while (words >> word) {
    if (!fresh && line.size() + 1 + word.size() > width) {
      out << line << "\n";
      line = pad;
      fresh = true;
    }
    line += (fresh ? "" : " ") + word;
    fresh = false;
  }
  out << line << "\n";
}

}  // namespace

void print_report(std::ostream& out, const scenario& s, const scenario_result& r) {
  out << "== " << s.id << " (" << s.status << ") " << s.title << "\n";
  out << "   file: " << s.file << "\n";
  if (!r.error.empty()) out << "   could not run: " << r.error << "\n";
  out << "-- timeline (seconds since the scenario started)\n";
  for (const auto& e : r.timeline) {
    char head[48];
    // Record time stamps are truncated to the millisecond, so they may sit just before zero.
    std::snprintf(head, sizeof head, "  %+8.3f  %-14s ", std::max(0.0, e.at), e.hop.c_str());
    wrapped(out, head, e.what);
  }
  const auto& client = r.observations.value("client", nlohmann::json::object());
  out << "-- client's view\n";
  out << "  outcome " << client.value("outcome", "?");
  if (client.contains("status")) {
    out << ", status " << client["status"] << " " << client.value("reason", "");
  }
  if (client.contains("elapsed"))
    out << ", after " << fixed(client["elapsed"].get<double>()) << " s";
  out << "\n";
  if (client.contains("headers")) {
    for (const auto& [name, value] : client["headers"].items()) {
      out << "    " << name << ": " << value.get<std::string>() << "\n";
    }
  }
  for (const char* group : {"pinned", "spread"}) {
    if (client.contains(group)) out << "  " << group << ": " << client[group].dump() << "\n";
  }
  if (client.contains("sent") && !client.contains("pinned")) {
    out << "  burst: " << client["sent"] << " sent, " << client.value("ok", 0) << " 2xx, "
        << client.value("throttled", 0) << " throttled, " << client.value("no_response", 0)
        << " without a response\n";
  }
  out << "-- access-log record";
  if (r.observations.value("log_count", 0) > 1) {
    out << " (the one the checks read; " << r.observations["log_count"]
        << " records in all, by status " << r.observations["log_statuses"].dump() << ")";
  }
  out << "\n  " << (r.observations.contains("log") ? r.observations["log"].dump() : "none") << "\n";
  out << "-- expected observations\n";
  for (const auto& c : r.checks) {
    out << "  " << (c.pass ? "PASS" : "FAIL") << "  " << c.expected.field << " "
        << c.expected.matcher.describe() << "  (observed " << c.observed << ")";
    if (!c.pass) out << "  [" << c.expected.file << ":" << c.expected.line << "]";
    out << "\n";
  }
  out << "-- explanation\n";
  wrapped(out, "  client:     ", s.explain.client);
  wrapped(out, "  balancer:   ", s.explain.balancer);
  wrapped(out, "  backend:    ", s.explain.backend);
  wrapped(out, "  in the log: ", s.explain.log);
  wrapped(out, "  check:      ", s.explain.check);
  if (!s.explain.rule.empty()) wrapped(out, "  rule:       ", s.explain.rule);
  if (!s.explain.simulation.empty()) wrapped(out, "  simulation: ", s.explain.simulation);
  out << "-- result: " << (r.passed ? "PASS" : "FAIL") << " in " << fixed(r.wall_s) << " s\n\n";
}

void print_summary(std::ostream& out, const std::vector<scenario_result>& results, double wall_s) {
  std::size_t passed = 0;
  out << "ID                                 status  result  wall (s)\n";
  for (const auto& r : results) {
    char line[160];
    std::snprintf(line, sizeof line, "%-34s %6d  %-6s  %8.3f", r.id.c_str(), r.status,
                  r.passed ? "PASS" : "FAIL", r.wall_s);
    out << line;
    if (!r.passed) {
      std::string why = r.error;
      for (const auto& c : r.checks) {
        if (!c.pass && why.empty())
          why = c.expected.field + " " + c.expected.matcher.describe() + ", observed " + c.observed;
      }
      out << "  " << why.substr(0, 90);
    }
    out << "\n";
    passed += r.passed ? 1 : 0;
  }
  out << passed << " of " << results.size() << " passed; total wall time " << fixed(wall_s)
      << " s\n";
}

nlohmann::json to_json(const scenario_result& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"field", c.expected.field},
                      {"expected", c.expected.matcher.describe()},
                      {"observed", c.observed},
                      {"pass", c.pass},
                      {"where", c.expected.file + ":" + std::to_string(c.expected.line)}});
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& e : r.timeline)
    timeline.push_back({{"at", e.at}, {"hop", e.hop}, {"what", e.what}});
  nlohmann::json sequence = nlohmann::json::array();
  for (const auto& e : r.sequence) {
    sequence.push_back({{"at", e.at},
                        {"from", to_string(e.from)},
                        {"to", to_string(e.to)},
                        {"kind", e.kind},
                        {"label", e.label},
                        {"source", e.source}});
  }
  nlohmann::json j = {{"id", r.id},           {"status", r.status},
                      {"title", r.title},     {"passed", r.passed},
                      {"wall_s", r.wall_s},   {"timeline", timeline},
                      {"sequence", sequence}, {"observations", r.observations},
                      {"checks", checks}};
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

}  // namespace albsim::scenarios
