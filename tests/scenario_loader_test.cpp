// The scenario loader: good files load; every bad file is refused with file, line and field.
#include <gtest/gtest.h>

#include <vector>

#include "albsim/config_error.hpp"
#include "albsim/scenarios/scenario.hpp"

namespace albsim::scenarios {
namespace {

// A minimal valid scenario; tests replace parts of it.
const std::string k_good = R"(id: 502-connection-refused
status: 502
title: refused
backends:
  - name: app
    mode: refuse
proxy:
  listeners:
    - name: http
      port: 0
      request_timeout: 2s
client:
  action: request
  path: /x
  timeout: 2s
expect:
  client:
    status: 502
    headers: {ALB-QPS-Limited: {present: false}}
  log:
    status: 502
    upstream_status: "-"
    upstream_connect_time: {at_most: 0.1}
    request_time: {approx: 0.0, tolerance: 0.2}
    sim_cause: 502-connection-refused
  backend:
    app: {requests: 0}
explain:
  client: c
  balancer: b
  backend: k
  log: l
  check: x
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

config_error load_error(const std::string& text, const std::string& name = "bad.yml") {
  try {
    load_scenario_text(text, name);
  } catch (const config_error& e) {
    return e;
  }
  ADD_FAILURE() << "the scenario loaded although it is invalid";
  return config_error("", 0, "", "");
}

TEST(scenario_loader, good_file_loads_with_delta_backends_and_expectations) {
  scenario s = load_scenario_text(k_good, "502-connection-refused.yaml");
  EXPECT_EQ(s.id, "502-connection-refused");
  EXPECT_EQ(s.status, 502);
  ASSERT_EQ(s.backends.size(), 1u);
  EXPECT_EQ(s.backends[0].options.mode, backend::transport_mode::refuse);
  ASSERT_EQ(s.proxy.listeners.size(), 1u);
  EXPECT_EQ(s.proxy.listeners[0].request_timeout, std::chrono::seconds(2));
  ASSERT_EQ(s.proxy.server_groups.size(), 1u);
  ASSERT_EQ(s.proxy.server_groups[0].servers.size(), 1u);
  EXPECT_EQ(s.proxy.server_groups[0].servers[0].backend, "app");
  EXPECT_EQ(s.client.path, "/x");
  EXPECT_EQ(s.client.timeout, std::chrono::seconds(2));
  ASSERT_EQ(s.expectations.size(), 8u);
  EXPECT_EQ(s.expectations[1].field, "client.headers.alb-qps-limited");
  EXPECT_EQ(s.expectations[1].matcher.k, value_matcher::kind::absent);
  EXPECT_EQ(s.expectations[4].field, "log.upstream_connect_time");
  EXPECT_EQ(s.expectations[4].line, 23);
  EXPECT_EQ(s.expectations[5].matcher.k, value_matcher::kind::approx);
}

TEST(scenario_loader, unknown_field_is_named_with_its_line) {
  auto e = load_error(replace(k_good, "  path: /x\n", "  path: /x\n  retries: 3\n"));
  EXPECT_EQ(e.file(), "bad.yml");
  EXPECT_EQ(e.line(), 15);
  EXPECT_EQ(e.field(), "client.retries");
}

TEST(scenario_loader, wrong_type_is_named_with_its_line) {
  auto e = load_error(replace(k_good, "  timeout: 2s\nexpect", "  timeout: soon\nexpect"));
  EXPECT_EQ(e.line(), 15);
  EXPECT_EQ(e.field(), "client.timeout");
  e = load_error(replace(k_good, "status: 502\ntitle", "status: many\ntitle"));
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.field(), "status");
}

TEST(scenario_loader, missing_expectation_is_refused) {
  auto e = load_error(replace(k_good, "    sim_cause: 502-connection-refused\n", ""));
  EXPECT_EQ(e.field(), "expect.log.sim_cause");
  EXPECT_EQ(e.line(), 21);  // where the `log` map that lacks it begins
  e = load_error(replace(k_good, "    status: 502\n    upstream_status", "    upstream_status"));
  EXPECT_EQ(e.field(), "expect.log.status");
}

TEST(scenario_loader, unknown_log_field_and_wrong_matcher_are_refused) {
  auto e = load_error(replace(k_good, "    upstream_status: \"-\"\n",
                              "    upstream_status: \"-\"\n    upstream_sttaus: 502\n"));
  EXPECT_EQ(e.field(), "expect.log.upstream_sttaus");
  EXPECT_EQ(e.line(), 23);
  e = load_error(replace(k_good, "{approx: 0.0, tolerance: 0.2}", "{approx: 0.0}"));
  EXPECT_EQ(e.field(), "expect.log.request_time.tolerance");
  EXPECT_EQ(e.line(), 24);
}

TEST(scenario_loader, errors_inside_the_proxy_delta_keep_the_file_line) {
  auto e = load_error(replace(k_good, "request_timeout: 2s", "request_timeout: 900s"));
  EXPECT_EQ(e.file(), "bad.yml");
  EXPECT_EQ(e.line(), 11);
  EXPECT_EQ(e.field(), "proxy.listeners[0].request_timeout");
  e = load_error(replace(k_good, "      port: 0\n", "      port: 0\n      colour: red\n"));
  EXPECT_EQ(e.line(), 11);
  EXPECT_EQ(e.field(), "proxy.listeners[0].colour");
}

TEST(scenario_loader, errors_inside_a_backend_script_keep_the_file_line) {
  auto e = load_error(replace(k_good, "    mode: refuse\n",
                              "    mode: refuse\n    script:\n      rules:\n"
                              "        - action: {type: explode}\n"));
  EXPECT_EQ(e.file(), "bad.yml");
  EXPECT_EQ(e.line(), 9);
  EXPECT_EQ(e.field().rfind("backends[0].script.rules[0].action", 0), 0u) << e.field();
}

TEST(scenario_loader, id_status_and_file_name_must_agree_with_the_catalogue) {
  auto e = load_error(replace(k_good, "id: 502-connection-refused", "id: 502-gremlins"));
  EXPECT_EQ(e.field(), "id");
  EXPECT_EQ(e.line(), 1);
  e = load_error(replace(k_good, "status: 502\ntitle", "status: 504\ntitle"));
  EXPECT_EQ(e.field(), "status");
  e = load_error(k_good, "/somewhere/502-backlog-full.yaml");
  EXPECT_EQ(e.field(), "id");
  e = load_error(replace(k_good, "sim_cause: 502-connection-refused", "sim_cause: ok"));
  EXPECT_EQ(e.field(), "expect.log.sim_cause");
}

// A success scenario (ok-<name>) needs no cause ID, but a 2xx/3xx status and sim_cause "ok".
const std::string k_https = R"(id: ok-https
status: 200
title: https
proxy:
  listeners:
    - {name: http, port: 0}
    - {name: https, protocol: https, port: 0}
client:
  action: request
  listener: 1
  tls: true
expect:
  client: {status: 200}
  log:
    status: 200
    sim_cause: ok
)" + k_good.substr(k_good.find("explain:"));

