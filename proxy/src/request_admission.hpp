// The balancer's decisions before a request goes upstream: its own refusals (TRACE, a
// forwarding loop), the QPS limits, routing (rule → group → server) and a group with no
// server to pick. Each refusal is reported as an event for the outcome table. Per connection,
// it remembers the last group, server and rule, so a connection that keeps going to the same
// place does no lookups.
#pragma once

#include <optional>
#include <string>

#include "exchange_state.hpp"
#include "latency_baseline.hpp"
#include "listener_endpoint.hpp"

namespace albsim::proxy {

struct proxy_runtime;
struct listener_config;
class client_side;
class server_group;

class request_admission {
 public:
  request_admission(proxy_runtime& rt, const listener_endpoint& ep, const client_side& client);

  // The server the request goes to (the caller counts the connection against it).
  struct routed {
    server_group* group = nullptr;
    int index = -1;
  };
  // nullopt: admitted and routed; `to` names the server and x knows where the request goes.
  std::optional<stage_event> admit_and_route(exchange_state& x, routed& to);

 private:
  const std::string& trace_for(const std::string& rule_name);
  void remember_server(const server_config& server);

  proxy_runtime& rt_;
  const listener_endpoint& ep_;
  const listener_config& lc_;
  const client_side& client_;
  const std::string* group_name_ = nullptr;  // the group name group_ was looked up by
  server_group* group_ = nullptr;
  const server_config* key_server_ = nullptr;       // the server server_key_ names
  std::string server_key_;                          // "ip:port" of the last server picked
  latency_baseline::slot* latency_slot_ = nullptr;  // that server's usual latency
  std::string trace_rule_{'\0'};                    // the rule trace_ was computed for
  std::string trace_;
};

}  // namespace albsim::proxy
