#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "client_transport.hpp"

namespace albsim::proxy {
namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

class plain_transport final : public client_transport {
 public:
  explicit plain_transport(tcp::socket s) : socket_(std::move(s)) {}

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer b) override {
    co_return co_await socket_.async_read_some(b, nothrow);
  }
  asio::awaitable<std::tuple<error_code, std::size_t>> write(
      std::array<asio::const_buffer, 2> buffers) override {
    co_return co_await asio::async_write(socket_, buffers, nothrow);
  }
  asio::awaitable<error_code> handshake() override { co_return error_code{}; }
  asio::awaitable<void> shutdown() override {
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
