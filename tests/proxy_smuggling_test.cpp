// Differential framing tests in the spirit of HTTP Garden: each case is a byte string a client
// sends on one connection. The balancer and a strict backend parser must agree on how many
// requests there were and where each one ends (and on each body), or the balancer must refuse
// with its own 400 and close, forwarding nothing of the ambiguous request. The corpus covers the
// cases of RFC 9112 an intermediary must refuse and the known desync families (CL.TE, TE.CL,
// TE.TE obfuscations, CL.0, 0.CL, chunk-size and extension tricks, pipelining after an error).
#include <gtest/gtest.h>

#include "proxy_fixture.hpp"
#include "recording_backend.hpp"
#include "response_stream.hpp"

namespace albsim::test {
namespace {

using namespace std::chrono_literals;

// What must happen to a case.
struct verdict {
  // Requests the backend must read, with the body each must carry (the client's intent).
  std::vector<std::string> forwarded_bodies;
  // The balancer's own refusal after those (0 = none), and the cause it logs.
  int refusal = 0;
  const char* cause = "";
};

struct framing_case {
  const char* name;
  std::string bytes;
  verdict expect;
};

const std::string H = "Host: shop.test\r\n";
const std::string CLOSE = "Connection: close\r\n";
const std::string SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: shop.test\r\n\r\n";

verdict refused(const char* cause, std::vector<std::string> before = {}) {
  return verdict{std::move(before), 400, cause};
}
verdict forwarded(std::vector<std::string> bodies) { return verdict{std::move(bodies), 0, ""}; }

constexpr const char* k_head = "400-invalid-header";
constexpr const char* k_length = "400-content-length-mismatch";

std::vector<framing_case> corpus() {
  const std::string post = "POST /p HTTP/1.1\r\n" + H;
  const std::string chunked_hello = "5\r\nhello\r\n0\r\n\r\n";
  return {
      // -- Transfer-Encoding that is not (only, or last) chunked: RFC 9112 6.3 item 4
      {"TeXchunked", post + "Transfer-Encoding: xchunked\r\n\r\n" + chunked_hello + SMUGGLED,
       refused(k_head)},
      {"TeChunkedIdentity", post + "Transfer-Encoding: chunked, identity\r\n\r\n" + chunked_hello,
       refused(k_head)},
      {"TeIdentity", post + "Transfer-Encoding: identity\r\n\r\n" + SMUGGLED, refused(k_head)},
      {"TeGzipOnly", post + "Transfer-Encoding: gzip\r\n\r\n" + SMUGGLED, refused(k_head)},
      {"TeChunkedTwiceInALine",
       post + "Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked_hello, refused(k_head)},
      {"TeChunkedOnTwoLines",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_hello,
       refused(k_head)},
      {"TeChunkedThenGzipLine",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n" + chunked_hello,
       refused(k_head)},
      {"TeQuoted", post + "Transfer-Encoding: \"chunked\"\r\n\r\n" + chunked_hello,
       refused(k_head)},
      // An empty list element is allowed (RFC 9110 5.6.1): "chunked," is chunked.
      {"TeTrailingComma", post + "Transfer-Encoding: chunked,\r\n" + CLOSE + "\r\n" + chunked_hello,
       forwarded({"hello"})},
      {"TeSpaceBeforeColon", post + "Transfer-Encoding : chunked\r\n\r\n" + chunked_hello,
       refused(k_head)},
      {"TeVerticalTab",
       post +
           "Transfer-Encoding: \x0b"
           "chunked\r\n\r\n" +
           chunked_hello,
       refused(k_head)},
      {"TeFoldedIntoHost",
       "POST /p HTTP/1.1\r\nHost: shop.test\r\n Transfer-Encoding: chunked\r\n\r\n" + chunked_hello,
       refused(k_head)},
      {"TeUnderscore",
       post + "Transfer_Encoding: chunked\r\nContent-Length: 5\r\n" + CLOSE + "\r\nhello",
       forwarded({"hello"})},
      {"TeInHttp10",
       "POST /p HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n" + chunked_hello,
       refused(k_head)},
      // -- Content-Length together with Transfer-Encoding (CL.TE / TE.CL)
      {"ClThenTe", post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
       refused(k_length)},
      {"TeThenCl",
       post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
       refused(k_length)},
      {"ClThenTeObfuscated",
       post + "Content-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n5c\r\n", refused(k_length)},
      // -- Content-Length values
      {"TwoDifferentLengths", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
       refused(k_length)},
      {"ListOfDifferentLengths", post + "Content-Length: 5, 6\r\n\r\nhello!", refused(k_length)},
      {"NegativeLength", post + "Content-Length: -5\r\n\r\nhello", refused(k_length)},
      {"PlusLength", post + "Content-Length: +5\r\n\r\nhello", refused(k_length)},
      {"HexLength", post + "Content-Length: 0x5\r\n\r\nhello", refused(k_length)},
      {"SpaceInsideLength", post + "Content-Length: 5 5\r\n\r\nhello", refused(k_length)},
      {"EmptyLength", post + "Content-Length: \r\n\r\n", refused(k_length)},
      {"HugeLength", post + "Content-Length: 99999999999999999999999\r\n\r\nhello",
       refused(k_length)},
      {"EqualLengthsTwice",
       post + "Content-Length: 5\r\nContent-Length: 5\r\n" + CLOSE + "\r\nhello",
       forwarded({"hello"})},
      {"EqualLengthsInAList", post + "Content-Length: 5, 5\r\n" + CLOSE + "\r\nhello",
       forwarded({"hello"})},
      // -- a body longer than its Content-Length: the surplus is no request (the guide's 400)
      {"BodyLongerThanLength", post + "Content-Length: 5\r\n\r\nhello, and more bytes\r\n\r\n",
       refused(k_length, {"hello"})},
      // -- CL.0 / 0.CL: a body the backend might not expect
      {"GetWithBody",
       "GET /g HTTP/1.1\r\n" + H + "Content-Length: " + std::to_string(SMUGGLED.size()) + "\r\n" +
           CLOSE + "\r\n" + SMUGGLED,
       forwarded({SMUGGLED})},
      {"ZeroLengthThenRequest",
       post + "Content-Length: 0\r\n\r\n" + "GET /next HTTP/1.1\r\n" + H + CLOSE + "\r\n",
       forwarded({"", ""})},
      // -- chunk syntax
      {"ChunkSizeNotHex", post + "Transfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n",
       refused(k_length)},
      {"ChunkSizeOverflow",
       post + "Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nhello\r\n0\r\n\r\n",
       refused(k_length)},
      {"ChunkDataLongerThanSize",
       post + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", refused(k_length)},
      // A chunk line must end in CRLF: without one the chunk never ends, and the request times out.
      {"ChunkLfOnly", post + "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
       verdict{{}, 408, "408-request-incomplete"}},
      {"ChunkExtensionControlByte",
       post + "Transfer-Encoding: chunked\r\n\r\n5;a\x01\r\nhello\r\n0\r\n\r\n", refused(k_length)},
      {"ChunkSizeWithSpace", post + "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
       refused(k_length)},
      {"ChunkedValid", post + "Transfer-Encoding: chunked\r\n" + CLOSE + "\r\n" + chunked_hello,
       forwarded({"hello"})},
      {"ChunkedMixedCase", post + "Transfer-Encoding: ChUnKeD\r\n" + CLOSE + "\r\n" + chunked_hello,
       forwarded({"hello"})},
      {"ChunkedTabBeforeValue",
       post + "Transfer-Encoding:\tchunked\r\n" + CLOSE + "\r\n" + chunked_hello,
       forwarded({"hello"})},
      {"ChunkedAfterGzip",
       post + "Transfer-Encoding: gzip, chunked\r\n" + CLOSE + "\r\n" + chunked_hello,
       forwarded({"hello"})},
      {"ChunkedExtensionAndTrailer",
       post + "Transfer-Encoding: chunked\r\n" + CLOSE +
           "\r\n5;x=\"0\r\n\"\r\nhello\r\n0\r\nT: v\r\n\r\n",
       refused(k_length)},
      {"ChunkedTrailerThenRequest",
       post +
           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\nGET /next "
           "HTTP/1.1\r\n" +
           H + CLOSE + "\r\n",
       forwarded({"hello", ""})},
      // -- Host: RFC 9112 3.2
      {"NoHost", "GET / HTTP/1.1\r\n\r\n", refused(k_head)},
      {"TwoHosts", "GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", refused(k_head)},
      {"TwoEqualHosts", "GET / HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n", refused(k_head)},
      {"HostWithSpace", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", refused(k_head)},
      {"HostWithSlash", "GET / HTTP/1.1\r\nHost: a.test/x\r\n\r\n", refused(k_head)},
      {"HostWithUserinfo", "GET / HTTP/1.1\r\nHost: u@a.test\r\n\r\n", refused(k_head)},
      {"AbsoluteFormWithoutAuthority", "GET http:///x HTTP/1.1\r\n" + H + "\r\n", refused(k_head)},
      {"AbsoluteFormNamesTheHost",
       "GET http://shop.test/x?q=1 HTTP/1.1\r\nHost: other.test\r\n" + CLOSE + "\r\n",
       forwarded({""})},
      {"Http10WithoutHost", "GET / HTTP/1.0\r\n\r\n", forwarded({""})},
      // -- field and line syntax
      {"BareLfInHead", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", refused(k_head)},
      {"BareCrInHead", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", refused(k_head)},
      {"NulInValue", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 36),
       refused(k_head)},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", refused(k_head)},
      {"EmptyFieldName", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", refused(k_head)},
      {"ObsFoldIsJoined", "GET / HTTP/1.1\r\n" + H + "X-A: a\r\n b\r\n" + CLOSE + "\r\n",
       forwarded({""})},
      {"ConnectionNamesAField",
       "GET / HTTP/1.1\r\n" + H + "Connection: X-Secret\r\nX-Secret: 1\r\n" + CLOSE + "\r\n",
       forwarded({""})},
      // -- request line
      {"Http12", "GET / HTTP/1.2\r\n" + H + "\r\n", refused(k_head)},
      {"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", refused(k_head)},
      {"LowercaseHttp", "GET / http/1.1\r\n" + H + "\r\n", refused(k_head)},
      {"TwoSpaces", "GET  / HTTP/1.1\r\n" + H + "\r\n", refused(k_head)},
      {"TlsHelloOnHttp", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11),
       refused(k_head)},
      // -- pipelining after an error never reaches the backend
      {"GarbageThenRequest", "NOT A REQUEST\r\n\r\n" + SMUGGLED, refused(k_head)},
      {"RequestThenGarbage", "GET /ok HTTP/1.1\r\n" + H + "\r\nGARBAGE\r\n\r\n" + SMUGGLED,
       refused(k_head, {""})},
  };
}

class Smuggling : public ::testing::TestWithParam<framing_case> {};

TEST_P(Smuggling, ClientAndBackendAgreeOrTheBalancerRefuses) {
  const auto& c = GetParam();
  recording_backend b;
  auto cfg = base_proxy_config();
  cfg.listeners.front().request_timeout = 1s;  // a case that never completes ends with a 408
  add_server(cfg, "127.0.0.1", b.port());
  proxy_harness h(cfg, 0);
  raw_client client;
  ASSERT_EQ(client.connect(h.address(), h.port()), io_result::ok);
  ASSERT_EQ(client.send_all(c.bytes), io_result::ok);
  std::string raw;
  const auto end = client.read_until_close(raw, 5s);
  const auto s = split_responses(raw);
  const auto& want = c.expect;

  // The backend read exactly the requests the client meant, each ending where the client meant.
  const std::size_t n = want.forwarded_bodies.size();
  EXPECT_EQ(b.parse_errors(), 0u);
  auto got = b.requests();
  ASSERT_EQ(got.size(), n) << "the backend read a different number of requests";
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i].body, want.forwarded_bodies[i]) << "request " << i;
    EXPECT_NE(got[i].target, "/smuggled");
    EXPECT_EQ(got[i].count("Host"), 1u);
    EXPECT_LE(got[i].count("Content-Length") + got[i].count("Transfer-Encoding"), 1u);
    EXPECT_EQ(got[i].count("X-Secret"), 0u);
    if (got[i].count("Transfer-Encoding")) {
      // The codings the client applied travel on, normalised, chunked last.
      const auto te = got[i].field("Transfer-Encoding");
      EXPECT_EQ(te.substr(te.size() - 7), "chunked") << te;
      EXPECT_EQ(c.bytes.find("gzip, chunked") != std::string::npos, te == "gzip, chunked") << te;
    }
  }
  // The client received one answer from the backend for each, then the refusal, if any.
  ASSERT_EQ(s.responses.size(), n + (want.refusal ? 1 : 0)) << raw;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(s.responses[i].header("X-Backend-Seq"), std::to_string(i + 1));
  }
  auto records = h.records(s.responses.size());
  ASSERT_EQ(records.size(), s.responses.size());
  if (want.refusal) {
    EXPECT_EQ(s.responses.back().status, want.refusal);
    EXPECT_EQ(s.responses.back().header("X-Backend-Seq"), "");
    EXPECT_EQ(end, io_result::eof) << "framing that cannot be trusted closes the connection";
    EXPECT_EQ(records.back()["status"], want.refusal);
    EXPECT_EQ(records.back()["sim_cause"], want.cause) << records.back()["sim_detail"];
    EXPECT_EQ(records.back()["upstream_status"], "-");
  }
  if (!want.refusal) {
    EXPECT_EQ(end, io_result::eof);
  }
  EXPECT_FALSE(s.trailing_garbage) << raw;
}

INSTANTIATE_TEST_SUITE_P(Corpus, Smuggling, ::testing::ValuesIn(corpus()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SmugglingCorpus, HasAtLeastFortyCases) { EXPECT_GE(corpus().size(), 40u); }

}  // namespace
}  // namespace albsim::test
