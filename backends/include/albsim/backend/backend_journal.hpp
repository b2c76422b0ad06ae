// What one backend did on the wire, with steady-clock times: connections accepted, requests
// read, the first line of each answer, FINs and RSTs it sent, and the balancer closing. The
// scenarios draw their sequence diagrams from it. Off unless backend_options::journal is set,
// so that `albsim serve` and the benchmarks pay nothing for it; bounded when on.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace albsim::backend {

enum class wire_event_kind {
  accepted,      // a connection from the balancer was accepted
  request,       // a request head was read (detail: method and target)
  health_check,  // the request was a health check
  response,      // the first bytes of an answer left (detail: its first line)
  fin,           // the backend shut its side down (FIN)
  reset,         // the backend aborted the connection (RST)
  peer_closed,   // the balancer closed the connection
};

const char* to_string(wire_event_kind k);

struct wire_event {
  std::chrono::steady_clock::time_point at;
  std::uint64_t connection = 0;  // numbered from 1 in accept order, per backend
  wire_event_kind kind = wire_event_kind::accepted;
  std::string detail;
};

class backend_journal {
 public:
  explicit backend_journal(bool enabled) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }
  void note(std::uint64_t connection, wire_event_kind kind, std::string detail = {});
  std::vector<wire_event> events() const;

 private:
  // A scenario makes a handful of exchanges; a runaway one must not grow memory without end.
  static constexpr std::size_t k_max_events = 4096;

  const bool enabled_;
  mutable std::mutex mutex_;
  std::vector<wire_event> events_;
};

}  // namespace albsim::backend
