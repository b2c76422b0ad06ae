#include "admin_api.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <thread>

#include "admin_call.hpp"
#include "admin_runtime_routes.hpp"
#include "albsim/config_error.hpp"
#include "albsim/ops_log.hpp"
#include "proxy_runtime.hpp"
#include "retry_analysis.hpp"

namespace albsim::proxy {
namespace {

using nlohmann::json;

// How long a journal read waits for records of requests already routed (albsim's bound).
constexpr auto k_journal_settle = std::chrono::milliseconds(200);

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
using call = admin_call;

// The journal filter from the query; an unknown or malformed parameter is an error.
std::optional<admin_reply> journal_filter_of(const call& c, journal_filter& f) {
  for (const auto& [name, value] : c.query) {
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

admin_reply get_health(call&) { return json_reply(200, {{"status", "ok"}}); }

admin_reply get_ready(call& c) {
  return json_reply(200, {{"ready", true}, {"listeners", c.rt.config.listeners.size()}});
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
    route_entry{{"PUT", "/instance/qps"}, put_instance_qps},
    route_entry{{"PUT", "/listeners/{name}/qps"}, put_listener_qps},
    route_entry{{"PUT", "/listeners/{name}/rules/{rule}/qps"}, put_rule_qps},
    route_entry{{"PUT", "/listeners/{name}/client-link"}, put_listener_client_link},
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
    call c{rt_, request, target.query, std::move(params)};
    return r.handler(c);
  }
  if (path_known) return error_reply(405, request.method + " is not allowed on " + target.path);
  return error_reply(404, "no route " + target.path);
}

}  // namespace albsim::proxy
