#include "albsim/fault_ledger.hpp"

namespace albsim {

void fault_ledger::note(const std::string& connection, fault_note note) {
  std::lock_guard lock(mutex_);
  entries_.emplace_back(connection, std::move(note));
  if (entries_.size() > k_max_entries) entries_.pop_front();
}

std::optional<fault_note> fault_ledger::take(const std::string& connection) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first == connection) {
      fault_note n = std::move(it->second);
      entries_.erase(std::next(it).base());
      return n;
    }
  }
  return std::nullopt;
}

std::string fault_ledger::key(std::string_view client_ip, std::uint16_t client_port,
                              std::string_view server_ip, std::uint16_t server_port) {
  std::string k;
  k.reserve(48);
  k.append(client_ip).append(":").append(std::to_string(client_port)).append(">");
  k.append(server_ip).append(":").append(std::to_string(server_port));
  return k;
}

}  // namespace albsim
