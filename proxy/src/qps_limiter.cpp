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
  vip_share_ = inst.vips.empty() ? 1.0 : 1.0 / static_cast<double>(inst.vips.size());
  multi_vip_ = inst.vips.size() > 1;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, inst.vips.size()); ++i) {
    vips_.push_back(std::make_unique<swappable>());
    swap_in(*vips_.back(), inst.qps, vip_share_);
  }
  for (const auto& l : config.listeners) {
    listeners_.push_back(std::make_unique<swappable>());
    swap_in(*listeners_.back(), l.qps);
    auto& rules = rules_.emplace_back();
    for (const auto& r : l.rules) {
      auto s = std::make_unique<rule_state>();
      swap_in(s->bucket, r.qps);
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
  if (vip_index < vips_.size()) {
    token_bucket* b = vips_[vip_index]->bucket.load(std::memory_order_acquire);
    if (b && !b->try_take(now())) return refuse(0, multi_vip_);
  }
  if (listener_index < listeners_.size()) {
    token_bucket* b = listeners_[listener_index]->bucket.load(std::memory_order_acquire);
    if (b && !b->try_take(now())) return refuse(1, false);
  }
  if (rule_index < 0 || listener_index >= rules_.size() ||
      static_cast<std::size_t>(rule_index) >= rules_[listener_index].size()) {
    return {};
  }
  auto& rule = *rules_[listener_index][static_cast<std::size_t>(rule_index)];
  token_bucket* rb = rule.bucket.bucket.load(std::memory_order_acquire);
  if (rb && !rb->try_take(now())) return refuse(2, false);
  if (rule.per_client.enabled()) {
    std::lock_guard lock(rule.mutex);
    if (rule.clients.size() > k_max_tracked_clients) rule.clients.clear();
    auto& b = rule.clients[client_ip];
    if (!b) b = make(rule.per_client);
    if (!b->try_take(now())) return refuse(3, false);
  }
  return {};
}

admission qps_limiter::refuse(std::size_t kind, bool vip_share) {
  refused_[kind].fetch_add(1, std::memory_order_relaxed);
  return {false, k_limiter_names[kind], vip_share};
}

void qps_limiter::swap_in(swappable& s, const qps_limit& limit, double share) {
  std::lock_guard lock(owned_mutex_);
  install(s, limit, share);
}

void qps_limiter::install(swappable& s, const qps_limit& limit, double share) {
  auto b = make(limit, share);
  s.limit = limit;
  s.bucket.store(b.get(), std::memory_order_release);
  if (b) owned_.push_back(std::move(b));
}

void qps_limiter::set_instance_limit(const qps_limit& limit) {
  // Every VIP's share changes under one lock, so a reader of instance_limit() never sees a mix.
  std::lock_guard lock(owned_mutex_);
  for (auto& v : vips_) install(*v, limit, vip_share_);
}

qps_limit qps_limiter::instance_limit() const {
  std::lock_guard lock(owned_mutex_);
  return vips_.front()->limit;
}

bool qps_limiter::set_listener_limit(std::size_t listener_index, const qps_limit& limit) {
  if (listener_index >= listeners_.size()) return false;
  swap_in(*listeners_[listener_index], limit);
  return true;
}

bool qps_limiter::set_rule_limit(std::size_t listener_index, std::size_t rule_index,
                                 const qps_limit& limit) {
  if (listener_index >= rules_.size() || rule_index >= rules_[listener_index].size()) return false;
  swap_in(rules_[listener_index][rule_index]->bucket, limit);
  return true;
}

qps_limit qps_limiter::listener_limit(std::size_t listener_index) const {
  std::lock_guard lock(owned_mutex_);
  return listeners_.at(listener_index)->limit;
}

qps_limit qps_limiter::rule_limit(std::size_t listener_index, std::size_t rule_index) const {
  std::lock_guard lock(owned_mutex_);
  return rules_.at(listener_index).at(rule_index)->bucket.limit;
}

std::array<std::uint64_t, 4> qps_limiter::refused() const {
  std::array<std::uint64_t, 4> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = refused_[i].load(std::memory_order_relaxed);
  return out;
}

void qps_limiter::reset_refused() {
  for (auto& r : refused_) r.store(0, std::memory_order_relaxed);
}

}  // namespace albsim::proxy
