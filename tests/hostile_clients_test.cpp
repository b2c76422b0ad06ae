// Slow and hostile clients against the proxy (issue 12, docs/robustness.md), with small numbers
// so the suite stays fast; bench/slow_clients.sh runs the first one with 2,000 connections.
// - 200 connections each sending one header byte per second: each ends at the request timeout
//   with a 408 and its own record, while a steady client keeps its p99 within 2x of unloaded;
// - request bodies over max_body, with and without Content-Length;
// - 10,000 pipelined requests on one connection: 10,000 answers in order, 10,000 records;
// - a client that never reads a large response: the proxy gives up within the request timeout
//   and its memory stays bounded by the relay buffers, not by the response size.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy_fixture.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// The 99th percentile of latencies (nearest rank).
std::chrono::microseconds p99(std::vector<std::chrono::microseconds> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, (v.size() * 99 + 99) / 100 - 1)];
}

// One request on a fresh connection; its latency, or nullopt when it did not get a 200.
std::optional<std::chrono::microseconds> timed_get(proxy_harness& h) {
  auto start = clock_type::now();
  auto r = h.get("/get");
  if (!r || r->status != 200) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start);
}

std::size_t count_status(const std::vector<nlohmann::json>& records, int status) {
  return static_cast<std::size_t>(std::count_if(
      records.begin(), records.end(), [&](auto& r) { return r.value("status", 0) == status; }));
}

// Resident memory of this process in KiB (the proxy and the backend run in it).
long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// Request timeout 3 s, room for 10,000 requests on one connection; `max_body` when given.
proxy::proxy_config hostile_config(std::uint64_t max_body = 0) {
  auto cfg = base_proxy_config();
  if (max_body > 0) cfg.limits.max_body = max_body;
  cfg.listeners.at(0).request_timeout = 3s;
  cfg.listeners.at(0).max_requests_per_connection = 20000;
  return cfg;
}

TEST(HostileClients, SlowHeaderBytesEachEndWithA408AndASteadyClientKeepsItsLatency) {
  constexpr int k_slow = 200;
  constexpr int k_samples = 300;
  proxy_harness h(hostile_config());

  std::vector<std::chrono::microseconds> unloaded, loaded;
  for (int i = 0; i < k_samples; ++i) {
    auto t = timed_get(h);
    ASSERT_TRUE(t) << "unloaded request " << i << " failed";
    unloaded.push_back(*t);
  }

  // The attack: every connection sends the next byte of a request head once a second.
  std::vector<raw_client> slow(k_slow);
  for (auto& c : slow) ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  const std::string head = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Padding: ";
  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    for (std::size_t i = 0; !stop && i < head.size(); ++i) {
      auto tick = clock_type::now();
      for (auto& c : slow) (void)c.send_all(head.substr(i, 1), 100ms);
      while (!stop && clock_type::now() < tick + 1s) std::this_thread::sleep_for(10ms);
    }
  });
  // The steady client runs while the attack lasts (the request timeout is 3 s).
  auto attack_end = clock_type::now() + 2500ms;
  while (clock_type::now() < attack_end && loaded.size() < k_samples) {
    auto t = timed_get(h);
    ASSERT_TRUE(t) << "request " << loaded.size() << " during the attack failed";
    loaded.push_back(*t);
  }

  // Each slow connection gets the balancer's 408, then the close.
  int got_408 = 0;
  for (auto& c : slow) {
    std::string out;
    c.read_until_close(out, 10s);
    auto r = parse_response(out);
    if (r && r->status == 408) ++got_408;
  }
  stop = true;
  dripper.join();
  EXPECT_EQ(got_408, k_slow);

  auto records = h.records(k_samples + loaded.size() + k_slow, 15s);
  EXPECT_EQ(records.size(), k_samples + loaded.size() + k_slow);
  EXPECT_EQ(count_status(records, 408), static_cast<std::size_t>(k_slow));
  EXPECT_EQ(count_status(records, 200), k_samples + loaded.size());

  // The VM's own jitter dominates sub-millisecond figures, and this test shares two cores with
  // the rest of the suite (ctest -j2): the unloaded p99 counts as at least 5 ms. Starvation by
  // the slow clients would cost far more (their bytes come once a second); the 2x figure on
  // a quiet machine is bench/slow_clients.sh's (docs/robustness.md).
  auto base = std::max(p99(unloaded), std::chrono::microseconds(5000));
  auto under_attack = p99(loaded);
  std::printf("steady client: unloaded p99 %lld us, under attack p99 %lld us (%zu requests)\n",
              static_cast<long long>(p99(unloaded).count()),
              static_cast<long long>(under_attack.count()), loaded.size());
  EXPECT_GE(loaded.size(), 50u);
  EXPECT_LE(under_attack.count(), 2 * base.count());
}

