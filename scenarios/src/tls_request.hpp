// The scenario client's HTTPS request: a TLS handshake with one of the balancer's HTTPS
// listeners, one request, and its response read with Beast's parser. Plain requests stay with
// the POSIX client (scripted_client.cpp), which can send what Beast would refuse to; a request
// over TLS only needs to be ordinary. Every step is bounded by the script's timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "albsim/scenarios/scenario.hpp"
#include "scripted_client.hpp"

namespace albsim::scenarios {

// Fills `run`: the observations (outcome, status, reason, headers, body_bytes, sent_bytes,
// elapsed, and the negotiated tls_protocol and tls_cipher) and the client's timeline events.
void run_tls_request(const client_script& s, const std::string& address, std::uint16_t port,
                     client_run& run, std::chrono::steady_clock::time_point origin);

}  // namespace albsim::scenarios
