// The admin API of a test proxy (admin_client.hpp).
#include "admin_client.hpp"

namespace albsim::test {

admin_answer admin(proxy_harness& h, const std::string& method, const std::string& target,
                   const std::string& body, const std::string& extra) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n" +
                    extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  auto resp = simple_request("127.0.0.1", h.server().admin_port(), req);
  admin_answer out;
  if (!resp) return out;
  out.status = resp->status;
  out.text = resp->body;
  out.body = nlohmann::json::parse(resp->body, nullptr, false);
  return out;
}

proxy::proxy_config admin_config() {
  auto cfg = base_proxy_config();
  cfg.admin.enabled = true;
  cfg.admin.port = 0;
  return cfg;
}

}  // namespace albsim::test
