// Idle keep-alive connections to backends, one pool per worker thread (so no locking). A
// connection is only reused when a zero-cost check shows the backend has not closed it.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace albsim::proxy {

class upstream_pool {
 public:
  using socket = boost::asio::ip::tcp::socket;

  explicit upstream_pool(std::size_t per_server) : per_server_(per_server) {}

  // An idle connection to `server` ("ip:port") that is still open, if any.
  std::optional<socket> checkout(const std::string& server);
  // Keeps the connection for reuse (closes it when the pool for that server is full).
  void checkin(const std::string& server, socket s);
  void clear();

 private:
  std::size_t per_server_;
  std::unordered_map<std::string, std::vector<socket>> idle_;
};

}  // namespace albsim::proxy
