// The action side of a backend connection: what it does once the router has decided — writes
// a response (whole, dripped or shaped by the link), or one of the faults (close, reset after N
// bytes, a malformed or partial head, a partial body, a hang, a stop of reading, a path-MTU
// blackhole) — and the small answers (health, stats, echo, 400). The request side is
// backend_session.cpp.
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "albsim/fault_ledger.hpp"
#include "backend_report.hpp"
#include "session.hpp"

namespace albsim::backend {
namespace {

constexpr std::size_t k_write_chunk = 16 * 1024;  // one write of a streamed or shaped body
// After our FIN, how long to wait for the peer's before closing (closing with unread bytes
// would turn the FIN into an RST).
constexpr std::chrono::seconds k_close_drain{2};
// Body announced by reset-after-N / partial-body when the action names no body size.
constexpr std::uint64_t k_default_cut_body = 64 * 1024;

// Generated bodies: byte i is 'a' + i % 26, so a client can check what arrived.
std::string_view generated_bytes(std::uint64_t offset, std::size_t n) {
  static const std::string pattern = [] {
    std::string p(k_write_chunk + 26, 'a');
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<char>('a' + i % 26);
    return p;
  }();
  return std::string_view(pattern).substr(offset % 26, n);
}

std::string_view reason_for(int status) {
  auto r = http::obsolete_reason(static_cast<http::status>(status));
  std::string_view reason(r.data(), r.size());
  return reason == "<unknown-status>" ? std::string_view("Status") : reason;
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

// Where a response body comes from: a literal or the generated pattern.
struct body_source {
  std::string_view literal;
  std::uint64_t size = 0;
  bool generated = false;

  std::string_view slice(std::uint64_t offset, std::size_t n) const {
    return generated ? generated_bytes(offset, n) : literal.substr(offset, n);
  }
};

asio::awaitable<error_code> session::send(std::string_view bytes) {
  if (id_ != 0 && exchange_written_ == 0) {
    ctx_.journal.note(id_, wire_event_kind::response,
                      std::string(bytes.substr(0, bytes.find('\r'))));
  }
  if (!shaped_ && !blackhole_response_) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), use_tuple);
    exchange_written_ += n;
    co_return ec;
  }
  while (!bytes.empty()) {
    std::size_t chunk = std::min(bytes.size(), k_write_chunk);
    if (blackhole_response_) {
      std::uint64_t limit = ctx_.options.link.mtu_blackhole_bytes;
      if (exchange_written_ >= limit) {
        co_await blackhole_then_reset();
        co_return asio::error::connection_aborted;
      }
      chunk = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, limit - exchange_written_));
    }
    if (shaped_) {
      if (auto d = write_shaper_.delay_for(chunk); d.count() > 0) co_await pause(d);
    }
    auto [ec, n] =
        co_await asio::async_write(socket_, asio::buffer(bytes.data(), chunk), use_tuple);
    exchange_written_ += n;
    if (ec) co_return ec;
    bytes.remove_prefix(chunk);
  }
  co_return error_code{};
}

asio::awaitable<error_code> session::send_body(const body_source& body, std::uint64_t limit,
                                               const drip_options& drip) {
  std::size_t chunk =
      drip.chunk_bytes > 0
          ? static_cast<std::size_t>(std::min<std::uint64_t>(drip.chunk_bytes, k_write_chunk))
          : k_write_chunk;
  for (std::uint64_t sent = 0; sent < limit;) {
    if (sent > 0 && drip.interval.count() > 0) co_await pause(drip.interval);
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, limit - sent));
    if (error_code ec = co_await send(body.slice(sent, n))) co_return ec;
    sent += n;
  }
  co_return error_code{};
}

