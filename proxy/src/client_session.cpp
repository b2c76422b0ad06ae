// One client connection of the simulated balancer, from accept to the last access-log record.
//
// Shape of one exchange (see docs/status-rules.md for the rules that turn events into statuses):
//   wait for the first byte (idle timeout) → read and check the head (limits, TRACE, framing)
//   under the request timeout → admission (QPS limits) → routing (rule → group → server)
//   → upstream: pooled or new connection (connect timeout) → head + body streamed as received
//   → response head under the request timeout while watching for the client leaving
//   → response streamed to the client → one record.
// Every wait is bounded by one watchdog timer per connection (`arm`): moving a deadline later
// costs nothing, so the steady state does no timer work per request.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <sys/socket.h>
#include <cerrno>
#include <charconv>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "client_session.hpp"

#include "access_log_record.hpp"
#include "albsim/fault_ledger.hpp"
#include "albsim/link_conditions.hpp"
#include "client_transport.hpp"
#include "fault_injector.hpp"  // retry kit
#include "http_heads.hpp"
#include "local_reply.hpp"
#include "proxy_runtime.hpp"
#include "router.hpp"
#include "task.hpp"
#include "trace_header.hpp"
#include "worker.hpp"

namespace albsim::proxy {
namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr std::size_t k_idle_read_bytes = 1024;  // first read of a request (grows as needed)
constexpr std::size_t k_coalesce_bytes = 4096;   // a body this small is copied behind its head
// A reply of the balancer's own gets at least k_reply_min_left to be written, else a fresh
// k_reply_grace: a client that does not read cannot hold the connection (albsim's bounds).
constexpr auto k_reply_min_left = std::chrono::seconds(1);
constexpr auto k_reply_grace = std::chrono::seconds(5);
// Closing politely never waits on the peer longer than this.
constexpr auto k_close_grace = std::chrono::seconds(1);
// The kernel's RTT estimate moves slowly: a busy connection reads TCP_INFO at most this often.
constexpr auto k_rtt_refresh = std::chrono::milliseconds(100);

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

double seconds_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
double ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
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
        timer_(w.ioc),
        pace_timer_(w.ioc),
        cbuf_(limits_.max_header_block + limits_.relay_buffer, pool_allocator<char>(w.buffers)),
        ubuf_(limits_.max_header_block + limits_.relay_buffer, pool_allocator<char>(w.buffers)),
        request_head_(head_limits_()),
        response_head_(false, static_cast<std::uint32_t>(limits_.max_header_block)),
        read_shaper_(lc_.client_link, rt.bandwidth_in),
        write_shaper_(lc_.client_link, rt.bandwidth_out) {
    error_code ec;
    s.set_option(tcp::no_delay(true), ec);
    auto remote = s.remote_endpoint(ec);
    if (!ec) {
      client_ip_ = remote.address().to_string();
      client_port_ = remote.port();
      client_ip_hash_ = static_cast<std::uint32_t>(std::hash<std::string>{}(client_ip_));
    }
    fd_ = s.native_handle();
    if (lc_.protocol == listener_protocol::https) {
      raw_ = std::move(s);
    } else {
      tr_ = make_plain_transport(std::move(s));
      plain_ = &tr_->socket();
    }
    link_impaired_ = lc_.client_link.extra_rtt.count() > 0 || lc_.client_link.loss > 0;
    w_.sessions.insert(this);
    ++rt_.live_sessions;
  }

  ~client_session() override {
    w_.sessions.erase(this);
    --rt_.live_sessions;
  }

  void drain() override {
    draining_ = true;
    if (idle_) cancel_io();
  }

  // The connection's coroutines, started at once; they hold the session until they end.
  static root_task launch(std::shared_ptr<client_session> s) {
    s->root_ = co_await this_coroutine{};
    co_await s->run();
    s->root_ = {};
  }

  // Only after the worker's thread has ended: a connection still waiting then never resumes,
  // so its coroutines are destroyed (which releases the session).
  void destroy_stranded() override {
    read_ahead_waiter_ = {};
    if (auto r = std::exchange(root_, {})) r.destroy();
  }

  void abort() override {
    draining_ = true;
    aborted_ = true;
    timed_out_ = true;
    cancel_io();
  }

  task<void> run() {
    auto self = shared_from_this();
    if (lc_.protocol == listener_protocol::https) {
      const bool tls_ok = co_await start_tls();
      if (!tls_ok) {
        finish();
        co_return;
      }
    }
    const std::uint32_t max = std::max<std::uint32_t>(1, lc_.max_requests_per_connection);
    for (std::uint32_t i = 0; i < max; ++i) {
      if (!co_await serve_one(i + 1 == max)) break;
    }
    // Close politely, but never wait on a peer for long.
    arm(clock::now() + k_close_grace);
    if (tr_) co_await tr_->shutdown();
    finish();
  }

 private:
  // ---- deadline watchdog ---------------------------------------------------------------------
  void arm(clock::time_point t) {
    deadline_ = t;
    timed_out_ = false;
    if (armed_ && t >= timer_.expiry()) return;  // the live wait extends itself
    armed_ = true;
    timer_.expires_at(t);
    start_wait(++gen_);
  }
  void start_wait(std::uint64_t g) {
    timer_.async_wait([self = shared_from_this(), g](error_code ec) { self->on_timer(ec, g); });
  }
  void on_timer(error_code ec, std::uint64_t g) {
    if (g != gen_ || finished_) return;
    if (ec == asio::error::operation_aborted) {
      armed_ = false;
      return;
    }
    if (clock::now() < deadline_) {
      timer_.expires_at(deadline_);
      start_wait(g);
      return;
    }
    armed_ = false;
    timed_out_ = true;
    cancel_io();
  }
  void cancel_io() {
    error_code ec;
    if (tr_) tr_->socket().cancel(ec);
    if (raw_) raw_->cancel(ec);
    if (upstream_) upstream_->cancel(ec);
    pace_timer_.cancel();
  }
  void finish() {
    finished_ = true;
    ++gen_;
    ++watch_gen_;
    timer_.cancel();
    pace_timer_.cancel();
    error_code ec;
    if (upstream_) upstream_->close(ec);
    if (tr_) tr_->socket().close(ec);
    if (raw_) raw_->close(ec);
  }

