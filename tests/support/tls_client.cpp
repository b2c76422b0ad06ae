#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "raw_client.hpp"

namespace albsim::test {

std::optional<http_response> tls_request(const std::string& address, std::uint16_t port,
                                         const std::string& request, std::string* protocol,
                                         std::chrono::milliseconds timeout) {
  raw_client c;
  if (c.connect(address, port, timeout) != io_result::ok) return std::nullopt;
  // Blocking I/O with a receive/send timeout keeps every step bounded.
  int fl = 0;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(c.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  (void)fl;
  int flags = ::fcntl(c.fd(), F_GETFL);
  ::fcntl(c.fd(), F_SETFL, flags & ~O_NONBLOCK);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, c.fd());
  std::optional<http_response> out;
  if (SSL_connect(ssl) == 1) {
    if (protocol) *protocol = SSL_get_version(ssl);
    if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
      std::string raw;
      char buf[16384];
      for (;;) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        raw.append(buf, static_cast<std::size_t>(n));
        auto r = parse_response(raw);
        auto end = raw.find("\r\n\r\n");
        if (r && end != std::string::npos) {
          auto cl = r->header("Content-Length");
          if (cl && raw.size() >= end + 4 + std::stoul(*cl)) break;
        }
      }
      out = parse_response(raw);
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

}  // namespace albsim::test
