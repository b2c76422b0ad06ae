#include "qps_limiter.hpp"

#include <optional>

namespace albsim::proxy {
namespace {
constexpr std::size_t k_max_tracked_clients = 65536;  // per rule; the map is reset beyond it
}

std::unique_ptr<token_bucket> qps_limiter::make(const qps_limit& l, double share) {
  if (!l.enabled()) return nullptr;
  double rate = l.qps * share;
  double burst = l.effective_burst() * share;
  return std::make_unique<token_bucket>(rate, burst < 1 ? 1 : burst);
}

qps_limiter::qps_limiter(const proxy_config& config) {
  const auto& inst = config.instance;
  const double share = inst.vips.empty() ? 1.0 : 1.0 / static_cast<double>(inst.vips.size());
  multi_vip_ = inst.vips.size() > 1;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, inst.vips.size()); ++i) {
    vips_.push_back(make(inst.qps, share));
  }
  for (const auto& l : config.listeners) {
    listeners_.push_back(make(l.qps));
    auto& rules = rules_.emplace_back();
    for (const auto& r : l.rules) {
      auto s = std::make_unique<rule_state>();
      s->bucket = make(r.qps);
      s->per_client = r.per_client_qps;
      rules.push_back(std::move(s));
    }
  }
}

admission qps_limiter::admit(std::size_t vip_index, std::size_t listener_index, int rule_index,
                             const std::string& client_ip) {
  // The clock is read only when some limit applies (most requests meet none).
  std::optional<token_bucket::clock::time_point> at;
  auto now = [&] {
    if (!at) at = token_bucket::clock::now();
    return *at;
  };
  if (vip_index < vips_.size() && vips_[vip_index] && !vips_[vip_index]->try_take(now())) {
    return {false, "instance", multi_vip_};
  }
  if (listener_index < listeners_.size() && listeners_[listener_index] &&
      !listeners_[listener_index]->try_take(now())) {
    return {false, "listener", false};
  }
  if (rule_index < 0 || listener_index >= rules_.size() ||
      static_cast<std::size_t>(rule_index) >= rules_[listener_index].size()) {
    return {};
  }
  auto& rule = *rules_[listener_index][static_cast<std::size_t>(rule_index)];
  if (rule.bucket && !rule.bucket->try_take(now())) return {false, "rule", false};
  if (rule.per_client.enabled()) {
    std::lock_guard lock(rule.mutex);
    if (rule.clients.size() > k_max_tracked_clients) rule.clients.clear();
    auto& b = rule.clients[client_ip];
    if (!b) b = make(rule.per_client);
    if (!b->try_take(now())) return {false, "per-client-IP", false};
  }
  return {};
}

}  // namespace albsim::proxy
