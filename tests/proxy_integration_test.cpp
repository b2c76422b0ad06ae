// Loopback integration tests of the balancer's own replies and of pass-through: real sockets,
// real backends, asserting what the client saw and the access-log record.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "proxy_fixture.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;

double num(const nlohmann::json& j, const char* key) {
  return j.at(key).is_number() ? j.at(key).get<double>() : -1.0;
}

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

TEST(ProxyUpstream, RefusedConnectIs502) {
  auto cfg = base_proxy_config();
  refused_port nothing;
  cfg.server_groups[0].servers.push_back(
      proxy::server_config{"127.0.0.1", nothing.port(), 100, ""});
  proxy_harness h(cfg, 0);
  auto r = h.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  auto rec = h.only_record();
  EXPECT_EQ(rec["sim_cause"], "502-connection-refused");
  EXPECT_EQ(rec["upstream_status"], "-");
  EXPECT_LT(num(rec, "upstream_connect_time"), 0.1);
}

TEST(ProxyUpstream, SlowAnswerIs504AfterTheRequestTimeout) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].request_timeout = 1s;
  proxy_harness h(cfg);
  auto r = h.get("/delay/3", "", nullptr, 5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  auto rec = h.only_record();
  EXPECT_EQ(rec["sim_cause"], "504-request-timeout");
  EXPECT_NEAR(num(rec, "upstream_response_time"), 1.0, 0.05);
}

TEST(ProxyUpstream, ClientLeavingBeforeTheAnswerIs499) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("GET /delay/3 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
  std::string raw;
  EXPECT_EQ(c.read_until_close(raw, 300ms), io_result::timeout);  // the client's own timeout
  c.close();
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 499);
  EXPECT_EQ(rec["sim_cause"], "499-backend-slow");
  EXPECT_NEAR(num(rec, "request_time"), 0.3, 0.1);
}

TEST(ProxyUpstream, BackendFaultsMapToTheirCauses) {
  proxy_harness h(base_proxy_config());
  struct row {
    const char* action;
    int status;
    const char* cause;
  } rows[] = {
      {"reset", 500, "500-backend-reset"},
      {"close", 502, "502-backend-closed-no-response"},
      {"malformed-status", 502, "502-invalid-response"},
      {"malformed-header", 502, "502-invalid-response"},
      {"partial-header", 502, "502-backend-incomplete"},
  };
  for (const auto& r : rows) {
    auto resp = h.get("/", std::string("X-Albsim-Backend: ") + r.action);
    ASSERT_TRUE(resp) << r.action;
    EXPECT_EQ(resp->status, r.status) << r.action;
  }
  auto recs = h.records(std::size(rows));
  ASSERT_EQ(recs.size(), std::size(rows));
  for (std::size_t i = 0; i < std::size(rows); ++i) {
    EXPECT_EQ(recs[i]["status"], rows[i].status) << rows[i].action;
    EXPECT_EQ(recs[i]["sim_cause"], rows[i].cause) << rows[i].action;
    // The request reached the backend: "-" would say it never did (albsim's rule).
    EXPECT_EQ(recs[i]["upstream_status"], "502") << rows[i].action;
    EXPECT_GT(num(recs[i], "upstream_response_time"), -1.0) << rows[i].action;
  }
}

TEST(ProxyUpstream, ABackendStatus444Is502WithUpstreamStatus444) {
  proxy_harness h(base_proxy_config());
  auto r = h.get("/status/444");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 502);
  EXPECT_EQ(rec["upstream_status"], "444");
  EXPECT_EQ(rec["sim_cause"], "502-backend-status-rewritten");
}

