#include "backend_session.hpp"
#include "albsim/fault_ledger.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "albsim/link_conditions.hpp"
#include "backend_report.hpp"
#include "server_context.hpp"

namespace albsim::backend {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using std::chrono::nanoseconds;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t k_read_chunk = 16 * 1024;   // one socket read
constexpr std::size_t k_write_chunk = 16 * 1024;  // one write of a streamed or shaped body
// After our FIN, how long to wait for the peer's before closing (closing with unread bytes
// would turn the FIN into an RST).
constexpr std::chrono::seconds k_close_drain{2};
// Body announced by reset-after-N / partial-body when the action names no body size.
constexpr std::uint64_t k_default_cut_body = 64 * 1024;

// A request body type that counts and drops the bytes: memory stays bounded whatever the size.
struct discard_body {
  using value_type = std::uint64_t;

  class reader {
   public:
    template <bool is_request, class Fields>
    reader(http::header<is_request, Fields>&, value_type& count) : count_(count) {}
    void init(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      std::size_t n = asio::buffer_size(buffers);
      count_ += n;
      ec = {};
      return n;
    }
    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& count_;
  };
};

using request_parser = http::request_parser<discard_body>;

bool is_http_error(const error_code& ec) {
  return ec.category() == make_error_code(http::error::bad_method).category();
}

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

// Where a response body comes from: a literal or the generated pattern.
struct body_source {
  std::string_view literal;
  std::uint64_t size = 0;
  bool generated = false;

  std::string_view slice(std::uint64_t offset, std::size_t n) const {
    return generated ? generated_bytes(offset, n) : literal.substr(offset, n);
  }
};

class session {
 public:
  session(tcp::socket socket, server_context& ctx)
      : socket_(std::move(socket)),
        ctx_(ctx),
        timer_(socket_.get_executor()),
        deadline_(socket_.get_executor()),
        read_shaper_(ctx.options.link),
        write_shaper_(ctx.options.link),
        buffer_(ctx.options.header_limit_bytes + k_read_chunk) {
    const link_conditions& link = ctx.options.link;
    shaped_ = read_shaper_.active();
    blackhole_request_ =
        link.mtu_blackhole_bytes > 0 && ctx.options.blackhole == blackhole_direction::request;
    blackhole_response_ =
        link.mtu_blackhole_bytes > 0 && ctx.options.blackhole == blackhole_direction::response;
    if (ctx.journal.enabled()) id_ = ++ctx.connection_ids;
  }

  asio::awaitable<void> run();

 private:
  asio::awaitable<error_code> read_some();
  asio::awaitable<error_code> read_header(request_parser& p);
  asio::awaitable<error_code> read_body(request_parser& p);
  asio::awaitable<error_code> send(std::string_view bytes);
  asio::awaitable<error_code> send_body(const body_source& body, std::uint64_t limit,
                                        const drip_options& drip);
  asio::awaitable<void> pause(nanoseconds d);
  asio::awaitable<bool> answer(route_decision& d, request_parser& p);
  asio::awaitable<bool> perform(const backend_action& a, bool head, bool keep_alive);
  asio::awaitable<bool> write_small(int status, std::string_view content_type,
                                    std::string_view body, bool head, bool keep_alive);
  asio::awaitable<void> bad_request(std::string_view why);
  asio::awaitable<void> close_after_fin();
  asio::awaitable<void> wait_for_peer_close(std::optional<nanoseconds> bound);
  asio::awaitable<void> hold_without_reading(std::optional<nanoseconds> bound);
  asio::awaitable<void> blackhole_then_reset();
  void arm_cancel_timer(std::optional<nanoseconds> bound);
  void arm_read_deadline(nanoseconds d);
  void build_head(int status, const backend_action* a, std::string_view content_type,
                  std::optional<std::uint64_t> content_length, bool keep_alive);
  body_source body_of(const backend_action& a, std::uint64_t minimum = 0) const;
  void reset_now();

