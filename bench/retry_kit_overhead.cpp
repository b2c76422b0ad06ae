// The retry kit's hot-path cost per request (bench/retry_kit_overhead.sh builds and runs this).
#include <chrono>
#include <cstdio>
#include "access_log_record.hpp"
#include "fault_injector.hpp"
#include "http_heads.hpp"
#include "proxy_runtime.hpp"
using namespace albsim::proxy;
int main() {
  proxy_config cfg;
  listener_config l;
  l.name = "x";
  l.port = 0;
  l.default_server_group = "g";
  cfg.listeners.push_back(l);
  server_group_config g;
  g.name = "g";
  cfg.server_groups.push_back(g);
  proxy_runtime rt(cfg);
  request_head head(head_limits{});
  std::string req =
      "GET /status/200 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n";
  boost::system::error_code ec;
  head.feed(req, ec);
  access_log_record r;
  r.request_method = "GET";
  r.request_uri = "/status/200";
  r.host = "127.0.0.1:8080";
  r.client_ip = "127.0.0.1";
  r.status = 200;
  r.upstream_status = "200";
  r.upstream_addr = "127.0.0.1:9000";
  r.sim_cause = "ok";
  r.sim_detail = "the backend answered 200";
  r.request_time = 0.001;
  r.upstream_response_time = 0.001;
  r.slb_vport = 8080;
  fault_injection inj;
  const int n = 2'000'000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    inj.clear();
    rt.injector.decide(true, head, "127.0.0.1", rt.ledger, inj);
  }
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) rt.journal.add(r, head.forward_fields(), inj);
  auto t2 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) rt.metrics.observe(r);
  auto t3 = std::chrono::steady_clock::now();
  auto ns = [&](auto a, auto b) {
    return std::chrono::duration<double, std::nano>(b - a).count() / n;
  };
  std::printf(
      "decide (no header, no plan): %.0f ns\njournal.add: %.0f ns\nmetrics.observe: %.0f ns\n",
      ns(t0, t1), ns(t1, t2), ns(t2, t3));
}
