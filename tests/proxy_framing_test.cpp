// Request and response framing through the balancer (issue: chunked bodies, RFC 9112 refusals,
// no request smuggling). A recording backend keeps the bytes it receives and splits them with
// Beast's strict parser, so each test compares where the client meant a request to end with
// where the backend read it, and checks the bytes the client got back and the access log.
#include <gtest/gtest.h>

#include <boost/beast/core/string.hpp>

#include "proxy_fixture.hpp"
#include "recording_backend.hpp"
#include "response_stream.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;

proxy::proxy_config config_for(const recording_backend& b, bool https = false) {
  auto cfg = base_proxy_config();
  if (https) {
    auto l = cfg.listeners.front();
    l.name = "https";
    l.protocol = proxy::listener_protocol::https;
    cfg.listeners.push_back(l);
  }
  add_server(cfg, "127.0.0.1", b.port());
  return cfg;
}

std::string chunked(const std::vector<std::string>& pieces, const std::string& trailer = "") {
  std::string out;
  char size[32];
  for (const auto& p : pieces) {
    std::snprintf(size, sizeof size, "%zx", p.size());
    out += std::string(size) + "\r\n" + p + "\r\n";
  }
  return out + "0\r\n" + trailer + "\r\n";
}

// Sends `bytes` in pieces of `step` (0: all at once), then reads until the proxy closes.
std::string send_and_read(proxy_harness& h, const std::string& bytes, std::size_t step = 0,
                          std::chrono::milliseconds timeout = 5000ms) {
  raw_client c;
  EXPECT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  if (step == 0) step = bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    EXPECT_EQ(c.send_all(bytes.substr(at, step)), io_result::ok);
  }
  std::string raw;
  c.read_until_close(raw, timeout);
  return raw;
}

const std::string k_body = "hello, chunked world";

// ---- chunked requests ---------------------------------------------------------------------

struct request_shape {
  const char* name;
  std::string body_bytes;  // the chunked body as the client frames it
  std::size_t step;        // how the client splits its sends (0: one send)
};

class ChunkedRequest : public ::testing::TestWithParam<request_shape> {};

TEST_P(ChunkedRequest, ReachesTheBackendByteExactAndIsLoggedOnce) {
  recording_backend b;
  proxy_harness h(config_for(b), 0);
  const auto& shape = GetParam();
  const std::string head =
      "POST /upload HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n";
  auto raw = send_and_read(h, head + shape.body_bytes, shape.step);
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 1u) << raw;
  EXPECT_EQ(s.responses[0].status, 200);
  EXPECT_EQ(s.responses[0].header("X-Backend-Seq"), "1");
  auto got = b.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, k_body);
  // Exactly one framing field and one Host reached the backend.
  EXPECT_EQ(got[0].count("Transfer-Encoding"), 1u);
  EXPECT_EQ(got[0].count("Content-Length"), 0u);
  EXPECT_EQ(got[0].count("Host"), 1u);
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 200);
  EXPECT_EQ(rec["upstream_status"], "200");
  EXPECT_EQ(rec["request_length"], head.size() + shape.body_bytes.size());
  EXPECT_EQ(rec["body_bytes_sent"], 5);  // "seq 1"
  EXPECT_EQ(b.parse_errors(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ChunkedRequest,
    ::testing::Values(
        request_shape{"OneRead", chunked({"hello, ", "chunked world"}), 0},
        request_shape{"ManyReads", chunked({"hello, ", "chunked ", "world"}), 7},
        request_shape{"OneByteAtATime", chunked({"hello, ch", "unked world"}), 1},
        request_shape{"OneChunk", chunked({k_body}), 0},
        request_shape{"ChunkExtensions",
                      "7;name=value\r\nhello, \r\nd;a;b=\"q\"\r\nchunked world\r\n0\r\n\r\n", 0},
        request_shape{"Trailers",
                      chunked({"hello, ", "chunked world"}, "X-Checksum: 42\r\nX-More: y\r\n"), 0},
        request_shape{"TrailersOneByteAtATime", chunked({k_body}, "X-Checksum: 42\r\n"), 1},
        request_shape{"UppercaseHexAndLeadingZeros",
                      "0007\r\nhello, \r\n00D\r\nchunked world\r\n0\r\n\r\n", 3}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ChunkedRequestPipelined, FollowsAnotherRequestAndIsFollowedByOne) {
  recording_backend b;
  proxy_harness h(config_for(b), 0);
  const std::string first = "GET /first HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second =
      "POST /second HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
      chunked({"hello, ", "chunked world"});
  const std::string third = "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto raw = send_and_read(h, first + second + third);
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 3u) << raw;
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(s.responses[i].header("X-Backend-Seq"), std::to_string(i + 1));
  auto got = b.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].target, "/first");
  EXPECT_EQ(got[1].target, "/second");
  EXPECT_EQ(got[1].body, k_body);
  EXPECT_EQ(got[2].target, "/third");
  EXPECT_EQ(h.records(3).size(), 3u);
}

