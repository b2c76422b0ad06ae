// The simulated client link of every listener (config `client_link`) as it stands now. The
// admin API replaces a listener's conditions at runtime (docs/retry-kit.md); each accepted
// connection copies its listener's once, in client_side's constructor, and keeps the copy for
// its whole life: a connection already open is not changed under its feet (albsim's own rule).
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "albsim/link_conditions.hpp"
#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

class client_links {
 public:
  explicit client_links(const proxy_config& config);

  // A copy of the conditions a connection accepted now on the listener gets. Workers call it
  // once per accepted connection (never per request): one uncontended lock, and a change
  // replaces the old conditions in place, so memory does not grow with the number of changes.
  link_conditions current(std::size_t listener_index) const;

  // Connections accepted from now on get `conditions`; false for a bad index.
  bool set(std::size_t listener_index, const link_conditions& conditions);

 private:
  mutable std::mutex mutex_;
  std::vector<link_conditions> current_;  // per listener
};

}  // namespace albsim::proxy
