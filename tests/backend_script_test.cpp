// Backend scripts: parsing (good files, and bad ones refused with file, line and field), and
// scripted behaviour on loopback: sequence rules, matching, health flips, rule counters.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "albsim/backend/backend_server.hpp"
#include "albsim/config_error.hpp"
#include "raw_client.hpp"

namespace albsim::backend {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<backend_server> start_script(const std::string& yaml) {
  backend_options o = load_backend_script_text(yaml, "test.yaml");
  o.log_on_stop = false;
  return backend_server::start(o);
}

int status_of(const backend_server& s, const std::string& request) {
  auto r = test::simple_request(s.address(), s.port(), request);
  return r ? r->status : 0;
}

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

// The config_error a bad script raises.
config_error error_of(const std::string& yaml) {
  try {
    load_backend_script_text(yaml, "bad.yaml");
  } catch (const config_error& e) {
    return e;
  }
  ADD_FAILURE() << "script was accepted:\n" << yaml;
  return config_error("", 0, "", "");
}

TEST(backend_script_test, empty_script_gives_defaults) {
  backend_options o = load_backend_script_text("", "empty.yaml");
  EXPECT_EQ(o.mode, transport_mode::normal);
  EXPECT_TRUE(o.rules.empty());
  EXPECT_EQ(o.script_source, "empty.yaml");
}

TEST(backend_script_test, full_script_parses) {
  backend_options o = load_backend_script_text(R"(
name: api
mode: queue-full-reset
threads: 2
link: {extra_rtt: 50ms, bandwidth: 1MiB, mtu_blackhole_bytes: 1400,
       mtu_blackhole_direction: request, blackhole_reset_after: 2s}
health:
  method: HEAD
  states: [{status: 200, checks: 3}, {status: 503, for: 1s}]
  repeat: true
rules:
  - name: r1
    match: {method: [GET, POST], path_glob: "/a/*", headers: {X-T: blue, X-D: ~}, after: 2, every: 3}
    action: {type: reset, after_bytes: 1KiB, body_bytes: 10KiB, delay: 1.5s}
  - match: {path: /drip}
    action: {drip: {rate: 1KiB}, headers: {X-A: b}}
)",
                                               "full.yaml");
  EXPECT_EQ(o.name, "api");
  EXPECT_EQ(o.mode, transport_mode::queue_full_reset);
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.link.extra_rtt, 50ms);
  EXPECT_EQ(o.link.bandwidth_bytes_per_s, 1024u * 1024);
  EXPECT_EQ(o.blackhole, blackhole_direction::request);
  EXPECT_EQ(o.health.methods, std::vector<std::string>{"HEAD"});
  ASSERT_EQ(o.health.states.size(), 2u);
  EXPECT_EQ(o.health.states[1].duration, 1s);
  ASSERT_EQ(o.rules.size(), 2u);
  const backend_rule& r1 = o.rules[0];
  EXPECT_EQ(r1.match.path_kind, path_match::glob);
  EXPECT_EQ(r1.match.headers.size(), 2u);
  EXPECT_EQ(r1.match.after, 2u);
  EXPECT_EQ(r1.action.kind, action_kind::reset);
  EXPECT_EQ(r1.action.after_bytes, 1024u);
  EXPECT_EQ(r1.action.delay, 1500ms);
  EXPECT_EQ(o.rules[1].name, "rules[1]");
  EXPECT_EQ(o.rules[1].action.drip.chunk_bytes, 102u);
  EXPECT_EQ(o.rules[1].action.drip.interval, 100ms);
}

TEST(backend_script_test, every_shipped_example_parses) {
  auto dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "configs";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("backend-", 0) != 0) continue;
    EXPECT_NO_THROW(load_backend_script(entry.path().string())) << name;
    ++seen;
  }
  EXPECT_GE(seen, 10);
}

// Bad scripts: each is refused naming the line and field at fault.
struct bad_script {
  const char* yaml;
  int line;
  const char* field;
};

TEST(backend_script_test, bad_scripts_name_line_and_field) {
  const bad_script cases[] = {
      // unknown field
      {"name: x\nrules:\n  - match: {path: /a}\n    action: {statuz: 500}\n", 4,
       "rules[0].action.statuz"},
      {"nmae: x\n", 1, "nmae"},
      // bad value
      {"mode: sideways\n", 1, "mode"},
      {"rules:\n  - action:\n      delay: soon\n", 3, "rules[0].action.delay"},
      {"rules:\n  - match: {path: nope}\n    action: {}\n", 2, "rules[0].match.path"},
      {"rules:\n  - action: {type: close, after_bytes: 10}\n", 2, "rules[0].action.after_bytes"},
      // out of range
      {"rules:\n  - action: {status: 700}\n", 2, "rules[0].action.status"},
      {"threads: 0\n", 1, "threads"},
      {"link:\n  loss: 1.5\n", 2, "link.loss"},
      // missing
      {"rules:\n  - match: {path: /a}\n", 2, "rules[0].action"},
      // a header that would inject a line break, or whose name is no token
      {"rules:\n  - action:\n      headers: {X-A: \"a\\r\\nSet-Cookie: b\"}\n", 3,
       "rules[0].action.headers.X-A"},
      {"rules:\n  - action:\n      headers: {\"X A\": b}\n", 3, "rules[0].action.headers.X A"},
  };
  for (const auto& c : cases) {
    auto e = error_of(c.yaml);
    EXPECT_EQ(e.file(), "bad.yaml") << c.yaml;
    EXPECT_EQ(e.line(), c.line) << c.yaml << e.what();
    EXPECT_EQ(e.field(), c.field) << c.yaml << e.what();
  }
}

