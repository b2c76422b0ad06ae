// A blocking loopback client on plain POSIX sockets, for tests that must observe what a real
// client sees: a refused connect, a reset, an EOF with no bytes, a connect that does not
// complete. Every call has a timeout; nothing waits forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace albsim::test {

using namespace std::chrono_literals;

enum class io_result {
  ok,       // bytes moved
  eof,      // orderly close (FIN) seen
  reset,    // ECONNRESET / EPIPE
  refused,  // ECONNREFUSED
  timeout,  // the bound passed first
  error,    // anything else
};
const char* to_string(io_result r);

class raw_client {
 public:
  raw_client() = default;
  ~raw_client();
  raw_client(raw_client&&) noexcept;
  raw_client& operator=(raw_client&&) noexcept;
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Connects with a bound (non-blocking connect + poll). `bind_address` picks the source IP.
  io_result connect(const std::string& address, std::uint16_t port,
                    std::chrono::milliseconds timeout = 5000ms,
                    const std::string& bind_address = "");
  io_result send_all(const std::string& bytes, std::chrono::milliseconds timeout = 5000ms);
  // Reads whatever arrives until the peer closes, an error, or the timeout; appends to `out`.
  io_result read_until_close(std::string& out, std::chrono::milliseconds timeout = 5000ms);
  // Reads until `out` holds a full HTTP response (headers + Content-Length body, or until
  // close when there is no length); returns ok when complete.
  io_result read_response(std::string& out, std::chrono::milliseconds timeout = 5000ms);
  // Half-closes the sending side (FIN).
  void shutdown_send();
  // Closes with an RST (SO_LINGER 0).
  void reset();
  void close();
  int fd() const { return fd_; }
  std::uint16_t local_port() const;

 private:
  int fd_ = -1;
};

// A parsed HTTP/1.1 response, good enough for tests.
struct http_response {
  int status = 0;
  std::string reason;
  std::string headers;  // raw header block, lower-cased names kept as sent
  std::string body;
  std::optional<std::string> header(const std::string& name) const;  // case-insensitive
};
std::optional<http_response> parse_response(const std::string& raw);

// One request over a fresh connection: connect, send, read the response. nullopt + `result`
// describing what happened when no complete response arrived.
std::optional<http_response> simple_request(const std::string& address, std::uint16_t port,
                                            const std::string& request, io_result* result = nullptr,
                                            std::chrono::milliseconds timeout = 5000ms);

// Polls `predicate` until it holds or `timeout` passes (a bounded wait, not a sleep).
bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = 5000ms);

}  // namespace albsim::test

namespace albsim::test {
// One HTTPS request over a fresh TLS connection (no certificate verification: the proxy's
// default certificate is self-signed). nullopt when no complete response arrived. `protocol`
// receives the negotiated TLS version.
std::optional<http_response> tls_request(const std::string& address, std::uint16_t port,
                                         const std::string& request,
                                         std::string* protocol = nullptr,
                                         std::chrono::milliseconds timeout = 5000ms);
}  // namespace albsim::test
