#include "albsim/yaml_cursor.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

namespace albsim {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Splits "1.5ms" into 1.5 and "ms"; false when the number part is missing or malformed.
bool split_number(std::string_view text, double& number, std::string& unit) {
  std::string s = trim(text);
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  try {
    std::size_t used = 0;
    number = std::stod(s.substr(0, i), &used);
    if (used != i) return false;
  } catch (...) {
    return false;
  }
  unit = trim(std::string_view(s).substr(i));
  return std::isfinite(number) && number >= 0;
}

std::string describe(std::chrono::nanoseconds d) { return format_duration(d); }

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "m" || unit == "min")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else
    return std::nullopt;
  double ns = n * scale;
  if (ns > 1e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = 1024.0;
  else if (unit == "MiB")
    scale = 1024.0 * 1024;
  else if (unit == "GiB")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "KB" || unit == "kB")
    scale = 1e3;
  else if (unit == "MB")
    scale = 1e6;
  else if (unit == "GB")
    scale = 1e9;
  else
    return std::nullopt;
  double v = std::round(n * scale);
  // 2^64 and above do not fit (llround would stop at 2^63 and give an unspecified value).
  if (v >= 18446744073709551616.0) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::string format_duration(std::chrono::nanoseconds d) {
  auto ns = d.count();
  std::ostringstream out;
  if (ns == 0) return "0s";
  if (ns % 1'000'000'000 == 0)
    out << ns / 1'000'000'000 << "s";
  else if (ns % 1'000'000 == 0 && ns < 1'000'000'000)
    out << ns / 1'000'000 << "ms";
  else if (ns >= 1'000'000'000)
    out << static_cast<double>(ns) / 1e9 << "s";
  else if (ns % 1000 == 0)
    out << ns / 1000 << "us";
  else
    out << ns << "ns";
  return out.str();
}

yaml_cursor yaml_cursor::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config_error(path, 0, "", "cannot open the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return load_string(ss.str(), path);
}

yaml_cursor yaml_cursor::load_string(const std::string& text, const std::string& name) {
  auto file = std::make_shared<const std::string>(name);
  try {
    YAML::Node root = YAML::Load(text);
    return yaml_cursor(file, root, "");
  } catch (const YAML::Exception& e) {
    throw config_error(name, e.mark.is_null() ? 0 : e.mark.line + 1, "",
                       "not valid YAML: " + e.msg);
  }
}

yaml_cursor::yaml_cursor(std::shared_ptr<const std::string> file, YAML::Node node, std::string path)
    : file_(std::move(file)), node_(std::move(node)), path_(std::move(path)) {}

int yaml_cursor::line() const {
  if (node_ && !node_.Mark().is_null()) return node_.Mark().line + 1;
  return fallback_line_;
}

std::string yaml_cursor::child_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

std::string yaml_cursor::key_text(const YAML::Node& key) const {
  // YAML allows a map or a list as a key ("? [a, b]: x"); no albsim file uses one, and yaml-cpp
  // would throw its own exception converting it to text.
  if (!key.IsScalar()) {
    int l = key.Mark().is_null() ? line() : key.Mark().line + 1;
    throw config_error(*file_, l, path_, "a key must be a plain word, not a map or a list");
  }
  return key.Scalar();
}

void yaml_cursor::fail(const std::string& message) const {
  throw config_error(*file_, line(), path_, message);
}

bool yaml_cursor::has(std::string_view key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node& n = node_;
  return static_cast<bool>(n[std::string(key)]);
}

yaml_cursor yaml_cursor::required(std::string_view key) const {
  if (!node_.IsMap()) fail("expected a map with the key '" + std::string(key) + "'");
  const YAML::Node& n = node_;
  YAML::Node child = n[std::string(key)];
  if (!child) {
    throw config_error(*file_, line(), child_path(key), "is required but missing");
  }
  return yaml_cursor(file_, child, child_path(key));
}

std::optional<yaml_cursor> yaml_cursor::optional(std::string_view key) const {
  if (is_null()) return std::nullopt;
  if (!node_.IsMap()) fail("expected a map");
  const YAML::Node& n = node_;
  YAML::Node child = n[std::string(key)];
  if (!child || child.IsNull()) return std::nullopt;
  return yaml_cursor(file_, child, child_path(key));
}

std::vector<yaml_cursor> yaml_cursor::items() const {
  std::vector<yaml_cursor> out;
  if (is_null()) return out;
  if (!node_.IsSequence()) fail("expected a list");
  for (std::size_t i = 0; i < node_.size(); ++i) {
    out.emplace_back(file_, node_[i], path_ + "[" + std::to_string(i) + "]");
    out.back().fallback_line_ = line();
  }
  return out;
}

std::vector<std::pair<std::string, yaml_cursor>> yaml_cursor::entries() const {
  std::vector<std::pair<std::string, yaml_cursor>> out;
  if (is_null()) return out;
  if (!node_.IsMap()) fail("expected a map");
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = key_text(it->first);
    out.emplace_back(key, yaml_cursor(file_, it->second, child_path(key)));
  }
  return out;
}

void yaml_cursor::only_keys(std::initializer_list<std::string_view> allowed) const {
  if (is_null()) return;
  if (!node_.IsMap()) fail("expected a map");
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = key_text(it->first);
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      int l = it->first.Mark().is_null() ? line() : it->first.Mark().line + 1;
      throw config_error(*file_, l, child_path(key), "unknown field (allowed: " + list + ")");
    }
  }
}

