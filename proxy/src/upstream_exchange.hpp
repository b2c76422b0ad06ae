// The upstream part of one request, in stages: connect (pooled or new, under the connect
// timeout) → send the head and the body as the client frames it → read the response head under
// the request timeout while the client is watched → stream the response to the client.
//
// Each stage returns the event that ended the request early (nullopt: go on). It never answers
// the client itself and never decides a status: the session hands the event to the outcome
// table (client_session.cpp, `conclude`).
#pragma once

#include <optional>
#include <string>

#include "client_side.hpp"
#include "exchange_state.hpp"
#include "upstream_side.hpp"

namespace albsim::proxy {

struct proxy_runtime;
struct listener_config;
struct limits_config;

class upstream_exchange {
 public:
  upstream_exchange(proxy_runtime& rt, const listener_endpoint& ep, client_side& client,
                    upstream_side& upstream);

  // Runs the stages in turn; on nullopt the answer was relayed and x.keep says whether the
  // connection may carry another request.
  task<std::optional<stage_event>> run(exchange_state& x);

 private:
  using clock = std::chrono::steady_clock;
  task<std::optional<stage_event>> connect(exchange_state& x);
  task<std::optional<stage_event>> send_request(exchange_state& x);
  task<std::optional<stage_event>> read_response_head(exchange_state& x);
  task<std::optional<stage_event>> relay_response(exchange_state& x);

  task<std::optional<exchange_event>> await_head(exchange_state& x, std::string& detail);
  // How streaming the answer ended.
  struct relay_end {
    std::uint64_t body_bytes = 0;  // body bytes (with their framing) the client took
    bool upstream_ok = true;       // the backend's answer was whole
    bool client_ok = true;         // the client took all of it
  };
  task<relay_end> stream(std::string& head_out, access_log_record& r);

  // The head sent upstream, built in a buffer the connection reuses.
  const std::string& upstream_head(const exchange_state& x);
  // The answer's head for the client (reused buffer).
  std::string& client_head(std::string_view status_text, bool close);
  // Context for an event after the request went upstream: the link, and what an in-process
  // backend noted about the connection.
  event_context upstream_context();

  proxy_runtime& rt_;
  const listener_endpoint& ep_;
  const listener_config& lc_;
  const limits_config& limits_;
  client_side& client_;
  upstream_side& up_;
  std::string upstream_head_;
  std::string client_head_;
};

}  // namespace albsim::proxy
