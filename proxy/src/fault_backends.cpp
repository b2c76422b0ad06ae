#include "fault_backends.hpp"

#include <stdexcept>

#include "albsim/backend/backend_server.hpp"

namespace albsim::proxy {
namespace {

// The catalogue scenario's settings for each kind (scenarios/catalogue/<ID>.yaml).
backend::backend_options options_for(fault_backend_kind kind) {
  backend::backend_options o;
  o.name = "albsim-fault";
  o.log_on_stop = false;
  switch (kind) {
    case fault_backend_kind::action:
      break;
    case fault_backend_kind::refuse:
      o.mode = backend::transport_mode::refuse;
      break;
    case fault_backend_kind::queue_full_silent:
      o.mode = backend::transport_mode::queue_full_silent;
      break;
    case fault_backend_kind::queue_full_reset:
      o.mode = backend::transport_mode::queue_full_reset;
      break;
    case fault_backend_kind::mtu_blackhole:
      // 502-mtu-blackhole: the request direction loses what passes 8 KiB; 1 s later, a reset.
      o.link.mtu_blackhole_bytes = k_blackhole_bytes;
      o.blackhole = backend::blackhole_direction::request;
      o.link.blackhole_reset_after = std::chrono::seconds(1);
      break;
  }
  return o;
}

}  // namespace

fault_backends::fault_backends() = default;
fault_backends::~fault_backends() { stop(); }

const server_config* fault_backends::server(fault_backend_kind kind,
                                            const std::shared_ptr<fault_ledger>& ledger,
                                            std::string& error) {
  std::lock_guard lock(mutex_);
  slot& s = slots_[static_cast<std::size_t>(kind)];
  if (!s.backend) {
    backend::backend_options o = options_for(kind);
    o.ledger = ledger;
    try {
      s.backend = backend::backend_server::start(std::move(o));
    } catch (const std::exception& e) {
      error = std::string("the fault backend could not start: ") + e.what();
      return nullptr;
    }
    s.server.address = s.backend->address();
    s.server.port = s.backend->port();
    s.server.backend = "albsim-fault";
    s.key = s.server.address + ":" + std::to_string(s.server.port);
  }
  return &s.server;
}

const std::string& fault_backends::key(fault_backend_kind kind) const {
  return slots_[static_cast<std::size_t>(kind)].key;
}

void fault_backends::stop() {
  std::lock_guard lock(mutex_);
  for (auto& s : slots_) {
    if (s.backend) s.backend->stop();
  }
}

}  // namespace albsim::proxy
