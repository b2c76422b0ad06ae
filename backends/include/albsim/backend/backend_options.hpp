// Options and script model of the faulty backend (docs/backend.md).
#pragma once

#include <memory>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "albsim/fault_ledger.hpp"
#include "albsim/link_conditions.hpp"

namespace albsim::backend {

enum class transport_mode {
  normal,             // accept and serve
  refuse,             // nothing listens: connects are refused (a real RST to the SYN)
  queue_full_silent,  // listen backlog full, SYNs dropped: connects never complete
  queue_full_reset,   // backlog full with abort-on-overflow: connects are reset
};

// What the backend does with one request (a script rule, the override header or a default
// route picks one).
enum class action_kind {
  respond,           // status line, headers, body (optionally delayed / dripped)
  close,             // read the request, then FIN without any response byte (nginx 444)
  reset,             // read the request, then RST; with `after_bytes`: RST mid-body
  malformed_status,  // a status line no HTTP parser accepts, then close
  malformed_header,  // a valid status line followed by a header line without a colon
  partial_header,    // `after_bytes` bytes of the response header, then FIN
  partial_body,      // full header announcing the body, `after_bytes` bytes of it, then FIN
  hang,              // read the request, never answer; hold until the peer leaves (or `hold`)
  stop_reading,      // read the header only, never the body: TCP windows fill; hold
};

struct drip_options {
  std::uint64_t chunk_bytes = 0;         // bytes per write (0 = no drip)
  std::chrono::nanoseconds interval{0};  // pause between chunks
};

struct backend_action {
  action_kind kind = action_kind::respond;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;          // literal body
  std::optional<std::uint64_t> body_bytes;  // generated body of this size (streamed)
  std::chrono::nanoseconds delay{0};        // before the status line
  drip_options drip;
  std::optional<std::uint64_t> after_bytes;      // reset / partial-header / partial-body cut point
  std::optional<std::chrono::nanoseconds> hold;  // hang / stop-reading: give up after this
};

enum class path_match { any, exact, prefix, glob };

struct rule_match {
  std::vector<std::string> methods;  // empty = any method (upper case)
  path_match path_kind = path_match::any;
  std::string path;
  // Header present (value empty) or equal to the value (names compared case-insensitively).
  std::vector<std::pair<std::string, std::string>> headers;
  // Sequence conditions on the n-th request (1-based) that matched the conditions above, counted
  // per rule: `first` N → n <= N; `after` N → n > N; `every` N → n % N == 0. 0 = unset.
  std::uint64_t first = 0;
  std::uint64_t after = 0;
  std::uint64_t every = 0;
};

struct backend_rule {
  std::string name;  // for counters; defaults to "rules[i]"
  rule_match match;
  backend_action action;
};

// One state of the health script: answers `status` for `checks` health checks or for
// `duration` (whichever is set; neither = forever).
struct health_state {
  int status = 200;
  std::uint64_t checks = 0;
  std::chrono::nanoseconds duration{0};
};

struct health_script {
  std::string path = "/health";      // exact path of the health check
  std::vector<std::string> methods;  // empty = any
  std::vector<health_state> states;  // empty = always 200
  bool repeat = false;               // cycle through the states
};

enum class blackhole_direction { response, request };

struct backend_options {
  std::string name = "backend";
  // Where to note the connections this backend breaks on purpose, for an in-process proxy
  // (albsim/fault_ledger.hpp); none: nothing is noted.
  std::shared_ptr<fault_ledger> ledger;
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
  transport_mode mode = transport_mode::normal;
  link_conditions link;
  std::string script_source;  // file the script came from, for messages

  // Added by the backends/ owner:
  blackhole_direction blackhole = blackhole_direction::response;  // where the MTU drop bites
  int threads = 1;                                                // io_context threads
  std::vector<backend_rule> rules;                                // first match wins
  health_script health;
  bool log_on_stop = true;  // one summary line on stderr when stopped
  bool journal = false;     // keep a backend_journal of wire events (the scenarios' diagrams)
  // Bounded per-connection memory: request header limit (the balancer allows one 32 KiB line;
  // a whole header block may be larger).
  std::uint32_t header_limit_bytes = 128 * 1024;
  // Read deadlines (albsim's bounds, as a web server has them): a connection waiting for its
  // next request closes after idle_timeout, and a request's head and body must have arrived
  // within request_timeout of its first byte; either closes the connection (FIN) without an
  // answer. The idle bound is longer than the balancer's 60 s upstream idle timeout, so that
  // the balancer, not the backend, closes idle pooled connections (nginx's keepalive_timeout
  // is 75 s for the same reason).
  std::chrono::nanoseconds idle_timeout{std::chrono::seconds(75)};
  std::chrono::nanoseconds request_timeout{std::chrono::seconds(60)};
};

// Loads a backend script (YAML); throws albsim::config_error naming file, line and field.
backend_options load_backend_script(const std::string& file);
backend_options load_backend_script_text(const std::string& text, const std::string& name);

const char* to_string(transport_mode m);
std::optional<transport_mode> parse_transport_mode(std::string_view text);
const char* to_string(action_kind k);

}  // namespace albsim::backend
