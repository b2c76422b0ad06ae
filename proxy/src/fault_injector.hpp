// The injection stage of an exchange (docs/retry-kit.md): after routing, before admission, it
// reads the request's X-Albsim-Cause header (when the listener allows it) or the step of an
// armed fault plan, and turns the fault into what the session does instead of its usual path:
// a reply of the balancer's own, decided by the outcome table, or a fault backend standing in
// for the server the scheduler would pick. The session then runs its ordinary stages, with the
// listener's real timeouts, so the record is the one the real cause writes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "albsim/fault_ledger.hpp"
#include "fault_backends.hpp"
#include "fault_plans.hpp"
#include "outcome_table.hpp"

namespace albsim::proxy {

class request_head;

// What the injection stage decided for one request (empty: nothing to do). The session keeps
// one per connection and the journal reads it when the record is emitted.
struct fault_injection {
  std::optional<decision> reply;          // the balancer answers itself with this
  std::string reply_fields;               // albsim's own extra response fields (a refusal's reason)
  const server_config* server = nullptr;  // a fault backend replaces the scheduler's pick
  std::string server_key;                 // its "ip:port"
  std::string upstream_fields;            // added to the request sent to the fault backend
  // For the journal:
  std::string cause;  // the fault asked for, as written
  std::string plan;   // the plan whose step this was ("" = the header)
  std::int32_t step = -1;
  std::string key;
  std::optional<std::uint32_t> retry_after;  // seconds the fault backend's answer names
  bool decided = false;  // the injection stage ran for this request (it will have a record)

  // Back to "nothing injected"; cheap when nothing was (the common case, on every request).
  void clear() {
    decided = false;
    if (reply || server || !cause.empty() || !plan.empty()) *this = fault_injection{};
  }
};

class fault_injector {
 public:
  fault_injector(const outcome_table& outcomes, const std::vector<fault_plan_config>& plans);

  // Decides for one request; `header_allowed`: the listener honours X-Albsim-Cause.
  // `ledger`: the runtime's, handed to a fault backend that starts now.
  void decide(bool header_allowed, const request_head& head, std::string_view client_ip,
              const std::shared_ptr<fault_ledger>& ledger, fault_injection& out);

  fault_plans& plans() { return plans_; }
  void stop() { backends_.stop(); }

  std::atomic<std::uint64_t> injected{0};  // requests given a fault
  std::atomic<std::uint64_t> refused{0};   // faults asked for that could not be injected
  // Requests the stage decided for, and how many of them have their record: a journal read
  // waits for the difference, so that an answer a client has just had is in it.
  std::atomic<std::uint64_t> decided{0};
  std::atomic<std::uint64_t> recorded{0};

 private:
  void realise(const fault_spec& spec, const request_head& head,
               const std::shared_ptr<fault_ledger>& ledger, fault_injection& out);
  void refuse(const std::string& why, fault_injection& out);

  const outcome_table& outcomes_;
  fault_plans plans_;
  fault_backends backends_;
};

}  // namespace albsim::proxy
