// The pieces of the report's sequence diagram: the backend's wire journal on a real connection,
// the builder that places backend and balancer events for the exchange of interest, and the
// SVG's time axis with its breaks and text equivalent.
#include <gtest/gtest.h>

#include <algorithm>

#include "albsim/backend/backend_server.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "html_report_sequence_diagram.hpp"
#include "raw_client.hpp"
#include "sequence_builder.hpp"

namespace albsim::scenarios {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using backend::wire_event_kind;

std::vector<wire_event_kind> kinds(const std::vector<backend::wire_event>& events) {
  std::vector<wire_event_kind> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

TEST(BackendJournal, RecordsAcceptRequestAnswerAndFinOfAClosingExchange) {
  backend::backend_options o;
  o.journal = true;
  o.log_on_stop = false;
  auto b = backend::backend_server::start(o);
  auto r = test::simple_request(b->address(), b->port(),
                                "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(r);
  // The FIN is noted right after the answer leaves; the client may read first.
  ASSERT_TRUE(test::eventually([&] { return b->events().size() >= 4; }));
  auto events = b->events();
  b->stop();
  std::vector<wire_event_kind> expected = {wire_event_kind::accepted, wire_event_kind::request,
                                           wire_event_kind::response, wire_event_kind::fin};
  auto seen = kinds(events);
  seen.resize(4);
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(events[1].detail, "GET /x");
  EXPECT_EQ(events[2].detail.rfind("HTTP/1.1 200", 0), 0u) << events[2].detail;
  EXPECT_TRUE(
      std::all_of(events.begin(), events.end(), [](const auto& e) { return e.connection == 1; }));
}

TEST(BackendJournal, IsEmptyWhenOff) {
  backend::backend_options o;
  o.log_on_stop = false;
  auto b = backend::backend_server::start(o);
  ASSERT_TRUE(test::simple_request(b->address(), b->port(),
                                   "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(b->events().empty());
  b->stop();
}

// A record written `after_s` after the scenario's origin, in the record's own time format.
std::string record_time(std::chrono::system_clock::time_point origin, double after_s) {
  auto t = origin + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                        std::chrono::duration<double>(after_s));
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lld+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ms));
  return buf;
}

struct builder_case {
  scenario s = [] {
    scenario s;
    s.proxy = base_proxy_config();
    return s;
  }();
  clock::time_point origin = clock::now();
  std::chrono::system_clock::time_point origin_sys = std::chrono::system_clock::now();

  backend::wire_event at(double s, std::uint64_t connection, wire_event_kind k) const {
    return {origin + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s)),
            connection, k, ""};
  }
  std::vector<sequence_event> build(
      const nlohmann::json& record, std::vector<backend::wire_event> events,
      std::optional<std::uint64_t> syn = std::nullopt,
      backend::transport_mode mode = backend::transport_mode::normal) {
    std::vector<observed_backend> backends = {{"app", 9001, mode, std::move(events)}};
    return sequence_builder(s, origin, origin_sys).build({}, &record, backends, syn);
  }
};

bool touches_backend(const sequence_event& e) {
  return e.from == lane::backend || e.to == lane::backend;
}

TEST(SequenceBuilder, NoBackendEventsWhenTheRecordNamesNoUpstream) {
  builder_case c;
  nlohmann::json record = {{"time", record_time(c.origin_sys, 1.0)},
                           {"request_time", 0.0},
                           {"status", 503},
                           {"upstream_status", "-"},
                           {"upstream_addr", "-"}};
  // The backend was busy with other requests at the same moment (a burst's admitted ones).
  auto events = c.build(
      record, {c.at(1.0, 1, wire_event_kind::accepted), c.at(1.0, 1, wire_event_kind::request)});
  EXPECT_FALSE(events.empty());
  EXPECT_TRUE(std::none_of(events.begin(), events.end(), touches_backend));
}

TEST(SequenceBuilder, TakesTheExchangesConnectionAndSkipsHealthChecks) {
  builder_case c;
  nlohmann::json record = {{"time", record_time(c.origin_sys, 1.0)},
                           {"request_time", 0.01},
                           {"status", 500},
                           {"upstream_status", "-"},
                           {"upstream_addr", "127.0.0.1:9001"}};
  auto events = c.build(
      record,
      {c.at(0.5, 1, wire_event_kind::accepted), c.at(1.0021, 1, wire_event_kind::health_check),
       c.at(1.0022, 2, wire_event_kind::accepted), c.at(1.0023, 2, wire_event_kind::request),
       c.at(1.0024, 2, wire_event_kind::reset)});
  std::vector<std::string> upstream;
  for (const auto& e : events)
    if (touches_backend(e)) upstream.push_back(e.kind);
  EXPECT_EQ(upstream, (std::vector<std::string>{"connect", "request", "rst"}));
}

TEST(SequenceBuilder, AConnectTimeMatchingTheTimeoutIsATimerWithLostSyns) {
  builder_case c;
  nlohmann::json record = {{"time", record_time(c.origin_sys, 0.1)},
                           {"request_time", 5.001},
                           {"upstream_connect_time", 5.001},
                           {"status", 504},
                           {"upstream_status", "-"},
                           {"upstream_addr", "127.0.0.1:9001"}};
  auto events = c.build(record, {}, 2, backend::transport_mode::queue_full_silent);
  auto count = [&](const char* kind) {
    return std::count_if(events.begin(), events.end(),
                         [&](const sequence_event& e) { return e.kind == kind; });
  };
  EXPECT_EQ(count("syn"), 1);
  EXPECT_EQ(count("syn-retransmit"), 2);  // at 1 s and 3 s; the next (7 s) is past the end
  EXPECT_EQ(count("timer"), 1);
  EXPECT_EQ(count("connect"), 0);

  // A connect that took 0.2 s is no timeout.
  record["upstream_connect_time"] = 0.2;
  record["request_time"] = 0.2;
  events = c.build(record, {}, 0, backend::transport_mode::queue_full_silent);
  EXPECT_EQ(count("timer"), 0);
  EXPECT_EQ(count("syn-retransmit"), 0);
}

TEST(SequenceDiagram, CutsLongWaitsAndListsEveryEventAsText) {
  std::vector<sequence_event> events = {
      {0.0, lane::client, lane::balancer, "request", "GET /", "client socket"},
      {0.01, lane::balancer, lane::backend, "request", "GET /", "backend journal"},
      {5.0, lane::balancer, lane::balancer, "timer", "request timeout", "access log"},
      {5.0, lane::balancer, lane::client, "response", "504", "client socket"},
  };
  sequence_diagram d(events, "t");
  std::string svg = d.svg();
  auto occurrences = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(occurrences(svg, "class=\"break\""), 1u);
  EXPECT_NE(svg.find("4.990 s"), std::string::npos);
  EXPECT_EQ(occurrences(svg, "class=\"event "), events.size());
  EXPECT_EQ(occurrences(svg, "class=\"lane\""), 3u);
  EXPECT_EQ(occurrences(d.text_equivalent(), "<li>"), events.size());
  // Labels are escaped.
  sequence_diagram tricky({{0, lane::client, lane::balancer, "request", "<b>&", "x"}}, "t");
  EXPECT_EQ(tricky.svg().find("<b>&"), std::string::npos);
}

}  // namespace
}  // namespace albsim::scenarios
