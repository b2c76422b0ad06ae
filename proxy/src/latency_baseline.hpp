// One backend's usual latency, for telling the 499 causes apart (see the class comment).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace albsim::proxy {

// The usual latency of each backend (an exponentially weighted average of recent answers),
// used to tell "backend slow" from "client timeout too short" when a client leaves. A
// connection looks its server's slot up once and then updates it without a lock: the slots
// never move, and an update lost to a race only nudges an average.
class latency_baseline {
 public:
  using slot = std::atomic<double>;  // nanoseconds; negative: nothing observed yet
  slot& slot_for(const std::string& server);
  static void observe(slot& s, std::chrono::nanoseconds d);
  static std::optional<std::chrono::nanoseconds> usual(const slot& s);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, slot> slots_;
};

}  // namespace albsim::proxy