TEST(HostileClients, BodyOverTheLimitWithContentLengthIsRefusedWithoutReadingIt) {
  proxy_harness h(hostile_config(4096));
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                       std::string(1000, 'a')),
            io_result::ok);
  std::string out;
  c.read_until_close(out, 5s);
  auto r = parse_response(out);
  ASSERT_TRUE(r) << out;
  EXPECT_EQ(r->status, 400);
  auto rec = h.only_record();
  EXPECT_EQ(rec.value("status", 0), 400);
  EXPECT_EQ(h.backend().counters().requests, 0u);
}

TEST(HostileClients, ChunkedBodyOverTheLimitIsCutOffAtTheLimit) {
  proxy_harness h(hostile_config(4096));
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  // Chunk extensions and a trailer on the way: the framing is valid, only the size is not.
  std::string body;
  for (int i = 0; i < 10; ++i)
    body += "400;ext=" + std::to_string(i) + "\r\n" + std::string(1024, 'b') + "\r\n";
  body += "0\r\nX-Trailer: 1\r\n\r\n";
  c.send_all("POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
  std::string out;
  c.read_until_close(out, 5s);
  // The proxy may already have forwarded the head; whatever it answers, the connection ends
  // and exactly one record says what happened.
  auto rec = h.only_record();
  EXPECT_NE(rec.value("status", 0), 200) << rec.dump();
  auto records = h.records(2, 300ms);
  EXPECT_EQ(records.size(), 1u);
}

TEST(HostileClients, TenThousandPipelinedRequestsOnOneConnectionAreAnsweredInOrder) {
  constexpr int k_requests = 10000;
  proxy_harness h(hostile_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  std::thread writer([&] {
    std::string batch;
    for (int i = 0; i < k_requests; ++i) {
      batch += "GET /get?n=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
      if (batch.size() > 64 * 1024 || i + 1 == k_requests) {
        if (c.send_all(batch, 30s) != io_result::ok) return;
        batch.clear();
      }
    }
  });
  // Read answers as they come: status line, headers, Content-Length body, next.
  std::string in;
  int answered = 0, ok = 0;
  std::size_t pos = 0;
  auto deadline = clock_type::now() + 60s;
  // The client's socket is non-blocking: wait (bounded) for bytes, then take what is there.
  auto read_more = [&] {
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return clock_type::now() < deadline;
    char buf[65536];
    ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    if (n <= 0) return n < 0 && errno == EAGAIN;
    in.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  while (answered < k_requests && clock_type::now() < deadline) {
    auto end = in.find("\r\n\r\n", pos);
    if (end == std::string::npos) {
      if (!read_more()) break;
      continue;
    }
    auto r = parse_response(in.substr(pos, end + 4 - pos));
    ASSERT_TRUE(r);
    auto length = std::stoul(r->header("content-length").value_or("0"));
    if (in.size() < end + 4 + length) {
      if (!read_more()) break;
      continue;
    }
    ++answered;
    if (r->status == 200) ++ok;
    pos = end + 4 + length;
    if (pos > 1 << 20) {  // keep the buffer small
      in.erase(0, pos);
      pos = 0;
    }
  }
  writer.join();
  EXPECT_EQ(answered, k_requests);
  EXPECT_EQ(ok, k_requests);
  auto records = h.records(k_requests, 30s);
  EXPECT_EQ(records.size(), static_cast<std::size_t>(k_requests));
  EXPECT_EQ(count_status(records, 200), static_cast<std::size_t>(k_requests));
}

TEST(HostileClients, ClientThatNeverReadsIsBoundedByTheWriteTimeoutAndMemory) {
  proxy_harness h(hostile_config());
  const long before = rss_kib();
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  // 256 MiB: far more than every socket buffer on the way can hold.
  ASSERT_EQ(c.send_all("GET /bytes/268435456 HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
  // Never read. The proxy must give up on its own (request timeout 3 s) and log the request.
  auto start = clock_type::now();
  auto rec = h.only_record(20s);
  auto took = clock_type::now() - start;
  EXPECT_FALSE(rec.empty());
  EXPECT_LT(took, 15s) << "the write path is not bounded by a timeout";
  const long after = rss_kib();
  std::printf(
      "never-reading client: record after %lld ms, status %d, RSS %ld -> %ld KiB\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
      rec.value("status", 0), before, after);
  EXPECT_LT(after - before, 64 * 1024) << "memory grew with the response size";
}

}  // namespace
}  // namespace albsim::test
