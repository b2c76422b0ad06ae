#include <boost/asio/write.hpp>

#include "client_transport.hpp"

namespace albsim::proxy {
namespace {

class plain_transport final : public client_transport {
 public:
  explicit plain_transport(tcp::socket s) : socket_(std::move(s)) {}

  task<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer b) override {
    co_return co_await socket_.async_read_some(b, use_task);
  }
  task<std::tuple<error_code, std::size_t>> write(
      std::array<asio::const_buffer, 2> buffers) override {
    co_return co_await asio::async_write(socket_, buffers, use_task);
  }
  task<error_code> handshake() override { co_return error_code{}; }
  task<void> shutdown() override {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
    co_return;
  }
  tcp::socket& socket() override { return socket_; }

 private:
  tcp::socket socket_;
};

}  // namespace

std::unique_ptr<client_transport> make_plain_transport(tcp::socket socket) {
  return std::make_unique<plain_transport>(std::move(socket));
}

}  // namespace albsim::proxy
