// The admin API's runtime changes that came last (docs/retry-kit.md, "The admin API"): the
// instance QPS limit and a listener's client link, changed on a running proxy and observed the
// way a client and the access log observe them; refused changes that apply nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "admin_client.hpp"
#include "proxy_fixture.hpp"

namespace albsim::test {
namespace {

using nlohmann::json;
using clock_type = std::chrono::steady_clock;

constexpr const char* k_get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
constexpr auto k_extra_rtt = std::chrono::milliseconds(200);

double num(const json& j, const char* key) {
  return j.at(key).is_number() ? j.at(key).get<double>() : -1.0;
}

// How long one GET over a fresh connection takes, connect to complete answer; nullopt when it
// got no 200.
std::optional<clock_type::duration> timed_get(proxy_harness& h) {
  const auto start = clock_type::now();
  auto r = h.get("/");
  if (!r || r->status != 200) return std::nullopt;
  return clock_type::now() - start;
}

long long ms(clock_type::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

TEST(AdminRuntime, InstanceQpsLimitRefusesTheSecondOfTwoQuickRequests) {
  proxy_harness h(admin_config());
  // One good and one bad field: refused whole, nothing applied.
  auto bad = admin(h, "PUT", "/instance/qps", R"({"qps": 1, "burst": 2000000})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "burst");
  EXPECT_EQ(admin(h, "PUT", "/instance/qps", R"({"qps": 1, "colour": 1})").body["field"], "colour");
  EXPECT_EQ(admin(h, "PUT", "/instance/qps", R"({"qps": "1"})").body["field"], "qps");
  EXPECT_EQ(admin(h, "PUT", "/instance/qps", R"({"burst": 1})").body["field"], "qps");
  EXPECT_EQ(admin(h, "PUT", "/instance/qps", "{\"qps\": ").status, 400);
  EXPECT_EQ(admin(h, "GET", "/config").body["instance"]["qps"]["qps"], 0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.get("/")->status, 200) << "no limit was applied";

  auto set = admin(h, "PUT", "/instance/qps", R"({"qps": 1, "burst": 1})");
  ASSERT_EQ(set.status, 200) << set.text;
  EXPECT_EQ(set.body["qps"], 1);
  auto first = h.get("/");
  auto second = h.get("/");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 503);
  EXPECT_EQ(second->header("ALB-QPS-Limited").value_or(""), "Limited");
  auto records = h.records(5);
  EXPECT_EQ(records[4]["sim_cause"], "503-qps-limited");
  EXPECT_EQ(records[4]["upstream_status"], "-");
  EXPECT_EQ(h.backend().counters().requests, 4u) << "the refused request reached no backend";
  EXPECT_NE(
      admin(h, "GET", "/metrics").text.find("albsim_qps_refused_total{limiter=\"instance\"} 1"),
      std::string::npos);
  auto config = admin(h, "GET", "/config").body;
  EXPECT_EQ(config["instance"]["qps"], (json{{"qps", 1}, {"burst", 1}}));

  ASSERT_EQ(admin(h, "PUT", "/instance/qps", R"({"qps": 0})").status, 200);
  EXPECT_EQ(h.get("/")->status, 200) << "qps 0 turns the limit off";
}

TEST(AdminRuntime, InstanceQpsLimitIsSplitOverTheVipsLikeTheConfigs) {
  auto cfg = admin_config();
  cfg.instance.vips = {"127.0.0.2", "127.0.0.3"};
  proxy_harness h(cfg);
  auto listeners = h.server().listeners();
  ASSERT_EQ(listeners.size(), 2u);
  // 2/s over two VIPs: 1/s and a burst of 1 each.
  ASSERT_EQ(admin(h, "PUT", "/instance/qps", R"({"qps": 2, "burst": 2})").status, 200);
  auto send = [&](std::size_t i) {
    auto r = simple_request(listeners[i].address, listeners[i].port,
                            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return r ? r->status : 0;
  };
  EXPECT_EQ(send(0), 200);
  EXPECT_EQ(send(0), 503) << "one VIP's share is used up";
  EXPECT_EQ(send(1), 200) << "the other VIP has its own";
  auto records = h.records(3);
  std::vector<std::string> causes;
  for (const auto& r : records) causes.push_back(r["sim_cause"]);
  EXPECT_EQ(std::count(causes.begin(), causes.end(), "503-single-vip"), 1);
}

TEST(AdminRuntime, ClientLinkChangeReachesNewConnectionsOnly) {
  proxy_harness h(admin_config());
  const std::string path = "/listeners/" + h.server().listeners().at(0).name + "/client-link";

  // An open keep-alive connection, accepted before the change.
  raw_client open;
  ASSERT_EQ(open.connect(h.address(), h.port()), io_result::ok);
  std::string raw;
  ASSERT_EQ(open.send_all(k_get), io_result::ok);
  ASSERT_EQ(open.read_response(raw), io_result::ok);
  ASSERT_EQ(parse_response(raw)->status, 200);

  // The fastest of three requests without the link.
  clock_type::duration baseline = clock_type::duration::max();
  for (int i = 0; i < 3; ++i) {
    auto t = timed_get(h);
    ASSERT_TRUE(t) << "a request without the link got no 200";
    baseline = std::min(baseline, *t);
  }

  auto set = admin(h, "PUT", path, R"({"extra_rtt": "200ms"})");
  ASSERT_EQ(set.status, 200) << set.text;
  EXPECT_DOUBLE_EQ(set.body["client_link"]["extra_rtt"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(admin(h, "GET", "/config").body["listeners"][0]["client_link"]["extra_rtt"],
                   0.2);

  // A new connection: half the extra RTT on the request's read, half on the answer's write.
  const auto slow = timed_get(h);
  ASSERT_TRUE(slow) << "the request through the slowed link got no 200";
  EXPECT_GE(*slow, k_extra_rtt);
  // The link's two pauses add at least 200 ms; 10 ms of slack for the baseline's own jitter.
  EXPECT_GE(*slow - baseline, k_extra_rtt - std::chrono::milliseconds(10))
      << "baseline " << ms(baseline) << " ms, with the link " << ms(*slow) << " ms";
  EXPECT_LT(*slow, k_extra_rtt + std::chrono::seconds(3)) << "the link adds 200 ms, not more";
  // The connection accepted before keeps the link it was accepted with.
  raw.clear();
  ASSERT_EQ(open.send_all(k_get), io_result::ok);
  ASSERT_EQ(open.read_response(raw), io_result::ok);
  ASSERT_EQ(parse_response(raw)->status, 200);
  auto records = h.records(6);
  EXPECT_GE(num(records[4], "tcpinfo_rtt"), 200000) << "the new connection's RTT has the link";
  EXPECT_LT(num(records[5], "tcpinfo_rtt"), 200000) << "the open one's has not";

  // {} makes the link clean again for the next connections.
  ASSERT_EQ(admin(h, "PUT", path, "{}").status, 200);
  EXPECT_EQ(admin(h, "GET", "/config").body["listeners"][0]["client_link"]["extra_rtt"], 0.0);
  ASSERT_TRUE(h.get("/"));
  EXPECT_LT(num(h.records(7)[6], "tcpinfo_rtt"), 200000);
}

TEST(AdminRuntime, BadClientLinksAreRefusedWholeNamingTheField) {
  proxy_harness h(admin_config());
  const std::string path = "/listeners/" + h.server().listeners().at(0).name + "/client-link";
  ASSERT_EQ(admin(h, "PUT", path, R"({"extra_rtt": "50ms", "bandwidth": "64KiB"})").status, 200);
  const std::pair<std::string, std::string> bad[] = {
      {R"({"extra_rtt": "200ms", "loss": 2})", "loss"},             // one good, one out of range
      {R"({"extra_rtt": "200ms", "extra_rt": "1s"})", "extra_rt"},  // unknown field
      {R"({"extra_rtt": "fast"})", "extra_rtt"},
      {R"({"extra_rtt": true})", "extra_rtt"},
      {R"({"loss_stall": "61s"})", "loss_stall"},
      {R"({"bandwidth": {"rate": 1}})", "bandwidth"},
      {R"({"seed": -1})", "seed"},
  };
  for (const auto& [body, field] : bad) {
    auto r = admin(h, "PUT", path, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.body["field"], field) << r.text;
  }
  EXPECT_EQ(admin(h, "PUT", path, "[]").status, 400);
  EXPECT_EQ(admin(h, "PUT", path, "{\"extra_rtt\": ").status, 400);
  auto unknown = admin(h, "PUT", "/listeners/nope/client-link", R"({"extra_rtt": "1s"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body["field"], "name");
  // Still the link of the one change that was accepted.
  auto link = admin(h, "GET", "/config").body["listeners"][0]["client_link"];
  EXPECT_DOUBLE_EQ(link["extra_rtt"].get<double>(), 0.05);
  EXPECT_EQ(link["bandwidth"], 65536);
  EXPECT_EQ(link["loss"], 0.0);
  // What GET /config shows is accepted back as the same link.
  auto again = admin(h, "PUT", path, link.dump());
  ASSERT_EQ(again.status, 200) << again.text;
  EXPECT_EQ(again.body["client_link"], link);
}

}  // namespace
}  // namespace albsim::test
