#include "request_journal.hpp"

#include <algorithm>

#include "access_log_record.hpp"
#include "fault_injector.hpp"
#include "field_lookup.hpp"

namespace albsim::proxy {
namespace {

constexpr std::size_t k_short_string = 15;  // kept inside std::string itself (no heap)

std::size_t heap_of(const std::string& s) {
  return s.capacity() > k_short_string ? s.capacity() + 1 : 0;
}

}  // namespace

request_journal::request_journal(const journal_config& config)
    : capacity_(config.size), max_value_(config.max_value_bytes), header_names_(config.headers) {}

void request_journal::put(std::string& to, std::string_view from) const {
  to.assign(from.substr(0, max_value_));
}

// Fills the ring's slot in place: once the ring has gone round, its strings keep their memory
// and an entry costs no allocation (albsim's bound keeps that memory within memory_bound()).
void request_journal::add(const access_log_record& r, std::string_view fields,
                          const fault_injection& inj) {
  if (!capacity_) return;
  std::lock_guard lock(mutex_);
  if (ring_.capacity() < capacity_) ring_.reserve(capacity_);  // once: no growth by doubling
  const std::uint64_t seq = next_seq_++;
  journal_entry& e = ring_.size() < capacity_ ? ring_.emplace_back() : ring_[(seq - 1) % capacity_];
  e.seq = seq;
  e.time = r.time;
  put(e.client_ip, r.client_ip);
  e.client_port = r.client_port;
  put(e.method, r.request_method);
  put(e.host, r.host);
  put(e.path, r.request_uri);
  std::size_t found = 0;
  for (const auto& name : header_names_) {
    auto v = find_field(fields, name);
    if (!v) continue;
    if (e.headers.size() <= found) e.headers.emplace_back();
    e.headers[found].first.assign(name);
    put(e.headers[found].second, *v);
    ++found;
  }
  e.headers.resize(found);
  if (!inj.plan.empty()) {
    put(e.key, inj.key);
  } else if (found) {
    e.key.assign(e.headers.front().second);
  } else {
    e.key.clear();
  }
  put(e.plan, inj.plan);
  e.step = inj.step;
  put(e.injected, inj.cause);
  e.status = r.status;
  put(e.upstream_status, r.upstream_status);
  put(e.upstream_addr, r.upstream_addr);
  put(e.sim_cause, r.sim_cause);
  e.request_time = r.request_time;
  e.upstream_connect_time = r.upstream_connect_time;
  e.upstream_response_time = r.upstream_response_time;
  // The Retry-After the fault backend was told to send, if its answer reached the client.
  e.retry_after.reset();
  if (inj.retry_after && r.upstream_status == std::to_string(r.status)) {
    e.retry_after = inj.retry_after;
  }
}

std::vector<journal_entry> request_journal::read(const journal_filter& f) const {
  std::vector<journal_entry> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : ring_) {
      if (f.key && e.key != *f.key) continue;
      if (!f.path_prefix.empty() && e.path.rfind(f.path_prefix, 0) != 0) continue;
      if (!f.cause.empty() && e.sim_cause != f.cause) continue;
      if (f.since && e.time < *f.since) continue;
      if (f.until && e.time > *f.until) continue;
      out.push_back(e);
    }
  }
  // In the order the requests arrived: with several workers, a later request's record can be
  // written a moment before an earlier one's.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.time != b.time ? a.time < b.time : a.seq < b.seq;
  });
  if (f.limit && out.size() > f.limit)
    out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(f.limit));
  return out;
}

void request_journal::clear() {
  std::lock_guard lock(mutex_);
  ring_.clear();
  ring_.shrink_to_fit();
  next_seq_ = 1;
}

std::uint64_t request_journal::added() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

std::size_t request_journal::memory_bytes() const {
  std::lock_guard lock(mutex_);
  std::size_t n = ring_.capacity() * sizeof(journal_entry);
  for (const auto& e : ring_) {
    for (const std::string* s : {&e.client_ip, &e.method, &e.host, &e.path, &e.key, &e.plan,
                                 &e.injected, &e.upstream_status, &e.upstream_addr, &e.sim_cause})
      n += heap_of(*s);
    n += e.headers.capacity() * sizeof(e.headers.front());
    for (const auto& [name, value] : e.headers) n += heap_of(name) + heap_of(value);
  }
  return n;
}

std::size_t request_journal::memory_bound() const {
  constexpr std::size_t k_strings = 10;  // the entry's own strings, each cut to max_value_
  // A reused string grows to at most twice what it was asked to hold (std::string's doubling),
  // and so does the vector of header pairs.
  std::size_t names = 0;
  for (const auto& h : header_names_) names += 2 * (h.size() + 1);
  const std::size_t value = 2 * (max_value_ + 1);
  const std::size_t pairs = 2 * header_names_.size();
  const std::size_t per_entry = sizeof(journal_entry) + k_strings * value +
                                pairs * (sizeof(std::pair<std::string, std::string>) + value) +
                                names;
  return capacity_ * per_entry;
}

}  // namespace albsim::proxy
