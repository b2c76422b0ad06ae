// State shared by every connection of one running proxy: the frozen config and what is built
// from it (outcome table, limiters, server groups), the access log and the counters. Workers
// (worker.hpp: one io_context and thread each) hold their own upstream pool.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "albsim/fault_ledger.hpp"
#include "albsim/proxy/access_log.hpp"
#include "albsim/proxy/config.hpp"
#include "albsim/token_bucket.hpp"
#include "client_links.hpp"
#include "fault_injector.hpp"
#include "latency_baseline.hpp"
#include "outcome_table.hpp"
#include "qps_limiter.hpp"
#include "request_journal.hpp"
#include "request_metrics.hpp"
#include "server_group.hpp"

namespace albsim::proxy {

struct proxy_runtime {
  explicit proxy_runtime(proxy_config c);

  proxy_config config;
  outcome_table outcomes;
  qps_limiter limiter;
  client_links links;  // each listener's client link now (the admin API may change it)
  std::vector<std::unique_ptr<server_group>> groups;
  std::unordered_map<std::string, server_group*> group_by_name;
  std::shared_ptr<access_log_sink> log;
  std::shared_ptr<token_bucket> bandwidth_in;   // instance cap, client → balancer
  std::shared_ptr<token_bucket> bandwidth_out;  // instance cap, balancer → client
  latency_baseline latency;
  std::shared_ptr<fault_ledger> ledger;  // notes of in-process backends, if any
  std::vector<std::unique_ptr<boost::asio::ssl::context>> tls;  // per listener (null for HTTP)
  fault_injector injector;  // X-Albsim-Cause and fault plans (docs/retry-kit.md)
  request_journal journal;  // the last requests, for retry tests (docs/retry-kit.md)
  request_metrics metrics;  // the admin API's /metrics

  std::atomic<std::uint64_t> connections{0}, requests{0}, records{0};
  std::atomic<std::int64_t> live_sessions{0};

  server_group* group(const std::string& name) const;
  // Every record as it is emitted: into the journal and the metrics. `request_fields`: the
  // request's "Name: value\r\n" fields; `inj`: what the injection stage decided for it.
  void observe(const access_log_record& r, std::string_view request_fields,
               const fault_injection& inj);
};

}  // namespace albsim::proxy
