// Parsing pieces the proxy's config loader shares between its files (internal): the loader
// itself (config_loader.cpp) and the retry kit's sections (retry_kit_config.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "albsim/proxy/config.hpp"
#include "albsim/yaml_cursor.hpp"

namespace albsim::proxy::config_parsing {

bool is_ip_address(const std::string& s);
// An IPv4 or IPv6 address, or a config error naming the field.
std::string ip_address(const yaml_cursor& c);
std::uint16_t port(const yaml_cursor& c);

// Cross-checks that need the whole config (config_checks.cpp): names that must be unique or must
// name something, found back to their line in `root`. `groups_replaced`/`listeners_replaced`
// say which lists this document set (a delta may keep the base config's).
void validate(proxy_config& config, const yaml_cursor& root, bool groups_replaced,
              bool listeners_replaced);

// The retry kit's sections (docs/retry-kit.md), in retry_kit_config.cpp.
fault_plan_config parse_fault_plan(const yaml_cursor& c);
void apply_journal(const yaml_cursor& c, journal_config& j);
void apply_admin(const yaml_cursor& c, admin_config& a);

}  // namespace albsim::proxy::config_parsing
