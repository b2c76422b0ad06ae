// backend_server::start: the listener side of the faulty backend. Each transport mode is a
// real kernel effect on the listening socket (see docs/backend.md, "Transport modes").
#include "albsim/backend/backend_server.hpp"
#include "albsim/fault_ledger.hpp"
#include "albsim/log_throttle.hpp"
#include "albsim/ops_log.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "backend_report.hpp"
#include "backend_session.hpp"
#include "kernel_listen_overflows.hpp"
#include "server_context.hpp"

namespace albsim::backend {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// queue-full-silent: how long a probe connect may take before we call its SYN dropped, and how
// many held connections we try before giving up on filling the queue.
constexpr std::chrono::milliseconds k_probe_timeout{100};
constexpr int k_max_fillers = 16;
// After a failed accept (descriptors exhausted): how long to wait before trying again.
constexpr std::chrono::milliseconds k_accept_pause{10};

// Non-blocking connect bounded by `timeout`; true when the handshake completed.
bool connect_within(tcp::socket& s, const tcp::endpoint& to, std::chrono::milliseconds timeout) {
  error_code ec;
  s.open(to.protocol(), ec);
  if (ec) return false;
  s.native_non_blocking(true, ec);
  // Asio's connect() waits for completion whatever the mode; ::connect() does not.
  if (::connect(s.native_handle(), to.data(), static_cast<socklen_t>(to.size())) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{s.native_handle(), POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(s.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

class running_backend final : public backend_server {
 public:
  explicit running_backend(backend_options options)
      : options_(std::move(options)),
        context_(options_),
        ioc_(std::make_unique<asio::io_context>(options_.threads)),
        work_(asio::make_work_guard(*ioc_)) {
    open();
    for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { ioc_->run(); });
  }
  ~running_backend() override { stop(); }

  std::string address() const override { return options_.bind_address; }
  std::uint16_t port() const override { return port_; }
  backend_counters counters() const override {
    backend_counters c = context_.snapshot();
    if (kernel_overflows_at_start_) {
      // queue-full-silent: the kernel drops the SYNs itself; report its count since we started.
      auto now = read_listen_overflows();
      if (now && *now >= *kernel_overflows_at_start_)
        c.overflows += *now - *kernel_overflows_at_start_;
    }
    return c;
  }

  std::vector<wire_event> events() const override { return context_.journal.events(); }

  void stop() override {
    std::lock_guard lock(stop_mutex_);
    if (!ioc_) return;
    ioc_->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    fillers_.clear();
    acceptor_.reset();
    work_.reset();
    ioc_.reset();  // destroys the sessions still open, closing their sockets
    if (options_.log_on_stop) {
      ops_log().info("{}", render_summary_line(options_.name, counters()));
    }
  }

 private:
  void open() {
    error_code ec;
    auto addr = asio::ip::make_address(options_.bind_address, ec);
    if (ec)
      throw std::runtime_error("backend " + options_.name + ": bad bind address '" +
                               options_.bind_address + "'");
    tcp::endpoint at(addr, options_.port);
    acceptor_.emplace(*ioc_);
    acceptor_->open(at.protocol(), ec);
    if (!ec && options_.mode != transport_mode::refuse) {
      acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) acceptor_->bind(at, ec);
    if (ec) {
      throw std::runtime_error("backend " + options_.name + ": cannot bind " +
                               options_.bind_address + ":" + std::to_string(options_.port) + ": " +
                               ec.message());
    }
    port_ = acceptor_->local_endpoint().port();
    switch (options_.mode) {
      case transport_mode::refuse:
        break;  // bound, never listening: the kernel answers SYNs with RST
      case transport_mode::queue_full_silent:
        acceptor_->listen(0);
        fill_accept_queue(tcp::endpoint(addr, port_));
        kernel_overflows_at_start_ = read_listen_overflows();
        break;
      case transport_mode::normal:
      case transport_mode::queue_full_reset:
        acceptor_->listen(asio::socket_base::max_listen_connections);
        asio::co_spawn(*ioc_, accept_loop(), asio::detached);
        break;
    }
  }

  // Holds loopback connections of our own until a probe's SYN is dropped: the accept queue is
  // full, and (tcp_abort_on_overflow=0) the kernel silently drops further SYNs.
  void fill_accept_queue(const tcp::endpoint& at) {
    for (int i = 0; i < k_max_fillers; ++i) {
      tcp::socket s(*ioc_);
      if (!connect_within(s, at, k_probe_timeout)) return;  // dropped: the queue is full
      fillers_.push_back(std::move(s));
    }
    throw std::runtime_error("backend " + options_.name +
                             ": could not fill the accept queue (queue-full-silent)");
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      asio::any_io_executor ex = options_.threads > 1
                                     ? asio::any_io_executor(asio::make_strand(*ioc_))
                                     : asio::any_io_executor(ioc_->get_executor());
      auto [ec, socket] = co_await acceptor_->async_accept(ex, asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // Out of descriptors (EMFILE) or a connection aborted before accept: say so at most once
        // a second and pause, instead of retrying in a busy loop; accepting resumes by itself.
        std::uint64_t held = 0;
        if (accept_errors_.allow(held)) {
          ops_log().warn("backend {}: accept failed: {} ({} more since the last report)",
                         options_.name, ec.message(), held);
        }
        asio::steady_timer pause(ex, k_accept_pause);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (options_.mode == transport_mode::queue_full_reset) {
        // What tcp_abort_on_overflow=1 does to a connection the queue has no room for: reset it
        // without reading a byte.
        error_code ignored;
        // Tell an in-process proxy why this connection breaks (see fault_ledger.hpp): on a real
        // host the overflow reset comes before any request byte is acknowledged.
        auto peer = socket.remote_endpoint(ignored);
        auto local = socket.local_endpoint(ignored);
        if (!ignored && options_.ledger) {
          options_.ledger->note(
              fault_ledger::key(peer.address().to_string(), peer.port(),
                                local.address().to_string(), local.port()),
              {"502-backlog-full",
               "the backend's accept queue was full and reset the connection (an overflow, as "
               "with tcp_abort_on_overflow=1)"});
        }
        // Count first: whoever sees the RST may read the counters at once.
        bump(context_.counters.overflows);
        bump(context_.counters.resets);
        context_.journal.note(++context_.connection_ids, wire_event_kind::reset,
                              "accept queue overflow");
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        continue;
      }
      start_session(std::move(socket), context_);
    }
  }

  backend_options options_;
  server_context context_;
  std::unique_ptr<asio::io_context> ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::optional<tcp::acceptor> acceptor_;
  std::vector<tcp::socket> fillers_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  std::optional<std::uint64_t> kernel_overflows_at_start_;
  std::mutex stop_mutex_;
  log_throttle accept_errors_;
};

}  // namespace

std::unique_ptr<backend_server> backend_server::start(backend_options options) {
  if (options.threads < 1) options.threads = 1;
  return std::make_unique<running_backend>(std::move(options));
}

}  // namespace albsim::backend