TEST(ChunkedRequestLarge, AGibibyteStreamsThroughToTheBackend) {
  // The albsim backend's /echo counts the decoded body without keeping it.
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: close\r\n\r\n"),
            io_result::ok);
  const std::size_t piece = 1 << 20, pieces = 1024;
  const std::string framed = "100000\r\n" + std::string(piece, 'z') + "\r\n";
  for (std::size_t i = 0; i < pieces; ++i) ASSERT_EQ(c.send_all(framed, 20s), io_result::ok);
  ASSERT_EQ(c.send_all("0\r\n\r\n"), io_result::ok);
  std::string raw;
  c.read_until_close(raw, 30s);
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 1u) << raw.substr(0, 300);
  EXPECT_EQ(s.responses[0].status, 200);
  EXPECT_NE(s.responses[0].body.find("\"body_length\":" + std::to_string(piece * pieces)),
            std::string::npos)
      << s.responses[0].body;
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 200);
  EXPECT_GT(rec["request_length"].get<double>(), static_cast<double>(piece * pieces));
}

// ---- chunked responses --------------------------------------------------------------------

recording_backend::responder raw_reply(std::string bytes, bool close_after = false) {
  return [bytes, close_after](const recording_backend::request&, std::size_t) {
    return recording_backend::reply{bytes, close_after};
  };
}

TEST(ChunkedResponse, ReachesTheClientByteExact) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  recording_backend b(raw_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
  proxy_harness h(config_for(b), 0);
  auto raw = send_and_read(h, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 1u) << raw;
  EXPECT_TRUE(s.responses[0].chunked);
  EXPECT_EQ(s.responses[0].body, "hello world");
  EXPECT_EQ(raw.substr(raw.size() - body.size()), body);  // the framing itself, unchanged
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 200);
  EXPECT_EQ(rec["body_bytes_sent"], body.size());
}

TEST(ChunkedResponse, ExtensionsTrailersAndManyChunksOnAKeptAliveConnection) {
  std::string body;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    std::string piece(static_cast<std::size_t>(1 + i * 97 % 5000), static_cast<char>('a' + i % 26));
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    body += std::string(size) + ";i=" + std::to_string(i) + "\r\n" + piece + "\r\n";
    expected += piece;
  }
  body += "0\r\nX-Digest: done\r\n\r\n";
  recording_backend b(raw_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
  proxy_harness h(config_for(b), 0);
  // Two requests on one connection: the first answer must end exactly where its framing says.
  auto raw = send_and_read(h,
                           "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n"
                           "Connection: close\r\n\r\n");
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 2u);
  EXPECT_EQ(s.responses[0].body, expected);
  EXPECT_EQ(s.responses[1].body, expected);
  auto recs = h.records(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["body_bytes_sent"], body.size());
  EXPECT_EQ(recs[1]["body_bytes_sent"], body.size());
}

TEST(ChunkedResponse, ABackendClosingMidChunkTruncatesAndCloses) {
  const std::string sent = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly-eight";
  recording_backend b(raw_reply(sent, true));
  proxy_harness h(config_for(b), 0);
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(c.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), io_result::ok);
  std::string raw;
  // The proxy cannot finish the answer: it closes the client connection instead of waiting.
  EXPECT_EQ(c.read_until_close(raw, 5s), io_result::eof);
  auto s = split_responses(raw);
  EXPECT_TRUE(s.incomplete);
  EXPECT_NE(raw.find("10\r\nonly-eight"), std::string::npos);
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 200);
  EXPECT_EQ(rec["body_bytes_sent"], std::string("10\r\nonly-eight").size());
  EXPECT_NE(rec["sim_detail"].get<std::string>().find("ended early"), std::string::npos);
}

