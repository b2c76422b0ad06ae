// Transport modes and backend-link conditions, each observed as the kernel effect a client
// sees: a refused connect, a connect that never completes, a reset right after connecting, a
// path-MTU blackhole that lets health checks through but not large exchanges, paced links.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "albsim/backend/backend_server.hpp"
#include "raw_client.hpp"

namespace albsim::backend {
namespace {

using namespace std::chrono_literals;
using test::io_result;
using test::raw_client;
using clock_type = std::chrono::steady_clock;

std::unique_ptr<backend_server> start_backend(
    transport_mode mode, link_conditions link = {},
    blackhole_direction dir = blackhole_direction::response) {
  backend_options o;
  o.mode = mode;
  o.link = link;
  o.blackhole = dir;
  o.log_on_stop = false;
  return backend_server::start(o);
}

TEST(backend_transport_test, refuse_mode_gets_connection_refused) {
  auto server = start_backend(transport_mode::refuse);
  ASSERT_NE(server->port(), 0);
  raw_client c;
  EXPECT_EQ(c.connect(server->address(), server->port(), 1000ms), io_result::refused);
}

TEST(backend_transport_test, queue_full_silent_connect_does_not_complete) {
  auto server = start_backend(transport_mode::queue_full_silent);
  raw_client c;
  EXPECT_EQ(c.connect(server->address(), server->port(), 1500ms), io_result::timeout);
  // The kernel counted the dropped SYNs (TcpExt ListenOverflows, as `netstat -s` shows).
  EXPECT_GE(server->counters().overflows, 1u);
}

TEST(backend_transport_test, queue_full_reset_resets_without_reading) {
  auto server = start_backend(transport_mode::queue_full_reset);
  raw_client c;
  // The reset can arrive before the client's connect has even reported success.
  auto connected = c.connect(server->address(), server->port(), 1000ms);
  ASSERT_TRUE(connected == io_result::ok || connected == io_result::reset)
      << test::to_string(connected);
  if (connected == io_result::ok) {
    std::string out;
    c.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // may already fail with the reset
    EXPECT_EQ(c.read_until_close(out, 2000ms), io_result::reset);
    EXPECT_TRUE(out.empty());
  }
  EXPECT_TRUE(test::eventually([&] { return server->counters().overflows == 1; }));
  EXPECT_EQ(server->counters().requests, 0u);
}

TEST(backend_transport_test, response_blackhole_passes_health_but_not_large_answers) {
  link_conditions link;
  link.mtu_blackhole_bytes = 1400;
  link.blackhole_reset_after = 300ms;
  auto server = start_backend(transport_mode::normal, link);
  io_result r{};
  auto health = test::simple_request(server->address(), server->port(),
                                     "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", &r, 2000ms);
  ASSERT_TRUE(health) << test::to_string(r);
  EXPECT_EQ(health->status, 200);

  raw_client c;
  ASSERT_EQ(c.connect(server->address(), server->port()), io_result::ok);
  ASSERT_EQ(c.send_all("GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
  std::string out;
  auto start = clock_type::now();
  EXPECT_EQ(c.read_until_close(out, 3000ms), io_result::reset);
  EXPECT_GE(clock_type::now() - start, 250ms);
  EXPECT_EQ(out.size(), 1400u);  // everything beyond the blackhole size vanished
}

TEST(backend_transport_test, request_blackhole_never_answers_a_large_upload) {
  link_conditions link;
  link.mtu_blackhole_bytes = 1400;
  link.blackhole_reset_after = 300ms;
  auto server = start_backend(transport_mode::normal, link, blackhole_direction::request);
  auto small = test::simple_request(server->address(), server->port(),
                                    "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);

  raw_client c;
  ASSERT_EQ(c.connect(server->address(), server->port()), io_result::ok);
  std::string body(20000, 'x');
  c.send_all("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + body, 1000ms);
  std::string out;
  EXPECT_EQ(c.read_until_close(out, 3000ms), io_result::reset);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(server->counters().resets, 1u);
}

TEST(backend_transport_test, bandwidth_cap_paces_the_response) {
  link_conditions link;
  link.bandwidth_bytes_per_s = 100 * 1024;
  auto server = start_backend(transport_mode::normal, link);
  auto start = clock_type::now();
  auto r = test::simple_request(server->address(), server->port(),
                                "GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto took = clock_type::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), 100000u);
  // The shaper lets a burst of about 32 KiB through, then about 67 KB at 100 KiB/s.
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 2000ms);
}

TEST(backend_transport_test, extra_rtt_delays_each_exchange) {
  link_conditions link;
  link.extra_rtt = 200ms;
  auto server = start_backend(transport_mode::normal, link);
  auto start = clock_type::now();
  auto r =
      test::simple_request(server->address(), server->port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto took = clock_type::now() - start;
  ASSERT_TRUE(r);
  EXPECT_GE(took, 200ms);  // half on the read, half on the write
  EXPECT_LT(took, 2000ms);
}

TEST(backend_transport_test, threads_serve_many_connections) {
  backend_options o;
  o.threads = 2;
  o.log_on_stop = false;
  auto server = backend_server::start(o);
  for (int i = 0; i < 20; ++i) {
    auto r = test::simple_request(server->address(), server->port(),
                                  "GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 204);
  }
  EXPECT_EQ(server->counters().connections, 20u);
}

TEST(backend_transport_test, stop_is_prompt_with_connections_open) {
  auto server = start_backend(transport_mode::normal);
  raw_client c;
  ASSERT_EQ(c.connect(server->address(), server->port()), io_result::ok);
  ASSERT_EQ(c.send_all("GET / HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: hang\r\n\r\n"),
            io_result::ok);
  ASSERT_TRUE(test::eventually([&] { return server->counters().requests == 1; }));
  auto start = clock_type::now();
  server->stop();
  server->stop();  // idempotent
  EXPECT_LT(clock_type::now() - start, 1000ms);
  std::string out;
  EXPECT_NE(c.read_until_close(out, 1000ms), io_result::timeout);
}

// The backend's read deadlines: an idle connection closes after idle_timeout; a request whose
// head stops arriving closes after request_timeout (counted from its first byte), unanswered.
TEST(backend_transport_test, idle_connection_closes_after_idle_timeout) {
  backend_options o;
  o.log_on_stop = false;
  o.idle_timeout = 300ms;
  auto server = backend_server::start(o);
  raw_client c;
  ASSERT_EQ(c.connect(server->address(), server->port(), 1000ms), io_result::ok);
  const auto t0 = clock_type::now();
  std::string out;
  EXPECT_EQ(c.read_until_close(out, 3000ms), io_result::eof);
  const auto waited = clock_type::now() - t0;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2000ms);
  EXPECT_TRUE(out.empty());
}

TEST(backend_transport_test, trickled_request_head_closes_after_request_timeout) {
  backend_options o;
  o.log_on_stop = false;
  o.idle_timeout = 5s;
  o.request_timeout = 400ms;
  auto server = backend_server::start(o);
  raw_client c;
  ASSERT_EQ(c.connect(server->address(), server->port(), 1000ms), io_result::ok);
  ASSERT_EQ(c.send_all("GET / HTTP/1.1\r\nHost: x\r\n"), io_result::ok);  // no end of head
  const auto t0 = clock_type::now();
  std::string out;
  EXPECT_EQ(c.read_until_close(out, 3000ms), io_result::eof);
  const auto waited = clock_type::now() - t0;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 2500ms);
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_EQ(server->counters().requests, 0u);
}

TEST(backend_transport_test, kept_alive_connection_serves_within_its_deadlines) {
  backend_options o;
  o.log_on_stop = false;
  o.idle_timeout = 2s;
  o.request_timeout = 2s;
  auto server = backend_server::start(o);
  raw_client c;
  ASSERT_EQ(c.connect(server->address(), server->port(), 1000ms), io_result::ok);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(c.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
    std::string out;
    ASSERT_EQ(c.read_response(out, 2000ms), io_result::ok);
    EXPECT_NE(out.find(" 200 "), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace albsim::backend
