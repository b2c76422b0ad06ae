// request_metrics on its own: the exposition's values after observed records, the values the
// runtime counts elsewhere, counting from several threads, and a counters reset.
#include "request_metrics.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "access_log_record.hpp"

namespace albsim::proxy {
namespace {

access_log_record record(int status, const std::string& cause, const std::string& upstream,
                         double request_time, std::optional<double> upstream_time) {
  access_log_record r;
  r.slb_vport = 8080;
  r.status = status;
  r.sim_cause = cause;
  r.upstream_status = upstream;
  r.request_time = request_time;
  r.upstream_response_time = upstream_time;
  return r;
}

// The value of the one sample `name` whose labels include every `labels` pair (in any order,
// as label order means nothing in the text format); nullopt if none, a failure if several.
std::optional<double> sample(const std::string& text, const std::string& name,
                             const std::vector<std::string>& labels = {}) {
  std::optional<double> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto end = line.find_first_of("{ ");
    if (line.substr(0, end) != name) continue;
    const auto space = line.rfind(' ');
    const std::string series = line.substr(0, space);
    bool all = true;
    for (const auto& l : labels) all = all && series.find(l) != std::string::npos;
    if (!all) continue;
    EXPECT_FALSE(found) << "several samples of " << name << " match:\n" << text;
    found = std::stod(line.substr(space + 1));
  }
  return found;
}

request_metrics::runtime_counts counts(std::uint64_t connections) {
  request_metrics::runtime_counts c;
  c.connections = connections;
  c.live_sessions = 2;
  c.faults_injected = 3;
  c.faults_refused = 1;
  c.qps_refused = {{"instance", 0}, {"listener", 4}};
  c.servers = {{"g", "127.0.0.1:9000", true}, {"g", "127.0.0.1:9001", false}};
  return c;
}

TEST(RequestMetrics, CountsObservedRecordsByLabel) {
  request_metrics m;
  m.name_listener(8080, "web");
  for (int i = 0; i < 3; ++i) m.observe(record(503, "503-qps-limited", "-", 0.002, std::nullopt));
  m.observe(record(200, "ok", "200", 0.03, 0.02));
  m.observe(record(502, "502-backend-reset", "502", 0.7, 0.6));
  const std::string text = m.render(counts(5));

  EXPECT_EQ(
      sample(text, "albsim_requests_total",
             {"listener=\"web\"", "port=\"8080\"", "status=\"503\"", "cause=\"503-qps-limited\""}),
      3)
      << text;
  EXPECT_EQ(sample(text, "albsim_requests_total", {"status=\"200\"", "cause=\"ok\""}), 1);
  EXPECT_EQ(sample(text, "albsim_upstream_responses_total", {"class=\"none\""}), 3);
  EXPECT_EQ(sample(text, "albsim_upstream_responses_total", {"class=\"2xx\""}), 1);
  EXPECT_EQ(sample(text, "albsim_upstream_responses_total", {"class=\"5xx\""}), 1);

  EXPECT_EQ(sample(text, "albsim_request_time_seconds_count"), 5);
  EXPECT_NEAR(*sample(text, "albsim_request_time_seconds_sum"), 0.736, 1e-9);
  // Buckets are cumulative with inclusive upper bounds.
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_bucket", {"le=\"0.005\""}), 3);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_bucket", {"le=\"0.05\""}), 4);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_bucket", {"le=\"0.5\""}), 4);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_bucket", {"le=\"1\""}), 5);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_bucket", {"le=\"+Inf\""}), 5);
  // Only records where a backend was tried have an upstream_response_time.
  EXPECT_EQ(sample(text, "albsim_upstream_response_time_seconds_count"), 2);
  EXPECT_EQ(sample(text, "albsim_upstream_response_time_seconds_bucket", {"le=\"0.025\""}), 1);

  EXPECT_EQ(sample(text, "albsim_connections_total"), 5);
  EXPECT_EQ(sample(text, "albsim_connections_active"), 2);
  EXPECT_EQ(sample(text, "albsim_faults_injected_total"), 3);
  EXPECT_EQ(sample(text, "albsim_faults_refused_total"), 1);
  EXPECT_EQ(sample(text, "albsim_qps_refused_total", {"limiter=\"listener\""}), 4);
  EXPECT_EQ(sample(text, "albsim_qps_refused_total", {"limiter=\"instance\""}), 0);
  EXPECT_EQ(sample(text, "albsim_server_healthy", {"server=\"127.0.0.1:9000\""}), 1);
  EXPECT_EQ(sample(text, "albsim_server_healthy", {"group=\"g\"", "server=\"127.0.0.1:9001\""}), 0);
  EXPECT_NE(text.find("# TYPE albsim_request_time_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("# TYPE albsim_requests_total counter"), std::string::npos);

  // A later scrape carries the runtime's counters forward.
  EXPECT_EQ(sample(m.render(counts(9)), "albsim_connections_total"), 9);
}

TEST(RequestMetrics, CountsEveryRecordFromSeveralThreads) {
  request_metrics m;
  constexpr int k_threads = 4;
  constexpr int k_each = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < k_threads; ++t) {
    workers.emplace_back([&m, t] {
      // Two threads share a series, so both the cached and the first-time path race.
      const auto r = record(200 + t % 2, "ok", "200", 0.001, 0.001);
      for (int i = 0; i < k_each; ++i) m.observe(r);
    });
  }
  for (auto& w : workers) w.join();
  const std::string text = m.render({});
  EXPECT_EQ(sample(text, "albsim_requests_total", {"status=\"200\""}), k_each * k_threads / 2);
  EXPECT_EQ(sample(text, "albsim_requests_total", {"status=\"201\""}), k_each * k_threads / 2);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_count"), k_each * k_threads);
  EXPECT_EQ(sample(text, "albsim_upstream_responses_total", {"class=\"2xx\""}), k_each * k_threads);
}

TEST(RequestMetrics, ResetStartsEverySeriesAgain) {
  request_metrics m;
  m.name_listener(8080, "web");
  m.observe(record(503, "503-qps-limited", "-", 0.002, std::nullopt));
  ASSERT_EQ(sample(m.render(counts(7)), "albsim_request_time_seconds_count"), 1);

  m.reset();
  std::string text = m.render(counts(0));
  EXPECT_EQ(sample(text, "albsim_requests_total"), std::nullopt) << text;
  EXPECT_EQ(sample(text, "albsim_upstream_responses_total"), std::nullopt);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_count"), 0);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_bucket", {"le=\"+Inf\""}), 0);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_sum"), 0);
  // The runtime's own counters are shown as read: after its reset, from 0 again.
  EXPECT_EQ(sample(text, "albsim_connections_total"), 0);

  // Counting resumes, with the listener's name kept.
  m.observe(record(503, "503-qps-limited", "-", 0.002, std::nullopt));
  text = m.render(counts(1));
  EXPECT_EQ(sample(text, "albsim_requests_total", {"listener=\"web\"", "status=\"503\""}), 1);
  EXPECT_EQ(sample(text, "albsim_request_time_seconds_count"), 1);
  EXPECT_EQ(sample(text, "albsim_connections_total"), 1);
}

}  // namespace
}  // namespace albsim::proxy
