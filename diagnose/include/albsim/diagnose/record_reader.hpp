// Reads access-log records from a file or standard input, one at a time, in the formats people
// actually have: JSON Lines with the balancer's field names (values as strings or numbers, "-"
// for absent; the log service's export), CSV with a header row (the log console's export) and
// albsim's own JSON Lines. Gzip input is read directly. Memory stays bounded by the longest
// line, whatever the file's size. A malformed line is counted and skipped, never fatal.
#pragma once

#include <simdjson.h>
#include <zlib.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "albsim/diagnose/log_record.hpp"

namespace albsim::diagnose {

enum class input_format { automatic, json, csv, albsim };

const char* to_string(input_format f);
std::optional<input_format> input_format_from_string(const std::string& s);

// The input cannot be read at all, or has no access-log field (exit status 2).
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct malformed_line {
  std::uint64_t line = 0;
  std::string reason;
};

class record_reader {
 public:
  // "-" is standard input. Throws input_error when the file cannot be opened, or when a CSV
  // header names no access-log field.
  record_reader(const std::string& path, input_format format);
  ~record_reader();
  record_reader(const record_reader&) = delete;
  record_reader& operator=(const record_reader&) = delete;

  // The next well-formed record (its values stay valid until the next call); false at the end.
  bool next(log_record& r);

  const std::string& path() const { return path_; }
  // The detected (or forced) format; `albsim` once a record carries sim_cause.
  input_format format() const { return format_; }
  std::uint64_t lines() const { return line_; }
  std::uint64_t malformed() const { return malformed_count_; }
  // The first few malformed lines, with the reason.
  const std::vector<malformed_line>& first_malformed() const { return first_malformed_; }
  // Records without any field diagnose knows (counted, not returned).
  std::uint64_t without_fields() const { return without_fields_; }
  // For a progress line: bytes of the (possibly compressed) file consumed, and its size (0 for
  // a pipe).
  std::uint64_t bytes_consumed() const;
  std::uint64_t size() const { return size_; }

  static constexpr std::size_t k_first_malformed = 5;
  static constexpr std::size_t k_max_line = 64 << 20;  // longer lines are malformed

 private:
  bool read_line(std::string_view& line);
  bool fill();
  void detect(std::string_view first_line);
  bool parse_json(std::string_view line, log_record& r);
  bool parse_csv(std::string_view line, log_record& r);
  // Splits one CSV record into csv_split_ (RFC 4180 quoting); false with `error` if malformed.
  bool split_csv(std::string_view line, std::string& error);
  void read_csv_header(std::string_view line);
  void reject(std::string reason);

  std::string path_;
  input_format format_;
  gzFile file_ = nullptr;
  std::uint64_t size_ = 0;
  bool eof_ = false;
  std::vector<char> buffer_;  // the line window, plus simdjson's padding after its end
  std::size_t begin_ = 0, end_ = 0;
  std::uint64_t line_ = 0;
  bool detected_ = false;
  std::uint64_t malformed_count_ = 0;
  std::vector<malformed_line> first_malformed_;
  std::uint64_t without_fields_ = 0;

  simdjson::dom::parser parser_;
  std::vector<std::optional<field>> csv_columns_;
  std::string csv_record_;  // a quoted record spanning several lines, joined
  std::string csv_values_;  // unquoted values of the current record
  std::vector<std::string_view> csv_split_;
};

}  // namespace albsim::diagnose
