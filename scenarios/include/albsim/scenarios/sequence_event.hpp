// One arrow (or one happening at a hop) of a scenario's sequence diagram: who sent what to whom,
// and when, as the run observed it. The client's socket, the backend's journal, the access-log
// record and the kernel's counters each contribute what they saw; `source` says which, so the
// report can tell a measured event from one placed by a rule.
#pragma once

#include <string>

namespace albsim::scenarios {

enum class lane { client, balancer, backend };

const char* to_string(lane l);

struct sequence_event {
  double at = 0;  // seconds since the scenario started
  lane from = lane::client;
  lane to = lane::client;  // the same as `from`: something that happened at that hop
  // connect (a completed handshake), syn (a handshake that got no answer), syn-retransmit,
  // refused (an RST answering a SYN), request, response, fin, rst, timer, log
  std::string kind;
  std::string label;   // what the arrow says, e.g. "POST /payment (128-byte body)"
  std::string source;  // client socket, backend journal, access log, kernel counter, ...
};

}  // namespace albsim::scenarios
