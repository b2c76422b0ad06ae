// The admin API's listener (config `admin`, docs/retry-kit.md): HTTP/1.1 on its own thread
// and io_context, apart from the workers, so that a test harness can always reach it. It binds
// to 127.0.0.1 by default; on any other address every request must carry the Bearer token.
#pragma once

#include <cstdint>
#include <memory>
#include <thread>

#include "admin_api.hpp"

namespace albsim::proxy {

class admin_server {
 public:
  // Binds and starts serving; throws std::runtime_error when it cannot bind.
  explicit admin_server(proxy_runtime& rt);
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  std::uint16_t port() const { return port_; }
  // Stops accepting, ends the connections and joins the thread. Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace albsim::proxy
