// The rule table against the catalogue, and the ranking on hand-written records in the log
// service's format (every value a string): the evidence the guide names decides the first
// candidate, learned latency separates the 499s, and the summary finds the guide's patterns.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "albsim/cause.hpp"
#include "albsim/diagnose/log_summary.hpp"
#include "albsim/diagnose/record_diagnoser.hpp"
#include "albsim/diagnose/rule_table.hpp"
#include "albsim/proxy/config.hpp"
#include "outcome_table.hpp"  // the simulator's 499 window (white-box: proxy/src)

namespace albsim::diagnose {
namespace {

log_record make(std::initializer_list<std::pair<field, std::string_view>> values) {
  log_record r;
  for (const auto& [f, v] : values) r.set(f, v);
  return r;
}

std::string first(const record_diagnoser& d, const log_record& r) {
  auto k = d.rank(r);
  if (k.kind != verdict::cause || k.count == 0) return "(none)";
  return std::string(rule_table()[k.top().rule].cause);
}

TEST(diagnose_rules, one_row_per_catalogue_cause_each_with_its_source) {
  std::set<std::string_view> rows;
  for (const auto& rule : rule_table()) {
    EXPECT_TRUE(find_cause(rule.cause)) << rule.cause << " is not a catalogue ID";
    EXPECT_TRUE(rows.insert(rule.cause).second) << rule.cause << " has two rows";
    EXPECT_TRUE(rule.source.rfind("guide ", 0) == 0 || rule.source.rfind("albsim", 0) == 0)
        << rule.cause << ": " << rule.source;
    EXPECT_FALSE(rule.conditions.empty()) << rule.cause;
    EXPECT_LE(rule.conditions.size(), 32u);
  }
  for (const auto& c : cause_catalogue()) EXPECT_TRUE(rows.count(c.id)) << c.id << " has no rule";
  // Ties rank in catalogue order (docs/diagnose.md), so the rows keep it.
  ASSERT_EQ(rule_table().size(), cause_catalogue().size());
  for (std::size_t i = 0; i < rule_table().size(); ++i)
    EXPECT_EQ(rule_table()[i].cause, cause_catalogue()[i].id) << "row " << i;
  for (const auto& s : ambiguity_sets()) {
    ASSERT_GE(s.causes.size(), 2u);
    for (auto id : s.causes) {
      ASSERT_TRUE(find_cause(id)) << id;
      EXPECT_EQ(find_cause(id)->status, find_cause(s.causes[0])->status) << s.name;
    }
    EXPECT_FALSE(s.separate_by.empty());
  }
}

// docs/diagnose.md lists every row with its source and every ambiguity set.
TEST(diagnose_rules, the_documentation_lists_every_rule_and_set) {
  std::ifstream in(std::string(ALBSIM_SOURCE_DIR) + "/docs/diagnose.md");
  ASSERT_TRUE(in) << "docs/diagnose.md";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& rule : rule_table()) {
    EXPECT_NE(doc.find("| " + std::string(rule.cause)), std::string::npos) << rule.cause;
    EXPECT_NE(doc.find(std::string(rule.source)), std::string::npos) << rule.source;
  }
  for (const auto& s : ambiguity_sets()) {
    const auto at = doc.find("| " + std::string(s.name) + " |");
    ASSERT_NE(at, std::string::npos) << s.name;
    const auto row = doc.substr(at, doc.find('\n', at) - at);
    for (auto id : s.causes)
      EXPECT_NE(row.find(std::string(id)), std::string::npos) << s.name << ": " << id;
  }
}

TEST(diagnose_rules, limits_are_the_proxys_defaults) {
  using std::chrono::duration;
  EXPECT_DOUBLE_EQ(limit_of(limit::connect_timeout_s).value,
                   duration<double>(proxy::limits_config{}.upstream_connect_timeout).count());
  EXPECT_DOUBLE_EQ(limit_of(limit::request_timeout_s).value,
                   duration<double>(proxy::listener_config{}.request_timeout).count());
  EXPECT_DOUBLE_EQ(limit_of(limit::header_line_bytes).value,
                   static_cast<double>(proxy::limits_config{}.max_header_line));
  EXPECT_DOUBLE_EQ(limit_of(limit::uri_bytes).value,
                   static_cast<double>(proxy::limits_config{}.max_uri));
  EXPECT_DOUBLE_EQ(limit_of(limit::quick_leave_s).value,
                   duration<double>(proxy::k_abort_window).count());
}

// The label of a record whose leaders tie: the documented set's name, or the lone leader.
std::string label(const record_diagnoser& d, const log_record& r) {
  return verdict_label(d.rank(r));
}

TEST(diagnose_rules, the_fields_the_guide_names_decide) {
  record_diagnoser d;
  using enum field;
  EXPECT_EQ(first(d, make({{status, "504"},
                           {upstream_status, "-"},
                           {upstream_addr, "10.0.0.1:80"},
                           {upstream_connect_time, "5.002"},
                           {upstream_response_time, "-"}})),
            "504-connect-timeout");
  EXPECT_EQ(first(d, make({{status, "504"},
                           {upstream_status, "-"},
                           {upstream_addr, "10.0.0.1:80"},
                           {upstream_connect_time, "0.001"},
                           {upstream_response_time, "60.001"}})),
            "504-request-timeout");
  EXPECT_EQ(first(d, make({{status, "504"}, {upstream_status, "504"}})), "504-backend-returned");
  // upstream_status 504 is also the balancer's own response timeout: upstream_response_time at
  // the 60 s default decides; below the shortest request timeout (1 s) only the backend's 504
  // is left; in between the log cannot tell (the listener's timeout may be anything 1-180 s).
  EXPECT_EQ(first(d, make({{status, "504"},
                           {upstream_status, "504"},
                           {upstream_addr, "10.0.0.1:80"},
                           {upstream_connect_time, "0.001"},
                           {upstream_response_time, "60.001"}})),
            "504-request-timeout");
  EXPECT_EQ(label(d, make({{status, "504"},
                           {upstream_status, "504"},
                           {upstream_addr, "10.0.0.1:80"},
                           {upstream_connect_time, "0.001"},
                           {upstream_response_time, "0.200"}})),
            "504-backend-returned");
  EXPECT_EQ(label(d, make({{status, "504"},
                           {upstream_status, "504"},
                           {upstream_addr, "10.0.0.1:80"},
                           {upstream_connect_time, "0.001"},
                           {upstream_response_time, "30.002"}})),
            "504 with upstream_status 504");
  // A backend's code the balancer does not pass on stays in upstream_status.
  EXPECT_EQ(
      first(d, make({{status, "502"}, {upstream_status, "444"}, {upstream_addr, "10.0.0.1:80"}})),
      "502-backend-status-rewritten");
  // After the request was delivered a reset logs 500 with upstream_status 502.
  EXPECT_EQ(
      label(d, make({{status, "500"}, {upstream_status, "502"}, {upstream_addr, "10.0.0.1:80"}})),
      "500-backend-reset");
  // 502/502: a backend's own 502 or a failed exchange; only the backend's log can tell.
  EXPECT_EQ(label(d, make({{status, "502"},
                           {upstream_status, "502"},
                           {upstream_addr, "10.0.0.1:80"},
                           {upstream_response_time, "0.004"}})),
            "502 with upstream_status 502");
  // "-": nothing reached a backend whole. A large request could have broken on the MTU or on
  // a reset during the upload; a small one leaves the four transport causes.
  EXPECT_EQ(label(d, make({{status, "502"},
                           {upstream_status, "-"},
                           {upstream_addr, "10.0.0.1:80"},
                           {request_length, "70000"}})),
            "502 while a large request was written");
  EXPECT_EQ(label(d, make({{status, "502"},
                           {upstream_status, "-"},
                           {upstream_addr, "10.0.0.1:80"},
                           {upstream_connect_time, "0.001"},
                           {request_length, "85"}})),
            "502 before the request was delivered");
  // A connect that took the whole connect timeout is no refusal.
  auto slow_connect = d.rank(make({{status, "502"},
                                   {upstream_status, "-"},
                                   {upstream_addr, "10.0.0.1:80"},
                                   {upstream_connect_time, "4.900"},
                                   {request_length, "85"}}));
  for (std::size_t i = 0; i < slow_connect.count; ++i)
    EXPECT_NE(rule_table()[slow_connect.candidates[i].rule].cause, "502-connection-refused");
  EXPECT_EQ(first(d, make({{status, "463"}, {upstream_status, "-"}, {request_method, "GET"}})),
            "463-forwarding-loop");
  // A malformed head: with a method it may be either 400 of the head; a request line that did
  // not parse leaves no method, and only 400-invalid-header.
  EXPECT_EQ(label(d, make({{status, "400"},
                           {upstream_status, "-"},
                           {request_method, "POST"},
                           {request_length, "88"},
                           {body_bytes_sent, "51"}})),
            "400 with a malformed request head");
  EXPECT_EQ(label(d, make({{status, "400"},
                           {upstream_status, "-"},
                           {request_length, "40"},
                           {body_bytes_sent, "51"}})),
            "400-invalid-header");
  EXPECT_EQ(first(d, make({{status, "405"}, {request_method, "TRACE"}, {upstream_status, "-"}})),
            "405-trace");
  EXPECT_EQ(first(d, make({{status, "408"}, {upstream_status, "-"}, {tcpinfo_rtt, "450000"}})),
            "408-client-slow-link");
  EXPECT_EQ(first(d, make({{status, "400"},
                           {upstream_status, "-"},
                           {request_length, "40000"},
                           {body_bytes_sent, "51"}})),
            "400-header-too-large");
  EXPECT_EQ(first(d, make({{status, "499"},
                           {upstream_status, "499"},
                           {upstream_addr, "10.0.0.1:80"},
                           {request_time, "0.002"},
                           {body_bytes_sent, "0"},
                           {tcpinfo_rtt, "900"}})),
            "499-client-aborted");
  // upstream_status "-": the client left before any backend had its request, however long it
  // waited (e.g. during a slow connect).
  EXPECT_EQ(label(d, make({{status, "499"},
                           {upstream_status, "-"},
                           {upstream_addr, "10.0.0.1:80"},
                           {request_time, "2.000"},
                           {body_bytes_sent, "0"},
                           {tcpinfo_rtt, "900"}})),
            "499-client-aborted");
}

TEST(diagnose_rules, a_missing_field_keeps_the_candidate_and_is_named) {
  record_diagnoser d;
  auto r = make({{field::status, "504"}, {field::upstream_status, "-"}});
  auto k = d.rank(r);
  ASSERT_EQ(k.kind, verdict::cause);
  auto j = d.describe(r, k, redactor(false), "f:1");
  bool named = false;
  for (const auto& c : j["candidates"]) {
    if (c["cause"] == "504-connect-timeout")
      for (const auto& m : c["missing"]) named = named || m == "upstream_connect_time";
  }
  EXPECT_TRUE(named) << j.dump(2);
}

TEST(diagnose_rules, the_backends_usual_latency_separates_the_499s) {
  record_diagnoser d;
  using enum field;
  const auto ok = make({{status, "200"},
                        {upstream_status, "200"},
                        {upstream_addr, "10.0.0.1:80"},
                        {upstream_response_time, "0.400"}});
  auto early = make({{status, "499"},
                     {upstream_status, "499"},
                     {upstream_addr, "10.0.0.1:80"},
                     {request_time, "0.200"},
                     {body_bytes_sent, "0"},
                     {tcpinfo_rtt, "800"}});
  auto late = make({{status, "499"},
                    {upstream_status, "499"},
                    {upstream_addr, "10.0.0.1:80"},
                    {request_time, "2.500"},
                    {body_bytes_sent, "0"},
                    {tcpinfo_rtt, "800"}});
  // Without successful records the log cannot tell them apart: a documented set.
  auto k = d.rank(early);
  ASSERT_GE(k.tied, 2u);
  ASSERT_NE(k.set, nullptr);
  EXPECT_EQ(k.set->name, "499 after waiting for the backend");
  for (int i = 0; i < 3; ++i) d.learn(ok);
  EXPECT_EQ(first(d, early), "499-client-timeout-too-short");
  EXPECT_EQ(first(d, late), "499-backend-slow");
}

TEST(diagnose_rules, the_summary_finds_the_guides_patterns) {
  record_diagnoser d;
  log_summary s;
  using enum field;
  auto add = [&](const log_record& r) {
    s.add(r, d.rank(r));
    d.learn(r);
  };
  for (int i = 0; i < 20; ++i) {
    add(make({{time, "2026-11-25T10:40:01+00:00"},
              {status, "200"},
              {upstream_status, "200"},
              {upstream_addr, i % 2 ? "10.0.0.1:80" : "10.0.0.2:80"},
              {vip_addr, i % 2 ? "47.0.0.1" : "47.0.0.2"},
              {upstream_response_time, "0.010"}}));
    add(make({{time, "2026-11-25T10:41:02+00:00"},
              {status, "503"},
              {upstream_status, "-"},
              {vip_addr, "47.0.0.2"},
              {client_ip, "198.51.100.7"}}));
    add(make({{time, "2026-11-25T10:42:03+00:00"},
              {status, "502"},
              {upstream_status, "-"},
              {upstream_addr, "10.0.0.2:80"}}));
    add(make({{time, "2026-11-25T10:43:04+00:00"},
              {status, "504"},
              {upstream_status, "504"},
              {upstream_addr, "10.0.0.1:80"},
              {upstream_connect_time, "0.001"},
              {upstream_response_time, i % 5 ? "30.001" : "30.004"}}));
    // Connect timeouts are no request timeout: left out of that cluster (14 of 34 would
    // bring the 30 s share under 60 %).
    if (i < 14)
      add(make({{time, "2026-11-25T10:43:30+00:00"},
                {status, "504"},
                {upstream_status, "-"},
                {upstream_addr, "10.0.0.1:80"},
                {upstream_connect_time, "5.002"},
                {upstream_response_time, "5.002"}}));
    add(make({{time, "2026-11-25T10:44:05+00:00"},
              {status, "499"},
              {upstream_status, "499"},
              {upstream_addr, "10.0.0.1:80"},
              {request_time, "3.000"},
              {body_bytes_sent, "0"}}));
  }
  s.finish();
  const redactor plain(false);
  auto patterns = s.patterns(plain);
  auto has = [&](std::string_view text) {
    for (const auto& p : patterns)
      if (p.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("vip_addr 47.0.0.2")) << ::testing::PrintToString(patterns);
  EXPECT_TRUE(has("client 198.51.100.7")) << ::testing::PrintToString(patterns);
  EXPECT_TRUE(has("10.0.0.2:80 has 100.0 % of the 20 502s")) << ::testing::PrintToString(patterns);
  EXPECT_TRUE(has("request timeout is likely 30 s")) << ::testing::PrintToString(patterns);
  EXPECT_TRUE(has("upstream_connect_time ≈ 5.00 s, the connect timeout"))
      << ::testing::PrintToString(patterns);
  EXPECT_TRUE(has("request_time ≈ 3.00 s")) << ::testing::PrintToString(patterns);
  EXPECT_EQ(s.by_label().at("503 without a backend contacted"), 20u);
  std::ostringstream out;
  s.print(out, plain);
  EXPECT_NE(out.str().find("per minute"), std::string::npos);
  EXPECT_NE(out.str().find("peak 20 at 2026-11-25 10:40:01"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace albsim::diagnose
