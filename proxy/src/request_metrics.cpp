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

Family<Counter>& counter_family(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

Family<Gauge>& gauge_family(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

Histogram& histogram(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(
      {}, Histogram::BucketBoundaries(request_metrics::k_buckets.begin(),
                                      request_metrics::k_buckets.end()));
}

// A counter that mirrors one the runtime keeps: a prometheus counter only goes up, and the
// runtime's counter goes back to 0 only in a reset, which starts a fresh registry too.
void sync(Counter& c, std::uint64_t runtime_value) {
  const double v = static_cast<double>(runtime_value);
  if (v > c.Value()) c.Increment(v - c.Value());
}

}  // namespace

struct request_metrics::families {
  prometheus::Registry registry;
  Family<Counter>& requests =
      counter_family(registry, "albsim_requests_total",
                     "Requests answered, by listener, port, status and sim_cause.");
  Family<Counter>& upstream_classes =
      counter_family(registry, "albsim_upstream_responses_total",
                     "Requests by upstream_status class (\"none\": no request reached a backend).");
  Histogram& request_time =
      histogram(registry, "albsim_request_time_seconds", "The record's request_time.");
  Histogram& upstream_time =
      histogram(registry, "albsim_upstream_response_time_seconds",
                "The record's upstream_response_time, when a backend was tried.");
  Counter& connections =
      counter_family(registry, "albsim_connections_total", "Client connections accepted.").Add({});
  Gauge& connections_active =
      gauge_family(registry, "albsim_connections_active", "Client connections open now.").Add({});
  Family<Gauge>& server_healthy =
      gauge_family(registry, "albsim_server_healthy",
                   "Health of each server as the health checks see it (1 = healthy).");
  Family<Counter>& qps_refused = counter_family(
      registry, "albsim_qps_refused_total", "Requests a QPS limit refused, by the kind of limit.");
  Counter& faults_injected =
      counter_family(registry, "albsim_faults_injected_total", "Requests given an injected fault.")
          .Add({});
  Counter& faults_refused = counter_family(registry, "albsim_faults_refused_total",
                                           "Faults asked for that could not be injected.")
                                .Add({});

  // The hot path's cache: Family::Add locks the family and hashes the label map, so each
  // series is added once and its counter found here afterwards.
  std::map<std::tuple<std::uint16_t, int, std::string>, Counter*, std::less<>> by_request;
  std::array<Counter*, 256> by_class{};  // by the first character of upstream_status, '-': none
};

request_metrics::request_metrics() : families_(std::make_unique<families>()) {}

request_metrics::~request_metrics() = default;

void request_metrics::observe(const access_log_record& r) {
  const std::string_view up = r.upstream_status;
  const unsigned char cls = up.size() == 3 ? static_cast<unsigned char>(up[0]) : '-';
  std::lock_guard lock(mutex_);
  families& f = *families_;
  auto it =
      f.by_request.find(std::make_tuple(r.slb_vport, r.status, std::string_view(r.sim_cause)));
  if (it == f.by_request.end()) {
    auto name = listener_names_.find(r.slb_vport);
    Counter& c = f.requests.Add({{"listener", name == listener_names_.end() ? "-" : name->second},
                                 {"port", std::to_string(r.slb_vport)},
                                 {"status", std::to_string(r.status)},
                                 {"cause", r.sim_cause}});
    it = f.by_request.emplace(std::make_tuple(r.slb_vport, r.status, r.sim_cause), &c).first;
  }
  it->second->Increment();
  Counter*& by_class = f.by_class[cls];
  if (by_class == nullptr) {
    by_class = &f.upstream_classes.Add(
        {{"class",
          cls == '-' ? std::string("none") : std::string(1, static_cast<char>(cls)) + "xx"}});
  }
  by_class->Increment();
  f.request_time.Observe(r.request_time);
  if (r.upstream_response_time) f.upstream_time.Observe(*r.upstream_response_time);
}

void request_metrics::name_listener(std::uint16_t port, const std::string& name) {
  std::lock_guard lock(mutex_);
  listener_names_[port] = name;
}

void request_metrics::reset(const std::function<void()>& zero_runtime) {
  // Removing series one by one would leave the cached pointers to sort out; a fresh registry
  // drops every series, and the cache with it.
  auto fresh = std::make_unique<families>();
  std::lock_guard lock(mutex_);
  if (zero_runtime) zero_runtime();
  families_.swap(fresh);
}

std::string request_metrics::render(const std::function<runtime_counts()>& read_runtime) {
  std::vector<prometheus::MetricFamily> collected;
  {
    std::lock_guard lock(mutex_);
    families& f = *families_;
    const runtime_counts now = read_runtime();
    sync(f.connections, now.connections);
    f.connections_active.Set(static_cast<double>(std::max<std::int64_t>(0, now.live_sessions)));
    sync(f.faults_injected, now.faults_injected);
    sync(f.faults_refused, now.faults_refused);
    for (const auto& [limiter, n] : now.qps_refused)
      sync(f.qps_refused.Add({{"limiter", limiter}}), n);
    for (const auto& s : now.servers) {
      f.server_healthy.Add({{"group", s.group}, {"server", s.address}}).Set(s.healthy ? 1 : 0);
    }
    collected = f.registry.Collect();
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, collected);
  return std::move(out).str();
}

}  // namespace albsim::proxy
