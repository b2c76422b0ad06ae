#include "albsim/log_throttle.hpp"

namespace albsim {

bool log_throttle::allow(std::uint64_t& held_back) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (any_ && now - last_ < interval_) {
    ++held_;
    return false;
  }
  any_ = true;
  last_ = now;
  held_back = held_;
  held_ = 0;
  return true;
}

}  // namespace albsim
