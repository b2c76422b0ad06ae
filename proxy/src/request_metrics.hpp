// Counters of one proxy runtime for the admin API's /metrics (Prometheus text format 0.0.4):
// requests by listener port, status and cause, upstream status classes, and histograms of
// request_time and upstream_response_time — the counterparts of the balancer's monitoring
// metrics the guide points to (QPS, upstream response time). Debian 12 packages no
// prometheus-cpp, so the exposition is written here (docs/retry-kit.md).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace albsim::proxy {

struct access_log_record;

class request_metrics {
 public:
  // Histogram bucket bounds in seconds (upper, inclusive), then +Inf.
  static constexpr std::array<double, 12> k_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10,  60};

  void observe(const access_log_record& r);
  // The listener's name for its bound port (requests are counted by port, labelled by name).
  void name_listener(std::uint16_t port, const std::string& name);
  void reset();
  // The exposition of these counters; `extra` (already formatted families) is appended.
  std::string render(const std::string& extra) const;

 private:
  struct histogram {
    std::array<std::uint64_t, k_buckets.size() + 1> counts{};  // the last is +Inf
    double sum = 0;
    std::uint64_t count = 0;
    void observe(double v);
  };
  mutable std::mutex mutex_;
  std::map<std::uint16_t, std::string> listener_names_;
  std::map<std::tuple<std::uint16_t, int, std::string>, std::uint64_t, std::less<>> requests_;
  std::map<std::string, std::uint64_t, std::less<>> upstream_classes_;
  histogram request_time_;
  histogram upstream_time_;
};

}  // namespace albsim::proxy
