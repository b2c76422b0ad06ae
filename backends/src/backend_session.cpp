// The request side of a backend connection: reads each request's head and body (bodies are
// counted and dropped) under the idle and request deadlines, asks the router what to do, and
// hands the answer to the action side (backend_session_actions.cpp). Also start_session(), the
// entry point (backend_session.hpp).
#include "backend_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "session.hpp"

namespace albsim::backend {
namespace {

bool is_http_error(const error_code& ec) {
  return ec.category() == make_error_code(http::error::bad_method).category();
}

}  // namespace

// GCC 12 reports the coroutine frame of run() (taken by Asio's awaitable_frame_base operator
// new, returned by its sized operator delete) as a mismatched pair: a known false positive
// (GCC PR middle-end/109224) that shows here since session has external linkage.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
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
#pragma GCC diagnostic pop

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
