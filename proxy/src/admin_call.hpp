// One admin API request as a handler sees it (admin_api.cpp dispatches, the handlers live in
// admin_api.cpp and admin_runtime_routes.cpp), and the two shapes of reply every handler uses:
// a JSON body, or {"error": ..., "field": ...} naming what was wrong.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "admin_api.hpp"

namespace albsim::proxy {

struct proxy_runtime;

struct admin_call {
  proxy_runtime& rt;
  const admin_request& request;
  const std::map<std::string, std::string>& query;  // decoded query parameters
  std::map<std::string, std::string> params;        // the path's {parameters}
};

inline admin_reply json_reply(int status, const nlohmann::json& body) {
  return admin_reply{status, "application/json", body.dump() + "\n"};
}

inline admin_reply error_reply(int status, const std::string& message,
                               const std::string& field = "") {
  nlohmann::json body = {{"error", message}};
  if (!field.empty()) body["field"] = field;
  return json_reply(status, body);
}

}  // namespace albsim::proxy
