#include "albsim/diagnose/log_record.hpp"

#include "albsim/access_log_fields.hpp"

#include <charconv>
#include <cstring>

namespace albsim::diagnose {
namespace {

constexpr std::array<std::string_view, k_field_count> k_names{
    "time",
    "__time__",
    "client_ip",
    "client_port",
    "vip_addr",
    "slb_vport",
    "app_lb_id",
    "scheme",
    "server_protocol",
    "request_method",
    "request_uri",
    "host",
    "http_host",
    "http_x_forwarded_for",
    "http_user_agent",
    "request_length",
    "status",
    "upstream_status",
    "upstream_addr",
    "request_time",
    "read_request_time",
    "write_response_time",
    "upstream_connect_time",
    "upstream_response_time",
    "body_bytes_sent",
    "tcpinfo_rtt",
    "ssl_protocol",
    "sim_cause",
    "sim_detail",
};
// Every name is one albsim writes, but for the log service's own receive time.
static_assert(std::all_of(k_names.begin(), k_names.end(), [](std::string_view n) {
  return n == "__time__" || is_access_log_field(n);
}));

// Key lookup runs for every key of every record: a small hash of length and three bytes picks
// a slot, one comparison confirms. Built once; two names per slot at most (checked at start).
constexpr std::size_t k_slots = 1024;
std::size_t slot_of(std::string_view k) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(k[i]); };
  return (k.size() * 131 + b(0) * 31 + b(k.size() - 1) * 7 + b(k.size() / 2) * 3 +
          b(k.size() * 3 / 4)) %
         k_slots;
}
struct name_slots {
  std::array<std::array<std::uint8_t, 2>, k_slots> ids;
  name_slots() {
    for (auto& s : ids) s = {0xff, 0xff};
    for (std::size_t i = 0; i < k_names.size(); ++i) {
      auto& s = ids[slot_of(k_names[i])];
      if (s[0] == 0xff)
        s[0] = static_cast<std::uint8_t>(i);
      else
        s[1] = static_cast<std::uint8_t>(i);  // a third name in a slot would fail the unit test
    }
  }
};
const name_slots k_slots_table;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
long days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::string_view field_name(field f) { return k_names[static_cast<std::size_t>(f)]; }

std::optional<field> field_from_name(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (auto id : k_slots_table.ids[slot_of(name)]) {
    if (id != 0xff && k_names[id] == name) return static_cast<field>(id);
  }
  return std::nullopt;
}

std::string_view field_unit(field f) {
  switch (f) {
    case field::request_time:
    case field::upstream_connect_time:
    case field::upstream_response_time:
      return "s";
    case field::read_request_time:
    case field::write_response_time:
      return "ms";
    case field::tcpinfo_rtt:
      return "µs";
    case field::request_length:
    case field::body_bytes_sent:
      return "bytes";
    default:
      return "";
  }
}

std::string_view log_record::text(field f) const {
  if (!has(f)) return {};
  if (!numeric_.test(index(f))) return values_[index(f)];
  auto& out = formatted_[index(f)];
  const double v = numbers_[index(f)];
  // Integers as integers, anything else with up to 6 significant decimals.
  auto [p, ec] = v == static_cast<double>(static_cast<long long>(v)) && v > -1e15 && v < 1e15
                     ? std::to_chars(out.data(), out.data() + out.size(), static_cast<long long>(v))
                     : std::to_chars(out.data(), out.data() + out.size(), v);
  return {out.data(), ec == std::errc{} ? static_cast<std::size_t>(p - out.data()) : 0};
}

std::optional<double> log_record::number(field f) const {
  if (!has(f)) return std::nullopt;
  if (numeric_.test(index(f))) return numbers_[index(f)];
  auto s = trim(values_[index(f)]);
  // A list such as "0.001, 0.002" (a retried upstream) counts by its last element.
  if (auto comma = s.rfind(','); comma != std::string_view::npos) s = trim(s.substr(comma + 1));
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

int log_record::status() const {
  if (status_ < 0) {
    auto v = number(field::status);
    status_ = v && *v >= 0 && *v < 1000 ? static_cast<int>(*v) : 0;
  }
  return status_;
}

int log_record::upstream_status() const {
  if (upstream_status_ < 0) {
    auto v = number(field::upstream_status);
    upstream_status_ = v && *v >= 0 && *v < 1000 ? static_cast<int>(*v) : 0;
  }
  return upstream_status_;
}

std::optional<double> log_record::epoch_seconds() const {
  if (has(field::time)) {
    if (auto t = parse_time(text(field::time))) return t;
  }
  return number(field::log_time);
}

std::optional<double> parse_time(std::string_view s) {
  s = trim(s);
  if (s.size() < 19 || s[4] != '-') {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc{} && p == s.data() + s.size() && !s.empty()) return v;
    return std::nullopt;
  }
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s[7] != '-' || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) ||
      (s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se) || mo < 1 || mo > 12 ||
      d < 1 || d > 31)
    return std::nullopt;
  double t = static_cast<double>(days_from_civil(y, mo, d)) * 86400.0 + h * 3600.0 + mi * 60.0 + se;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10)
      t += (s[i] - '0') * scale;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh)) return std::nullopt;
    std::size_t m = i + 3;
    if (m < s.size() && s[m] == ':') ++m;
    if (m < s.size() && !digits(s, m, 2, om)) return std::nullopt;
    const double offset = oh * 3600.0 + om * 60.0;
    t += s[i] == '+' ? -offset : offset;  // local time minus its offset is UTC
  }
  return t;
}

}  // namespace albsim::diagnose
