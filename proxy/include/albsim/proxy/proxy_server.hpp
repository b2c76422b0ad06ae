// The simulated balancer as an object: start it from a config, read back the bound addresses,
// stop it. `albsim serve`, the scenarios and the tests all run this same code. The header keeps
// Asio out so that users compile fast.
#pragma once

#include "albsim/fault_ledger.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "albsim/proxy/access_log.hpp"
#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

struct bound_listener {
  std::string name;
  listener_protocol protocol;
  std::string address;  // the VIP
  std::uint16_t port;   // the real port (after :0)
};

struct proxy_counters {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t records = 0;
};

class proxy_server {
 public:
  // Binds every listener on every VIP and starts `worker_threads` threads. Throws
  // std::runtime_error when a listener cannot bind. Servers naming an embedded backend must
  // already carry their real address and port.
  // `ledger`: the notes of the in-process backends started with this proxy (none: the proxy
  // classifies every failure from the socket alone).
  static std::unique_ptr<proxy_server> start(proxy_config config,
                                             std::shared_ptr<access_log_sink> log,
                                             std::shared_ptr<fault_ledger> ledger = nullptr);
  virtual ~proxy_server() = default;

  virtual std::vector<bound_listener> listeners() const = 0;
  virtual proxy_counters counters() const = 0;
  // The admin API's port (config `admin`), 0 when it is off.
  virtual std::uint16_t admin_port() const = 0;
  // Stops accepting, closes connections, joins the threads and flushes the log. Idempotent.
  virtual void stop() = 0;
};

}  // namespace albsim::proxy
