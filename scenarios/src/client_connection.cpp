// The scenario client's socket (client_connection.hpp): connect, send and read on a
// non-blocking POSIX socket, each bounded by poll() against the caller's deadline.
#include "client_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace albsim::scenarios {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

io from_errno(int e) {
  if (e == ECONNRESET || e == EPIPE) return io::reset;
  if (e == ECONNREFUSED) return io::refused;
  return io::error;
}

}  // namespace

io client_connection::connect(const std::string& address, std::uint16_t port,
                              clock::time_point deadline) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return io::error;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return io::error;
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return io::ok;
  if (errno != EINPROGRESS) return from_errno(errno);
  pollfd p{fd_, POLLOUT, 0};
  int n = ::poll(&p, 1, remaining_ms(deadline));
  if (n == 0) return io::timeout;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0 ? io::ok : from_errno(err);
}

std::uint16_t client_connection::local_port() const {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

io client_connection::send(std::string_view bytes, clock::time_point deadline, bool stop_on_input) {
  while (!bytes.empty()) {
    pollfd p{fd_, static_cast<short>(POLLOUT | (stop_on_input ? POLLIN : 0)), 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n == 0) return io::timeout;
    if (p.revents & POLLIN) return io::ok;
    ssize_t w = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return from_errno(errno);
    }
    sent_ += static_cast<std::uint64_t>(w);
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
  return io::ok;
}

bool client_connection::input_waiting() const {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

io client_connection::read_response(response& r, clock::time_point deadline,
                                    std::optional<clock::time_point>* first_byte) {
  r = response{};
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    io e = fill(deadline);
    if (first_byte && !*first_byte && !buffer_.empty()) *first_byte = clock::now();
    if (e != io::ok) return e;
  }
  std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  std::size_t eol = head.find("\r\n");
  std::string status_line = head.substr(0, eol);
  if (status_line.size() >= 12 && status_line.compare(0, 5, "HTTP/") == 0) {
    r.status = std::atoi(status_line.c_str() + 9);
    r.reason = status_line.size() > 13 ? status_line.substr(13) : "";
  }
  std::optional<std::uint64_t> length;
  bool chunked = false;
  std::size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    r.headers[name] = value;
    if (name == "content-length") length = std::strtoull(value.c_str(), nullptr, 10);
    if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) {
      chunked = true;
    }
  }
  if (chunked) {
    // Chunk sizes are not decoded: the body is counted (approximately) up to the last chunk.
    for (;;) {
      auto last = buffer_.find("0\r\n\r\n");
      if (last != std::string::npos) {
        r.body_bytes += last;
        buffer_.erase(0, last + 5);
        r.complete = true;
        return io::ok;
      }
      // Keep only what could be the start of the terminator: memory stays bounded.
      if (buffer_.size() > 4) {
        r.body_bytes += buffer_.size() - 4;
        buffer_.erase(0, buffer_.size() - 4);
      }
      io e = fill(deadline);
      if (e != io::ok) return e;
    }
  }
  if (length) {
    for (;;) {
      std::uint64_t take = std::min<std::uint64_t>(buffer_.size(), *length - r.body_bytes);
      r.body_bytes += take;
      buffer_.erase(0, take);
      if (r.body_bytes >= *length) {
        r.complete = true;
        return io::ok;
      }
      io e = fill(deadline);
      if (e != io::ok) return e;
    }
  }
  if (r.status == 204 || r.status == 304) {
    r.complete = true;
    return io::ok;
  }
  for (;;) {
    r.body_bytes += buffer_.size();
    buffer_.clear();
    io e = fill(deadline);
    if (e == io::eof) {
      r.complete = true;
      return io::ok;
    }
    if (e != io::ok) return e;
  }
}

void client_connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

io client_connection::fill(clock::time_point deadline) {
  pollfd p{fd_, POLLIN, 0};
  int n = ::poll(&p, 1, remaining_ms(deadline));
  if (n == 0) return io::timeout;
  char buf[65536];
  ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
  if (r == 0) return io::eof;
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return io::ok;
    return from_errno(errno);
  }
  received_ += static_cast<std::uint64_t>(r);
  // Bodies are counted, not kept: keep at most what a head and a chunk trailer need.
  buffer_.append(buf, static_cast<std::size_t>(r));
  return io::ok;
}

const char* to_text(io e) {
  switch (e) {
    case io::ok:
      return "ok";
    case io::eof:
      return "closed";
    case io::reset:
      return "reset";
    case io::refused:
      return "refused";
    case io::timeout:
      return "timeout";
    case io::error:
      return "error";
  }
  return "?";
}

}  // namespace albsim::scenarios
