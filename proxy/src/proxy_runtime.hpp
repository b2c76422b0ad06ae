// State shared by every connection of one running proxy: the frozen config and what is built
// from it (outcome table, limiters, server groups), the access log and the counters. Workers
// (one io_context and thread each) hold their own upstream pool.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "albsim/proxy/access_log.hpp"
#include "albsim/proxy/config.hpp"
#include "albsim/token_bucket.hpp"
#include "block_pool.hpp"
#include "outcome_table.hpp"
#include "qps_limiter.hpp"
#include "server_group.hpp"
#include "upstream_pool.hpp"

namespace albsim::proxy {

// The usual latency of each backend (an exponentially weighted average of recent answers),
// used to tell "backend slow" from "client timeout too short" when a client leaves. A
// connection looks its server's slot up once and then updates it without a lock: the slots
// never move, and an update lost to a race only nudges an average.
class latency_baseline {
 public:
  using slot = std::atomic<double>;  // nanoseconds; negative: nothing observed yet
  slot& slot_for(const std::string& server);
  static void observe(slot& s, std::chrono::nanoseconds d);
  static std::optional<std::chrono::nanoseconds> usual(const slot& s);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, slot> slots_;
};

struct proxy_runtime {
  explicit proxy_runtime(proxy_config c);

  proxy_config config;
  outcome_table outcomes;
  qps_limiter limiter;
  std::vector<std::unique_ptr<server_group>> groups;
  std::unordered_map<std::string, server_group*> group_by_name;
  std::shared_ptr<access_log_sink> log;
  std::shared_ptr<token_bucket> bandwidth_in;   // instance cap, client → balancer
  std::shared_ptr<token_bucket> bandwidth_out;  // instance cap, balancer → client
  latency_baseline latency;
  std::shared_ptr<fault_ledger> ledger;  // notes of in-process backends, if any
  std::vector<std::unique_ptr<boost::asio::ssl::context>> tls;  // per listener (null for HTTP)

  std::atomic<std::uint64_t> connections{0}, requests{0}, records{0};
  std::atomic<std::int64_t> live_sessions{0};

  server_group* group(const std::string& name) const;
};

// What the worker can ask of a live connection when the proxy stops.
class session_control {
 public:
  virtual ~session_control() = default;
  // Finish the request in progress (if any), then close; an idle connection closes now.
  virtual void drain() = 0;
  // Give up on the request in progress now (it is logged as interrupted), then close.
  virtual void abort() = 0;
  // After the worker's thread has ended: free a connection that can no longer resume.
  virtual void destroy_stranded() = 0;
};

struct worker {
  explicit worker(const proxy_runtime& rt)
      : buffers(rt.config.limits.relay_buffer, k_kept_buffers),
        // One thread runs each worker and every socket of a worker is used only on that
        // thread, so the reactor needs no per-socket locking (posting from other threads, as
        // stop() does, stays safe).
        ioc(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
        pool(rt.config.limits.upstream_pool_size) {}
  static constexpr std::size_t k_kept_buffers = 64;
  // Before ioc: connections destroyed with ioc give their buffers back and leave the set.
  block_pool buffers;
  std::unordered_set<session_control*> sessions;  // touched only on this worker's thread
  boost::asio::io_context ioc;
  upstream_pool pool;
};

// What an accepted connection came in on.
struct listener_endpoint {
  std::size_t listener_index = 0;
  std::size_t vip_index = 0;
  std::string vip;
  std::uint16_t port = 0;
};

// Starts serving one accepted connection (runs until the connection ends).
void start_client_session(proxy_runtime& rt, worker& w, const listener_endpoint& ep,
                          boost::asio::ip::tcp::socket socket);

}  // namespace albsim::proxy
