// Puts together the sequence diagram of a scenario's exchange of interest (the one whose
// access-log record the checks read) from what each hop observed: the client's socket, the
// backend's journal, the record's timings, the kernel's SYN retransmission counter. Events a
// hop did not see directly are placed by a stated rule and say so in their `source`.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "albsim/backend/backend_journal.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "albsim/scenarios/sequence_event.hpp"

namespace albsim::scenarios {

struct observed_backend {
  std::string name;
  std::uint16_t port = 0;
  backend::transport_mode mode = backend::transport_mode::normal;
  std::vector<backend::wire_event> events;
};

// "2026-11-25T09:00:05.004+00:00" (the record's `time`) as a system_clock time point (UTC).
std::optional<std::chrono::system_clock::time_point> parse_record_time(const std::string& s);

class sequence_builder {
 public:
  sequence_builder(const scenario& s, std::chrono::steady_clock::time_point origin,
                   std::chrono::system_clock::time_point origin_sys)
      : scenario_(s), origin_(origin), origin_sys_(origin_sys) {}

  // `client` are the client's own arrows (empty for bursts); `record` the record of interest.
  std::vector<sequence_event> build(const std::vector<sequence_event>& client,
                                    const nlohmann::json* record,
                                    const std::vector<observed_backend>& backends,
                                    std::optional<std::uint64_t> syn_retransmits) const;

 private:
  struct record_times {
    double first_byte = 0;  // when the balancer saw the request's first byte
    double concluded = 0;   // first_byte + request_time: when it concluded
    double logged = 0;      // when the record was written (not before the client's answer)
    double opened = 0;      // the earliest this exchange can have started upstream
  };
  std::optional<record_times> times_of(const nlohmann::json& record,
                                       const std::vector<sequence_event>& client) const;
  void add_backend_side(const nlohmann::json& record, const record_times& t,
                        const std::vector<observed_backend>& backends,
                        std::optional<std::uint64_t> syn_retransmits,
                        std::vector<sequence_event>& out) const;
  void add_timers(const nlohmann::json& record, const record_times& t,
                  std::vector<sequence_event>& out) const;

  const scenario& scenario_;
  std::chrono::steady_clock::time_point origin_;
  std::chrono::system_clock::time_point origin_sys_;
};

}  // namespace albsim::scenarios
