// One access-log record as read back from a customer's file: the balancer's field names
// (../shared/ALB-FACTS.md) with their raw values. Values are views into the reader's buffers,
// valid until the next record is read; a record is never copied on the hot path. A value of
// "-" or "" is absent (the balancer's convention), whatever the input format.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

namespace albsim::diagnose {

// The fields diagnose reads; any other field of the input is ignored.
enum class field : std::uint8_t {
  time,
  log_time,  // __time__: the log service's epoch seconds
  client_ip,
  client_port,
  vip_addr,
  slb_vport,
  app_lb_id,
  scheme,
  server_protocol,
  request_method,
  request_uri,
  host,
  http_host,
  http_x_forwarded_for,
  http_user_agent,
  request_length,
  status,
  upstream_status,
  upstream_addr,
  request_time,            // s
  read_request_time,       // ms
  write_response_time,     // ms
  upstream_connect_time,   // s
  upstream_response_time,  // s
  body_bytes_sent,
  tcpinfo_rtt,  // µs
  ssl_protocol,
  sim_cause,  // albsim's own records only
  sim_detail,
  count_
};

inline constexpr std::size_t k_field_count = static_cast<std::size_t>(field::count_);

// The field's name as the balancer writes it.
std::string_view field_name(field f);
// The field called `name`, or nullopt for a field diagnose does not read.
std::optional<field> field_from_name(std::string_view name);

// The unit a field's number is in, for messages ("s", "ms", "µs", "bytes" or "").
std::string_view field_unit(field f);

class log_record {
 public:
  void clear() {
    present_.reset();
    numeric_.reset();
    line_ = 0;
    status_ = upstream_status_ = -1;
  }
  // Stores a raw value; "-", "" and JSON null mean absent.
  void set(field f, std::string_view value) {
    if (value.empty() || value == "-") return;
    values_[index(f)] = value;
    present_.set(index(f));
    numeric_.reset(index(f));
    status_ = upstream_status_ = -1;
  }
  // Stores a value that arrived as a JSON number.
  void set_number(field f, double value) {
    numbers_[index(f)] = value;
    present_.set(index(f));
    numeric_.set(index(f));
    status_ = upstream_status_ = -1;
  }
  bool has(field f) const { return present_.test(index(f)); }
  // The raw text, "" when absent.
  std::string_view text(field f) const;
  // The value as a number; nullopt when absent or not a number (surrounding spaces allowed).
  std::optional<double> number(field f) const;
  // The status as an integer, 0 when absent or not a number.
  int status() const;
  // upstream_status as an integer, 0 when absent ("-") or not a number.
  int upstream_status() const;
  // The record's time in seconds since the epoch (ISO 8601 `time`, or `__time__`).
  std::optional<double> epoch_seconds() const;
  // True when at least one field diagnose reads is present.
  bool any_field() const { return present_.any(); }
  const std::bitset<k_field_count>& present() const { return present_; }

  std::uint64_t line() const { return line_; }
  void set_line(std::uint64_t line) { line_ = line; }

 private:
  static std::size_t index(field f) { return static_cast<std::size_t>(f); }
  std::array<std::string_view, k_field_count> values_{};
  std::array<double, k_field_count> numbers_{};
  mutable std::array<std::array<char, 32>, k_field_count> formatted_{};  // numbers as text
  std::bitset<k_field_count> present_;
  std::bitset<k_field_count> numeric_;
  std::uint64_t line_ = 0;
  mutable int status_ = -1, upstream_status_ = -1;  // parsed once: every rule reads them
};

// Parses "2026-11-25T09:00:05.004+00:00", "2026-11-25 09:00:05", "...Z" or epoch seconds.
std::optional<double> parse_time(std::string_view text);

}  // namespace albsim::diagnose
