// Admission control: the balancer's QPS limits, checked in the order a request meets them —
// the instance (its share for the VIP the client reached), the listener, the forwarding rule,
// and the rule's per-client-IP limit. Each is an exact token bucket shared by all workers.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "albsim/proxy/config.hpp"
#include "albsim/token_bucket.hpp"

namespace albsim::proxy {

struct admission {
  bool admitted = true;
  std::string limiter;     // which limit refused: "instance", "listener", "rule", "client-ip"
  bool vip_share = false;  // refused by one VIP's share of a multi-VIP instance limit
};

class qps_limiter {
 public:
  explicit qps_limiter(const proxy_config& config);

  // `vip_index` indexes instance.vips; listener/rule indexes index the config's vectors
  // (rule -1 = the listener's default group).
  admission admit(std::size_t vip_index, std::size_t listener_index, int rule_index,
                  const std::string& client_ip);

 private:
  static std::unique_ptr<token_bucket> make(const qps_limit& l, double share = 1.0);
  struct rule_state {
    std::unique_ptr<token_bucket> bucket;
    qps_limit per_client;
    std::mutex mutex;
    std::unordered_map<std::string, std::unique_ptr<token_bucket>> clients;
  };
  std::vector<std::unique_ptr<token_bucket>> vips_;
  bool multi_vip_ = false;
  std::vector<std::unique_ptr<token_bucket>> listeners_;
  std::vector<std::vector<std::unique_ptr<rule_state>>> rules_;  // [listener][rule]
};

}  // namespace albsim::proxy
