// Fills and writes the access-log records of one client connection: the fields known at the
// first byte, the request's own fields, the decision, and the closing timings.
#pragma once

#include <chrono>

#include "access_log_record.hpp"
#include "exchange_state.hpp"
#include "http_heads.hpp"
#include "listener_endpoint.hpp"
#include "outcome_table.hpp"

namespace albsim::proxy {

struct proxy_runtime;
class client_side;

class record_writer {
 public:
  using clock = std::chrono::steady_clock;

  record_writer(proxy_runtime& rt, const listener_endpoint& ep, client_side& client);

  // Starts a record for a request whose first byte arrived at `first_byte` (the record's time).
  void start(access_log_record& r, clock::time_point first_byte) const;
  static void fill_request(access_log_record& r, const request_head& h);
  static void apply(access_log_record& r, const decision& d);
  // Completes the timings (`now`: when the answer was complete, if the caller already read
  // the clock), writes the record, and hands it to the journal and the metrics.
  void emit(exchange_state& x, clock::time_point now = {});
  // The proxy stopped before the request in progress finished; its record says so.
  void interrupted() { aborted_ = true; }

 private:
  proxy_runtime& rt_;
  const listener_endpoint& ep_;
  client_side& client_;
  bool https_;
  bool aborted_ = false;
};

}  // namespace albsim::proxy
