// request_metrics::observe per record, on 1 and on 4 threads sharing one series
// (bench/request_metrics_cost.sh builds this against request_metrics.cpp of several commits and
// rotates them).
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>
#include "access_log_record.hpp"
#include "request_metrics.hpp"
using namespace albsim::proxy;
int main() {
  access_log_record r;
  r.status = 200;
  r.upstream_status = "200";
  r.sim_cause = "ok";
  r.request_time = 0.001;
  r.upstream_response_time = 0.001;
  r.slb_vport = 8080;
  for (int threads : {1, 4}) {
    request_metrics m;
    m.name_listener(8080, "x");
    const int n = 2'000'000 / threads;
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ws;
    for (int t = 0; t < threads; ++t)
      ws.emplace_back([&] {
        for (int i = 0; i < n; ++i) m.observe(r);
      });
    for (auto& w : ws) w.join();
    auto t1 = std::chrono::steady_clock::now();
    std::printf("observe %d thread(s): %.1f ns\n", threads,
                std::chrono::duration<double, std::nano>(t1 - t0).count() / (n * threads));
  }
}
