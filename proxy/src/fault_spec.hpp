// What one injected fault is: the parsed form of `X-Albsim-Cause: <ID>[; key=value…]` and of a
// fault plan's step, and how albsim produces it for real (docs/retry-kit.md): a reply the
// balancer makes itself through the outcome table (QPS refusal, empty group), a request sent
// to an in-process fault backend that really misbehaves (refused port, full accept queue, RST,
// FIN, malformed or slow answer), or a refusal naming why the cause cannot be injected (a cause
// only a client can produce).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "outcome_table.hpp"

namespace albsim::proxy {

// Name of the request header that asks for a cause (albsim's own header).
inline constexpr std::string_view k_cause_header = "X-Albsim-Cause";
// Response field of albsim's 400 for a fault it cannot inject: the reason.
inline constexpr std::string_view k_refusal_field = "X-Albsim-Cause-Refused";

enum class fault_route {
  pass,            // no fault: the request goes where routing sends it ("ok" plan steps)
  balancer_reply,  // the balancer answers itself (`event`), as for the real cause
  fault_backend,   // the request goes to the fault backend of kind `backend`
  refused,         // albsim answers 400 (client_event::injection_refused) with `why_not`
};

// The in-process backends that produce faults. `action` is a normal backend told what to do
// per request by the X-Albsim-Backend header; the others misbehave at the transport level.
enum class fault_backend_kind {
  action,             // reset, close, malformed, partial, hang, a status, a delay
  refuse,             // bound, never listening: connects are refused
  queue_full_silent,  // accept queue full, SYNs dropped: connects time out
  queue_full_reset,   // accept queue full, connects reset
  mtu_blackhole,      // request bytes beyond 8 KiB vanish, then the link resets
};
inline constexpr std::size_t k_fault_backend_kinds = 5;

// Requests sent to the mtu_blackhole fault backend lose every byte past this many.
inline constexpr std::uint64_t k_blackhole_bytes = 8 * 1024;
// 502-tcp-error needs an upload larger than the socket buffers can absorb before the backend
// gives up on it (the catalogue scenario sends 16 MiB).
inline constexpr std::uint64_t k_tcp_error_min_body = 16 * 1024 * 1024;

struct fault_spec {
  std::string text;   // as written, for the journal
  std::string cause;  // the catalogue ID asked for ("" for a backend action or "ok")
  fault_route route = fault_route::pass;
  client_event event = client_event::injection_refused;  // balancer_reply
  bool vip_share = false;                                // balancer_reply: 503-single-vip
  fault_backend_kind backend = fault_backend_kind::action;
  std::string action;          // X-Albsim-Backend value for the action backend
  std::uint64_t min_body = 0;  // the fault only happens to a request body at least this large
  std::optional<std::uint32_t> retry_after;  // seconds, sent with a backend-returned status
  std::string why_not;                       // refused: the reason, in albsim's words
};

// Parses `<ID>[; key=value…]` as the X-Albsim-Cause header carries it. Never throws: a value
// that cannot be honoured comes back with route `refused` and the reason.
fault_spec parse_cause_spec(std::string_view text);

// Parses one plan step: a cause as above, `ok`, or `backend: <X-Albsim-Backend value>`.
fault_spec parse_plan_step(std::string_view text);

// One row of docs/retry-kit.md: a catalogue cause and whether a header can inject it.
struct cause_injectability {
  std::string_view id;
  bool injectable;
  std::string how;  // how albsim produces it, or why it cannot
};
std::vector<cause_injectability> injectability_of_catalogue();

}  // namespace albsim::proxy
