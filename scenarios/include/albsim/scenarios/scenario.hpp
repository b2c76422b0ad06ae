// A scenario: one cause of the catalogue (../shared/CAUSES.md) as data — the proxy config delta,
// the backends, what the scripted client does, the observations expected and the explanation.
// Loaded from scenarios/catalogue/<ID>.yaml (docs/scenarios.md describes the format); every
// error names file, line and field (albsim::config_error).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "albsim/backend/backend_options.hpp"
#include "albsim/proxy/config.hpp"
#include "albsim/scenarios/expectation.hpp"

namespace albsim::scenarios {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

// What the scripted client does. Every wait it makes is bounded by `timeout`.
enum class client_action {
  request,               // one request; variants through the fields below
  invalid_framing,       // a request whose body framing is invalid (see `framing`)
  partial_then_close,    // the request line and part of the headers, then close
  abort_after_send,      // a whole request, then close at once without reading
  burst,                 // `count` requests, one connection each, as fast as possible
  vip_pinned_vs_spread,  // `count` requests to the first VIP, then `count` spread over all
};

enum class framing_fault {
  conflicting_length,           // two different Content-Length headers
  length_and_chunked,           // Content-Length together with Transfer-Encoding: chunked
  non_numeric_length,           // Content-Length: abc
  surplus_bytes,                // more bytes after the declared body, which are not a request
  transfer_coding_not_chunked,  // Transfer-Encoding: xchunked (the final coding is not chunked)
  missing_host,                 // an HTTP/1.1 request without Host
};

struct client_script {
  client_action action = client_action::request;
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::uint64_t header_line_bytes = 0;           // add one header line (name + value) this long
  std::uint64_t target_bytes = 0;                // pad the request target to this length
  std::uint64_t body_bytes = 0;                  // Content-Length, and a generated body
  std::optional<std::uint64_t> send_body_bytes;  // send only this much of the body, then wait
  std::uint64_t upload_rate = 0;                 // bytes/s for the body (a trickle); 0 = at once
  framing_fault framing = framing_fault::conflicting_length;
  nanoseconds timeout = 8s;  // the client's own timeout: it gives up and closes after this
  std::size_t listener = 0;  // index into the proxy's listeners (their first VIP)
  bool tls = false;          // request: speak TLS to the listener (an HTTPS one)
  std::uint32_t count = 1;   // burst, vip_pinned_vs_spread
  double rate = 0;           // burst, vip_pinned_vs_spread: requests per second; 0 = at once
  // Plain GET requests to `warmup_path` before the action (e.g. to teach the balancer the
  // backend's usual latency); each bounded by 5 s, their records come first.
  std::uint32_t warmup = 0;
  std::string warmup_path = "/";
};

// An in-process backend of the scenario.
struct backend_spec {
  std::string name;
  backend::backend_options options;  // the script (or defaults) with the scenario's mode
};

// The scenario's explanation, in the project's own words.
struct explanation {
  std::string client;      // what happened at the client
  std::string balancer;    // ... at the balancer
  std::string backend;     // ... at the backend
  std::string log;         // which access-log fields give it away, and how
  std::string check;       // what to check or change in a real deployment
  std::string rule;        // where the catalogue fixes a rule the guide leaves open (may be empty)
  std::string simulation;  // what the scenario shortens or simulates (may be empty)
};

struct scenario {
  std::string file;
  std::string id;
  int status = 0;
  std::string title;
  proxy::proxy_config proxy;  // base + the file's delta; servers name backends by `backend`
  std::vector<backend_spec> backends;
  client_script client;
  std::vector<expectation> expectations;
  explanation explain;
};

// Loads and validates one scenario file; throws albsim::config_error.
scenario load_scenario_file(const std::string& path);
// Same from text; `name` stands in for the file name in errors.
scenario load_scenario_text(const std::string& text, const std::string& name);

// A scenario of a request that succeeds rather than of a cause: its id is `ok-<name>`, its
// status 2xx or 3xx, and its record's sim_cause is "ok" (e.g. ok-https, a request over TLS).
bool is_success_id(const std::string& id);

// The scenario files (*.yaml) of a directory, sorted; the compiled-in default directory.
std::vector<std::string> scenario_files(const std::string& dir);
std::string default_scenario_dir();

// The base configuration every scenario's delta applies to: one HTTP listener on 127.0.0.1:0
// (request timeout as the balancer's default), one group `main` without health checks.
proxy::proxy_config base_proxy_config();

const char* to_string(client_action a);

}  // namespace albsim::scenarios
