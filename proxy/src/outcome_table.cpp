#include "outcome_table.hpp"

#include <cstdio>

namespace albsim::proxy {
namespace {

std::string secs(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", std::chrono::duration<double>(d).count());
  return buf;
}

decision make(int status, std::string upstream_status, std::string cause, std::string detail) {
  return decision{status, std::move(upstream_status), std::move(cause), std::move(detail)};
}

// The upstream rows: event, default status, cause, what happened, and whether the timeout that
// fired is appended to the detail.
struct upstream_row {
  exchange_event event;
  int status;
  std::string_view cause;
  std::string_view detail;
  bool names_timeout = false;
};

constexpr upstream_row k_upstream_rows[] = {
    {exchange_event::connect_refused, 502, "502-connection-refused",
     "the backend refused the TCP connection: nothing listens on its port"},
    {exchange_event::connect_timeout, 504, "504-connect-timeout",
     "the backend did not complete the TCP handshake within", true},
    {exchange_event::connect_error, 502, "502-connection-refused",
     "the connection to the backend could not be opened"},
    {exchange_event::reset_before_response, 500, "500-backend-reset",
     "the backend reset the connection (TCP RST) before sending any response byte"},
    {exchange_event::closed_before_response, 502, "502-backend-closed-no-response",
     "the backend closed the connection (FIN) without sending any response"},
    {exchange_event::malformed_response, 502, "502-invalid-response",
     "the backend's response could not be parsed"},
    {exchange_event::partial_response_header, 502, "502-backend-incomplete",
     "the backend sent part of its response header, then the connection ended"},
    {exchange_event::response_timeout, 504, "504-request-timeout",
     "the backend did not answer within the listener's request timeout of", true},
    {exchange_event::send_failed, 502, "502-backlog-full",
     "the connection to the backend broke before the request was delivered"},
};

const upstream_row& row_of(exchange_event e) {
  for (const auto& r : k_upstream_rows) {
    if (r.event == e) return r;
  }
  return k_upstream_rows[0];  // unreachable: every event has a row
}

}  // namespace

outcome_table::outcome_table(const std::map<exchange_event, outcome>& overrides) {
  for (const auto& r : k_upstream_rows) rows_[r.event] = outcome{r.status, "-"};
  for (const auto& [e, o] : overrides) rows_[e] = o;
}

decision outcome_table::upstream(exchange_event e, const event_context& c) const {
  const outcome& row = rows_.at(e);
  const upstream_row& what = row_of(e);
  decision d{row.status, row.upstream_status, std::string(what.cause), std::string(what.detail)};
  if (what.names_timeout) d.detail += " " + secs(c.timeout);
  // An in-process backend that broke this connection on purpose names the fault; a reset that
  // comes from an accept-queue overflow or a blackholed link is a transport failure (502), not
  // a backend that read the request and aborted (500).
  if (c.backend_note &&
      (e == exchange_event::reset_before_response || e == exchange_event::connect_error ||
       e == exchange_event::send_failed || e == exchange_event::partial_response_header ||
       e == exchange_event::closed_before_response)) {
    if (c.backend_note->cause_id == "502-backlog-full" ||
        c.backend_note->cause_id == "502-mtu-blackhole") {
      const outcome& transport = rows_.at(exchange_event::send_failed);
      d.status = transport.status;
      d.upstream_status = transport.upstream_status;
      d.cause = c.backend_note->cause_id;
      d.detail = c.backend_note->detail;
    }
  }
  if (!c.extra.empty()) d.detail += "; " + c.extra;
  return d;
}

std::optional<decision> outcome_table::rewritten_status(int upstream_status) const {
  if (upstream_status != 444) return std::nullopt;
  const outcome& row = rows_.at(exchange_event::closed_before_response);
  return decision{row.status, "444", "502-backend-closed-no-response",
                  "the backend answered 444, nginx's code for closing without a response; the "
                  "balancer does not pass it on and answers 502 (upstream_status keeps the 444)"};
}

decision outcome_table::client(client_event e, const event_context& c) const {
  switch (e) {
    case client_event::header_line_too_long:
      return make(400, "-", "400-header-too-large",
                  "a request header line is longer than the 32 KiB the balancer accepts" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::bad_framing:
      return make(
          400, "-", "400-content-length-mismatch",
          "the request's framing is invalid" + (c.extra.empty() ? std::string() : ": " + c.extra));
    case client_event::invalid_head:
      return make(
          400, "-", "400-invalid-header",
          "the request head is malformed" + (c.extra.empty() ? std::string() : ": " + c.extra));
    case client_event::forwarding_loop:
      return make(463, "-", "463-forwarding-loop",
                  "the request already carries this rule's trace entry, or more than the "
                  "header may hold: a forwarding loop" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::plain_http_on_https:
      return make(400, "-", "400-http-to-https",
                  "a plain-text HTTP request arrived on the HTTPS listener");
    case client_event::closed_early:
      return make(400, "-", "400-client-closed-early",
                  "the client closed the connection before its request was complete" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::trace_method:
      return make(405, "-", "405-trace", "the balancer does not allow the TRACE method");
    case client_event::uri_too_long:
      return make(414, "-", "414-uri-too-long",
                  "the request target is longer than the 32 KiB the balancer accepts" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::request_timeout: {
      std::string base =
          "the request was not complete within the request timeout of " + secs(c.timeout);
      if (c.client_link_impaired) {
        return make(408, "-", "408-client-slow-link",
                    base + "; the client link adds round-trip time or loss");
      }
      if (c.bandwidth_throttled) {
        return make(408, "-", "408-bandwidth-throttled",
                    base + "; the instance bandwidth cap held the upload back");
      }
      return make(408, "-", "408-request-incomplete",
                  base + (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    }
    case client_event::left_before_response: {
      std::string base = "the client closed the connection after " + secs(c.waited) +
                         " without waiting for the answer";
      if (c.client_link_impaired) {
        return make(499, "-", "499-client-slow-link",
                    base + "; the client link adds round-trip time or loss");
      }
      if (c.bandwidth_throttled) {
        return make(499, "-", "499-bandwidth-throttled",
                    base + "; the instance bandwidth cap slowed the answer");
      }
      if (c.waiting_on_backend) {
        // Rule: the client gave up within 10 ms of sending (no latency could explain it), or
        // before the backend's usual latency (its timeout is too short), or after waiting
        // longer than twice the usual latency (the backend was slow this time).
        if (c.waited < std::chrono::milliseconds(10)) {
          return make(499, "-", "499-client-aborted",
                      base + "; it left at once, before any backend could have answered");
        }
        if (c.usual_latency && c.waited < 2 * *c.usual_latency) {
          return make(499, "-", "499-client-timeout-too-short",
                      base + "; the backend usually answers in " + secs(*c.usual_latency) +
                          ", so the client's timeout is shorter than normal latency");
        }
        return make(499, "-", "499-backend-slow",
                    base + "; the backend had not answered yet" +
                        (c.usual_latency ? " (it usually takes " + secs(*c.usual_latency) + ")"
                                         : std::string()));
      }
      return make(499, "-", "499-client-aborted", base);
    }
    case client_event::qps_limited:
      if (c.vip_share_limited) {
        return make(503, "-", "503-single-vip",
                    "this VIP's share of the instance QPS limit is used up; the client is "
                    "pinned to one VIP instead of spreading over all of them");
      }
      return make(503, "-", "503-qps-limited",
                  "the request exceeded the " +
                      (c.limiter.empty() ? std::string("configured") : c.limiter) +
                      " QPS limit and was throttled");
    case client_event::no_server:
      return make(503, "-", "503-no-backend", "the server group has no servers");
    case client_event::all_zero_weight:
      return make(503, "-", "503-zero-weight", "every server in the group has weight 0");
  }
  return make(500, "-", "", "unknown event");
}

}  // namespace albsim::proxy

namespace albsim::proxy {
std::string passthrough_cause(int status) {
  switch (status) {
    case 400:
    case 405:
    case 414:
    case 500:
    case 502:
    case 503:
    case 504:
      return std::to_string(status) + "-backend-returned";
    default:
      return "ok";
  }
}
}  // namespace albsim::proxy
