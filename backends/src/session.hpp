// One accepted connection of the faulty backend, as a class: the request side (reading heads
// and bodies under the idle and request deadlines, backend_session.cpp) and the answer side
// (doing the routed action on the socket: responses, drips, closes, resets and holds,
// backend_session_actions.cpp). Internal to the backend library: only those two files include
// it; everyone else starts a connection with start_session() (backend_session.hpp).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "albsim/link_conditions.hpp"
#include "discard_body.hpp"
#include "server_context.hpp"

namespace albsim::backend {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using std::chrono::nanoseconds;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t k_read_chunk = 16 * 1024;  // one socket read

struct body_source;  // where a response body comes from (backend_session_actions.cpp)

class session {
 public:
  session(tcp::socket socket, server_context& ctx)
      : socket_(std::move(socket)),
        ctx_(ctx),
        timer_(socket_.get_executor()),
        deadline_(socket_.get_executor()),
        read_shaper_(ctx.options.link),
        write_shaper_(ctx.options.link),
        buffer_(ctx.options.header_limit_bytes + k_read_chunk) {
    const link_conditions& link = ctx.options.link;
    shaped_ = read_shaper_.active();
    blackhole_request_ =
        link.mtu_blackhole_bytes > 0 && ctx.options.blackhole == blackhole_direction::request;
    blackhole_response_ =
        link.mtu_blackhole_bytes > 0 && ctx.options.blackhole == blackhole_direction::response;
    if (ctx.journal.enabled()) id_ = ++ctx.connection_ids;
  }

  asio::awaitable<void> run();

 private:
  asio::awaitable<error_code> read_some();
  asio::awaitable<error_code> read_header(request_parser& p);
  asio::awaitable<error_code> read_body(request_parser& p);
  asio::awaitable<error_code> send(std::string_view bytes);
  asio::awaitable<error_code> send_body(const body_source& body, std::uint64_t limit,
                                        const drip_options& drip);
  asio::awaitable<void> pause(nanoseconds d);
  asio::awaitable<bool> answer(route_decision& d, request_parser& p);
  asio::awaitable<bool> perform(const backend_action& a, bool head, bool keep_alive);
  asio::awaitable<bool> write_small(int status, std::string_view content_type,
                                    std::string_view body, bool head, bool keep_alive);
  asio::awaitable<void> bad_request(std::string_view why);
  asio::awaitable<void> close_after_fin();
  asio::awaitable<void> wait_for_peer_close(std::optional<nanoseconds> bound);
  asio::awaitable<void> hold_without_reading(std::optional<nanoseconds> bound);
  asio::awaitable<void> blackhole_then_reset();
  void arm_cancel_timer(std::optional<nanoseconds> bound);
  void arm_read_deadline(nanoseconds d);
  void build_head(int status, const backend_action* a, std::string_view content_type,
                  std::optional<std::uint64_t> content_length, bool keep_alive);
  body_source body_of(const backend_action& a, std::uint64_t minimum = 0) const;
  void reset_now();

  tcp::socket socket_;
  server_context& ctx_;
  asio::steady_timer timer_;
  asio::steady_timer deadline_;  // bounds the wait for a request (idle, then head and body)
  bool waiting_idle_ = false;    // deadline_ runs the idle bound: no byte of a request yet
  link_shaper read_shaper_;
  link_shaper write_shaper_;
  beast::flat_buffer buffer_;
  std::string head_;          // response head being written, reused
  std::string default_body_;  // "ok\n" or "503 Service Unavailable\n"
  std::uint64_t exchange_read_ = 0;
  std::uint64_t exchange_written_ = 0;
  bool shaped_ = false;
  bool blackhole_request_ = false;
  bool blackhole_response_ = false;
  std::uint64_t id_ = 0;  // the connection's number in the journal
};

}  // namespace albsim::backend
