#include "admin_api.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <thread>

#include "albsim/config_error.hpp"
#include "albsim/ops_log.hpp"
#include "proxy_runtime.hpp"
#include "retry_analysis.hpp"

namespace albsim::proxy {
namespace {

using nlohmann::json;

// How long a journal read waits for records of requests already routed (albsim's bound).
constexpr auto k_journal_settle = std::chrono::milliseconds(200);

admin_reply json_reply(int status, const json& body) {
  return admin_reply{status, "application/json", body.dump() + "\n"};
}

admin_reply error_reply(int status, const std::string& message, const std::string& field = "") {
  json body = {{"error", message}};
  if (!field.empty()) body["field"] = field;
  return json_reply(status, body);
}

// %XX and '+' in a query value.
std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc{} && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

struct parsed_target {
  std::string path;
  std::map<std::string, std::string> query;
};

parsed_target parse_target(std::string_view target) {
  parsed_target t;
  const std::size_t q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    const std::size_t eq = item.find('=');
    t.query[url_decode(item.substr(0, eq))] =
        eq == std::string_view::npos ? "" : url_decode(item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return t;
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

json entry_json(const journal_entry& e) {
  json j = {{"seq", e.seq},
            {"time", unix_seconds(e.time)},
            {"client", e.client_ip + ":" + std::to_string(e.client_port)},
            {"method", e.method},
            {"host", e.host},
            {"path", e.path},
            {"key", e.key},
            {"status", e.status},
            {"upstream_status", e.upstream_status},
            {"upstream_addr", e.upstream_addr},
            {"sim_cause", e.sim_cause},
            {"request_time", e.request_time},
            {"upstream_connect_time", nullptr},
            {"upstream_response_time", nullptr},
            {"injected", e.injected.empty() ? json(nullptr) : json(e.injected)},
            {"plan", e.plan.empty() ? json(nullptr) : json(e.plan)},
            {"step", e.step < 0 ? json(nullptr) : json(e.step)},
            {"retry_after", e.retry_after ? json(*e.retry_after) : json(nullptr)},
            {"headers", json::object()}};
  if (e.upstream_connect_time) j["upstream_connect_time"] = *e.upstream_connect_time;
  if (e.upstream_response_time) j["upstream_response_time"] = *e.upstream_response_time;
  for (const auto& [name, value] : e.headers) j["headers"][name] = value;
  return j;
}

json report_json(const retry_report& r) {
  return {{"key", r.key},
          {"attempts", r.attempts},
          {"statuses", r.statuses},
          {"intervals", r.intervals_s},
          {"non_idempotent_resent", r.non_idempotent_resent},
          {"resent_detail", r.resent_detail},
          {"retry_after_honoured",
           r.retry_after_honoured ? json(*r.retry_after_honoured) : json(nullptr)},
          {"retry_after_detail", r.retry_after_detail}};
}

json plan_json(const plan_status& p) {
  const auto& c = p.config;
  std::string key = c.key == fault_plan_key::constant    ? "constant"
                    : c.key == fault_plan_key::client_ip ? "client_ip"
                                                         : "header:" + c.key_header;
  json match = json::object();
  if (!c.match.method.empty()) match["method"] = c.match.method;
  if (!c.match.host.empty()) match["host"] = c.match.host;
  if (!c.match.path_prefix.empty()) match["path_prefix"] = c.match.path_prefix;
  if (!c.match.headers.empty()) {
    match["headers"] = json::object();
    for (const auto& [n, v] : c.match.headers) match["headers"][n] = v;
  }
  return {{"name", c.name},
          {"match", match},
          {"key", key},
          {"steps", c.steps},
          {"repeat", c.repeat},
          {"max_uses", c.max_uses},
          {"uses", p.uses},
          {"keys", p.keys},
          {"keys_over_limit", p.keys_over},
          {"expires_in", p.expires_in ? json(std::chrono::duration<double>(*p.expires_in).count())
                                      : json(nullptr)}};
}

// What a handler gets: the runtime, the request and the path's {parameters}.
struct call {
  proxy_runtime& rt;
  const admin_request& request;
  const parsed_target& target;
  std::map<std::string, std::string> params;
};

// The journal filter from the query; an unknown or malformed parameter is an error.
std::optional<admin_reply> journal_filter_of(const call& c, journal_filter& f) {
  for (const auto& [name, value] : c.target.query) {
    if (name == "key") {
      f.key = value;
    } else if (name == "path") {
      f.path_prefix = value;
    } else if (name == "cause") {
      f.cause = value;
    } else if (name == "since" || name == "until" || name == "limit") {
      double v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc{} || p != value.data() + value.size() || v < 0)
        return error_reply(400, "'" + value + "' is no non-negative number", name);
      if (name == "limit") {
        f.limit = static_cast<std::size_t>(v);
      } else {
        auto t = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::duration<double>(v)));
        (name == "since" ? f.since : f.until) = t;
      }
    } else {
      return error_reply(400,
                         "unknown query parameter (allowed: key, path, cause, since, until, "
                         "limit)",
                         name);
    }
  }
  return std::nullopt;
}

const char* health_name(server_group::health_override h) {
  switch (h) {
    case server_group::health_override::up:
      return "up";
    case server_group::health_override::down:
      return "down";
    case server_group::health_override::checked:
      break;
  }
  return "checked";
}

// PUT /servers/{group}/{index}: {"weight": 0-100, "health": "up" | "down" | "checked"}. Every
// field is checked before either is applied.
admin_reply put_server(call& c) {
  server_group* g = c.rt.group(c.params["group"]);
  if (!g) return error_reply(404, "no server group '" + c.params["group"] + "'", "group");
  const std::string& index_text = c.params["index"];
  std::size_t index = 0;
  auto [p, ec] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
  if (ec != std::errc{} || p != index_text.data() + index_text.size() || index >= g->size()) {
    return error_reply(404, "the group has no server " + index_text + " (0-based)", "index");
  }
  const json body = json::parse(c.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return error_reply(400, "the body must be a JSON object");
  std::optional<std::uint32_t> weight;
  std::optional<server_group::health_override> health;
  for (const auto& [field, value] : body.items()) {
    if (field == "weight") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > 100)
        return error_reply(400, "must be an integer 0-100", "weight");
      weight = value.get<std::uint32_t>();
    } else if (field == "health") {
      const std::string h = value.is_string() ? value.get<std::string>() : "";
      if (h == "up") {
        health = server_group::health_override::up;
      } else if (h == "down") {
        health = server_group::health_override::down;
      } else if (h == "checked") {
        health = server_group::health_override::checked;
      } else {
        return error_reply(400, "must be up, down or checked", "health");
      }
    } else {
      return error_reply(400, "unknown field (allowed: weight, health)", field);
    }
  }
  const int i = static_cast<int>(index);
  if (weight) g->set_weight(i, *weight);
  if (health) g->force_health(i, *health);
  ops_log().info("admin {}: server {} of group {}: weight {}, health {}", c.request.peer, i,
                 g->name(), g->weight(i), health_name(g->forced(i)));
  return json_reply(200, {{"group", g->name()},
                          {"index", i},
                          {"weight", g->weight(i)},
                          {"health", health_name(g->forced(i))},
                          {"healthy", g->healthy(i)}});
}

