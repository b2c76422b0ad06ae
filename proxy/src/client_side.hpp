// The client's end of one connection: its transport (plain TCP or TLS), the read buffer, the
// simulated client link (shapers), the one deadline watchdog of the connection, and the watch
// that notices a client leaving while the backend works. It reads and writes bytes; it never
// decides a status.
#pragma once

#include <chrono>
#include <coroutine>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "albsim/link_conditions.hpp"
#include "block_pool.hpp"
#include "client_transport.hpp"
#include "listener_endpoint.hpp"
#include "outcome_table.hpp"
#include "task.hpp"

namespace albsim::proxy {

struct proxy_runtime;
struct worker;

using relay_buffer = boost::beast::basic_flat_buffer<pool_allocator<char>>;

class client_side {
 public:
  using clock = std::chrono::steady_clock;
  // The first read of a request asks for this much (the buffer grows as needed).
  static constexpr std::size_t k_idle_read_bytes = 1024;

  client_side(proxy_runtime& rt, worker& w, const listener_endpoint& ep, tcp::socket s);

  // The session that owns this side; callbacks hold it alive while they are pending.
  void anchor(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
  // The upstream socket the watchdog also cancels (a deadline ends the whole exchange).
  void cancels_with(std::optional<tcp::socket>& upstream) { upstream_ = &upstream; }

  // ---- the deadline watchdog: one timer; moving a deadline later costs nothing.
  void arm(clock::time_point t);
  clock::time_point deadline() const { return deadline_; }
  bool timed_out() const { return timed_out_; }
  // Cancels every pending wait of the connection (client, upstream, pacing).
  void cancel_io();
  // Ends the wait in progress as if its deadline had passed (the proxy is stopping).
  void interrupt() {
    timed_out_ = true;
    cancel_io();
  }
  // Stops everything and closes both sockets; nothing resumes after this.
  void close();
  bool closed() const { return finished_; }

  // ---- TLS: an HTTPS port looks at the first byte (0x16 opens a TLS handshake).
  enum class tls_start { ready, plain_text, failed };
  task<tls_start> start_tls(std::chrono::nanoseconds idle_timeout,
                            std::chrono::nanoseconds handshake_timeout);

  // ---- reading
  relay_buffer& buffer() { return buf_; }
  // Reads into buffer(), at most `want_at_most` bytes (0: a relay buffer's worth).
  task<std::tuple<error_code, std::size_t>> read_some(std::size_t want_at_most = 0);
  // The wait for a request's first byte: finishes the read-ahead if one runs, else reads a
  // little. `idle()` is true while it waits.
  task<std::tuple<error_code, std::size_t>> first_byte();
  bool idle() const { return idle_; }
  // Lets the idle connection give back read memory (not while a read-ahead owns the buffer).
  void shrink_idle_buffer();
  // The bytes of a finished read-ahead are in buffer() and belong to the next request.
  void take_read_ahead() { read_ahead_ = read_ahead::none; }
  clock::time_point read_done_at() const { return read_done_at_; }

  // ---- writing, through the simulated link
  task<error_code> write(std::string_view a, std::string_view b = {});

  // ---- the client leaving while the backend works
  void watch();
  // The same, once the work already queued on this thread has run, unless stop_watch() came
  // first: a read started just before, that completes at once, then needs no watch.
  void watch_soon();
  bool watching() const { return watching_; }
  void stop_watch();
  bool left() const { return gone_; }
  void reset_left() { gone_ = false; }

  // ---- what the record needs
  std::optional<std::uint64_t> tcpinfo_rtt(clock::time_point now);
  std::string ssl_protocol() const { return tr_ ? tr_->ssl_protocol() : std::string(); }
  std::string ssl_cipher() const { return tr_ ? tr_->ssl_cipher() : std::string(); }
  const std::string& ip() const { return ip_; }
  std::uint16_t port() const { return port_; }
  std::uint32_t ip_hash() const { return ip_hash_; }
  bool link_impaired() const { return link_impaired_; }
  // Pacing in this exchange that only the instance bandwidth cap explains.
  std::chrono::nanoseconds throttled() const { return throttled_; }
  void reset_throttled() { throttled_ = std::chrono::nanoseconds(0); }
  // What the client's link tells the outcome table (impaired link, bandwidth cap at work).
  event_context context() const {
    event_context c;
    c.client_link_impaired = link_impaired_;
    c.bandwidth_throttled = throttled_ > k_throttle_evidence;
    return c;
  }

  // Ends the connection politely (TLS close_notify, TCP FIN).
  task<void> shutdown();
  // After the worker's thread has ended: the idle wait will never resume.
  void forget_waiter() { read_ahead_waiter_ = {}; }

 private:
  // `link`: the listener's client link when the connection was accepted (client_links.hpp).
  client_side(proxy_runtime& rt, worker& w, const listener_endpoint& ep, tcp::socket s,
              const link_conditions& link);
  task<void> pause(std::chrono::nanoseconds d);
  void note_shaping(std::chrono::nanoseconds d);
  void start_wait(std::uint64_t g);
  void on_timer(error_code ec, std::uint64_t g);
  void start_read_ahead();
  void on_read_ahead(error_code ec, std::size_t n);
  void on_gone();
  task<std::tuple<error_code, std::size_t>> finish_read_ahead();
  bool peer_gone() const;

  struct read_ahead_done;
  enum class read_ahead { none, pending, done };

  std::weak_ptr<void> owner_;
  std::chrono::nanoseconds extra_rtt_;
  bool capped_;                        // an instance bandwidth cap shapes this listener
  asio::ssl::context* tls_ = nullptr;  // the listener's, for HTTPS
  std::size_t relay_buffer_;
  asio::steady_timer timer_;
  asio::steady_timer pace_timer_;
  asio::io_context::executor_type ex_;
  relay_buffer buf_;
  link_shaper read_shaper_;
  link_shaper write_shaper_;
  std::unique_ptr<client_transport> tr_;
  tcp::socket* plain_ = nullptr;    // tr_'s socket when the client speaks plain TCP
  std::optional<tcp::socket> raw_;  // HTTPS before the first byte is seen
  std::optional<tcp::socket>* upstream_ = nullptr;
  std::string ip_;
  std::uint32_t ip_hash_ = 0;  // for source-IP consistent hashing
  std::uint16_t port_ = 0;
  int fd_ = -1;
  clock::time_point deadline_ = clock::time_point::max();
  std::uint64_t gen_ = 0;
  std::uint64_t watch_gen_ = 0;
  std::uint64_t watch_soon_gen_ = 0;  // a later watch_soon() or stop_watch() voids one pending
  std::uint64_t cancels_ = 0;         // cancel_io() calls
  read_ahead read_ahead_ = read_ahead::none;
  std::coroutine_handle<> read_ahead_waiter_;  // the idle wait, while the read-ahead runs
  error_code read_ahead_ec_;
  std::size_t read_ahead_n_ = 0;
  bool armed_ = false;
  bool watching_ = false;  // the request is with the backend and the client is watched
  bool timed_out_ = false;
  bool gone_ = false;
  bool finished_ = false;
  bool idle_ = false;
  bool link_impaired_ = false;
  std::chrono::nanoseconds throttled_{0};
  clock::time_point read_done_at_;       // when the last client read completed
  std::optional<std::uint64_t> rtt_us_;  // last TCP_INFO reading
  clock::time_point rtt_read_at_;
};

}  // namespace albsim::proxy
