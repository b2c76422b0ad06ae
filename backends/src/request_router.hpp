// Picks what the backend does with one request, in this order: the X-Albsim-Backend override
// header, the health script, the script's rules (first match wins), the built-in routes
// (/status/N, /delay/S, /bytes/N, /echo, /health, /__albsim/stats, anything else → 200).
// No Asio here: the session hands in the method, target and a header lookup.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "albsim/backend/backend_options.hpp"

namespace albsim::backend {

// Name of the per-request override header (docs/backend.md).
inline constexpr std::string_view k_override_header = "X-Albsim-Backend";
inline constexpr std::string_view k_stats_path = "/__albsim/stats";

enum class route_kind {
  action,       // carry out `action`
  health,       // a health check: answer `health_status`
  stats,        // the counters as JSON
  echo,         // the request as JSON
  bad_request,  // 400 with `error` (e.g. a malformed override header)
};

struct route_decision {
  route_kind kind = route_kind::action;
  const backend_action* action = nullptr;  // into the script, or &own
  backend_action own;
  int health_status = 200;
  bool overridden = false;
  std::string error;
};

// Looks up a request header by name (case-insensitive); nullopt when absent.
using header_lookup = std::function<std::optional<std::string_view>(std::string_view)>;

class request_router {
 public:
  explicit request_router(const backend_options& options);

  void route(std::string_view method, std::string_view target, const header_lookup& headers,
             route_decision& out);

  std::vector<std::pair<std::string, std::uint64_t>> rule_hits() const;

 private:
  bool matches_health(std::string_view method, std::string_view path) const;
  int next_health_status();
  bool rule_applies(std::size_t index, std::string_view method, std::string_view path,
                    const header_lookup& headers);
  static void default_route(std::string_view path, route_decision& out);

  const backend_options& options_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> seen_;  // per rule: requests matching it
  std::unique_ptr<std::atomic<std::uint64_t>[]> hits_;  // per rule: requests it handled

  std::mutex health_mutex_;
  std::size_t health_index_ = 0;
  std::uint64_t health_checks_in_state_ = 0;
  std::chrono::steady_clock::time_point health_state_since_;
};

// Glob with `*` (any run, also across '/') and `?` (one character).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace albsim::backend
