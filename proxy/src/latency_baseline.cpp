#include "latency_baseline.hpp"

namespace albsim::proxy {

latency_baseline::slot& latency_baseline::slot_for(const std::string& server) {
  std::lock_guard lock(mutex_);
  return slots_.try_emplace(server, -1.0).first->second;
}

void latency_baseline::observe(slot& s, std::chrono::nanoseconds d) {
  const double v = static_cast<double>(d.count());
  const double old = s.load(std::memory_order_relaxed);
  s.store(old < 0 ? v : 0.8 * old + 0.2 * v, std::memory_order_relaxed);
}

std::optional<std::chrono::nanoseconds> latency_baseline::usual(const slot& s) {
  const double v = s.load(std::memory_order_relaxed);
  if (v < 0) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(v));
}

}  // namespace albsim::proxy
