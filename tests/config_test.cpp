// The proxy's configuration: defaults, every section read, delta semantics, and that every bad
// input is refused with the file, line and field it came from. Also loads every shipped example
// under configs/ and checks docker-compose.yml against them.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "albsim/config_error.hpp"
#include "albsim/proxy/config.hpp"

namespace albsim::proxy {
namespace {

namespace fs = std::filesystem;

// Loads `text` and returns the config_error it must raise (fails the test when none comes).
config_error load_error(const std::string& text) {
  try {
    load_proxy_config_text(text, "test.yaml");
  } catch (const config_error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return config_error("", 0, "", "");
}

constexpr const char* k_minimal =
    "listeners:\n"
    "  - port: 8080\n"
    "server_groups:\n"
    "  - name: web\n"
    "    servers:\n"
    "      - port: 9000\n";

TEST(config, default_config_has_two_listeners_and_two_embedded_backends) {
  proxy_config c = default_proxy_config();
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].name, "http-8080");
  EXPECT_EQ(c.listeners[0].protocol, listener_protocol::http);
  EXPECT_EQ(c.listeners[0].port, 8080);
  EXPECT_EQ(c.listeners[1].name, "https-8443");
  EXPECT_EQ(c.listeners[1].protocol, listener_protocol::https);
  EXPECT_EQ(c.listeners[1].port, 8443);
  EXPECT_TRUE(c.listeners[1].certificate_file.empty());  // self-signed at start
  EXPECT_EQ(c.listeners[1].default_server_group, "default");
  ASSERT_EQ(c.server_groups.size(), 1u);
  ASSERT_EQ(c.server_groups[0].servers.size(), 2u);
  EXPECT_EQ(c.server_groups[0].servers[0].backend, "backend-1");
  EXPECT_EQ(c.server_groups[0].servers[1].backend, "backend-2");
  EXPECT_EQ(c.server_groups[0].servers[1].weight, 100u);
  ASSERT_EQ(c.embedded_backends.size(), 2u);
  EXPECT_EQ(c.embedded_backends[1].name, "backend-2");
  EXPECT_EQ(c.instance.vips, std::vector<std::string>{"127.0.0.1"});
}

TEST(config, minimal_file_takes_struct_defaults) {
  proxy_config c = load_proxy_config_text(k_minimal, "min.yaml");
  EXPECT_EQ(c.source_file, "min.yaml");
  ASSERT_EQ(c.listeners.size(), 1u);
  const listener_config& l = c.listeners[0];
  EXPECT_EQ(l.name, "http-8080");
  EXPECT_EQ(l.default_server_group, "web");  // the only group
  EXPECT_EQ(l.request_timeout, 60s);
  EXPECT_EQ(l.idle_timeout, 15s);
  EXPECT_EQ(l.max_requests_per_connection, 100u);
  EXPECT_TRUE(l.forwarded.x_forwarded_for);
  EXPECT_FALSE(l.forwarded.slb_id);
  const server_group_config& g = c.server_groups[0];
  EXPECT_EQ(g.scheduler, scheduler_kind::weighted_round_robin);
  EXPECT_EQ(g.servers[0].address, "127.0.0.1");
  EXPECT_EQ(g.servers[0].weight, 100u);
  EXPECT_EQ(g.health_check.interval, 2s);
  EXPECT_EQ(g.health_check.healthy_threshold, 3u);
  EXPECT_EQ(g.health_check.method, "HEAD");
  EXPECT_EQ(g.health_check.success_classes, std::vector<int>{2});
  EXPECT_EQ(c.limits.max_header_line, 32768u);
  EXPECT_EQ(c.limits.upstream_connect_timeout, 5s);
  EXPECT_TRUE(c.embedded_backends.empty());
}

TEST(config, every_section_is_read) {
  proxy_config c = load_proxy_config_text(R"(instance:
  id: alb-test
  vips: [127.0.0.1, 127.0.0.2]
  qps: {qps: 200, burst: 10}
  bandwidth: 10MiB
listeners:
  - name: front
    protocol: https
    port: 0
    certificate: cert.pem
    private_key: key.pem
    request_timeout: 2s
    idle_timeout: 600s
    max_requests_per_connection: 5
    forwarded_headers: {x_forwarded_for: false, x_forwarded_proto: true, slb_id: true}
    qps: 50
    client_link: {extra_rtt: 100ms, bandwidth: 64KiB, loss: 0.1, loss_stall: 300ms, seed: 7}
    rules:
      - {host: "*.example.com", path_prefix: /api, server_group: api, per_client_qps: 5}
      - {name: static, path_prefix: /static, server_group: web, qps: {qps: 10, burst: 2}}
    default_server_group: web
server_groups:
  - name: web
    scheduler: wlc
    servers: [{backend: b1}, {address: 127.0.0.3, port: 81, weight: 0}]
  - name: api
    scheduler: sch
    health_check:
      protocol: tcp
      interval: 1s
      timeout: 1s
      healthy_threshold: 2
      unhealthy_threshold: 10
      success_codes: [http_2xx, http_3xx]
    servers: [{port: 9001}]
limits: {max_header_line: 8KiB, upstream_connect_timeout: 200ms, relay_buffer: 4KiB}
outcomes:
  connect_timeout: {status: 504, upstream_status: "504"}
  reset_before_response: {status: 502}
embedded_backends: [{name: b1, script: b1.yaml}]
worker_threads: 2
access_log: ""
)",
                                          "all.yaml");
  EXPECT_EQ(c.instance.id, "alb-test");
  EXPECT_EQ(c.instance.vips.size(), 2u);
  EXPECT_EQ(c.instance.qps.qps, 200u);
  EXPECT_EQ(c.instance.qps.burst, 10u);
  EXPECT_EQ(c.instance.bandwidth_bytes_per_s, 10u * 1024 * 1024);
  const listener_config& l = c.listeners.at(0);
  EXPECT_EQ(l.name, "front");
  EXPECT_EQ(l.protocol, listener_protocol::https);
  EXPECT_EQ(l.port, 0);
  EXPECT_EQ(l.certificate_file, "cert.pem");  // text: no directory to resolve against
  EXPECT_EQ(l.request_timeout, 2s);
  EXPECT_EQ(l.idle_timeout, 600s);
  EXPECT_EQ(l.max_requests_per_connection, 5u);
  EXPECT_FALSE(l.forwarded.x_forwarded_for);
  EXPECT_TRUE(l.forwarded.x_forwarded_proto);
  EXPECT_TRUE(l.forwarded.slb_id);
  EXPECT_EQ(l.qps.qps, 50u);
  EXPECT_EQ(l.client_link.extra_rtt, 100ms);
  EXPECT_EQ(l.client_link.bandwidth_bytes_per_s, 65536u);
  EXPECT_DOUBLE_EQ(l.client_link.loss, 0.1);
  EXPECT_EQ(l.client_link.loss_stall, 300ms);
  EXPECT_EQ(l.client_link.seed, 7u);
  ASSERT_EQ(l.rules.size(), 2u);
  EXPECT_EQ(l.rules[0].name, "rule-1");
  EXPECT_EQ(l.rules[0].host, "*.example.com");
  EXPECT_EQ(l.rules[0].per_client_qps.qps, 5u);
  EXPECT_EQ(l.rules[1].name, "static");
  EXPECT_EQ(l.rules[1].qps.burst, 2u);
  EXPECT_EQ(c.server_groups[0].scheduler, scheduler_kind::weighted_least_connections);
  EXPECT_EQ(c.server_groups[0].servers[0].backend, "b1");
  EXPECT_EQ(c.server_groups[0].servers[1].weight, 0u);
  const health_check_config& h = c.server_groups[1].health_check;
  EXPECT_EQ(c.server_groups[1].scheduler, scheduler_kind::source_ip_hash);
  EXPECT_EQ(h.protocol, health_check_protocol::tcp);
  EXPECT_EQ(h.unhealthy_threshold, 10u);
  EXPECT_EQ(h.success_classes, (std::vector<int>{2, 3}));
  EXPECT_EQ(c.limits.max_header_line, 8192u);
  EXPECT_EQ(c.limits.max_uri, 32768u);  // untouched
  EXPECT_EQ(c.limits.upstream_connect_timeout, 200ms);
  EXPECT_EQ(c.outcome_overrides.at(exchange_event::connect_timeout).upstream_status, "504");
  EXPECT_EQ(c.outcome_overrides.at(exchange_event::reset_before_response).status, 502);
  EXPECT_EQ(c.embedded_backends.at(0).script_file, "b1.yaml");
  EXPECT_EQ(c.worker_threads, 2u);
  EXPECT_EQ(c.access_log, "");
}