std::string yaml_cursor::as_string() const {
  if (!node_.IsScalar()) fail("expected a single value");
  return node_.Scalar();
}

bool yaml_cursor::as_bool() const {
  std::string s = as_string();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail("expected true or false, got '" + s + "'");
}

std::int64_t yaml_cursor::as_int(std::int64_t min, std::int64_t max) const {
  std::string s = as_string();
  std::int64_t v = 0;
  try {
    std::size_t used = 0;
    v = std::stoll(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
  } catch (...) {
    fail("expected a whole number, got '" + s + "'");
  }
  if (v < min || v > max) {
    fail("value " + s + " is out of range (allowed " + std::to_string(min) + " to " +
         std::to_string(max) + ")");
  }
  return v;
}

double yaml_cursor::as_double(double min, double max) const {
  std::string s = as_string();
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
  } catch (...) {
    fail("expected a number, got '" + s + "'");
  }
  if (!(v >= min && v <= max)) {
    std::ostringstream r;
    r << "value " << s << " is out of range (allowed " << min << " to " << max << ")";
    fail(r.str());
  }
  return v;
}

std::chrono::nanoseconds yaml_cursor::as_duration(std::chrono::nanoseconds min,
                                                  std::chrono::nanoseconds max) const {
  std::string s = as_string();
  auto d = parse_duration(s);
  if (!d) fail("expected a duration such as 5s, 250ms or 1.5s, got '" + s + "'");
  if (*d < min || *d > max) {
    fail("duration " + s + " is out of range (allowed " + describe(min) + " to " + describe(max) +
         ")");
  }
  return *d;
}

std::uint64_t yaml_cursor::as_bytes(std::uint64_t min, std::uint64_t max) const {
  std::string s = as_string();
  auto b = parse_bytes(s);
  if (!b) fail("expected a size such as 512, 32KiB or 10MiB, got '" + s + "'");
  if (*b < min || *b > max) {
    fail("size " + s + " is out of range (allowed " + std::to_string(min) + " to " +
         std::to_string(max) + " bytes)");
  }
  return *b;
}

std::string yaml_cursor::as_enum(std::initializer_list<std::string_view> allowed) const {
  std::string s = as_string();
  std::string list;
  for (auto a : allowed) {
    if (a == s) return s;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  fail("unknown value '" + s + "' (allowed: " + list + ")");
}

std::string yaml_cursor::get_string(std::string_view key, std::string fallback) const {
  auto c = optional(key);
  return c ? c->as_string() : fallback;
}

bool yaml_cursor::get_bool(std::string_view key, bool fallback) const {
  auto c = optional(key);
  return c ? c->as_bool() : fallback;
}

std::int64_t yaml_cursor::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) const {
  auto c = optional(key);
  return c ? c->as_int(min, max) : fallback;
}

std::chrono::nanoseconds yaml_cursor::get_duration(std::string_view key,
                                                   std::chrono::nanoseconds fallback,
                                                   std::chrono::nanoseconds min,
                                                   std::chrono::nanoseconds max) const {
  auto c = optional(key);
  return c ? c->as_duration(min, max) : fallback;
}

std::uint64_t yaml_cursor::get_bytes(std::string_view key, std::uint64_t fallback,
                                     std::uint64_t min, std::uint64_t max) const {
  auto c = optional(key);
  return c ? c->as_bytes(min, max) : fallback;
}

}  // namespace albsim