TEST(ChunkedResponse, EightMebibytesInSmallChunks) {
  std::string body, expected;
  for (int i = 0; i < 2048; ++i) {
    std::string piece(4096, static_cast<char>('A' + i % 26));
    body += "1000\r\n" + piece + "\r\n";
    expected += piece;
  }
  body += "0\r\n\r\n";
  recording_backend b(raw_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
  proxy_harness h(config_for(b), 0);
  auto raw = send_and_read(h, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, 20s);
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 1u);
  EXPECT_EQ(s.responses[0].body, expected);
  EXPECT_EQ(h.only_record()["body_bytes_sent"], body.size());
}

TEST(ChunkedHttps, RequestAndResponseBodiesThroughTheTlsListener) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  recording_backend b(raw_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
  proxy_harness h(config_for(b, true), 0);
  std::string protocol;
  auto r = tls_request(h.address(1), h.port(1),
                       "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: close\r\n\r\n" +
                           chunked({"hello, ", "chunked world"}, "X-T: 1\r\n"),
                       &protocol);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto got = b.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, k_body);
  auto rec = h.only_record();
  EXPECT_EQ(rec["scheme"], "HTTPS");
  EXPECT_EQ(rec["body_bytes_sent"], body.size());
  EXPECT_NE(rec["ssl_protocol"], "-");
}

// ---- responses the balancer must not relay as they are ------------------------------------

struct bad_response {
  const char* name;
  std::string bytes;
};
class InvalidResponse : public ::testing::TestWithParam<bad_response> {};

TEST_P(InvalidResponse, Is502AndNothingOfItReachesTheClient) {
  recording_backend b(raw_reply(GetParam().bytes, true));
  proxy_harness h(config_for(b), 0);
  auto raw = send_and_read(h, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 1u) << raw;
  EXPECT_EQ(s.responses[0].status, 502);
  EXPECT_EQ(raw.find("evil"), std::string::npos) << raw;
  auto rec = h.only_record();
  EXPECT_EQ(rec["status"], 502);
  EXPECT_EQ(rec["sim_cause"], "502-invalid-response");
}

