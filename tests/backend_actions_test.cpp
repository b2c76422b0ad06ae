// Every backend action, chosen per request with the X-Albsim-Backend header, observed by a real
// loopback client: resets, clean closes, malformed and cut-short answers, hangs, drips.
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

class backend_actions_test : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_options o;
    o.log_on_stop = false;
    server_ = backend_server::start(o);
  }

  // Sends a GET carrying `override_value` and reads until the backend closes or `bound` passes.
  io_result exchange(const std::string& override_value, std::string& out,
                     std::chrono::milliseconds bound = 3000ms) {
    EXPECT_EQ(client_.connect(server_->address(), server_->port()), io_result::ok);
    std::string req =
        "GET /x HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: " + override_value + "\r\n\r\n";
    EXPECT_EQ(client_.send_all(req), io_result::ok);
    return client_.read_until_close(out, bound);
  }

  // Sends a GET carrying `override_value`; returns how long the complete response took.
  clock_type::duration timed_response(const std::string& override_value, std::string& out) {
    EXPECT_EQ(client_.connect(server_->address(), server_->port()), io_result::ok);
    auto start = clock_type::now();
    EXPECT_EQ(client_.send_all("GET / HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: " + override_value +
                               "\r\n\r\n"),
              io_result::ok);
    EXPECT_EQ(client_.read_response(out, 3000ms), io_result::ok);
    return clock_type::now() - start;
  }

  std::unique_ptr<backend_server> server_;
  raw_client client_;
};

TEST_F(backend_actions_test, status_and_header_items_shape_the_answer) {
  std::string out;
  EXPECT_EQ(exchange("status=502, header=Retry-After:5, body=nope", out, 300ms),
            io_result::timeout);  // keep-alive: the backend keeps the connection open
  auto r = test::parse_response(out);
  ASSERT_TRUE(r) << out;
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->header("Retry-After"), "5");
  EXPECT_EQ(r->body, "nope");
  EXPECT_EQ(server_->counters().overrides, 1u);
}

TEST_F(backend_actions_test, reset_sends_rst_before_any_byte) {
  std::string out;
  EXPECT_EQ(exchange("reset", out), io_result::reset);
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_TRUE(test::eventually([&] { return server_->counters().resets == 1; }));
}

TEST_F(backend_actions_test, reset_after_n_cuts_the_body_with_rst) {
  std::string out;
  EXPECT_EQ(exchange("reset=1000", out), io_result::reset);
  auto end = out.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 2000"), std::string::npos) << out;
  EXPECT_LE(out.size() - end - 4, 1000u);
}

TEST_F(backend_actions_test, close_is_a_fin_with_no_response) {
  std::string out;
  EXPECT_EQ(exchange("close", out), io_result::eof);
  EXPECT_TRUE(out.empty()) << out;
}

TEST_F(backend_actions_test, malformed_status_line_is_not_http) {
  std::string out;
  EXPECT_EQ(exchange("malformed-status", out), io_result::eof);
  auto line = out.substr(0, out.find("\r\n"));
  EXPECT_EQ(line, "HTTP/1.1 2x0 Malformed");
  // A status code is three digits; this one is not.
  EXPECT_FALSE(std::isdigit(static_cast<unsigned char>(line[10])));
}

TEST_F(backend_actions_test, malformed_header_line_has_no_colon) {
  std::string out;
  EXPECT_EQ(exchange("malformed-header", out), io_result::eof);
  EXPECT_NE(out.find("\r\nthis line is not a header\r\n"), std::string::npos) << out;
}

TEST_F(backend_actions_test, partial_header_stops_inside_the_header) {
  std::string out;
  EXPECT_EQ(exchange("partial-header=20", out), io_result::eof);
  EXPECT_EQ(out.size(), 20u);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_EQ(out.find("\r\n\r\n"), std::string::npos);
}

TEST_F(backend_actions_test, partial_body_announces_more_than_it_sends) {
  std::string out;
  EXPECT_EQ(exchange("partial-body=100, bytes=5000", out), io_result::eof);
  auto end = out.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_NE(out.find("Content-Length: 5000"), std::string::npos);
  EXPECT_EQ(out.size() - end - 4, 100u);
}

TEST_F(backend_actions_test, hang_sends_nothing_within_the_bound) {
  std::string out;
  EXPECT_EQ(exchange("hang", out, 300ms), io_result::timeout);
  EXPECT_TRUE(out.empty());
}

TEST_F(backend_actions_test, hang_with_hold_closes_after_it) {
  std::string out;
  auto start = clock_type::now();
  EXPECT_EQ(exchange("hang=200ms", out, 3000ms), io_result::eof);
  EXPECT_GE(clock_type::now() - start, 200ms);
  EXPECT_TRUE(out.empty());
}

TEST_F(backend_actions_test, stop_reading_lets_the_tcp_window_fill) {
  ASSERT_EQ(client_.connect(server_->address(), server_->port()), io_result::ok);
  ASSERT_EQ(client_.send_all("POST /up HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: stop-reading\r\n"
                             "Content-Length: 100000000\r\n\r\n"),
            io_result::ok);
  std::string block(1 << 20, 'x');
  io_result r = io_result::ok;
  for (int i = 0; i < 100 && r == io_result::ok; ++i) r = client_.send_all(block, 300ms);
  EXPECT_EQ(r, io_result::timeout);  // the backend stopped reading: sends block
  std::string out;
  EXPECT_EQ(client_.read_until_close(out, 100ms), io_result::timeout);
  EXPECT_TRUE(out.empty());
}

TEST_F(backend_actions_test, drip_spaces_the_body_chunks) {
  std::string out;
  auto took = timed_response("bytes=50, drip=10/60ms", out);
  EXPECT_GE(took, 240ms);  // five chunks, four pauses
  EXPECT_LT(took, 2000ms);
  auto r = test::parse_response(out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::string("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx"));
}

TEST_F(backend_actions_test, delay_holds_the_status_line) {
  std::string out;
  auto took = timed_response("delay=250ms", out);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2000ms);
}

TEST_F(backend_actions_test, bad_override_gets_400_naming_the_item) {
  auto r = test::simple_request(server_->address(), server_->port(),
                                "GET / HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: explode\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("unknown item 'explode'"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace albsim::backend
