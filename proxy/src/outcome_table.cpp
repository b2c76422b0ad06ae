#include "outcome_table.hpp"

#include <cstdio>

#include <algorithm>

#include "albsim/cause.hpp"
#include "albsim/cause_ids.hpp"

namespace albsim::proxy {
namespace {

using namespace cause_ids;

std::string kib(std::uint64_t bytes) {
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string secs(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", std::chrono::duration<double>(d).count());
  return buf;
}

decision make(int status, std::string upstream_status, std::string_view cause, std::string detail) {
  return decision{status, std::move(upstream_status), std::string(cause), std::move(detail)};
}

// The upstream rows: event, default status and upstream_status, cause, what happened, and
// whether the timeout that fired is appended to the detail.
//
// upstream_status (albsim's rule, docs/status-rules.md): the guide reads "-" as "the request was
// not sent to the backend", so "-" is kept for events where no request byte was delivered (every
// connect failure, and a connection that broke while the request was being written). Once the
// request was delivered, the record names the code nginx-family proxies write for the failed
// exchange: 502 for a reset, a close, an invalid or an incomplete answer, 504 for a timeout.
struct upstream_row {
  exchange_event event;
  int status;
  std::string_view upstream_status;
  std::string_view cause;
  std::string_view detail;
  bool names_timeout = false;
};

constexpr upstream_row k_upstream_rows[] = {
    {exchange_event::connect_refused, 502, "-", k_502_connection_refused,
     "the backend refused the TCP connection: nothing listens on its port"},
    {exchange_event::connect_timeout, 504, "-", k_504_connect_timeout,
     "the backend did not complete the TCP handshake within", true},
    {exchange_event::connect_error, 502, "-", k_502_tcp_error,
     "the TCP connection to the backend could not be opened"},
    {exchange_event::reset_before_response, 500, "502", k_500_backend_reset,
     "the backend reset the connection (TCP RST) before sending any response byte"},
    {exchange_event::closed_before_response, 502, "502", k_502_backend_closed_no_response,
     "the backend closed the connection (FIN) without sending any response"},
    {exchange_event::malformed_response, 502, "502", k_502_invalid_response,
     "the backend's response could not be parsed"},
    {exchange_event::partial_response_header, 502, "502", k_502_backend_incomplete,
     "the backend sent part of its response header, then the connection ended"},
    {exchange_event::response_timeout, 504, "504", k_504_request_timeout,
     "the backend did not answer within the listener's request timeout of", true},
    {exchange_event::send_failed, 502, "-", k_502_tcp_error,
     "the connection to the backend broke before the request was delivered"},
    {exchange_event::send_timeout, 504, "-", k_504_request_timeout,
     "the backend stopped taking the request, and the listener's request timeout of", true},
};

const upstream_row& row_of(exchange_event e) {
  for (const auto& r : k_upstream_rows) {
    if (r.event == e) return r;
  }
  return k_upstream_rows[0];  // unreachable: every event has a row
}

// 408: which part of the path made the request late.
decision request_timeout_reading(const event_context& c) {
  std::string base =
      "the request was not complete within the request timeout of " + secs(c.timeout);
  if (c.client_link_impaired) {
    return make(408, "-", k_408_client_slow_link,
                base + "; the client link adds round-trip time or loss");
  }
  if (c.bandwidth_throttled) {
    return make(408, "-", k_408_bandwidth_throttled,
                base + "; the instance bandwidth cap held the upload back");
  }
  return make(408, "-", k_408_request_incomplete,
              base + (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
}

// 499: why the client left, told apart by what the balancer knows (albsim's rule).
decision left_reading(const event_context& c) {
  std::string base = "the client closed the connection after " + secs(c.waited) +
                     " without waiting for the answer";
  if (!c.extra.empty()) base += " (" + c.extra + ")";
  // albsim's rule: once the request was with the backend, "-" would claim it never was.
  // A status line that had arrived stays the record's upstream_status.
  const std::string up = c.backend_status       ? std::to_string(c.backend_status)
                         : c.waiting_on_backend ? "499"
                                                : "-";
  if (c.client_link_impaired) {
    return make(499, up, k_499_client_slow_link,
                base + "; the client link adds round-trip time or loss");
  }
  if (c.bandwidth_throttled) {
    return make(499, up, k_499_bandwidth_throttled,
                base + "; the instance bandwidth cap slowed the answer");
  }
  if (c.waiting_on_backend) {
    // Rule: the client gave up within k_abort_window of sending (no latency could explain it),
    // or before the backend's usual latency (its timeout is too short), or after waiting longer
    // than twice the usual latency (the backend was slow this time).
    if (!c.during_response_body && c.waited < k_abort_window) {
      return make(499, up, k_499_client_aborted,
                  base + "; it left at once, before any backend could have answered");
    }
    if (c.usual_latency && c.waited < 2 * *c.usual_latency) {
      return make(499, up, k_499_client_timeout_too_short,
                  base + "; the backend usually answers in " + secs(*c.usual_latency) +
                      ", so the client's timeout is shorter than normal latency");
    }
    return make(499, up, k_499_backend_slow,
                base +
                    (c.during_response_body ? "; the backend's answer was still arriving"
                                            : "; the backend had not answered yet") +
                    (c.usual_latency ? " (it usually takes " + secs(*c.usual_latency) + ")"
                                     : std::string()));
  }
  return make(499, up, k_499_client_aborted, base);
}

}  // namespace

outcome_table::outcome_table(const std::map<exchange_event, outcome>& overrides,
                             std::vector<int> rewrite_to_502)
    : rewrite_to_502_(std::move(rewrite_to_502)) {
  for (const auto& r : k_upstream_rows) {
    rows_[r.event] = outcome{r.status, std::string(r.upstream_status)};
  }
  for (const auto& [e, o] : overrides) {
    if (o.status) rows_[e].status = o.status;
    if (!o.upstream_status.empty()) rows_[e].upstream_status = o.upstream_status;
  }
}

decision outcome_table::upstream(exchange_event e, const event_context& c) const {
  const outcome& row = rows_.at(e);
  const upstream_row& what = row_of(e);
  decision d{row.status, row.upstream_status, std::string(what.cause), std::string(what.detail)};
  if (what.names_timeout) d.detail += " " + secs(c.timeout);
  // An in-process backend that broke this connection on purpose names the fault; a reset that
  // comes from an accept-queue overflow or a blackholed link is a transport failure, not a
  // backend that read the request and aborted. (On a real host the overflow's RST comes before
  // any request byte is acknowledged; albsim's user-space emulation cannot show that on the
  // wire, so the note carries it: docs/status-rules.md.)
  if (c.backend_note &&
      (e == exchange_event::reset_before_response || e == exchange_event::connect_error ||
       e == exchange_event::send_failed || e == exchange_event::partial_response_header ||
       e == exchange_event::closed_before_response)) {
    if (c.backend_note->cause_id == k_502_backlog_full ||
        c.backend_note->cause_id == k_502_mtu_blackhole) {
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
  if (std::find(rewrite_to_502_.begin(), rewrite_to_502_.end(), upstream_status) ==
      rewrite_to_502_.end()) {
    return std::nullopt;
  }
  const std::string code = std::to_string(upstream_status);
  return decision{502, code, std::string(k_502_backend_status_rewritten),
                  "the backend answered " + code +
                      (upstream_status == 444 ? " (nginx's code for closing without a response)"
                                              : std::string()) +
                      ", which the balancer does not pass on: it answers 502 and upstream_status "
                      "keeps the " +
                      code};
}

decision outcome_table::client(client_event e, const event_context& c) const {
  decision d = client_reading(e, c);
  // A client that closed its connection is not there to be answered: the record is all.
  d.reply = e != client_event::closed_early && e != client_event::left_before_response;
  // The guide: a request throttled by a QPS limit gets 503 with this header.
  if (e == client_event::qps_limited) d.reply_headers = "ALB-QPS-Limited: Limited\r\n";
  return d;
}

decision outcome_table::client_reading(client_event e, const event_context& c) {
  switch (e) {
    case client_event::header_line_too_long:
      return make(400, "-", k_400_header_too_large,
                  "a request header line is longer than the " + kib(c.limit_bytes) +
                      " the balancer accepts" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::bad_framing:
      return make(
          400, "-", k_400_content_length_mismatch,
          "the request's framing is invalid" + (c.extra.empty() ? std::string() : ": " + c.extra));
    case client_event::invalid_head:
      return make(
          400, "-", k_400_invalid_header,
          "the request head is malformed" + (c.extra.empty() ? std::string() : ": " + c.extra));
    case client_event::forwarding_loop:
      return make(463, "-", k_463_forwarding_loop,
                  "the request already carries this rule's trace entry, or more than the "
                  "header may hold: a forwarding loop" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::plain_http_on_https:
      return make(400, "-", k_400_http_to_https,
                  "a plain-text HTTP request arrived on the HTTPS listener");
    case client_event::closed_early:
      return make(400, "-", k_400_client_closed_early,
                  "the client closed the connection before its request was complete" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::trace_method:
      return make(405, "-", k_405_trace, "the balancer does not allow the TRACE method");
    case client_event::uri_too_long:
      return make(414, "-", k_414_uri_too_long,
                  "the request target is longer than the " + kib(c.limit_bytes) +
                      " the balancer accepts" +
                      (c.extra.empty() ? std::string() : " (" + c.extra + ")"));
    case client_event::request_timeout:
      return request_timeout_reading(c);
    case client_event::left_before_response:
      return left_reading(c);
    case client_event::qps_limited:
      if (c.vip_share_limited) {
        return make(503, "-", k_503_single_vip,
                    "this VIP's share of the instance QPS limit is used up; the client is "
                    "pinned to one VIP instead of spreading over all of them");
      }
      return make(503, "-", k_503_qps_limited,
                  "the request exceeded the " +
                      (c.limiter.empty() ? std::string("configured") : c.limiter) +
                      " QPS limit and was throttled");
    case client_event::no_server:
      return make(503, "-", k_503_no_backend, "the server group has no servers");
    case client_event::all_zero_weight:
      return make(503, "-", k_503_zero_weight, "every server in the group has weight 0");
    case client_event::injection_refused:
      // Not the balancer's behaviour: albsim's own answer to a fault it was asked to inject
      // and cannot produce (docs/retry-kit.md).
      return make(400, "-", k_albsim_injection_refused,
                  "albsim's own rule: the requested fault cannot be injected" +
                      (c.extra.empty() ? std::string() : ": " + c.extra));
  }
  return make(500, "-", "", "unknown event");
}

}  // namespace albsim::proxy

namespace albsim::proxy {
passthrough_reading passthrough(int status) {
  using namespace cause_ids;
  constexpr std::string_view before = "the backend itself answered ";
  constexpr std::string_view after = "; the balancer passed it on unchanged";
  switch (status) {
    case 400:
      return {k_400_backend_returned, before, after};
    case 405:
      return {k_405_backend_returned, before, after};
    case 414:
      return {k_414_backend_returned, before, after};
    case 500:
      return {k_500_backend_returned, before, after};
    case 502:
      return {k_502_backend_returned, before, after};
    case 503:
      return {k_503_backend_returned, before, after};
    case 504:
      return {k_504_backend_returned, before, after};
    default:
      return {k_cause_ok, "the backend answered ", ""};
  }
}
}  // namespace albsim::proxy
