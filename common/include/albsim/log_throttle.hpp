// Rate limit for a repeated operational message (an accept failing while descriptors are
// exhausted, a disk that stays full): at most one line per interval, and that line says how
// many were held back. Safe to share between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace albsim {

class log_throttle {
 public:
  explicit log_throttle(std::chrono::steady_clock::duration interval = std::chrono::seconds(1))
      : interval_(interval) {}

  // True when a line may go out now; `held_back` then holds how many were suppressed since the
  // last line that went out. False (and counted) otherwise.
  bool allow(std::uint64_t& held_back);

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  bool any_ = false;
  std::uint64_t held_ = 0;
};

}  // namespace albsim
