// Loading a backend script (YAML) into backend_options; every error names file, line and field.
#include <string>

#include "action_grammar.hpp"
#include "albsim/backend/backend_options.hpp"
#include "albsim/yaml_cursor.hpp"

namespace albsim::backend {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

std::vector<std::string> parse_methods(const yaml_cursor& c) {
  std::vector<std::string> out;
  auto add = [&out](const yaml_cursor& m) {
    std::string s = m.as_string();
    for (char ch : s) {
      if (ch < 'A' || ch > 'Z') m.fail("a method is upper-case letters, got '" + s + "'");
    }
    out.push_back(s);
  };
  if (c.is_sequence()) {
    for (const auto& m : c.items()) add(m);
  } else {
    add(c);
  }
  return out;
}

drip_options parse_drip(const yaml_cursor& c) {
  c.only_keys({"chunk", "interval", "rate"});
  if (auto rate = c.optional("rate")) {
    if (c.has("chunk") || c.has("interval")) c.fail("give either rate or chunk + interval");
    return drip_from_rate(rate->as_bytes(1, k_max_size));
  }
  drip_options d;
  d.chunk_bytes = c.required("chunk").as_bytes(1, k_max_size);
  d.interval = c.required("interval").as_duration(0ns, k_max_duration);
  return d;
}

backend_action parse_action(const yaml_cursor& c) {
  c.only_keys(
      {"type", "status", "headers", "body", "body_bytes", "delay", "drip", "after_bytes", "hold"});
  backend_action a;
  if (auto t = c.optional("type")) {
    a.kind = *parse_action_kind(
        t->as_enum({"respond", "close", "reset", "malformed-status", "malformed-header",
                    "partial-header", "partial-body", "hang", "stop-reading"}));
  }
  a.status = static_cast<int>(c.get_int("status", 200, 100, 599));
  if (auto h = c.optional("headers")) {
    for (const auto& [name, value] : h->entries()) {
      std::string text = value.as_string();
      if (auto problem = header_field_problem(name, text); !problem.empty()) value.fail(problem);
      a.headers.emplace_back(name, std::move(text));
    }
  }
  if (auto b = c.optional("body")) a.body = b->as_string();
  if (auto b = c.optional("body_bytes")) {
    if (a.body) b->fail("give either body or body_bytes");
    a.body_bytes = b->as_bytes(0, k_max_size);
  }
  a.delay = c.get_duration("delay", 0ns, 0ns, k_max_duration);
  if (auto d = c.optional("drip")) a.drip = parse_drip(*d);
  if (auto n = c.optional("after_bytes")) {
    if (a.kind != action_kind::reset && a.kind != action_kind::partial_header &&
        a.kind != action_kind::partial_body) {
      n->fail("after_bytes applies to reset, partial-header and partial-body only");
    }
    a.after_bytes = n->as_bytes(0, k_max_size);
  }
  if (auto h = c.optional("hold")) {
    if (a.kind != action_kind::hang && a.kind != action_kind::stop_reading) {
      h->fail("hold applies to hang and stop-reading only");
    }
    a.hold = h->as_duration(1ms, k_max_duration);
  }
  return a;
}

rule_match parse_match(const yaml_cursor& c) {
  c.only_keys({"method", "path", "path_prefix", "path_glob", "headers", "first", "after", "every"});
  rule_match m;
  if (auto methods = c.optional("method")) m.methods = parse_methods(*methods);
  int path_forms = 0;
  for (auto [key, kind] :
       {std::pair{"path", path_match::exact}, std::pair{"path_prefix", path_match::prefix},
        std::pair{"path_glob", path_match::glob}}) {
    if (auto p = c.optional(key)) {
      if (++path_forms > 1) p->fail("give only one of path, path_prefix, path_glob");
      m.path = p->as_string();
      if (m.path.empty() || m.path.front() != '/') {
        if (kind != path_match::glob || m.path.empty()) p->fail("a path starts with '/'");
      }
      m.path_kind = kind;
    }
  }
  if (auto h = c.optional("headers")) {
    for (const auto& [name, value] : h->entries()) {
      m.headers.emplace_back(name, value.is_null() ? "" : value.as_string());
    }
  }
  constexpr std::int64_t k_max_count = std::int64_t{1} << 53;
  m.first = static_cast<std::uint64_t>(c.get_int("first", 0, 1, k_max_count));
  m.after = static_cast<std::uint64_t>(c.get_int("after", 0, 1, k_max_count));
  m.every = static_cast<std::uint64_t>(c.get_int("every", 0, 1, k_max_count));
  return m;
}

health_script parse_health(const yaml_cursor& c) {
  c.only_keys({"path", "method", "states", "repeat"});
  health_script h;
  h.path = c.get_string("path", h.path);
  if (h.path.empty() || h.path.front() != '/') c.required("path").fail("a path starts with '/'");
  if (auto m = c.optional("method")) h.methods = parse_methods(*m);
  h.repeat = c.get_bool("repeat", false);
  for (const auto& s : c.required("states").items()) {
    s.only_keys({"status", "checks", "for"});
    health_state st;
    st.status = static_cast<int>(s.required("status").as_int(100, 599));
    st.checks = static_cast<std::uint64_t>(s.get_int("checks", 0, 1, std::int64_t{1} << 53));
    st.duration = s.get_duration("for", 0ns, 1ms, k_max_duration);
    if (st.checks > 0 && st.duration.count() > 0) s.fail("give either checks or for, not both");
    h.states.push_back(st);
  }
  if (h.states.empty()) c.required("states").fail("needs at least one state");
  return h;
}

link_conditions parse_link(const yaml_cursor& c, blackhole_direction& direction) {
  c.only_keys({"extra_rtt", "bandwidth", "loss", "loss_stall", "seed", "mtu_blackhole_bytes",
               "mtu_blackhole_direction", "blackhole_reset_after"});
  link_conditions l;
  l.extra_rtt = c.get_duration("extra_rtt", 0ns, 0ns, std::chrono::seconds(60));
  l.bandwidth_bytes_per_s = c.get_bytes("bandwidth", 0, 1, k_max_size);
  if (auto loss = c.optional("loss")) l.loss = loss->as_double(0.0, 1.0);
  l.loss_stall = c.get_duration("loss_stall", l.loss_stall, 0ns, std::chrono::seconds(60));
  l.seed = static_cast<std::uint64_t>(c.get_int("seed", 1, 0, std::int64_t{1} << 62));
  l.mtu_blackhole_bytes = c.get_bytes("mtu_blackhole_bytes", 0, 1, k_max_size);
  l.blackhole_reset_after =
      c.get_duration("blackhole_reset_after", l.blackhole_reset_after, 1ms, k_max_duration);
  if (auto d = c.optional("mtu_blackhole_direction")) {
    direction = d->as_enum({"response", "request"}) == "request" ? blackhole_direction::request
                                                                 : blackhole_direction::response;
  }
  return l;
}

backend_options parse_script(const yaml_cursor& root) {
  backend_options o;
  o.script_source = root.file();
  if (root.is_null()) return o;  // an empty script: all defaults
  root.only_keys({"name", "bind", "port", "mode", "threads", "link", "health", "rules"});
  o.name = root.get_string("name", o.name);
  o.bind_address = root.get_string("bind", o.bind_address);
  o.port = static_cast<std::uint16_t>(root.get_int("port", 0, 0, 65535));
  if (auto m = root.optional("mode")) {
    o.mode = *parse_transport_mode(
        m->as_enum({"normal", "refuse", "queue-full-silent", "queue-full-reset"}));
  }
  o.threads = static_cast<int>(root.get_int("threads", 1, 1, 64));
  if (auto l = root.optional("link")) o.link = parse_link(*l, o.blackhole);
  if (auto h = root.optional("health")) o.health = parse_health(*h);
  if (auto rules = root.optional("rules")) {
    for (const auto& r : rules->items()) {
      r.only_keys({"name", "match", "action"});
      backend_rule rule;
      rule.name = r.get_string("name", "rules[" + std::to_string(o.rules.size()) + "]");
      if (auto m = r.optional("match")) rule.match = parse_match(*m);
      rule.action = parse_action(r.required("action"));
      o.rules.push_back(std::move(rule));
    }
  }
  return o;
}

}  // namespace

const char* to_string(transport_mode m) {
  switch (m) {
    case transport_mode::normal:
      return "normal";
    case transport_mode::refuse:
      return "refuse";
    case transport_mode::queue_full_silent:
      return "queue-full-silent";
    case transport_mode::queue_full_reset:
      return "queue-full-reset";
  }
  return "?";
}

std::optional<transport_mode> parse_transport_mode(std::string_view text) {
  for (auto m : {transport_mode::normal, transport_mode::refuse, transport_mode::queue_full_silent,
                 transport_mode::queue_full_reset}) {
    if (text == to_string(m)) return m;
  }
  return std::nullopt;
}

backend_options load_backend_script(const std::string& file) {
  return parse_script(yaml_cursor::load_file(file));
}

backend_options load_backend_script_text(const std::string& text, const std::string& name) {
  return parse_script(yaml_cursor::load_string(text, name));
}

}  // namespace albsim::backend
