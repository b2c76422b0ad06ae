// Typed, validated access to a YAML document that remembers where every value came from, so
// each failure becomes a config_error naming file, line and field (e.g. "listeners[0].port").
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "albsim/config_error.hpp"

namespace albsim {

class yaml_cursor {
 public:
  // Parses a file; a syntax error becomes a config_error with the line of the error.
  static yaml_cursor load_file(const std::string& path);
  // Parses text; `name` stands in for the file name in errors.
  static yaml_cursor load_string(const std::string& text, const std::string& name);

  yaml_cursor(std::shared_ptr<const std::string> file, YAML::Node node, std::string path);

  const std::string& file() const { return *file_; }
  const std::string& path() const { return path_; }  // "" for the document root
  int line() const;                                  // 1-based
  const YAML::Node& node() const { return node_; }

  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool is_null() const { return !node_ || node_.IsNull(); }

  bool has(std::string_view key) const;
  // A present child; throws when it is missing.
  yaml_cursor required(std::string_view key) const;
  // A child if present.
  std::optional<yaml_cursor> optional(std::string_view key) const;
  // Elements of a sequence (an error when this is not a sequence).
  std::vector<yaml_cursor> items() const;
  // Key/value pairs of a map, keys as strings.
  std::vector<std::pair<std::string, yaml_cursor>> entries() const;
  // Refuses keys not in `allowed` (catches typos) and requires this to be a map.
  void only_keys(std::initializer_list<std::string_view> allowed) const;

  std::string as_string() const;
  bool as_bool() const;
  std::int64_t as_int(std::int64_t min, std::int64_t max) const;
  double as_double(double min, double max) const;
  // "5s", "250ms", "1.5s", "2m", "100us" or a bare number of seconds.
  std::chrono::nanoseconds as_duration(std::chrono::nanoseconds min,
                                       std::chrono::nanoseconds max) const;
  // "32KiB", "10MiB", "1GiB", "50GB", "512" (bytes).
  std::uint64_t as_bytes(std::uint64_t min, std::uint64_t max) const;
  // One of the listed words.
  std::string as_enum(std::initializer_list<std::string_view> allowed) const;

  // Convenience: value of an optional child, or `fallback` when absent.
  std::string get_string(std::string_view key, std::string fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  std::chrono::nanoseconds get_duration(std::string_view key, std::chrono::nanoseconds fallback,
                                        std::chrono::nanoseconds min,
                                        std::chrono::nanoseconds max) const;
  std::uint64_t get_bytes(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                          std::uint64_t max) const;

  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string child_path(std::string_view key) const;
  std::string key_text(const YAML::Node& key) const;  // a map key; config_error unless scalar

  std::shared_ptr<const std::string> file_;
  YAML::Node node_;
  std::string path_;
  int fallback_line_ = 0;  // line of the parent, for a missing child
};

// Parsing helpers shared with the command line ("1.5s", "64KiB"); nullopt when malformed.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);
std::optional<std::uint64_t> parse_bytes(std::string_view text);
// Renders a duration the way inputs are written: "5s", "250ms", "1.5s".
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace albsim
