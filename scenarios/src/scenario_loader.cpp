// Reads scenarios/catalogue/<ID>.yaml onto `scenario` (format: docs/scenarios.md). The proxy
// delta and the backend scripts are handed to their own loaders as text cut out of the file
// with every line kept in place, so their errors name the scenario file and its real line.
// The `expect` section is read by expectation_loader.cpp.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "albsim/cause.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "albsim/yaml_cursor.hpp"
#include "expectation_loader.hpp"

namespace albsim::scenarios {
namespace {

constexpr std::uint64_t k_max_payload = 1ULL << 30;  // 1 GiB: any body or padding a scenario needs
constexpr std::uint32_t k_max_count = 100'000;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path, 0, "", "cannot open the scenario file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void collect_positions(const YAML::Node& n, std::vector<std::size_t>& out) {
  if (!n.Mark().is_null()) out.push_back(static_cast<std::size_t>(n.Mark().pos));
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      collect_positions(it->first, out);
      collect_positions(it->second, out);
    }
  } else if (n.IsSequence()) {
    for (auto it = n.begin(); it != n.end(); ++it) collect_positions(*it, out);
  }
}

// The text of `value` (a block or flow map inside `text`) as a document of its own, with blank
// lines and spaces in front so that every line and column stays where it was in the file.
std::string cut_out(const std::string& text, const YAML::Node& root, const YAML::Node& value) {
  std::vector<std::size_t> all, mine;
  collect_positions(root, all);
  collect_positions(value, mine);
  std::size_t start = value.Mark().pos;
  std::size_t last = mine.empty() ? start : *std::max_element(mine.begin(), mine.end());
  std::set<std::size_t> own(mine.begin(), mine.end());
  std::size_t next = text.size();
  for (std::size_t p : all) {
    if (p > last && !own.count(p)) next = std::min(next, p);
  }
  std::size_t end = next;
  if (next < text.size()) {
    std::size_t nl = text.rfind('\n', next);
    if (nl != std::string::npos && nl > last) end = nl + 1;
  }
  return std::string(static_cast<std::size_t>(value.Mark().line), '\n') +
         std::string(static_cast<std::size_t>(value.Mark().column), ' ') +
         text.substr(start, end - start);
}

// Re-raises an error of a nested loader with the field placed under `prefix`.
[[noreturn]] void rethrow_under(const config_error& e, const std::string& prefix,
                                const std::string& file) {
  throw config_error(file, e.line(), e.field().empty() ? prefix : prefix + "." + e.field(),
                     e.message());
}

client_action parse_action(const yaml_cursor& c) {
  std::string a = c.as_enum({"request", "invalid-framing", "partial-then-close", "abort-after-send",
                             "burst", "vip-pinned-vs-spread"});
  if (a == "invalid-framing") return client_action::invalid_framing;
  if (a == "partial-then-close") return client_action::partial_then_close;
  if (a == "abort-after-send") return client_action::abort_after_send;
  if (a == "burst") return client_action::burst;
  if (a == "vip-pinned-vs-spread") return client_action::vip_pinned_vs_spread;
  return client_action::request;
}

// A request over TLS is an ordinary one (tls_request.cpp): to an HTTPS listener, without the
// variants only the plain client can send.
void check_tls(const yaml_cursor& v, const client_script& s, const yaml_cursor& c,
               const proxy::proxy_config& proxy) {
  if (s.action != client_action::request) v.fail("only for action request");
  if (proxy.listeners.at(s.listener).protocol != proxy::listener_protocol::https) {
    v.fail("listener " + std::to_string(s.listener) + " is not an HTTPS listener");
  }
  for (const char* key :
       {"header_line_bytes", "target_bytes", "send_body_bytes", "upload_rate", "warmup"}) {
    if (c.has(key)) c.required(key).fail("not available with tls: true");
  }
}

