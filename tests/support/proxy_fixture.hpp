// A running proxy (and in-process backends) for loopback integration tests: everything on
// 127.0.0.1 with kernel-chosen ports, the access log kept in memory, every wait bounded.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "albsim/backend/backend_server.hpp"
#include "albsim/proxy/proxy_server.hpp"
#include "raw_client.hpp"

namespace albsim::test {

// A config with one HTTP listener on 127.0.0.1:0 and one group "main" with no servers yet.
proxy::proxy_config base_proxy_config();
// Adds a server at `address`:`port` to the group "main" (e.g. a backend the test runs itself).
void add_server(proxy::proxy_config& config, const std::string& address, std::uint16_t port);

class proxy_harness {
 public:
  // Starts a normal backend for each name in `backends` and points the group "main" at them
  // (unless the config already has servers).
  // `ledger`: the notes channel shared with in-process backends the test started itself (a
  // fresh one when none is given).
  explicit proxy_harness(proxy::proxy_config config, int backends = 1,
                         std::shared_ptr<fault_ledger> ledger = nullptr);
  ~proxy_harness();

  std::uint16_t port(std::size_t listener = 0) const;
  std::string address(std::size_t listener = 0) const;
  backend::backend_server& backend(std::size_t i = 0) { return *backends_.at(i); }
  // The ledger this proxy reads; a test that starts its own in-process backend hands it over.
  const std::shared_ptr<fault_ledger>& ledger() const { return ledger_; }
  proxy::proxy_server& server() { return *proxy_; }

  // Waits (bounded) until `count` records have arrived; returns them parsed.
  std::vector<nlohmann::json> records(std::size_t count,
                                      std::chrono::milliseconds timeout = 5000ms);
  // The single record expected after one exchange.
  nlohmann::json only_record(std::chrono::milliseconds timeout = 5000ms);

  // GET a path with an optional extra header line ("Name: value").
  std::optional<http_response> get(const std::string& path, const std::string& extra_header = "",
                                   io_result* result = nullptr,
                                   std::chrono::milliseconds timeout = 5000ms);

 private:
  std::vector<std::unique_ptr<backend::backend_server>> backends_;
  std::shared_ptr<proxy::memory_log_sink> log_;
  std::shared_ptr<fault_ledger> ledger_;
  std::unique_ptr<proxy::proxy_server> proxy_;
};

// A loopback port on which nothing listens (bound, never listening: connects are refused).
class refused_port {
 public:
  refused_port();
  ~refused_port();
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace albsim::test
