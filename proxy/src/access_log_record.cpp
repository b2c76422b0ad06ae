#include "access_log_record.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace albsim::proxy {
namespace {

// Bytes that go into a JSON string as they are.
constexpr std::array<bool, 256> k_plain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// Writes one record into a buffer sized for the worst case beforehand, so the request path
// renders with plain stores: no capacity checks and no allocation per field.
class writer {
 public:
  explicit writer(char* p) : p_(p) { *p_++ = '{'; }
  char* end() {
    *p_++ = '}';
    return p_;
  }

  template <std::size_t N>
  void str(const char (&key)[N], std::string_view value) {
    key_(key);
    escaped(value);
  }
  // A value albsim itself produced from a known alphabet (addresses, digits, catalogue IDs,
  // protocol names): nothing in it needs escaping, so it is copied as it is.
  template <std::size_t N>
  void trusted(const char (&key)[N], std::string_view value) {
    key_(key);
    *p_++ = '"';
    if (value.empty()) *p_++ = '-';
    put(value.data(), value.size());
    *p_++ = '"';
  }
  template <std::size_t N>
  void num(const char (&key)[N], std::uint64_t v) {
    key_(key);
    number(v);
  }
  // Fixed point with 0 or 3 decimals through integer formatting (these are durations: never
  // negative, never huge); an absent value is "-".
  template <std::size_t N>
  void fixed(const char (&key)[N], std::optional<double> v, int precision) {
    key_(key);
    if (!v) {
      put("\"-\"", 3);
      return;
    }
    double x = *v;
    if (!(x >= 0) || x > 1e12) x = 0;
    if (precision == 0) {
      number(static_cast<std::uint64_t>(x + 0.5));
      return;
    }
    const auto thousandths = static_cast<std::uint64_t>(x * 1000.0 + 0.5);
    number(thousandths / 1000);
    const auto frac = thousandths % 1000;
    *p_++ = '.';
    *p_++ = static_cast<char>('0' + frac / 100);
    *p_++ = static_cast<char>('0' + frac / 10 % 10);
    *p_++ = static_cast<char>('0' + frac % 10);
  }
  // "2026-11-25T09:00:05.004+00:00"; the part up to the second is formatted once per second
  // per thread.
  void time(std::chrono::system_clock::time_point t) {
    thread_local std::time_t cached_second = -1;
    thread_local char cached[64];  // room for any int the format could print
    thread_local std::size_t cached_len = 0;
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    if (tt != cached_second) {
      std::tm tm{};
      gmtime_r(&tt, &tm);
      int n =
          std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
      cached_len = n > 0 ? static_cast<std::size_t>(n) : 0;
      cached_second = tt;
    }
    key_("time");
    *p_++ = '"';
    put(cached, cached_len);
    const char frac[10] = {'.',
                           static_cast<char>('0' + ms / 100),
                           static_cast<char>('0' + ms / 10 % 10),
                           static_cast<char>('0' + ms % 10),
                           '+',
                           '0',
                           '0',
                           ':',
                           '0',
                           '0'};
    put(frac, sizeof frac);
    *p_++ = '"';
  }

  // The most bytes a string value can take: every byte escaped as \u00XX, quotes around.
  static constexpr std::size_t bound(std::string_view s) { return 6 * s.size() + 3; }

