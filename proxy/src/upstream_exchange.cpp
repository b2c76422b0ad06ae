// The upstream part of one request, in stages (upstream_exchange.hpp).
#include "upstream_exchange.hpp"

#include <charconv>

#include "proxy_runtime.hpp"

namespace albsim::proxy {

namespace {
// A response body this small is copied behind its head, so both leave in one send().
constexpr std::size_t k_coalesce_bytes = 4096;

// Starts a read, then (when asked) the client's watch_soon(): a read that finds its bytes at
// once has queued its completion by then, so it runs first and the watch is never started.
// (Asio runs no completion inside the call that starts the read: the frame is still here.)
template <class Read>
struct read_then_watch {
  Read read;
  client_side& client;
  bool watch;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    read.await_suspend(h);
    if (watch) client.watch_soon();
  }
  auto await_resume() { return read.await_resume(); }
};

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string_view view(const relay_buffer& b) {
  return {static_cast<const char*>(b.data().data()), b.size()};
}
}  // namespace

upstream_exchange::upstream_exchange(proxy_runtime& rt, const listener_endpoint& ep,
                                     client_side& client, upstream_side& upstream)
    : rt_(rt),
      ep_(ep),
      lc_(rt.config.listeners[ep.listener_index]),
      limits_(rt.config.limits),
      client_(client),
      up_(upstream) {}

task<std::optional<stage_event>> upstream_exchange::run(exchange_state& x) {
  std::optional<stage_event> end = co_await connect(x);
  if (!end) end = co_await send_request(x);
  if (!end) end = co_await read_response_head(x);
  if (!end) end = co_await relay_response(x);
  co_return end;
}

event_context upstream_exchange::upstream_context() {
  event_context c = client_.context();
  c.backend_note = up_.backend_note(rt_.ledger.get());
  return c;
}

// A pooled connection, or a new one under the connect timeout. Routing and admission do not
// wait, so the head's completion time is when the connect starts.
task<std::optional<stage_event>> upstream_exchange::connect(exchange_state& x) {
  x.connect_start = x.head_done;
  if (up_.checkout(*x.server, *x.server_key)) {
    x.r.upstream_connect_time = 0.0;
    client_.arm(x.start + lc_.request_timeout);
    co_return std::nullopt;
  }
  client_.arm(
      std::min(x.connect_start + limits_.upstream_connect_timeout, x.start + lc_.request_timeout));
  const error_code ec = co_await up_.connect(*x.server);
  const auto now = clock::now();
  x.r.upstream_connect_time = seconds_between(x.connect_start, now);
  if (!ec && !client_.timed_out()) {
    client_.arm(x.start + lc_.request_timeout);
    co_return std::nullopt;
  }
  x.r.upstream_response_time = x.r.upstream_connect_time;
  // A request without a body was read completely before the connect began.
  x.mark_request_read(x.consumed + client_.buffer().size(), x.head.done() ? x.head_done : now);
  // A reset during the handshake means the backend took the connection and threw it away at
  // once (an overflowing accept queue does this): the request was never delivered.
  const exchange_event e = client_.timed_out()                     ? exchange_event::connect_timeout
                           : ec == asio::error::connection_refused ? exchange_event::connect_refused
                           : ec == asio::error::connection_reset   ? exchange_event::send_failed
                                                                   : exchange_event::connect_error;
  event_context c = client_.context();
  c.timeout = limits_.upstream_connect_timeout;
  if (e != exchange_event::connect_refused && e != exchange_event::connect_timeout) {
    c.extra = ec.message();
    c.backend_note = up_.backend_note(rt_.ledger.get());
  }
  up_.drop();
  co_return stage_event::of(e, std::move(c));
}

