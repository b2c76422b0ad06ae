// Admission control: the balancer's QPS limits, checked in the order a request meets them —
// the instance (its share for the VIP the client reached), the listener, the forwarding rule,
// and the rule's per-client-IP limit. Each is an exact token bucket shared by all workers.
#pragma once

#include <array>
#include <atomic>
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

  // Runtime changes from the admin API (albsim's own, docs/retry-kit.md): the instance's, a
  // listener's or a rule's limit (qps 0 turns it off). The new bucket starts full; false for a
  // bad index. The instance limit is split over the VIPs as the config's is: each VIP's bucket
  // gets 1/N of the rate and of the burst (at least 1).
  void set_instance_limit(const qps_limit& limit);
  qps_limit instance_limit() const;
  bool set_listener_limit(std::size_t listener_index, const qps_limit& limit);
  bool set_rule_limit(std::size_t listener_index, std::size_t rule_index, const qps_limit& limit);
  qps_limit listener_limit(std::size_t listener_index) const;
  qps_limit rule_limit(std::size_t listener_index, std::size_t rule_index) const;

  // Requests refused so far by each kind of limit, in the order of `k_limiter_names`.
  static constexpr std::array<const char*, 4> k_limiter_names{"instance", "listener", "rule",
                                                              "per-client-IP"};
  std::array<std::uint64_t, 4> refused() const;
  void reset_refused();

 private:
  static std::unique_ptr<token_bucket> make(const qps_limit& l, double share = 1.0);
  // A limit the admin API can swap while requests read it: requests load the pointer; a
  // replaced bucket is kept until the limiter ends (a few dozen bytes per change), so no
  // request ever reads freed memory.
  struct swappable {
    std::atomic<token_bucket*> bucket{nullptr};
    qps_limit limit;  // guarded by owned_mutex_
  };
  void swap_in(swappable& s, const qps_limit& limit, double share = 1.0);
  void install(swappable& s, const qps_limit& limit, double share);  // owned_mutex_ held
  admission refuse(std::size_t kind, bool vip_share);

  struct rule_state {
    swappable bucket;
    qps_limit per_client;
    std::mutex mutex;
    std::unordered_map<std::string, std::unique_ptr<token_bucket>> clients;
  };
  std::vector<std::unique_ptr<swappable>> vips_;  // the instance limit's share of each VIP
  double vip_share_ = 1.0;
  bool multi_vip_ = false;
  std::vector<std::unique_ptr<swappable>> listeners_;
  mutable std::mutex owned_mutex_;
  std::vector<std::unique_ptr<token_bucket>> owned_;  // every bucket a swappable ever held
  std::array<std::atomic<std::uint64_t>, 4> refused_{};
  std::vector<std::vector<std::unique_ptr<rule_state>>> rules_;  // [listener][rule]
};

}  // namespace albsim::proxy
