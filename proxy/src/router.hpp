// Routing: which forwarding rule of a listener takes a request, and so which server group and
// which rule name (for QPS limits and the ALICLOUD-ALB-TRACE entry). A pure function of the
// listener's config and the request's Host and target, tested on its own.
#pragma once

#include <string>
#include <string_view>

#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

struct route {
  int rule_index = -1;  // -1: the listener's default action
  const std::string* group_name = nullptr;
  const std::string* rule_name = nullptr;  // "default" for the default action
};

// Host pattern: "" matches any host, "*.example.com" any subdomain (not the apex), anything
// else exactly; case-insensitive, a port in `host` ignored.
bool host_matches(std::string_view pattern, std::string_view host);

// The first rule whose host pattern and path prefix both match, else the default action.
route route_request(const listener_config& listener, std::string_view host,
                    std::string_view target);

}  // namespace albsim::proxy
