// The rows. Citations: "guide 502 #4" is the 4th possible cause the status-code guide lists
// under 502 (seed/000_296c1689bba875a7.txt); "albsim" marks a rule of albsim's own where the
// guide is silent, documented in docs/diagnose.md.
#include "albsim/diagnose/rule_table.hpp"

#include <array>
#include <chrono>

#include "albsim/proxy/config.hpp"

namespace albsim::diagnose {
namespace {

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

const std::array<limit_value, static_cast<std::size_t>(limit::count_)>& limits() {
  static const auto table = [] {
    const proxy::limits_config defaults;
    const proxy::listener_config listener;
    std::array<limit_value, static_cast<std::size_t>(limit::count_)> t{};
    auto at = [&](limit l) -> limit_value& { return t[static_cast<std::size_t>(l)]; };
    at(limit::connect_timeout_s) = {
        seconds(defaults.upstream_connect_timeout), "s",
        "the balancer's connect timeout (limits.upstream_connect_timeout)"};
    at(limit::request_timeout_s) = {seconds(listener.request_timeout), "s",
                                    "the listener's default request timeout"};
    at(limit::min_request_timeout_s) = {1, "s", "the shortest request timeout a listener accepts"};
    at(limit::header_line_bytes) = {static_cast<double>(defaults.max_header_line), "bytes",
                                    "the longest header line the balancer accepts"};
    at(limit::uri_bytes) = {static_cast<double>(defaults.max_uri), "bytes",
                            "the longest request target the balancer accepts"};
    at(limit::slow_rtt_us) = {100'000, "µs", "albsim's own bound for a troubled client link"};
    // The simulator's 499 window (proxy k_abort_window, docs/status-rules.md).
    at(limit::quick_leave_s) = {0.050, "s",
                                "albsim's own bound for a client that did not wait at all"};
    at(limit::path_mtu_bytes) = {1500, "bytes", "albsim's own: one Ethernet packet"};
    at(limit::head_only_bytes) = {8192, "bytes", "albsim's own bound for a request head"};
    at(limit::long_write_ms) = {500, "ms", "albsim's own bound for a held-back response"};
    return t;
  }();
  return table;
}

// Shorthands for the rows below. With limit::none the bound is `factor` itself.
condition need(field f, test t, limit l = limit::none, double factor = 1, int weight = 0) {
  return {f, t, l, factor, {}, weight, true};
}
condition plus(field f, test t, int weight, limit l = limit::none, double factor = 1) {
  return {f, t, l, factor, {}, weight, false};
}
condition need_text(field f, std::string_view text, int weight) {
  return {f, test::equals, limit::none, 1, text, weight, true};
}

constexpr std::string_view k_capture_backend =
    "a packet capture on the backend (what it sent, FIN or RST) and its own logs";

// The code albsim's balancer logs in upstream_status for an exchange that failed after the
// request was delivered (albsim's rule, docs/status-rules.md), for 502-class failures.
constexpr double k_failed_exchange_code = 502;

const std::vector<cause_rule>& rows() {
  using enum field;
  using enum test;
  // upstream_status (albsim's rule, docs/status-rules.md): "-" only while no backend received
  // the request whole (the balancer's own replies, throttling, every connect failure, a break
  // during the upload); after that the backend's status, or 502/504 for a failed exchange,
  // 499 for a client that left while the backend had the request.
  static const std::vector<cause_rule> table{
      // 400
      {"400-backend-returned",
       "guide 400 #1",
       {need(upstream_status, same_as_status, limit::none, 1, 3)},
       "the backend's own logs"},
      {"400-header-too-large",
       "guide 400 #5",
       {need(upstream_status, absent),
        need(request_length, at_least, limit::header_line_bytes, 1, 3)},
       "the client's request headers (one line over the limit)"},
      {"400-content-length-mismatch",
       "guide 400 #2",
       {need(upstream_status, absent), need(upstream_addr, absent),
        need(request_method, present, limit::none, 1, 1),
        need(body_bytes_sent, at_least, limit::none, 1, 1),
        need(request_length, at_most, limit::header_line_bytes)},
       "the request as the client sends it: Content-Length against the body, Transfer-Encoding"},
      // The guide's "invalid header format" without its Content-Length example (albsim's split,
      // docs/status-rules.md). A request line that did not parse leaves no method, so the
      // method is not required here.
      {"400-invalid-header",
       "guide 400 #2",
       {need(upstream_status, absent), need(upstream_addr, absent),
        plus(request_method, present, 1), need(body_bytes_sent, at_least, limit::none, 1, 1),
        need(request_length, at_most, limit::header_line_bytes)},
       "the request head as the client sends it (a capture): request line, field lines, Host, "
       "Transfer-Encoding"},
      {"400-http-to-https",
       "guide 400 #3",
       {need(upstream_status, absent), need_text(scheme, "HTTPS", 2),
        need(ssl_protocol, absent, limit::none, 1, 2)},
       "whether the client speaks plain HTTP to the HTTPS port"},
      {"400-client-closed-early",
       "guide 400 #4",
       {need(upstream_status, absent), need(body_bytes_sent, at_most, limit::none, 0, 2),
        plus(request_method, absent, 1), plus(write_response_time, absent, 1)},
       "a packet capture on the client side: who closed, and when"},
      // 405
      {"405-backend-returned",
       "guide 405 #1",
       {need(upstream_status, same_as_status, limit::none, 1, 3)},
       "curl -X METHOD backend_ip:port"},
      {"405-trace",
       "guide 405 #2",
       {need_text(request_method, "TRACE", 3), plus(upstream_status, absent, 1)},
       ""},
      // 408: the balancer forwards a request head at once, so upstream_addr may be set; the
      // request never reached a backend whole, so upstream_status stays "-".
      {"408-request-incomplete",
       "guide 408 #1",
       {need(upstream_status, absent), plus(request_length, at_most, 1, limit::head_only_bytes),
        need(tcpinfo_rtt, at_most, limit::slow_rtt_us)},
       "a packet capture on the client side (did the body ever leave?)"},
      {"408-client-slow-link",
       "guide 408 #2",
       {need(upstream_status, absent), need(tcpinfo_rtt, at_least, limit::slow_rtt_us, 1, 3)},
       "tcpinfo_rtt and a packet capture of the client's network (loss, retransmissions)"},
      {"408-bandwidth-throttled",
       "guide 408 #3",
       {need(upstream_status, absent), plus(request_length, at_least, 1, limit::head_only_bytes),
        need(tcpinfo_rtt, at_most, limit::slow_rtt_us)},
       "CloudMonitor: the instance's InBits/OutBits against its bandwidth, and RejectedConnection"},
      // 414
      {"414-backend-returned",
       "guide 414 #1",
       {need(upstream_status, same_as_status, limit::none, 1, 3)},
       "the backend's own logs"},
      {"414-uri-too-long",
       "guide 414 #2",
       {need(upstream_status, absent), plus(request_uri, longer_than, 3, limit::uri_bytes),
        plus(request_length, at_least, 2, limit::uri_bytes)},
       "the request target's length"},
      // 463: not in the guide; ALB-FACTS.md (the balancer's ALICLOUD-ALB-TRACE documentation).
      {"463-forwarding-loop",
       "albsim (ALB-FACTS.md: the trace header's loop check; the guide lists no 463)",
       {need(upstream_status, absent, limit::none, 1, 1), need(upstream_addr, absent)},
       "the request's ALICLOUD-ALB-TRACE header; where the server group's servers, redirects "
       "and rewrites point"},
      // 499: "-" when the client left before any backend had the request; "499" (or the
      // backend's status, once its status line arrived) when it left while a backend had it.
      {"499-client-slow-link",
       "guide 499 #1",
       {need(tcpinfo_rtt, at_least, limit::slow_rtt_us, 1, 3)},
       "tcpinfo_rtt and a packet capture of the client's network"},
      {"499-bandwidth-throttled",
       "guide 499 #2",
       {need(tcpinfo_rtt, at_most, limit::slow_rtt_us),
        need(body_bytes_sent, at_least, limit::none, 1, 2), plus(upstream_status, present, 1),
        plus(write_response_time, at_least, 1, limit::long_write_ms)},
       "CloudMonitor: OutBits against the instance's bandwidth, and RejectedConnection"},
      {"499-backend-slow",
       "guide 499 #3",
       {need(tcpinfo_rtt, at_most, limit::slow_rtt_us), need(upstream_addr, present),
        need(upstream_status, present, limit::none, 1, 1),
        need(body_bytes_sent, at_most, limit::none, 0),
        need(request_time, at_least, limit::quick_leave_s),
        plus(request_time, over_usual_latency, 2, limit::none, 2)},
       "the backend's usual upstream_response_time (its successful records) and its CPU, memory, "
       "network"},
      {"499-client-timeout-too-short",
       "guide 499 #4",
       {need(tcpinfo_rtt, at_most, limit::slow_rtt_us),
        need(upstream_status, present, limit::none, 1, 1),
        need(body_bytes_sent, at_most, limit::none, 0),
        need(request_time, at_least, limit::quick_leave_s),
        plus(request_time, under_usual_latency, 2, limit::none, 2)},
       "the client's configured timeout against the backend's usual latency"},
      {"499-client-aborted",
       "guide 499 #5",
       {need(tcpinfo_rtt, at_most, limit::slow_rtt_us),
        plus(request_time, at_most, 3, limit::quick_leave_s), plus(upstream_status, absent, 3)},
       "the client's own logs: why it closed"},
      // 500
      {"500-backend-returned",
       "guide 500 #1",
       {need(upstream_status, same_as_status, limit::none, 1, 3)},
       "the backend's own logs"},
      {"500-backend-reset",
       "guide 500 #2",
       {need(upstream_status, code_is, limit::none, k_failed_exchange_code, 3),
        need(upstream_addr, present, limit::none, 1, 1)},
       k_capture_backend},
      // 502 with upstream_status 502: a backend's own 502 and the three exchanges that failed
      // after the request was delivered give the same pair; no field of the record shows
      // whether a status line came back (upstream_response_time is measured either way).
      {"502-backend-returned",
       "guide 502 #1",
       {need(upstream_status, same_as_status, limit::none, 1, 3),
        need(upstream_addr, present, limit::none, 1, 1)},
       "the backend's own access log (a 502 of its own, or nothing / 444 for a dropped "
       "request); body_bytes_sent against the balancer's own error page"},
      {"502-backend-closed-no-response",
       "guide 502, introduction",
       {need(upstream_status, code_is, limit::none, k_failed_exchange_code, 3),
        need(upstream_addr, present, limit::none, 1, 1)},
       k_capture_backend},
      {"502-backend-status-rewritten",
       "guide 502 #2",
       {need(upstream_status, other_code, limit::none, 1, 3),
        need(upstream_addr, present, limit::none, 1, 1)},
       "the backend's own access log: why it answered that code"},
      // 502 with upstream_status "-": the request never reached a backend whole.
      {"502-connection-refused",
       "guide 502 #3",
       {need(upstream_status, absent), need(upstream_addr, present, limit::none, 1, 1),
        need(upstream_connect_time, at_most, limit::connect_timeout_s, 0.9)},
       "a connect test to the backend's port (is anything listening?) and its health-check state"},
      {"502-tcp-error",
       "guide 502 #3",
       {need(upstream_status, absent), need(upstream_addr, present, limit::none, 1, 1),
        plus(request_length, at_least, 2, limit::path_mtu_bytes)},
       "a packet capture on the backend: which side sent the RST, and when"},
      {"502-backlog-full",
       "guide 502 #4",
       {need(upstream_status, absent), need(upstream_addr, present, limit::none, 1, 1)},
       "netstat -s | grep -i listen on the backend (accept-queue overflows)"},
      {"502-mtu-blackhole",
       "guide 502 #5",
       {need(upstream_status, absent), need(upstream_addr, present, limit::none, 1, 1),
        plus(request_length, at_least, 2, limit::path_mtu_bytes)},
       "a packet capture on the backend: do large packets arrive? (health checks pass)"},
      {"502-invalid-response",
       "guide 502 #6",
       {need(upstream_status, code_is, limit::none, k_failed_exchange_code, 3),
        need(upstream_addr, present, limit::none, 1, 1)},
       k_capture_backend},
      {"502-backend-incomplete",
       "guide 502 #7",
       {need(upstream_status, code_is, limit::none, k_failed_exchange_code, 3),
        need(upstream_addr, present, limit::none, 1, 1)},
       "the backend's logs, CPU and memory; a packet capture on the backend"},
      // 503
      {"503-backend-returned",
       "guide 503 #1",
       {need(upstream_status, same_as_status, limit::none, 1, 3)},
       "the backend's own logs"},
      {"503-qps-limited",
       "guide 503 #2",
       {need(upstream_status, absent, limit::none, 1, 1), need(upstream_addr, absent)},
       "the ALB-QPS-Limited: Limited response header; requests per second from the log"},
      {"503-single-vip",
       "guide 503 #3",
       {need(upstream_status, absent, limit::none, 1, 1), need(upstream_addr, absent)},
       "the throttled records grouped by vip_addr: one VIP over its share"},
      {"503-no-backend",
       "guide 503 #4",
       {need(upstream_status, absent, limit::none, 1, 1), need(upstream_addr, absent)},
       "the server group's servers in the console"},
      {"503-zero-weight",
       "guide 503 #4",
       {need(upstream_status, absent, limit::none, 1, 1), need(upstream_addr, absent)},
       "the server group's servers' weights in the console"},
      // 504
      {"504-backend-returned",
       "guide 504 #1",
       {need(upstream_status, same_as_status, limit::none, 1, 3)},
       "the backend's own logs and load"},
      {"504-connect-timeout",
       "guide 504 #2",
       {need(upstream_status, absent),
        need(upstream_connect_time, near, limit::connect_timeout_s, 0.1, 3)},
       "a packet capture: SYNs to the backend without an answer"},
      // upstream_status 504 after the request was delivered, "-" when the backend stopped
      // taking the request; no request timeout is shorter than 1 s (ALB-FACTS.md).
      {"504-request-timeout",
       "guide 504 #3",
       {need(upstream_status, absent_or_same_code),
        plus(upstream_status, code_is, 3, limit::none, 504),
        need(upstream_connect_time, at_most, limit::connect_timeout_s, 0.9),
        need(upstream_response_time, at_least, limit::min_request_timeout_s),
        plus(upstream_response_time, near, 1, limit::request_timeout_s, 0.02)},
       "the backend's own access log (did it answer 504 itself?); its processing time for the "
       "URI; the listener's request timeout"},
  };
  return table;
}

const std::vector<ambiguity_set>& sets() {
  static const std::vector<ambiguity_set> table{
      {"400 with a malformed request head",
       {"400-content-length-mismatch", "400-invalid-header"},
       "a capture of the request as the client sends it: a Content-Length that disagrees with "
       "the body, a broken chunk (400-content-length-mismatch), or a malformed request line, "
       "field line, Host or Transfer-Encoding (400-invalid-header)"},
      {"408 without a slow link",
       {"408-request-incomplete", "408-bandwidth-throttled"},
       "CloudMonitor's InBits/OutBits against the instance's bandwidth and RejectedConnection; a "
       "packet capture on the client (did the body leave it?)"},
      {"499 after waiting for the backend",
       {"499-backend-slow", "499-client-timeout-too-short"},
       "the backend's usual upstream_response_time for the same upstream_addr (successful records "
       "in the same log) against this request_time; the client's configured timeout"},
      {"502 with upstream_status 502",
       {"502-backend-returned", "502-backend-closed-no-response", "502-invalid-response",
        "502-backend-incomplete"},
       "the backend's own access log (it logged a 502 of its own, or a 444 / nothing for a "
       "request it dropped); body_bytes_sent against the size of the balancer's own 502 page; "
       "a packet capture on the backend (a FIN without an answer, a malformed status line, a "
       "cut-off header)"},
      {"502 while a large request was written",
       {"502-tcp-error", "502-mtu-blackhole"},
       "a packet capture on the backend: large segments that never arrive (MTU; health checks and "
       "small requests to the same server pass) or a RST from the backend during the upload "
       "(TCP error)"},
      {"502 before the request was delivered",
       {"502-connection-refused", "502-tcp-error", "502-backlog-full", "502-mtu-blackhole"},
       "a connect test to the backend's port (refused?), netstat -s | grep -i listen on the "
       "backend (accept-queue overflows), a packet capture on the backend (who sent the RST; do "
       "large packets arrive?)"},
      {"503 without a backend contacted",
       {"503-qps-limited", "503-single-vip", "503-no-backend", "503-zero-weight"},
       "the ALB-QPS-Limited: Limited response header (throttling), the throttled records grouped "
       "by vip_addr (one VIP), the server group's servers and weights in the console"},
      {"504 with upstream_status 504",
       {"504-backend-returned", "504-request-timeout"},
       "upstream_response_time against the listener's request timeout (60 s by default, 1-180 "
       "s): ≈ the timeout is the balancer's own 504; the backend's own access log (a 504 it "
       "answered)"},
  };
  return table;
}

}  // namespace

const limit_value& limit_of(limit l) { return limits()[static_cast<std::size_t>(l)]; }

std::span<const cause_rule> rule_table() { return rows(); }

const cause_rule* find_rule(std::string_view cause) {
  for (const auto& r : rows()) {
    if (r.cause == cause) return &r;
  }
  return nullptr;
}

std::span<const ambiguity_set> ambiguity_sets() { return sets(); }

const ambiguity_set* shared_set(std::string_view a, std::string_view b) {
  for (const auto& s : sets()) {
    bool has_a = false, has_b = false;
    for (auto c : s.causes) {
      has_a = has_a || c == a;
      has_b = has_b || c == b;
    }
    if (has_a && has_b) return &s;
  }
  return nullptr;
}

}  // namespace albsim::diagnose
