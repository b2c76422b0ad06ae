#include "config_fingerprint.hpp"

namespace albsim::fuzz {
namespace {

using nlohmann::json;

json ns(std::chrono::nanoseconds d) { return d.count(); }

json qps(const proxy::qps_limit& q) { return {q.qps, q.burst}; }

json link(const link_conditions& l) {
  return {ns(l.extra_rtt),       l.bandwidth_bytes_per_s,    l.loss, ns(l.loss_stall), l.seed,
          l.mtu_blackhole_bytes, ns(l.blackhole_reset_after)};
}

json pairs(const std::vector<std::pair<std::string, std::string>>& v) {
  json out = json::array();
  for (const auto& [k, val] : v) out.push_back({k, val});
  return out;
}

json listener(const proxy::listener_config& l) {
  json rules = json::array();
  for (const auto& r : l.rules) {
    rules.push_back(
        {r.name, r.host, r.path_prefix, r.server_group, qps(r.qps), qps(r.per_client_qps)});
  }
  const auto& f = l.forwarded;
  return {l.name,
          static_cast<int>(l.protocol),
          l.port,
          l.certificate_file,
          l.private_key_file,
          ns(l.request_timeout),
          ns(l.idle_timeout),
          l.max_requests_per_connection,
          {f.x_forwarded_for, f.x_forwarded_proto, f.x_forwarded_port, f.x_forwarded_host,
           f.x_forwarded_client_srcport, f.slb_id},
          qps(l.qps),
          link(l.client_link),
          rules,
          l.default_server_group};
}

json group(const proxy::server_group_config& g) {
  json servers = json::array();
  for (const auto& s : g.servers) servers.push_back({s.address, s.port, s.weight, s.backend});
  const auto& h = g.health_check;
  return {g.name,
          servers,
          static_cast<int>(g.scheduler),
          {h.enabled, static_cast<int>(h.protocol), h.method, h.path, h.host, ns(h.interval),
           ns(h.timeout), h.healthy_threshold, h.unhealthy_threshold, h.success_classes}};
}

}  // namespace

json fingerprint(const proxy::proxy_config& c) {
  json listeners = json::array(), groups = json::array(), outcomes = json::array(),
       embedded = json::array();
  for (const auto& l : c.listeners) listeners.push_back(listener(l));
  for (const auto& g : c.server_groups) groups.push_back(group(g));
  for (const auto& [event, o] : c.outcome_overrides) {
    outcomes.push_back({static_cast<int>(event), o.status, o.upstream_status});
  }
  for (const auto& e : c.embedded_backends) embedded.push_back({e.name, e.script_file});
  const auto& i = c.instance;
  const auto& m = c.limits;
  return {c.source_file,
          {i.id, i.vips, qps(i.qps), i.bandwidth_bytes_per_s},
          listeners,
          groups,
          {m.max_header_line, m.max_uri, m.max_header_block, m.relay_buffer, m.max_body,
           ns(m.upstream_connect_timeout), m.upstream_pool_size, ns(m.upstream_idle_timeout)},
          outcomes,
          embedded,
          c.worker_threads,
          c.access_log};
}

json fingerprint(const backend::backend_action& a) {
  return {static_cast<int>(a.kind),
          a.status,
          pairs(a.headers),
          a.body ? json(*a.body) : json(),
          a.body_bytes ? json(*a.body_bytes) : json(),
          ns(a.delay),
          {a.drip.chunk_bytes, ns(a.drip.interval)},
          a.after_bytes ? json(*a.after_bytes) : json(),
          a.hold ? ns(*a.hold) : json()};
}

json fingerprint(const backend::backend_options& o) {
  json rules = json::array();
  for (const auto& r : o.rules) {
    const auto& m = r.match;
    rules.push_back({r.name,
                     {m.methods, static_cast<int>(m.path_kind), m.path, pairs(m.headers), m.first,
                      m.after, m.every},
                     fingerprint(r.action)});
  }
  json states = json::array();
  for (const auto& s : o.health.states) states.push_back({s.status, s.checks, ns(s.duration)});
  return {o.name,
          o.bind_address,
          o.port,
          static_cast<int>(o.mode),
          link(o.link),
          o.script_source,
          static_cast<int>(o.blackhole),
          o.threads,
          rules,
          {o.health.path, o.health.methods, states, o.health.repeat},
          o.log_on_stop,
          o.header_limit_bytes};
}

json fingerprint(const scenarios::scenario& s) {
  json backends = json::array(), expectations = json::array();
  for (const auto& b : s.backends) backends.push_back({b.name, fingerprint(b.options)});
  for (const auto& e : s.expectations) {
    const auto& m = e.matcher;
    expectations.push_back({e.field, static_cast<int>(m.k), m.text,
                            m.number ? json(*m.number) : json(), m.value, m.tolerance,
                            m.at_least ? json(*m.at_least) : json(),
                            m.at_most ? json(*m.at_most) : json(), m.choices, e.file, e.line});
  }
  const auto& c = s.client;
  const auto& x = s.explain;
  return {s.file,
          s.id,
          s.status,
          s.title,
          fingerprint(s.proxy),
          backends,
          {static_cast<int>(c.action), c.method, c.path, pairs(c.headers), c.header_line_bytes,
           c.target_bytes, c.body_bytes, c.send_body_bytes ? json(*c.send_body_bytes) : json(),
           c.upload_rate, static_cast<int>(c.framing), ns(c.timeout), c.listener, c.count, c.rate,
           c.warmup, c.warmup_path},
          expectations,
          {x.client, x.balancer, x.backend, x.log, x.check, x.rule, x.simulation}};
}

}  // namespace albsim::fuzz