 private:
  template <std::size_t N>
  void key_(const char (&key)[N]) {
    if (!first_) *p_++ = ',';
    first_ = false;
    *p_++ = '"';
    std::memcpy(p_, key, N - 1);
    p_ += N - 1;
    *p_++ = '"';
    *p_++ = ':';
  }
  void put(const char* s, std::size_t n) {
    std::memcpy(p_, s, n);
    p_ += n;
  }
  void number(std::uint64_t v) { p_ = std::to_chars(p_, p_ + 20, v).ptr; }
  // True when one of the 8 bytes in `w` cannot go into a JSON string as it is: a control
  // byte, DEL, a byte over 0x7f, '"' or '\\'. Exact (bit tricks that never miss a byte).
  static bool needs_escape(std::uint64_t w) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    auto has_zero = [&](std::uint64_t v) { return (v - ones) & ~v & highs; };
    const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    return (below_space | (w & highs) | has_zero(w ^ (ones * 0x7f)) | has_zero(w ^ (ones * '"')) |
            has_zero(w ^ (ones * '\\'))) != 0;
  }
  void escape_one(unsigned char c) {
    *p_++ = '\\';
    switch (c) {
      case '"':
        *p_++ = '"';
        break;
      case '\\':
        *p_++ = '\\';
        break;
      case '\n':
        *p_++ = 'n';
        break;
      case '\r':
        *p_++ = 'r';
        break;
      case '\t':
        *p_++ = 't';
        break;
      default: {
        // Keep the line valid JSON whatever bytes the client sent.
        static constexpr char hex[] = "0123456789abcdef";
        const char u[5] = {'u', '0', '0', hex[c >> 4], hex[c & 15]};
        put(u, 5);
      }
    }
  }
  // A JSON string; an empty value is "-". Most values need no escaping at all, so the check
  // goes a word at a time (short values are padded into one word, and the last, partial word
  // of a long one is checked as the value's final 8 bytes); only a word with an awkward byte
  // goes byte by byte.
  void escaped(std::string_view s) {
    *p_++ = '"';
    const char* in = s.data();
    const std::size_t n = s.size();
    if (n == 0) {
      *p_++ = '-';
    } else if (n < 8) {
      std::uint64_t w = 0x2020202020202020ULL;  // spaces: plain
      std::memcpy(&w, in, n);
      if (needs_escape(w)) {
        bytes(in, in + n);
      } else {
        put(in, n);
      }
    } else {
      std::size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, in + i, 8);
        if (needs_escape(w)) break;
        std::memcpy(p_, in + i, 8);
        p_ += 8;
      }
      if (i < n) {
        std::uint64_t last;
        std::memcpy(&last, in + n - 8, 8);
        if (i + 8 > n && !needs_escape(last)) {
          put(in + i, n - i);
        } else {
          bytes(in + i, in + n);
        }
      }
    }
    *p_++ = '"';
  }
  void bytes(const char* in, const char* end) {
    for (; in < end; ++in) {
      const auto c = static_cast<unsigned char>(*in);
      if (k_plain[c]) {
        *p_++ = static_cast<char>(c);
      } else {
        escape_one(c);
      }
    }
  }

  char* p_;
  bool first_ = true;
};

// Everything but the string values: field names, punctuation, numbers and the time stamp.
constexpr std::size_t k_fixed_bound = 2048;

}  // namespace

std::string_view access_log_record::render_view() const {
  const std::string_view strings[] = {app_lb_id,
                                      vip_addr,
                                      client_ip,
                                      server_protocol,
                                      request_method,
                                      request_uri,
                                      host,
                                      host,
                                      http_referer,
                                      http_user_agent,
                                      http_x_forwarded_for,
                                      http_x_real_ip,
                                      upstream_status,
                                      upstream_addr,
                                      ssl_protocol,
                                      ssl_cipher,
                                      sim_cause,
                                      sim_detail};
  std::size_t bound = k_fixed_bound;
  for (auto s : strings) bound += writer::bound(s);
  // One buffer per thread, grown to the largest record seen (never zero-filled).
  thread_local std::unique_ptr<char[]> buffer;
  thread_local std::size_t capacity = 0;
  if (bound > capacity) {
    capacity = std::max(bound, 2 * capacity);
    buffer = std::make_unique_for_overwrite<char[]>(capacity);
  }
  writer w(buffer.get());
  w.trusted("__topic__", "alb_layer7_access_log");
  w.time(time);
  w.str("app_lb_id", app_lb_id);
  w.trusted("vip_addr", vip_addr);
  w.num("slb_vport", slb_vport);
  w.trusted("client_ip", client_ip);
  w.num("client_port", client_port);
  w.trusted("scheme", https ? "HTTPS" : "HTTP");
  w.trusted("server_protocol", server_protocol);
  w.str("request_method", request_method);
  w.str("request_uri", request_uri);
  w.str("host", host);
  w.str("http_host", host);
  w.str("http_referer", http_referer);
  w.str("http_user_agent", http_user_agent);
  w.str("http_x_forwarded_for", http_x_forwarded_for);
  w.str("http_x_real_ip", http_x_real_ip);
  w.num("request_length", request_length);
  w.num("status", static_cast<std::uint64_t>(status < 0 ? 0 : status));
  w.trusted("upstream_status", upstream_status);
  w.str("upstream_addr", upstream_addr);
  w.fixed("request_time", request_time, 3);
  w.fixed("read_request_time", read_request_time, 0);
  w.fixed("write_response_time", write_response_time, 0);
  w.fixed("upstream_connect_time", upstream_connect_time, 3);
  w.fixed("upstream_response_time", upstream_response_time, 3);
  w.num("body_bytes_sent", body_bytes_sent);
  if (tcpinfo_rtt)
    w.num("tcpinfo_rtt", *tcpinfo_rtt);
  else
    w.trusted("tcpinfo_rtt", "");
  w.trusted("ssl_protocol", ssl_protocol);
  w.trusted("ssl_cipher", ssl_cipher);
  w.trusted("sim_cause", sim_cause);
  w.str("sim_detail", sim_detail);
  char* end = w.end();
  return {buffer.get(), static_cast<std::size_t>(end - buffer.get())};
}

std::string access_log_record::render() const { return std::string(render_view()); }

}  // namespace albsim::proxy
