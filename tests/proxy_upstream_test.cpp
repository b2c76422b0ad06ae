// Loopback integration tests of the balancer facing failing backends: a refused or silent
// connect, a slow answer, a client leaving first, each backend fault (reset, close, malformed or
// partial answers, a full backlog, a path-MTU blackhole) mapped to its status and cause in the
// access-log record; and faults on other connections never disturbing an exchange in progress.
// Real sockets, real backends. The balancer's own replies and pass-through are tested in
// proxy_integration_test.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proxy_fixture.hpp"
#include "record_number.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;

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

}  // namespace
}  // namespace albsim::test
