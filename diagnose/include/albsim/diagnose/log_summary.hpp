// The summary of a whole log (the default output of `albsim diagnose`): counts per status and
// per diagnosis, per-minute counts of each as a small text chart, the top upstream_addr,
// client_ip, vip_addr, host and path per diagnosis, requests per second computed from the log
// (the guide says to do so when monitoring is per minute), and the patterns the guide
// describes. Memory is bounded whatever the log's size: every table has a cap, and a capped
// table says its counts are a lower bound.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <bitset>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "albsim/diagnose/log_record.hpp"
#include "albsim/diagnose/record_diagnoser.hpp"
#include "albsim/diagnose/redactor.hpp"

namespace albsim::diagnose {

// Counts of values, capped: once `k_cap` distinct values are held, new ones go to `others`.
class top_counter {
 public:
  void add(std::string_view value);
  // The most frequent values, most frequent first.
  std::vector<std::pair<std::string, std::uint64_t>> top(std::size_t n) const;
  std::size_t distinct() const { return counts_.size(); }
  std::uint64_t others() const { return others_; }
  std::uint64_t total() const { return total_; }
  static constexpr std::size_t k_cap = 2048;

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint64_t, hash, std::equal_to<>> counts_;
  std::uint64_t others_ = 0, total_ = 0;
};

struct input_report {
  std::string path;
  std::string format;
  std::uint64_t lines = 0, records = 0, malformed = 0, without_fields = 0;
  std::vector<std::pair<std::uint64_t, std::string>> first_malformed;
};

class log_summary {
 public:
  void add(const log_record& r, const ranking& k);
  void add_input(input_report report) { inputs_.push_back(std::move(report)); }

  std::uint64_t records() const { return records_; }
  // Per diagnosis label, records counted.
  std::map<std::string, std::uint64_t> by_label() const;

  // Call once after the last add().
  void finish() { flush_second(); }
  void print(std::ostream& out, const redactor& redact) const;
  nlohmann::json to_json(const redactor& redact) const;

  // The guide's patterns found in the log, one sentence each.
  std::vector<std::string> patterns(const redactor& redact) const;

 private:
  struct per_label {
    std::string name;
    bool error = false;
    std::uint64_t count = 0;
    std::array<top_counter, 5> tops;  // upstream_addr, client_ip, vip_addr, host, path
  };
  struct cluster {
    std::map<std::int64_t, std::uint64_t> by_10ms;  // value rounded to 10 ms
    std::uint64_t total = 0;
    void add(double seconds);
    // The most common value and the share of values within 5 % of it.
    std::pair<double, double> mode() const;
  };
  static int label_key(const ranking& k);

  std::vector<input_report> inputs_;
  std::uint64_t records_ = 0;
  std::map<int, std::uint64_t> statuses_;
  std::map<int, per_label> labels_;                               // by label_key
  std::map<std::int64_t, std::map<int, std::uint64_t>> minutes_;  // error labels only
  std::unordered_map<std::int64_t, std::uint32_t> seconds_;
  std::int64_t run_second_ = 0;
  std::uint32_t run_count_ = 0;
  void flush_second();
  double first_time_ = 0, last_time_ = 0;
  bool timed_ = false;
  std::uint64_t untimed_ = 0;
  std::bitset<k_field_count> seen_;
  // Patterns: backends overall, VIPs overall and under throttling, 504 and 499 clusters.
  // Distinct backends and VIPs, as hashes (every record adds to them; a string table would
  // cost more than the rest of the summary).
  std::unordered_set<std::size_t> upstreams_, vips_;
  static constexpr std::size_t k_max_distinct = 100'000;
  top_counter throttled_vips_, throttled_clients_, bad_gateway_upstreams_;
  cluster timeout_504_, connect_504_, leave_499_;
  std::uint64_t throttled_ = 0;
  static constexpr std::size_t k_max_minutes = 100'000;  // ~70 days; later minutes are not charted
  static constexpr std::size_t k_max_seconds = 200'000;  // ~2 days of seconds
};

}  // namespace albsim::diagnose