  // ---- client I/O with the simulated client link ---------------------------------------------
  task<void> pause(std::chrono::nanoseconds d) {
    if (d.count() <= 0) co_return;
    pace_timer_.expires_after(d);
    co_await pace_timer_.async_wait(use_task);
  }

  // Counts pacing that only an instance bandwidth cap can explain (both directions' buckets
  // exist together), for telling the *-bandwidth-throttled causes apart.
  void note_shaping(std::chrono::nanoseconds d) {
    if (rt_.bandwidth_in && d > lc_.client_link.extra_rtt) throttled_ += d;
  }

  // Reads what the client sent into cbuf_. `want` bounds the read: an idle connection asks for
  // little, so it holds only a small buffer while it waits.
  task<std::tuple<error_code, std::size_t>> client_read(std::size_t want_at_most = 0) {
    std::size_t room = cbuf_.max_size() - cbuf_.size();
    std::size_t want =
        std::min<std::size_t>(want_at_most ? want_at_most : limits_.relay_buffer, room);
    if (want == 0) co_return std::tuple{error_code(asio::error::no_buffer_space), std::size_t{0}};
    // Plain TCP skips the transport's own coroutine: one frame less per read.
    // (No co_await inside ?: anywhere in this file: GCC 12 can run both arms.)
    error_code ec;
    std::size_t n = 0;
    if (plain_) {
      std::tie(ec, n) = co_await plain_->async_read_some(cbuf_.prepare(want), use_task);
    } else {
      std::tie(ec, n) = co_await tr_->read_some(cbuf_.prepare(want));
    }
    if (!ec || n > 0) cbuf_.commit(n);
    read_done_at_ = clock::now();  // the bytes arrived now; the simulated link may hold them
    if (!ec && read_shaper_.active()) {
      auto d = read_shaper_.delay_for(n);
      note_shaping(d);
      co_await pause(d);
    }
    if (timed_out_) ec = asio::error::timed_out;
    co_return std::tuple{ec, n};
  }

