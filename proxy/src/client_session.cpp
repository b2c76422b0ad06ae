// One client connection of the simulated balancer, from accept to the last access-log record.
//
// A request goes through straight-line steps (serve_one): wait for the first byte (idle
// timeout) → read and check the head under the request timeout → the balancer's own refusals
// (TRACE, forwarding loop) → admission (QPS limits) → routing (rule → group → server) → the
// upstream stages (upstream_exchange.cpp) → one record. A step that ends the request early
// returns an event; `conclude` asks the outcome table what it means, answers the client if it
// is still there, and writes the record (docs/status-rules.md has the rules).
//
// The parts, each a member held by value: client_side (transport, buffer, simulated link, the
// connection's one deadline watchdog), upstream_side (the backend connection), and
// upstream_exchange (the stages that use both).
#include "client_session.hpp"

#include "client_side.hpp"
#include "exchange_state.hpp"
#include "fault_injector.hpp"
#include "local_reply.hpp"
#include "proxy_runtime.hpp"
#include "record_writer.hpp"
#include "request_admission.hpp"
#include "session_control.hpp"
#include "upstream_exchange.hpp"
#include "upstream_side.hpp"
#include "worker.hpp"

namespace albsim::proxy {
namespace {

using clock = std::chrono::steady_clock;
// A reply of the balancer's own gets at least k_reply_min_left to be written, else a fresh
// k_reply_grace: a client that does not read cannot hold the connection (albsim's bounds).
constexpr auto k_reply_min_left = std::chrono::seconds(1);
constexpr auto k_reply_grace = std::chrono::seconds(5);
// Closing politely never waits on the peer longer than this.
constexpr auto k_close_grace = std::chrono::seconds(1);

std::string_view view(const relay_buffer& b) {
  return {static_cast<const char*>(b.data().data()), b.size()};
}

class client_session final : public std::enable_shared_from_this<client_session>,
                             public session_control {
 public:
  client_session(proxy_runtime& rt, worker& w, listener_endpoint ep, tcp::socket s)
      : rt_(rt),
        w_(w),
        ep_(std::move(ep)),
        lc_(rt.config.listeners[ep_.listener_index]),
        limits_(rt.config.limits),
        client_(rt, w, ep_, std::move(s)),
        up_(w, limits_),
        exchange_(rt, ep_, client_, up_),
        admission_(rt, ep_, client_),
        records_(rt, ep_, client_),
        request_head_(head_limits_()) {
    client_.cancels_with(up_.socket());
    w_.sessions.insert(this);
    ++rt_.live_sessions;
  }

  ~client_session() override {
    w_.sessions.erase(this);
    --rt_.live_sessions;
  }

  void drain() override {
    draining_ = true;
    if (client_.idle()) client_.cancel_io();
  }

  // The connection's coroutines, started at once; they hold the session until they end.
  static root_task launch(std::shared_ptr<client_session> s) {
    s->client_.anchor(s);
    s->root_ = co_await this_coroutine{};
    co_await s->run();
    s->root_ = {};
  }

  // Only after the worker's thread has ended: a connection still waiting then never resumes,
  // so its coroutines are destroyed (which releases the session).
  void destroy_stranded() override {
    client_.forget_waiter();
    if (auto r = std::exchange(root_, {})) r.destroy();
  }

  void abort() override {
    draining_ = true;
    records_.interrupted();
    client_.interrupt();
  }

 private:
  task<void> run() {
    auto self = shared_from_this();
    if (lc_.protocol == listener_protocol::https) {
      const auto tls = co_await client_.start_tls(lc_.idle_timeout, lc_.request_timeout);
      if (tls == client_side::tls_start::plain_text) co_await plain_on_https();
      if (tls != client_side::tls_start::ready) {
        client_.close();
        co_return;
      }
    }
    const std::uint32_t max = std::max<std::uint32_t>(1, lc_.max_requests_per_connection);
    for (std::uint32_t i = 0; i < max; ++i) {
      if (!co_await serve_one(i + 1 == max)) break;
    }
    client_.arm(clock::now() + k_close_grace);
    co_await client_.shutdown();
    client_.close();
  }

  // Plain text on an HTTPS port: read the head (bounded) to log method and target, answer 400.
  task<void> plain_on_https() {
    const auto start = clock::now();
    exchange_state x(record_, request_head_, injection_, start);
    records_.start(x.r, start);
    client_.arm(start + lc_.request_timeout);
    relay_buffer& in = client_.buffer();
    for (;;) {
      error_code ec;
      const std::size_t n = x.head.feed(view(in), ec);
      in.consume(n);
      x.consumed += n;
      if (ec || x.head.header_done()) break;
      auto [rec, got] = co_await client_.read_some();
      if (rec) break;
    }
    record_writer::fill_request(x.r, x.head);
    x.mark_request_read(x.consumed + in.size());
    const decision d = rt_.outcomes.client(client_event::plain_http_on_https, {});
    record_writer::apply(x.r, d);
    co_await send_own_reply(x, k_plain_http_on_https_body, "", true);
  }

  // ---- one request ------------------------------------------------------------------------------
  // Returns true when the connection may carry another request.
  task<bool> serve_one(bool last) {
    client_.reset_throttled();
    relay_buffer& in = client_.buffer();
    const bool pipelined = in.size() > 0;  // bytes left behind by the previous request
    clock::time_point first_byte_at;
    if (pipelined) {
      client_.take_read_ahead();
      first_byte_at = clock::now();
    } else {
      // The first byte, under the idle timeout; an idle connection holds little memory.
      after_length_body_ = 0;
      client_.shrink_idle_buffer();
      up_.buffer().shrink_to_fit();
      if (draining_) co_return false;
      client_.arm(clock::now() + lc_.idle_timeout);
      auto [ec, n] = co_await client_.first_byte();
      if ((ec && n == 0) || draining_) co_return false;
      first_byte_at = client_.read_done_at();
    }
    // The request starts with its first byte. The record and the head parser are the
    // connection's, reused request after request.
    exchange_state x(record_, request_head_, injection_, first_byte_at);
    injection_.clear();  // nothing injected until the injection stage decides
    x.last = last;
    records_.start(x.r, first_byte_at);
    client_.arm(first_byte_at + lc_.request_timeout);

    if (auto ended = co_await read_head(x, pipelined)) {
      co_await conclude(x, *ended, true);
      co_return false;
    }
    record_writer::fill_request(x.r, x.head);
    x.head_done = clock::now();
    ++rt_.requests;
    const bool body_pending = !x.head.done();
    after_length_body_ = x.head.chunked() ? 0 : x.head.content_length().value_or(0);

    // The balancer's own refusals, admission and routing. The request was read whole unless
    // its body is still pending (then the connection closes).
    request_admission::routed to;
    if (auto refused = admission_.admit_and_route(x, to)) {
      x.mark_request_read(x.consumed);
      co_await conclude(x, *refused, body_pending || last);
      co_return !body_pending && !last && x.head.keep_alive();
    }

    // A group's server counts the connection (a fault backend of the retry kit has no group).
    if (to.group) to.group->connection_started(to.index);
    struct release {
      server_group* g;
      int i;
      ~release() {
        if (g) g->connection_finished(i);
      }
    } release_guard{to.group, to.index};
    if (auto failed = co_await exchange_.run(x)) {
      co_await conclude(x, *failed, true);
      co_return false;
    }
    records_.emit(x, x.answered_at);
    co_return x.keep && !draining_;
  }

  // The head, under the request timeout; nullopt when it is complete.
  task<std::optional<stage_event>> read_head(exchange_state& x, bool pipelined) {
    relay_buffer& in = client_.buffer();
    x.head.reset(head_limits_());
    for (;;) {
      if (in.size() > 0) {
        error_code ec;
        const std::string_view data = view(in);
        const std::size_t n = x.head.feed(data, ec);
        if (ec) {
          record_writer::fill_request(x.r, x.head);
          x.mark_request_read(x.consumed + in.size());
          co_return head_error(ec, data, pipelined);
        }
        in.consume(n);
        x.consumed += n;
        if (x.head.header_done()) co_return std::nullopt;
      }
      auto [rec, got] = co_await client_.read_some();
      if (!rec) continue;
      if (x.consumed == 0 && in.size() == 0 && rec != asio::error::timed_out) {
        co_return stage_event{};  // the client closed between requests: nothing to log
      }
      x.mark_request_read(x.consumed + in.size());
      event_context c = client_.context();
      if (rec == asio::error::timed_out) {
        c.timeout = lc_.request_timeout;
        c.extra = "the request head was not complete";
        co_return stage_event::of(client_event::request_timeout, std::move(c));
      }
      c.extra = "during the request head, after " + std::to_string(x.r.request_length) + " bytes";
      co_return stage_event::of(client_event::closed_early, std::move(c));
    }
  }

  stage_event head_error(const error_code& ec, std::string_view data, bool pipelined) const {
    event_context c = client_.context();
    const auto f = classify_request_error(ec, data, limits_.max_uri, &c.extra);
    client_event e = client_event::invalid_head;
    if (f == request_failure::uri_too_long) {
      e = client_event::uri_too_long;
      c.limit_bytes = limits_.max_uri;
    } else if (f == request_failure::header_line_too_long) {
      e = client_event::header_line_too_long;
      c.limit_bytes = limits_.max_header_line;
    } else if (f == request_failure::bad_framing) {
      e = client_event::bad_framing;
    } else if (pipelined && after_length_body_) {
      // Bytes that came right behind a body of declared length and are no request: the body
      // was longer than its Content-Length said (the guide's example of a 400).
      e = client_event::bad_framing;
      c.extra = "the bytes after the previous request's " + std::to_string(after_length_body_) +
                "-byte body are no request: the body was longer than its Content-Length (" +
                c.extra + ")";
    }
    return stage_event::of(e, std::move(c));
  }

  // ---- the one place an early end becomes a status, a reply and a record ------------------------
  task<void> conclude(exchange_state& x, const stage_event& e, bool close) {
    if (e.from == stage_event::side::none) co_return;
    const decision d = e.from == stage_event::side::injected ? *x.inj.reply : decide(e);
    record_writer::apply(x.r, d);
    if (!d.reply) {
      records_.emit(x);
      co_return;
    }
    if (x.inj.reply_fields.empty()) {
      co_await send_own_reply(x, local_reply_body(d.status), d.reply_headers, close);
    } else {  // the retry kit says why it refused an injection in a field of its own
      const std::string headers = std::string(d.reply_headers) + x.inj.reply_fields;
      co_await send_own_reply(x, local_reply_body(d.status), headers, close);
    }
  }

  decision decide(const stage_event& e) const {
    switch (e.from) {
      case stage_event::side::upstream:
        return rt_.outcomes.upstream(e.upstream, e.context);
      case stage_event::side::rewritten:
        return *rt_.outcomes.rewritten_status(e.backend_status);
      default:
        return rt_.outcomes.client(e.client, e.context);
    }
  }

  // A reply the balancer makes itself, then the record.
  task<void> send_own_reply(exchange_state& x, std::string_view body,
                            std::string_view extra_headers, bool close) {
    const std::string head = local_reply_head(x.r.status, body.size(), extra_headers, close);
    const auto write_start = clock::now();
    // The reply gets its own short bound: a client that does not read cannot hold it forever.
    if (client_.timed_out() || client_.deadline() < write_start + k_reply_min_left)
      client_.arm(write_start + k_reply_grace);
    const error_code ec = co_await client_.write(head, body);
    if (!ec) x.r.body_bytes_sent = body.size();
    x.r.write_response_time =
        std::chrono::duration<double, std::milli>(clock::now() - write_start).count();
    records_.emit(x);
  }

  // ---- records ----------------------------------------------------------------------------------
  head_limits head_limits_() const {
    return head_limits{limits_.max_uri, limits_.max_header_line,
                       static_cast<std::uint32_t>(limits_.max_header_block), limits_.max_body};
  }

  std::coroutine_handle<> root_;  // the connection's outermost coroutine while it runs
  proxy_runtime& rt_;
  worker& w_;
  listener_endpoint ep_;
  const listener_config& lc_;
  const limits_config& limits_;
  client_side client_;
  upstream_side up_;
  upstream_exchange exchange_;
  request_admission admission_;
  record_writer records_;
  // Reused by every request of the connection (they keep the memory they have grown).
  access_log_record record_;
  request_head request_head_;
  fault_injection injection_;            // the retry kit's decision for the current request
  std::uint64_t after_length_body_ = 0;  // the last request's Content-Length body, if any
  bool draining_ = false;                // the proxy is stopping: no further requests
};

}  // namespace

void start_client_session(proxy_runtime& rt, worker& w, const listener_endpoint& ep,
                          tcp::socket socket) {
  ++rt.connections;
  client_session::launch(std::make_shared<client_session>(rt, w, ep, std::move(socket)));
}

}  // namespace albsim::proxy