struct bad_case {
  const char* what;
  std::string yaml;
  int line;
  std::string field;
  std::string message_part;
};

class config_bad : public ::testing::TestWithParam<bad_case> {};

TEST_P(config_bad, is_refused_with_file_line_and_field) {
  const bad_case& b = GetParam();
  config_error e = load_error(b.yaml);
  EXPECT_EQ(e.file(), "test.yaml");
  EXPECT_EQ(e.line(), b.line) << e.what();
  EXPECT_EQ(e.field(), b.field) << e.what();
  EXPECT_NE(e.message().find(b.message_part), std::string::npos) << e.what();
}

std::string with_listener(const std::string& listener_lines) {
  return "listeners:\n  - port: 8080\n" + listener_lines +
         "server_groups:\n  - name: web\n    servers: [{port: 9000}]\n";
}

std::string with_group(const std::string& group_lines) {
  return "listeners: [{port: 8080}]\nserver_groups:\n  - name: web\n" + group_lines;
}

INSTANTIATE_TEST_SUITE_P(
    cases, config_bad,
    ::testing::Values(
        bad_case{"request_timeout", with_listener("    request_timeout: 181s\n"), 3,
                 "listeners[0].request_timeout", "allowed 1s to 180s"},
        bad_case{"idle_timeout", with_listener("    idle_timeout: 0s\n"), 3,
                 "listeners[0].idle_timeout", "allowed 1s to 600s"},
        bad_case{"port", "listeners:\n  - port: 70000\n", 2, "listeners[0].port",
                 "allowed 0 to 65535"},
        bad_case{"unknown key", with_listener("    request_timout: 5s\n"), 3,
                 "listeners[0].request_timout", "unknown field"},
        bad_case{"unknown top-level key", "listener: []\n", 1, "listener", "unknown field"},
        bad_case{"protocol", with_listener("    protocol: ftp\n"), 3, "listeners[0].protocol",
                 "allowed: http, https"},
        bad_case{"qps", with_listener("    qps: 100001\n"), 3, "listeners[0].qps",
                 "allowed 0 to 100000"},
        bad_case{"weight", with_group("    servers: [{port: 9000, weight: 101}]\n"), 4,
                 "server_groups[0].servers[0].weight", "allowed 0 to 100"},
        bad_case{"threshold", with_group("    health_check: {healthy_threshold: 1}\n"), 4,
                 "server_groups[0].health_check.healthy_threshold", "allowed 2 to 10"},
        bad_case{"interval", with_group("    health_check:\n      interval: 500ms\n"), 5,
                 "server_groups[0].health_check.interval", "allowed 1s to 50s"},
        bad_case{"success code", with_group("    health_check: {success_codes: [http_6xx]}\n"), 4,
                 "server_groups[0].health_check.success_codes[0]", "http_2xx"},
        bad_case{"scheduler", with_group("    scheduler: random\n"), 4,
                 "server_groups[0].scheduler", "allowed: wrr, wlc, sch"},
        bad_case{"server without port or backend", with_group("    servers:\n      - weight: 5\n"),
                 5, "server_groups[0].servers[0]", "either a port"},
        bad_case{"server with port and backend",
                 with_group("    servers:\n      - {port: 1, backend: b}\n"), 5,
                 "server_groups[0].servers[0]", "not both"},
        bad_case{"duplicate server", with_group("    servers:\n      - port: 1\n      - port: 1\n"),
                 6, "server_groups[0].servers[1]", "already in this group"},
        bad_case{"bad address", with_group("    servers: [{address: example.com, port: 1}]\n"), 4,
                 "server_groups[0].servers[0].address", "IPv4 or IPv6"},
        bad_case{"rule naming no group",
                 with_listener("    rules:\n      - path_prefix: /a\n        server_group: nope\n"),
                 5, "listeners[0].rules[0].server_group", "names no server group: 'nope'"},
        bad_case{"rule path", with_listener("    rules: [{path_prefix: api, server_group: web}]\n"),
                 3, "listeners[0].rules[0].path_prefix", "must start with '/'"},
        bad_case{"default group naming no group", with_listener("    default_server_group: api\n"),
                 3, "listeners[0].default_server_group", "names no server group: 'api'"},
        bad_case{"no default group among two",
                 "listeners: [{port: 80}]\nserver_groups: [{name: a}, {name: b}]\n", 1,
                 "listeners[0].default_server_group", "not exactly one server group"},
        bad_case{"duplicate group",
                 "listeners: [{port: 80, default_server_group: a}]\n"
                 "server_groups:\n  - name: a\n  - name: a\n",
                 4, "server_groups[1].name", "defined twice"},
        bad_case{"duplicate port",
                 "listeners:\n  - port: 80\n  - port: 80\n    protocol: https\n"
                 "server_groups: [{name: a}]\n",
                 3, "listeners[1].port", "already used by listener 'http-80'"},
        bad_case{"certificate without key",
                 "listeners:\n  - protocol: https\n    port: 443\n    certificate: c.pem\n"
                 "server_groups: [{name: a}]\n",
                 4, "listeners[0].certificate", "both certificate and private_key"},
        bad_case{"certificate on http",
                 with_listener("    certificate: c.pem\n    private_key: k\n"), 3,
                 "listeners[0].certificate", "for https listeners"},
        bad_case{"no listeners", "server_groups: [{name: a}]\n", 1, "listeners",
                 "at least one listener"},
        bad_case{"unknown outcome event",
                 std::string(k_minimal) + "outcomes:\n  connect_slow: {status: 504}\n", 8,
                 "outcomes.connect_slow", "connect_refused"},
        bad_case{"upstream_status",
                 std::string(k_minimal) + "outcomes:\n  connect_timeout: {upstream_status: x}\n", 8,
                 "outcomes.connect_timeout.upstream_status", "'-' or a status"},
        bad_case{"outcome status",
                 std::string(k_minimal) + "outcomes:\n  connect_timeout: {status: 600}\n", 8,
                 "outcomes.connect_timeout.status", "allowed 100 to 599"},
        bad_case{"header block below header line",
                 std::string(k_minimal) + "limits:\n  max_header_block: 16KiB\n", 8,
                 "limits.max_header_block", "at least max_header_line"},
        bad_case{"vip", "instance: {vips: [localhost]}\n", 1, "instance.vips[0]", "IPv4"},
        bad_case{"duplicate embedded backend",
                 std::string(k_minimal) + "embedded_backends:\n  - name: b\n  - name: b\n", 9,
                 "embedded_backends[1].name", "defined twice"},
        bad_case{"yaml syntax", "listeners: [port: 80\n", 2, "", "not valid YAML"}),
    [](const ::testing::TestParamInfo<bad_case>& info) {
      std::string name = info.param.what;
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(config_delta, absent_fields_keep_their_values) {
  proxy_config c = default_proxy_config();
  apply_proxy_config_delta(c, "instance: {qps: 100}\n", "delta.yaml");
  EXPECT_EQ(c.instance.qps.qps, 100u);
  EXPECT_EQ(c.instance.vips, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.server_groups[0].servers.size(), 2u);
}

TEST(config_delta, a_present_list_replaces_the_whole_list) {
  proxy_config c = default_proxy_config();
  apply_proxy_config_delta(c, "listeners: [{port: 0, request_timeout: 3s}]\n", "delta.yaml");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "http-0");
  EXPECT_EQ(c.listeners[0].request_timeout, 3s);
  EXPECT_EQ(c.listeners[0].default_server_group, "default");
}

TEST(config_delta, a_single_new_group_takes_over_the_listeners) {
  proxy_config c = default_proxy_config();
  apply_proxy_config_delta(c, "server_groups: [{name: empty}]\n", "delta.yaml");
  EXPECT_EQ(c.listeners[0].default_server_group, "empty");
  EXPECT_EQ(c.listeners[1].default_server_group, "empty");
}

TEST(config_delta, outcomes_merge_per_event) {
  proxy_config c = default_proxy_config();
  apply_proxy_config_delta(c, "outcomes: {connect_refused: {status: 503}}\n", "a.yaml");
  apply_proxy_config_delta(c, "outcomes: {connect_refused: {upstream_status: '502'}}\n", "b.yaml");
  apply_proxy_config_delta(c, "outcomes: {send_failed: {status: 500}}\n", "c.yaml");
  EXPECT_EQ(c.outcome_overrides.at(exchange_event::connect_refused).status, 503);
  EXPECT_EQ(c.outcome_overrides.at(exchange_event::connect_refused).upstream_status, "502");
  EXPECT_EQ(c.outcome_overrides.at(exchange_event::send_failed).status, 500);
}

TEST(config_delta, an_empty_delta_changes_nothing) {
  proxy_config c = default_proxy_config();
  apply_proxy_config_delta(c, "", "empty.yaml");
  apply_proxy_config_delta(c, "# only a comment\n", "comment.yaml");
  EXPECT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.worker_threads, 1u);
}

