// The simulated client link of every listener (config `client_link`) as it stands now. The
// admin API replaces a listener's conditions at runtime (docs/retry-kit.md); each accepted
// connection reads its listener's once, in client_side's constructor, and keeps them for its
// whole life: a connection already open is not changed under its feet (albsim's own rule).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "albsim/link_conditions.hpp"
#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

class client_links {
 public:
  explicit client_links(const proxy_config& config);

  // The conditions a connection accepted now on the listener gets: one atomic load, no lock
  // (workers call this once per accepted connection). The reference stays valid as long as
  // this object: replaced conditions are kept, not freed, since a connection may still read
  // them (about a hundred bytes per change).
  const link_conditions& current(std::size_t listener_index) const {
    return *current_[listener_index].load(std::memory_order_acquire);
  }

  // Connections accepted from now on get `conditions`; false for a bad index.
  bool set(std::size_t listener_index, const link_conditions& conditions);

 private:
  std::vector<std::atomic<const link_conditions*>> current_;  // never resized
  std::mutex owned_mutex_;
  std::vector<std::unique_ptr<const link_conditions>> owned_;  // every set ever made
};

}  // namespace albsim::proxy
