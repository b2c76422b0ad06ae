// The admin API's routes and handlers (docs/admin-api.openapi.yaml), apart from the transport
// (admin_server.hpp): a request in, a reply out. JSON over HTTP for a test harness to arm fault
// plans, read and clear the journal, ask what the client's retries looked like, reset the
// counters and scrape metrics; the routes that change the running proxy (weights, health, QPS
// limits, client links) are in admin_runtime_routes.hpp. Every handler either applies a whole
// change or none of it.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace albsim::proxy {

struct proxy_runtime;

struct admin_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::string body;
  std::string authorization;  // the Authorization field, "" if none
  std::string peer;           // "ip:port", for the log
};

struct admin_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// One route as documented: an HTTP method and an OpenAPI path template ("/plans/{name}").
struct admin_route {
  std::string_view method;
  std::string_view path;
};

class admin_api {
 public:
  // `token`: the Bearer token every request must carry; "" = no token asked for.
  admin_api(proxy_runtime& rt, std::string token);

  admin_reply handle(const admin_request& request);

  // Every route the API answers (the OpenAPI file is checked against this list).
  static std::span<const admin_route> routes();

 private:
  proxy_runtime& rt_;
  const std::string token_;
};

}  // namespace albsim::proxy
