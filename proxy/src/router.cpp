#include "router.hpp"

#include <cctype>

namespace albsim::proxy {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const std::string k_default_rule = "default";

}  // namespace

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.empty()) return true;
  host = host.substr(0, host.find(':'));
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && iequal(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequal(host, pattern);
}

route route_request(const listener_config& listener, std::string_view host,
                    std::string_view target) {
  for (std::size_t i = 0; i < listener.rules.size(); ++i) {
    const auto& rule = listener.rules[i];
    if (host_matches(rule.host, host) &&
        (rule.path_prefix.empty() ||
         target.substr(0, rule.path_prefix.size()) == rule.path_prefix)) {
      return route{static_cast<int>(i), &rule.server_group, &rule.name};
    }
  }
  return route{-1, &listener.default_server_group, &k_default_rule};
}

}  // namespace albsim::proxy
