#include "access_log_record.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace albsim::proxy {
namespace {

// Appends `s` as a JSON string; runs of plain characters are copied at once (this is on the
// request path, so no per-character push_back).
// Bytes that go into a JSON string as they are.
constexpr std::array<bool, 256> k_plain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  if (s.empty()) {
    out += '-';
  } else {
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (k_plain[c]) continue;
      out.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default: {
          // Keep the line valid JSON whatever bytes the client sent.
          static constexpr char hex[] = "0123456789abcdef";
          char buf[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          out.append(buf, 6);
        }
      }
    }
    out.append(s.data() + run, s.size() - run);
  }
  out += '"';
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Fixed-point with 0 or 3 decimals through integer formatting (far cheaper than a floating
// point conversion, and these are durations: never negative, never huge).
void append_fixed(std::string& out, double v, int precision) {
  if (!(v >= 0) || v > 1e12) v = 0;
  if (precision == 0) {
    append_number(out, static_cast<std::uint64_t>(v + 0.5));
    return;
  }
  const auto thousandths = static_cast<std::uint64_t>(v * 1000.0 + 0.5);
  append_number(out, thousandths / 1000);
  const auto frac = thousandths % 1000;
  char buf[4] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                 static_cast<char>('0' + frac % 10)};
  out.append(buf, 4);
}

class writer {
 public:
  explicit writer(std::string& out) : out_(out) { out_ += '{'; }
  void str(std::string_view key, std::string_view value) {
    key_(key);
    append_escaped(out_, value);
  }
  void num(std::string_view key, std::uint64_t v) {
    key_(key);
    append_number(out_, v);
  }
  void seconds(std::string_view key, std::optional<double> v, int precision = 3) {
    key_(key);
    if (!v) {
      out_ += "\"-\"";
      return;
    }
    append_fixed(out_, *v, precision);
  }
  void end() { out_ += '}'; }

 private:
  void key_(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  std::string& out_;
  bool first_ = true;
};

// "2026-11-25T09:00:05.004+00:00"; the part up to the second is formatted once per second
// per thread.
std::string iso_time(std::chrono::system_clock::time_point t) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[64];  // room for any int the format could print
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  if (tt != cached_second) {
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = tt;
  }
  std::string out(cached);
  char frac[12] = {'.',
                   static_cast<char>('0' + ms / 100),
                   static_cast<char>('0' + ms / 10 % 10),
                   static_cast<char>('0' + ms % 10),
                   '+',
                   '0',
                   '0',
                   ':',
                   '0',
                   '0'};
  out.append(frac, 10);
  return out;
}

}  // namespace

std::string access_log_record::render() const {
  std::string out;
  out.reserve(900);
  writer w(out);
  w.str("__topic__", "alb_layer7_access_log");
  w.str("time", iso_time(time));
  w.str("app_lb_id", app_lb_id);
  w.str("vip_addr", vip_addr);
  w.num("slb_vport", slb_vport);
  w.str("client_ip", client_ip);
  w.num("client_port", client_port);
  w.str("scheme", https ? "HTTPS" : "HTTP");
  w.str("server_protocol", server_protocol);
  w.str("request_method", request_method);
  w.str("request_uri", request_uri);
  w.str("host", host);
  w.str("http_host", host);
  w.str("http_referer", http_referer);
  w.str("http_user_agent", http_user_agent);
  w.str("http_x_forwarded_for", http_x_forwarded_for);
  w.str("http_x_real_ip", http_x_real_ip);
  w.num("request_length", request_length);
  w.num("status", static_cast<std::uint64_t>(status));
  w.str("upstream_status", upstream_status);
  w.str("upstream_addr", upstream_addr);
  w.seconds("request_time", request_time);
  w.seconds("read_request_time", read_request_time, 0);
  w.seconds("write_response_time", write_response_time, 0);
  w.seconds("upstream_connect_time", upstream_connect_time);
  w.seconds("upstream_response_time", upstream_response_time);
  w.num("body_bytes_sent", body_bytes_sent);
  if (tcpinfo_rtt)
    w.num("tcpinfo_rtt", *tcpinfo_rtt);
  else
    w.str("tcpinfo_rtt", "");
  w.str("ssl_protocol", ssl_protocol);
  w.str("ssl_cipher", ssl_cipher);
  w.str("sim_cause", sim_cause);
  w.str("sim_detail", sim_detail);
  w.end();
  return out;
}

}  // namespace albsim::proxy
