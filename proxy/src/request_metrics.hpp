// The metrics of one proxy runtime for the admin API's /metrics, kept in a prometheus-cpp
// registry (Debian's prometheus-cpp-dev, core library only) and written by its TextSerializer:
// requests by listener port, status and cause, upstream status classes, and histograms of
// request_time and upstream_response_time — the counterparts of the balancer's monitoring
// metrics the guide points to (QPS, upstream response time) — plus the values the runtime
// counts elsewhere (connections, health, QPS refusals, faults), read at each scrape.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
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

  request_metrics();
  ~request_metrics();
  request_metrics(const request_metrics&) = delete;
  request_metrics& operator=(const request_metrics&) = delete;

  // Counts one record; called for every request, from every worker thread.
  void observe(const access_log_record& r);
  // The listener's name for its bound port (requests are counted by port, labelled by name).
  void name_listener(std::uint16_t port, const std::string& name);
  // Starts every series again from nothing. `zero_runtime` clears the runtime's own counters
  // under the same lock, so that no scrape reads them half reset.
  void reset(const std::function<void()>& zero_runtime = {});
  // The exposition (text format 0.0.4); `read_runtime` is called under the lock.
  std::string render(const std::function<runtime_counts()>& read_runtime);

 private:
  struct families;  // the registry's families and the counters cached for the hot path
  void rebuild();   // a fresh registry; every cached pointer into the old one is dropped

  std::mutex mutex_;  // guards everything below: a reset frees what observe() increments
  std::map<std::uint16_t, std::string> listener_names_;
  std::unique_ptr<families> families_;
};

}  // namespace albsim::proxy
