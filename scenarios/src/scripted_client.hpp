// The scenario's client: plain POSIX sockets, so that it can do what well-behaved HTTP
// libraries refuse to (conflicting lengths, a half-sent request, a close right after sending)
// and observe what a real client sees (a reset, a close without a byte, its own timeout).
// Every wait is bounded.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "albsim/proxy/proxy_server.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "albsim/scenarios/scenario_runner.hpp"

namespace albsim::scenarios {

struct client_run {
  nlohmann::json observation = nlohmann::json::object();  // the "client" observations
  std::vector<timeline_event> events;
  std::size_t exchanges = 0;  // how many requests the client started (records to expect)
  // The wire events of a single exchange, as the client's socket saw them (empty for bursts).
  std::vector<sequence_event> sequence;
};

// `listeners` are the proxy's bound listeners; the script's `listener` index picks the
// configured listener, whose first VIP is the target (all VIPs for vip-pinned-vs-spread).
client_run run_client(const client_script& script, const proxy::proxy_config& config,
                      const std::vector<proxy::bound_listener>& listeners,
                      std::chrono::steady_clock::time_point origin);

}  // namespace albsim::scenarios
