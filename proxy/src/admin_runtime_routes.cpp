// The admin API's runtime changes and GET /config (admin_runtime_routes.hpp).
#include "admin_runtime_routes.hpp"

#include <charconv>
#include <chrono>
#include <optional>

#include "albsim/config_error.hpp"
#include "albsim/ops_log.hpp"
#include "proxy_runtime.hpp"

namespace albsim::proxy {
namespace {

using nlohmann::json;

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

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

json qps_json(const qps_limit& q) { return {{"qps", q.qps}, {"burst", q.burst}}; }

// The config file's `client_link` keys, durations in seconds and sizes in bytes: numbers the
// config file (and PUT /listeners/{name}/client-link) read back as the same values.
json link_json(const link_conditions& l) {
  return {{"extra_rtt", seconds(l.extra_rtt)},
          {"bandwidth", l.bandwidth_bytes_per_s},
          {"loss", l.loss},
          {"loss_stall", seconds(l.loss_stall)},
          {"seed", l.seed},
          {"mtu_blackhole", l.mtu_blackhole_bytes},
          {"blackhole_reset_after", seconds(l.blackhole_reset_after)}};
}

// The body as a JSON object, or the reply refusing it.
std::optional<admin_reply> object_of(const admin_call& c, json& body) {
  body = json::parse(c.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return error_reply(400, "the body must be a JSON object");
  return std::nullopt;
}

// A QPS limit from a body {"qps": 0-100000, "burst": 0-1000000}, or the reply refusing it.
std::optional<admin_reply> qps_of(const admin_call& c, qps_limit& out) {
  json body;
  if (auto bad = object_of(c, body)) return bad;
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

std::optional<std::size_t> listener_index(const admin_call& c, const std::string& name) {
  const auto& ls = c.rt.config.listeners;
  for (std::size_t i = 0; i < ls.size(); ++i)
    if (ls[i].name == name) return i;
  return std::nullopt;
}

}  // namespace

// PUT /servers/{group}/{index}: {"weight": 0-100, "health": "up" | "down" | "checked"}. Every
// field is checked before either is applied.
admin_reply put_server(admin_call& c) {
  server_group* g = c.rt.group(c.params["group"]);
  if (!g) return error_reply(404, "no server group '" + c.params["group"] + "'", "group");
  const std::string& index_text = c.params["index"];
  std::size_t index = 0;
  auto [p, ec] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
  if (ec != std::errc{} || p != index_text.data() + index_text.size() || index >= g->size()) {
    return error_reply(404, "the group has no server " + index_text + " (0-based)", "index");
  }
  json body;
  if (auto bad = object_of(c, body)) return *bad;
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

// PUT /instance/qps: split over the VIPs as the config's limit is (qps_limiter.hpp).
admin_reply put_instance_qps(admin_call& c) {
  qps_limit q;
  if (auto bad = qps_of(c, q)) return *bad;
  c.rt.limiter.set_instance_limit(q);
  ops_log().info("admin {}: instance QPS limit {} (burst {}) over {} VIP(s)", c.request.peer, q.qps,
                 q.burst, c.rt.config.instance.vips.size());
  return json_reply(200, {{"instance", c.rt.config.instance.id},
                          {"qps", q.qps},
                          {"burst", q.burst},
                          {"vips", c.rt.config.instance.vips.size()}});
}

// PUT /listeners/{name}/qps
admin_reply put_listener_qps(admin_call& c) {
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
admin_reply put_rule_qps(admin_call& c) {
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

// PUT /listeners/{name}/client-link: the whole `client_link` map of the config file, every key
// absent at its default ({} makes the link clean). Connections accepted from now on get it;
// open ones keep the link they were accepted with (client_links.hpp).
admin_reply put_listener_client_link(admin_call& c) {
  auto li = listener_index(c, c.params["name"]);
  if (!li) return error_reply(404, "no listener '" + c.params["name"] + "'", "name");
  json body;
  if (auto bad = object_of(c, body)) return *bad;
  link_conditions link;
  try {
    // JSON is YAML: the config file's own checks (names, units, ranges) name the field.
    link = load_client_link_text(body.dump(), "request body");
  } catch (const config_error& e) {
    return error_reply(400, e.message(), e.field());
  }
  c.rt.links.set(*li, link);
  ops_log().info("admin {}: listener {} client link for new connections: {}", c.request.peer,
                 c.params["name"], link_json(link).dump());
  return json_reply(200, {{"listener", c.params["name"]}, {"client_link", link_json(link)}});
}

admin_reply get_config(admin_call& c) {
  const proxy_config& cfg = c.rt.config;
  json listeners = json::array();
  for (std::size_t li = 0; li < cfg.listeners.size(); ++li) {
    const auto& l = cfg.listeners[li];
    json rules = json::array();
    for (std::size_t ri = 0; ri < l.rules.size(); ++ri) {
      rules.push_back({{"name", l.rules[ri].name},
                       {"server_group", l.rules[ri].server_group},
                       {"qps", qps_json(c.rt.limiter.rule_limit(li, ri))}});
    }
    listeners.push_back({{"name", l.name},
                         {"protocol", l.protocol == listener_protocol::https ? "https" : "http"},
                         {"port", l.port},
                         {"request_timeout", seconds(l.request_timeout)},
                         {"idle_timeout", seconds(l.idle_timeout)},
                         {"qps", qps_json(c.rt.limiter.listener_limit(li))},
                         {"client_link", link_json(c.rt.links.current(li))},
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
      200,
      {{"source", cfg.source_file},
       {"instance",
        {{"id", cfg.instance.id},
         {"vips", cfg.instance.vips},
         {"qps", qps_json(c.rt.limiter.instance_limit())}}},
       {"listeners", listeners},
       {"server_groups", groups},
       {"limits", {{"upstream_connect_timeout", seconds(cfg.limits.upstream_connect_timeout)}}},
       {"journal",
        {{"size", cfg.journal.size},
         {"headers", cfg.journal.headers},
         {"max_value_bytes", cfg.journal.max_value_bytes}}}});
}

}  // namespace albsim::proxy
