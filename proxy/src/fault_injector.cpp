#include "fault_injector.hpp"

#include "field_lookup.hpp"
#include "http_heads.hpp"

namespace albsim::proxy {

fault_injector::fault_injector(const outcome_table& outcomes,
                               const std::vector<fault_plan_config>& plans)
    : outcomes_(outcomes), plans_(plans) {}

void fault_injector::decide(bool header_allowed, const request_head& head,
                            std::string_view client_ip, const std::shared_ptr<fault_ledger>& ledger,
                            fault_injection& out) {
  out.clear();
  out.decided = true;
  decided.fetch_add(1, std::memory_order_relaxed);
  if (!header_allowed && !plans_.any()) return;
  const std::string& fields = head.forward_fields();
  if (header_allowed) {
    if (auto value = find_field(fields, k_cause_header)) {
      const fault_spec spec = parse_cause_spec(*value);
      out.cause = spec.text;
      realise(spec, head, ledger, out);
      return;
    }
  }
  if (!plans_.any()) return;
  auto step =
      plans_.next(plan_request{head.method(), head.host(), head.target(), fields, client_ip});
  if (!step) return;
  out.plan = step->plan;
  out.step = static_cast<std::int32_t>(step->step);
  out.key = step->key;
  out.cause = step->spec.text;
  realise(step->spec, head, ledger, out);
}

void fault_injector::refuse(const std::string& why, fault_injection& out) {
  ++refused;
  event_context c;
  c.extra = why;
  out.reply = outcomes_.client(client_event::injection_refused, c);
  // The client's test sees why in the reply itself, not only in the record.
  out.reply_fields = std::string(k_refusal_field) + ": " + why + "\r\n";
}

void fault_injector::realise(const fault_spec& spec, const request_head& head,
                             const std::shared_ptr<fault_ledger>& ledger, fault_injection& out) {
  const std::string origin =
      out.plan.empty() ? std::string(k_cause_header)
                       : "fault plan '" + out.plan + "' step " + std::to_string(out.step + 1);
  switch (spec.route) {
    case fault_route::pass:
      return;
    case fault_route::refused:
      refuse(spec.why_not, out);
      return;
    case fault_route::balancer_reply: {
      ++injected;
      event_context c;
      c.limiter = "injected";
      c.vip_share_limited = spec.vip_share;
      decision d = outcomes_.client(spec.event, c);
      d.detail += "; injected by albsim (" + origin + ")";
      out.reply = std::move(d);  // its reply_headers carry ALB-QPS-Limited for 503-qps-limited
      return;
    }
    case fault_route::fault_backend:
      break;
  }
  if (spec.min_body) {
    const auto length = head.content_length();
    if (!length || *length < spec.min_body) {
      refuse(spec.cause + " needs a request body of at least " + std::to_string(spec.min_body) +
                 " bytes with Content-Length (this request has " +
                 (length ? std::to_string(*length) + " bytes" : std::string("none")) + ")",
             out);
      return;
    }
  }
  std::string error;
  const server_config* server = backends_.server(spec.backend, ledger, error);
  if (!server) {
    refuse(error, out);
    return;
  }
  ++injected;
  out.server = server;
  out.server_key = backends_.key(spec.backend);
  if (!spec.action.empty()) out.upstream_fields = "X-Albsim-Backend: " + spec.action + "\r\n";
  out.retry_after = spec.retry_after;
}

}  // namespace albsim::proxy
