#include "backend_report.hpp"

#include <nlohmann/json.hpp>

namespace albsim::backend {

std::string render_stats_json(std::string_view name, const backend_counters& c) {
  nlohmann::ordered_json j;
  j["name"] = name;
  j["connections"] = c.connections;
  j["requests"] = c.requests;
  j["resets"] = c.resets;
  j["overflows"] = c.overflows;
  j["health_checks"] = c.health_checks;
  j["bad_requests"] = c.bad_requests;
  j["overrides"] = c.overrides;
  j["rule_hits"] = nlohmann::ordered_json::object();
  for (const auto& [rule, hits] : c.rule_hits) j["rule_hits"][rule] = hits;
  j["netstat"] = std::to_string(c.overflows) + " times the listen queue of a socket overflowed";
  return j.dump() + "\n";
}

std::string render_echo_json(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::uint64_t body_length) {
  nlohmann::ordered_json j;
  j["method"] = method;
  j["target"] = target;
  j["headers"] = nlohmann::ordered_json::array();
  for (const auto& [n, v] : headers) j["headers"].push_back({n, v});
  j["body_length"] = body_length;
  return j.dump() + "\n";
}

std::string render_summary_line(std::string_view name, const backend_counters& c) {
  std::string line = "albsim backend " + std::string(name) +
                     " stopped: connections=" + std::to_string(c.connections) +
                     " requests=" + std::to_string(c.requests) +
                     " resets=" + std::to_string(c.resets) +
                     " health_checks=" + std::to_string(c.health_checks) +
                     " bad_requests=" + std::to_string(c.bad_requests) +
                     " overrides=" + std::to_string(c.overrides);
  for (const auto& [rule, hits] : c.rule_hits)
    line += " rule[" + rule + "]=" + std::to_string(hits);
  line += "; " + std::to_string(c.overflows) + " times the listen queue of a socket overflowed";
  return line;
}

}  // namespace albsim::backend