INSTANTIATE_TEST_SUITE_P(
    Framing, InvalidResponse,
    ::testing::Values(
        bad_response{"LengthAndChunked",
                     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX-A: "
                     "evil\r\n\r\n5\r\nevil!\r\n0\r\n\r\n"},
        bad_response{"ChunkedThenLength",
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\nX-A: "
                     "evil\r\n\r\n"},
        bad_response{
            "TwoDifferentLengths",
            "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\nX-A: evil\r\n\r\nevil!"},
        bad_response{"NonNumericLength",
                     "HTTP/1.1 200 OK\r\nContent-Length: 4x\r\nX-A: evil\r\n\r\nevil"},
        bad_response{"BareCrInAValue",
                     "HTTP/1.1 200 OK\r\nX-A: evil\rSet-Cookie: x\r\nContent-Length: 0\r\n\r\n"},
        bad_response{"ControlByteInAValue",
                     "HTTP/1.1 200 OK\r\nX-A: evil\x01\r\nContent-Length: 0\r\n\r\n"},
        bad_response{"BadStatusLine", "HTTP/1.1 20 OK\r\nX-A: evil\r\n\r\n"},
        bad_response{"NotHttp", "SSH-2.0-evil\r\n\r\n"},
        bad_response{"SpaceBeforeColon",
                     "HTTP/1.1 200 OK\r\nX-A : evil\r\nContent-Length: 0\r\n\r\n"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ResponseNormalising, EqualLengthsGoOutAsOneAndObsFoldBecomesASpace) {
  recording_backend b(
      raw_reply("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\nX-Folded: a\r\n "
                "b\r\n\r\nhello"));
  proxy_harness h(config_for(b), 0);
  auto raw = send_and_read(h, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto s = split_responses(raw);
  ASSERT_EQ(s.responses.size(), 1u) << raw;
  EXPECT_EQ(s.responses[0].body, "hello");
  std::size_t lengths = 0;
  for (const auto& [k, v] : s.responses[0].fields) {
    if (boost::beast::iequals(k, "Content-Length")) {
      ++lengths;
      EXPECT_EQ(v, "5");
    }
  }
  EXPECT_EQ(lengths, 1u);
  EXPECT_EQ(s.responses[0].header("X-Folded"), "a b");
}

}  // namespace
}  // namespace albsim::test

namespace albsim::test {
namespace {

// ---- ALICLOUD-ALB-TRACE: one header upstream, and the balancer's loop check ----------------

TEST(ForwardingLoop, ATraceEntryOfThisRuleIs463AndOtherEntriesAreKept) {
  recording_backend b;
  proxy_harness h(config_for(b), 0);
  auto first = send_and_read(h,
                             "GET /a HTTP/1.1\r\nHost: x\r\nALICLOUD-ALB-TRACE: "
                             "00000000000000aa\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(split_responses(first).responses.size(), 1u);
  auto got = b.requests();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].count("ALICLOUD-ALB-TRACE"), 1u);
  const std::string trace = got[0].field("ALICLOUD-ALB-TRACE");
  ASSERT_EQ(trace.rfind("00000000000000aa, ", 0), 0u) << trace;
  const std::string own = trace.substr(trace.size() - 16);

  // The same request coming back through the same rule: a loop.
  auto second = send_and_read(h, "GET /a HTTP/1.1\r\nHost: x\r\nALICLOUD-ALB-TRACE: " + trace +
                                     "\r\nConnection: close\r\n\r\n");
  auto s = split_responses(second);
  ASSERT_EQ(s.responses.size(), 1u);
  EXPECT_EQ(s.responses[0].status, 463);
  EXPECT_EQ(b.requests().size(), 1u);
  auto recs = h.records(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1]["status"], 463);
  EXPECT_EQ(recs[1]["sim_cause"], "463-forwarding-loop");
  EXPECT_EQ(recs[1]["upstream_status"], "-");
  EXPECT_EQ(own.size(), 16u);
}

TEST(ForwardingLoop, SixteenForeignEntriesPassSeventeenAreALoop) {
  recording_backend b;
  proxy_harness h(config_for(b), 0);
  auto entries = [](int n) {
    std::string v;
    for (int i = 0; i < n; ++i) v += (i ? ", " : "") + std::string(15, 'a') + char('a' + i % 26);
    return v;
  };
  auto ok = split_responses(send_and_read(h, "GET / HTTP/1.1\r\nHost: x\r\nALICLOUD-ALB-TRACE: " +
                                                 entries(16) + "\r\nConnection: close\r\n\r\n"));
  ASSERT_EQ(ok.responses.size(), 1u);
  EXPECT_EQ(ok.responses[0].status, 200);
  auto loop = split_responses(send_and_read(h, "GET / HTTP/1.1\r\nHost: x\r\nALICLOUD-ALB-TRACE: " +
                                                   entries(17) + "\r\nConnection: close\r\n\r\n"));
  ASSERT_EQ(loop.responses.size(), 1u);
  EXPECT_EQ(loop.responses[0].status, 463);
  EXPECT_EQ(b.requests().size(), 1u);
}

}  // namespace
}  // namespace albsim::test

namespace albsim::test {
namespace {

TEST(UpstreamPool, AnIdleConnectionIsClosedAfterTheUpstreamIdleTimeout) {
  recording_backend b;
  auto cfg = config_for(b);
  cfg.limits.upstream_idle_timeout = 200ms;
  proxy_harness h(cfg, 0);
  // Two requests in a row reuse one upstream connection...
  ASSERT_EQ(
      split_responses(send_and_read(h, "GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
          .responses.size(),
      1u);
  ASSERT_EQ(
      split_responses(send_and_read(h, "GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
          .responses.size(),
      1u);
  EXPECT_EQ(b.connections(), 1u);
  // ...and the pool closes it once it has been idle for the timeout: the backend sees the FIN.
  EXPECT_TRUE(eventually([&] { return b.closed_connections() == 1; }, 2000ms));
  ASSERT_EQ(
      split_responses(send_and_read(h, "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
          .responses.size(),
      1u);
  EXPECT_EQ(b.connections(), 2u);
}

}  // namespace
}  // namespace albsim::test
