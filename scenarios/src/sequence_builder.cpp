#include "sequence_builder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "albsim/proxy/config.hpp"

namespace albsim::scenarios {
namespace {

using std::chrono::duration;

std::string text_of(const nlohmann::json& record, const char* key) {
  auto it = record.find(key);
  if (it == record.end()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// A timing field of the record in seconds; nullopt for "-" or a missing field.
std::optional<double> seconds_of(const nlohmann::json& record, const char* key) {
  auto it = record.find(key);
  if (it == record.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// Whether a measured duration is the configured timer: within 5 % and the record's
// millisecond resolution plus scheduling slack.
bool matches_timer(double measured, double timer_s) {
  return std::fabs(measured - timer_s) <= 0.05 * timer_s + 0.03;
}

sequence_event from_journal(const backend::wire_event& e, double at) {
  const char* source = "backend journal";
  switch (e.kind) {
    case backend::wire_event_kind::accepted:
      return {at, lane::balancer, lane::backend, "connect", "handshake", source};
    case backend::wire_event_kind::request:
    case backend::wire_event_kind::health_check:
      return {at, lane::balancer, lane::backend, "request", e.detail, source};
    case backend::wire_event_kind::response:
      return {at, lane::backend, lane::balancer, "response", e.detail, source};
    case backend::wire_event_kind::fin:
      return {at, lane::backend, lane::balancer, "fin", "the backend closes", source};
    case backend::wire_event_kind::reset:
      return {at,
              lane::backend,
              lane::balancer,
              "rst",
              e.detail.empty() ? "the backend aborts the connection" : e.detail,
              source};
    case backend::wire_event_kind::peer_closed:
      return {at, lane::balancer, lane::backend, "fin", "the balancer closes", source};
  }
  return {};
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_record_time(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

std::optional<sequence_builder::record_times> sequence_builder::times_of(
    const nlohmann::json& record, const std::vector<sequence_event>& client) const {
  auto t = parse_record_time(text_of(record, "time"));
  if (!t) return std::nullopt;
  record_times out;
  out.first_byte = duration<double>(*t - origin_sys_).count();
  // The record's time stamp is coarse (milliseconds, from a cached clock); on loopback the
  // balancer sees the first byte when the client's socket sent it, which was measured finely.
  auto sent = std::find_if(client.begin(), client.end(),
                           [](const sequence_event& e) { return e.kind == "request"; });
  if (sent != client.end() && std::fabs(sent->at - out.first_byte) < 0.05)
    out.first_byte = sent->at;
  out.opened = out.first_byte - 0.002;  // the record's truncation
  // Earlier exchanges (warm-ups) were over before the client connected for this one.
  for (const auto& e : client) {
    if (e.kind == "connect" && e.at <= out.first_byte) out.opened = e.at;
  }
  out.concluded = out.first_byte + seconds_of(record, "request_time").value_or(0);
  out.logged = out.concluded;
  // The record is written as the answer leaves: not before the client received it.
  for (const auto& e : client) {
    if (e.kind == "response" && e.at > out.logged && e.at - out.logged < 0.05) out.logged = e.at;
  }
  return out;
}

std::vector<sequence_event> sequence_builder::build(
    const std::vector<sequence_event>& client, const nlohmann::json* record,
    const std::vector<observed_backend>& backends,
    std::optional<std::uint64_t> syn_retransmits) const {
  std::vector<sequence_event> out = client;
  std::optional<record_times> t;
  if (record) t = times_of(*record, client);
  if (t) {
    if (client.empty()) {
      // A burst: this exchange's client side is known from its record alone.
      out.push_back(
          {t->first_byte, lane::client, lane::balancer, "request",
           text_of(*record, "request_method") + " " + text_of(*record, "request_uri").substr(0, 40),
           "access log (time)"});
      out.push_back(
          {t->logged, lane::balancer, lane::client, "response",
           text_of(*record, "status") + ", " + text_of(*record, "body_bytes_sent") + " body bytes",
           "access log (time, request_time)"});
    }
    add_backend_side(*record, *t, backends, syn_retransmits, out);
    add_timers(*record, *t, out);
    out.push_back({t->logged, lane::balancer, lane::balancer, "log",
                   "record: status " + text_of(*record, "status") + ", upstream_status " +
                       text_of(*record, "upstream_status"),
                   "access log"});
  }
  // Events at the same instant (placed from the record) keep the order they were added in.
  std::stable_sort(out.begin(), out.end(),
                   [](const sequence_event& a, const sequence_event& b) { return a.at < b.at; });
  return out;
}

void sequence_builder::add_backend_side(const nlohmann::json& record, const record_times& t,
                                        const std::vector<observed_backend>& backends,
                                        std::optional<std::uint64_t> syn_retransmits,
                                        std::vector<sequence_event>& out) const {
  // No upstream_addr: the balancer answered without choosing a server, nothing went upstream.
  std::string addr = text_of(record, "upstream_addr");
  auto colon = addr.rfind(':');
  if (addr == "-" || colon == std::string::npos) return;
  auto b = std::find_if(backends.begin(), backends.end(), [&](const observed_backend& ob) {
    return std::to_string(ob.port) == addr.substr(colon + 1);
  });
  if (b == backends.end()) return;

  auto rel = [&](const backend::wire_event& e) { return duration<double>(e.at - origin_).count(); };
  // The exchange's upstream connection: the first one, not a health check's, with an event
  // between the request's first byte and shortly after the record (the record's time stamp
  // is truncated to the millisecond; the balancer closes an upstream just after logging).
  const double from = t.opened, to = t.logged + 0.05;
  auto health = [&](std::uint64_t c) {
    return std::any_of(b->events.begin(), b->events.end(), [&](const backend::wire_event& e) {
      return e.connection == c && e.kind == backend::wire_event_kind::health_check;
    });
  };
  std::optional<std::uint64_t> connection;
  for (const auto& e : b->events) {
    if (rel(e) >= from && rel(e) <= to && !health(e.connection)) {
      connection = e.connection;
      break;
    }
  }
  if (connection) {
    for (const auto& e : b->events) {
      if (e.connection == *connection && rel(e) >= from && rel(e) <= to)
        out.push_back(from_journal(e, rel(e)));
    }
    return;
  }
  // The backend never accepted: the handshake failed. Where it started follows from the
  // record (the balancer concluded upstream_connect_time after it sent the SYN).
  double start =
      std::max(t.first_byte, t.concluded - seconds_of(record, "upstream_connect_time").value_or(0));
  switch (b->mode) {
    case backend::transport_mode::refuse:
      out.push_back({start, lane::balancer, lane::backend, "syn", "handshake attempt",
                     "access log (upstream_connect_time)"});
      out.push_back({start, lane::backend, lane::balancer, "refused",
                     "nothing listens on the port: refused",
                     "the backend's kernel (mode refuse: bound, not listening)"});
      break;
    case backend::transport_mode::queue_full_silent: {
      out.push_back({start, lane::balancer, lane::backend, "syn", "dropped: accept queue full",
                     "access log (upstream_connect_time); mode queue-full-silent"});
      // Linux retransmits an unanswered SYN after 1 s, then doubles the wait (1, 3, 7 s...).
      std::uint64_t shown = 0;
      double after = 1;
      for (double wait = 1; syn_retransmits && shown < *syn_retransmits && start + after < t.logged;
           wait *= 2, after += wait, ++shown) {
        out.push_back({start + after, lane::balancer, lane::backend, "syn-retransmit",
                       "retransmitted by the kernel, dropped",
                       "kernel counter TCPSynRetrans +" + std::to_string(*syn_retransmits) +
                           " (system-wide); times from the kernel's 1 s doubling schedule"});
      }
      break;
    }
    case backend::transport_mode::normal:
    case backend::transport_mode::queue_full_reset:
      out.push_back({start, lane::balancer, lane::backend, "syn", "no handshake observed",
                     "access log (upstream_connect_time)"});
      break;
  }
}

void sequence_builder::add_timers(const nlohmann::json& record, const record_times& t,
                                  std::vector<sequence_event>& out) const {
  double connect_timeout =
      duration<double>(scenario_.proxy.limits.upstream_connect_timeout).count();
  if (auto ct = seconds_of(record, "upstream_connect_time");
      ct && matches_timer(*ct, connect_timeout)) {
    out.push_back({t.concluded, lane::balancer, lane::balancer, "timer",
                   "connect timeout (" + fixed3(connect_timeout) + " s) fired",
                   "access log (upstream_connect_time) against the configured timeout"});
    return;
  }
  if (scenario_.client.listener >= scenario_.proxy.listeners.size()) return;
  double request_timeout =
      duration<double>(scenario_.proxy.listeners[scenario_.client.listener].request_timeout)
          .count();
  // The request timeout bounds reading the request (408) and waiting for the response (504).
  std::optional<double> read_s;
  if (auto rr = seconds_of(record, "read_request_time")) read_s = *rr / 1000.0;
  for (auto measured :
       {read_s, seconds_of(record, "upstream_response_time"), seconds_of(record, "request_time")}) {
    if (measured && matches_timer(*measured, request_timeout)) {
      out.push_back({t.first_byte + *measured, lane::balancer, lane::balancer, "timer",
                     "request timeout (" + fixed3(request_timeout) + " s) fired",
                     "access log timings against the listener's request_timeout"});
      return;
    }
  }
}

}  // namespace albsim::scenarios
