// The backend's end of one client connection (upstream_side.hpp).
#include "upstream_side.hpp"

#include <algorithm>

#include <boost/asio/write.hpp>

#include "albsim/proxy/config.hpp"
#include "socket_send.hpp"
#include "worker.hpp"

namespace albsim::proxy {

upstream_side::upstream_side(worker& w, const limits_config& limits)
    : w_(w),
      relay_buffer_(limits.relay_buffer),
      max_header_block_(static_cast<std::uint32_t>(limits.max_header_block)),
      buf_(limits.max_header_block + limits.relay_buffer, pool_allocator<char>(w.buffers)),
      head_(false, max_header_block_) {}

void upstream_side::reset_head(bool head_request) { head_.reset(head_request, max_header_block_); }

bool upstream_side::checkout(const server_config& server, const std::string& key) {
  server_ = &server;
  auto pooled = w_.pool.checkout(key);
  if (!pooled) return false;
  socket_.emplace(std::move(*pooled));
  return true;
}

task<error_code> upstream_side::connect(const server_config& server) {
  server_ = &server;
  socket_.emplace(w_.ioc);
  error_code ec;
  auto address = asio::ip::make_address(server.address, ec);
  if (!ec) std::tie(ec) = co_await socket_->async_connect({address, server.port}, use_task);
  if (!ec) socket_->set_option(tcp::no_delay(true), ec);
  co_return ec;
}

namespace {
task<error_code> send_two(tcp::socket& s, std::string_view a, std::string_view b) {
  std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                         asio::buffer(b.data(), b.size())};
  auto [ec, n] = co_await asio::async_write(s, bufs, use_task);
  co_return ec;
}
}  // namespace

// One buffer goes through send_all's task directly (no frame of this function's own).
task<error_code> upstream_side::send(std::string_view a, std::string_view b) {
  if (a.empty()) return send_all(*socket_, b);
  if (b.empty()) return send_all(*socket_, a);
  return send_two(*socket_, a, b);
}

yield_to upstream_side::yield() { return yield_to{w_.ioc.get_executor()}; }

void upstream_side::release(const std::string& key, bool reusable) {
  if (reusable && socket_ && buf_.size() == 0) {
    w_.pool.checkin(key, std::move(*socket_));
    socket_.reset();
  } else {
    drop();
    buf_.clear();
  }
}

void upstream_side::drop() {
  error_code ec;
  if (socket_) socket_->close(ec);
  socket_.reset();
}

std::optional<fault_note> upstream_side::backend_note(fault_ledger* ledger) {
  if (!socket_ || !server_ || !ledger) return std::nullopt;
  error_code ec;
  auto local = socket_->local_endpoint(ec);
  if (ec) return std::nullopt;
  return ledger->take(fault_ledger::key(local.address().to_string(), local.port(), server_->address,
                                        server_->port));
}

}  // namespace albsim::proxy
