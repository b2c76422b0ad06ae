// The client link of every listener as it stands now (client_links.hpp).
#include "client_links.hpp"

namespace albsim::proxy {

client_links::client_links(const proxy_config& config) {
  current_.reserve(config.listeners.size());
  for (const auto& l : config.listeners) current_.push_back(l.client_link);
}

link_conditions client_links::current(std::size_t listener_index) const {
  std::lock_guard lock(mutex_);
  return current_.at(listener_index);
}

bool client_links::set(std::size_t listener_index, const link_conditions& conditions) {
  std::lock_guard lock(mutex_);
  if (listener_index >= current_.size()) return false;
  current_[listener_index] = conditions;
  return true;
}

}  // namespace albsim::proxy
