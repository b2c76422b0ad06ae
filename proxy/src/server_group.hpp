// Runtime state of one server group: which server the next request goes to (weighted round
// robin, weighted least connections or a consistent hash on the client IP) and each server's
// health as the health checker reports it. Thread-safe: every connection thread picks here.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

class server_group {
 public:
  // `config` must carry real addresses and ports (embedded backends already started).
  explicit server_group(const server_group_config& config);

  enum class pick_failure {
    none,
    empty,            // the group has no servers: 503-no-backend
    all_zero_weight,  // every server has weight 0: 503-zero-weight
  };
  struct pick_result {
    int index = -1;
    pick_failure failure = pick_failure::none;
  };

  // Chooses among the healthy servers of weight > 0; when all of those are unhealthy, among all
  // servers of weight > 0 (the balancer fails open). `client_ip` (host order) feeds the hash.
  pick_result pick(std::uint32_t client_ip);

  const server_config& server(int index) const { return config_.servers.at(index); }
  std::size_t size() const { return config_.servers.size(); }
  const std::string& name() const { return config_.name; }
  const server_group_config& config() const { return config_; }

  // In-flight connections, for least-connections scheduling.
  void connection_started(int index);
  void connection_finished(int index);
  std::uint32_t connections(int index) const;

  // One health-check result: `healthy_threshold` successes in a row make an unhealthy server
  // healthy, `unhealthy_threshold` failures in a row the reverse. Servers start healthy.
  void report_health(int index, bool success);
  // Health as picking sees it: a forced state wins over the checks.
  bool healthy(int index) const;

  // Runtime changes from the admin API (albsim's own, docs/retry-kit.md). The weight starts as
  // configured; `forced` up or down overrides the health checks until set back to `checked`.
  enum class health_override { checked, up, down };
  void set_weight(int index, std::uint32_t weight);
  std::uint32_t weight(int index) const;
  void force_health(int index, health_override h);
  health_override forced(int index) const;

 private:
  struct server_state {
    bool healthy = true;
    std::uint32_t successes = 0;  // in a row
    std::uint32_t failures = 0;   // in a row
    std::uint32_t connections = 0;
    std::int64_t current_weight = 0;  // smooth weighted round robin
    std::uint64_t hash_key = 0;       // identity of the server for the consistent hash
    std::uint32_t weight = 0;         // the configured weight, until the admin API changes it
    health_override forced = health_override::checked;
    bool effective_health() const {
      return forced == health_override::checked ? healthy : forced == health_override::up;
    }
  };

  int pick_round_robin(std::span<const int> candidates);
  int pick_least_connections(std::span<const int> candidates);
  int pick_hash(std::span<const int> candidates, std::uint32_t client_ip) const;

  const server_group_config config_;
  mutable std::mutex mutex_;
  std::vector<server_state> state_;
};

}  // namespace albsim::proxy
