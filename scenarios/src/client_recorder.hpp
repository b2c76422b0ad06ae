// The scenario client's notes (scripted_client.hpp): timeline events in words, and the arrows
// of the sequence diagram as the client's socket saw them, each stamped with its time since the
// scenario's start. Internal to the scenario client.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "albsim/scenarios/sequence_event.hpp"
#include "scripted_client.hpp"

namespace albsim::scenarios {

class client_recorder {
 public:
  using clock = std::chrono::steady_clock;

  client_recorder(client_run& run, clock::time_point origin) : run_(run), origin_(origin) {}
  void operator()(const std::string& what) {
    run_.events.push_back(
        {std::chrono::duration<double>(clock::now() - origin_).count(), "client", what});
  }
  // One arrow of the sequence diagram, as this socket saw it.
  void arrow(lane from, lane to, const char* kind, std::string label,
             clock::time_point when = clock::now()) {
    run_.sequence.push_back({std::chrono::duration<double>(when - origin_).count(), from, to, kind,
                             std::move(label), "client socket"});
  }

 private:
  client_run& run_;
  clock::time_point origin_;
};

}  // namespace albsim::scenarios
