// Heads that trickle in one byte at a time, through a real proxy on loopback (docs/robustness.md,
// finding F1). A head whose bytes so far already show it malformed must get the same answer as
// when it arrives in one read, and at once: a 400 to the client (a 502 for a backend's response
// head), long before the request timeout, with exactly one access-log record. None of these heads
// ever holds "\r\n\r\n" (the peer never ends it): before the fix the proxy waited for it and
// answered only at the request timeout (408, or 504); each of these tests failed then.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "proxy_fixture.hpp"
#include "recording_backend.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Far above the bound the tests put on the answer: an answer at the timeout fails them.
constexpr auto k_request_timeout = 10s;
constexpr auto k_prompt = 3s;
// How long the client waits for an answer after each byte before it sends the next one.
constexpr auto k_byte_pace = 20ms;

proxy::proxy_config split_config() {
  auto cfg = base_proxy_config();
  cfg.listeners.at(0).request_timeout = k_request_timeout;
  return cfg;
}

bool readable_within(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
}

// The client got `status` well before the request timeout, and the access log has exactly one
// record, with that status.
void expect_prompt_answer(proxy_harness& h, const http_response& r, int status,
                          clock_type::duration elapsed) {
  EXPECT_EQ(r.status, status) << r.headers;
  EXPECT_LT(elapsed, k_prompt) << "answered only after "
                               << std::chrono::duration<double>(elapsed).count() << " s";
  auto records = h.records(2, 300ms);
  ASSERT_EQ(records.size(), 1u) << "expected exactly one access-log record";
  EXPECT_EQ(records[0].value("status", 0), status) << records[0].dump();
}

struct malformed_head {
  const char* name;
  std::string bytes;
};

// ---- request heads --------------------------------------------------------------------------

class TrickledRequestHead : public ::testing::TestWithParam<malformed_head> {};

TEST_P(TrickledRequestHead, IsRefusedWithA400AsSoonAsItIsCertainlyMalformed) {
  proxy_harness h(split_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  int one = 1;
  ::setsockopt(c.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // one byte per segment

  const std::string& head = GetParam().bytes;
  const auto start = clock_type::now();
  // One byte per send; the client stops sending once the proxy has answered (as a real client
  // would), so the answer is never lost to a reset caused by bytes it did not read.
  std::size_t sent = 0;
  while (sent < head.size()) {
    ASSERT_EQ(c.send_all(head.substr(sent, 1)), io_result::ok) << "after " << sent << " bytes";
    ++sent;
    if (readable_within(c.fd(), k_byte_pace)) break;
  }
  std::string raw;
  c.read_until_close(raw, k_request_timeout + 5s);
  const auto elapsed = clock_type::now() - start;

  auto r = parse_response(raw);
  ASSERT_TRUE(r) << "no response after " << sent << " of " << head.size() << " bytes: " << raw;
  expect_prompt_answer(h, *r, 400, elapsed);
}

INSTANTIATE_TEST_SUITE_P(
    F1, TrickledRequestHead,
    ::testing::Values(
        // The fuzz finding itself (tests/fuzz/corpus/request_head/finding-f1-bare-lf).
        malformed_head{"BareLineFeeds", "GET / HTTP/1.1\nHost: a\n\n"},
        malformed_head{"BareLineFeedInAField", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\nY: 2\n\n"},
        malformed_head{"LineEndInsideTheVersion", "GET / HTTP\r\nHost: a\r\n"},
        malformed_head{"ControlByteInTheTarget",
                       std::string("GET /a\x01z HTTP/1.1\r\nHost: a\r\n")},
        malformed_head{"CarriageReturnWithoutLineFeed", "GET / HTTP/1.1\r\nHost: a\rX: 1\r\n"},
        malformed_head{"FieldNameWithASpace", "GET / HTTP/1.1\r\nBad Name: 1\r\nHost: a\r\n"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- response heads -------------------------------------------------------------------------

class TrickledResponseHead : public ::testing::TestWithParam<malformed_head> {};

TEST_P(TrickledResponseHead, IsAnswered502AsSoonAsItIsCertainlyMalformed) {
  const std::string response = GetParam().bytes;
  recording_backend b([&](const recording_backend::request&, std::size_t) {
    // The backend keeps the connection open: only the head itself can tell the proxy it is bad.
    return recording_backend::reply{response, false, k_byte_pace};
  });
  auto cfg = split_config();
  add_server(cfg, "127.0.0.1", b.port());
  proxy_harness h(cfg, 0);

  const auto start = clock_type::now();
  io_result result{};
  auto r =
      simple_request(h.address(), h.port(),
                     "GET /slow-backend HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n",
                     &result, k_request_timeout + 5s);
  const auto elapsed = clock_type::now() - start;

  ASSERT_TRUE(r) << "no response: " << to_string(result);
  expect_prompt_answer(h, *r, 502, elapsed);
}

INSTANTIATE_TEST_SUITE_P(
    F1, TrickledResponseHead,
    ::testing::Values(
        // The fuzz finding itself (tests/fuzz/corpus/response_head/finding-f1-bare-lf).
        malformed_head{"BareLineFeeds", "HTTP/1.1 200 OK\nX: y\n\n"},
        malformed_head{"LineEndInsideTheStatus", "HTTP/1.1 20\r\nX: y\r\n"},
        malformed_head{"ControlByteInAField", std::string("HTTP/1.1 200 OK\r\nX: a\x02z\r\n")}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace albsim::test
