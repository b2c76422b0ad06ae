// One worker: an io_context on its own thread, with the connections, relay buffers and
// upstream pool that only that thread touches.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "block_pool.hpp"
#include "proxy_runtime.hpp"
#include "session_control.hpp"
#include "upstream_pool.hpp"

namespace albsim::proxy {

struct worker {
 private:
  std::chrono::nanoseconds pool_idle_;

 public:
  explicit worker(const proxy_runtime& rt)
      : pool_idle_(rt.config.limits.upstream_idle_timeout),
        buffers(rt.config.limits.relay_buffer, k_kept_buffers),
        // One thread runs each worker and every socket of a worker is used only on that
        // thread, so the reactor needs no per-socket locking (posting from other threads, as
        // stop() does, stays safe).
        ioc(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
        pool(rt.config.limits.upstream_pool_size, rt.config.limits.upstream_idle_timeout),
        pool_sweep(ioc) {
    sweep_pool();
  }
  static constexpr std::size_t k_kept_buffers = 64;
  // Before ioc: connections destroyed with ioc give their buffers back and leave the set.
  block_pool buffers;
  std::unordered_set<session_control*> sessions;  // touched only on this worker's thread
  boost::asio::io_context ioc;
  upstream_pool pool;
  boost::asio::steady_timer pool_sweep;  // closes pooled connections past their idle timeout

 private:
  // Twice per idle timeout (at least every second), so a connection outlives it by at most
  // half of it; the timer's wait ends with the worker's io_context.
  void sweep_pool() {
    using namespace std::chrono;
    const auto every = std::clamp<nanoseconds>(pool_idle_ / 2, milliseconds(10), seconds(1));
    pool_sweep.expires_after(every);
    pool_sweep.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      pool.sweep();
      sweep_pool();
    });
  }
};

}  // namespace albsim::proxy
