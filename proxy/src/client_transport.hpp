// The client side of a connection, plain TCP or TLS, behind one small interface so the session
// is written once (and compiled once) for both.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <array>
#include <memory>
#include <string>
#include <tuple>

#include "task.hpp"

namespace albsim::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class client_transport {
 public:
  virtual ~client_transport() = default;
  virtual task<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer b) = 0;
  virtual task<std::tuple<error_code, std::size_t>> write(
      std::array<asio::const_buffer, 2> buffers) = 0;
  // TLS: the handshake; plain: nothing.
  virtual task<error_code> handshake() = 0;
  // Ends the connection politely (TLS close_notify; TCP FIN), then the socket is closed.
  virtual task<void> shutdown() = 0;
  virtual tcp::socket& socket() = 0;
  virtual std::string ssl_protocol() const { return ""; }
  virtual std::string ssl_cipher() const { return ""; }
};

std::unique_ptr<client_transport> make_plain_transport(tcp::socket socket);
std::unique_ptr<client_transport> make_tls_transport(tcp::socket socket, asio::ssl::context& ctx);

// A server TLS context from PEM files, or with a self-signed certificate for "localhost" and
// 127.0.0.1 generated at start when both paths are empty. Throws std::runtime_error.
std::unique_ptr<asio::ssl::context> make_server_tls_context(const std::string& certificate_file,
                                                            const std::string& private_key_file);

}  // namespace albsim::proxy
