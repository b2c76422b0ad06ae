#include "albsim/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace albsim {

token_bucket::token_bucket(double rate, double burst)
    : rate_(rate),
      interval_ns_x1024_(rate > 0 ? static_cast<std::int64_t>(std::llround(1024e9 / rate)) : 0),
      tolerance_ns_(rate > 0 ? static_cast<std::int64_t>((std::max(burst, 1.0) - 1.0) * 1e9 / rate)
                             : 0),
      tat_(0) {}

bool token_bucket::try_take(clock::time_point now, std::uint64_t n) {
  if (unlimited()) return true;
  const std::int64_t t = now.time_since_epoch().count();
  const std::int64_t cost = static_cast<std::int64_t>(n) * interval_ns_x1024_ / 1024;
  std::int64_t tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t start = std::max(tat, t);
    // Admit when, after this take, the bucket is not ahead of `now` by more than the burst.
    if (start + cost - t > tolerance_ns_ + interval_ns_x1024_ / 1024) return false;
    if (tat_.compare_exchange_weak(tat, start + cost, std::memory_order_relaxed)) return true;
  }
}

std::chrono::nanoseconds token_bucket::take_paced(clock::time_point now, std::uint64_t n) {
  if (unlimited()) return std::chrono::nanoseconds(0);
  const std::int64_t t = now.time_since_epoch().count();
  const std::int64_t cost =
      static_cast<std::int64_t>(static_cast<long double>(n) * interval_ns_x1024_ / 1024);
  std::int64_t tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t start = std::max(tat, t - tolerance_ns_);
    const std::int64_t next = start + cost;
    if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) {
      return std::chrono::nanoseconds(std::max<std::int64_t>(0, next - t - tolerance_ns_));
    }
  }
}

}  // namespace albsim
