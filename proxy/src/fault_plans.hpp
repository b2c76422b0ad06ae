// The armed fault plans of one proxy runtime (docs/retry-kit.md): named step lists, each armed
// on a match and a key, so that every logical operation (an Idempotency-Key, a client IP, or
// one shared constant) walks its own copy of the steps, in order, whatever else runs
// concurrently. Plans come from the config at start and from the admin API, with a TTL and a
// max-uses after which they disarm themselves.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "albsim/proxy/config.hpp"
#include "fault_spec.hpp"

namespace albsim::proxy {

// What a plan looks at in a request.
struct plan_request {
  std::string_view method;
  std::string_view host;
  std::string_view target;
  std::string_view fields;  // "Name: value\r\n" lines
  std::string_view client_ip;
};

// The step a request takes.
struct plan_step {
  std::string plan;
  std::uint32_t step = 0;  // 0-based index into the plan's steps
  std::string key;
  fault_spec spec;
};

// A plan as the admin API lists it.
struct plan_status {
  fault_plan_config config;
  std::uint64_t uses = 0;       // steps taken, all keys together
  std::size_t keys = 0;         // keys that have started walking it
  std::uint64_t keys_over = 0;  // requests not planned because the key table was full
  std::optional<std::chrono::nanoseconds> expires_in;
};

class fault_plans {
 public:
  // Keys remembered per plan; requests with further keys pass unplanned (memory stays bounded).
  static constexpr std::size_t k_max_keys = 100'000;

  explicit fault_plans(const std::vector<fault_plan_config>& at_start);

  // Arms a plan (replacing one of the same name: arming again starts every key afresh).
  // The steps must already be valid (load_fault_plan_text checks them).
  void arm(const fault_plan_config& plan);
  bool disarm(const std::string& name);
  void disarm_all();
  std::vector<plan_status> list();
  // True while at least one plan is armed (a lock-free look on every request).
  bool any() const { return armed_.load(std::memory_order_relaxed) > 0; }

  // The step this request takes, if an armed plan matches it (the first armed, in arming
  // order); nullopt when none does or its key has finished a plan without `repeat`.
  std::optional<plan_step> next(const plan_request& request);

 private:
  struct armed_plan {
    fault_plan_config config;
    std::vector<fault_spec> steps;
    std::chrono::steady_clock::time_point expires{};  // {} = never
    std::uint64_t uses = 0;
    std::uint64_t keys_over = 0;
    std::unordered_map<std::string, std::uint64_t> position;  // per key: steps taken
  };
  bool matches(const armed_plan& p, const plan_request& r) const;
  std::optional<std::string> key_of(const armed_plan& p, const plan_request& r) const;
  void drop_expired(std::chrono::steady_clock::time_point now);
  void publish();

  std::mutex mutex_;
  std::vector<std::unique_ptr<armed_plan>> plans_;
  std::atomic<std::size_t> armed_{0};
};

}  // namespace albsim::proxy
