// Exact, lock-free rate limiting (GCRA form of a token bucket). Used for QPS limits
// (one token per request) and for bandwidth caps (one token per byte).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace albsim {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  // `rate` tokens per second, at most `burst` (>= 1) available at once. rate 0 = unlimited.
  token_bucket(double rate, double burst);

  // Takes `n` tokens if they are available now; false (and nothing taken) otherwise.
  bool try_take(clock::time_point now, std::uint64_t n = 1);

  // Takes `n` tokens unconditionally and returns how long the caller must wait before the
  // tokens are "earned" (0 when they were available). This paces a byte stream.
  std::chrono::nanoseconds take_paced(clock::time_point now, std::uint64_t n);

  double rate() const { return rate_; }
  bool unlimited() const { return rate_ <= 0; }

 private:
  double rate_;
  std::int64_t interval_ns_x1024_;  // ns per token, fixed point (x1024) to keep fractions
  std::int64_t tolerance_ns_;       // (burst - 1) tokens' worth of time
  std::atomic<std::int64_t> tat_;   // theoretical arrival time, ns since clock epoch
};

}  // namespace albsim
