// The ONE place where an event on the client or upstream side becomes a status, an
// `upstream_status`, a catalogue cause ID and a readable detail. The session only reports what
// it observed (and the context it observed it in); the table decides. Upstream rows can be
// overridden from config (`outcomes:`).
//
// Documented rules (docs/status-rules.md):
// - upstream_status is "-" only when no request byte reached a backend; after that it is the
//   backend's status, or 502/504 for an exchange that failed (499 if the client left).
//   Configurable.
// - A reset before any response byte is 500 (the backend aborted the exchange); a clean close
//   (FIN) with no response is 502 (like nginx's 444 seen through the balancer).
// - A connect that never completes is 504 (connect timeout); a refused connect is 502.
// - 408 and 499 causes are told apart by the context the proxy knows: an impaired client link,
//   a bandwidth cap that held the exchange back, and how long the client waited compared with
//   the backend's usual latency.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "albsim/fault_ledger.hpp"
#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

// Everything the balancer can observe that ends an exchange abnormally, or that it answers
// itself. Upstream events are config's exchange_event.
enum class client_event {
  header_line_too_long,  // 400
  bad_framing,           // 400: Content-Length / chunk framing that cannot be trusted
  invalid_head,          // 400: any other malformed request head (RFC 9112 refusals)
  plain_http_on_https,   // 400
  closed_early,          // 400, logged only
  trace_method,          // 405
  uri_too_long,          // 414
  request_timeout,       // 408
  left_before_response,  // 499, logged only
  qps_limited,           // 503 + ALB-QPS-Limited
  no_server,             // 503
  all_zero_weight,       // 503
  forwarding_loop,       // 463: ALICLOUD-ALB-TRACE shows the request came through this rule
  injection_refused,     // 400, albsim's own: a fault-injection request it cannot honour
};

// sim_cause of client_event::injection_refused: albsim's own reply, not a catalogue cause.
inline constexpr std::string_view k_albsim_injection_refused = "albsim-injection-refused";

struct decision {
  int status = 0;
  std::string upstream_status = "-";
  std::string cause;               // catalogue ID
  std::string detail;              // one sentence for sim_detail
  bool reply = true;               // false: the client is gone, the event is only logged
  std::string_view reply_headers;  // extra header lines of the balancer's own reply
};

// What the session knew when the event happened.
struct event_context {
  bool client_link_impaired = false;   // the listener's simulated client link adds RTT or loss
  bool bandwidth_throttled = false;    // the instance bandwidth cap delayed this exchange
  bool vip_share_limited = false;      // qps: the per-VIP share of the instance limit refused it
  std::string limiter;                 // qps: which limit refused ("instance", "listener", ...)
  std::chrono::nanoseconds waited{0};  // 499: how long the client waited for the answer
  std::optional<std::chrono::nanoseconds> usual_latency;  // 499: the backend's usual latency
  bool waiting_on_backend = false;                        // 499: the request was with the backend
  bool during_response_body = false;                      // 499: the answer had begun
  int backend_status = 0;                  // 499: the status line the backend had sent, if any
  std::chrono::nanoseconds timeout{0};     // 408/504: the timeout that fired
  std::uint64_t limit_bytes = 0;           // 400/414: the configured size limit exceeded
  std::optional<fault_note> backend_note;  // what an in-process backend says it did
  std::string extra;                       // free text appended to the detail
};

// The 499 rule's window: a client that leaves sooner than this after its request was complete
// left before any backend could have answered (albsim's rule, docs/status-rules.md). It is as
// wide as 50 ms so that a busy machine's delay in noticing the close does not turn a client
// that closed at once into 499-backend-slow.
inline constexpr std::chrono::milliseconds k_abort_window{50};
// More pacing than this in one exchange counts as the instance bandwidth cap holding it back
// (the 408/499 *-bandwidth-throttled causes; albsim's rule).
inline constexpr std::chrono::milliseconds k_throttle_evidence{5};

class outcome_table {
 public:
  explicit outcome_table(const std::map<exchange_event, outcome>& overrides = {},
                         std::vector<int> rewrite_to_502 = {444});

  decision upstream(exchange_event e, const event_context& c) const;
  // A status line the balancer does not pass on (config `outcomes.rewrite_to_502`, default
  // nginx's 444): the client gets 502, the log keeps the backend's code in upstream_status.
  std::optional<decision> rewritten_status(int upstream_status) const;
  bool rewrites(int upstream_status) const {
    for (int s : rewrite_to_502_)
      if (s == upstream_status) return true;
    return false;
  }
  decision client(client_event e, const event_context& c) const;

 private:
  static decision client_reading(client_event e, const event_context& c);
  std::map<exchange_event, outcome> rows_;
  std::vector<int> rewrite_to_502_;
};

}  // namespace albsim::proxy

namespace albsim::proxy {
// How a status the backend sent itself reads in the record: the catalogue's
// "<status>-backend-returned" where it has one, "ok" for everything else, and the detail as
// `detail_before` + the status + `detail_after` (composed by the caller into the record's
// reused string, so a passed-on answer allocates nothing).
struct passthrough_reading {
  std::string_view cause;
  std::string_view detail_before;
  std::string_view detail_after;
};
passthrough_reading passthrough(int status);
inline std::string_view passthrough_cause(int status) { return passthrough(status).cause; }
}  // namespace albsim::proxy
