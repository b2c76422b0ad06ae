// Unit tests for the proxy's pure parts: head limits and framing, the outcome table, the
// token bucket's exactness, the record's rendering.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "access_log_record.hpp"
#include "albsim/access_log_fields.hpp"
#include "albsim/cause.hpp"
#include "albsim/token_bucket.hpp"
#include "http_heads.hpp"
#include "local_reply.hpp"
#include "outcome_table.hpp"
#include "response_head.hpp"
#include "router.hpp"
#include "trace_header.hpp"

namespace albsim::proxy {
namespace {

struct parsed {
  error_code ec;
  std::size_t consumed = 0;
};

parsed feed_all(request_head& h, const std::string& s) {
  parsed p;
  std::string_view rest = s;
  while (!rest.empty()) {
    std::size_t n = h.feed(rest, p.ec);
    p.consumed += n;
    if (p.ec || n == 0) break;
    rest.remove_prefix(n);
  }
  return p;
}

request_failure failure_of(const std::string& raw, std::uint32_t block = 262144) {
  head_limits l;
  l.max_header_block = block;
  request_head h(l);
  auto p = feed_all(h, raw);
  if (!p.ec) return request_failure::none;
  return classify_request_error(p.ec, raw, l.max_uri, nullptr);
}

TEST(RequestHead, TargetAtTheLimitIsAcceptedOneMoreIs414) {
  std::string at = "GET /" + std::string(32767, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string over = "GET /" + std::string(32768, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(failure_of(at), request_failure::none);
  EXPECT_EQ(failure_of(over), request_failure::uri_too_long);
}

TEST(RequestHead, TargetBeyondTheWholeHeadBoundIsStill414) {
  std::string huge = "GET /" + std::string(70000, 'a');  // never ends within the bound
  EXPECT_EQ(failure_of(huge, 65536), request_failure::uri_too_long);
}

TEST(RequestHead, HeaderLineAtTheLimitIsAcceptedOneMoreIs400) {
  // name (8) + value = 32768 is the limit.
  std::string at =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Padded: " + std::string(32768 - 8, 'v') + "\r\n\r\n";
  std::string over = "GET / HTTP/1.1\r\nX-Padded: " + std::string(32769 - 8, 'v') + "\r\n\r\n";
  EXPECT_EQ(failure_of(at), request_failure::none);
  EXPECT_EQ(failure_of(over), request_failure::header_line_too_long);
}

TEST(RequestHead, ManyHeadersTogetherPastTheBlockBoundAre400NotA414) {
  std::string raw = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i)
    raw += "X-H" + std::to_string(i) + ": " + std::string(1000, 'v') + "\r\n";
  EXPECT_EQ(failure_of(raw, 65536), request_failure::header_line_too_long);
}

TEST(RequestHead, FramingErrorsAreBadFraming) {
  EXPECT_EQ(
      failure_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
      request_failure::bad_framing);
  EXPECT_EQ(failure_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            request_failure::bad_framing);
  EXPECT_EQ(failure_of("POST / HTTP/1.1\r\nContent-Length: five\r\n\r\n"),
            request_failure::bad_framing);
}

TEST(RequestHead, OtherMalformedHeadsAreInvalidHeads) {
  EXPECT_EQ(failure_of("NOT A REQUEST\r\n\r\n"), request_failure::invalid_head);
  EXPECT_EQ(failure_of("GET / HTTP/1.1\r\n\r\n"), request_failure::invalid_head);  // no Host
  EXPECT_EQ(failure_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            request_failure::invalid_head);
  EXPECT_EQ(failure_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
            request_failure::invalid_head);
  EXPECT_EQ(failure_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            request_failure::invalid_head);
  EXPECT_EQ(failure_of("GET / HTTP/1.0\r\n\r\n"), request_failure::none);
}

TEST(RequestHead, AbsoluteFormNamesTheHostAndIsForwardedInOriginForm) {
  head_limits l;
  request_head h(l);
  auto p = feed_all(h, "GET http://shop.test:8080?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_FALSE(p.ec) << p.ec.message();
  EXPECT_EQ(h.host(), "shop.test:8080");
  EXPECT_EQ(h.target(), "/?q=1");
}

TEST(RequestHead, ForwardsEndToEndFieldsOnlyAndJoinsForwardedFor) {
  head_limits l;
  request_head h(l);
  std::string raw =
      "POST /a?b=1 HTTP/1.1\r\nHost: shop.test\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\n"
      "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nUser-Agent: t/1\r\n"
      "Content-Length: 3\r\n\r\nabc";
  auto p = feed_all(h, raw);
  ASSERT_FALSE(p.ec) << p.ec.message();
  EXPECT_TRUE(h.done());
  EXPECT_EQ(p.consumed, raw.size());
  EXPECT_EQ(h.method(), "POST");
  EXPECT_EQ(h.target(), "/a?b=1");
  EXPECT_EQ(h.host(), "shop.test");
  EXPECT_EQ(h.user_agent(), "t/1");
  EXPECT_EQ(h.x_forwarded_for(), "10.0.0.1, 10.0.0.2");
  EXPECT_EQ(h.forward_fields().find("Connection"), std::string::npos);
  EXPECT_EQ(h.forward_fields().find("Keep-Alive"), std::string::npos);
  EXPECT_EQ(h.forward_fields().find("X-Forwarded-For"), std::string::npos);
  // Framing and Host are written again by the proxy, normalised.
  EXPECT_EQ(h.forward_fields().find("Content-Length"), std::string::npos);
  EXPECT_EQ(h.forward_fields().find("Host"), std::string::npos);
  EXPECT_EQ(h.framing_field(), "Content-Length: 3\r\n");
}

TEST(RequestHead, ChunkedBodyIsConsumedWithItsFraming) {
  head_limits l;
  request_head h(l);
  std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body = "3\r\nabc\r\n0\r\n\r\n";
  auto p = feed_all(h, head + body);
  ASSERT_FALSE(p.ec);
  EXPECT_TRUE(h.done());
  EXPECT_EQ(p.consumed, head.size() + body.size());
}

TEST(ResponseHead, MalformedStatusLineIsAnError) {
  response_head r(false, 65536);
  error_code ec;
  r.feed("HTTP/1.1 2x0 OK\r\n\r\n", ec);
  EXPECT_TRUE(ec);
}

TEST(ResponseHead, BodyUntilCloseCompletesOnEof) {
  response_head r(false, 65536);
  error_code ec;
  std::string raw = "HTTP/1.1 200 OK\r\n\r\nhello";
  std::size_t n = r.feed(raw, ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(r.header_done());
  EXPECT_TRUE(r.need_eof());
  n += r.feed(std::string_view(raw).substr(n), ec);
  EXPECT_EQ(n, raw.size());
  r.feed_eof(ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(r.done());
}

TEST(OutcomeTable, UpstreamEventsMapToTheCatalogue) {
  outcome_table t;
  event_context c;
  struct row {
    exchange_event e;
    int status;
    const char* upstream_status;  // "-" only while the request had not reached the backend
    const char* cause;
  } rows[] = {
      {exchange_event::connect_refused, 502, "-", "502-connection-refused"},
      {exchange_event::connect_timeout, 504, "-", "504-connect-timeout"},
      {exchange_event::connect_error, 502, "-", "502-tcp-error"},
      {exchange_event::send_failed, 502, "-", "502-tcp-error"},
      {exchange_event::reset_before_response, 500, "502", "500-backend-reset"},
      {exchange_event::closed_before_response, 502, "502", "502-backend-closed-no-response"},
      {exchange_event::malformed_response, 502, "502", "502-invalid-response"},
      {exchange_event::partial_response_header, 502, "502", "502-backend-incomplete"},
      {exchange_event::response_timeout, 504, "504", "504-request-timeout"},
      {exchange_event::send_timeout, 504, "-", "504-request-timeout"},
  };
  for (const auto& r : rows) {
    auto d = t.upstream(r.e, c);
    EXPECT_EQ(d.status, r.status) << to_string(r.e);
    EXPECT_EQ(d.cause, r.cause);
    EXPECT_EQ(d.upstream_status, r.upstream_status) << to_string(r.e);
    EXPECT_NE(find_cause(d.cause), nullptr) << d.cause;
    EXPECT_FALSE(d.detail.empty());
  }
}

TEST(OutcomeTable, AnOverrideKeepsWhatItDoesNotName) {
  outcome_table t({{exchange_event::reset_before_response, outcome{502, ""}}});
  auto d = t.upstream(exchange_event::reset_before_response, {});
  EXPECT_EQ(d.status, 502);
  EXPECT_EQ(d.upstream_status, "502");
}

TEST(OutcomeTable, OnlyListedStatusesAreRewrittenTo502) {
  outcome_table t({}, {444, 504});
  EXPECT_FALSE(t.rewritten_status(503));
  auto d = t.rewritten_status(504);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 502);
  EXPECT_EQ(d->upstream_status, "504");
  EXPECT_EQ(d->cause, "502-backend-status-rewritten");
  EXPECT_FALSE(outcome_table().rewritten_status(504));
}

TEST(OutcomeTable, AClientLeavingAfterTheRequestWasSentIsNotLoggedAsNeverSent) {
  outcome_table t;
  event_context c;
  c.waited = std::chrono::milliseconds(1);
  EXPECT_EQ(t.client(client_event::left_before_response, c).upstream_status, "-");
  c.waiting_on_backend = true;
  EXPECT_EQ(t.client(client_event::left_before_response, c).upstream_status, "499");
  // Leaving while the answer streams is never "left before any backend could answer".
  c.during_response_body = true;
  EXPECT_NE(t.client(client_event::left_before_response, c).cause, "499-client-aborted");
  c.backend_status = 200;  // the status line had arrived: it stays
  EXPECT_EQ(t.client(client_event::left_before_response, c).upstream_status, "200");
}

TEST(OutcomeTable, BackendNoteTurnsAResetIntoATransportFailure) {
  outcome_table t;
  event_context c;
  c.backend_note = fault_note{"502-backlog-full", "the accept queue overflowed"};
  auto d = t.upstream(exchange_event::reset_before_response, c);
  EXPECT_EQ(d.status, 502);
  EXPECT_EQ(d.cause, "502-backlog-full");
}

TEST(OutcomeTable, OverridesReplaceARow) {
  outcome_table t({{exchange_event::connect_refused, outcome{503, "502"}}});
  auto d = t.upstream(exchange_event::connect_refused, {});
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.upstream_status, "502");
  EXPECT_EQ(d.cause, "502-connection-refused");
}

TEST(OutcomeTable, ClientLeavingIsToldApartByContext) {
  outcome_table t;
  event_context c;
  c.waiting_on_backend = true;
  c.waited = std::chrono::milliseconds(2);
  EXPECT_EQ(t.client(client_event::left_before_response, c).cause, "499-client-aborted");
  c.waited = std::chrono::milliseconds(100);
  c.usual_latency = std::chrono::milliseconds(300);
  EXPECT_EQ(t.client(client_event::left_before_response, c).cause, "499-client-timeout-too-short");
  c.usual_latency = std::chrono::milliseconds(1);
  EXPECT_EQ(t.client(client_event::left_before_response, c).cause, "499-backend-slow");
  c.client_link_impaired = true;
  EXPECT_EQ(t.client(client_event::left_before_response, c).cause, "499-client-slow-link");
  c.client_link_impaired = false;
  c.bandwidth_throttled = true;
  EXPECT_EQ(t.client(client_event::left_before_response, c).cause, "499-bandwidth-throttled");
  EXPECT_EQ(t.client(client_event::left_before_response, c).status, 499);
}

TEST(OutcomeTable, RequestTimeoutCauses) {
  outcome_table t;
  event_context c;
  EXPECT_EQ(t.client(client_event::request_timeout, c).cause, "408-request-incomplete");
  c.bandwidth_throttled = true;
  EXPECT_EQ(t.client(client_event::request_timeout, c).cause, "408-bandwidth-throttled");
  c.client_link_impaired = true;
  EXPECT_EQ(t.client(client_event::request_timeout, c).cause, "408-client-slow-link");
}

TEST(OutcomeTable, ThrottlingOnOneVipShareIsSingleVip) {
  outcome_table t;
  event_context c;
  EXPECT_EQ(t.client(client_event::qps_limited, c).cause, "503-qps-limited");
  c.vip_share_limited = true;
  EXPECT_EQ(t.client(client_event::qps_limited, c).cause, "503-single-vip");
}

TEST(OutcomeTable, PassThroughCauses) {
  EXPECT_EQ(passthrough_cause(502), "502-backend-returned");
  EXPECT_EQ(passthrough_cause(200), "ok");
  EXPECT_EQ(passthrough_cause(404), "ok");
}

TEST(TokenBucket, AdmitsRateTimesDurationPlusBurstExactly) {
  token_bucket b(1000, 10);
  auto t0 = token_bucket::clock::time_point(std::chrono::seconds(1000));
  std::uint64_t admitted = 0;
  // A client hammering every 100 µs for 10 s.
  for (int i = 0; i < 100000; ++i) {
    if (b.try_take(t0 + std::chrono::microseconds(100) * i)) ++admitted;
  }
  EXPECT_GE(admitted, 10000u);
  EXPECT_LE(admitted, 10000u + 10u);
}

TEST(TokenBucket, PacesBytesAtTheRate) {
  token_bucket b(1000, 1);  // 1000 bytes/s
  auto t0 = token_bucket::clock::time_point(std::chrono::seconds(1000));
  auto d1 = b.take_paced(t0, 500);
  auto d2 = b.take_paced(t0, 500);
  EXPECT_NEAR(std::chrono::duration<double>(d1).count(), 0.5, 0.01);
  EXPECT_NEAR(std::chrono::duration<double>(d2).count(), 1.0, 0.01);
}

TEST(AccessLogRecord, RendersTheBalancersFieldsWithDashesForAbsentValues) {
  access_log_record r;
  r.time = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'061'205));
  r.app_lb_id = "alb-local";
  r.vip_addr = "127.0.0.1";
  r.slb_vport = 8080;
  r.request_method = "GET";
  r.request_uri = "/a\"b";
  r.status = 504;
  r.upstream_status = "-";
  r.request_time = 5.0034;
  r.upstream_connect_time = 5.001;
  r.sim_cause = "504-connect-timeout";
  auto j = nlohmann::json::parse(r.render());
  EXPECT_EQ(j["__topic__"], "alb_layer7_access_log");
  EXPECT_EQ(j["time"], "2025-11-25T09:00:05.000+00:00");
  EXPECT_EQ(j["status"], 504);
  EXPECT_EQ(j["upstream_status"], "-");
  EXPECT_EQ(j["upstream_addr"], "-");
  EXPECT_EQ(j["upstream_response_time"], "-");
  EXPECT_DOUBLE_EQ(j["upstream_connect_time"].get<double>(), 5.001);
  EXPECT_DOUBLE_EQ(j["request_time"].get<double>(), 5.003);
  EXPECT_EQ(j["request_uri"], "/a\"b");
  EXPECT_EQ(j["scheme"], "HTTP");
  EXPECT_EQ(j["sim_cause"], "504-connect-timeout");
}

// The fields scenario expectations may name and diagnose reads are the ones the proxy writes.
TEST(AccessLogRecord, WritesExactlyTheSharedFieldListInItsOrder) {
  access_log_record r;
  r.status = 200;
  r.tcpinfo_rtt = 12;
  const auto j = nlohmann::ordered_json::parse(r.render());
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, std::vector<std::string>(albsim::k_access_log_fields.begin(),
                                           albsim::k_access_log_fields.end()));
}

TEST(AccessLogRecord, AnyBytesTheClientSentStayValidJson) {
  access_log_record r;
  r.request_uri = std::string("/x\x01y\\z\"\t") + "\xff";
  r.http_user_agent = "plain";
  auto j = nlohmann::json::parse(r.render());
  EXPECT_EQ(j["request_uri"], "/x\u0001y\\z\"\t\u00ff");
  EXPECT_EQ(j["http_user_agent"], "plain");
}

TEST(AccessLogRecord, EscapesEveryAwkwardByteAtEveryPositionOfALongValue) {
  // Values of 8 bytes and more are scanned a word at a time: an awkward byte anywhere in the
  // word (first, middle, last, in the tail) must still be escaped.
  const std::string awkward = std::string("\x01\x1f\"\\\x7f\n\t", 7);
  for (char c : awkward) {
    for (std::size_t len : {1, 2, 7, 8, 9, 13, 16, 23, 24}) {
      for (std::size_t pos = 0; pos < len; ++pos) {
        access_log_record r;
        std::string uri(len, 'a');
        uri[pos] = c;
        r.request_uri = uri;
        std::string line(r.render_view());
        auto j = nlohmann::json::parse(line);
        ASSERT_EQ(j["request_uri"], uri) << "byte " << int(c) << " at " << pos << " of " << len;
      }
    }
  }
  access_log_record r;
  r.http_user_agent = std::string(40, 'x') + "\xe9";
  auto j = nlohmann::json::parse(r.render());
  EXPECT_EQ(j["http_user_agent"], std::string(40, 'x') + "\u00e9");
}

}  // namespace
}  // namespace albsim::proxy

