#include "albsim/backend/backend_journal.hpp"

namespace albsim::backend {

const char* to_string(wire_event_kind k) {
  switch (k) {
    case wire_event_kind::accepted:
      return "accepted";
    case wire_event_kind::request:
      return "request";
    case wire_event_kind::health_check:
      return "health-check";
    case wire_event_kind::response:
      return "response";
    case wire_event_kind::fin:
      return "fin";
    case wire_event_kind::reset:
      return "reset";
    case wire_event_kind::peer_closed:
      return "peer-closed";
  }
  return "?";
}

void backend_journal::note(std::uint64_t connection, wire_event_kind kind, std::string detail) {
  if (!enabled_) return;
  auto at = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (events_.size() < k_max_events) events_.push_back({at, connection, kind, std::move(detail)});
}

std::vector<wire_event> backend_journal::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

}  // namespace albsim::backend
