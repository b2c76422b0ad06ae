// What the stages of one request share (in the role of Envoy's StreamInfo): the record, the
// request, where it goes, the time stamps the record's timings come from, and the event that
// ended the request early, if one did.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "access_log_record.hpp"
#include "http_heads.hpp"
#include "latency_baseline.hpp"
#include "outcome_table.hpp"

namespace albsim::proxy {

struct server_config;
struct fault_injection;

// What a stage saw that ends the request: an event for the outcome table, with its context.
struct stage_event {
  // none: the client closed between requests, and there is nothing to answer or log.
  // injected: the retry kit's injection stage already holds the decision (fault_injection).
  enum class side : std::uint8_t { none, client, upstream, rewritten, injected };
  side from = side::none;
  client_event client{};
  exchange_event upstream{};
  int backend_status = 0;  // rewritten: the status line the balancer does not pass on
  event_context context;

  static stage_event of(client_event e, event_context c) {
    stage_event s;
    s.from = side::client;
    s.client = e;
    s.context = std::move(c);
    return s;
  }
  static stage_event of(exchange_event e, event_context c) {
    stage_event s;
    s.from = side::upstream;
    s.upstream = e;
    s.context = std::move(c);
    return s;
  }
  static stage_event injected() {
    stage_event s;
    s.from = side::injected;
    return s;
  }
  static stage_event rewritten(int status) {
    stage_event s;
    s.from = side::rewritten;
    s.backend_status = status;
    return s;
  }
};

struct exchange_state {
  using clock = std::chrono::steady_clock;

  exchange_state(access_log_record& record, request_head& request, fault_injection& injection,
                 clock::time_point first_byte)
      : r(record), head(request), inj(injection), start(first_byte) {}

  access_log_record& r;
  request_head& head;
  fault_injection& inj;        // what the retry kit's injection stage decided (docs/retry-kit.md)
  clock::time_point start;     // the request's first byte
  std::uint64_t consumed = 0;  // head bytes taken from the client's buffer
  bool last = false;           // the connection's last request
  clock::time_point head_done{};

  // Where routing sent it.
  const server_config* server = nullptr;
  const std::string* server_key = nullptr;  // "ip:port"
  const std::string* trace = nullptr;       // the rule's ALICLOUD-ALB-TRACE entry
  latency_baseline::slot* latency = nullptr;

  clock::time_point connect_start{};  // upstream_response_time counts from here
  clock::time_point request_done{};   // the request was complete (read_request_time)
  clock::time_point response_head_at{};
  clock::time_point answered_at{};  // the relayed answer was complete
  std::uint64_t body_bytes = 0;     // request body bytes forwarded
  bool keep = false;                // after a relayed answer: the connection may go on

  // How much of the request arrived (line, head and body) and when it was complete (or
  // stopped): request_length and read_request_time, the same way on every path.
  void mark_request_read(std::uint64_t bytes, clock::time_point until = clock::now()) {
    r.request_length = bytes;
    r.read_request_time = std::chrono::duration<double, std::milli>(until - start).count();
  }
  // upstream_response_time: from the start of the connect to `t`.
  void upstream_time_until(clock::time_point t) {
    r.upstream_response_time = std::chrono::duration<double>(t - connect_start).count();
  }
};

}  // namespace albsim::proxy
