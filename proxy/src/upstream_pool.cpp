#include "upstream_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace albsim::proxy {
namespace {

// True when the backend has neither closed nor sent anything unexpected on an idle connection.
bool still_idle(upstream_pool::socket& s) {
  char c;
  ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::optional<upstream_pool::socket> upstream_pool::checkout(const std::string& server) {
  auto it = idle_.find(server);
  if (it == idle_.end()) return std::nullopt;
  auto& v = it->second;
  const auto now = std::chrono::steady_clock::now();
  while (!v.empty()) {
    idle_connection c = std::move(v.back());
    v.pop_back();
    if (now - c.since < idle_timeout_ && (now - c.since < k_trust_fresh || still_idle(c.s))) {
      return std::move(c.s);
    }
    boost::system::error_code ec;
    c.s.close(ec);
  }
  return std::nullopt;
}

void upstream_pool::checkin(const std::string& server, socket s) {
  auto& v = idle_[server];
  if (v.size() >= per_server_ || idle_timeout_.count() == 0) {
    boost::system::error_code ec;
    s.close(ec);
    return;
  }
  v.push_back({std::move(s), std::chrono::steady_clock::now()});
}

void upstream_pool::sweep() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [server, v] : idle_) {
    std::erase_if(v, [&](idle_connection& c) {
      if (now - c.since < idle_timeout_) return false;
      boost::system::error_code ec;
      c.s.close(ec);
      return true;
    });
  }
}

std::size_t upstream_pool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [server, v] : idle_) n += v.size();
  return n;
}

void upstream_pool::clear() {
  for (auto& [k, v] : idle_) {
    for (auto& c : v) {
      boost::system::error_code ec;
      c.s.close(ec);
    }
  }
  idle_.clear();
}

}  // namespace albsim::proxy
