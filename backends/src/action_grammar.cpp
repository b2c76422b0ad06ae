#include "action_grammar.hpp"

#include <cctype>

#include <array>
#include <charconv>
#include <utility>

#include "albsim/yaml_cursor.hpp"

namespace albsim::backend {
namespace {

constexpr std::array<std::pair<std::string_view, action_kind>, 9> k_kind_words{{
    {"respond", action_kind::respond},
    {"close", action_kind::close},
    {"reset", action_kind::reset},
    {"malformed-status", action_kind::malformed_status},
    {"malformed-header", action_kind::malformed_header},
    {"partial-header", action_kind::partial_header},
    {"partial-body", action_kind::partial_body},
    {"hang", action_kind::hang},
    {"stop-reading", action_kind::stop_reading},
}};

// The header's sizes and durations obey the same bounds as a script's (k_max_size,
// k_max_duration); past them a value is as wrong as a malformed one.
std::optional<std::uint64_t> bounded_bytes(std::string_view text) {
  auto b = parse_bytes(text);
  if (b && *b > k_max_size) return std::nullopt;
  return b;
}

std::optional<std::chrono::nanoseconds> bounded_duration(std::string_view text) {
  auto d = parse_duration(text);
  if (d && *d > k_max_duration) return std::nullopt;
  return d;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string header_field_problem(std::string_view name, std::string_view value) {
  static constexpr std::string_view token_extra = "!#$%&'*+-.^_`|~";
  if (name.empty()) return "a header name must not be empty";
  for (unsigned char c : name) {
    if (!std::isalnum(c) && token_extra.find(static_cast<char>(c)) == std::string_view::npos) {
      return "header name '" + std::string(name) + "' is not a token";
    }
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return "header " + std::string(name) + " has a CR, LF or NUL in its value";
  }
  return "";
}

namespace {

// Parses one `key[=value]` item of the override header into `out`.
std::string apply_item(std::string_view key, std::optional<std::string_view> value,
                       backend_action& out, bool& kind_seen) {
  auto need_value = [&](std::string_view what) -> std::string {
    return value ? "" : std::string(key) + " needs a value (" + std::string(what) + ")";
  };
  if (key == "status") {
    if (auto e = need_value("status=503"); !e.empty()) return e;
    int status = 0;
    auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), status);
    if (ec != std::errc() || p != value->data() + value->size() || status < 100 || status > 599) {
      return "status must be a number from 100 to 599, got '" + std::string(*value) + "'";
    }
    out.status = status;
    return "";
  }
  if (key == "delay") {
    if (auto e = need_value("delay=1.5s"); !e.empty()) return e;
    auto d = bounded_duration(*value);
    if (!d)
      return "delay must be a duration such as 2s or 250ms (at most 24h), got '" +
             std::string(*value) + "'";
    out.delay = *d;
    return "";
  }
  if (key == "bytes") {
    if (auto e = need_value("bytes=64KiB"); !e.empty()) return e;
    auto b = bounded_bytes(*value);
    if (!b)
      return "bytes must be a size such as 512 or 64KiB (at most 1 PiB), got '" +
             std::string(*value) + "'";
    out.body_bytes = *b;
    return "";
  }
  if (key == "body") {
    out.body = std::string(value.value_or(""));
    return "";
  }
  if (key == "header") {
    if (auto e = need_value("header=Name:value"); !e.empty()) return e;
    auto colon = value->find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return "header must be Name:value, got '" + std::string(*value) + "'";
    }
    auto name = trim(value->substr(0, colon));
    auto text = trim(value->substr(colon + 1));
    if (auto problem = header_field_problem(name, text); !problem.empty()) return problem;
    out.headers.emplace_back(std::string(name), std::string(text));
    return "";
  }
  if (key == "drip") {
    if (auto e = need_value("drip=10/100ms or drip=1KiB/s"); !e.empty()) return e;
    auto slash = value->find('/');
    if (slash == std::string_view::npos) return "drip must be CHUNK/INTERVAL or RATE/s";
    auto amount = bounded_bytes(trim(value->substr(0, slash)));
    auto per = trim(value->substr(slash + 1));
    if (!amount || *amount == 0) return "drip amount must be a size above 0";
    if (per == "s") {
      out.drip = drip_from_rate(*amount);
      return "";
    }
    auto interval = bounded_duration(per);
    if (!interval) return "drip interval must be a duration, got '" + std::string(per) + "'";
    out.drip = drip_options{*amount, *interval};
    return "";
  }
  auto kind = parse_action_kind(key);
  if (!kind) return "unknown item '" + std::string(key) + "'";
  if (kind_seen) return "more than one action word";
  kind_seen = true;
  out.kind = *kind;
  if (!value) return "";
  switch (*kind) {
    case action_kind::reset:
    case action_kind::partial_header:
    case action_kind::partial_body: {
      auto b = bounded_bytes(*value);
      if (!b) return std::string(key) + "=N needs a byte count, got '" + std::string(*value) + "'";
      out.after_bytes = *b;
      return "";
    }
    case action_kind::hang:
    case action_kind::stop_reading: {
      auto d = bounded_duration(*value);
      if (!d) return std::string(key) + "=D needs a duration, got '" + std::string(*value) + "'";
      out.hold = *d;
      return "";
    }
    default:
      return std::string(key) + " takes no value";
  }
}

}  // namespace

std::optional<action_kind> parse_action_kind(std::string_view word) {
  for (const auto& [w, k] : k_kind_words) {
    if (w == word) return k;
  }
  return std::nullopt;
}

const char* to_string(action_kind k) {
  for (const auto& [w, kind] : k_kind_words) {
    if (kind == k) return w.data();
  }
  return "?";
}

drip_options drip_from_rate(std::uint64_t bytes_per_s) {
  using namespace std::chrono;
  if (bytes_per_s < 10) return drip_options{1, nanoseconds(seconds(1)) / bytes_per_s};
  return drip_options{bytes_per_s / 10, milliseconds(100)};
}

std::string parse_override(std::string_view text, backend_action& out) {
  bool kind_seen = false;
  while (!text.empty()) {
    auto comma = text.find_first_of(",;");
    std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string_view key = trim(item.substr(0, eq));
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = trim(item.substr(eq + 1));
    if (auto error = apply_item(key, value, out, kind_seen); !error.empty()) {
      return "X-Albsim-Backend: " + error;
    }
  }
  return "";
}

}  // namespace albsim::backend