TEST(config_delta, a_failed_delta_leaves_the_config_unchanged) {
  proxy_config c = default_proxy_config();
  try {
    apply_proxy_config_delta(c, "worker_threads: 4\nlisteners: [{port: 0, idle_timeout: 0s}]\n",
                             "bad.yaml");
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "bad.yaml");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.field(), "listeners[0].idle_timeout");
  }
  EXPECT_EQ(c.worker_threads, 1u);
  EXPECT_EQ(c.listeners.size(), 2u);
}

TEST(config_delta, cross_checks_name_the_base_field_when_the_delta_did_not_set_it) {
  proxy_config c = default_proxy_config();
  config_error e("", 0, "", "");
  try {
    apply_proxy_config_delta(c, "server_groups: [{name: a}, {name: b}]\n", "two.yaml");
    FAIL() << "no error";
  } catch (const config_error& err) {
    e = err;
  }
  EXPECT_EQ(e.field(), "listeners[0].default_server_group");
  EXPECT_NE(e.message().find("'default'"), std::string::npos) << e.what();
}

TEST(config, exchange_event_names_round_trip) {
  for (auto e : {exchange_event::connect_refused, exchange_event::connect_timeout,
                 exchange_event::connect_error, exchange_event::reset_before_response,
                 exchange_event::closed_before_response, exchange_event::malformed_response,
                 exchange_event::partial_response_header, exchange_event::response_timeout,
                 exchange_event::send_failed}) {
    auto back = exchange_event_from_string(to_string(e));
    ASSERT_TRUE(back.has_value()) << to_string(e);
    EXPECT_EQ(*back, e);
  }
  EXPECT_STREQ(to_string(exchange_event::partial_response_header), "partial_response_header");
  EXPECT_FALSE(exchange_event_from_string("connect-refused").has_value());
}