client_script parse_client(const yaml_cursor& c, const proxy::proxy_config& proxy) {
  c.only_keys({"action", "method", "path", "headers", "header_line_bytes", "target_bytes",
               "body_bytes", "send_body_bytes", "upload_rate", "framing", "timeout", "listener",
               "count", "rate", "warmup", "warmup_path", "tls"});
  client_script s;
  s.action = parse_action(c.required("action"));
  if (auto v = c.optional("method")) {
    s.method = v->as_string();
    if (s.method.empty() || s.method.find_first_of(" \r\n") != std::string::npos) {
      v->fail("expected one method token, e.g. GET or TRACE");
    }
  }
  if (auto v = c.optional("path")) {
    s.path = v->as_string();
    if (s.path.empty() || s.path.front() != '/') v->fail("must start with '/'");
  }
  if (auto v = c.optional("headers")) {
    if (!v->is_map()) v->fail("expected a map of header names to values");
    for (const auto& [name, value] : v->entries()) s.headers.emplace_back(name, value.as_string());
  }
  s.header_line_bytes = c.get_bytes("header_line_bytes", 0, 0, k_max_payload);
  s.target_bytes = c.get_bytes("target_bytes", 0, 0, k_max_payload);
  s.body_bytes = c.get_bytes("body_bytes", 0, 0, k_max_payload);
  if (auto v = c.optional("send_body_bytes")) {
    s.send_body_bytes = v->as_bytes(0, k_max_payload);
    if (*s.send_body_bytes > s.body_bytes) v->fail("cannot exceed body_bytes");
  }
  s.upload_rate = c.get_bytes("upload_rate", 0, 0, k_max_payload);
  if (auto v = c.optional("framing")) {
    if (s.action != client_action::invalid_framing) v->fail("only for action invalid-framing");
    std::string f = v->as_enum({"conflicting-length", "length-and-chunked", "non-numeric-length",
                                "surplus-bytes", "transfer-coding-not-chunked", "missing-host"});
    s.framing = f == "length-and-chunked"            ? framing_fault::length_and_chunked
                : f == "non-numeric-length"          ? framing_fault::non_numeric_length
                : f == "surplus-bytes"               ? framing_fault::surplus_bytes
                : f == "transfer-coding-not-chunked" ? framing_fault::transfer_coding_not_chunked
                : f == "missing-host"                ? framing_fault::missing_host
                                                     : framing_fault::conflicting_length;
  }
  s.timeout = c.get_duration("timeout", s.timeout, 10ms, 60s);
  if (auto v = c.optional("listener")) {
    s.listener = static_cast<std::size_t>(v->as_int(0, 1000));
    if (s.listener >= proxy.listeners.size()) {
      v->fail("the proxy config has " + std::to_string(proxy.listeners.size()) + " listener(s)");
    }
  }
  s.count = static_cast<std::uint32_t>(c.get_int("count", 1, 1, k_max_count));
  if (c.has("count") && s.action != client_action::burst &&
      s.action != client_action::vip_pinned_vs_spread) {
    c.required("count").fail("only for actions burst and vip-pinned-vs-spread");
  }
  s.warmup = static_cast<std::uint32_t>(c.get_int("warmup", 0, 0, 100));
  if (auto v = c.optional("warmup_path")) {
    s.warmup_path = v->as_string();
    if (s.warmup_path.empty() || s.warmup_path.front() != '/') v->fail("must start with '/'");
  }
  if (auto v = c.optional("rate")) {
    if (s.action != client_action::burst && s.action != client_action::vip_pinned_vs_spread) {
      v->fail("only for actions burst and vip-pinned-vs-spread");
    }
    s.rate = v->as_double(0, 100'000);
  }
  if (auto v = c.optional("tls")) {
    s.tls = v->as_bool();
    if (s.tls) check_tls(*v, s, c, proxy);
  }
  return s;
}

backend::transport_mode parse_mode(const yaml_cursor& c) {
  std::string m = c.as_enum({"normal", "refuse", "queue-full-silent", "queue-full-reset"});
  if (m == "refuse") return backend::transport_mode::refuse;
  if (m == "queue-full-silent") return backend::transport_mode::queue_full_silent;
  if (m == "queue-full-reset") return backend::transport_mode::queue_full_reset;
  return backend::transport_mode::normal;
}

std::vector<backend_spec> parse_backends(const yaml_cursor& c, const std::string& text,
                                         const YAML::Node& root) {
  std::vector<backend_spec> out;
  auto items = c.items();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    item.only_keys({"name", "mode", "script"});
    backend_spec b;
    auto name = item.required("name");
    b.name = name.as_string();
    if (b.name.empty()) name.fail("must not be empty");
    for (const auto& other : out) {
      if (other.name == b.name) name.fail("backend '" + b.name + "' is defined twice");
    }
    if (auto script = item.optional("script")) {
      if (!script->is_map()) script->fail("expected a backend script (a map, docs/backend.md)");
      try {
        b.options =
            backend::load_backend_script_text(cut_out(text, root, script->node()), item.file());
      } catch (const config_error& e) {
        rethrow_under(e, "backends[" + std::to_string(i) + "].script", item.file());
      }
    }
    b.options.name = b.name;
    b.options.bind_address = "127.0.0.1";
    b.options.port = 0;
    b.options.log_on_stop = false;
    if (auto mode = item.optional("mode")) b.options.mode = parse_mode(*mode);
    out.push_back(std::move(b));
  }
  return out;
}

explanation parse_explanation(const yaml_cursor& c) {
  c.only_keys({"client", "balancer", "backend", "log", "check", "rule", "simulation"});
  explanation e;
  auto text = [&](std::string_view key, bool required) {
    if (!required && !c.has(key)) return std::string();
    auto v = c.required(key);
    std::string s = v.as_string();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.empty()) v.fail("must not be empty");
    return s;
  };
  e.client = text("client", true);
  e.balancer = text("balancer", true);
  e.backend = text("backend", true);
  e.log = text("log", true);
  e.check = text("check", true);
  e.rule = text("rule", false);
  e.simulation = text("simulation", false);
  return e;
}