void session::build_head(int status, const backend_action* a, std::string_view content_type,
                         std::optional<std::uint64_t> content_length, bool keep_alive) {
  head_.clear();
  head_ += "HTTP/1.1 ";
  append_number(head_, static_cast<std::uint64_t>(status));
  head_ += ' ';
  head_ += reason_for(status);
  head_ += "\r\nX-Albsim-Backend-Name: ";
  head_ += ctx_.options.name;
  head_ += "\r\n";
  bool has_type = false;
  if (a != nullptr) {
    for (const auto& [name, value] : a->headers) {
      head_ += name;
      head_ += ": ";
      head_ += value;
      head_ += "\r\n";
      has_type = has_type || beast::iequals(name, "content-type");
    }
  }
  if (!has_type) {
    head_ += "Content-Type: ";
    head_ += content_type;
    head_ += "\r\n";
  }
  if (content_length) {
    head_ += "Content-Length: ";
    append_number(head_, *content_length);
    head_ += "\r\n";
  }
  if (!keep_alive) head_ += "Connection: close\r\n";
  head_ += "\r\n";
}

body_source session::body_of(const backend_action& a, std::uint64_t minimum) const {
  if (a.body) return body_source{*a.body, a.body->size(), false};
  if (a.body_bytes) return body_source{{}, *a.body_bytes, true};
  if (minimum > 0) return body_source{{}, minimum, true};
  return body_source{default_body_, default_body_.size(), false};
}

asio::awaitable<bool> session::answer(route_decision& d, request_parser& p) {
  auto& req = p.get();
  bool head = req.method() == http::verb::head;
  bool keep_alive = req.keep_alive();
  switch (d.kind) {
    case route_kind::health: {
      bump(ctx_.counters.health_checks);
      bool healthy = d.health_status >= 200 && d.health_status < 400;
      co_return co_await write_small(d.health_status, "text/plain",
                                     healthy ? "healthy\n" : "unhealthy\n", head, keep_alive);
    }
    case route_kind::stats: {
      std::string body = render_stats_json(ctx_.options.name, ctx_.snapshot());
      co_return co_await write_small(200, "application/json", body, head, keep_alive);
    }
    case route_kind::echo: {
      std::vector<std::pair<std::string_view, std::string_view>> headers;
      for (const auto& f : req) headers.emplace_back(f.name_string(), f.value());
      std::string body =
          render_echo_json(req.method_string(), req.target(), headers, p.get().body());
      co_return co_await write_small(200, "application/json", body, head, keep_alive);
    }
    case route_kind::bad_request:
      bump(ctx_.counters.bad_requests);
      co_return co_await write_small(400, "text/plain", d.error + "\n", head, keep_alive);
    case route_kind::action:
      co_return co_await perform(*d.action, head, keep_alive);
  }
  co_return false;
}

asio::awaitable<bool> session::write_small(int status, std::string_view content_type,
                                           std::string_view body, bool head, bool keep_alive) {
  build_head(status, nullptr, content_type, body.size(), keep_alive);
  if (!head) head_ += body;
  error_code ec = co_await send(head_);
  if (ec) co_return false;
  if (!keep_alive) co_await close_after_fin();
  co_return keep_alive;
}

