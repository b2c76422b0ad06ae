#include "request_metrics.hpp"

#include <fmt/format.h>

#include "access_log_record.hpp"

namespace albsim::proxy {
namespace {

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void render_histogram(
    std::string& out, const char* name, const char* help,
    const std::array<std::uint64_t, request_metrics::k_buckets.size() + 1>& counts, double sum,
    std::uint64_t count) {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < request_metrics::k_buckets.size(); ++i) {
    cumulative += counts[i];
    out +=
        fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, request_metrics::k_buckets[i], cumulative);
  }
  cumulative += counts.back();
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative,
                     name, sum, name, count);
}

}  // namespace

void request_metrics::histogram::observe(double v) {
  std::size_t i = 0;
  while (i < k_buckets.size() && v > k_buckets[i]) ++i;
  ++counts[i];
  sum += v;
  ++count;
}

void request_metrics::observe(const access_log_record& r) {
  const std::string_view up = r.upstream_status;
  const std::string_view cls = up.size() == 3 ? up.substr(0, 1) : std::string_view("-");
  std::lock_guard lock(mutex_);
  auto key = std::make_tuple(r.slb_vport, r.status, std::string_view(r.sim_cause));
  auto it = requests_.find(key);
  if (it == requests_.end()) {
    it = requests_.emplace(std::make_tuple(r.slb_vport, r.status, r.sim_cause), 0).first;
  }
  ++it->second;
  auto c = upstream_classes_.find(cls);
  if (c == upstream_classes_.end()) c = upstream_classes_.emplace(std::string(cls), 0).first;
  ++c->second;
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
  upstream_classes_.clear();
  request_time_ = {};
  upstream_time_ = {};
}

std::string request_metrics::render(const std::string& extra) const {
  std::string out;
  std::lock_guard lock(mutex_);
  out +=
      "# HELP albsim_requests_total Requests answered, by listener, port, status and sim_cause.\n"
      "# TYPE albsim_requests_total counter\n";
  for (const auto& [k, n] : requests_) {
    const auto& [port, status, cause] = k;
    auto name = listener_names_.find(port);
    out += fmt::format(
        "albsim_requests_total{{listener=\"{}\",port=\"{}\",status=\"{}\",cause=\"{}\"}} {}\n",
        name == listener_names_.end() ? std::string("-") : label(name->second), port, status,
        label(cause), n);
  }
  out +=
      "# HELP albsim_upstream_responses_total Requests by upstream_status class (\"-\": no "
      "request reached a backend).\n"
      "# TYPE albsim_upstream_responses_total counter\n";
  for (const auto& [cls, n] : upstream_classes_) {
    out += fmt::format("albsim_upstream_responses_total{{class=\"{}\"}} {}\n",
                       cls == "-" ? std::string("none") : cls + "xx", n);
  }
  render_histogram(out, "albsim_request_time_seconds", "The record's request_time.",
                   request_time_.counts, request_time_.sum, request_time_.count);
  render_histogram(out, "albsim_upstream_response_time_seconds",
                   "The record's upstream_response_time, when a backend was tried.",
                   upstream_time_.counts, upstream_time_.sum, upstream_time_.count);
  out += extra;
  return out;
}

}  // namespace albsim::proxy