// A QPS limit from a body {"qps": 0-100000, "burst": 0-1000000}, or the reply refusing it.
std::optional<admin_reply> qps_of(const call& c, qps_limit& out) {
  const json body = json::parse(c.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return error_reply(400, "the body must be a JSON object");
  if (!body.contains("qps")) return error_reply(400, "is required (0 turns the limit off)", "qps");
  for (const auto& [field, value] : body.items()) {
    const std::int64_t max = field == "qps" ? 100'000 : 1'000'000;
    if (field != "qps" && field != "burst")
      return error_reply(400, "unknown field (allowed: qps, burst)", field);
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
        value.get<std::int64_t>() > max)
      return error_reply(400, "must be an integer 0-" + std::to_string(max), field);
  }
  out.qps = body["qps"].get<std::uint32_t>();
  out.burst = body.value("burst", 0u);
  return std::nullopt;
}

std::optional<std::size_t> listener_index(const call& c, const std::string& name) {
  const auto& ls = c.rt.config.listeners;
  for (std::size_t i = 0; i < ls.size(); ++i)
    if (ls[i].name == name) return i;
  return std::nullopt;
}

// PUT /listeners/{name}/qps
admin_reply put_listener_qps(call& c) {
  auto li = listener_index(c, c.params["name"]);
  if (!li) return error_reply(404, "no listener '" + c.params["name"] + "'", "name");
  qps_limit q;
  if (auto bad = qps_of(c, q)) return *bad;
  c.rt.limiter.set_listener_limit(*li, q);
  ops_log().info("admin {}: listener {} QPS limit {} (burst {})", c.request.peer, c.params["name"],
                 q.qps, q.burst);
  return json_reply(200, {{"listener", c.params["name"]}, {"qps", q.qps}, {"burst", q.burst}});
}