TEST(config, a_missing_file_is_a_config_error) {
  try {
    load_proxy_config("/nonexistent/albsim.yaml");
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "/nonexistent/albsim.yaml");
  }
}

// Files named inside a config file are relative to that file.
TEST(config, file_names_resolve_against_the_config_directory) {
  fs::path dir = fs::temp_directory_path() / ("albsim-config-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "p.yaml";
  std::ofstream(file) << std::string(k_minimal) +
                             "embedded_backends: [{name: b, script: s.yaml}]\n";
  proxy_config c = load_proxy_config(file.string());
  fs::remove_all(dir);
  EXPECT_EQ(c.source_file, file.string());
  EXPECT_EQ(c.embedded_backends.at(0).script_file, (dir / "s.yaml").string());
}

std::vector<fs::path> example_configs() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(fs::path(ALBSIM_SOURCE_DIR) / "configs")) {
    std::string name = entry.path().filename().string();
    if (name.rfind("proxy-", 0) == 0 && entry.path().extension() == ".yaml") {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(config_examples, every_shipped_proxy_config_loads) {
  auto files = example_configs();
  EXPECT_GE(files.size(), 8u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    try {
      proxy_config c = load_proxy_config(f.string());
      for (const auto& b : c.embedded_backends) {
        if (!b.script_file.empty()) {
          EXPECT_TRUE(fs::exists(b.script_file)) << b.script_file;
        }
      }
    } catch (const config_error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST(config_examples, the_default_example_matches_the_built_in_default) {
  proxy_config file = load_proxy_config(ALBSIM_SOURCE_DIR "/configs/proxy-default.yaml");
  proxy_config built_in = default_proxy_config();
  ASSERT_EQ(file.listeners.size(), built_in.listeners.size());
  for (std::size_t i = 0; i < file.listeners.size(); ++i) {
    EXPECT_EQ(file.listeners[i].name, built_in.listeners[i].name);
    EXPECT_EQ(file.listeners[i].port, built_in.listeners[i].port);
    EXPECT_EQ(file.listeners[i].request_timeout, built_in.listeners[i].request_timeout);
  }
  ASSERT_EQ(file.server_groups.size(), 1u);
  EXPECT_EQ(file.server_groups[0].servers.size(), built_in.server_groups[0].servers.size());
}

// No Docker engine here: check that the compose file parses, has the three services, and that
// every config it hands to `albsim serve` exists and loads.
TEST(config_examples, docker_compose_names_existing_configs) {
  YAML::Node compose = YAML::LoadFile(ALBSIM_SOURCE_DIR "/docker-compose.yml");
  YAML::Node services = compose["services"];
  ASSERT_TRUE(services && services.IsMap());
  for (const char* name : {"proxy", "backend-1", "backend-2"}) {
    EXPECT_TRUE(services[name]) << name;
  }
  int serve_configs = 0;
  for (auto it = services.begin(); it != services.end(); ++it) {
    YAML::Node command = it->second["command"];
    ASSERT_TRUE(command && command.IsSequence()) << it->first.as<std::string>();
    for (std::size_t i = 0; i + 1 < command.size(); ++i) {
      std::string arg = command[i].as<std::string>();
      if (arg != "--config") continue;
      std::string target = command[i + 1].as<std::string>();  // /etc/albsim/<file>
      const std::string prefix = "/etc/albsim/";
      ASSERT_EQ(target.rfind(prefix, 0), 0u) << target;
      fs::path local = fs::path(ALBSIM_SOURCE_DIR) / "configs" / target.substr(prefix.size());
      EXPECT_TRUE(fs::exists(local)) << local;
      if (it->first.as<std::string>() == "proxy") {
        EXPECT_NO_THROW(load_proxy_config(local.string())) << local;
        ++serve_configs;
      }
    }
  }
  EXPECT_EQ(serve_configs, 1);
}

}  // namespace
}  // namespace albsim::proxy
