// The request journal (docs/retry-kit.md): the last N requests of one proxy runtime, each with
// the key of its logical operation, the fault plan step or cause it was given, its outcome and
// timings and a few selected request headers, so that a retry test can ask afterwards what the
// client did. A ring: memory is bounded by the configured size and value caps whatever the
// traffic (stored header values and paths are cut to journal.max_value_bytes).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

struct access_log_record;
struct fault_injection;

struct journal_entry {
  std::uint64_t seq = 0;                       // 1, 2, ... since start (or the last clear)
  std::chrono::system_clock::time_point time;  // the request's first byte
  std::string client_ip;
  std::uint16_t client_port = 0;
  std::string method;
  std::string host;
  std::string path;  // the request target as received (cut)
  // The logical operation: the plan's key when a plan stepped, else the first configured
  // header present (Idempotency-Key by default), else "".
  std::string key;
  std::string plan;  // "" = none
  std::int32_t step = -1;
  std::string injected;  // the fault asked for ("" = none), as written
  int status = 0;
  std::string upstream_status;
  std::string upstream_addr;
  std::string sim_cause;
  double request_time = 0;                       // s
  std::optional<double> upstream_connect_time;   // s
  std::optional<double> upstream_response_time;  // s
  std::optional<std::uint32_t> retry_after;      // s, when the answer carried an injected one
  std::vector<std::pair<std::string, std::string>> headers;  // configured fields present
};

// Conditions of a journal read; empty ones match everything.
struct journal_filter {
  std::optional<std::string> key;
  std::string path_prefix;
  std::string cause;  // sim_cause
  std::optional<std::chrono::system_clock::time_point> since, until;
  std::size_t limit = 0;  // 0 = all that match (the newest when limited)
};

class request_journal {
 public:
  explicit request_journal(const journal_config& config);

  bool enabled() const { return capacity_ > 0; }
  // Adds the request of a record just emitted. `fields`: its request fields ("Name: value\r\n").
  void add(const access_log_record& r, std::string_view fields, const fault_injection& inj);
  // Matching entries in the order the requests arrived (their first byte).
  std::vector<journal_entry> read(const journal_filter& f) const;
  void clear();

  std::size_t capacity() const { return capacity_; }
  std::uint64_t added() const;  // since start or the last clear, including those overwritten
  // The bytes the ring holds now, and the most it can ever hold with the configured caps.
  std::size_t memory_bytes() const;
  std::size_t memory_bound() const;

 private:
  void put(std::string& to, std::string_view from) const;  // cut to max_value_

  const std::size_t capacity_;
  const std::size_t max_value_;
  const std::vector<std::string> header_names_;
  mutable std::mutex mutex_;
  std::vector<journal_entry> ring_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace albsim::proxy
