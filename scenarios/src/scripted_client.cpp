// The scenario client's entry point (scripted_client.hpp): finds the listener's endpoints, runs
// the warm-up, then the scripted kind of client — a burst or the pinned-vs-spread pair of
// request series (here), one exchange on one connection (client_exchange.cpp), or one request
// over TLS (tls_request.cpp).
#include "scripted_client.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "client_connection.hpp"
#include "client_exchange.hpp"
#include "client_recorder.hpp"
#include "tls_request.hpp"

namespace albsim::scenarios {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration;

std::vector<endpoint> endpoints_of(const proxy::proxy_config& config,
                                   const std::vector<proxy::bound_listener>& bound,
                                   std::size_t index) {
  std::vector<endpoint> out;
  const std::string& name = config.listeners.at(index).name;
  for (const auto& vip : config.instance.vips) {
    for (const auto& b : bound) {
      if (b.name == name && b.address == vip) out.push_back({b.address, b.port});
    }
  }
  if (out.empty()) {
    for (const auto& b : bound) {
      if (b.name == name) out.push_back({b.address, b.port});
    }
  }
  return out;
}

// One request of a burst: connect, send, read; returns the response when one arrived.
std::optional<response> quick_request(const endpoint& ep, const std::string& request,
                                      clock::time_point deadline) {
  client_connection c;
  if (c.connect(ep.address, ep.port, deadline) != io::ok) return std::nullopt;
  if (c.send(request, deadline) != io::ok) return std::nullopt;
  response r;
  if (c.read_response(r, deadline) != io::ok || r.status == 0) return std::nullopt;
  return r;
}

bool throttled(const response& r) {
  auto it = r.headers.find("alb-qps-limited");
  return r.status == 503 && it != r.headers.end() && *it == "Limited";
}

// Sends `count` requests at `rate` per second (0 = back to back), to the endpoints in turn.
nlohmann::json run_series(const client_script& s, const std::vector<endpoint>& eps,
                          const std::string& label, client_recorder& note,
                          response* first_throttled, std::optional<response>* last) {
  std::uint32_t responses = 0, throttled_n = 0, ok = 0, none = 0;
  std::string request = build_head(s, 0);
  auto start = clock::now();
  for (std::uint32_t i = 0; i < s.count; ++i) {
    if (s.rate > 0) {
      std::this_thread::sleep_until(
          start + std::chrono::duration_cast<clock::duration>(duration<double>(i / s.rate)));
    }
    const endpoint& ep = eps[i % eps.size()];
    auto r = quick_request(ep, request, clock::now() + s.timeout);
    if (!r) {
      ++none;
      continue;
    }
    ++responses;
    if (r->status >= 200 && r->status < 300) ++ok;
    if (throttled(*r)) {
      if (throttled_n == 0 && first_throttled) {
        *first_throttled = *r;
        note(label + "request " + std::to_string(i + 1) + " to " + ep.address +
             " throttled: 503 with ALB-QPS-Limited: Limited");
      }
      ++throttled_n;
    }
    if (last) *last = r;
  }
  note(label + std::to_string(s.count) + " requests sent: " + std::to_string(ok) +
       " answered 2xx, " + std::to_string(throttled_n) + " throttled (503 + ALB-QPS-Limited), " +
       std::to_string(none) + " without a response");
  return {{"sent", s.count},
          {"responses", responses},
          {"throttled", throttled_n},
          {"ok", ok},
          {"no_response", none}};
}

}  // namespace

client_run run_client(const client_script& s, const proxy::proxy_config& config,
                      const std::vector<proxy::bound_listener>& listeners,
                      clock::time_point origin) {
  client_run run;
  client_recorder note(run, origin);
  auto eps = endpoints_of(config, listeners, s.listener);
  if (eps.empty()) {
    note("no bound listener to talk to");
    run.observation["outcome"] = "error";
    return run;
  }
  if (s.warmup > 0) {
    client_script w;
    w.path = s.warmup_path;
    std::string request = build_head(w, 0);
    std::string statuses;
    for (std::uint32_t i = 0; i < s.warmup; ++i) {
      auto t = clock::now();
      auto r = quick_request(eps.front(), request, t + std::chrono::seconds(5));
      statuses += (statuses.empty() ? "" : ", ") +
                  (r ? std::to_string(r->status) : std::string("no response")) + " in " +
                  std::to_string(duration<double>(clock::now() - t).count()).substr(0, 5) + " s";
    }
    note("warm-up: " + std::to_string(s.warmup) + " GET " + s.warmup_path + " → " + statuses);
  }
  auto start = clock::now();
  if (s.action == client_action::burst) {
    run.exchanges = s.count;
    response first;
    std::optional<response> last;
    note("burst of " + std::to_string(s.count) + " requests to " + eps.front().address + ":" +
         std::to_string(eps.front().port) +
         (s.rate > 0 ? " at " + std::to_string(s.rate).substr(0, 6) + "/s" : " back to back"));
    auto counts = run_series(s, {eps.front()}, "", note, &first, &last);
    run.observation.update(counts);
    if (first.status)
      put_response(run.observation, first);
    else if (last)
      put_response(run.observation, *last);
    run.observation["outcome"] =
        counts["responses"].get<std::uint32_t>() > 0 ? "response" : "closed";
  } else if (s.action == client_action::vip_pinned_vs_spread) {
    run.exchanges = 2u * s.count;
    response first;
    // The spreading client goes first, so that the pinned one does not leave a VIP's bucket
    // drained for it.
    std::string all;
    for (const auto& ep : eps) all += (all.empty() ? "" : ", ") + ep.address;
    note("spreading client: " + std::to_string(s.count) + " requests over every VIP (" + all + ")");
    run.observation["spread"] = run_series(s, eps, "spread: ", note, nullptr, nullptr);
    note("pinned client: " + std::to_string(s.count) + " requests, all to VIP " +
         eps.front().address);
    run.observation["pinned"] = run_series(s, {eps.front()}, "pinned: ", note, &first, nullptr);
    if (first.status) put_response(run.observation, first);
    run.observation["outcome"] = "response";
  } else if (s.tls) {
    run_tls_request(s, eps.front().address, eps.front().port, run, origin);
  } else {
    run_single(s, eps.front(), run, note);
  }
  run.exchanges += s.warmup;
  if (!run.observation.contains("elapsed")) {
    run.observation["elapsed"] = duration<double>(clock::now() - start).count();
  }
  return run;
}

}  // namespace albsim::scenarios