namespace albsim::proxy {
namespace {

TEST(Router, HostPatternsMatchCaseInsensitivelyIgnoringThePort) {
  EXPECT_TRUE(host_matches("", "anything"));
  EXPECT_TRUE(host_matches("shop.test", "SHOP.test:8080"));
  EXPECT_FALSE(host_matches("shop.test", "shop.test.evil"));
  EXPECT_TRUE(host_matches("*.shop.test", "api.Shop.test"));
  EXPECT_FALSE(host_matches("*.shop.test", "shop.test"));  // not the apex
  EXPECT_FALSE(host_matches("*.shop.test", "xshop.test"));
}

TEST(Router, TheFirstMatchingRuleWinsElseTheDefaultAction) {
  listener_config l;
  l.default_server_group = "main";
  l.rules = {rule_config{"api", "*.shop.test", "/api", "api-group", {}, {}},
             rule_config{"all-api", "", "/api", "other", {}, {}}};
  auto a = route_request(l, "x.shop.test", "/api/v1");
  EXPECT_EQ(a.rule_index, 0);
  EXPECT_EQ(*a.group_name, "api-group");
  EXPECT_EQ(*a.rule_name, "api");
  auto b = route_request(l, "elsewhere", "/api");
  EXPECT_EQ(b.rule_index, 1);
  EXPECT_EQ(*b.group_name, "other");
  auto c = route_request(l, "x.shop.test", "/ap");
  EXPECT_EQ(c.rule_index, -1);
  EXPECT_EQ(*c.group_name, "main");
  EXPECT_EQ(*c.rule_name, "default");
}

TEST(TraceHeader, OwnEntryOrMoreThanSixteenIsALoop) {
  const std::string own = trace_hash("alb-local/http/default");
  EXPECT_EQ(own.size(), 16u);
  EXPECT_FALSE(forwarding_loop("", own));
  EXPECT_TRUE(forwarding_loop("aaaa, " + own, own));
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += (i ? "," : "") + std::to_string(i);
  EXPECT_FALSE(forwarding_loop(sixteen, own));
  EXPECT_TRUE(forwarding_loop(sixteen + ",16", own));
}

}  // namespace
}  // namespace albsim::proxy
