// The proxy's whole configuration as plain structs. Every default is the real balancer's, with
// its source (see ../shared/ALB-FACTS.md); docs/config.md documents each field. Loaded and
// validated once at start (config_loader.cpp); immutable afterwards and shared read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "albsim/link_conditions.hpp"

namespace albsim::proxy {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

// A QPS limit; qps 0 = no limit. burst 0 = automatic: max(1, qps / 100), which keeps the
// admitted count within 1 % of qps x duration over 10 s.
struct qps_limit {
  std::uint32_t qps = 0;
  std::uint32_t burst = 0;
  bool enabled() const { return qps > 0; }
  double effective_burst() const { return burst ? burst : (qps / 100 > 1 ? qps / 100 : 1); }
};

struct instance_config {
  std::string id = "alb-local";                // app_lb_id in the access log
  std::vector<std::string> vips{"127.0.0.1"};  // every listener binds on each VIP
  // Instance QPS limit; each VIP gets an equal share (the balancer spreads its capacity over
  // its zone addresses, so a client pinned to one VIP meets 1/N of the limit).
  qps_limit qps;
  // Instance bandwidth cap in bytes/s for client-edge traffic, each direction; 0 = none.
  std::uint64_t bandwidth_bytes_per_s = 0;
};

struct forwarded_headers {
  bool x_forwarded_for = true;  // on by default, append mode [C]
  bool x_forwarded_proto = false;
  bool x_forwarded_port = false;
  bool x_forwarded_host = false;
  bool x_forwarded_client_srcport = false;
  bool slb_id = false;
};

struct rule_config {
  std::string name;
  std::string host;         // "" = any; "*.example.com" matches subdomains; case-insensitive
  std::string path_prefix;  // "" = any
  std::string server_group;
  qps_limit qps;             // rule-level limit
  qps_limit per_client_qps;  // per client IP under this rule
};

enum class listener_protocol { http, https };

struct listener_config {
  std::string name;  // defaults to "<protocol>-<port>"
  listener_protocol protocol = listener_protocol::http;
  std::uint16_t port = 8080;     // 0 = let the kernel choose (tests, scenarios)
  std::string certificate_file;  // HTTPS: PEM; empty = generate a self-signed one at start
  std::string private_key_file;
  nanoseconds request_timeout = 60s;                // default 60 s, 1-180 s [C]
  nanoseconds idle_timeout = 15s;                   // default 15 s, 1-600 s [C]
  std::uint32_t max_requests_per_connection = 100;  // [S]
  forwarded_headers forwarded;
  qps_limit qps;
  link_conditions client_link;       // simulated conditions on the client edge
  std::vector<rule_config> rules;    // first match wins
  std::string default_server_group;  // when no rule matches
  // Honour the X-Albsim-Cause header (albsim's own fault injection, docs/retry-kit.md). Off:
  // the header is an ordinary field and is forwarded like any other.
  bool fault_injection = true;
};

enum class scheduler_kind { weighted_round_robin, weighted_least_connections, source_ip_hash };

enum class health_check_protocol { http, tcp };

struct health_check_config {
  bool enabled = true;
  health_check_protocol protocol = health_check_protocol::http;
  std::string method = "HEAD";  // HTTP checks use HEAD [C]
  std::string path = "/";
  std::string host;           // Host header; empty = the server's address
  nanoseconds interval = 2s;  // [C]
  nanoseconds timeout = 5s;
  std::uint32_t healthy_threshold = 3;    // [C]
  std::uint32_t unhealthy_threshold = 3;  // [C]
  std::vector<int> success_classes{2};    // 2 = 2xx (http_2xx) [C]
};

struct server_config {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::uint32_t weight = 100;  // 0-100, default 100 [S]; 0 = no traffic, not checked
  // Names an in-process albsim backend (see proxy_config::embedded_backends, or a scenario's
  // backends): whoever starts the proxy starts that backend on 127.0.0.1:0 first and fills in
  // address and port. Empty = a real address/port.
  std::string backend;
};

// An in-process backend that `albsim serve` starts before the proxy.
struct embedded_backend_config {
  std::string name;
  std::string script_file;  // empty = the default httpbin-style behaviour
};

struct server_group_config {
  std::string name;
  std::vector<server_config> servers;
  scheduler_kind scheduler = scheduler_kind::weighted_round_robin;
  health_check_config health_check;
};

// Events on the upstream or client side that the outcome table turns into a status.
enum class exchange_event {
  connect_refused,
  connect_timeout,
  connect_error,            // any other connect failure (unreachable, ...)
  reset_before_response,    // RST before any response byte
  closed_before_response,   // FIN before any response byte
  malformed_response,       // unparsable status line / header
  partial_response_header,  // some header bytes, then close or reset
  response_timeout,         // no complete header within the request timeout
  send_failed,              // the request could not be written (reset, blackhole)
  send_timeout,             // the backend stopped taking the request until the request timeout
};

// An override of one row of the outcome table (config `outcomes:`): what it leaves empty keeps
// the built-in value (docs/status-rules.md).
struct outcome {
  int status = 0;  // 0: keep the row's status
  // What `upstream_status` holds: "-" or a number written as a string; "": keep the row's.
  std::string upstream_status;
};

struct limits_config {
  std::uint64_t max_header_line = 32768;       // one header (name + value) [C]: over = 400
  std::uint64_t max_uri = 32768;               // request target [C]: over = 414
  std::uint64_t max_header_block = 262144;     // all headers together (albsim's own bound)
  std::uint64_t relay_buffer = 16384;          // body chunk size: memory per direction
  std::uint64_t max_body = 50'000'000'000ULL;  // 50 GB [C]
  nanoseconds upstream_connect_timeout = 5s;   // 5 s, fixed on the balancer [S]
  // Upstream keep-alive pool: idle connections kept per server, and for how long.
  std::uint32_t upstream_pool_size = 64;
  nanoseconds upstream_idle_timeout = 60s;
};

// Fault plans, the request journal and the admin API (albsim's own test kit, not the
// balancer's; docs/retry-kit.md and docs/admin-api.openapi.yaml).

// Which requests a plan applies to; every condition set must hold.
struct fault_plan_match {
  std::string method;       // "" = any (upper case)
  std::string host;         // "" = any; case-insensitive, exact
  std::string path_prefix;  // "" = any
  // Header present (value empty) or equal to the value; names case-insensitive.
  std::vector<std::pair<std::string, std::string>> headers;
};

// What tells one logical operation from another: each key walks its own copy of the steps.
enum class fault_plan_key { constant, client_ip, header };

struct fault_plan_config {
  std::string name;
  fault_plan_match match;
  fault_plan_key key = fault_plan_key::constant;
  std::string key_header;          // key: header — the field whose value is the key
  std::vector<std::string> steps;  // a cause ID (with ; parameters), "ok", "backend: <action>"
  bool repeat = false;             // start over after the last step (else: pass through)
  nanoseconds ttl{0};              // disarmed this long after arming; 0 = never
  std::uint64_t max_uses = 0;      // disarmed after this many steps taken; 0 = no limit
};

struct journal_config {
  std::uint32_t size = 10000;  // entries kept (a ring: the oldest go first); 0 = off
  std::vector<std::string> headers{"Idempotency-Key"};  // request fields kept per entry
  std::uint32_t max_value_bytes = 256;                  // longer header values and paths are cut
};

struct admin_config {
  bool enabled = false;
  std::string address = "127.0.0.1";
  std::uint16_t port = 9901;  // 0 = let the kernel choose
  std::string token;          // Bearer token; required when the address is not a loopback one
};

struct proxy_config {
  std::string source_file = "<built-in default>";
  instance_config instance;
  std::vector<listener_config> listeners;
  std::vector<server_group_config> server_groups;
  limits_config limits;
  std::map<exchange_event, outcome> outcome_overrides;
  // Backend status lines the balancer does not pass on: the client gets 502 and the record
  // keeps the backend's code in upstream_status (albsim's rule for the guide's "502 while the
  // backend returned another code such as 504 or 444"; 444 is nginx's "closed, no response").
  std::vector<int> rewrite_to_502 = {444};
  std::vector<embedded_backend_config> embedded_backends;
  std::uint32_t worker_threads = 1;
  std::string access_log = "-";                // file path, "-" = standard output, "" = off
  std::vector<fault_plan_config> fault_plans;  // armed at start
  journal_config journal;
  admin_config admin;
};

// The embedded default of `albsim serve`: HTTP 127.0.0.1:8080, HTTPS 127.0.0.1:8443, one
// group of two embedded backends.
proxy_config default_proxy_config();

// Loads and validates a YAML file; throws albsim::config_error naming file, line and field.
proxy_config load_proxy_config(const std::string& file);
// Same from text (`name` stands in for the file in errors); used by scenarios and tests.
proxy_config load_proxy_config_text(const std::string& text, const std::string& name);
// Applies a YAML document onto an existing config: every field present overrides, every field
// absent keeps its current value, a list present replaces the whole list. load_proxy_config is
// this applied to an empty config (no listeners, no groups). Scenarios use it for "the default
// plus these settings".
void apply_proxy_config_delta(proxy_config& config, const std::string& text,
                              const std::string& name);

// One fault plan from YAML (or JSON) text, checked as in a config file's `fault_plans`; throws
// albsim::config_error naming the field (the admin API arms plans through this).
fault_plan_config load_fault_plan_text(const std::string& text, const std::string& name);
// A listener's `client_link` from YAML (or JSON) text, checked as in a config file, every field
// absent at its default; throws albsim::config_error naming the field (the admin API's
// PUT /listeners/{name}/client-link goes through this).
link_conditions load_client_link_text(const std::string& text, const std::string& name);

const char* to_string(exchange_event e);
std::optional<exchange_event> exchange_event_from_string(const std::string& s);

}  // namespace albsim::proxy
