#include "request_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <sstream>

#include "access_log_record.hpp"

namespace albsim::proxy {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Registry;

Family<Counter>& counter_family(Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

Family<Gauge>& gauge_family(Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

// A counter is filled by one increment of its current total (exact up to 2^53).
void add_counter(Registry& r, const char* name, const char* help, std::uint64_t total) {
  counter_family(r, name, help).Add({}).Increment(static_cast<double>(total));
}

}  // namespace

void request_metrics::histogram::observe(double v) {
  std::size_t i = 0;
  while (i < k_buckets.size() && v > k_buckets[i]) ++i;
  ++counts[i];
  sum += v;
}

void request_metrics::observe(const access_log_record& r) {
  const std::string_view up = r.upstream_status;
  const auto cls = static_cast<unsigned char>(up.size() == 3 ? up[0] : '-');
  std::lock_guard lock(mutex_);
  auto key = std::make_tuple(r.slb_vport, r.status, std::string_view(r.sim_cause));
  auto it = requests_.find(key);
  if (it == requests_.end()) {
    it = requests_.emplace(std::make_tuple(r.slb_vport, r.status, r.sim_cause), 0).first;
  }
  ++it->second;
  ++upstream_classes_[cls];
  request_time_.observe(r.request_time);
  if (r.upstream_response_time) upstream_time_.observe(*r.upstream_response_time);
}

void request_metrics::name_listener(std::uint16_t port, const std::string& name) {
  std::lock_guard lock(mutex_);
  listener_names_[port] = name;
}

void request_metrics::reset() {
  std::lock_guard lock(mutex_);
  requests_.clear();
  upstream_classes_ = {};
  request_time_ = {};
  upstream_time_ = {};
}

std::string request_metrics::render(const runtime_counts& now) const {
  // A registry per scrape: it holds a snapshot, so a reset needs nothing from it, and the
  // per-request path never touches prometheus-cpp.
  Registry registry;
  auto add_histogram = [&registry](const char* name, const char* help, const histogram& h) {
    prometheus::BuildHistogram()
        .Name(name)
        .Help(help)
        .Register(registry)
        .Add({}, Histogram::BucketBoundaries(k_buckets.begin(), k_buckets.end()))
        .ObserveMultiple(std::vector<double>(h.counts.begin(), h.counts.end()), h.sum);
  };
  // A copy under the lock, so that the workers' observe() waits for a copy, not for the registry.
  std::unique_lock lock(mutex_);
  const auto listener_names = listener_names_;
  const auto request_counts = requests_;
  const auto upstream_classes = upstream_classes_;
  const histogram request_time = request_time_;
  const histogram upstream_time = upstream_time_;
  lock.unlock();
  auto& requests = counter_family(registry, "albsim_requests_total",
                                  "Requests answered, by listener, port, status and sim_cause.");
  for (const auto& [key, n] : request_counts) {
    const auto& [port, status, cause] = key;
    auto name = listener_names.find(port);
    requests
        .Add({{"listener", name == listener_names.end() ? "-" : name->second},
              {"port", std::to_string(port)},
              {"status", std::to_string(status)},
              {"cause", cause}})
        .Increment(static_cast<double>(n));
  }
  auto& classes =
      counter_family(registry, "albsim_upstream_responses_total",
                     "Requests by upstream_status class (\"none\": no request reached a backend).");
  for (std::size_t c = 0; c < upstream_classes.size(); ++c) {
    if (upstream_classes[c] == 0) continue;
    classes
        .Add({{"class",
               c == '-' ? std::string("none") : std::string(1, static_cast<char>(c)) + "xx"}})
        .Increment(static_cast<double>(upstream_classes[c]));
  }
  add_histogram("albsim_request_time_seconds", "The record's request_time.", request_time);
  add_histogram("albsim_upstream_response_time_seconds",
                "The record's upstream_response_time, when a backend was tried.", upstream_time);
  add_counter(registry, "albsim_connections_total", "Client connections accepted.",
              now.connections);
  gauge_family(registry, "albsim_connections_active", "Client connections open now.")
      .Add({})
      .Set(static_cast<double>(std::max<std::int64_t>(0, now.live_sessions)));
  add_counter(registry, "albsim_faults_injected_total", "Requests given an injected fault.",
              now.faults_injected);
  add_counter(registry, "albsim_faults_refused_total",
              "Faults asked for that could not be injected.", now.faults_refused);
  auto& refused = counter_family(registry, "albsim_qps_refused_total",
                                 "Requests a QPS limit refused, by the kind of limit.");
  for (const auto& [limiter, n] : now.qps_refused) {
    refused.Add({{"limiter", limiter}}).Increment(static_cast<double>(n));
  }
  auto& healthy = gauge_family(registry, "albsim_server_healthy",
                               "Health of each server as the health checks see it (1 = healthy).");
  for (const auto& s : now.servers) {
    healthy.Add({{"group", s.group}, {"server", s.address}}).Set(s.healthy ? 1 : 0);
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return std::move(out).str();
}

}  // namespace albsim::proxy
