#include "albsim/scenarios/scenario_runner.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <thread>

#include "albsim/backend/backend_server.hpp"
#include "albsim/kernel_tcp_counter.hpp"
#include "albsim/proxy/proxy_server.hpp"
#include "scripted_client.hpp"
#include "sequence_builder.hpp"

namespace albsim::scenarios {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration;

// How long the runner waits for the access-log records after the client is done. The proxy
// writes a record when it sees the client leave or the answer sent, so they come at once;
// the bound only matters when a record is missing (which fails the scenario).
constexpr std::chrono::milliseconds k_record_wait{3000};

const char* mode_text(backend::transport_mode m) {
  switch (m) {
    case backend::transport_mode::normal:
      return "normal";
    case backend::transport_mode::refuse:
      return "refuse";
    case backend::transport_mode::queue_full_silent:
      return "queue-full-silent";
    case backend::transport_mode::queue_full_reset:
      return "queue-full-reset";
  }
  return "?";
}

std::string field_text(const nlohmann::json& record, const char* key) {
  auto it = record.find(key);
  if (it == record.end()) return "?";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

void record_events(const nlohmann::json& record, std::chrono::system_clock::time_point origin,
                   std::vector<timeline_event>& out) {
  auto t = parse_record_time(field_text(record, "time"));
  if (!t) return;
  double first = duration<double>(*t - origin).count();
  double total = record.value("request_time", 0.0);
  out.push_back({first, "balancer",
                 "first request byte: " + field_text(record, "request_method") + " " +
                     field_text(record, "request_uri").substr(0, 60) + " on " +
                     field_text(record, "vip_addr") + ":" + field_text(record, "slb_vport")});
  auto with_unit = [&](const char* key, const char* unit) {
    std::string v = field_text(record, key);
    return std::string(key) + " " + v + (v == "-" ? "" : unit);
  };
  std::string timings =
      with_unit("request_time", " s") + ", " + with_unit("read_request_time", " ms") + ", " +
      with_unit("upstream_connect_time", " s") + ", " + with_unit("upstream_response_time", " s") +
      ", " + with_unit("tcpinfo_rtt", " us");
  out.push_back({first + total, "balancer",
                 "logged status " + field_text(record, "status") + " (upstream_status " +
                     field_text(record, "upstream_status") + ", upstream_addr " +
                     field_text(record, "upstream_addr") + ", sim_cause " +
                     field_text(record, "sim_cause") + "); " + timings});
  std::string detail = field_text(record, "sim_detail");
  if (detail != "-") out.push_back({first + total, "balancer", "sim_detail: " + detail});
}

// The record the expectations are about: the first with the expected status (a burst writes
// many), else the last (warm-up requests come first, the scripted action last).
const nlohmann::json* record_of_interest(const scenario& s,
                                         const std::vector<nlohmann::json>& records) {
  if (records.empty()) return nullptr;
  for (const auto& e : s.expectations) {
    if (e.field != "log.status" || e.matcher.k != value_matcher::kind::equals) continue;
    for (const auto& r : records) {
      if (r.contains("status") && r["status"].is_number() && e.matcher.number &&
          r["status"].get<double>() == *e.matcher.number) {
        return &r;
      }
    }
  }
  return &records.back();
}

}  // namespace

scenario_result run_scenario(const scenario& s) {
  scenario_result r;
  r.id = s.id;
  r.status = s.status;
  r.title = s.title;
  const auto origin = clock::now();
  const auto origin_sys = std::chrono::system_clock::now();
  auto at = [&] { return duration<double>(clock::now() - origin).count(); };

  std::map<std::string, std::unique_ptr<backend::backend_server>> backends;
  std::unique_ptr<proxy::proxy_server> proxy;
  try {
    auto ledger = std::make_shared<fault_ledger>();
    for (const auto& spec : s.backends) {
      auto options = spec.options;
      options.ledger = ledger;
      options.journal = true;  // the sequence diagram's backend lane
      auto b = backend::backend_server::start(options);
      r.timeline.push_back({at(), "backend " + spec.name,
                            "listening on " + b->address() + ":" + std::to_string(b->port()) +
                                " (mode " + mode_text(spec.options.mode) + ")"});
      backends[spec.name] = std::move(b);
    }
    proxy::proxy_config config = s.proxy;
    for (auto& g : config.server_groups) {
      for (auto& server : g.servers) {
        auto it = backends.find(server.backend);
        if (server.backend.empty() || it == backends.end()) continue;
        server.address = it->second->address();
        server.port = it->second->port();
      }
    }
    auto sink = std::make_shared<proxy::memory_log_sink>();
    proxy = proxy::proxy_server::start(config, sink, ledger);
    auto bound = proxy->listeners();
    for (const auto& l : bound) {
      r.timeline.push_back(
          {at(), "balancer",
           "listener " + l.name + " on " +
               (l.protocol == proxy::listener_protocol::https ? "https://" : "http://") +
               l.address + ":" + std::to_string(l.port)});
    }

    auto syn_retransmits_before = read_tcp_ext_counter("TCPSynRetrans");
    client_run client = run_client(s.client, config, bound, origin);
    r.timeline.insert(r.timeline.end(), client.events.begin(), client.events.end());
    sink->wait_for(std::max<std::size_t>(client.exchanges, 1), k_record_wait);

    nlohmann::json counters = nlohmann::json::object();
    std::vector<timeline_event> counter_events;
    std::vector<observed_backend> observed;
    for (const auto& spec : s.backends) {
      const auto& b = backends.at(spec.name);
      observed.push_back({spec.name, b->port(), spec.options.mode, b->events()});
    }
    std::optional<std::uint64_t> syn_retransmits;
    if (auto after = read_tcp_ext_counter("TCPSynRetrans");
        after && syn_retransmits_before && *after >= *syn_retransmits_before) {
      syn_retransmits = *after - *syn_retransmits_before;
    }
    for (const auto& [name, b] : backends) {
      auto c = b->counters();
      counters[name] = {{"connections", c.connections},
                        {"requests", c.requests},
                        {"resets", c.resets},
                        {"overflows", c.overflows},
                        {"health_checks", c.health_checks},
                        {"bad_requests", c.bad_requests},
                        {"overrides", c.overrides}};
      counter_events.push_back({at(), "backend " + name,
                                "counters: " + std::to_string(c.connections) + " connections, " +
                                    std::to_string(c.requests) + " requests, " +
                                    std::to_string(c.resets) + " resets, " +
                                    std::to_string(c.overflows) + " accept-queue overflows, " +
                                    std::to_string(c.health_checks) + " health checks"});
    }
    proxy->stop();
    std::vector<nlohmann::json> records;
    for (const auto& line : sink->lines()) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) records.push_back(std::move(j));
    }
    for (auto& [name, b] : backends) b->stop();

