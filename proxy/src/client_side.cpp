// The client's end of one connection (client_side.hpp).
#include "client_side.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <sys/socket.h>
#include <cerrno>

#include <boost/asio/write.hpp>

#include "proxy_runtime.hpp"
#include "socket_send.hpp"
#include "worker.hpp"

namespace albsim::proxy {

namespace {
// The kernel's RTT estimate moves slowly: a busy connection reads TCP_INFO at most this often.
constexpr auto k_rtt_refresh = std::chrono::milliseconds(100);
}  // namespace

client_side::client_side(proxy_runtime& rt, worker& w, const listener_endpoint& ep, tcp::socket s)
    : client_side(rt, w, ep, std::move(s), rt.links.current(ep.listener_index)) {}

client_side::client_side(proxy_runtime& rt, worker& w, const listener_endpoint& ep, tcp::socket s,
                         const link_conditions& link)
    : extra_rtt_(link.extra_rtt),
      capped_(rt.bandwidth_in != nullptr),
      relay_buffer_(rt.config.limits.relay_buffer),
      timer_(w.ioc),
      pace_timer_(w.ioc),
      ex_(w.ioc.get_executor()),
      buf_(rt.config.limits.max_header_block + rt.config.limits.relay_buffer,
           pool_allocator<char>(w.buffers)),
      read_shaper_(link, rt.bandwidth_in),
      write_shaper_(link, rt.bandwidth_out) {
  const listener_config& lc = rt.config.listeners[ep.listener_index];
  error_code ec;
  s.set_option(tcp::no_delay(true), ec);
  auto remote = s.remote_endpoint(ec);
  if (!ec) {
    ip_ = remote.address().to_string();
    port_ = remote.port();
    ip_hash_ = static_cast<std::uint32_t>(std::hash<std::string>{}(ip_));
  }
  fd_ = s.native_handle();
  if (lc.protocol == listener_protocol::https) {
    tls_ = rt.tls[ep.listener_index].get();
    raw_ = std::move(s);
  } else {
    tr_ = make_plain_transport(std::move(s));
    plain_ = &tr_->socket();
  }
  link_impaired_ = link.extra_rtt.count() > 0 || link.loss > 0;
}

// ---- watchdog ----------------------------------------------------------------------------------

void client_side::arm(clock::time_point t) {
  deadline_ = t;
  timed_out_ = false;
  if (armed_ && t >= timer_.expiry()) return;  // the live wait extends itself
  armed_ = true;
  timer_.expires_at(t);
  start_wait(++gen_);
}

void client_side::start_wait(std::uint64_t g) {
  timer_.async_wait([keep = owner_.lock(), this, g](error_code ec) { on_timer(ec, g); });
}

void client_side::on_timer(error_code ec, std::uint64_t g) {
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

void client_side::cancel_io() {
  ++cancels_;
  error_code ec;
  if (tr_) tr_->socket().cancel(ec);
  if (raw_) raw_->cancel(ec);
  if (upstream_ && *upstream_) (*upstream_)->cancel(ec);
  pace_timer_.cancel();
}

void client_side::close() {
  finished_ = true;
  ++gen_;
  ++watch_gen_;
  timer_.cancel();
  pace_timer_.cancel();
  error_code ec;
  if (upstream_ && *upstream_) (*upstream_)->close(ec);
  if (tr_) tr_->socket().close(ec);
  if (raw_) raw_->close(ec);
}

task<void> client_side::shutdown() {
  if (tr_) co_await tr_->shutdown();
}

// ---- TLS ---------------------------------------------------------------------------------------

task<client_side::tls_start> client_side::start_tls(std::chrono::nanoseconds idle_timeout,
                                                    std::chrono::nanoseconds handshake_timeout) {
  arm(clock::now() + idle_timeout);
  auto [ec] = co_await raw_->async_wait(tcp::socket::wait_read, use_task);
  if (ec || timed_out_) co_return tls_start::failed;
  unsigned char first = 0;
  ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) co_return tls_start::failed;
  if (first != 0x16) {
    tr_ = make_plain_transport(std::move(*raw_));
    plain_ = &tr_->socket();
    raw_.reset();
    co_return tls_start::plain_text;
  }
  tr_ = make_tls_transport(std::move(*raw_), *tls_);
  raw_.reset();
  arm(clock::now() + handshake_timeout);
  auto hs = co_await tr_->handshake();
  co_return !hs && !timed_out_ ? tls_start::ready : tls_start::failed;
}

// ---- reading and writing through the simulated link --------------------------------------------

task<void> client_side::pause(std::chrono::nanoseconds d) {
  if (d.count() <= 0) co_return;
  pace_timer_.expires_after(d);
  co_await pace_timer_.async_wait(use_task);
}

// Counts pacing that only an instance bandwidth cap can explain (both directions' buckets
// exist together), for telling the *-bandwidth-throttled causes apart.
void client_side::note_shaping(std::chrono::nanoseconds d) {
  if (capped_ && d > extra_rtt_) throttled_ += d;
}

// `want_at_most` bounds the read: an idle connection asks for little, so it holds only a small
// buffer while it waits.
task<std::tuple<error_code, std::size_t>> client_side::read_some(std::size_t want_at_most) {
  std::size_t room = buf_.max_size() - buf_.size();
  std::size_t want = std::min<std::size_t>(want_at_most ? want_at_most : relay_buffer_, room);
  if (want == 0) co_return std::tuple{error_code(asio::error::no_buffer_space), std::size_t{0}};
  // Plain TCP skips the transport's own coroutine: one frame less per read.
  // (No co_await inside ?: anywhere here: GCC 12 can run both arms.)
  error_code ec;
  std::size_t n = 0;
  if (plain_) {
    std::tie(ec, n) = co_await plain_->async_read_some(buf_.prepare(want), use_task);
  } else {
    std::tie(ec, n) = co_await tr_->read_some(buf_.prepare(want));
  }
  if (!ec || n > 0) buf_.commit(n);
  read_done_at_ = clock::now();  // the bytes arrived now; the simulated link may hold them
  if (!ec && read_shaper_.active()) {
    auto d = read_shaper_.delay_for(n);
    note_shaping(d);
    co_await pause(d);
  }
  if (timed_out_) ec = asio::error::timed_out;
  co_return std::tuple{ec, n};
}

task<std::tuple<error_code, std::size_t>> client_side::first_byte() {
  idle_ = true;
  error_code ec;
  std::size_t n = 0;
  if (read_ahead_ != read_ahead::none) {
    std::tie(ec, n) = co_await finish_read_ahead();
  } else {
    // The answer has just gone out: the client cannot have sent its next request yet, and a
    // read that finds nothing costs a system call. Let the work already queued run first.
    // A cancel_io() meanwhile (a deadline, or drain() of this idle connection) found no read to
    // end: it ends this one before it starts.
    if (plain_) {
      const std::uint64_t cancels = cancels_;
      co_await yield_to{ex_};
      if (timed_out_ || cancels != cancels_) {
        idle_ = false;
        const error_code why = timed_out_ ? asio::error::timed_out : asio::error::operation_aborted;
        co_return std::tuple{why, std::size_t{0}};
      }
    }
    std::tie(ec, n) = co_await read_some(k_idle_read_bytes);
  }
  idle_ = false;
  co_return std::tuple{ec, n};
}

void client_side::shrink_idle_buffer() {
  // An idle connection keeps only a small read buffer (10,000 idle connections stay small).
  if (read_ahead_ != read_ahead::pending) buf_.shrink_to_fit();
}

task<error_code> client_side::write(std::string_view a, std::string_view b) {
  if (write_shaper_.active()) {
    auto d = write_shaper_.delay_for(a.size() + b.size());
    note_shaping(d);
    co_await pause(d);
    if (timed_out_) co_return asio::error::timed_out;
    // A client that left while the link held the bytes back would not see them: writing into
    // its closed socket would still "succeed", so look first.
    if (gone_ || (d.count() > 0 && peer_gone())) co_return asio::error::connection_reset;
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

// ---- the client leaving ------------------------------------------------------------------------
//
// Plain TCP without a simulated link watches by reading ahead: the read that will carry the
// next request starts now. A FIN or RST ends it while the backend is answering (the client
// left); bytes simply wait in the buffer as the next request; and after the answer the same
// read goes on as the idle wait. That costs no system call beyond the read itself. TLS and
// shaped links wait for readability instead and look at the socket then.
void client_side::watch() {
  if (!tr_) return;
  watching_ = true;
  if (plain_ && !read_shaper_.active()) {
    start_read_ahead();
    return;
  }
  auto g = ++watch_gen_;
  tr_->socket().async_wait(tcp::socket::wait_read, [keep = owner_.lock(), this, g](error_code ec) {
    if (ec || g != watch_gen_ || finished_) return;
    if (peer_gone()) on_gone();
    // Data (a pipelined request or a TLS record) ends the watch: it
    // stays in the socket.
  });
}

// Asio completes a read that found its bytes at once by queueing the completion; this start,
// queued after it, then finds the watch no longer wanted.
void client_side::watch_soon() {
  const std::uint64_t g = ++watch_soon_gen_;
  asio::post(ex_, [keep = owner_.lock(), this, g] {
    if (g == watch_soon_gen_ && !finished_ && !watching_) watch();
  });
}

void client_side::stop_watch() {
  ++watch_soon_gen_;
  if (!watching_) return;
  watching_ = false;
  if (read_ahead_ != read_ahead::none) return;  // the read goes on as the idle wait
  ++watch_gen_;
  error_code ec;
  if (tr_) tr_->socket().cancel(ec);
}

void client_side::on_gone() {
  gone_ = true;
  error_code ignored;
  if (upstream_ && *upstream_) (*upstream_)->cancel(ignored);
  pace_timer_.cancel();
}

// The buffer is empty here; an idle connection keeps only a small one.
void client_side::start_read_ahead() {
  if (buf_.capacity() > 2 * k_idle_read_bytes) buf_.shrink_to_fit();
  read_ahead_ = read_ahead::pending;
  plain_->async_read_some(
      buf_.prepare(k_idle_read_bytes),
      [keep = owner_.lock(), this](error_code ec, std::size_t n) { on_read_ahead(ec, n); });
}

void client_side::on_read_ahead(error_code ec, std::size_t n) {
  buf_.commit(n);
  read_done_at_ = clock::now();
  read_ahead_ = read_ahead::done;
  read_ahead_ec_ = ec;
  read_ahead_n_ = n;
  if (finished_) return;
  if (auto waiter = std::exchange(read_ahead_waiter_, {})) {
    waiter.resume();
    return;
  }
  if (watching_ && n == 0 && ec != asio::error::operation_aborted) on_gone();
}

// Suspends until the read-ahead completes; its handler resumes the waiter directly.
struct client_side::read_ahead_done {
  client_side& s;
  bool await_ready() const noexcept { return s.read_ahead_ != read_ahead::pending; }
  void await_suspend(std::coroutine_handle<> h) noexcept { s.read_ahead_waiter_ = h; }
  void await_resume() const noexcept {}
};

// The outcome of the read-ahead, waiting for it if it has not completed yet. Cancelling the
// socket (timeouts, stopping) completes the read, which then wakes this.
task<std::tuple<error_code, std::size_t>> client_side::finish_read_ahead() {
  co_await read_ahead_done{*this};
  read_ahead_ = read_ahead::none;
  error_code ec = timed_out_ ? error_code(asio::error::timed_out) : read_ahead_ec_;
  co_return std::tuple{ec, read_ahead_n_};
}

bool client_side::peer_gone() const {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0;
}

// The kernel's smoothed RTT of the client connection plus the simulated link's.
std::optional<std::uint64_t> client_side::tcpinfo_rtt(clock::time_point now) {
  if (!rtt_us_ || now - rtt_read_at_ > k_rtt_refresh) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
    rtt_us_ = info.tcpi_rtt;
    rtt_read_at_ = now;
  }
  auto extra = std::chrono::duration_cast<std::chrono::microseconds>(extra_rtt_);
  return *rtt_us_ + static_cast<std::uint64_t>(extra.count());
}

}  // namespace albsim::proxy
