// Notes from in-process backends about the connections they broke on purpose.
//
// Some faults look identical on the wire to the proxy: a reset from an overflowing accept
// queue (emulated at user level, so the request bytes were acknowledged) and a reset from a
// backend that read the request and aborted are both "RST before any response byte". On a real
// host the first never acknowledges data; albsim's emulation cannot reproduce that detail, so
// the backend writes down which connection it reset and why, and the proxy's outcome table
// reads it when it classifies the real event. External backends write nothing here; the proxy
// then classifies from what it saw on the socket alone.
//
// There is no global ledger: whoever starts a proxy together with in-process backends (albsim
// serve, the scenario runner, the test harness) makes one and hands it to both, so notes never
// cross from one proxy runtime to another.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace albsim {

struct fault_note {
  std::string cause_id;  // the catalogue ID this fault produces, e.g. "502-backlog-full"
  std::string detail;    // one readable sentence
};

class fault_ledger {
 public:
  // `connection` is "peer_ip:peer_port>local_ip:local_port" as the BACKEND sees it, i.e.
  // "proxy_ip:proxy_port>backend_ip:backend_port"; use key() to build it.
  void note(const std::string& connection, fault_note note);
  // Removes and returns the note for a connection, if any.
  std::optional<fault_note> take(const std::string& connection);

  static std::string key(std::string_view client_ip, std::uint16_t client_port,
                         std::string_view server_ip, std::uint16_t server_port);

 private:
  static constexpr std::size_t k_max_entries = 4096;  // old notes are dropped beyond this
  std::mutex mutex_;
  std::deque<std::pair<std::string, fault_note>> entries_;
};

}  // namespace albsim