// The head, then the body exactly as the client frames it, as it arrives.
task<std::optional<stage_event>> upstream_exchange::send_request(exchange_state& x) {
  request_head& head = x.head;
  relay_buffer& in = client_.buffer();
  const bool body_expected = !head.done();
  if (body_expected && head.expects_continue()) {
    // Like the balancer, answer "100 Continue" itself so the client starts sending.
    co_await client_.write("HTTP/1.1 100 Continue\r\n\r\n");
  }
  const std::string& up_head = upstream_head(x);
  bool head_sent = false;
  for (;;) {
    std::string_view chunk;
    if (!head.done() && in.size() > 0) {
      error_code ec;
      const std::string_view data = view(in);
      const std::size_t n = head.feed(data, ec);
      if (ec) {
        // The body's framing broke (e.g. a bad chunk): the upstream request cannot be finished.
        up_.drop();
        x.upstream_time_until(clock::now());
        x.mark_request_read(x.consumed + x.body_bytes + n);
        event_context c = client_.context();
        c.extra = ec.message();
        co_return stage_event::of(client_event::bad_framing, std::move(c));
      }
      chunk = data.substr(0, n);
    }
    if (!head_sent || !chunk.empty()) {
      const std::string_view first = head_sent ? std::string_view() : std::string_view(up_head);
      const error_code ec = co_await up_.send(first, chunk);
      if (ec || client_.timed_out()) {
        x.upstream_time_until(clock::now());
        x.mark_request_read(x.consumed + x.body_bytes + chunk.size());
        event_context c = upstream_context();
        exchange_event e = exchange_event::send_failed;
        if (client_.timed_out()) {
          // The backend stopped taking the request (e.g. a blackholed link) and the request
          // timeout ran out: the balancer gives up on the backend.
          e = exchange_event::send_timeout;
          c.timeout = lc_.request_timeout;
        } else {
          c.extra = "writing the request failed: " + ec.message();
        }
        up_.drop();
        co_return stage_event::of(e, std::move(c));
      }
      head_sent = true;
      in.consume(chunk.size());
      x.body_bytes += chunk.size();
    }
    if (head.done()) break;
    auto [rec, got] = co_await client_.read_some();
    if (rec) {
      up_.drop();
      x.upstream_time_until(clock::now());
      x.mark_request_read(x.consumed + x.body_bytes + in.size());
      event_context c = client_.context();
      if (rec == asio::error::timed_out) {
        c.timeout = lc_.request_timeout;
        c.extra = "the body stopped after " + std::to_string(x.body_bytes) + " bytes" +
                  (head.content_length() ? " of " + std::to_string(*head.content_length()) : "");
        co_return stage_event::of(client_event::request_timeout, std::move(c));
      }
      c.extra = "during the body, after " + std::to_string(x.body_bytes) + " body bytes";
      co_return stage_event::of(client_event::closed_early, std::move(c));
    }
  }
  // A request without a body was complete with its head.
  x.request_done = body_expected ? clock::now() : x.head_done;
  x.mark_request_read(x.consumed + x.body_bytes, x.request_done);
  co_return std::nullopt;
}

// Reads until the response head is complete (interim 1xx answers skipped). Returns the
// failure, if any; a client that left shows in client_.left().
task<std::optional<exchange_event>> upstream_exchange::await_head(exchange_state& x,
                                                                  std::string& detail) {
  response_head& rh = up_.head();
  relay_buffer& in = up_.buffer();
  std::uint64_t received = 0;
  for (;;) {
    if (in.size() > 0) {
      error_code ec;
      const std::size_t n = rh.feed(view(in), ec);
      if (ec) {
        detail = ec.message();
        co_return exchange_event::malformed_response;
      }
      in.consume(n);
      if (rh.header_done()) {
        if (rh.status() >= 200 || rh.status() == 101) co_return std::nullopt;
        // An interim answer (e.g. 100 Continue): the balancer already sent its own.
        up_.reset_head(x.head.is_head());
        continue;
      }
    }
    // The backend cannot have answered a request sent a moment ago: the first read of an
    // answer comes after letting the work already queued run. Asio's read then tries the
    // socket at once; only when nothing has come does the proxy wait, and only then is the
    // client watched for leaving (client_side::watch_soon): the watch costs a system call.
    if (received == 0) {
      co_await up_.yield();
      if (client_.timed_out()) co_return exchange_event::response_timeout;
    }
    const bool watch = !client_.watching() && client_.buffer().size() == 0;
    auto [ec, n] = co_await read_then_watch{up_.async_read(), client_, watch};
    up_.commit(n);
    received += n;
    if (client_.left()) co_return std::nullopt;
    if (client_.timed_out()) co_return exchange_event::response_timeout;
    if (ec) {
      // A FIN before any byte is a close without an answer; any other end before any byte is
      // a reset; an end after some bytes leaves the head incomplete.
      detail = ec.message();
      if (received > 0) co_return exchange_event::partial_response_header;
      if (ec == asio::error::eof) co_return exchange_event::closed_before_response;
      co_return exchange_event::reset_before_response;
    }
  }
}

