// A backend for framing tests that keeps every byte it receives and splits them into requests
// with Beast's strict parser, so a test can compare where the client thought each request
// ended with where the backend read it. It answers each request with a caller-chosen raw
// response (by default a small 200 carrying the request's sequence number), which also lets a
// test send the proxy any response framing, valid or not.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace albsim::test {

class recording_backend {
 public:
  struct request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;                                  // decoded (chunks joined)
    std::size_t count(const std::string& name) const;  // field lines with this name
    std::string field(const std::string& name) const;  // the first such value, or ""
  };
  struct reply {
    std::string bytes;         // sent as they are
    bool close_after = false;  // then close the connection (FIN)
    // A slow backend: one byte per send, `byte_pace` apart (zero: everything in one send).
    std::chrono::milliseconds byte_pace{0};
  };
  using responder = std::function<reply(const request&, std::size_t sequence)>;

  // A small 200 with `X-Backend-Seq: N` (N counts requests from 1) and the body "seq N".
  static reply numbered(const request&, std::size_t sequence);

  explicit recording_backend(responder r = numbered);
  ~recording_backend();
  recording_backend(const recording_backend&) = delete;
  recording_backend& operator=(const recording_backend&) = delete;

  std::uint16_t port() const { return port_; }
  std::vector<request> requests() const;
  std::size_t parse_errors() const;
  std::size_t connections() const;         // accepted so far
  std::size_t closed_connections() const;  // ended by the peer (FIN or RST)
  // Bounded wait until at least `n` requests were read.
  bool wait_requests(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  void accept_loop();
  void serve(int fd);

  responder responder_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> sessions_;
  std::vector<int> session_fds_;
  mutable std::mutex m_;
  mutable std::condition_variable cv_;
  std::vector<request> requests_;
  std::size_t parse_errors_ = 0;
  std::size_t closed_by_peer_ = 0;
  bool stopping_ = false;
};

}  // namespace albsim::test
