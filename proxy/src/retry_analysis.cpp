#include "retry_analysis.hpp"

#include <cstdio>
#include <map>

namespace albsim::proxy {
namespace {

double seconds(std::chrono::system_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// RFC 9110 9.2.2: the methods that are not idempotent.
bool idempotent(const std::string& method) { return method != "POST" && method != "PATCH"; }

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

retry_report analyse_one(const std::string& key, const std::vector<const journal_entry*>& a) {
  retry_report r;
  r.key = key;
  r.attempts = a.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    r.statuses.push_back(a[i]->status);
    if (i == 0) continue;
    const journal_entry& prev = *a[i - 1];
    const journal_entry& cur = *a[i];
    r.intervals_s.push_back(seconds(cur.time - prev.time));
    const bool reached = prev.upstream_status != "-";
    if (!idempotent(cur.method) && prev.method == cur.method && prev.status >= 500 && reached &&
        !r.non_idempotent_resent) {
      r.non_idempotent_resent = true;
      r.resent_detail = cur.method + " " + cur.path + " was sent again (attempt " +
                        std::to_string(i + 1) + ") after a " + std::to_string(prev.status) +
                        " whose request had reached a backend (upstream_status " +
                        prev.upstream_status + ")";
    }
    if (prev.retry_after) {
      // The client had the answer about request_time after the first byte.
      const double waited = seconds(cur.time - prev.time) - prev.request_time;
      const bool ok = waited + k_retry_after_slack_s >= *prev.retry_after;
      if (!r.retry_after_honoured || (*r.retry_after_honoured && !ok)) {
        r.retry_after_honoured = ok;
        r.retry_after_detail = "attempt " + std::to_string(i + 1) + " came " + fixed3(waited) +
                               " s after the answer that asked for Retry-After " +
                               std::to_string(*prev.retry_after) + " s";
      }
    }
  }
  return r;
}

}  // namespace

std::vector<retry_report> analyse_retries(const std::vector<journal_entry>& entries) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const journal_entry*>> by_key;
  for (const auto& e : entries) {
    if (e.key.empty()) continue;
    auto [it, fresh] = by_key.try_emplace(e.key);
    if (fresh) order.push_back(e.key);
    it->second.push_back(&e);
  }
  std::vector<retry_report> out;
  for (const auto& k : order) out.push_back(analyse_one(k, by_key[k]));
  return out;
}

}  // namespace albsim::proxy