asio::awaitable<bool> session::perform(const backend_action& a, bool head, bool keep_alive) {
  if (a.delay.count() > 0) co_await pause(a.delay);
  default_body_.clear();
  if (a.status == 200) {
    default_body_ = "ok\n";
  } else {
    append_number(default_body_, static_cast<std::uint64_t>(a.status));
    default_body_ += ' ';
    default_body_ += reason_for(a.status);
    default_body_ += '\n';
  }
  switch (a.kind) {
    case action_kind::respond: {
      body_source body = body_of(a);
      bool with_body = status_has_body(a.status);
      build_head(a.status, &a, "text/plain",
                 with_body ? std::optional<std::uint64_t>(body.size) : std::nullopt, keep_alive);
      bool inline_body = with_body && !head && !body.generated && a.drip.chunk_bytes == 0;
      if (inline_body) head_ += body.literal;
      if (co_await send(head_)) co_return false;
      if (with_body && !head && !inline_body) {
        if (co_await send_body(body, body.size, a.drip)) co_return false;
      }
      if (!keep_alive) co_await close_after_fin();
      co_return keep_alive;
    }
    case action_kind::close:
      co_await close_after_fin();
      co_return false;
    case action_kind::reset:
      if (a.after_bytes) {
        body_source body = body_of(a, std::max(*a.after_bytes * 2, std::uint64_t{1024}));
        build_head(a.status, &a, "text/plain", body.size, keep_alive);
        if (co_await send(head_)) co_return false;
        if (co_await send_body(body, std::min(*a.after_bytes, body.size), a.drip)) co_return false;
      }
      reset_now();
      co_return false;
    case action_kind::malformed_status:
      head_ = "HTTP/1.1 2x0 Malformed\r\nContent-Length: 0\r\n\r\n";
      if (!co_await send(head_)) co_await close_after_fin();
      co_return false;
    case action_kind::malformed_header:
      head_ = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nthis line is not a header\r\n\r\nok\n";
      if (!co_await send(head_)) co_await close_after_fin();
      co_return false;
    case action_kind::partial_header: {
      build_head(a.status, &a, "text/plain", default_body_.size(), keep_alive);
      std::size_t cut = a.after_bytes ? static_cast<std::size_t>(*a.after_bytes) : head_.size() / 2;
      if (!co_await send(std::string_view(head_).substr(0, std::min(cut, head_.size() - 1)))) {
        co_await close_after_fin();
      }
      co_return false;
    }
    case action_kind::partial_body: {
      std::uint64_t cut = a.after_bytes.value_or(k_default_cut_body / 2);
      body_source body = body_of(a, std::max(cut * 2, k_default_cut_body));
      build_head(a.status, &a, "text/plain", body.size, keep_alive);
      if (co_await send(head_)) co_return false;
      if (co_await send_body(body, std::min(cut, body.size - 1), a.drip)) co_return false;
      co_await close_after_fin();
      co_return false;
    }
    case action_kind::hang:
      co_await wait_for_peer_close(a.hold);
      co_return false;
    case action_kind::stop_reading:
      co_await hold_without_reading(a.hold);
      co_return false;
  }
  co_return false;
}

void session::arm_cancel_timer(std::optional<nanoseconds> bound) {
  if (!bound) return;
  timer_.expires_after(*bound);
  timer_.async_wait([this](error_code ec) {
    if (!ec) socket_.cancel(ec);
  });
}

asio::awaitable<void> session::wait_for_peer_close(std::optional<nanoseconds> bound) {
  arm_cancel_timer(bound);
  for (;;) {
    buffer_.clear();
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(k_read_chunk), use_tuple);
    if (ec == asio::error::eof) ctx_.journal.note(id_, wire_event_kind::peer_closed);
    if (ec) break;
  }
  timer_.cancel();
}

asio::awaitable<void> session::close_after_fin() {
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) ctx_.journal.note(id_, wire_event_kind::fin);
  if (!ec) co_await wait_for_peer_close(k_close_drain);
  socket_.close(ec);
}

asio::awaitable<void> session::hold_without_reading(std::optional<nanoseconds> bound) {
  // Nothing reads: the receive buffer and then the peer's send window fill. A reset from the
  // peer (or the bound, or the backend stopping) ends the hold.
  arm_cancel_timer(bound);
  co_await socket_.async_wait(tcp::socket::wait_error, use_tuple);
  timer_.cancel();
}

asio::awaitable<void> session::blackhole_then_reset() {
  co_await pause(ctx_.options.link.blackhole_reset_after);
  // The proxy sees only a stalled transfer and then a RST; name the cause for an in-process
  // proxy (see fault_ledger.hpp).
  error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  auto local = socket_.local_endpoint(ec);
  if (!ec && ctx_.options.ledger) {
    ctx_.options.ledger->note(
        fault_ledger::key(peer.address().to_string(), peer.port(), local.address().to_string(),
                          local.port()),
        {"502-mtu-blackhole",
         "bytes beyond " + std::to_string(ctx_.options.link.mtu_blackhole_bytes) +
             " in one exchange vanished on the backend link (a path-MTU blackhole); small "
             "requests and health checks pass, large ones never arrive, and the link reset"});
  }
  reset_now();
}

void session::reset_now() {
  // Count first: whoever sees the RST may read the counters at once.
  bump(ctx_.counters.resets);
  ctx_.journal.note(id_, wire_event_kind::reset);
  error_code ec;
  socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);
}

}  // namespace albsim::backend
