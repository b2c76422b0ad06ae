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
#include "local_reply.hpp"
#include "proxy_runtime.hpp"
#include "router.hpp"
#include "session_control.hpp"
#include "trace_header.hpp"
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

// The wall-clock time of a steady-clock instant. The offset between the clocks is re-read at
// most once a second per thread, which spares a clock read per request.
std::chrono::system_clock::time_point wall_time(clock::time_point t) {
  thread_local clock::time_point base_steady{};
  thread_local std::chrono::system_clock::time_point base_wall{};
  if (base_steady == clock::time_point{} || t - base_steady > std::chrono::seconds(1)) {
    base_steady = clock::now();
    base_wall = std::chrono::system_clock::now();
  }
  return base_wall +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - base_steady);
}

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
    aborted_ = true;
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
    exchange_state x(record_, request_head_, start);
    start_record(x.r, start);
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
    fill_request_fields(x.r, x.head);
    x.mark_request_read(x.consumed + in.size());
    const decision d = rt_.outcomes.client(client_event::plain_http_on_https, {});
    apply(x.r, d);
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
    exchange_state x(record_, request_head_, first_byte_at);
    x.last = last;
    start_record(x.r, first_byte_at);
    client_.arm(first_byte_at + lc_.request_timeout);

    if (auto ended = co_await read_head(x, pipelined)) {
      co_await conclude(x, *ended, true);
      co_return false;
    }
    fill_request_fields(x.r, x.head);
    x.head_done = clock::now();
    ++rt_.requests;
    const bool body_pending = !x.head.done();
    after_length_body_ = x.head.chunked() ? 0 : x.head.content_length().value_or(0);

    // The balancer's own refusals, admission and routing. The request was read whole unless
    // its body is still pending (then the connection closes).
    routed to;
    if (auto refused = admit_and_route(x, to)) {
      x.mark_request_read(x.consumed);
      co_await conclude(x, *refused, body_pending || last);
      co_return !body_pending && !last && x.head.keep_alive();
    }

    to.group->connection_started(to.index);
    struct release {
      server_group* g;
      int i;
      ~release() { g->connection_finished(i); }
    } release_guard{to.group, to.index};
    if (auto failed = co_await exchange_.run(x)) {
      co_await conclude(x, *failed, true);
      co_return false;
    }
    emit(x.r, x.start, x.answered_at);
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
          fill_request_fields(x.r, x.head);
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

  struct routed {
    server_group* group = nullptr;
    int index = -1;
  };

  // The refusals before the upstream: TRACE, a forwarding loop, the QPS limits, a group with
  // no server to pick. nullopt: `to` names the server, and x knows where the request goes.
  std::optional<stage_event> admit_and_route(exchange_state& x, routed& to) {
    const request_head& head = x.head;
    if (head.is_trace()) return stage_event::of(client_event::trace_method, client_.context());
    const route rt = route_request(lc_, head.host(), head.target());
    x.trace = &trace_for(*rt.rule_name);
    if (!head.trace().empty() && forwarding_loop(head.trace(), *x.trace)) {
      event_context c = client_.context();
      c.extra = "ALICLOUD-ALB-TRACE: " + head.trace();
      return stage_event::of(client_event::forwarding_loop, std::move(c));
    }
    auto adm = rt_.limiter.admit(ep_.vip_index, ep_.listener_index, rt.rule_index, client_.ip());
    if (!adm.admitted) {
      event_context c = client_.context();
      c.limiter = adm.limiter;
      c.vip_share_limited = adm.vip_share;
      return stage_event::of(client_event::qps_limited, std::move(c));
    }
    if (rt.group_name != group_name_) {  // the group by name, looked up again only on a change
      group_name_ = rt.group_name;
      group_ = rt_.group(*rt.group_name);
    }
    server_group::pick_result pick;
    if (group_) {
      pick = group_->pick(client_.ip_hash());
    } else {
      pick.failure = server_group::pick_failure::empty;
    }
    if (pick.index < 0) {
      return stage_event::of(pick.failure == server_group::pick_failure::all_zero_weight
                                 ? client_event::all_zero_weight
                                 : client_event::no_server,
                             client_.context());
    }
    to = {group_, pick.index};
    const server_config& server = group_->server(pick.index);
    if (&server != key_server_) {  // a connection usually goes to the same few servers
      key_server_ = &server;
      server_key_ = server.address + ":" + std::to_string(server.port);
      latency_slot_ = &rt_.latency.slot_for(server_key_);
    }
    x.server = &server;
    x.server_key = &server_key_;
    x.latency = latency_slot_;
    x.r.upstream_addr = server_key_;
    return std::nullopt;
  }

  // The trace value of the rule that forwarded (computed again only when the rule changes).
  const std::string& trace_for(const std::string& rule_name) {
    if (rule_name != trace_rule_) {
      trace_rule_ = rule_name;
      trace_ = trace_hash(rt_.config.instance.id + "/" + lc_.name + "/" + rule_name);
    }
    return trace_;
  }

  // ---- the one place an early end becomes a status, a reply and a record ------------------------
  task<void> conclude(exchange_state& x, const stage_event& e, bool close) {
    if (e.from == stage_event::side::none) co_return;
    const decision d = decide(e);
    apply(x.r, d);
    if (!d.reply) {
      emit(x.r, x.start);
      co_return;
    }
    co_await send_own_reply(x, local_reply_body(d.status), d.reply_headers, close);
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

  static void apply(access_log_record& r, const decision& d) {
    r.status = d.status;
    r.upstream_status = d.upstream_status;
    r.sim_cause = d.cause;
    r.sim_detail = d.detail;
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
    emit(x.r, x.start);
  }

  // ---- records ----------------------------------------------------------------------------------
  head_limits head_limits_() const {
    return head_limits{limits_.max_uri, limits_.max_header_line,
                       static_cast<std::uint32_t>(limits_.max_header_block), limits_.max_body};
  }

  // `first_byte`: when the request's first byte arrived (the record's time).
  void start_record(access_log_record& r, clock::time_point first_byte) {
    r.clear();
    r.time = wall_time(first_byte);
    r.app_lb_id.assign(rt_.config.instance.id);
    r.vip_addr.assign(ep_.vip);
    r.slb_vport = ep_.port;
    r.client_ip.assign(client_.ip());
    r.client_port = client_.port();
    r.https = lc_.protocol == listener_protocol::https;
    r.upstream_status.assign("-");
  }

  static void fill_request_fields(access_log_record& r, const request_head& h) {
    r.request_method = h.method();
    r.request_uri = h.target();
    r.server_protocol = h.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
    r.host = h.host();
    r.http_user_agent = h.user_agent();
    r.http_referer = h.referer();
    r.http_x_forwarded_for = h.x_forwarded_for();
    r.http_x_real_ip = h.x_real_ip();
  }

  // `now`: when the answer was complete, if the caller already read the clock.
  void emit(access_log_record& r, clock::time_point start, clock::time_point now = {}) {
    if (now == clock::time_point{}) now = clock::now();
    if (aborted_) r.sim_detail += "; interrupted because the balancer was stopping";
    r.request_time = std::chrono::duration<double>(now - start).count();
    r.tcpinfo_rtt = client_.tcpinfo_rtt(now);
    r.ssl_protocol = client_.ssl_protocol();
    r.ssl_cipher = client_.ssl_cipher();
    ++rt_.records;
    if (rt_.log) rt_.log->write(r.render_view());
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
  // Reused by every request of the connection (they keep the memory they have grown).
  access_log_record record_;
  request_head request_head_;
  const std::string* group_name_ = nullptr;  // the group name group_ was looked up by
  server_group* group_ = nullptr;
  const server_config* key_server_ = nullptr;       // the server server_key_ names
  std::string server_key_;                          // "ip:port" of the last server picked
  latency_baseline::slot* latency_slot_ = nullptr;  // that server's usual latency
  std::string trace_rule_{'\0'};                    // the rule trace_ was computed for
  std::string trace_;
  std::uint64_t after_length_body_ = 0;  // the last request's Content-Length body, if any
  bool draining_ = false;                // the proxy is stopping: no further requests
  bool aborted_ = false;                 // the proxy stopped before this request finished
};

}  // namespace

void start_client_session(proxy_runtime& rt, worker& w, const listener_endpoint& ep,
                          tcp::socket socket) {
  ++rt.connections;
  client_session::launch(std::make_shared<client_session>(rt, w, ep, std::move(socket)));
}

}  // namespace albsim::proxy
