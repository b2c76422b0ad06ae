// The admin API of a test proxy (docs/admin-api.openapi.yaml) as a test calls it: one request
// over a fresh loopback connection, bounded, the JSON answer parsed.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "proxy_fixture.hpp"

namespace albsim::test {

struct admin_answer {
  int status = 0;       // 0: no complete answer within the bound
  nlohmann::json body;  // discarded when the body is not JSON (e.g. /metrics)
  std::string text;
};

// `extra`: header lines ("Name: value\r\n") added to the request.
admin_answer admin(proxy_harness& h, const std::string& method, const std::string& target,
                   const std::string& body = "", const std::string& extra = "");

// A config for proxy_harness with the admin API on 127.0.0.1 and a kernel-chosen port.
proxy::proxy_config admin_config();

}  // namespace albsim::test
