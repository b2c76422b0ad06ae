// One scripted exchange of the scenario client (scripted_client.hpp) on one connection: the
// request as the script writes it (ordinary, with a framing fault, cut off, with a paced or
// withheld body, abandoned right after sending), then every response until the connection
// ends, noted in the client's observations, timeline and sequence arrows. Also the request head
// and the response observations the other kinds of client (scripted_client.cpp) share with it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "albsim/scenarios/scenario.hpp"
#include "client_connection.hpp"
#include "client_recorder.hpp"
#include "scripted_client.hpp"

namespace albsim::scenarios {

struct endpoint {
  std::string address;
  std::uint16_t port = 0;
};

// The head of the script's ordinary request (with its oversized target or header line, if
// any), announcing `body_bytes` of body; always Connection: close.
std::string build_head(const client_script& s, std::uint64_t body_bytes);

// Sets status, reason, headers and body_bytes of `obs` from `r`.
void put_response(nlohmann::json& obs, const response& r);

// Runs the script's single exchange against `ep`; fills `run` (observation, exchanges).
void run_single(const client_script& s, const endpoint& ep, client_run& run, client_recorder& note);

}  // namespace albsim::scenarios
