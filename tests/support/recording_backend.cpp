#include "recording_backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <thread>

namespace albsim::test {
namespace http = boost::beast::http;

std::size_t recording_backend::request::count(const std::string& name) const {
  std::size_t n = 0;
  for (const auto& [k, v] : fields) n += boost::beast::iequals(k, name);
  return n;
}

std::string recording_backend::request::field(const std::string& name) const {
  for (const auto& [k, v] : fields) {
    if (boost::beast::iequals(k, name)) return v;
  }
  return {};
}

recording_backend::reply recording_backend::numbered(const request&, std::size_t sequence) {
  const std::string body = "seq " + std::to_string(sequence);
  return {"HTTP/1.1 200 OK\r\nX-Backend-Seq: " + std::to_string(sequence) +
              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
          false};
}

recording_backend::recording_backend(responder r) : responder_(std::move(r)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof sa;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

recording_backend::~recording_backend() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
    for (int fd : session_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  for (auto& t : sessions_) t.join();
  ::close(listen_fd_);
}

void recording_backend::accept_loop() {
  for (;;) {
    pollfd p{listen_fd_, POLLIN, 0};
    ::poll(&p, 1, 50);  // wakes to notice stopping_
    {
      std::lock_guard lock(m_);
      if (stopping_) return;
    }
    if (!(p.revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(m_);
    session_fds_.push_back(fd);
    sessions_.emplace_back([this, fd] { serve(fd); });
  }
}

void recording_backend::serve(int fd) {
  boost::beast::flat_buffer buf;
  std::optional<http::request_parser<http::string_body>> parser;
  parser.emplace();
  parser->eager(true);
  parser->body_limit(boost::none);
  bool open = true;
  while (open) {
    auto space = buf.prepare(65536);
    ssize_t n = ::recv(fd, space.data(), space.size(), 0);
    if (n <= 0) {
      std::lock_guard lock(m_);
      if (!stopping_) ++closed_by_peer_;
      break;
    }
    buf.commit(static_cast<std::size_t>(n));
    while (buf.size() > 0) {
      boost::system::error_code ec;
      std::size_t used = parser->put(buf.data(), ec);
      buf.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) {
        std::lock_guard lock(m_);
        ++parse_errors_;
        open = false;
        break;
      }
      if (!parser->is_done()) continue;
      const auto& msg = parser->get();
      request r;
      r.method = std::string(msg.method_string());
      r.target = std::string(msg.target());
      for (const auto& f : msg) r.fields.emplace_back(f.name_string(), f.value());
      r.body = msg.body();
      std::size_t seq;
      {
        std::lock_guard lock(m_);
        requests_.push_back(r);
        seq = requests_.size();
      }
      cv_.notify_all();
      reply out = responder_(r, seq);
      std::size_t sent = 0;
      const bool paced = out.byte_pace.count() > 0;
      if (paced) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each byte its own segment
      }
      while (sent < out.bytes.size()) {
        if (paced && sent > 0) std::this_thread::sleep_for(out.byte_pace);
        const std::size_t len = paced ? 1 : out.bytes.size() - sent;
        ssize_t w = ::send(fd, out.bytes.data() + sent, len, MSG_NOSIGNAL);
        if (w <= 0) break;
        sent += static_cast<std::size_t>(w);
      }
      if (out.close_after) {
        open = false;
        break;
      }
      parser.emplace();
      parser->eager(true);
      parser->body_limit(boost::none);
    }
  }
  std::lock_guard lock(m_);
  if (!stopping_) {
    ::shutdown(fd, SHUT_RDWR);
  }
  ::close(fd);
  for (auto& s : session_fds_) {
    if (s == fd) s = -1;
  }
}

std::size_t recording_backend::connections() const {
  std::lock_guard lock(m_);
  return session_fds_.size();
}

std::size_t recording_backend::closed_connections() const {
  std::lock_guard lock(m_);
  return closed_by_peer_;
}

std::vector<recording_backend::request> recording_backend::requests() const {
  std::lock_guard lock(m_);
  return requests_;
}

std::size_t recording_backend::parse_errors() const {
  std::lock_guard lock(m_);
  return parse_errors_;
}

bool recording_backend::wait_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

}  // namespace albsim::test
