#include "proxy_fixture.hpp"

#include "albsim/scenarios/scenario.hpp"

#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace albsim::test {

namespace {

// ALBSIM_TEST_WORKERS=N runs every test proxy with N worker threads and every test backend with
// N io_context threads (scripts/tsan.sh uses 4, so ThreadSanitizer sees the shared parts:
// access-log writer, health checks, QPS limiters, server groups).
int test_threads() {
  const char* v = std::getenv("ALBSIM_TEST_WORKERS");
  int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : 1;
}

}  // namespace

proxy::proxy_config base_proxy_config() {
  // The same starting point as every scenario: one HTTP listener on 127.0.0.1:0, group "main".
  auto config = scenarios::base_proxy_config();
  config.worker_threads = static_cast<std::uint32_t>(test_threads());
  return config;
}

void add_server(proxy::proxy_config& config, const std::string& address, std::uint16_t port) {
  for (auto& g : config.server_groups) {
    if (g.name != "main") continue;
    proxy::server_config s;
    s.address = address;
    s.port = port;
    g.servers.push_back(s);
  }
}

proxy_harness::proxy_harness(proxy::proxy_config config, int backends,
                             std::shared_ptr<fault_ledger> ledger)
    : log_(std::make_shared<proxy::memory_log_sink>()),
      ledger_(ledger ? std::move(ledger) : std::make_shared<fault_ledger>()) {
  for (int i = 0; i < backends; ++i) {
    backend::backend_options o;
    o.name = "backend-" + std::to_string(i + 1);
    o.ledger = ledger_;
    o.threads = test_threads();
    backends_.push_back(backend::backend_server::start(o));
  }
  for (auto& g : config.server_groups) {
    if (g.name != "main" || !g.servers.empty()) continue;
    for (auto& b : backends_) {
      proxy::server_config s;
      s.address = b->address();
      s.port = b->port();
      g.servers.push_back(s);
    }
  }
  proxy_ = proxy::proxy_server::start(std::move(config), log_, ledger_);
}

proxy_harness::~proxy_harness() {
  proxy_->stop();
  for (auto& b : backends_) b->stop();
}

std::uint16_t proxy_harness::port(std::size_t listener) const {
  return proxy_->listeners().at(listener).port;
}
std::string proxy_harness::address(std::size_t listener) const {
  return proxy_->listeners().at(listener).address;
}

std::vector<nlohmann::json> proxy_harness::records(std::size_t count,
                                                   std::chrono::milliseconds timeout) {
  std::vector<nlohmann::json> out;
  for (const auto& l : log_->wait_for(count, timeout)) out.push_back(nlohmann::json::parse(l));
  return out;
}

nlohmann::json proxy_harness::only_record(std::chrono::milliseconds timeout) {
  auto r = records(1, timeout);
  EXPECT_EQ(r.size(), 1u) << "expected exactly one access-log record";
  return r.empty() ? nlohmann::json::object() : r.front();
}

std::optional<http_response> proxy_harness::get(const std::string& path,
                                                const std::string& extra_header, io_result* result,
                                                std::chrono::milliseconds timeout) {
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: test.local\r\n";
  if (!extra_header.empty()) req += extra_header + "\r\n";
  req += "Connection: close\r\n\r\n";
  return simple_request(address(), port(), req, result, timeout);
}

refused_port::refused_port() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
}

refused_port::~refused_port() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace albsim::test
