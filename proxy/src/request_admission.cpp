// The balancer's decisions before a request goes upstream (request_admission.hpp).
#include "request_admission.hpp"

#include "client_side.hpp"
#include "fault_injector.hpp"
#include "proxy_runtime.hpp"
#include "router.hpp"
#include "trace_header.hpp"

namespace albsim::proxy {

request_admission::request_admission(proxy_runtime& rt, const listener_endpoint& ep,
                                     const client_side& client)
    : rt_(rt), ep_(ep), lc_(rt.config.listeners[ep.listener_index]), client_(client) {}

std::optional<stage_event> request_admission::admit_and_route(exchange_state& x, routed& to) {
  const request_head& head = x.head;
  if (head.is_trace()) return stage_event::of(client_event::trace_method, client_.context());
  const route rt = route_request(lc_, head.host(), head.target());
  x.trace = &trace_for(*rt.rule_name);
  if (!head.trace().empty() && forwarding_loop(head.trace(), *x.trace)) {
    event_context c = client_.context();
    c.extra = "ALICLOUD-ALB-TRACE: " + head.trace();
    return stage_event::of(client_event::forwarding_loop, std::move(c));
  }
  // The retry kit's injection stage (docs/retry-kit.md): a reply of the balancer's own, or a
  // fault backend standing in for the scheduler's pick after admission.
  rt_.injector.decide(lc_.fault_injection, head, client_.ip(), rt_.ledger, x.inj);
  if (x.inj.reply) return stage_event::injected();
  auto adm = rt_.limiter.admit(ep_.vip_index, ep_.listener_index, rt.rule_index, client_.ip());
  if (!adm.admitted) {
    event_context c = client_.context();
    c.limiter = adm.limiter;
    c.vip_share_limited = adm.vip_share;
    return stage_event::of(client_event::qps_limited, std::move(c));
  }
  if (x.inj.server) {  // no group: the scheduler does not count it
    x.server = x.inj.server;
    x.server_key = &x.inj.server_key;
    x.latency = &rt_.latency.slot_for(x.inj.server_key);
    x.r.upstream_addr = x.inj.server_key;
    to = {};
    return std::nullopt;
  }
  if (rt.group_name != group_name_) {  // the group by name, looked up again only on a change
    group_name_ = rt.group_name;
    group_ = rt_.group(*rt.group_name);
  }
  server_group::pick_result pick;
  if (group_) {
    pick = group_->pick(client_.ip_hash());
  } else {
    pick.failure = server_group::pick_failure::empty;
  }
  if (pick.index < 0) {
    return stage_event::of(pick.failure == server_group::pick_failure::all_zero_weight
                               ? client_event::all_zero_weight
                               : client_event::no_server,
                           client_.context());
  }
  to = {group_, pick.index};
  remember_server(group_->server(pick.index));
  x.server = key_server_;
  x.server_key = &server_key_;
  x.latency = latency_slot_;
  x.r.upstream_addr = server_key_;
  return std::nullopt;
}

// A connection usually goes to the same few servers: the key and latency slot are looked up
// again only when the server changes.
void request_admission::remember_server(const server_config& server) {
  if (&server == key_server_) return;
  key_server_ = &server;
  server_key_ = server.address + ":" + std::to_string(server.port);
  latency_slot_ = &rt_.latency.slot_for(server_key_);
}

// The trace value of the rule that forwarded (computed again only when the rule changes).
const std::string& request_admission::trace_for(const std::string& rule_name) {
  if (rule_name != trace_rule_) {
    trace_rule_ = rule_name;
    trace_ = trace_hash(rt_.config.instance.id + "/" + lc_.name + "/" + rule_name);
  }
  return trace_;
}

}  // namespace albsim::proxy
