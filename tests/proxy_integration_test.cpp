// Loopback integration tests of the balancer's own replies and of pass-through: real sockets,
// real backends, asserting what the client saw and the access-log record. The balancer facing
// failing backends is tested in proxy_upstream_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "proxy_fixture.hpp"
#include "record_number.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;

TEST(ProxyPassThrough, ForwardsAndLogsTheBackendsAnswer) {
  proxy_harness h(base_proxy_config());
  auto r = h.get("/echo", "X-Forwarded-For: 10.1.1.1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // The backend saw the appended X-Forwarded-For and the trace header.
  EXPECT_NE(r->body.find("10.1.1.1, 127.0.0.1"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("ALICLOUD-ALB-TRACE"), std::string::npos) << r->body;
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 200);
  EXPECT_EQ(rec["upstream_status"], "200");
  EXPECT_EQ(rec["sim_cause"], "ok");
  EXPECT_EQ(rec["request_method"], "GET");
  EXPECT_EQ(rec["request_uri"], "/echo");
  EXPECT_EQ(rec["upstream_addr"], h.backend().address() + ":" + std::to_string(h.backend().port()));
  EXPECT_EQ(rec["http_x_forwarded_for"], "10.1.1.1");
  EXPECT_GT(num(rec, "tcpinfo_rtt"), 0);
}

TEST(ProxyPassThrough, BackendErrorStatusesPassThroughWithTheirCause) {
  proxy_harness h(base_proxy_config());
  for (int code : {400, 405, 414, 500, 502, 503, 504}) {
    auto r = h.get("/status/" + std::to_string(code));
    ASSERT_TRUE(r) << code;
    EXPECT_EQ(r->status, code);
  }
  auto recs = h.records(7);
  ASSERT_EQ(recs.size(), 7u);
  int i = 0;
  for (int code : {400, 405, 414, 500, 502, 503, 504}) {
    EXPECT_EQ(recs[i]["status"], code);
    EXPECT_EQ(recs[i]["upstream_status"], std::to_string(code));
    EXPECT_EQ(recs[i]["sim_cause"], std::to_string(code) + "-backend-returned");
    ++i;
  }
}

TEST(ProxyPassThrough, KeepAliveCarriesManyRequestsAndLogsEach) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(c.send_all("GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
    std::string raw;
    ASSERT_EQ(c.read_response(raw), io_result::ok) << i;
    EXPECT_EQ(parse_response(raw)->status, 200);
  }
  EXPECT_EQ(h.records(20).size(), 20u);
}

// The client sees the answer to `first_uri` (200), then the 201, then the close; one record each.
void expect_200_then_201_then_close(raw_client& c, proxy_harness& h, const char* first_uri) {
  std::string raw;
  ASSERT_EQ(c.read_until_close(raw, 5s), io_result::eof);  // after the second answer
  const auto first = raw.find("HTTP/1.1 200");
  const auto second = raw.find("HTTP/1.1 201");
  ASSERT_NE(first, std::string::npos) << raw;
  ASSERT_NE(second, std::string::npos) << raw;
  EXPECT_LT(first, second);
  auto recs = h.records(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["status"], 200);
  EXPECT_EQ(recs[0]["request_uri"], first_uri);
  EXPECT_EQ(recs[1]["status"], 201);
  EXPECT_EQ(recs[1]["sim_cause"], "ok");
}

// The proxy watches a waiting client by reading ahead: a second request that arrives while the
// first is with the backend is kept for later (not taken for the client leaving), and the
// answers come back in order.
TEST(ProxyPassThrough, APipelinedRequestWaitsForTheAnswerBeforeIt) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("GET /delay/0.3 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /status/201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            io_result::ok);
  expect_200_then_201_then_close(c, h, "/delay/0.3");
}

// The same, with the second request sent only once the first is with the backend, so that it
// is the read-ahead (the watch on the waiting client) that takes it in.
TEST(ProxyPassThrough, ARequestSentWhileTheBackendWorksIsServedNext) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("GET /delay/0.5 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (h.server().counters().requests < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);  // polling a bounded wait for the head to be read
  ASSERT_EQ(h.server().counters().requests, 1u);
  ASSERT_EQ(c.send_all("GET /status/201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            io_result::ok);
  expect_200_then_201_then_close(c, h, "/delay/0.5");
}

TEST(ProxyPassThrough, StreamsALargeUploadAndDownload) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  const std::size_t n = 8 * 1024 * 1024;
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(n) +
                    "\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(c.send_all(req), io_result::ok);
  std::string chunk(64 * 1024, 'x');
  for (std::size_t sent = 0; sent < n; sent += chunk.size())
    ASSERT_EQ(c.send_all(chunk), io_result::ok);
  std::string raw;
  ASSERT_EQ(c.read_response(raw, 10s), io_result::ok);
  auto r = parse_response(raw);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(std::to_string(n)), std::string::npos) << r->body;
  auto d = h.get("/bytes/3000000");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->body.size(), 3000000u);
  auto recs = h.records(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_GE(recs[0]["request_length"].get<double>(), static_cast<double>(n));
}

TEST(ProxyOwnReplies, TraceIs405WithoutContactingTheBackend) {
  proxy_harness h(base_proxy_config());
  auto r = simple_request(h.address(), h.port(), "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 405);
  EXPECT_EQ(rec["upstream_status"], "-");
  EXPECT_EQ(rec["upstream_addr"], "-");
  EXPECT_EQ(rec["sim_cause"], "405-trace");
  EXPECT_EQ(h.backend().counters().requests, 0u);
}

TEST(ProxyOwnReplies, OverlongTargetIs414AndOverlongHeaderIs400) {
  proxy_harness h(base_proxy_config());
  auto a = simple_request(h.address(), h.port(),
                          "GET /" + std::string(33000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 414);
  auto b =
      simple_request(h.address(), h.port(),
                     "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(33000, 'b') + "\r\n\r\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 400);
  auto recs = h.records(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["sim_cause"], "414-uri-too-long");
  EXPECT_EQ(recs[1]["sim_cause"], "400-header-too-large");
  EXPECT_EQ(recs[1]["upstream_status"], "-");
}

TEST(ProxyOwnReplies, InvalidFramingIs400AndCloses) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
                       "chunked\r\n\r\nabc"),
            io_result::ok);
  std::string raw;
  EXPECT_EQ(c.read_until_close(raw), io_result::eof);
  auto r = parse_response(raw);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(h.only_record()["sim_cause"], "400-content-length-mismatch");
}

