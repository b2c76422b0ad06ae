// The scriptable faulty backend as an object: `albsim backend`, `albsim serve`, the scenarios
// and the tests start it in-process on 127.0.0.1:0. The header keeps Asio out.
// (Contract fixed by the foundation; the backends/ owner fills in options and script types.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "albsim/backend/backend_journal.hpp"
#include "albsim/backend/backend_options.hpp"

namespace albsim::backend {

struct backend_counters {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t resets = 0;
  std::uint64_t overflows = 0;  // accept-queue overflows (like netstat -s "listen queue")
  std::uint64_t health_checks = 0;
  std::uint64_t bad_requests = 0;  // answered 400
  std::uint64_t overrides = 0;     // requests steered by the X-Albsim-Backend header
  std::vector<std::pair<std::string, std::uint64_t>> rule_hits;  // per script rule, in order
};

class backend_server {
 public:
  // Binds and starts serving on its own thread(s). Throws std::runtime_error on bind failure.
  static std::unique_ptr<backend_server> start(backend_options options);
  virtual ~backend_server() = default;

  virtual std::string address() const = 0;
  virtual std::uint16_t port() const = 0;
  virtual backend_counters counters() const = 0;
  // The wire events so far; empty unless backend_options::journal was set.
  virtual std::vector<wire_event> events() const = 0;
  // Stops and joins. Idempotent.
  virtual void stop() = 0;
};

}  // namespace albsim::backend
