// Reads the proxy's YAML configuration onto the structs of config.hpp and validates it. One
// apply_* function per struct: a key present overrides, a key absent keeps the current value, a
// list present replaces the whole list (its elements start from the struct defaults). Every
// check names file, line, field and the allowed range (docs/config.md lists them all).
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <set>

#include "albsim/proxy/config.hpp"
#include "albsim/yaml_cursor.hpp"
#include "config_parsing.hpp"

namespace albsim::proxy {

namespace config_parsing {

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string ip_address(const yaml_cursor& c) {
  std::string s = c.as_string();
  if (!is_ip_address(s)) c.fail("expected an IPv4 or IPv6 address, got '" + s + "'");
  return s;
}

std::uint16_t port(const yaml_cursor& c) { return static_cast<std::uint16_t>(c.as_int(0, 65535)); }

}  // namespace config_parsing

namespace {
using namespace config_parsing;

// Ranges. The ones the balancer documents carry their source; the rest are albsim's own bounds.
constexpr std::int64_t k_max_qps = 100'000;  // QPS 1-100000 [S]
constexpr std::int64_t k_max_burst = 1'000'000;
constexpr nanoseconds k_min_request_timeout = 1s;  // 1-180 s [C]
constexpr nanoseconds k_max_request_timeout = 180s;
constexpr nanoseconds k_min_idle_timeout = 1s;  // 1-600 s [C]
constexpr nanoseconds k_max_idle_timeout = 600s;
constexpr std::int64_t k_max_weight = 100;   // 0-100 [S]
constexpr std::int64_t k_min_threshold = 2;  // 2-10 [C]
constexpr std::int64_t k_max_threshold = 10;
constexpr nanoseconds k_min_check_interval = 1s;  // 1-50 s [C]
constexpr nanoseconds k_max_check_interval = 50s;
constexpr nanoseconds k_min_check_timeout = 1s;  // 1-300 s [S]
constexpr nanoseconds k_max_check_timeout = 300s;
constexpr std::uint64_t k_max_bandwidth = 1ULL << 40;  // 1 TiB/s: "any"
constexpr nanoseconds k_max_link_delay = 60s;
constexpr std::uint64_t k_max_body_limit = 50'000'000'000ULL;  // 50 GB [C]

constexpr std::array k_event_names{
    std::pair{exchange_event::connect_refused, "connect_refused"},
    std::pair{exchange_event::connect_timeout, "connect_timeout"},
    std::pair{exchange_event::connect_error, "connect_error"},
    std::pair{exchange_event::reset_before_response, "reset_before_response"},
    std::pair{exchange_event::closed_before_response, "closed_before_response"},
    std::pair{exchange_event::malformed_response, "malformed_response"},
    std::pair{exchange_event::partial_response_header, "partial_response_header"},
    std::pair{exchange_event::response_timeout, "response_timeout"},
    std::pair{exchange_event::send_failed, "send_failed"},
    std::pair{exchange_event::send_timeout, "send_timeout"},
};

// `qps: 100` or `qps: {qps: 100, burst: 5}`; 0 turns the limit off.
void apply_qps(const yaml_cursor& c, qps_limit& q) {
  if (c.is_scalar()) {
    q = qps_limit{static_cast<std::uint32_t>(c.as_int(0, k_max_qps)), 0};
    return;
  }
  c.only_keys({"qps", "burst"});
  q.qps = static_cast<std::uint32_t>(c.get_int("qps", q.qps, 0, k_max_qps));
  q.burst = static_cast<std::uint32_t>(c.get_int("burst", q.burst, 0, k_max_burst));
}

void apply_link(const yaml_cursor& c, link_conditions& l) {
  c.only_keys({"extra_rtt", "bandwidth", "loss", "loss_stall", "seed", "mtu_blackhole",
               "blackhole_reset_after"});
  l.extra_rtt = c.get_duration("extra_rtt", l.extra_rtt, 0s, k_max_link_delay);
  l.bandwidth_bytes_per_s = c.get_bytes("bandwidth", l.bandwidth_bytes_per_s, 0, k_max_bandwidth);
  if (auto v = c.optional("loss")) l.loss = v->as_double(0.0, 1.0);
  l.loss_stall = c.get_duration("loss_stall", l.loss_stall, 0s, k_max_link_delay);
  l.seed = static_cast<std::uint64_t>(
      c.get_int("seed", static_cast<std::int64_t>(l.seed), 0, INT64_MAX));
  l.mtu_blackhole_bytes = c.get_bytes("mtu_blackhole", l.mtu_blackhole_bytes, 0, k_max_bandwidth);
  l.blackhole_reset_after =
      c.get_duration("blackhole_reset_after", l.blackhole_reset_after, 0s, k_max_link_delay);
}

void apply_instance(const yaml_cursor& c, instance_config& i) {
  c.only_keys({"id", "vips", "qps", "bandwidth"});
  if (auto v = c.optional("id")) {
    i.id = v->as_string();
    if (i.id.empty()) v->fail("must not be empty");
  }
  if (auto v = c.optional("vips")) {
    i.vips.clear();
    for (const auto& item : v->items()) {
      std::string vip = ip_address(item);
      if (std::find(i.vips.begin(), i.vips.end(), vip) != i.vips.end()) {
        item.fail("VIP " + vip + " is listed twice");
      }
      i.vips.push_back(vip);
    }
    if (i.vips.empty()) v->fail("needs at least one address");
  }
  if (auto v = c.optional("qps")) apply_qps(*v, i.qps);
  i.bandwidth_bytes_per_s = c.get_bytes("bandwidth", i.bandwidth_bytes_per_s, 0, k_max_bandwidth);
}

void apply_forwarded(const yaml_cursor& c, forwarded_headers& f) {
  c.only_keys({"x_forwarded_for", "x_forwarded_proto", "x_forwarded_port", "x_forwarded_host",
               "x_forwarded_client_srcport", "slb_id"});
  f.x_forwarded_for = c.get_bool("x_forwarded_for", f.x_forwarded_for);
  f.x_forwarded_proto = c.get_bool("x_forwarded_proto", f.x_forwarded_proto);
  f.x_forwarded_port = c.get_bool("x_forwarded_port", f.x_forwarded_port);
  f.x_forwarded_host = c.get_bool("x_forwarded_host", f.x_forwarded_host);
  f.x_forwarded_client_srcport =
      c.get_bool("x_forwarded_client_srcport", f.x_forwarded_client_srcport);
  f.slb_id = c.get_bool("slb_id", f.slb_id);
}

rule_config parse_rule(const yaml_cursor& c, std::size_t index) {
  c.only_keys({"name", "host", "path_prefix", "server_group", "qps", "per_client_qps"});
  rule_config r;
  r.name = c.get_string("name", "rule-" + std::to_string(index + 1));
  r.host = c.get_string("host", "");
  if (auto v = c.optional("path_prefix")) {
    r.path_prefix = v->as_string();
    if (!r.path_prefix.empty() && r.path_prefix.front() != '/') v->fail("must start with '/'");
  }
  r.server_group = c.required("server_group").as_string();
  if (auto v = c.optional("qps")) apply_qps(*v, r.qps);
  if (auto v = c.optional("per_client_qps")) apply_qps(*v, r.per_client_qps);
  return r;
}

listener_config parse_listener(const yaml_cursor& c) {
  c.only_keys({"name", "protocol", "port", "certificate", "private_key", "request_timeout",
               "idle_timeout", "max_requests_per_connection", "forwarded_headers", "qps",
               "client_link", "rules", "default_server_group", "fault_injection"});
  listener_config l;
  if (auto v = c.optional("protocol")) {
    l.protocol = v->as_enum({"http", "https"}) == "https" ? listener_protocol::https
                                                          : listener_protocol::http;
  }
  if (auto v = c.optional("port")) l.port = port(*v);
  l.name =
      c.get_string("name", std::string(l.protocol == listener_protocol::https ? "https" : "http") +
                               "-" + std::to_string(l.port));
  l.certificate_file = c.get_string("certificate", "");
  l.private_key_file = c.get_string("private_key", "");
  l.request_timeout = c.get_duration("request_timeout", l.request_timeout, k_min_request_timeout,
                                     k_max_request_timeout);
  l.idle_timeout =
      c.get_duration("idle_timeout", l.idle_timeout, k_min_idle_timeout, k_max_idle_timeout);
  l.max_requests_per_connection = static_cast<std::uint32_t>(
      c.get_int("max_requests_per_connection", l.max_requests_per_connection, 1, 1'000'000));
  if (auto v = c.optional("forwarded_headers")) apply_forwarded(*v, l.forwarded);
  if (auto v = c.optional("qps")) apply_qps(*v, l.qps);
  if (auto v = c.optional("client_link")) apply_link(*v, l.client_link);
  if (auto v = c.optional("rules")) {
    auto items = v->items();
    for (std::size_t i = 0; i < items.size(); ++i) l.rules.push_back(parse_rule(items[i], i));
  }
  l.default_server_group = c.get_string("default_server_group", "");
  l.fault_injection = c.get_bool("fault_injection", l.fault_injection);
  return l;
}

void apply_health_check(const yaml_cursor& c, health_check_config& h) {
  c.only_keys({"enabled", "protocol", "method", "path", "host", "interval", "timeout",
               "healthy_threshold", "unhealthy_threshold", "success_codes"});
  h.enabled = c.get_bool("enabled", h.enabled);
  if (auto v = c.optional("protocol")) {
    h.protocol = v->as_enum({"http", "tcp"}) == "tcp" ? health_check_protocol::tcp
                                                      : health_check_protocol::http;
  }
  if (auto v = c.optional("method")) h.method = v->as_enum({"HEAD", "GET"});
  if (auto v = c.optional("path")) {
    h.path = v->as_string();
    if (h.path.empty() || h.path.front() != '/') v->fail("must start with '/'");
  }
  h.host = c.get_string("host", h.host);
  h.interval = c.get_duration("interval", h.interval, k_min_check_interval, k_max_check_interval);
  h.timeout = c.get_duration("timeout", h.timeout, k_min_check_timeout, k_max_check_timeout);
  h.healthy_threshold = static_cast<std::uint32_t>(
      c.get_int("healthy_threshold", h.healthy_threshold, k_min_threshold, k_max_threshold));
  h.unhealthy_threshold = static_cast<std::uint32_t>(
      c.get_int("unhealthy_threshold", h.unhealthy_threshold, k_min_threshold, k_max_threshold));
  if (auto v = c.optional("success_codes")) {
    h.success_classes.clear();
    for (const auto& item : v->items()) {
      int cls = item.as_enum({"http_1xx", "http_2xx", "http_3xx", "http_4xx", "http_5xx"})[5] - '0';
      if (std::find(h.success_classes.begin(), h.success_classes.end(), cls) ==
          h.success_classes.end()) {
        h.success_classes.push_back(cls);
      }
    }
    if (h.success_classes.empty()) v->fail("needs at least one of http_1xx ... http_5xx");
  }
}

server_config parse_server(const yaml_cursor& c) {
  c.only_keys({"address", "port", "weight", "backend"});
  server_config s;
  if (auto v = c.optional("address")) s.address = ip_address(*v);
  if (auto v = c.optional("port")) s.port = port(*v);
  s.weight = static_cast<std::uint32_t>(c.get_int("weight", s.weight, 0, k_max_weight));
  s.backend = c.get_string("backend", "");
  if (s.backend.empty() && s.port == 0) {
    c.fail("a server needs either a port (1-65535) or the name of a backend");
  }
  if (!s.backend.empty() && c.has("port")) {
    c.fail("give either a port or a backend, not both (a backend's port is chosen at start)");
  }
  return s;
}

server_group_config parse_server_group(const yaml_cursor& c) {
  c.only_keys({"name", "scheduler", "health_check", "servers"});
  server_group_config g;
  auto name = c.required("name");
  g.name = name.as_string();
  if (g.name.empty()) name.fail("must not be empty");
  if (auto v = c.optional("scheduler")) {
    std::string s = v->as_enum({"wrr", "wlc", "sch"});
    g.scheduler = s == "wrr"   ? scheduler_kind::weighted_round_robin
                  : s == "wlc" ? scheduler_kind::weighted_least_connections
                               : scheduler_kind::source_ip_hash;
  }
  if (auto v = c.optional("health_check")) apply_health_check(*v, g.health_check);
  if (auto v = c.optional("servers")) {
    std::set<std::string> seen;
    for (const auto& item : v->items()) {
      server_config s = parse_server(item);
      std::string key =
          s.backend.empty() ? s.address + ":" + std::to_string(s.port) : "backend " + s.backend;
      if (!seen.insert(key).second) item.fail(key + " is already in this group");
      g.servers.push_back(std::move(s));
    }
  }
  return g;
}

void apply_limits(const yaml_cursor& c, limits_config& l) {
  c.only_keys({"max_header_line", "max_uri", "max_header_block", "relay_buffer", "max_body",
               "upstream_connect_timeout", "upstream_pool_size", "upstream_idle_timeout"});
  l.max_header_line = c.get_bytes("max_header_line", l.max_header_line, 256, 1 << 20);
  l.max_uri = c.get_bytes("max_uri", l.max_uri, 256, 1 << 20);
  l.max_header_block = c.get_bytes("max_header_block", l.max_header_block, 1024, 16 << 20);
  l.relay_buffer = c.get_bytes("relay_buffer", l.relay_buffer, 512, 16 << 20);
  l.max_body = c.get_bytes("max_body", l.max_body, 0, k_max_body_limit);
  l.upstream_connect_timeout =
      c.get_duration("upstream_connect_timeout", l.upstream_connect_timeout, 1ms, 60s);
  l.upstream_pool_size =
      static_cast<std::uint32_t>(c.get_int("upstream_pool_size", l.upstream_pool_size, 0, 10'000));
  l.upstream_idle_timeout =
      c.get_duration("upstream_idle_timeout", l.upstream_idle_timeout, 0s, 3600s);
}

void apply_outcomes(const yaml_cursor& c, proxy_config& config) {
  std::string names;
  for (const auto& [e, n] : k_event_names) names += (names.empty() ? "" : ", ") + std::string(n);
  for (const auto& [key, value] : c.entries()) {
    if (key == "rewrite_to_502") {
      config.rewrite_to_502.clear();
      for (const auto& item : value.items()) {
        config.rewrite_to_502.push_back(static_cast<int>(item.as_int(100, 599)));
      }
      continue;
    }
    auto event = exchange_event_from_string(key);
    if (!event) value.fail("unknown event (allowed: " + names + ", rewrite_to_502)");
    value.only_keys({"status", "upstream_status"});
    auto& table = config.outcome_overrides;
    outcome o = table.count(*event) ? table[*event] : outcome{};
    if (auto v = value.optional("status")) o.status = static_cast<int>(v->as_int(100, 599));
    if (auto v = value.optional("upstream_status")) {
      std::string s = v->as_string();
      bool number =
          s.size() == 3 &&
          std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
          s[0] >= '1' && s[0] <= '5';
      if (s != "-" && !number) v->fail("expected '-' or a status 100-599, got '" + s + "'");
      o.upstream_status = s;
    }
    table[*event] = o;
  }
}

embedded_backend_config parse_embedded_backend(const yaml_cursor& c) {
  c.only_keys({"name", "script"});
  embedded_backend_config b;
  auto name = c.required("name");
  b.name = name.as_string();
  if (b.name.empty()) name.fail("must not be empty");
  b.script_file = c.get_string("script", "");
  return b;
}

}  // namespace

const char* to_string(exchange_event e) {
  for (const auto& [event, name] : k_event_names) {
    if (event == e) return name;
  }
  return "unknown";
}

std::optional<exchange_event> exchange_event_from_string(const std::string& s) {
  for (const auto& [event, name] : k_event_names) {
    if (s == name) return event;
  }
  return std::nullopt;
}

proxy_config default_proxy_config() {
  proxy_config c;
  listener_config http;
  http.name = "http-8080";
  http.port = 8080;
  http.default_server_group = "default";
  listener_config https = http;
  https.name = "https-8443";
  https.protocol = listener_protocol::https;
  https.port = 8443;
  c.listeners = {http, https};
  server_group_config group;
  group.name = "default";
  for (const char* name : {"backend-1", "backend-2"}) {
    server_config s;
    s.backend = name;
    group.servers.push_back(s);
    c.embedded_backends.push_back(embedded_backend_config{name, ""});
  }
  c.server_groups = {group};
  // The retry kit's admin API on loopback (docs/retry-kit.md); X-Albsim-Cause is on already.
  c.admin.enabled = true;
  return c;
}

namespace {

void apply_document(proxy_config& config, const yaml_cursor& root,
                    const std::filesystem::path& base_dir) {
  if (root.is_null()) return;
  root.only_keys({"instance", "listeners", "server_groups", "limits", "outcomes",
                  "embedded_backends", "worker_threads", "access_log", "fault_plans", "journal",
                  "admin"});
  // Relative file names inside a config file are relative to that file.
  auto resolve = [&](std::string& file) {
    if (!file.empty() && !base_dir.empty() && std::filesystem::path(file).is_relative()) {
      file = (base_dir / file).lexically_normal().string();
    }
  };
  if (auto v = root.optional("instance")) apply_instance(*v, config.instance);
  if (auto v = root.optional("listeners")) {
    config.listeners.clear();
    for (const auto& item : v->items()) {
      config.listeners.push_back(parse_listener(item));
      resolve(config.listeners.back().certificate_file);
      resolve(config.listeners.back().private_key_file);
    }
  }
  if (auto v = root.optional("server_groups")) {
    config.server_groups.clear();
    for (const auto& item : v->items()) config.server_groups.push_back(parse_server_group(item));
  }
  if (auto v = root.optional("limits")) apply_limits(*v, config.limits);
  if (auto v = root.optional("outcomes")) apply_outcomes(*v, config);
  if (auto v = root.optional("embedded_backends")) {
    config.embedded_backends.clear();
    for (const auto& item : v->items()) {
      config.embedded_backends.push_back(parse_embedded_backend(item));
      resolve(config.embedded_backends.back().script_file);
    }
  }
  config.worker_threads =
      static_cast<std::uint32_t>(root.get_int("worker_threads", config.worker_threads, 1, 64));
  config.access_log = root.get_string("access_log", config.access_log);
  if (auto v = root.optional("fault_plans")) {
    config.fault_plans.clear();
    std::set<std::string> plan_names;
    for (const auto& item : v->items()) {
      config.fault_plans.push_back(parse_fault_plan(item));
      if (!plan_names.insert(config.fault_plans.back().name).second)
        item.fail("plan '" + config.fault_plans.back().name + "' is defined twice");
    }
  }
  if (auto v = root.optional("journal")) apply_journal(*v, config.journal);
  if (auto v = root.optional("admin")) apply_admin(*v, config.admin);
  validate(config, root, root.has("server_groups"), root.has("listeners"));
}

proxy_config empty_config(const std::string& source) {
  proxy_config c;
  c.source_file = source;
  return c;
}

}  // namespace

void apply_proxy_config_delta(proxy_config& config, const std::string& text,
                              const std::string& name) {
  // Work on a copy so that a failed delta leaves `config` as it was.
  proxy_config next = config;
  apply_document(next, yaml_cursor::load_string(text, name), {});
  config = std::move(next);
}

link_conditions load_client_link_text(const std::string& text, const std::string& name) {
  link_conditions l;
  apply_link(yaml_cursor::load_string(text, name), l);
  return l;
}

proxy_config load_proxy_config_text(const std::string& text, const std::string& name) {
  proxy_config c = empty_config(name);
  apply_document(c, yaml_cursor::load_string(text, name), {});
  return c;
}

proxy_config load_proxy_config(const std::string& file) {
  proxy_config c = empty_config(file);
  apply_document(c, yaml_cursor::load_file(file), std::filesystem::path(file).parent_path());
  return c;
}

}  // namespace albsim::proxy
