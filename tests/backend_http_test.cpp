// The backend's built-in routes over real loopback sockets: /status, /delay, /bytes, /echo,
// /health, keep-alive, streamed request bodies and malformed requests.
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

class backend_http_test : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_options o;
    o.log_on_stop = false;
    server_ = backend_server::start(o);
  }

  std::optional<test::http_response> get(const std::string& request, io_result* r = nullptr) {
    return test::simple_request(server_->address(), server_->port(), request, r, 3000ms);
  }

  std::unique_ptr<backend_server> server_;
};

TEST_F(backend_http_test, status_route_answers_that_status) {
  auto r = get("GET /status/503 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "503 Service Unavailable\n");
}

TEST_F(backend_http_test, root_and_health_answer_200) {
  auto root = get("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 200);
  EXPECT_EQ(root->body, "ok\n");
  auto health = get("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "healthy\n");
  EXPECT_EQ(server_->counters().health_checks, 1u);
}

TEST_F(backend_http_test, head_gets_the_length_but_no_body) {
  raw_client c;
  ASSERT_EQ(c.connect(server_->address(), server_->port()), io_result::ok);
  ASSERT_EQ(c.send_all("HEAD /bytes/5000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            io_result::ok);
  std::string raw;
  EXPECT_EQ(c.read_until_close(raw, 3000ms), io_result::eof);
  auto r = test::parse_response(raw);
  ASSERT_TRUE(r) << raw;
  EXPECT_EQ(r->header("Content-Length"), "5000");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(r->body.empty());
}

TEST_F(backend_http_test, bytes_route_streams_n_bytes) {
  auto r = get("GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(r->body.size(), 100000u);
  EXPECT_EQ(r->body[0], 'a');
  EXPECT_EQ(r->body[99999], static_cast<char>('a' + 99999 % 26));
}

TEST_F(backend_http_test, delay_route_waits_fractional_seconds) {
  auto start = std::chrono::steady_clock::now();
  auto r = get("GET /delay/0.2 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2000ms);
}

TEST_F(backend_http_test, echo_reports_method_target_headers_and_body_length) {
  auto r =
      get("POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nX-Two: a\r\nX-Two: b\r\nContent-Length: 5\r\n\r\n"
          "hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"method\":\"POST\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("\"target\":\"/echo?q=1\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("[\"X-Two\",\"a\"],[\"X-Two\",\"b\"]"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("\"body_length\":5"), std::string::npos) << r->body;
}

TEST_F(backend_http_test, keep_alive_serves_several_requests_on_one_connection) {
  raw_client c;
  ASSERT_EQ(c.connect(server_->address(), server_->port()), io_result::ok);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(c.send_all("GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
    std::string raw;
    ASSERT_EQ(c.read_response(raw, 3000ms), io_result::ok);
    EXPECT_EQ(test::parse_response(raw)->status, 200);
  }
  EXPECT_EQ(server_->counters().connections, 1u);
  EXPECT_EQ(server_->counters().requests, 3u);
}

TEST_F(backend_http_test, chunked_and_large_bodies_are_read_and_discarded) {
  raw_client c;
  ASSERT_EQ(c.connect(server_->address(), server_->port()), io_result::ok);
  std::string chunk(60000, 'x');
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  for (int i = 0; i < 50; ++i) req += size + chunk + "\r\n";
  req += "0\r\n\r\n";
  ASSERT_EQ(c.send_all(req, 5000ms), io_result::ok);
  std::string raw;
  ASSERT_EQ(c.read_response(raw, 5000ms), io_result::ok);
  auto r = test::parse_response(raw);
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\"body_length\":3000000"), std::string::npos) << r->body;
}

TEST_F(backend_http_test, malformed_request_gets_400_and_backend_keeps_serving) {
  auto bad = get("GET /x HTTP/1.1\r\nBad Header\r\n\r\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto bad_length = get("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
  ASSERT_TRUE(bad_length);
  EXPECT_EQ(bad_length->status, 400);
  auto good = get("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(server_->counters().bad_requests, 2u);
}

TEST_F(backend_http_test, oversized_header_block_gets_400) {
  std::string big(200 * 1024, 'v');
  auto r = get("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->header("Connection"), "close");
}

TEST_F(backend_http_test, stats_endpoint_shows_counters) {
  get("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = get("GET /__albsim/stats HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\"requests\":2"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("times the listen queue of a socket overflowed"), std::string::npos);
}

}  // namespace
}  // namespace albsim::backend
