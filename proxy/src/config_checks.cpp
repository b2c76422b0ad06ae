// The proxy config's cross-checks, run on the whole config once a document is applied
// (config_parsing.hpp): an error names the line of the field it is about, or of its nearest
// ancestor the document set.
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

#include "albsim/config_error.hpp"
#include "config_parsing.hpp"

namespace albsim::proxy::config_parsing {
namespace {

// Finds the line of `path` ("listeners[0].rules[1].server_group") in the document so that a
// cross-check on the final config can still point at the YAML; the nearest ancestor present
// when this document did not set the field (it came from the base config).
[[noreturn]] void fail_at(const yaml_cursor& root, const std::string& path,
                          const std::string& message) {
  YAML::Node node = root.node();
  int line = root.line();
  std::size_t pos = 0;
  while (pos < path.size() && node) {
    std::size_t end = path.find_first_of(".[", pos);
    std::string key = path.substr(pos, end - pos);
    YAML::Node next;
    if (!key.empty()) {
      const YAML::Node& map = node;
      if (!map.IsMap() || !map[key]) break;
      next = map[key];
    } else if (path[pos] == '[') {
      std::size_t close = path.find(']', pos);
      std::size_t i = std::stoul(path.substr(pos + 1, close - pos - 1));
      const YAML::Node& seq = node;
      if (!seq.IsSequence() || i >= seq.size()) break;
      next = seq[i];
      end = close + 1;
    } else {
      break;
    }
    node.reset(next);
    if (!node.Mark().is_null()) line = node.Mark().line + 1;
    pos = end == std::string::npos ? path.size() : end + (end < path.size() && path[end] == '.');
  }
  throw config_error(root.file(), line, path, message);
}

std::string listener_path(std::size_t i) { return "listeners[" + std::to_string(i) + "]"; }
std::string group_path(std::size_t i) { return "server_groups[" + std::to_string(i) + "]"; }

}  // namespace

void validate(proxy_config& config, const yaml_cursor& root, bool groups_replaced,
              bool listeners_replaced) {
  std::set<std::string> groups;
  for (std::size_t i = 0; i < config.server_groups.size(); ++i) {
    if (!groups.insert(config.server_groups[i].name).second) {
      fail_at(root, group_path(i) + ".name",
              "server group '" + config.server_groups[i].name + "' is defined twice");
    }
  }
  std::set<std::string> backends;
  for (std::size_t i = 0; i < config.embedded_backends.size(); ++i) {
    if (!backends.insert(config.embedded_backends[i].name).second) {
      fail_at(root, "embedded_backends[" + std::to_string(i) + "].name",
              "embedded backend '" + config.embedded_backends[i].name + "' is defined twice");
    }
  }
  const limits_config& lim = config.limits;
  if (lim.max_header_block < std::max(lim.max_header_line, lim.max_uri)) {
    fail_at(root, "limits.max_header_block",
            "must be at least max_header_line and max_uri (" +
                std::to_string(std::max(lim.max_header_line, lim.max_uri)) +
                " bytes), or those limits could never apply");
  }
  if (config.listeners.empty()) fail_at(root, "listeners", "needs at least one listener");
  std::set<std::string> names;
  std::map<std::uint16_t, std::string> ports;
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    listener_config& l = config.listeners[i];
    std::string at = listener_path(i);
    if (!names.insert(l.name).second) {
      fail_at(root, at + ".name", "listener '" + l.name + "' is defined twice");
    }
    if (l.port != 0) {
      auto [it, fresh] = ports.emplace(l.port, l.name);
      if (!fresh) {
        fail_at(root, at + ".port",
                "port " + std::to_string(l.port) + " is already used by listener '" + it->second +
                    "' (port 0 lets the kernel choose)");
      }
    }
    if (l.protocol == listener_protocol::http &&
        (!l.certificate_file.empty() || !l.private_key_file.empty())) {
      fail_at(root, at + ".certificate", "certificate and private_key are for https listeners");
    }
    if (l.certificate_file.empty() != l.private_key_file.empty()) {
      fail_at(root, at + (l.certificate_file.empty() ? ".private_key" : ".certificate"),
              "give both certificate and private_key, or neither (a self-signed pair is "
              "generated)");
    }
    // A delta that swaps the groups for a single new one, without touching the listeners,
    // carries the listeners along to it: "the default plus this group" is the common case.
    if (groups_replaced && !listeners_replaced && config.server_groups.size() == 1 &&
        !groups.count(l.default_server_group)) {
      l.default_server_group.clear();
    }
    if (l.default_server_group.empty()) {
      if (config.server_groups.size() != 1) {
        fail_at(root, at + ".default_server_group",
                "is required when there is not exactly one server group (there are " +
                    std::to_string(config.server_groups.size()) + ")");
      }
      l.default_server_group = config.server_groups.front().name;
    } else if (!groups.count(l.default_server_group)) {
      fail_at(root, at + ".default_server_group",
              "names no server group: '" + l.default_server_group + "'");
    }
    std::set<std::string> rule_names;
    for (std::size_t j = 0; j < l.rules.size(); ++j) {
      std::string rule_at = at + ".rules[" + std::to_string(j) + "]";
      if (!rule_names.insert(l.rules[j].name).second) {
        fail_at(root, rule_at + ".name", "rule '" + l.rules[j].name + "' is defined twice");
      }
      if (!groups.count(l.rules[j].server_group)) {
        fail_at(root, rule_at + ".server_group",
                "names no server group: '" + l.rules[j].server_group + "'");
      }
    }
  }
}

}  // namespace albsim::proxy::config_parsing
