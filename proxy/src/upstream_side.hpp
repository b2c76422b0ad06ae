// The backend's end of one client connection: the upstream socket (pooled or new), its read
// buffer and response parser. It does I/O and reports what happened; the balancer's replies
// and the statuses are decided elsewhere (outcome_table).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "albsim/fault_ledger.hpp"
#include "client_side.hpp"
#include "http_heads.hpp"
#include "response_head.hpp"
#include "task.hpp"

namespace albsim::proxy {

struct server_config;
struct worker;
struct limits_config;

class upstream_side {
 public:
  upstream_side(worker& w, const limits_config& limits);

  std::optional<tcp::socket>& socket() { return socket_; }
  relay_buffer& buffer() { return buf_; }
  response_head& head() { return head_; }
  // Starts parsing a new response.
  void reset_head(bool head_request);

  // A pooled connection to `server` if one is idle; true when one was taken.
  bool checkout(const server_config& server, const std::string& key);
  // Opens a new connection (the caller's watchdog bounds the wait).
  task<error_code> connect(const server_config& server);
  // Sends `a` then `b` (either may be empty); the views must live until it completes.
  task<error_code> send(std::string_view a, std::string_view b);
  // A read into buffer() of at most a relay buffer's worth; commit(n) with its result. (The
  // socket's own operation, awaited by the caller: no coroutine frame of its own.)
  auto async_read() {
    std::size_t want = std::min<std::size_t>(relay_buffer_, buf_.max_size() - buf_.size());
    return socket_->async_read_some(buf_.prepare(want), use_task);
  }
  void commit(std::size_t n) { buf_.commit(n); }
  // Lets the work already queued on this thread run first.
  yield_to yield();

  // Keeps the connection for the next request to the same server, or closes it.
  void release(const std::string& key, bool reusable);
  // Closes the connection now.
  void drop();
  // What an in-process backend noted about this connection (looked up only when something
  // went wrong, so the happy path does no address formatting).
  std::optional<fault_note> backend_note(fault_ledger* ledger);

 private:
  worker& w_;
  std::size_t relay_buffer_;
  std::uint32_t max_header_block_;
  std::optional<tcp::socket> socket_;
  const server_config* server_ = nullptr;  // where socket_ leads
  relay_buffer buf_;
  response_head head_;  // parses every response of the connection in turn
};

}  // namespace albsim::proxy