// PUT /listeners/{name}/rules/{rule}/qps
admin_reply put_rule_qps(call& c) {
  auto li = listener_index(c, c.params["name"]);
  if (!li) return error_reply(404, "no listener '" + c.params["name"] + "'", "name");
  const auto& rules = c.rt.config.listeners[*li].rules;
  std::optional<std::size_t> ri;
  for (std::size_t i = 0; i < rules.size(); ++i)
    if (rules[i].name == c.params["rule"]) ri = i;
  if (!ri) return error_reply(404, "the listener has no rule '" + c.params["rule"] + "'", "rule");
  qps_limit q;
  if (auto bad = qps_of(c, q)) return *bad;
  c.rt.limiter.set_rule_limit(*li, *ri, q);
  ops_log().info("admin {}: rule {} of listener {} QPS limit {} (burst {})", c.request.peer,
                 c.params["rule"], c.params["name"], q.qps, q.burst);
  return json_reply(200, {{"listener", c.params["name"]},
                          {"rule", c.params["rule"]},
                          {"qps", q.qps},
                          {"burst", q.burst}});
}

admin_reply get_health(call&) { return json_reply(200, {{"status", "ok"}}); }

admin_reply get_ready(call& c) {
  return json_reply(200, {{"ready", true}, {"listeners", c.rt.config.listeners.size()}});
}

admin_reply get_config(call& c) {
  const proxy_config& cfg = c.rt.config;
  json listeners = json::array();
  for (std::size_t li = 0; li < cfg.listeners.size(); ++li) {
    const auto& l = cfg.listeners[li];
    json rules = json::array();
    for (std::size_t ri = 0; ri < l.rules.size(); ++ri) {
      const qps_limit q = c.rt.limiter.rule_limit(li, ri);
      rules.push_back({{"name", l.rules[ri].name},
                       {"server_group", l.rules[ri].server_group},
                       {"qps", {{"qps", q.qps}, {"burst", q.burst}}}});
    }
    const qps_limit q = c.rt.limiter.listener_limit(li);
    listeners.push_back(
        {{"name", l.name},
         {"protocol", l.protocol == listener_protocol::https ? "https" : "http"},
         {"port", l.port},
         {"request_timeout", std::chrono::duration<double>(l.request_timeout).count()},
         {"idle_timeout", std::chrono::duration<double>(l.idle_timeout).count()},
         {"qps", {{"qps", q.qps}, {"burst", q.burst}}},
         {"rules", rules},
         {"fault_injection", l.fault_injection}});
  }
  json groups = json::array();
  for (const auto& g : c.rt.groups) {
    json servers = json::array();
    for (std::size_t i = 0; i < g->size(); ++i) {
      const auto& s = g->server(static_cast<int>(i));
      servers.push_back({{"address", s.address},
                         {"port", s.port},
                         {"weight", g->weight(static_cast<int>(i))},
                         {"healthy", g->healthy(static_cast<int>(i))},
                         {"health", health_name(g->forced(static_cast<int>(i)))}});
    }
    groups.push_back({{"name", g->name()}, {"servers", servers}});
  }
  return json_reply(
      200, {{"source", cfg.source_file},
            {"instance",
             {{"id", cfg.instance.id}, {"vips", cfg.instance.vips}, {"qps", cfg.instance.qps.qps}}},
            {"listeners", listeners},
            {"server_groups", groups},
            {"limits",
             {{"upstream_connect_timeout",
               std::chrono::duration<double>(cfg.limits.upstream_connect_timeout).count()}}},
            {"journal",
             {{"size", cfg.journal.size},
              {"headers", cfg.journal.headers},
              {"max_value_bytes", cfg.journal.max_value_bytes}}}});
}

