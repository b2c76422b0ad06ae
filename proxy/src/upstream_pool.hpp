// Idle keep-alive connections to backends, one pool per worker thread (so no locking). A
// connection that has been idle for a while is only reused when a non-blocking peek shows the
// backend has not closed it; one returned moments ago is reused at once (a backend closes an
// idle keep-alive connection after seconds, not microseconds), which saves a system call on
// every request of a busy connection. A connection idle for `idle_timeout`
// (limits.upstream_idle_timeout) is closed: by a checkout that finds it, or by sweep(), which
// the worker runs on a timer.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace albsim::proxy {

class upstream_pool {
 public:
  using socket = boost::asio::ip::tcp::socket;

  upstream_pool(std::size_t per_server, std::chrono::nanoseconds idle_timeout)
      : per_server_(per_server), idle_timeout_(idle_timeout) {}

  // An idle connection to `server` ("ip:port") that is still open, if any.
  std::optional<socket> checkout(const std::string& server);
  // Keeps the connection for reuse (closes it when the pool for that server is full).
  void checkin(const std::string& server, socket s);
  // Closes every connection idle for idle_timeout or longer.
  void sweep();
  void clear();
  std::size_t idle_count() const;

 private:
  static constexpr std::chrono::milliseconds k_trust_fresh{50};
  struct idle_connection {
    socket s;
    std::chrono::steady_clock::time_point since;
  };
  std::size_t per_server_;
  std::chrono::nanoseconds idle_timeout_;
  std::unordered_map<std::string, std::vector<idle_connection>> idle_;
};

}  // namespace albsim::proxy