TEST(ProxyOwnReplies, PartialRequestThenCloseIsLogged400) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("GET /slow HTTP/1.1\r\nHost: x\r\nUser-Agent: half"), io_result::ok);
  c.close();
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 400);
  EXPECT_EQ(rec["sim_cause"], "400-client-closed-early");
  EXPECT_EQ(rec["upstream_status"], "-");
}

TEST(ProxyOwnReplies, BodyThatNeverArrivesIs408AfterTheRequestTimeout) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].request_timeout = 1s;
  proxy_harness h(cfg);
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-some"),
            io_result::ok);
  std::string raw;
  EXPECT_EQ(c.read_until_close(raw, 3s), io_result::eof);
  auto r = parse_response(raw);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  auto rec = h.only_record();
  EXPECT_EQ(rec["sim_cause"], "408-request-incomplete");
  EXPECT_NEAR(num(rec, "request_time"), 1.0, 0.05);
}

TEST(ProxyOwnReplies, QpsLimitGives503WithTheHeader) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].qps = proxy::qps_limit{5, 1};
  proxy_harness h(cfg);
  int limited = 0, ok = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = h.get("/status/200");
    ASSERT_TRUE(r);
    if (r->status == 503) {
      ++limited;
      EXPECT_EQ(r->header("ALB-QPS-Limited").value_or(""), "Limited");
    } else {
      ++ok;
    }
  }
  EXPECT_GE(limited, 5);
  EXPECT_GE(ok, 1);
  auto recs = h.records(10);
  int logged = 0;
  for (auto& rec : recs) {
    if (rec["status"] == 503) {
      EXPECT_EQ(rec["upstream_status"], "-");
      EXPECT_EQ(rec["sim_cause"], "503-qps-limited");
      ++logged;
    }
  }
  EXPECT_EQ(logged, limited);
}