TEST(backend_script_test, an_override_header_cannot_inject_a_line_break) {
  auto s = start_script("name: x\n");
  // The override travels in a request header, which cannot hold CR or LF; a percent-free value
  // with a bad name is refused the same way, with a 400 that names the problem.
  auto r =
      test::simple_request(s->address(), s->port(), get("/", "X-Albsim-Backend: header=X A:b\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("not a token"), std::string::npos) << r->body;
  s->stop();
}

TEST(backend_script_test, missing_file_is_an_error) {
  EXPECT_THROW(load_backend_script("/nonexistent/backend.yaml"), config_error);
}

TEST(backend_script_test, fail_twice_then_succeed_is_one_rule) {
  auto s = start_script(
      "rules:\n  - name: fail-twice\n    match: {path: /flaky, first: 2}\n"
      "    action: {status: 503}\n");
  EXPECT_EQ(status_of(*s, get("/flaky")), 503);
  EXPECT_EQ(status_of(*s, get("/flaky")), 503);
  EXPECT_EQ(status_of(*s, get("/flaky")), 200);
  EXPECT_EQ(status_of(*s, get("/flaky")), 200);
  EXPECT_EQ(status_of(*s, get("/other")), 200);
  auto c = s->counters();
  ASSERT_EQ(c.rule_hits.size(), 1u);
  EXPECT_EQ(c.rule_hits[0].first, "fail-twice");
  EXPECT_EQ(c.rule_hits[0].second, 2u);
}

TEST(backend_script_test, every_and_after_count_matching_requests) {
  auto s = start_script(
      "rules:\n  - match: {path: /e, every: 2}\n    action: {status: 500}\n"
      "  - match: {path: /a, after: 1}\n    action: {status: 504}\n");
  EXPECT_EQ(status_of(*s, get("/e")), 200);
  EXPECT_EQ(status_of(*s, get("/e")), 500);
  EXPECT_EQ(status_of(*s, get("/e")), 200);
  EXPECT_EQ(status_of(*s, get("/a")), 200);
  EXPECT_EQ(status_of(*s, get("/a")), 504);
}

TEST(backend_script_test, method_glob_and_header_conditions) {
  auto s = start_script(
      "rules:\n  - match: {method: POST, path_glob: '/v*/items', headers: {X-Tenant: blue}}\n"
      "    action: {status: 409}\n");
  std::string post =
      "POST /v2/items HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX-Tenant: blue\r\n\r\n";
  EXPECT_EQ(status_of(*s, post), 409);
  EXPECT_EQ(status_of(*s, get("/v2/items", "X-Tenant: blue\r\n")), 200);  // wrong method
  std::string other =
      "POST /v2/items HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX-Tenant: red\r\n\r\n";
  EXPECT_EQ(status_of(*s, other), 200);  // wrong header value
}

TEST(backend_script_test, health_flips_after_n_checks_and_back) {
  auto s = start_script(
      "health:\n  path: /hc\n  states:\n    - {status: 200, checks: 2}\n"
      "    - {status: 503, checks: 1}\n    - {status: 200}\n");
  EXPECT_EQ(status_of(*s, get("/hc")), 200);
  EXPECT_EQ(status_of(*s, get("/hc")), 200);
  EXPECT_EQ(status_of(*s, get("/hc")), 503);
  EXPECT_EQ(status_of(*s, get("/hc")), 200);
  EXPECT_EQ(status_of(*s, get("/hc")), 200);
  EXPECT_EQ(s->counters().health_checks, 5u);
}

TEST(backend_script_test, health_flips_after_a_time) {
  auto s =
      start_script("health:\n  states:\n    - {status: 503, for: 150ms}\n    - {status: 200}\n");
  EXPECT_EQ(status_of(*s, get("/health")), 503);
  EXPECT_TRUE(test::eventually([&] { return status_of(*s, get("/health")) == 200; }, 2000ms));
}

TEST(backend_script_test, override_header_beats_the_rules) {
  auto s = start_script("rules:\n  - action: {status: 500}\n");
  EXPECT_EQ(status_of(*s, get("/x")), 500);
  EXPECT_EQ(status_of(*s, get("/x", "X-Albsim-Backend: status=201\r\n")), 201);
}

}  // namespace
}  // namespace albsim::backend
