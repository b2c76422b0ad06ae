// The metrics of one proxy runtime for the admin API's /metrics: requests by listener port,
// status and cause, upstream status classes, and histograms of request_time and
// upstream_response_time — the counterparts of the balancer's monitoring metrics the guide
// points to (QPS, upstream response time) — plus the values the runtime counts elsewhere
// (connections, health, QPS refusals, faults), read at each scrape. The exposition is
// prometheus-cpp's (Debian's prometheus-cpp-dev, core library only): each scrape fills a
// registry from the counts and its TextSerializer writes it. The per-request path stays a few
// plain increments under one lock, as prometheus-cpp's own histogram takes a lock and several
// atomic updates per observation (docs/retry-kit.md "### Metrics" has the figures).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace albsim::proxy {

struct access_log_record;

class request_metrics {
 public:
  // Histogram bucket bounds in seconds (upper, inclusive), then +Inf.
  static constexpr std::array<double, 12> k_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10,  60};

  // What the runtime counts outside the records, read at each scrape.
  struct runtime_counts {
    struct server {
      std::string group;
      std::string address;  // address:port
      bool healthy = false;
    };
    std::uint64_t connections = 0;
    std::int64_t live_sessions = 0;
    std::uint64_t faults_injected = 0;
    std::uint64_t faults_refused = 0;
    std::vector<std::pair<std::string, std::uint64_t>> qps_refused;  // by limiter name
    std::vector<server> servers;
  };

  // Counts one record; called for every request, from every worker thread, so it only bumps
  // plain counters under one short lock.
  void observe(const access_log_record& r);
  // The listener's name for its bound port (requests are counted by port, labelled by name).
  void name_listener(std::uint16_t port, const std::string& name);
  void reset();
  // The exposition (text format 0.0.4) of these counts and the runtime's `now`: a prometheus-cpp
  // registry is filled from them and written by its TextSerializer.
  std::string render(const runtime_counts& now) const;

 private:
  struct histogram {
    std::array<std::uint64_t, k_buckets.size() + 1> counts{};  // the last is +Inf
    double sum = 0;
    void observe(double v);
  };
  mutable std::mutex mutex_;
  std::map<std::uint16_t, std::string> listener_names_;
  std::map<std::tuple<std::uint16_t, int, std::string>, std::uint64_t, std::less<>> requests_;
  std::array<std::uint64_t, 256> upstream_classes_{};  // by upstream_status[0]; '-': none
  histogram request_time_;
  histogram upstream_time_;
};

}  // namespace albsim::proxy