TEST(ProxyOwnReplies, EmptyGroupAndZeroWeightsAre503) {
  auto cfg = base_proxy_config();
  proxy::server_group_config zero;
  zero.name = "zero";
  zero.health_check.enabled = false;
  refused_port unused;
  zero.servers.push_back(proxy::server_config{"127.0.0.1", unused.port(), 0, ""});
  cfg.server_groups.push_back(zero);
  proxy::rule_config rule;
  rule.name = "to-zero";
  rule.path_prefix = "/zero";
  rule.server_group = "zero";
  cfg.listeners[0].rules.push_back(rule);
  proxy::server_group_config empty;
  empty.name = "empty";
  empty.health_check.enabled = false;
  cfg.server_groups.push_back(empty);
  rule.name = "to-empty";
  rule.path_prefix = "/empty";
  rule.server_group = "empty";
  cfg.listeners[0].rules.push_back(rule);
  proxy_harness h(cfg);
  auto a = h.get("/zero");
  auto b = h.get("/empty");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 503);
  EXPECT_EQ(b->status, 503);
  auto recs = h.records(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["sim_cause"], "503-zero-weight");
  EXPECT_EQ(recs[1]["sim_cause"], "503-no-backend");
}
// A proxy in front of one albsim backend, for tests that stop the proxy themselves.
struct stoppable_proxy {
  std::shared_ptr<proxy::memory_log_sink> log = std::make_shared<proxy::memory_log_sink>();
  std::unique_ptr<backend::backend_server> b = backend::backend_server::start({});
  std::unique_ptr<proxy::proxy_server> p;
  std::uint16_t port = 0;
  stoppable_proxy() {
    auto cfg = base_proxy_config();
    cfg.server_groups[0].servers.push_back(proxy::server_config{b->address(), b->port(), 100, ""});
    p = proxy::proxy_server::start(cfg, log);
    port = p->listeners().at(0).port;
  }
};

TEST(ProxyLifecycle, EveryRequestSentGetsARecordEvenAcrossStop) {
  stoppable_proxy s;
  auto& [log, b, p, port] = s;
  // Five quick requests and one that is still with the backend when the proxy stops.
  for (int i = 0; i < 5; ++i) {
    auto r = simple_request("127.0.0.1", port, "GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
  }
  raw_client slow;
  ASSERT_EQ(slow.connect("127.0.0.1", port), io_result::ok);
  ASSERT_EQ(slow.send_all("GET /delay/0.5 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
  ASSERT_TRUE(eventually([&] { return b->counters().requests >= 6; }));
  p->stop();
  std::string raw;
  EXPECT_EQ(slow.read_response(raw, 2s), io_result::ok);  // it finished within the grace period
  EXPECT_EQ(log->lines().size(), 6u);
}

TEST(ProxyLifecycle, AnIdleKeepAliveConnectionIsClosedAtOnceOnStop) {
  stoppable_proxy s;
  auto& [log, b, p, port] = s;
  raw_client idle;
  ASSERT_EQ(idle.connect("127.0.0.1", port), io_result::ok);
  ASSERT_EQ(idle.send_all("GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
  std::string raw;
  ASSERT_EQ(idle.read_response(raw, 2s), io_result::ok);  // answered; the connection stays open
  // The connection waits for its next request: stopping ends that wait at once, instead of
  // leaving it to the shutdown grace (5 s) or the idle timeout.
  const auto start = std::chrono::steady_clock::now();
  p->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  std::string rest;
  EXPECT_EQ(idle.read_until_close(rest, 2s), io_result::eof);  // a FIN, nothing before it
  EXPECT_TRUE(rest.empty()) << rest;
  EXPECT_EQ(log->lines().size(), 1u);
}

TEST(ProxyHttps, PlainHttpOnTheHttpsPortIs400) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].protocol = proxy::listener_protocol::https;
  proxy_harness h(cfg);
  auto r = simple_request(h.address(), h.port(), "GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto rec = h.only_record();
  EXPECT_EQ(rec["sim_cause"], "400-http-to-https");
  EXPECT_EQ(rec["scheme"], "HTTPS");
  EXPECT_EQ(rec["request_uri"], "/x");
}

TEST(ProxyHttps, ServesRequestsOverTlsAndLogsTheSession) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].protocol = proxy::listener_protocol::https;
  cfg.listeners[0].forwarded.x_forwarded_proto = true;
  proxy_harness h(cfg);
  std::string protocol;
  auto r = tls_request(h.address(), h.port(),
                       "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &protocol);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("X-Forwarded-Proto\",\"https"), std::string::npos) << r->body;
  auto rec = h.only_record();
  EXPECT_EQ(rec["scheme"], "HTTPS");
  EXPECT_EQ(rec["ssl_protocol"], protocol);
  EXPECT_NE(rec["ssl_cipher"], "-");
}

TEST(ProxyHttps, OwnRepliesAndUpstreamFailuresAreTheSameOverTls) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].protocol = proxy::listener_protocol::https;
  proxy::server_group_config dead;
  dead.name = "dead";
  dead.health_check.enabled = false;
  refused_port nothing;
  dead.servers.push_back(proxy::server_config{"127.0.0.1", nothing.port(), 100, ""});
  cfg.server_groups.push_back(dead);
  proxy::rule_config rule;
  rule.name = "to-dead";
  rule.path_prefix = "/dead";
  rule.server_group = "dead";
  cfg.listeners[0].rules.push_back(rule);
  proxy_harness h(cfg);
  auto send = [&](const std::string& method, const std::string& path, const std::string& extra) {
    return tls_request(
        h.address(), h.port(),
        method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "Connection: close\r\n\r\n");
  };
  struct row {
    std::string method, path, extra;
    int status;
    std::string cause;
  } rows[] = {
      {"TRACE", "/", "", 405, "405-trace"},
      {"GET", "/status/503", "", 503, "503-backend-returned"},
      {"GET", "/dead", "", 502, "502-connection-refused"},
      {"GET", "/", "X-Albsim-Backend: reset\r\n", 500, "500-backend-reset"},
      {"GET", "/" + std::string(33000, 'a'), "", 414, "414-uri-too-long"},
  };
  for (const auto& r : rows) {
    auto resp = send(r.method, r.path, r.extra);
    ASSERT_TRUE(resp) << r.cause;
    EXPECT_EQ(resp->status, r.status) << r.cause;
  }
  auto recs = h.records(std::size(rows));
  ASSERT_EQ(recs.size(), std::size(rows));
  for (std::size_t i = 0; i < std::size(rows); ++i) {
    EXPECT_EQ(recs[i]["sim_cause"], rows[i].cause);
    EXPECT_EQ(recs[i]["scheme"], "HTTPS");
    EXPECT_NE(recs[i]["ssl_protocol"], "-");
  }
}

