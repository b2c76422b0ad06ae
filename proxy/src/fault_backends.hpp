// The in-process backends that produce injected faults for real (fault_spec.hpp): one per
// kind, started on 127.0.0.1:0 the first time a request needs it and stopped with the proxy.
// Each proxy runtime has its own set (no globals), so two proxies in one process never share
// a fault backend.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "albsim/fault_ledger.hpp"
#include "albsim/proxy/config.hpp"
#include "fault_spec.hpp"

namespace albsim::backend {
class backend_server;
}

namespace albsim::proxy {

class fault_backends {
 public:
  fault_backends();
  ~fault_backends();
  fault_backends(const fault_backends&) = delete;
  fault_backends& operator=(const fault_backends&) = delete;

  // Where the fault backend of `kind` listens, starting it first if needed. nullptr when it
  // cannot start (`error` says why). `ledger`: where the backend notes the connections it
  // breaks on purpose (the runtime's). Thread-safe; the address stays valid until stop().
  const server_config* server(fault_backend_kind kind, const std::shared_ptr<fault_ledger>& ledger,
                              std::string& error);
  // The "ip:port" of a started backend (the record's upstream_addr).
  const std::string& key(fault_backend_kind kind) const;

  // Stops every started backend. Idempotent.
  void stop();

 private:
  struct slot {
    std::unique_ptr<backend::backend_server> backend;
    server_config server;
    std::string key;
  };
  std::mutex mutex_;
  std::array<slot, k_fault_backend_kinds> slots_;
};

}  // namespace albsim::proxy
