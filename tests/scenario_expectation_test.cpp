// Comparing expectations with observations: each matcher passes on a match and, above all,
// FAILS when the observed record differs.
#include <gtest/gtest.h>

#include "albsim/scenarios/expectation.hpp"
#include "albsim/scenarios/scenario.hpp"

namespace albsim::scenarios {
namespace {

const nlohmann::json k_observed = nlohmann::json::parse(R"({
  "client": {"outcome": "response", "status": 502,
             "headers": {"alb-qps-limited": "Limited"}},
  "log": {"status": 500, "upstream_status": "-", "upstream_connect_time": 4.2,
          "upstream_response_time": "-", "request_time": 5.003, "vip_addr": "127.0.0.2",
          "tcpinfo_rtt": 600028, "sim_cause": "500-backend-reset"},
  "backend": {"app": {"requests": 1}}
})");

value_matcher equals(const std::string& text) {
  value_matcher m;
  m.text = text;
  try {
    std::size_t used = 0;
    double d = std::stod(text, &used);
    if (used == text.size()) m.number = d;
  } catch (...) {
  }
  return m;
}

check_result run(const std::string& field, value_matcher m) {
  return check(expectation{field, std::move(m), "t.yaml", 7}, k_observed);
}

TEST(scenario_expectation, equal_status_passes_and_a_different_one_fails) {
  EXPECT_TRUE(run("log.status", equals("500")).pass);
  auto r = run("log.status", equals("502"));
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.observed, "500");
  EXPECT_FALSE(run("log.sim_cause", equals("502-backend-closed-no-response")).pass);
  EXPECT_TRUE(run("log.sim_cause", equals("500-backend-reset")).pass);
}

TEST(scenario_expectation, strings_compare_as_text) {
  EXPECT_TRUE(run("log.upstream_status", equals("-")).pass);
  EXPECT_FALSE(run("log.upstream_status", equals("500")).pass);
  EXPECT_TRUE(run("log.vip_addr", equals("127.0.0.2")).pass);
  EXPECT_FALSE(run("log.vip_addr", equals("127.0.0.3")).pass);
  EXPECT_TRUE(run("client.headers.alb-qps-limited", equals("Limited")).pass);
}

TEST(scenario_expectation, approx_fails_outside_the_tolerance) {
  value_matcher m;
  m.k = value_matcher::kind::approx;
  m.value = 5.0;
  m.tolerance = 0.3;
  EXPECT_TRUE(run("log.request_time", m).pass);
  auto r = run("log.upstream_connect_time", m);  // 4.2 is 0.8 away
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.observed, "4.2");
  EXPECT_FALSE(run("log.upstream_response_time", m).pass) << "\"-\" is not a number";
}

TEST(scenario_expectation, ranges_check_both_bounds) {
  value_matcher m;
  m.k = value_matcher::kind::range;
  m.at_least = 600000;
  EXPECT_TRUE(run("log.tcpinfo_rtt", m).pass);
  m.at_least = 700000;
  EXPECT_FALSE(run("log.tcpinfo_rtt", m).pass);
  m.at_least.reset();
  m.at_most = 5.0;
  EXPECT_FALSE(run("log.request_time", m).pass);
  m.at_most = 5.01;
  EXPECT_TRUE(run("log.request_time", m).pass);
}

TEST(scenario_expectation, present_absent_and_one_of) {
  value_matcher present;
  present.k = value_matcher::kind::present;
  value_matcher absent;
  absent.k = value_matcher::kind::absent;
  EXPECT_TRUE(run("log.upstream_connect_time", present).pass);
  EXPECT_FALSE(run("log.upstream_response_time", present).pass);
  EXPECT_TRUE(run("log.upstream_response_time", absent).pass);
  EXPECT_TRUE(run("client.headers.retry-after", absent).pass);
  EXPECT_FALSE(run("client.headers.alb-qps-limited", absent).pass);
  value_matcher one;
  one.k = value_matcher::kind::one_of;
  one.choices = {"-", "502"};
  EXPECT_TRUE(run("log.upstream_status", one).pass);
  one.choices = {"502", "504"};
  EXPECT_FALSE(run("log.status", one).pass);
}

TEST(scenario_expectation, same_as_compares_two_observations) {
  value_matcher same;
  same.k = value_matcher::kind::same_as;
  same.text = "log.status";
  EXPECT_FALSE(run("client.status", same).pass) << "502 is not 500";
  same.text = "client.status";
  EXPECT_TRUE(run("client.status", same).pass);
  same.text = "log.upstream_response_time";
  EXPECT_FALSE(run("log.upstream_status", same).pass) << "two \"-\" are no match";
  same.text = "client.tls_cipher";
  auto r = run("log.status", same);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.observed, "500 vs (not observed)");
}

TEST(scenario_expectation, a_field_that_was_not_observed_fails) {
  auto r = run("log.ssl_cipher", equals("-"));
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.observed, "(not observed)");
  EXPECT_FALSE(run("backend.other.requests", equals("0")).pass);
  EXPECT_TRUE(run("backend.app.requests", equals("1")).pass);
}

// The whole path: a scenario file's expectations against a record that disagrees.
TEST(scenario_expectation, a_loaded_scenario_fails_on_a_differing_record) {
  scenario s = load_scenario_text(R"(id: 502-backend-closed-no-response
status: 502
title: t
client: {action: request}
expect:
  client: {status: 502}
  log:
    status: 502
    upstream_connect_time: {approx: 5.0, tolerance: 0.3}
    sim_cause: 502-backend-closed-no-response
explain: {client: a, balancer: b, backend: c, log: d, check: e}
)",
                                  "inline");
  std::size_t failed = 0;
  for (const auto& e : s.expectations) failed += check(e, k_observed).pass ? 0 : 1;
  EXPECT_EQ(failed, 3u);  // status 500 ≠ 502, 4.2 not ≈ 5.0, the sim_cause
}

}  // namespace
}  // namespace albsim::scenarios