// A client may read the journal the moment it has its answer, while the worker that wrote the
// answer has yet to add the record: wait (bounded) until every request routed so far has its
// record. A request still waiting on a slow backend makes a read wait the whole bound.
void settle(proxy_runtime& rt) {
  const auto deadline = std::chrono::steady_clock::now() + k_journal_settle;
  while (rt.injector.recorded.load(std::memory_order_acquire) <
             rt.injector.decided.load(std::memory_order_relaxed) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling a bounded wait
  }
}

admin_reply get_journal(call& c) {
  journal_filter f;
  if (auto bad = journal_filter_of(c, f)) return *bad;
  settle(c.rt);
  json entries = json::array();
  for (const auto& e : c.rt.journal.read(f)) entries.push_back(entry_json(e));
  return json_reply(200, {{"capacity", c.rt.journal.capacity()},
                          {"added", c.rt.journal.added()},
                          {"memory_bytes", c.rt.journal.memory_bytes()},
                          {"memory_bound", c.rt.journal.memory_bound()},
                          {"entries", entries}});
}

admin_reply delete_journal(call& c) {
  c.rt.journal.clear();
  return json_reply(200, {{"cleared", true}});
}

admin_reply get_retries(call& c) {
  journal_filter f;
  if (auto bad = journal_filter_of(c, f)) return *bad;
  settle(c.rt);
  json keys = json::array();
  for (const auto& r : analyse_retries(c.rt.journal.read(f))) keys.push_back(report_json(r));
  return json_reply(200, {{"keys", keys}});
}

admin_reply get_plans(call& c) {
  json plans = json::array();
  for (const auto& p : c.rt.injector.plans().list()) plans.push_back(plan_json(p));
  return json_reply(200, {{"plans", plans}});
}

admin_reply post_plans(call& c) {
  // The body is checked whole before anything is armed.
  json body;
  try {
    body = json::parse(c.request.body);
  } catch (const json::parse_error& e) {
    return error_reply(400, std::string("the body is not JSON: ") + e.what());
  }
  if (!body.is_object()) return error_reply(400, "the body must be a JSON object (a plan)");
  fault_plan_config plan;
  try {
    // JSON is YAML: the config file's own checks name the field that is wrong.
    plan = load_fault_plan_text(body.dump(), "request body");
  } catch (const config_error& e) {
    return error_reply(400, e.message(), e.field());
  }
  c.rt.injector.plans().arm(plan);
  ops_log().info("admin {}: armed fault plan '{}' ({} steps)", c.request.peer, plan.name,
                 plan.steps.size());
  for (const auto& p : c.rt.injector.plans().list()) {
    if (p.config.name == plan.name) return json_reply(201, plan_json(p));
  }
  return json_reply(201, {{"name", plan.name}});  // used up or expired at once
}

admin_reply delete_plans(call& c) {
  c.rt.injector.plans().disarm_all();
  return json_reply(200, {{"disarmed", "all"}});
}

admin_reply delete_plan(call& c) {
  const std::string& name = c.params["name"];
  if (!c.rt.injector.plans().disarm(name))
    return error_reply(404, "no plan '" + name + "'", "name");
  return json_reply(200, {{"disarmed", name}});
}

admin_reply post_counters_reset(call& c) {
  c.rt.connections = 0;
  c.rt.requests = 0;
  c.rt.records = 0;
  c.rt.injector.injected = 0;
  c.rt.injector.refused = 0;
  c.rt.metrics.reset();
  c.rt.limiter.reset_refused();
  return json_reply(200, {{"reset", true}});
}