// The response head, under the request timeout, while watching for the client leaving.
task<std::optional<stage_event>> upstream_exchange::read_response_head(exchange_state& x) {
  client_.arm(x.request_done + lc_.request_timeout);
  client_.reset_left();
  up_.reset_head(x.head.is_head());
  std::string failure_detail;
  const std::optional<exchange_event> failure = co_await await_head(x, failure_detail);
  response_head& rh = up_.head();
  relay_buffer& in = up_.buffer();
  client_.stop_watch();
  if (client_.left()) {
    event_context c = client_.context();
    c.waited = clock::now() - x.request_done;
    c.usual_latency = latency_baseline::usual(*x.latency);
    c.waiting_on_backend = true;
    up_.drop();
    x.upstream_time_until(clock::now());
    co_return stage_event::of(client_event::left_before_response, std::move(c));
  }
  if (failure) {
    event_context c = upstream_context();
    c.timeout = lc_.request_timeout;
    c.extra = std::move(failure_detail);
    x.upstream_time_until(clock::now());
    up_.drop();
    in.clear();
    co_return stage_event::of(*failure, std::move(c));
  }
  x.response_head_at = clock::now();
  latency_baseline::observe(*x.latency, x.response_head_at - x.request_done);
  if (rt_.outcomes.rewrites(rh.status())) {
    up_.drop();
    in.clear();
    x.upstream_time_until(clock::now());
    co_return stage_event::rewritten(rh.status());
  }
  co_return std::nullopt;
}

std::string& upstream_exchange::client_head(std::string_view status_text, bool close) {
  const response_head& rh = up_.head();
  std::string& out = client_head_;
  out.clear();
  out.append("HTTP/1.1 ").append(status_text).append(" ").append(rh.reason()).append("\r\n");
  out.append(rh.forward_fields());
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  return out;
}

// The response to the client, streamed.
task<std::optional<stage_event>> upstream_exchange::relay_response(exchange_state& x) {
  access_log_record& r = x.r;
  response_head& rh = up_.head();
  const int status = rh.status();
  r.status = status;
  char digits[12];
  const std::string_view status_text(digits,
                                     std::to_chars(digits, digits + sizeof digits, status).ptr);
  r.upstream_status.assign(status_text);
  const passthrough_reading reading = passthrough(status);
  r.sim_cause = reading.cause;
  r.sim_detail.assign(reading.detail_before).append(status_text).append(reading.detail_after);
  const bool close_client =
      x.last || !x.head.keep_alive() || x.head.version() == 10 || rh.need_eof();
  std::string& head_out = client_head(status_text, close_client);
  const relay_end end = co_await stream(head_out, r);
  const auto done = clock::now();
  x.answered_at = done;
  x.upstream_time_until(done);
  r.write_response_time =
      std::chrono::duration<double, std::milli>(done - x.response_head_at).count();
  // body_bytes_sent counts the body (with its framing) as it left the balancer.
  r.body_bytes_sent = end.body_bytes;
  if (!end.client_ok) {
    event_context c = client_.context();
    c.waited = done - x.request_done;
    c.usual_latency = latency_baseline::usual(*x.latency);
    c.waiting_on_backend = true;
    c.during_response_body = true;
    c.backend_status = status;
    c.extra = "it left while the response was being sent (" + std::to_string(end.body_bytes) +
              " body bytes delivered)";
    up_.drop();
    co_return stage_event::of(client_event::left_before_response, std::move(c));
  }
  up_.release(*x.server_key, end.upstream_ok && rh.done() && rh.keep_alive());
  x.keep = end.upstream_ok && !close_client;
  co_return std::nullopt;
}

