// Routing through the proxy on loopback: forwarding rules, rule and per-client QPS limits,
// health checks taking servers out (and the balancer failing open when all are unhealthy).
#include <gtest/gtest.h>

#include "proxy_fixture.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<backend::backend_server> backend_with_health(int status) {
  backend::backend_options o;
  o.log_on_stop = false;
  o.health.states.push_back(backend::health_state{status, 0, 0ns});
  return backend::backend_server::start(o);
}

proxy::server_config server_of(const backend::backend_server& b) {
  return proxy::server_config{b.address(), b.port(), 100, ""};
}

TEST(ProxyRouting, RulesPickTheGroupByHostAndPath) {
  auto api = backend_with_health(200);
  auto web = backend_with_health(200);
  auto cfg = base_proxy_config();
  cfg.server_groups[0].servers.push_back(server_of(*web));
  proxy::server_group_config g;
  g.name = "api";
  g.health_check.enabled = false;
  g.servers.push_back(server_of(*api));
  cfg.server_groups.push_back(g);
  proxy::rule_config r;
  r.name = "api";
  r.host = "*.example.com";
  r.path_prefix = "/api/";
  r.server_group = "api";
  cfg.listeners[0].rules.push_back(r);
  proxy_harness h(cfg, 0);
  auto send = [&](const std::string& host, const std::string& path) {
    return simple_request(
        h.address(), h.port(),
        "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
  };
  ASSERT_TRUE(send("shop.example.com", "/api/orders"));
  ASSERT_TRUE(send("shop.example.com", "/index.html"));
  ASSERT_TRUE(send("other.test", "/api/orders"));
  EXPECT_EQ(api->counters().requests, 1u);
  EXPECT_EQ(web->counters().requests, 2u);
  EXPECT_EQ(h.records(3).size(), 3u);
}

TEST(ProxyRouting, PerClientLimitThrottlesOneClientNotAnother) {
  auto cfg = base_proxy_config();
  proxy::rule_config r;
  r.name = "all";
  r.server_group = "main";
  r.per_client_qps = proxy::qps_limit{2, 1};
  cfg.listeners[0].rules.push_back(r);
  proxy_harness h(cfg);
  auto from = [&](const std::string& source) {
    raw_client c;
    if (c.connect(h.address(), h.port(), 2s, source) != io_result::ok) return 0;
    c.send_all("GET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string raw;
    c.read_response(raw);
    auto p = parse_response(raw);
    return p ? p->status : 0;
  };
  // 127.0.0.5 sends a burst; 127.0.0.6 sends once afterwards and is still admitted.
  int limited = 0;
  for (int i = 0; i < 4; ++i) limited += from("127.0.0.5") == 503;
  EXPECT_GE(limited, 2);
  EXPECT_EQ(from("127.0.0.6"), 200);
  auto recs = h.records(5);
  for (auto& rec : recs) {
    if (rec["status"] == 503) {
      EXPECT_EQ(rec["client_ip"], "127.0.0.5");
      EXPECT_EQ(rec["sim_cause"], "503-qps-limited");
      EXPECT_NE(rec["sim_detail"].get<std::string>().find("per-client-IP"), std::string::npos);
    }
  }
}

TEST(ProxyHealth, UnhealthyServerGetsNoTrafficAndAllUnhealthyFailsOpen) {
  auto sick = backend_with_health(500);
  auto well = backend_with_health(200);
  auto cfg = base_proxy_config();
  auto& g = cfg.server_groups[0];
  g.servers = {server_of(*sick), server_of(*well)};
  g.health_check.enabled = true;
  g.health_check.path = "/health";
  g.health_check.interval = 30ms;
  g.health_check.timeout = 500ms;
  g.health_check.healthy_threshold = 2;
  g.health_check.unhealthy_threshold = 2;
  proxy_harness h(cfg, 0);
  // Once the checker has seen two failures, the sick server drops out.
  ASSERT_TRUE(eventually([&] { return sick->counters().health_checks >= 3; }, 3s));
  auto served = [&] {  // requests other than health checks
    auto c = sick->counters();
    return c.requests - c.health_checks;
  };
  const auto before = served();
  for (int i = 0; i < 10; ++i) {
    auto r = h.get("/status/200");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(served(), before);

  // A group where every server is unhealthy still routes (the balancer fails open).
  auto cfg2 = base_proxy_config();
  auto& g2 = cfg2.server_groups[0];
  g2.servers = {server_of(*sick)};
  g2.health_check = g.health_check;
  proxy_harness h2(cfg2, 0);
  const auto checks = sick->counters().health_checks;
  ASSERT_TRUE(eventually([&] { return sick->counters().health_checks >= checks + 3; }, 3s));
  auto r = h2.get("/status/200");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace albsim::test