admin_reply get_metrics(call& c) {
  proxy_runtime& rt = c.rt;
  request_metrics::runtime_counts now;
  now.connections = rt.connections.load();
  now.live_sessions = rt.live_sessions.load();
  now.faults_injected = rt.injector.injected.load();
  now.faults_refused = rt.injector.refused.load();
  const auto refused = rt.limiter.refused();
  for (std::size_t i = 0; i < refused.size(); ++i)
    now.qps_refused.emplace_back(qps_limiter::k_limiter_names[i], refused[i]);
  for (const auto& g : rt.groups) {
    for (std::size_t i = 0; i < g->size(); ++i) {
      const auto& s = g->server(static_cast<int>(i));
      now.servers.push_back(
          {g->name(), s.address + ":" + std::to_string(s.port), g->healthy(static_cast<int>(i))});
    }
  }
  return admin_reply{200, "text/plain; version=0.0.4", rt.metrics.render(now)};
}

struct route_entry {
  admin_route route;
  admin_reply (*handler)(call&);
};

constexpr std::array k_routes{
    route_entry{{"GET", "/health"}, get_health},
    route_entry{{"GET", "/ready"}, get_ready},
    route_entry{{"GET", "/config"}, get_config},
    route_entry{{"GET", "/journal"}, get_journal},
    route_entry{{"DELETE", "/journal"}, delete_journal},
    route_entry{{"GET", "/journal/retries"}, get_retries},
    route_entry{{"GET", "/plans"}, get_plans},
    route_entry{{"POST", "/plans"}, post_plans},
    route_entry{{"DELETE", "/plans"}, delete_plans},
    route_entry{{"DELETE", "/plans/{name}"}, delete_plan},
    route_entry{{"POST", "/counters/reset"}, post_counters_reset},
    route_entry{{"PUT", "/servers/{group}/{index}"}, put_server},
    route_entry{{"PUT", "/listeners/{name}/qps"}, put_listener_qps},
    route_entry{{"PUT", "/listeners/{name}/rules/{rule}/qps"}, put_rule_qps},
    route_entry{{"GET", "/metrics"}, get_metrics},
};

constexpr std::array k_route_list = [] {
  std::array<admin_route, k_routes.size()> out{};
  for (std::size_t i = 0; i < k_routes.size(); ++i) out[i] = k_routes[i].route;
  return out;
}();

// Matches a path against a template; fills {parameters}.
bool path_matches(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>& params) {
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/')
      return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view ps = pattern.substr(0, pattern.find('/'));
    const std::string_view xs = path.substr(0, path.find('/'));
    if (ps.size() > 2 && ps.front() == '{' && ps.back() == '}') {
      if (xs.empty()) return false;
      params[std::string(ps.substr(1, ps.size() - 2))] = url_decode(xs);
    } else if (ps != xs) {
      return false;
    }
    pattern.remove_prefix(ps.size());
    path.remove_prefix(xs.size());
  }
  return true;
}

}  // namespace

admin_api::admin_api(proxy_runtime& rt, std::string token) : rt_(rt), token_(std::move(token)) {}

std::span<const admin_route> admin_api::routes() { return k_route_list; }

admin_reply admin_api::handle(const admin_request& request) {
  if (!token_.empty() && request.authorization != "Bearer " + token_) {
    ops_log().warn("admin {}: {} {} refused: {}", request.peer, request.method, request.target,
                   request.authorization.empty() ? "no bearer token" : "wrong bearer token");
    return error_reply(401, "this admin listener needs Authorization: Bearer <token>");
  }
  const parsed_target target = parse_target(request.target);
  bool path_known = false;
  for (const auto& r : k_routes) {
    std::map<std::string, std::string> params;
    if (!path_matches(r.route.path, target.path, params)) continue;
    path_known = true;
    if (r.route.method != request.method) continue;
    call c{rt_, request, target, std::move(params)};
    return r.handler(c);
  }
  if (path_known) return error_reply(405, request.method + " is not allowed on " + target.path);
  return error_reply(404, "no route " + target.path);
}

}  // namespace albsim::proxy
