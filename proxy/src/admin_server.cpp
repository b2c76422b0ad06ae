#include "admin_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <stdexcept>

#include "proxy_runtime.hpp"

namespace albsim::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// albsim's own bounds for the admin listener: a request (a plan) is small, and a client that
// stops sending cannot hold a connection.
constexpr std::uint64_t k_max_body = 1 << 20;
constexpr auto k_io_timeout = std::chrono::seconds(10);

bool is_loopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1";
}

}  // namespace

struct admin_server::impl {
  impl(proxy_runtime& rt)
      : api(rt, is_loopback(rt.config.admin.address) ? std::string() : rt.config.admin.token),
        acceptor(ioc) {}

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(nothrow);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(ioc, serve(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    error_code ec;
    const auto remote = stream.socket().remote_endpoint(ec);
    const std::string peer =
        ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(k_max_body);
      stream.expires_after(k_io_timeout);
      auto [rec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
      if (rec) co_return;
      auto& req = parser.get();
      admin_request in{std::string(req.method_string()), std::string(req.target()), req.body(),
                       std::string(req[http::field::authorization]), peer};
      admin_reply out = api.handle(in);
      http::response<http::string_body> res{static_cast<http::status>(out.status), 11};
      res.set(http::field::content_type, out.content_type);
      if (out.status == 401) res.set(http::field::www_authenticate, "Bearer");
      res.keep_alive(req.keep_alive());
      res.body() = std::move(out.body);
      res.prepare_payload();
      stream.expires_after(k_io_timeout);
      auto [wec, m] = co_await http::async_write(stream, res, nothrow);
      if (wec || !res.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::io_context ioc{1};
  admin_api api;
  tcp::acceptor acceptor;
};

admin_server::admin_server(proxy_runtime& rt) : impl_(std::make_unique<impl>(rt)) {
  const admin_config& cfg = rt.config.admin;
  error_code ec;
  auto address = asio::ip::make_address(cfg.address, ec);
  if (ec) throw std::runtime_error("admin: bad address '" + cfg.address + "'");
  tcp::endpoint ep(address, cfg.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("admin: cannot listen on " + cfg.address + ":" +
                             std::to_string(cfg.port) + ": " + ec.message());
  }
  port_ = a.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  thread_ = std::thread([this] { impl_->ioc.run(); });
}

admin_server::~admin_server() { stop(); }

void admin_server::stop() {
  if (!thread_.joinable()) return;
  impl_->ioc.stop();
  thread_.join();
}

}  // namespace albsim::proxy