    const nlohmann::json* record = record_of_interest(s, records);
    if (record) record_events(*record, origin_sys, r.timeline);
    r.sequence = sequence_builder(s, origin, origin_sys)
                     .build(client.sequence, record, observed, syn_retransmits);
    if (records.size() > 1 && record) {
      r.sequence_scope = "the exchange whose record the checks read (status " +
                         field_text(*record, "status") + "), one of " +
                         std::to_string(records.size()) + " records";
    }
    r.timeline.insert(r.timeline.end(), counter_events.begin(), counter_events.end());
    std::map<int, int> statuses;
    for (const auto& rec : records) statuses[rec.value("status", 0)]++;
    r.observations = {{"client", client.observation},
                      {"log", record ? *record : nlohmann::json(nullptr)},
                      {"log_count", records.size()},
                      {"kernel",
                       {{"syn_retransmits", syn_retransmits ? nlohmann::json(*syn_retransmits)
                                                            : nlohmann::json(nullptr)}}},
                      {"backend", counters}};
    nlohmann::json by_status = nlohmann::json::object();
    for (const auto& [status, n] : statuses) by_status[std::to_string(status)] = n;
    r.observations["log_statuses"] = by_status;
  } catch (const std::exception& e) {
    r.error = e.what();
    if (proxy) proxy->stop();
    for (auto& [name, b] : backends) b->stop();
  }
  // The record's time stamps have millisecond resolution: events within the same millisecond
  // keep the order they were collected in (client, balancer's record, backend counters).
  auto ms = [](const timeline_event& e) { return static_cast<long long>(e.at * 1000.0); };
  std::stable_sort(r.timeline.begin(), r.timeline.end(),
                   [&](const timeline_event& a, const timeline_event& b) { return ms(a) < ms(b); });
  r.passed = r.error.empty();
  if (r.error.empty()) {
    for (const auto& e : s.expectations) {
      r.checks.push_back(check(e, r.observations));
      r.passed = r.passed && r.checks.back().pass;
    }
  }
  r.wall_s = duration<double>(clock::now() - origin).count();
  return r;
}

std::vector<scenario_result> run_scenarios(const std::vector<scenario>& list, unsigned jobs) {
  std::vector<scenario_result> results(list.size());
  std::size_t workers = jobs == 0 ? list.size() : std::min<std::size_t>(jobs, list.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < list.size();)
        results[i] = run_scenario(list[i]);
    });
  }
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace albsim::scenarios
