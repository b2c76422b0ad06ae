#include "request_router.hpp"

#include <charconv>

#include "action_grammar.hpp"
#include "albsim/yaml_cursor.hpp"

namespace albsim::backend {
namespace {

bool method_allowed(const std::vector<std::string>& methods, std::string_view method) {
  if (methods.empty()) return true;
  for (const auto& m : methods) {
    if (m == method) return true;
  }
  return false;
}

bool path_matches(const rule_match& m, std::string_view path) {
  switch (m.path_kind) {
    case path_match::any:
      return true;
    case path_match::exact:
      return path == m.path;
    case path_match::prefix:
      return path.substr(0, m.path.size()) == m.path;
    case path_match::glob:
      return glob_match(m.path, path);
  }
  return false;
}

// "/status/503" with prefix "/status/" → 503; nullopt when the rest is not a whole number.
template <typename T>
std::optional<T> number_after(std::string_view path, std::string_view prefix) {
  if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view rest = path.substr(prefix.size());
  T v{};
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec != std::errc() || p != rest.data() + rest.size() || rest.empty()) return std::nullopt;
  return v;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

request_router::request_router(const backend_options& options)
    : options_(options),
      seen_(new std::atomic<std::uint64_t>[options.rules.size()]),
      hits_(new std::atomic<std::uint64_t>[options.rules.size()]),
      health_state_since_(std::chrono::steady_clock::now()) {
  for (std::size_t i = 0; i < options.rules.size(); ++i) {
    seen_[i] = 0;
    hits_[i] = 0;
  }
}

std::vector<std::pair<std::string, std::uint64_t>> request_router::rule_hits() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::size_t i = 0; i < options_.rules.size(); ++i) {
    out.emplace_back(options_.rules[i].name, hits_[i].load(std::memory_order_relaxed));
  }
  return out;
}

bool request_router::matches_health(std::string_view method, std::string_view path) const {
  return path == options_.health.path && method_allowed(options_.health.methods, method);
}

int request_router::next_health_status() {
  const auto& states = options_.health.states;
  if (states.empty()) return 200;
  std::lock_guard lock(health_mutex_);
  auto now = std::chrono::steady_clock::now();
  // Leave every state whose check count or time is used up (the last one lasts unless `repeat`).
  for (std::size_t guard = 0; guard <= states.size(); ++guard) {
    const health_state& s = states[health_index_];
    bool used_up = (s.checks > 0 && health_checks_in_state_ >= s.checks) ||
                   (s.duration.count() > 0 && now - health_state_since_ >= s.duration);
    bool last = health_index_ + 1 == states.size();
    if (!used_up || (last && !options_.health.repeat)) break;
    health_index_ = last ? 0 : health_index_ + 1;
    health_checks_in_state_ = 0;
    health_state_since_ = now;
  }
  ++health_checks_in_state_;
  return states[health_index_].status;
}

bool request_router::rule_applies(std::size_t index, std::string_view method, std::string_view path,
                                  const header_lookup& headers) {
  const rule_match& m = options_.rules[index].match;
  if (!method_allowed(m.methods, method) || !path_matches(m, path)) return false;
  for (const auto& [name, value] : m.headers) {
    auto got = headers(name);
    if (!got || (!value.empty() && *got != value)) return false;
  }
  std::uint64_t n = seen_[index].fetch_add(1, std::memory_order_relaxed) + 1;
  if (m.first > 0 && n > m.first) return false;
  if (m.after > 0 && n <= m.after) return false;
  if (m.every > 0 && n % m.every != 0) return false;
  return true;
}

void request_router::default_route(std::string_view path, route_decision& out) {
  out.action = &out.own;
  if (auto status = number_after<int>(path, "/status/")) {
    out.own.status = (*status >= 100 && *status <= 599) ? *status : 400;
  } else if (path.substr(0, 7) == "/delay/") {
    auto d = parse_duration(path.substr(7));
    if (!d) {
      out.kind = route_kind::bad_request;
      out.error = "/delay/ needs a number of seconds, such as /delay/1.5";
      return;
    }
    out.own.delay = *d;
  } else if (auto n = number_after<std::uint64_t>(path, "/bytes/")) {
    out.own.body_bytes = *n;
  } else if (path == "/echo") {
    out.kind = route_kind::echo;
  } else if (path == k_stats_path) {
    out.kind = route_kind::stats;
  }
}

void request_router::route(std::string_view method, std::string_view target,
                           const header_lookup& headers, route_decision& out) {
  std::string_view path = target.substr(0, target.find('?'));
  if (auto value = headers(k_override_header)) {
    out.overridden = true;
    out.action = &out.own;
    out.error = parse_override(*value, out.own);
    if (!out.error.empty()) out.kind = route_kind::bad_request;
    return;
  }
  if (matches_health(method, path)) {
    out.kind = route_kind::health;
    out.health_status = next_health_status();
    return;
  }
  for (std::size_t i = 0; i < options_.rules.size(); ++i) {
    if (rule_applies(i, method, path, headers)) {
      hits_[i].fetch_add(1, std::memory_order_relaxed);
      out.action = &options_.rules[i].action;
      return;
    }
  }
  default_route(path, out);
}

}  // namespace albsim::backend
