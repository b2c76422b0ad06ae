// State shared by every connection of one backend: the validated options, the router that
// picks an action per request, and the live counters.
#pragma once

#include <atomic>
#include <cstdint>

#include "albsim/backend/backend_journal.hpp"
#include "albsim/backend/backend_options.hpp"
#include "albsim/backend/backend_server.hpp"
#include "request_router.hpp"

namespace albsim::backend {

struct live_counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> resets{0};
  std::atomic<std::uint64_t> overflows{0};
  std::atomic<std::uint64_t> health_checks{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> overrides{0};
};

inline void bump(std::atomic<std::uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

struct server_context {
  explicit server_context(const backend_options& o) : options(o), router(o), journal(o.journal) {}

  backend_counters snapshot() const {
    backend_counters c;
    c.connections = counters.connections.load(std::memory_order_relaxed);
    c.requests = counters.requests.load(std::memory_order_relaxed);
    c.resets = counters.resets.load(std::memory_order_relaxed);
    c.overflows = counters.overflows.load(std::memory_order_relaxed);
    c.health_checks = counters.health_checks.load(std::memory_order_relaxed);
    c.bad_requests = counters.bad_requests.load(std::memory_order_relaxed);
    c.overrides = counters.overrides.load(std::memory_order_relaxed);
    c.rule_hits = router.rule_hits();
    return c;
  }

  const backend_options& options;
  request_router router;
  live_counters counters;
  backend_journal journal;
  std::atomic<std::uint64_t> connection_ids{0};  // numbers connections for the journal
};

}  // namespace albsim::backend