  task<error_code> client_write(std::string_view a, std::string_view b = {}) {
    if (write_shaper_.active()) {
      auto d = write_shaper_.delay_for(a.size() + b.size());
      note_shaping(d);
      co_await pause(d);
      if (timed_out_) co_return asio::error::timed_out;
      // A client that left while the link held the bytes back would not see them: writing into
      // its closed socket would still "succeed", so look first.
      if (client_gone_ || (d.count() > 0 && peer_gone())) co_return asio::error::connection_reset;
    }
    error_code ec;
    if (plain_ && b.empty()) {
      ec = co_await send_all(*plain_, a);
    } else {
      std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                             asio::buffer(b.data(), b.size())};
      if (plain_) {
        std::tie(ec, std::ignore) = co_await asio::async_write(*plain_, bufs, use_task);
      } else {
        std::tie(ec, std::ignore) = co_await tr_->write(bufs);
      }
    }
    if (timed_out_) ec = asio::error::timed_out;
    co_return ec;
  }

  // Sends one buffer. What the socket takes at once goes straight out with send() (cheaper in
  // the kernel than sendmsg() with two pieces) and the request carries on without a trip
  // through the event loop; only a full socket buffer makes it wait, through Asio as usual.
  task<error_code> send_all(tcp::socket& socket, std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(socket.native_handle(), data.data() + done, data.size() - done,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        co_return error_code(errno, boost::system::system_category());
      }
    }
    if (done == data.size()) co_return error_code{};
    auto [ec, n] = co_await asio::async_write(
        socket, asio::buffer(data.data() + done, data.size() - done), use_task);
    co_return ec;
  }

  // Watches the client while the request is with the backend: a FIN or RST means it left.
  //
  // Plain TCP without a simulated link watches by reading ahead: the read that will carry the
  // next request starts now. A FIN or RST ends it while the backend is answering (the client
  // left); bytes simply wait in the buffer as the next request; and after the answer the same
  // read goes on as the idle wait. That costs no system call beyond the read itself. TLS and
  // shaped links wait for readability instead and look at the socket then.
  void watch_client() {
    if (!tr_) return;
    watching_ = true;
    if (plain_ && !read_shaper_.active()) {
      start_read_ahead();
      return;
    }
    auto g = ++watch_gen_;
    tr_->socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), g](error_code ec) {
      if (ec || g != self->watch_gen_ || self->finished_) return;
      if (self->peer_gone()) {
        self->client_gone_ = true;
        error_code ignored;
        if (self->upstream_) self->upstream_->cancel(ignored);
        self->pace_timer_.cancel();
      }
      // Data (a pipelined request or a TLS record) ends the watch: it stays in the socket.
    });
  }
  void stop_watch() {
    if (!watching_) return;
    watching_ = false;
    if (read_ahead_ != read_ahead::none) return;  // the read goes on as the idle wait
    ++watch_gen_;
    error_code ec;
    if (tr_) tr_->socket().cancel(ec);
  }

  // The buffer is empty here; an idle connection keeps only a small one.
  void start_read_ahead() {
    if (cbuf_.capacity() > 2 * k_idle_read_bytes) cbuf_.shrink_to_fit();
    read_ahead_ = read_ahead::pending;
    plain_->async_read_some(
        cbuf_.prepare(k_idle_read_bytes),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read_ahead(ec, n); });
  }
  void on_read_ahead(error_code ec, std::size_t n) {
    cbuf_.commit(n);
    read_done_at_ = clock::now();
    read_ahead_ = read_ahead::done;
    read_ahead_ec_ = ec;
    read_ahead_n_ = n;
    if (finished_) return;
    if (auto waiter = std::exchange(read_ahead_waiter_, {})) {
      waiter.resume();
      return;
    }
    if (watching_ && n == 0 && ec != asio::error::operation_aborted) {
      client_gone_ = true;
      error_code ignored;
      if (upstream_) upstream_->cancel(ignored);
      pace_timer_.cancel();
    }
  }
  // Suspends until the read-ahead completes; its handler resumes the waiter directly.
  struct read_ahead_done {
    client_session& s;
    bool await_ready() const noexcept { return s.read_ahead_ != read_ahead::pending; }
    void await_suspend(std::coroutine_handle<> h) noexcept { s.read_ahead_waiter_ = h; }
    void await_resume() const noexcept {}
  };
  // The outcome of the read-ahead, waiting for it if it has not completed yet. Cancelling the
  // socket (timeouts, stopping) completes the read, which then wakes this.
  task<std::tuple<error_code, std::size_t>> finish_read_ahead() {
    co_await read_ahead_done{*this};
    read_ahead_ = read_ahead::none;
    error_code ec = timed_out_ ? error_code(asio::error::timed_out) : read_ahead_ec_;
    co_return std::tuple{ec, read_ahead_n_};
  }
  bool peer_gone() const {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;
  }

  // The kernel's smoothed RTT of the client connection plus the simulated link's. The kernel
  // value moves slowly, so a busy connection asks for it at most every 100 ms.
  std::optional<std::uint64_t> tcpinfo_rtt(clock::time_point now) {
    if (!rtt_us_ || now - rtt_read_at_ > k_rtt_refresh) {
      tcp_info info{};
      socklen_t len = sizeof info;
      if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
      rtt_us_ = info.tcpi_rtt;
      rtt_read_at_ = now;
    }
    auto extra = std::chrono::duration_cast<std::chrono::microseconds>(lc_.client_link.extra_rtt);
    return *rtt_us_ + static_cast<std::uint64_t>(extra.count());
  }

  // ---- TLS ------------------------------------------------------------------------------------
  // An HTTPS port looks at the first byte: a TLS handshake record starts with 0x16; anything
  // else is plain text sent to the wrong port.
  task<bool> start_tls() {
    arm(clock::now() + lc_.idle_timeout);
    auto [ec] = co_await raw_->async_wait(tcp::socket::wait_read, use_task);
    if (ec || timed_out_) co_return false;
    unsigned char first = 0;
    ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) co_return false;
    if (first != 0x16) {
      tr_ = make_plain_transport(std::move(*raw_));
      plain_ = &tr_->socket();
      raw_.reset();
      co_await plain_on_https();
      co_return false;
    }
    tr_ = make_tls_transport(std::move(*raw_), *rt_.tls[ep_.listener_index]);
    raw_.reset();
    arm(clock::now() + lc_.request_timeout);
    auto hs = co_await tr_->handshake();
    co_return !hs && !timed_out_;
  }

  task<void> plain_on_https() {
    access_log_record r = new_record();
    const auto start = clock::now();
    arm(start + lc_.request_timeout);
    request_head head(head_limits_());
    // Read what the client sends until its head ends (bounded), to log method and target.
    std::uint64_t consumed = 0;
    for (;;) {
      error_code ec;
      std::string_view data(static_cast<const char*>(cbuf_.data().data()), cbuf_.size());
      std::size_t n = head.feed(data, ec);
      cbuf_.consume(n);
      consumed += n;
      if (ec || head.header_done()) break;
      auto [rec, got] = co_await client_read();
      if (rec) break;
    }
    fill_request_fields(r, head);
    mark_request_read(r, start, consumed + cbuf_.size());
    event_context c;
    apply(r, rt_.outcomes.client(client_event::plain_http_on_https, c));
    co_await send_own_reply(r, start, k_plain_http_on_https_body, "", true);
  }

  // ---- records --------------------------------------------------------------------------------
  head_limits head_limits_() const {
    return head_limits{limits_.max_uri, limits_.max_header_line,
                       static_cast<std::uint32_t>(limits_.max_header_block), limits_.max_body};
  }

  access_log_record new_record() {
    access_log_record r;
    start_record(r, clock::now());
    return r;
  }
  // `first_byte`: when the request's first byte arrived (the record's time).
  void start_record(access_log_record& r, clock::time_point first_byte) {
    r.clear();
    r.time = wall_time(first_byte);
    r.app_lb_id.assign(rt_.config.instance.id);
    r.vip_addr.assign(ep_.vip);
    r.slb_vport = ep_.port;
    r.client_ip.assign(client_ip_);
    r.client_port = client_port_;
    r.https = lc_.protocol == listener_protocol::https;
    r.upstream_status.assign("-");
  }

  void fill_request_fields(access_log_record& r, const request_head& h) {
    r.request_method = h.method();
    r.request_uri = h.target();
    r.server_protocol = h.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
    r.host = h.host();
    r.http_user_agent = h.user_agent();
    r.http_referer = h.referer();
    r.http_x_forwarded_for = h.x_forwarded_for();
    r.http_x_real_ip = h.x_real_ip();
  }

  static void apply(access_log_record& r, const decision& d) {
    r.status = d.status;
    r.upstream_status = d.upstream_status;
    r.sim_cause = d.cause;
    r.sim_detail = d.detail;
  }

  // How much of the request arrived (`bytes`: line, head and body) and when it was complete
  // (or stopped): request_length and read_request_time, the same way on every path.
  static void mark_request_read(access_log_record& r, clock::time_point start, std::uint64_t bytes,
                                clock::time_point read_until = clock::now()) {
    r.request_length = bytes;
    r.read_request_time = ms_between(start, read_until);
  }

  // `now`: when the answer was complete, if the caller already read the clock.
  void emit(access_log_record& r, clock::time_point start, clock::time_point now = {}) {
    if (now == clock::time_point{}) now = clock::now();
    if (aborted_) r.sim_detail += "; interrupted because the balancer was stopping";
    r.request_time = seconds_between(start, now);
    r.tcpinfo_rtt = tcpinfo_rtt(now);
    if (tr_) {
      r.ssl_protocol = tr_->ssl_protocol();
      r.ssl_cipher = tr_->ssl_cipher();
    }
    ++rt_.records;
    if (rt_.log) rt_.log->write(r.render_view());
    rt_.observe(r, request_head_.forward_fields(), inj_);  // retry kit: journal and metrics
  }

  event_context context() const {
    event_context c;
    c.client_link_impaired = link_impaired_;
    c.bandwidth_throttled = throttled_ > k_throttle_evidence;
    return c;
  }

  // A reply the balancer makes itself, then the record.
  task<void> send_own_reply(access_log_record& r, clock::time_point start, std::string_view body,
                            std::string_view extra_headers, bool close) {
    const std::string head = local_reply_head(r.status, body.size(), extra_headers, close);
    const auto write_start = clock::now();
    // The reply gets its own short bound: a client that does not read cannot hold it forever.
    if (timed_out_ || deadline_ < clock::now() + k_reply_min_left)
      arm(clock::now() + k_reply_grace);
    auto ec = co_await client_write(head, body);
    if (!ec) r.body_bytes_sent = body.size();
    r.write_response_time = ms_between(write_start, clock::now());
    emit(r, start);
  }

  task<void> own_reply(access_log_record& r, clock::time_point start, const decision& d,
                       std::string_view extra_headers, bool close) {
    apply(r, d);
    co_await send_own_reply(r, start, local_reply_body(d.status), extra_headers, close);
  }

  // ---- one request ------------------------------------------------------------------------------
  // Returns true when the connection may carry another request.
  task<bool> serve_one(bool last) {
    throttled_ = 0ns;
    clock::time_point first_byte_at;
    // 1. The first byte, under the idle timeout. Plain TCP waits without a buffer, so an idle
    //    connection holds no read memory.
    const bool pipelined = cbuf_.size() > 0;  // bytes left behind by the previous request
    if (cbuf_.size() == 0) {
      after_length_body_ = 0;
      // An idle connection keeps only a small read buffer (10,000 idle connections stay small).
      if (read_ahead_ != read_ahead::pending) cbuf_.shrink_to_fit();
      ubuf_.shrink_to_fit();
      if (draining_) co_return false;
      arm(clock::now() + lc_.idle_timeout);
      idle_ = true;
      error_code ec;
      std::size_t n = 0;
      if (read_ahead_ != read_ahead::none) {
        std::tie(ec, n) = co_await finish_read_ahead();
      } else {
        std::tie(ec, n) = co_await client_read(k_idle_read_bytes);
      }
      idle_ = false;
      if ((ec && n == 0) || draining_) co_return false;
      first_byte_at = read_done_at_;
    } else {
      read_ahead_ = read_ahead::none;  // it brought the bytes of this request
      first_byte_at = clock::now();
    }
    // The request starts with its first byte, which the idle read may already have taken.
    const auto start = first_byte_at;
    // The record and the head parser are the connection's, reused request after request.
    access_log_record& r = record_;
    start_record(r, start);
    inj_.clear();  // retry kit: no injection until the injection stage decides one
    arm(start + lc_.request_timeout);

    // 2. The head.
    request_head& head = request_head_;
    head.reset(head_limits_());
    std::uint64_t consumed = 0;
    for (;;) {
      error_code ec;
      if (cbuf_.size() > 0) {
        std::string_view data(static_cast<const char*>(cbuf_.data().data()), cbuf_.size());
        std::size_t n = head.feed(data, ec);
        if (ec) {
          std::string detail;
          auto f = classify_request_error(ec, data, limits_.max_uri, &detail);
          fill_request_fields(r, head);
          mark_request_read(r, start, consumed + cbuf_.size());
          event_context c = context();
          c.extra = detail;
          client_event e = f == request_failure::uri_too_long ? client_event::uri_too_long
                           : f == request_failure::header_line_too_long
                               ? client_event::header_line_too_long
                           : f == request_failure::bad_framing ? client_event::bad_framing
                                                               : client_event::invalid_head;
          if (e == client_event::invalid_head && pipelined && after_length_body_) {
            // Bytes that came right behind a body of declared length and are no request: the
            // body was longer than its Content-Length said (the guide's example of a 400).
            e = client_event::bad_framing;
            c.extra = "the bytes after the previous request's " +
                      std::to_string(after_length_body_) +
                      "-byte body are no request: the body was longer than its Content-Length (" +
                      detail + ")";
          }
          co_await own_reply(r, start, rt_.outcomes.client(e, c), "", true);
          co_return false;
        }
        cbuf_.consume(n);
        consumed += n;
        if (head.header_done()) break;
      }
      auto [rec, got] = co_await client_read();
      if (rec && consumed == 0 && cbuf_.size() == 0 && rec != asio::error::timed_out) {
        co_return false;  // the client closed between requests: nothing to log
      }
      if (rec) {
        mark_request_read(r, start, consumed + cbuf_.size());
        if (rec == asio::error::timed_out) {
          event_context c = context();
          c.timeout = lc_.request_timeout;
          c.extra = "the request head was not complete";
          co_await own_reply(r, start, rt_.outcomes.client(client_event::request_timeout, c), "",
                             true);
        } else {
          event_context c = context();
          c.extra = "during the request head, after " + std::to_string(r.request_length) + " bytes";
          apply(r, rt_.outcomes.client(client_event::closed_early, c));
          emit(r, start);
        }
        co_return false;
      }
    }
    fill_request_fields(r, head);
    head_done_at_ = clock::now();
    ++rt_.requests;
    const bool body_pending = !head.done();
    after_length_body_ = head.chunked() ? 0 : head.content_length().value_or(0);

    // 3. Requests the balancer refuses itself, before and after routing and admission. The
    //    request was read whole unless its body is still pending (then the connection closes).
    const bool may_continue = !body_pending && !last && head.keep_alive();
    // (A coroutine of its own, so the decision lives until the reply is written.)
    auto refuse = [&](client_event e, event_context c,
                      std::string_view headers = {}) -> task<void> {
      mark_request_read(r, start, consumed);
      co_await own_reply(r, start, rt_.outcomes.client(e, c), headers, body_pending || last);
    };
    if (head.is_trace()) {
      co_await refuse(client_event::trace_method, context());
      co_return may_continue;
    }

    // 4. Routing and admission.
    const route rt = route_request(lc_, head.host(), head.target());
    const int rule_index = rt.rule_index;
    const std::string* group_name = rt.group_name;
    const std::string* rule_name = rt.rule_name;
    if (!head.trace().empty() && forwarding_loop(head.trace(), trace_for(*rule_name))) {
      event_context c = context();
      c.extra = "ALICLOUD-ALB-TRACE: " + head.trace();
      co_await refuse(client_event::forwarding_loop, c);
      co_return may_continue;
    }
    // clang-format off
    rt_.injector.decide(lc_.fault_injection, head, client_ip_, rt_.ledger, inj_);  // retry kit
    if (inj_.reply) {  // retry kit: the balancer's own reply for an injected cause
      mark_request_read(r, start, consumed);  // retry kit
      co_await own_reply(r, start, *inj_.reply, inj_.reply_fields, body_pending || last);  // retry kit
      co_return may_continue;  // retry kit
    }
    // clang-format on
    auto adm = rt_.limiter.admit(ep_.vip_index, ep_.listener_index, rule_index, client_ip_);
    if (!adm.admitted) {
      event_context c = context();
      c.limiter = adm.limiter;
      c.vip_share_limited = adm.vip_share;
      co_await refuse(client_event::qps_limited, c, "ALB-QPS-Limited: Limited\r\n");
      co_return may_continue;
    }
    // clang-format off
    if (inj_.server) {  // retry kit: a fault backend stands in for the scheduler's pick
      key_server_ = nullptr;  // retry kit
      latency_slot_ = &rt_.latency.slot_for(inj_.server_key);  // retry kit
      r.upstream_addr = inj_.server_key;  // retry kit
      co_return co_await exchange(r, start, head, consumed, *inj_.server, inj_.server_key, *rule_name, last);  // retry kit
    }
    // clang-format on
    if (group_name != group_name_) {  // the group by name, looked up again only on a change
      group_name_ = group_name;
      group_ = rt_.group(*group_name);
    }
    server_group* group = group_;
    server_group::pick_result pick;
    if (group) {
      pick = group->pick(client_ip_hash_);
    } else {
      pick.failure = server_group::pick_failure::empty;
    }
    if (pick.index < 0) {
      co_await refuse(pick.failure == server_group::pick_failure::all_zero_weight
                          ? client_event::all_zero_weight
                          : client_event::no_server,
                      context());
      co_return may_continue;
    }

    // 5. Upstream.
    const server_config& server = group->server(pick.index);
    group->connection_started(pick.index);
    struct release {
      server_group* g;
      int i;
      ~release() { g->connection_finished(i); }
    } release_guard{group, pick.index};
    if (&server != key_server_) {  // a connection usually goes to the same few servers
      key_server_ = &server;
      server_key_ = server.address + ":" + std::to_string(server.port);
      latency_slot_ = &rt_.latency.slot_for(server_key_);
    }
    const std::string& server_key = server_key_;
    r.upstream_addr = server_key;
    bool keep = co_await exchange(r, start, head, consumed, server, server_key, *rule_name, last);
    co_return keep;
  }

  // The trace value of the rule that forwarded (computed again only when the rule changes).
  const std::string& trace_for(const std::string& rule_name) {
    if (rule_name != trace_rule_) {
      trace_rule_ = rule_name;
      trace_ = trace_hash(rt_.config.instance.id + "/" + lc_.name + "/" + rule_name);
    }
    return trace_;
  }

  // The head sent upstream, built in a buffer the connection reuses.
  const std::string& upstream_head(const request_head& head, const std::string& rule_name,
                                   const std::string& server_key) {
    std::string& out = upstream_head_;
    out.clear();
    out.append(head.method()).append(" ").append(head.target()).append(" HTTP/1.1\r\n");
    // One Host, and the framing as the proxy itself frames the body it forwards. An HTTP/1.0
    // request may come without Host; the HTTP/1.1 request forwarded for it names the server.
    out.append("Host: ").append(head.has_host() ? head.host() : server_key).append("\r\n");
    out.append(head.framing_field());
    out.append(inj_.upstream_fields);  // retry kit: the fault backend's action, read first
    out.append(head.forward_fields());
    const auto& f = lc_.forwarded;
    if (f.x_forwarded_for) {
      out.append("X-Forwarded-For: ");
      if (!head.x_forwarded_for().empty()) out.append(head.x_forwarded_for()).append(", ");
      out.append(client_ip_).append("\r\n");
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
          .append(std::to_string(client_port_))
          .append("\r\n");
    }
    if (f.slb_id) out.append("SLB-ID: ").append(rt_.config.instance.id).append("\r\n");
    out.append("ALICLOUD-ALB-TRACE: ");
    if (!head.trace().empty()) out.append(head.trace()).append(", ");
    out.append(trace_for(rule_name)).append("\r\n\r\n");
    return out;
  }

  // What an in-process backend noted about the current upstream connection (only looked up
  // when something went wrong, so the happy path does no address formatting).
  std::optional<fault_note> backend_note() {
    if (!upstream_ || !upstream_server_ || !rt_.ledger) return std::nullopt;
    error_code ec;
    auto local = upstream_->local_endpoint(ec);
    if (ec) return std::nullopt;
    return rt_.ledger->take(fault_ledger::key(local.address().to_string(), local.port(),
                                              upstream_server_->address, upstream_server_->port));
  }

  void drop_upstream() {
    error_code ec;
    if (upstream_) upstream_->close(ec);
    upstream_.reset();
  }

  // What the stages of one exchange share: the record, the request, where it goes, and the
  // time stamps the record's timings come from.
  struct exchange_state {
    access_log_record& r;
    clock::time_point start;  // the request's first byte
    request_head& head;
    std::uint64_t consumed;  // head bytes
    const server_config& server;
    const std::string& server_key;
    const std::string& rule_name;
    bool last;                          // the connection's last request
    clock::time_point connect_start{};  // upstream_response_time counts from here
    clock::time_point request_done{};   // the request was complete (read_request_time)
    clock::time_point response_head_at{};
    std::uint64_t body_bytes = 0;
  };

  // The upstream part of one request, stage by stage; returns whether the client connection
  // may continue. A stage that ends the exchange has sent the reply and written the record.
  task<bool> exchange(access_log_record& r, clock::time_point start, request_head& head,
                      std::uint64_t consumed, const server_config& server,
                      const std::string& server_key, const std::string& rule_name, bool last) {
    exchange_state x{r, start, head, consumed, server, server_key, rule_name, last};
    std::optional<bool> end = co_await connect_upstream(x);
    if (end) co_return *end;
    end = co_await send_request(x);
    if (end) co_return *end;
    end = co_await read_response_head(x);
    if (end) co_return *end;
    co_return co_await relay_response(x);
  }

  // 5a. A pooled connection, or a new one under the connect timeout; nullopt: go on.
  task<std::optional<bool>> connect_upstream(exchange_state& x) {
    access_log_record& r = x.r;
    const auto start = x.start;
    request_head& head = x.head;
    const std::uint64_t consumed = x.consumed;
    const server_config& server = x.server;
    const std::string& server_key = x.server_key;
    // 5a. Connection: a pooled one, or a new one under the connect timeout. (Routing and
    // admission do not wait, so the head's completion time is when this starts.)
    x.connect_start = head_done_at_;
    const auto connect_start = x.connect_start;
    upstream_server_ = &server;
    if (auto pooled = w_.pool.checkout(server_key)) {
      upstream_.emplace(std::move(*pooled));
      r.upstream_connect_time = 0.0;
    } else {
      upstream_.emplace(w_.ioc);
      error_code ec;
      auto address = asio::ip::make_address(server.address, ec);
      tcp::endpoint ep(address, server.port);
      arm(std::min(connect_start + limits_.upstream_connect_timeout, start + lc_.request_timeout));
      if (!ec) std::tie(ec) = co_await upstream_->async_connect(ep, use_task);
      r.upstream_connect_time = seconds_between(connect_start, clock::now());
      if (ec || timed_out_) {
        r.upstream_response_time = r.upstream_connect_time;
        // A request without a body was read completely before the connect began.
        mark_request_read(r, start, consumed + cbuf_.size(),
                          head.done() ? head_done_at_ : clock::now());
        event_context c = context();
        c.timeout = limits_.upstream_connect_timeout;
        // A reset during the handshake means the backend took the connection and threw it
        // away at once (an overflowing accept queue does this): the request was never delivered.
        exchange_event e = timed_out_                              ? exchange_event::connect_timeout
                           : ec == asio::error::connection_refused ? exchange_event::connect_refused
                           : ec == asio::error::connection_reset   ? exchange_event::send_failed
                                                                   : exchange_event::connect_error;
        if (e != exchange_event::connect_refused && e != exchange_event::connect_timeout) {
          c.extra = ec.message();
          c.backend_note = backend_note();
        }
        drop_upstream();
        co_await own_reply(r, start, rt_.outcomes.upstream(e, c), "", true);
        co_return std::optional<bool>(false);
      }
      upstream_->set_option(tcp::no_delay(true), ec);
    }
    arm(start + lc_.request_timeout);

    co_return std::nullopt;
  }

  // 5b. The head, then the body exactly as the client frames it, as it arrives.
  task<std::optional<bool>> send_request(exchange_state& x) {
    access_log_record& r = x.r;
    const auto start = x.start;
    request_head& head = x.head;
    const std::uint64_t consumed = x.consumed;
    const std::string& server_key = x.server_key;
    const std::string& rule_name = x.rule_name;
    const auto connect_start = x.connect_start;
    // 5b. The request: head, then the body exactly as the client frames it, as it arrives.
    const bool body_expected = !head.done();
    if (body_expected && head.expects_continue()) {
      // Like the balancer, answer "100 Continue" itself so the client starts sending.
      co_await client_write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    const std::string& up_head = upstream_head(head, rule_name, server_key);
    bool head_sent = false;
    std::uint64_t& body_bytes = x.body_bytes;
    auto send_failed = [&](error_code ec) -> decision {
      event_context c = context();
      c.backend_note = backend_note();
      c.extra = "writing the request failed: " + ec.message();
      return rt_.outcomes.upstream(exchange_event::send_failed, c);
    };
    for (;;) {
      std::string_view chunk;
      if (!head.done() && cbuf_.size() > 0) {
        error_code ec;
        std::string_view data(static_cast<const char*>(cbuf_.data().data()), cbuf_.size());
        std::size_t n = head.feed(data, ec);
        if (ec) {
          // The body's framing broke (e.g. a bad chunk): the upstream request cannot be finished.
          drop_upstream();
          r.upstream_response_time = seconds_between(connect_start, clock::now());
          mark_request_read(r, start, consumed + n);
          event_context c = context();
          c.extra = ec.message();
          co_await own_reply(r, start, rt_.outcomes.client(client_event::bad_framing, c), "", true);
          co_return std::optional<bool>(false);
        }
        chunk = data.substr(0, n);
      }
      if (!head_sent || !chunk.empty()) {
        const std::string_view first = head_sent ? std::string_view() : std::string_view(up_head);
        error_code ec;
        if (first.empty() || chunk.empty()) {
          ec = co_await send_all(*upstream_, first.empty() ? chunk : first);
        } else {
          std::array<asio::const_buffer, 2> bufs{asio::buffer(first.data(), first.size()),
                                                 asio::buffer(chunk.data(), chunk.size())};
          std::tie(ec, std::ignore) = co_await asio::async_write(*upstream_, bufs, use_task);
        }
        if (ec || timed_out_) {
          r.upstream_response_time = seconds_between(connect_start, clock::now());
          mark_request_read(r, start, consumed + body_bytes + chunk.size());
          decision d;
          if (timed_out_) {
            // The backend stopped taking the request (e.g. a blackholed link) and the request
            // timeout ran out: the balancer gives up on the backend.
            event_context c = context();
            c.backend_note = backend_note();
            c.timeout = lc_.request_timeout;
            d = rt_.outcomes.upstream(exchange_event::send_timeout, c);
          } else {
            d = send_failed(ec);
          }
          drop_upstream();
          co_await own_reply(r, start, d, "", true);
          co_return std::optional<bool>(false);
        }
        head_sent = true;
        cbuf_.consume(chunk.size());
        body_bytes += chunk.size();
      }
      if (head.done()) break;
      auto [rec, got] = co_await client_read();
      if (rec) {
        drop_upstream();
        r.upstream_response_time = seconds_between(connect_start, clock::now());
        mark_request_read(r, start, consumed + body_bytes + cbuf_.size());
        if (rec == asio::error::timed_out) {
          event_context c = context();
          c.timeout = lc_.request_timeout;
          c.extra = "the body stopped after " + std::to_string(body_bytes) + " bytes" +
                    (head.content_length() ? " of " + std::to_string(*head.content_length()) : "");
          co_await own_reply(r, start, rt_.outcomes.client(client_event::request_timeout, c), "",
                             true);
        } else {
          event_context c = context();
          c.extra = "during the body, after " + std::to_string(body_bytes) + " body bytes";
          apply(r, rt_.outcomes.client(client_event::closed_early, c));
          emit(r, start);
        }
        co_return std::optional<bool>(false);
      }
    }
    // A request without a body was complete with its head.
    x.request_done = body_expected ? clock::now() : head_done_at_;
    const auto request_done = x.request_done;
    mark_request_read(r, start, consumed + body_bytes, request_done);

    co_return std::nullopt;
  }

  // 5c. The response head, under the request timeout, while the client is watched.
  task<std::optional<bool>> read_response_head(exchange_state& x) {
    access_log_record& r = x.r;
    const auto start = x.start;
    request_head& head = x.head;
    const auto connect_start = x.connect_start;
    const auto request_done = x.request_done;
    // 5c. The response head, under the request timeout, while watching for the client leaving.
    arm(request_done + lc_.request_timeout);
    client_gone_ = false;
    if (cbuf_.size() == 0) watch_client();
    response_head* rh = &response_head_;
    rh->reset(head.is_head(), static_cast<std::uint32_t>(limits_.max_header_block));
    std::uint64_t received = 0;
    std::optional<exchange_event> failure;
    std::string failure_detail;
    for (;;) {
      if (ubuf_.size() > 0) {
        error_code ec;
        std::string_view data(static_cast<const char*>(ubuf_.data().data()), ubuf_.size());
        std::size_t n = rh->feed(data, ec);
        if (ec) {
          failure = exchange_event::malformed_response;
          failure_detail = ec.message();
          break;
        }
        ubuf_.consume(n);
        if (rh->header_done()) {
          if (rh->status() >= 100 && rh->status() < 200 && rh->status() != 101) {
            // An interim answer (e.g. 100 Continue): the balancer already sent its own.
            rh->reset(head.is_head(), static_cast<std::uint32_t>(limits_.max_header_block));
            continue;
          }
          break;
        }
      }
      std::size_t want =
          std::min<std::size_t>(limits_.relay_buffer, ubuf_.max_size() - ubuf_.size());
      // The backend cannot have answered a request sent a moment ago: let the work already
      // queued run first, so that the first read usually finds the answer instead of
      // costing a system call that finds nothing.
      if (received == 0) {
        co_await yield_to{w_.ioc.get_executor()};
        if (client_gone_ || timed_out_) {  // nothing was waiting to be cancelled meanwhile
          if (timed_out_ && !client_gone_) failure = exchange_event::response_timeout;
          break;
        }
      }
      auto [ec, n] = co_await upstream_->async_read_some(ubuf_.prepare(want), use_task);
      ubuf_.commit(n);
      received += n;
      if (client_gone_) break;
      if (timed_out_) {
        failure = exchange_event::response_timeout;
        break;
      }
      if (ec) {
        if (ec == asio::error::eof) {
          failure = received == 0 ? exchange_event::closed_before_response
                                  : exchange_event::partial_response_header;
        } else if (ec == asio::error::connection_reset) {
          failure = received == 0 ? exchange_event::reset_before_response
                                  : exchange_event::partial_response_header;
        } else {
          failure = received == 0 ? exchange_event::reset_before_response
                                  : exchange_event::partial_response_header;
        }
        failure_detail = ec.message();
        break;
      }
    }
    stop_watch();
    if (client_gone_) {
      event_context c = context();
      c.waited = clock::now() - request_done;
      c.usual_latency = latency_baseline::usual(*latency_slot_);
      c.waiting_on_backend = true;
      drop_upstream();
      r.upstream_response_time = seconds_between(connect_start, clock::now());
      apply(r, rt_.outcomes.client(client_event::left_before_response, c));
      emit(r, start);
      co_return std::optional<bool>(false);
    }
    if (failure) {
      event_context c = context();
      c.backend_note = backend_note();
      c.timeout = lc_.request_timeout;
      c.extra = failure_detail;
      r.upstream_response_time = seconds_between(connect_start, clock::now());
      drop_upstream();
      ubuf_.clear();
      co_await own_reply(r, start, rt_.outcomes.upstream(*failure, c), "", true);
      co_return std::optional<bool>(false);
    }
    x.response_head_at = clock::now();
    const auto response_head_at = x.response_head_at;
    latency_baseline::observe(*latency_slot_, response_head_at - request_done);

    if (auto d = rt_.outcomes.rewritten_status(rh->status())) {
      drop_upstream();
      ubuf_.clear();
      r.upstream_response_time = seconds_between(connect_start, clock::now());
      co_await own_reply(r, start, *d, "", true);
      co_return std::optional<bool>(false);
    }

    co_return std::nullopt;
  }

  // 6. The response to the client, streamed; returns whether the connection may go on.
  task<bool> relay_response(exchange_state& x) {
    access_log_record& r = x.r;
    const auto start = x.start;
    request_head& head = x.head;
    const auto connect_start = x.connect_start;
    const auto request_done = x.request_done;
    const std::string& server_key = x.server_key;
    const bool last = x.last;
    response_head* rh = &response_head_;
    const auto response_head_at = x.response_head_at;
    // 6. The response to the client, streamed.
    const int status = rh->status();
    r.status = status;
    char digits[12];
    const std::string_view status_text(digits,
                                       std::to_chars(digits, digits + sizeof digits, status).ptr);
    r.upstream_status.assign(status_text);
    r.sim_cause = passthrough_cause(status);
    if (r.sim_cause == "ok") {
      r.sim_detail.assign("the backend answered ").append(status_text);
    } else {
      r.sim_detail.assign("the backend itself answered ")
          .append(status_text)
          .append("; the balancer passed it on unchanged");
    }
    const bool close_client = last || !head.keep_alive() || head.version() == 10 || rh->need_eof();
    std::string& client_head = client_head_;
    client_head.clear();
    client_head.append("HTTP/1.1 ")
        .append(status_text)
        .append(" ")
        .append(rh->reason())
        .append("\r\n");
    client_head.append(rh->forward_fields());
    if (close_client) client_head.append("Connection: close\r\n");
    client_head.append("\r\n");
    const auto write_start = response_head_at;
    std::uint64_t body_out = 0;
    bool head_out = false;
    bool upstream_ok = true;
    bool client_ok = true;
    for (;;) {
      std::string_view chunk;
      if (!rh->done() && ubuf_.size() > 0) {
        error_code ec;
        std::string_view data(static_cast<const char*>(ubuf_.data().data()), ubuf_.size());
        std::size_t n = rh->feed(data, ec);
        if (ec) {
          upstream_ok = false;
          r.sim_detail += "; the response body's framing broke: " + ec.message();
          break;
        }
        chunk = data.substr(0, n);
      }
      if (!head_out || !chunk.empty()) {
        std::string_view first = head_out ? std::string_view() : std::string_view(client_head);
        std::string_view second = chunk;
        if (!head_out && chunk.size() <= k_coalesce_bytes) {
          // A small body travels in the same buffer as the head: one plain send().
          client_head.append(chunk);
          first = client_head;
          second = {};
        }
        auto ec = co_await client_write(first, second);
        if (ec) {
          client_ok = false;
          break;
        }
        body_out += chunk.size();
        ubuf_.consume(chunk.size());
        head_out = true;
      }
      if (rh->done()) break;
      arm(clock::now() + lc_.request_timeout);
      std::size_t want =
          std::min<std::size_t>(limits_.relay_buffer, ubuf_.max_size() - ubuf_.size());
      auto [ec, n] = co_await upstream_->async_read_some(ubuf_.prepare(want), use_task);
      ubuf_.commit(n);
      if (ec == asio::error::eof && rh->need_eof()) {
        error_code e2;
        rh->feed_eof(e2);
        break;
      }
      if (ec || timed_out_) {
        upstream_ok = false;
        r.sim_detail += "; the backend's response ended early (" +
                        (timed_out_ ? std::string("timed out") : ec.message()) +
                        "), so the client got a truncated body";
        break;
      }
    }
    const auto done = clock::now();
    r.upstream_response_time = seconds_between(connect_start, done);
    r.write_response_time = ms_between(write_start, done);
    // body_bytes_sent counts the body (with its framing) as it left the balancer.
    r.body_bytes_sent = body_out;
    if (!client_ok) {
      event_context c = context();
      c.waited = clock::now() - request_done;
      c.usual_latency = latency_baseline::usual(*latency_slot_);
      c.waiting_on_backend = true;
      c.during_response_body = true;
      c.backend_status = status;
      c.extra = "it left while the response was being sent (" + std::to_string(body_out) +
                " body bytes delivered)";
      apply(r, rt_.outcomes.client(client_event::left_before_response, c));
      drop_upstream();
      emit(r, start);
      co_return false;
    }
    if (upstream_ok && rh->done() && rh->keep_alive() && ubuf_.size() == 0) {
      w_.pool.checkin(server_key, std::move(*upstream_));
      upstream_.reset();
    } else {
      drop_upstream();
      ubuf_.clear();
    }
    emit(r, start, done);
    co_return upstream_ok && !close_client && !draining_;
  }

  std::coroutine_handle<> root_;  // the connection's outermost coroutine while it runs
  // Reused by every request of the connection (they keep the memory they have grown).
  access_log_record record_;
  std::string upstream_head_;
  std::string client_head_;
  fault_injection inj_;  // retry kit: this request's injected fault, if any
  proxy_runtime& rt_;
  worker& w_;
  listener_endpoint ep_;
  const listener_config& lc_;
  const limits_config& limits_;
  asio::steady_timer timer_;
  asio::steady_timer pace_timer_;
  using relay_buffer = boost::beast::basic_flat_buffer<pool_allocator<char>>;
  relay_buffer cbuf_;
  relay_buffer ubuf_;
  request_head request_head_;    // parses every request of the connection in turn
  response_head response_head_;  // and every response
  link_shaper read_shaper_;
  link_shaper write_shaper_;
  std::unique_ptr<client_transport> tr_;
  tcp::socket* plain_ = nullptr;    // tr_'s socket when the client speaks plain TCP
  std::optional<tcp::socket> raw_;  // HTTPS before the first byte is seen
  std::optional<tcp::socket> upstream_;
  const server_config* upstream_server_ = nullptr;  // where upstream_ leads
  std::string client_ip_;
  std::uint32_t client_ip_hash_ = 0;  // for source-IP consistent hashing
  std::uint16_t client_port_ = 0;
  const std::string* group_name_ = nullptr;  // the group name group_ was looked up by
  server_group* group_ = nullptr;
  const server_config* key_server_ = nullptr;       // the server server_key_ names
  std::string server_key_;                          // "ip:port" of the last server picked
  latency_baseline::slot* latency_slot_ = nullptr;  // that server's usual latency
  std::string trace_rule_{'\0'};                    // the rule trace_ was computed for
  std::string trace_;
  int fd_ = -1;
  clock::time_point deadline_ = clock::time_point::max();
  std::uint64_t gen_ = 0;
  std::uint64_t watch_gen_ = 0;
  bool armed_ = false;
  bool watching_ = false;  // the request is with the backend and the client is watched
  enum class read_ahead { none, pending, done } read_ahead_ = read_ahead::none;
  std::coroutine_handle<> read_ahead_waiter_;  // the idle wait, while the read-ahead runs
  error_code read_ahead_ec_;
  std::size_t read_ahead_n_ = 0;
  bool timed_out_ = false;
  bool client_gone_ = false;
  bool finished_ = false;
  bool link_impaired_ = false;
  bool idle_ = false;      // waiting between requests
  bool draining_ = false;  // the proxy is stopping: no further requests on this connection
  bool aborted_ = false;   // the proxy stopped before this request finished
  std::uint64_t after_length_body_ = 0;  // the last request's Content-Length body, if any
  std::chrono::nanoseconds throttled_{0};
  clock::time_point head_done_at_;
  clock::time_point read_done_at_;
  std::optional<std::uint64_t> rtt_us_;  // last TCP_INFO reading
  clock::time_point rtt_read_at_;        // when the last client read completed  // when the current
                                         // request's head was complete
};

}  // namespace

void start_client_session(proxy_runtime& rt, worker& w, const listener_endpoint& ep,
                          tcp::socket socket) {
  ++rt.connections;
  client_session::launch(std::make_shared<client_session>(rt, w, ep, std::move(socket)));
}

}  // namespace albsim::proxy