// Streams the answer to the client: the head (with a small body in the same send), then the
// body as the backend sends it, each read under the request timeout.
task<upstream_exchange::relay_end> upstream_exchange::stream(std::string& head_out,
                                                             access_log_record& r) {
  response_head& rh = up_.head();
  relay_buffer& in = up_.buffer();
  relay_end end;
  bool head_sent = false;
  for (;;) {
    std::string_view chunk;
    if (!rh.done() && in.size() > 0) {
      error_code ec;
      const std::string_view data = view(in);
      const std::size_t n = rh.feed(data, ec);
      if (ec) {
        end.upstream_ok = false;
        r.sim_detail += "; the response body's framing broke: " + ec.message();
        break;
      }
      chunk = data.substr(0, n);
    }
    if (!head_sent || !chunk.empty()) {
      std::string_view first = head_sent ? std::string_view() : std::string_view(head_out);
      std::string_view second = chunk;
      if (!head_sent && chunk.size() <= k_coalesce_bytes) {
        // A small body travels in the same buffer as the head: one plain send().
        head_out.append(chunk);
        first = head_out;
        second = {};
      }
      if (co_await client_.write(first, second)) {
        end.client_ok = false;
        break;
      }
      end.body_bytes += chunk.size();
      in.consume(chunk.size());
      head_sent = true;
    }
    if (rh.done()) break;
    client_.arm(clock::now() + lc_.request_timeout);
    auto [ec, n] = co_await up_.async_read();
    up_.commit(n);
    if (ec == asio::error::eof && rh.need_eof()) {
      error_code ignored;
      rh.feed_eof(ignored);
      break;
    }
    if (ec || client_.timed_out()) {
      end.upstream_ok = false;
      r.sim_detail += "; the backend's response ended early (" +
                      (client_.timed_out() ? std::string("timed out") : ec.message()) +
                      "), so the client got a truncated body";
      break;
    }
  }
  co_return end;
}

// One Host, and the framing as the proxy itself frames the body it forwards. An HTTP/1.0
// request may come without Host; the HTTP/1.1 request forwarded for it names the server.
const std::string& upstream_exchange::upstream_head(const exchange_state& x) {
  const request_head& head = x.head;
  std::string& out = upstream_head_;
  out.clear();
  out.append(head.method()).append(" ").append(head.target()).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(head.has_host() ? head.host() : *x.server_key).append("\r\n");
  out.append(head.framing_field());
  out.append(x.inj.upstream_fields);  // the retry kit's fault backend action, read first
  out.append(head.forward_fields());
  const auto& f = lc_.forwarded;
  if (f.x_forwarded_for) {
    out.append("X-Forwarded-For: ");
    if (!head.x_forwarded_for().empty()) out.append(head.x_forwarded_for()).append(", ");
    out.append(client_.ip()).append("\r\n");
  } else if (!head.x_forwarded_for().empty()) {
    out.append("X-Forwarded-For: ").append(head.x_forwarded_for()).append("\r\n");
  }
  if (f.x_forwarded_proto) {
    out.append("X-Forwarded-Proto: ")
        .append(lc_.protocol == listener_protocol::https ? "https" : "http")
        .append("\r\n");
  }
  if (f.x_forwarded_port)
    out.append("X-Forwarded-Port: ").append(std::to_string(ep_.port)).append("\r\n");
  if (f.x_forwarded_host && !head.host().empty())
    out.append("X-Forwarded-Host: ").append(head.host()).append("\r\n");
  if (f.x_forwarded_client_srcport) {
    out.append("X-Forwarded-Client-srcport: ")
        .append(std::to_string(client_.port()))
        .append("\r\n");
  }
  if (f.slb_id) out.append("SLB-ID: ").append(rt_.config.instance.id).append("\r\n");
  out.append("ALICLOUD-ALB-TRACE: ");
  if (!head.trace().empty()) out.append(head.trace()).append(", ");
  out.append(*x.trace).append("\r\n\r\n");
  return out;
}

}  // namespace albsim::proxy
