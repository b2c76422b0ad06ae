// The runner end to end on loopback: the scripted client's variants that the catalogue files
// do not all use, and a scenario whose expectation disagrees with what happens must FAIL.
#include <gtest/gtest.h>

#include <filesystem>

#include "albsim/scenarios/scenario_runner.hpp"

namespace albsim::scenarios {
namespace {

scenario catalogue_scenario(const std::string& id) {
  return load_scenario_file(
      (std::filesystem::path(default_scenario_dir()) / (id + ".yaml")).string());
}

std::string failures(const scenario_result& r) {
  std::string out = r.error;
  for (const auto& c : r.checks) {
    if (!c.pass)
      out +=
          c.expected.field + " " + c.expected.matcher.describe() + " observed " + c.observed + "; ";
  }
  return out;
}

TEST(scenario_runner, every_invalid_framing_variant_gives_the_same_cause) {
  for (auto f : {framing_fault::conflicting_length, framing_fault::length_and_chunked,
                 framing_fault::non_numeric_length, framing_fault::surplus_bytes}) {
    scenario s = catalogue_scenario("400-content-length-mismatch");
    s.client.framing = f;
    if (f == framing_fault::surplus_bytes) {
      // The declared body makes a valid request that reaches the backend; only the surplus,
      // which has no method, is refused.
      std::erase_if(s.expectations, [](const expectation& e) {
        return e.field.rfind("backend.", 0) == 0 || e.field == "log.request_method";
      });
    }
    auto r = run_scenario(s);
    EXPECT_TRUE(r.passed) << "framing " << static_cast<int>(f) << ": " << failures(r);
  }
}

TEST(scenario_runner, a_trickled_body_that_misses_the_request_timeout_is_408) {
  scenario s = catalogue_scenario("408-request-incomplete");
  s.client.send_body_bytes.reset();
  s.client.body_bytes = 4096;
  s.client.upload_rate = 1024;  // 4 s for the body, the request timeout is 1 s
  auto r = run_scenario(s);
  EXPECT_TRUE(r.passed) << failures(r);
  EXPECT_GT(r.observations["client"].value("sent_bytes", 0), 200);
}

TEST(scenario_runner, a_listed_status_line_is_rewritten_to_502_and_kept_in_upstream_status) {
  scenario s = catalogue_scenario("502-backend-status-rewritten");
  s.proxy.rewrite_to_502 = {444, 504};
  s.client.path = "/status/504";  // a backend's own 504, which is passed on unless listed
  for (auto& e : s.expectations) {
    if (e.field == "log.upstream_status") e.matcher.text = "504", e.matcher.number = 504;
  }
  auto r = run_scenario(s);
  EXPECT_TRUE(r.passed) << failures(r);
}

TEST(scenario_runner, a_scenario_fails_when_the_record_differs) {
  scenario s = catalogue_scenario("502-connection-refused");
  for (auto& e : s.expectations) {
    if (e.field == "log.status") e.matcher.text = "504", e.matcher.number = 504;
  }
  auto r = run_scenario(s);
  EXPECT_FALSE(r.passed);
  std::size_t failed = 0;
  for (const auto& c : r.checks) {
    if (!c.pass) {
      ++failed;
      EXPECT_EQ(c.expected.field, "log.status");
      EXPECT_EQ(c.observed, "502");
    }
  }
  EXPECT_EQ(failed, 1u);
}

TEST(scenario_runner, parallel_runs_keep_their_order_and_results) {
  std::vector<scenario> list{catalogue_scenario("405-trace"),
                             catalogue_scenario("414-uri-too-long"),
                             catalogue_scenario("503-no-backend")};
  auto results = run_scenarios(list, 2);
  ASSERT_EQ(results.size(), 3u);
  for (std::size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(results[i].id, list[i].id);
    EXPECT_TRUE(results[i].passed) << failures(results[i]);
    EXPECT_FALSE(results[i].timeline.empty());
  }
}

}  // namespace
}  // namespace albsim::scenarios
