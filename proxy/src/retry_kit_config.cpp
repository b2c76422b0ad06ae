// The retry kit's sections of the proxy's config (docs/retry-kit.md): fault plans, the
// request journal and the admin listener, checked like the rest of the config (file, line,
// field and range in every error).
#include <cctype>
#include <cstdint>

#include "config_parsing.hpp"
#include "fault_spec.hpp"

namespace albsim::proxy {
namespace config_parsing {

// A fault plan (docs/retry-kit.md); every step is checked as the injector will read it.
fault_plan_config parse_fault_plan(const yaml_cursor& c) {
  c.only_keys({"name", "match", "key", "steps", "repeat", "ttl", "max_uses"});
  fault_plan_config p;
  auto name = c.required("name");
  p.name = name.as_string();
  if (p.name.empty()) name.fail("must not be empty");
  if (auto m = c.optional("match")) {
    m->only_keys({"method", "host", "path_prefix", "headers"});
    p.match.method = m->get_string("method", "");
    for (auto& ch : p.match.method) ch = static_cast<char>(std::toupper(ch));
    p.match.host = m->get_string("host", "");
    if (auto v = m->optional("path_prefix")) {
      p.match.path_prefix = v->as_string();
      if (!p.match.path_prefix.empty() && p.match.path_prefix.front() != '/')
        v->fail("must start with '/'");
    }
    if (auto v = m->optional("headers")) {
      for (const auto& [field, value] : v->entries()) {
        if (field.empty()) v->fail("a header name must not be empty");
        p.match.headers.emplace_back(field, value.is_null() ? "" : value.as_string());
      }
    }
  }
  if (auto v = c.optional("key")) {
    const std::string k = v->as_string();
    constexpr std::string_view header_prefix = "header:";
    if (k == "constant") {
      p.key = fault_plan_key::constant;
    } else if (k == "client_ip") {
      p.key = fault_plan_key::client_ip;
    } else if (k.rfind(header_prefix, 0) == 0 && k.size() > header_prefix.size()) {
      p.key = fault_plan_key::header;
      p.key_header = k.substr(header_prefix.size());
    } else {
      v->fail("expected constant, client_ip or header:<Name>, got '" + k + "'");
    }
  }
  auto steps = c.required("steps");
  for (const auto& item : steps.items()) {
    const std::string step = item.as_string();
    fault_spec spec = parse_plan_step(step);
    if (spec.route == fault_route::refused) item.fail(spec.why_not);
    p.steps.push_back(step);
  }
  if (p.steps.empty()) steps.fail("needs at least one step");
  p.repeat = c.get_bool("repeat", p.repeat);
  p.ttl = c.get_duration("ttl", p.ttl, 0s, 24h * 365);
  p.max_uses = static_cast<std::uint64_t>(c.get_int("max_uses", 0, 0, INT64_MAX));
  return p;
}

void apply_journal(const yaml_cursor& c, journal_config& j) {
  c.only_keys({"size", "headers", "max_value_bytes"});
  j.size = static_cast<std::uint32_t>(c.get_int("size", j.size, 0, 10'000'000));
  if (auto v = c.optional("headers")) {
    j.headers.clear();
    for (const auto& item : v->items()) j.headers.push_back(item.as_string());
  }
  j.max_value_bytes =
      static_cast<std::uint32_t>(c.get_int("max_value_bytes", j.max_value_bytes, 16, 65536));
}

void apply_admin(const yaml_cursor& c, admin_config& a) {
  c.only_keys({"enabled", "address", "port", "token"});
  a.enabled = c.get_bool("enabled", true);
  if (auto v = c.optional("address")) a.address = ip_address(*v);
  if (auto v = c.optional("port")) a.port = port(*v);
  a.token = c.get_string("token", a.token);
  const bool loopback = a.address.rfind("127.", 0) == 0 || a.address == "::1";
  if (a.enabled && !loopback && a.token.empty()) {
    c.fail("an admin listener on a non-loopback address needs a token");
  }
}

}  // namespace config_parsing

fault_plan_config load_fault_plan_text(const std::string& text, const std::string& name) {
  return config_parsing::parse_fault_plan(yaml_cursor::load_string(text, name));
}

}  // namespace albsim::proxy