TEST(ProxyClientLink, ExtraRttShowsInTcpinfoRttAndSlowsTheExchange) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].client_link.extra_rtt = 200ms;
  proxy_harness h(cfg);
  auto start = std::chrono::steady_clock::now();
  auto r = h.get("/status/200");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(took, 200ms);  // half an RTT on the way in, half on the way out
  auto rec = h.only_record();
  EXPECT_GE(num(rec, "tcpinfo_rtt"), 200000);
}

TEST(ProxyClientLink, SlowLinkMakesTheRequestLateAnd408SaysWhy) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].request_timeout = 1s;
  cfg.listeners[0].client_link.extra_rtt = 300ms;
  cfg.listeners[0].client_link.bandwidth_bytes_per_s = 4000;
  proxy_harness h(cfg);
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  // The whole request is sent at once; the simulated link lets it in too slowly to finish
  // within the request timeout.
  const std::string body(64 * 1024, 'x');
  ASSERT_EQ(c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body),
            io_result::ok);
  std::string raw;
  EXPECT_EQ(c.read_until_close(raw, 3s), io_result::eof);
  auto resp = parse_response(raw);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 408);
  auto rec = h.only_record();
  EXPECT_EQ(rec["sim_cause"], "408-client-slow-link");
  EXPECT_GE(num(rec, "tcpinfo_rtt"), 300000);
}

TEST(ProxyVips, OneVipShareIsExhaustedWhileSpreadingPasses) {
  auto cfg = base_proxy_config();
  cfg.instance.vips = {"127.0.0.2", "127.0.0.3"};
  cfg.instance.qps = proxy::qps_limit{10, 2};  // 5/s per VIP, burst 1 each
  proxy_harness h(cfg);
  auto listeners = h.server().listeners();
  ASSERT_EQ(listeners.size(), 2u);
  auto send = [&](const std::string& vip, std::uint16_t port) {
    return simple_request(vip, port,
                          "GET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  };
  // Pinned: three at once on one VIP; the second and third find its share used up.
  int pinned_limited = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = send(listeners[0].address, listeners[0].port);
    ASSERT_TRUE(r);
    pinned_limited += r->status == 503;
  }
  EXPECT_GE(pinned_limited, 1);
  auto recs = h.records(3);
  bool single_vip = false;
  for (auto& rec : recs) {
    if (rec["status"] == 503) {
      EXPECT_EQ(rec["sim_cause"], "503-single-vip");
      EXPECT_EQ(rec["vip_addr"], listeners[0].address);
      single_vip = true;
    }
  }
  EXPECT_TRUE(single_vip);
  // The other VIP still has its share.
  auto other = send(listeners[1].address, listeners[1].port);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST(ProxyWorkers, TwoWorkersServeConcurrentClients) {
  auto cfg = base_proxy_config();
  cfg.worker_threads = 2;
  proxy_harness h(cfg, 2);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = h.get("/status/200");
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(h.records(100).size(), 100u);
  // Weighted round robin spread the requests over both backends.
  EXPECT_GT(h.backend(0).counters().requests, 30u);
  EXPECT_GT(h.backend(1).counters().requests, 30u);
}

}  // namespace
}  // namespace albsim::test