  tcp::socket socket_;
  server_context& ctx_;
  asio::steady_timer timer_;
  asio::steady_timer deadline_;  // bounds the wait for a request (idle, then head and body)
  bool waiting_idle_ = false;    // deadline_ runs the idle bound: no byte of a request yet
  link_shaper read_shaper_;
  link_shaper write_shaper_;
  beast::flat_buffer buffer_;
  std::string head_;          // response head being written, reused
  std::string default_body_;  // "ok\n" or "503 Service Unavailable\n"
  std::uint64_t exchange_read_ = 0;
  std::uint64_t exchange_written_ = 0;
  bool shaped_ = false;
  bool blackhole_request_ = false;
  bool blackhole_response_ = false;
  std::uint64_t id_ = 0;  // the connection's number in the journal
};

asio::awaitable<void> session::run() {
  bump(ctx_.counters.connections);
  if (id_ != 0) {
    error_code ignored;
    auto peer = socket_.remote_endpoint(ignored);
    ctx_.journal.note(id_, wire_event_kind::accepted,
                      ignored ? std::string() : "from port " + std::to_string(peer.port()));
  }
  std::optional<request_parser> parser;
  for (;;) {
    exchange_read_ = buffer_.size();
    exchange_written_ = 0;
    parser.emplace();
    parser->header_limit(ctx_.options.header_limit_bytes);
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    waiting_idle_ = buffer_.size() == 0;
    arm_read_deadline(waiting_idle_ ? ctx_.options.idle_timeout : ctx_.options.request_timeout);
    error_code ec = co_await read_header(*parser);
    if (ec) {
      if (is_http_error(ec)) co_await bad_request("malformed request: " + ec.message() + "\n");
      if (ec == asio::error::eof || ec == http::error::end_of_stream)
        ctx_.journal.note(id_, wire_event_kind::peer_closed);
      co_return;
    }
    bump(ctx_.counters.requests);
    route_decision d;
    auto& req = parser->get();
    ctx_.router.route(
        req.method_string(), req.target(),
        [&req](std::string_view name) -> std::optional<std::string_view> {
          auto it = req.find(name);
          if (it == req.end()) return std::nullopt;
          return it->value();
        },
        d);
    if (d.overridden) bump(ctx_.counters.overrides);
    if (id_ != 0) {
      ctx_.journal.note(
          id_,
          d.kind == route_kind::health ? wire_event_kind::health_check : wire_event_kind::request,
          std::string(req.method_string()) + " " + std::string(req.target().substr(0, 60)));
    }
    if (d.kind == route_kind::action && d.action->kind == action_kind::stop_reading) {
      deadline_.cancel();
      if (d.action->delay.count() > 0) co_await pause(d.action->delay);
      co_await hold_without_reading(d.action->hold);
      // Closing with bytes unread makes the kernel answer with a RST, not a FIN.
      error_code unread;
      if (id_ != 0 && socket_.available(unread) > 0 && !unread) {
        ctx_.journal.note(id_, wire_event_kind::reset, "closed with the request unread");
      }
      co_return;
    }
    ec = co_await read_body(*parser);
    deadline_.cancel();
    if (ec) {
      if (is_http_error(ec)) co_await bad_request("malformed request body: " + ec.message() + "\n");
      co_return;
    }
    if (!co_await answer(d, *parser)) co_return;
  }
}

asio::awaitable<void> session::pause(nanoseconds d) {
  timer_.expires_after(d);
  co_await timer_.async_wait(use_tuple);
}

asio::awaitable<error_code> session::read_some() {
  std::size_t want = k_read_chunk;
  if (blackhole_request_) {
    std::uint64_t limit = ctx_.options.link.mtu_blackhole_bytes;
    if (exchange_read_ >= limit) {
      co_await blackhole_then_reset();
      co_return asio::error::connection_aborted;
    }
    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limit - exchange_read_));
  }
  want = std::min(want, buffer_.max_size() - buffer_.size());
  if (want == 0) co_return http::error::header_limit;
  auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(want), use_tuple);
  buffer_.commit(n);
  exchange_read_ += n;
  if (waiting_idle_ && n > 0) {
    // The request's first byte: from now on its head and body have request_timeout.
    waiting_idle_ = false;
    arm_read_deadline(ctx_.options.request_timeout);
  }
  if (!ec && shaped_) {
    if (auto d = read_shaper_.delay_for(n); d.count() > 0) co_await pause(d);
  }
  co_return ec;
}

asio::awaitable<error_code> session::read_header(request_parser& p) {
  for (;;) {
    if (buffer_.size() > 0) {
      error_code ec;
      std::size_t used = p.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (!ec && p.is_header_done()) co_return error_code{};
      if (ec && ec != http::error::need_more) co_return ec;
      if (!ec && used > 0) continue;
    }
    if (error_code ec = co_await read_some()) co_return ec;
  }
}

asio::awaitable<error_code> session::read_body(request_parser& p) {
  p.eager(true);
  while (!p.is_done()) {
    if (buffer_.size() > 0) {
      error_code ec;
      std::size_t used = p.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec && ec != http::error::need_more) co_return ec;
      if (!ec && used > 0) continue;
    }
    if (error_code ec = co_await read_some()) co_return ec;
  }
  co_return error_code{};
}

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

asio::awaitable<void> session::bad_request(std::string_view why) {
  bump(ctx_.counters.bad_requests);
  co_await write_small(400, "text/plain", why, false, false);
}

// When the deadline passes, the pending read is cancelled and the connection closes.
void session::arm_read_deadline(nanoseconds d) {
  deadline_.expires_after(d);
  deadline_.async_wait([this](error_code ec) {
    if (ec) return;
    if (id_ != 0) {
      ctx_.journal.note(id_, wire_event_kind::fin,
                        waiting_idle_ ? "idle timeout: no request arrived"
                                      : "request timeout: the request did not arrive whole");
    }
    socket_.cancel(ec);
  });
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

}  // namespace

void start_session(tcp::socket socket, server_context& ctx) {
  auto executor = socket.get_executor();
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  asio::co_spawn(
      executor,
      [s = std::make_unique<session>(std::move(socket), ctx)]() -> asio::awaitable<void> {
        co_await s->run();
      },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          std::cerr << "albsim backend: connection failed: " << x.what() << "\n";
        }
      });
}

}  // namespace albsim::backend
