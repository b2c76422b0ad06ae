#include "raw_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace albsim::test {
namespace {

using steady = std::chrono::steady_clock;

int remaining_ms(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

io_result from_errno(int e) {
  switch (e) {
    case ECONNRESET:
    case EPIPE:
      return io_result::reset;
    case ECONNREFUSED:
      return io_result::refused;
    case ETIMEDOUT:
      return io_result::timeout;
    default:
      return io_result::error;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const char* to_string(io_result r) {
  switch (r) {
    case io_result::ok:
      return "ok";
    case io_result::eof:
      return "eof";
    case io_result::reset:
      return "reset";
    case io_result::refused:
      return "refused";
    case io_result::timeout:
      return "timeout";
    case io_result::error:
      return "error";
  }
  return "?";
}

raw_client::~raw_client() { close(); }
raw_client::raw_client(raw_client&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
raw_client& raw_client::operator=(raw_client&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void raw_client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

io_result raw_client::connect(const std::string& address, std::uint16_t port,
                              std::chrono::milliseconds timeout, const std::string& bind_address) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return io_result::error;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!bind_address.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, bind_address.c_str(), &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
      return io_result::error;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return io_result::error;
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return io_result::ok;
  if (errno != EINPROGRESS) return from_errno(errno);
  pollfd p{fd_, POLLOUT, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n == 0) return io_result::timeout;
  if (n < 0) return io_result::error;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0 ? io_result::ok : from_errno(err);
}

io_result raw_client::send_all(const std::string& bytes, std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return from_errno(errno);
    pollfd p{fd_, POLLOUT, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r == 0) return io_result::timeout;
  }
  return io_result::ok;
}

io_result raw_client::read_until_close(std::string& out, std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return io_result::eof;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return from_errno(errno);
    pollfd p{fd_, POLLIN, 0};
    int ms = remaining_ms(deadline);
    if (ms == 0) return io_result::timeout;
    if (::poll(&p, 1, ms) == 0) return io_result::timeout;
  }
}

io_result raw_client::read_response(std::string& out, std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  char buf[65536];
  for (;;) {
    auto end = out.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = lower(out.substr(0, end));
      auto cl = head.find("\ncontent-length:");
      if (cl != std::string::npos) {
        std::size_t len = std::stoull(head.substr(cl + 16));
        if (out.size() >= end + 4 + len) return io_result::ok;
      } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
        if (out.find("\r\n0\r\n\r\n", end) != std::string::npos) return io_result::ok;
      } else if (head.rfind("http/1.1 204", 0) == 0 || head.rfind("http/1.1 304", 0) == 0) {
        return io_result::ok;
      }
    }
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0)
      return out.empty() ? io_result::eof
                         : (end != std::string::npos ? io_result::ok : io_result::eof);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return from_errno(errno);
    pollfd p{fd_, POLLIN, 0};
    int ms = remaining_ms(deadline);
    if (ms == 0 || ::poll(&p, 1, ms) == 0) return io_result::timeout;
  }
}

void raw_client::shutdown_send() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void raw_client::reset() {
  if (fd_ < 0) return;
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

std::uint16_t raw_client::local_port() const {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

std::optional<std::string> http_response::header(const std::string& name) const {
  std::string want = lower(name) + ":";
  std::size_t pos = 0;
  while (pos < headers.size()) {
    auto eol = headers.find("\r\n", pos);
    if (eol == std::string::npos) eol = headers.size();
    std::string line = headers.substr(pos, eol - pos);
    if (lower(line).rfind(want, 0) == 0) {
      std::string v = line.substr(want.size());
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      return v;
    }
    pos = eol + 2;
  }
  return std::nullopt;
}

std::optional<http_response> parse_response(const std::string& raw) {
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.rfind("HTTP/1.", 0) != 0) return std::nullopt;
  http_response r;
  auto eol = raw.find("\r\n");
  std::string line = raw.substr(0, eol);
  if (line.size() < 12) return std::nullopt;
  r.status = std::atoi(line.substr(9, 3).c_str());
  r.reason = line.size() > 13 ? line.substr(13) : "";
  r.headers = raw.substr(eol + 2, end - eol);
  std::string body = raw.substr(end + 4);
  if (lower(r.headers).find("transfer-encoding: chunked") != std::string::npos) {
    std::size_t pos = 0;
    while (pos < body.size()) {
      auto le = body.find("\r\n", pos);
      if (le == std::string::npos) break;
      std::size_t n = std::stoul(body.substr(pos, le - pos), nullptr, 16);
      if (n == 0) break;
      r.body += body.substr(le + 2, n);
      pos = le + 2 + n + 2;
    }
  } else {
    r.body = body;
  }
  return r;
}

std::optional<http_response> simple_request(const std::string& address, std::uint16_t port,
                                            const std::string& request, io_result* result,
                                            std::chrono::milliseconds timeout) {
  raw_client c;
  io_result r = c.connect(address, port, timeout);
  if (r == io_result::ok) r = c.send_all(request, timeout);
  std::string raw;
  if (r == io_result::ok) r = c.read_response(raw, timeout);
  if (result) *result = r;
  if (r != io_result::ok) return std::nullopt;
  return parse_response(raw);
}

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  for (;;) {
    if (predicate()) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);  // polling interval of a bounded wait
  }
}

}  // namespace albsim::test