TEST(ProxyUpstream, ConnectThatNeverCompletesIs504AtTheConnectTimeout) {
  backend::backend_options o;
  o.mode = backend::transport_mode::queue_full_silent;
  auto silent = backend::backend_server::start(o);
  auto cfg = base_proxy_config();
  cfg.limits.upstream_connect_timeout = 500ms;
  cfg.server_groups[0].servers.push_back(
      proxy::server_config{silent->address(), silent->port(), 100, ""});
  proxy_harness h(cfg, 0);
  auto r = h.get("/", "", nullptr, 3s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  auto rec = h.only_record();
  EXPECT_EQ(rec["sim_cause"], "504-connect-timeout");
  EXPECT_NEAR(num(rec, "upstream_connect_time"), 0.5, 0.05);
  EXPECT_LT(num(rec, "read_request_time"), 100);  // the wait was for the backend, not the client
}

TEST(ProxyUpstream, OverflowResetIs502BacklogFull) {
  auto ledger = std::make_shared<fault_ledger>();
  backend::backend_options o;
  o.mode = backend::transport_mode::queue_full_reset;
  o.ledger = ledger;
  auto full = backend::backend_server::start(o);
  auto cfg = base_proxy_config();
  cfg.server_groups[0].servers.push_back(
      proxy::server_config{full->address(), full->port(), 100, ""});
  proxy_harness h(cfg, 0, ledger);
  auto r = h.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  auto rec = h.only_record();
  EXPECT_EQ(rec["sim_cause"], "502-backlog-full");
  EXPECT_GE(full->counters().overflows, 1u);
}

TEST(ProxyUpstream, ABackendsNoteReachesOnlyTheProxyItWasMadeFor) {
  // The backend notes its overflow resets in a ledger this proxy does not read: the proxy
  // classifies the RST from the socket alone, as it would an external backend's.
  backend::backend_options o;
  o.mode = backend::transport_mode::queue_full_reset;
  o.ledger = std::make_shared<fault_ledger>();
  auto full = backend::backend_server::start(o);
  auto cfg = base_proxy_config();
  cfg.server_groups[0].servers.push_back(
      proxy::server_config{full->address(), full->port(), 100, ""});
  proxy_harness h(cfg, 0);
  auto r = h.get("/");
  ASSERT_TRUE(r);
  auto rec = h.only_record();
  EXPECT_NE(rec["sim_cause"], "502-backlog-full");
  EXPECT_TRUE(rec["sim_cause"] == "502-tcp-error" || rec["sim_cause"] == "500-backend-reset")
      << rec["sim_cause"];
}

TEST(ProxyUpstream, MtuBlackholeLetsSmallRequestsThroughAndBreaksLargeOnesAs502) {
  backend::backend_options o;
  o.link.mtu_blackhole_bytes = 4096;
  o.link.blackhole_reset_after = 300ms;
  o.blackhole = backend::blackhole_direction::request;
  auto ledger = std::make_shared<fault_ledger>();
  o.ledger = ledger;
  auto b = backend::backend_server::start(o);
  auto cfg = base_proxy_config();
  cfg.server_groups[0].servers.push_back(proxy::server_config{b->address(), b->port(), 100, ""});
  proxy_harness h(cfg, 0, ledger);
  auto small = h.get("/status/200");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  const std::string body(256 * 1024, 'x');
  auto large = simple_request(h.address(), h.port(),
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body,
                              nullptr, 3s);
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 502);
  auto recs = h.records(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["sim_cause"], "ok");
  EXPECT_EQ(recs[1]["sim_cause"], "502-mtu-blackhole");
  EXPECT_EQ(recs[1]["upstream_status"], "-");
}

TEST(ProxyReliability, FaultsOnOtherConnectionsNeverDisturbAnExchangeInProgress) {
  proxy_harness h(base_proxy_config());
  raw_client steady;
  ASSERT_EQ(steady.connect(h.address(), h.port()), io_result::ok);
  auto steady_request = [&] {
    if (steady.send_all("GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n") != io_result::ok) return 0;
    std::string raw;
    if (steady.read_response(raw) != io_result::ok) return 0;
    auto p = parse_response(raw);
    return p ? p->status : 0;
  };
  ASSERT_EQ(steady_request(), 200);
  std::size_t expected_records = 1;
  // A malformed request.
  ASSERT_TRUE(simple_request(h.address(), h.port(), "GARBAGE\r\n\r\n"));
  ++expected_records;
  // An oversized header.
  ASSERT_TRUE(simple_request(h.address(), h.port(),
                             "GET / HTTP/1.1\r\nX-Big: " + std::string(40000, 'b') + "\r\n\r\n"));
  ++expected_records;
  ASSERT_EQ(steady_request(), 200);
  ++expected_records;
  // A client that vanishes mid-body (RST).
  {
    raw_client c;
    ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
    ASSERT_EQ(c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                         std::string(5000, 'x')),
              io_result::ok);
    ASSERT_TRUE(eventually([&] { return h.backend().counters().requests >= 2; }));
    c.reset();
    ++expected_records;
  }
  // A backend that resets in the middle of its response body.
  {
    raw_client c;
    ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
    ASSERT_EQ(c.send_all(
                  "GET /bytes/1000000 HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: reset=1000\r\n\r\n"),
              io_result::ok);
    std::string raw;
    auto got = c.read_until_close(raw, 3s);
    EXPECT_TRUE(got == io_result::eof || got == io_result::reset) << to_string(got);
    auto p = parse_response(raw);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->status, 200);
    EXPECT_LT(p->body.size(), 1000000u);  // the client sees the body cut short
    ++expected_records;
  }
  ASSERT_EQ(steady_request(), 200);
  ++expected_records;
  auto recs = h.records(expected_records);
  EXPECT_EQ(recs.size(), expected_records);
  // Exactly one record each: nothing more arrives.
  EXPECT_EQ(h.records(expected_records + 1, 200ms).size(), expected_records);
}

TEST(ProxyLifecycle, EveryRequestSentGetsARecordEvenAcrossStop) {
  auto log = std::make_shared<proxy::memory_log_sink>();
  backend::backend_options o;
  auto b = backend::backend_server::start(o);
  auto cfg = base_proxy_config();
  cfg.server_groups[0].servers.push_back(proxy::server_config{b->address(), b->port(), 100, ""});
  auto p = proxy::proxy_server::start(cfg, log);
  const auto port = p->listeners().at(0).port;
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
