// The client link of every listener as it stands now (client_links.hpp).
#include "client_links.hpp"

namespace albsim::proxy {

client_links::client_links(const proxy_config& config) : current_(config.listeners.size()) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) set(i, config.listeners[i].client_link);
}

bool client_links::set(std::size_t listener_index, const link_conditions& conditions) {
  if (listener_index >= current_.size()) return false;
  std::lock_guard lock(owned_mutex_);
  owned_.push_back(std::make_unique<const link_conditions>(conditions));
  current_[listener_index].store(owned_.back().get(), std::memory_order_release);
  return true;
}

}  // namespace albsim::proxy