scenario parse(const std::string& text, const std::string& name) {
  yaml_cursor root = yaml_cursor::load_string(text, name);
  if (!root.is_map()) root.fail("a scenario file is a map (id, status, title, ..., explain)");
  root.only_keys({"id", "status", "title", "proxy", "backends", "client", "expect", "explain"});
  scenario s;
  s.file = name;

  auto id = root.required("id");
  s.id = id.as_string();
  const cause_info* cause = find_cause(s.id);
  if (!cause && !is_success_id(s.id)) {
    id.fail("'" + s.id +
            "' is not a cause ID of the catalogue (CAUSES.md) nor a success scenario (ok-<name>)");
  }
  std::string stem = std::filesystem::path(name).stem().string();
  if (std::filesystem::path(name).extension() == ".yaml" && stem != s.id) {
    id.fail("the file of scenario '" + s.id + "' must be named " + s.id + ".yaml");
  }
  auto status = root.required("status");
  s.status = static_cast<int>(status.as_int(100, 599));
  if (cause && s.status != cause->status) {
    status.fail("cause " + s.id + " is status " + std::to_string(cause->status));
  }
  if (!cause && (s.status < 200 || s.status > 399)) {
    status.fail("a success scenario expects a 2xx or 3xx status");
  }
  s.title = root.required("title").as_string();

  s.backends = root.has("backends") ? parse_backends(root.required("backends"), text, root.node())
                                    : std::vector<backend_spec>{};
  if (s.backends.empty()) {
    backend_spec app;
    app.name = "app";
    app.options.name = "app";
    app.options.log_on_stop = false;
    s.backends.push_back(std::move(app));
  }

  s.proxy = base_proxy_config();
  s.proxy.source_file = name;
  for (const auto& b : s.backends) {
    proxy::server_config server;
    server.backend = b.name;
    s.proxy.server_groups.front().servers.push_back(server);
  }
  if (auto p = root.optional("proxy")) {
    if (!p->is_map()) p->fail("expected a proxy config delta (a map, docs/config.md)");
    try {
      proxy::apply_proxy_config_delta(s.proxy, cut_out(text, root.node(), p->node()), name);
    } catch (const config_error& e) {
      rethrow_under(e, "proxy", name);
    }
    for (std::size_t g = 0; g < s.proxy.server_groups.size(); ++g) {
      const auto& group = s.proxy.server_groups[g];
      for (std::size_t i = 0; i < group.servers.size(); ++i) {
        const std::string& b = group.servers[i].backend;
        if (b.empty()) continue;
        bool known = std::any_of(s.backends.begin(), s.backends.end(),
                                 [&](const backend_spec& spec) { return spec.name == b; });
        if (!known) {
          throw config_error(name, p->line(),
                             "proxy.server_groups[" + std::to_string(g) + "].servers[" +
                                 std::to_string(i) + "].backend",
                             "names no backend of this scenario: '" + b + "'");
        }
      }
    }
  }

  s.client = parse_client(root.required("client"), s.proxy);

  parse_expectations(root.required("expect"), s, cause);
  s.explain = parse_explanation(root.required("explain"));
  return s;
}

}  // namespace

bool is_success_id(const std::string& id) { return id.rfind("ok-", 0) == 0 && id.size() > 3; }

proxy::proxy_config base_proxy_config() {
  proxy::proxy_config c;
  c.source_file = "<scenario base>";
  c.access_log = "";
  proxy::listener_config l;
  l.name = "http";
  l.port = 0;
  l.default_server_group = "main";
  c.listeners.push_back(l);
  proxy::server_group_config g;
  g.name = "main";
  // Health checks would add requests the scenario did not ask for; scenarios that need them
  // turn them on in their delta.
  g.health_check.enabled = false;
  c.server_groups.push_back(g);
  return c;
}

scenario load_scenario_text(const std::string& text, const std::string& name) {
  return parse(text, name);
}

scenario load_scenario_file(const std::string& path) { return parse(read_file(path), path); }

std::vector<std::string> scenario_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      out.push_back(entry.path().string());
    }
  }
  if (ec) throw config_error(dir, 0, "", "cannot read the scenario directory: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::string default_scenario_dir() {
  // An installed albsim finds its catalogue beside itself (<prefix>/bin → <prefix>/share);
  // one run from the build tree uses the source tree's.
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed = (exe.parent_path() / ALBSIM_INSTALLED_SCENARIO_DIR).lexically_normal();
    if (std::filesystem::is_directory(installed, ec)) return installed.string();
  }
  return ALBSIM_SCENARIO_DIR;
}

const char* to_string(client_action a) {
  switch (a) {
    case client_action::request:
      return "request";
    case client_action::invalid_framing:
      return "invalid-framing";
    case client_action::partial_then_close:
      return "partial-then-close";
    case client_action::abort_after_send:
      return "abort-after-send";
    case client_action::burst:
      return "burst";
    case client_action::vip_pinned_vs_spread:
      return "vip-pinned-vs-spread";
  }
  return "?";
}

}  // namespace albsim::scenarios