// One change to k_https and the field its error must name.
struct bad_edit {
  const char* from;
  const char* to;
  const char* field;
};

void expect_refused(const std::vector<bad_edit>& edits) {
  for (const auto& b : edits) {
    EXPECT_EQ(load_error(replace(k_https, b.from, b.to)).field(), b.field) << b.to;
  }
}

TEST(scenario_loader, a_success_scenario_loads_and_keeps_to_its_own_rules) {
  scenario s = load_scenario_text(k_https, "ok-https.yaml");
  EXPECT_EQ(s.id, "ok-https");
  EXPECT_TRUE(s.client.tls);
  EXPECT_EQ(s.client.listener, 1u);
  expect_refused({{"status: 200\ntitle", "status: 502\ntitle", "status"},
                  {"sim_cause: ok", "sim_cause: ok-https", "expect.log.sim_cause"},
                  {"id: ok-https", "id: ok-", "id"}});
}

TEST(scenario_loader, same_as_names_another_observation) {
  scenario s =
      load_scenario_text(replace(k_https, "    sim_cause: ok",
                                 "    ssl_cipher: {same_as: client.tls_cipher}\n    sim_cause: ok"),
                         "ok-https.yaml");
  ASSERT_EQ(s.expectations.size(), 4u);
  EXPECT_EQ(s.expectations[2].matcher.k, value_matcher::kind::same_as);
  EXPECT_EQ(s.expectations[2].matcher.text, "client.tls_cipher");
  expect_refused({{"    sim_cause: ok", "    ssl_cipher: {same_as: tls_cipher}\n    sim_cause: ok",
                   "expect.log.ssl_cipher.same_as"},
                  {"    sim_cause: ok",
                   "    ssl_cipher: {same_as: client.x, present: true}\n    sim_cause: ok",
                   "expect.log.ssl_cipher"}});
}

TEST(scenario_loader, tls_needs_an_https_listener_and_a_plain_request) {
  EXPECT_EQ(load_error(replace(k_https, "listener: 1", "listener: 0")).line(), 11);
  expect_refused({{"listener: 1", "listener: 0", "client.tls"},
                  {"tls: true", "tls: true\n  warmup: 2", "client.warmup"},
                  {"action: request", "action: abort-after-send", "client.tls"}});
}

TEST(scenario_loader, servers_must_name_a_backend_of_the_scenario) {
  auto e = load_error(replace(k_good, "proxy:\n",
                              "proxy:\n  server_groups:\n    - name: main\n"
                              "      servers: [{backend: ghost}]\n"));
  EXPECT_EQ(e.field(), "proxy.server_groups[0].servers[0].backend");
}

}  // namespace
}  // namespace albsim::scenarios
