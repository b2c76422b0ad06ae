// The scenario client's socket (scripted_client.hpp): one plain TCP connection on POSIX
// sockets, non-blocking and polled, so that every connect, send and read is bounded by a
// deadline and a reset, a refusal or a close without a byte is seen as such. Responses are read
// by hand, bodies counted rather than kept. Internal to the scenario client.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace albsim::scenarios {

enum class io { ok, eof, reset, refused, timeout, error };

// The word the observations use for `e` ("closed" for eof, ...).
const char* to_text(io e);

// A parsed response head and how much of the body arrived.
struct response {
  int status = 0;
  std::string reason;
  nlohmann::json headers = nlohmann::json::object();  // lower-case names
  std::uint64_t body_bytes = 0;
  bool complete = false;
};

class client_connection {
 public:
  using clock = std::chrono::steady_clock;

  ~client_connection() { close(); }

  io connect(const std::string& address, std::uint16_t port, clock::time_point deadline);
  std::uint16_t local_port() const;
  // Sends `bytes`; stops early (returning ok) when the peer has something to say, so that an
  // early answer (400, 408) is read instead of writing into a closed connection.
  io send(std::string_view bytes, clock::time_point deadline, bool stop_on_input = true);
  bool input_waiting() const;
  // Reads one response (head, then a Content-Length or chunked body, or until close). Bytes
  // beyond it stay in `buffer_` for the next call.
  io read_response(response& r, clock::time_point deadline,
                   std::optional<clock::time_point>* first_byte = nullptr);

  bool has_buffered() const { return !buffer_.empty(); }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t received() const { return received_; }
  void close();

 private:
  io fill(clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
};

}  // namespace albsim::scenarios
