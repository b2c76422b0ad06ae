#include "fault_plans.hpp"

#include <algorithm>

#include <boost/beast/core/string.hpp>

#include "field_lookup.hpp"

namespace albsim::proxy {

fault_plans::fault_plans(const std::vector<fault_plan_config>& at_start) {
  for (const auto& p : at_start) arm(p);
}

void fault_plans::arm(const fault_plan_config& plan) {
  auto p = std::make_unique<armed_plan>();
  p->config = plan;
  for (const auto& s : plan.steps) p->steps.push_back(parse_plan_step(s));
  if (plan.ttl.count() > 0) p->expires = std::chrono::steady_clock::now() + plan.ttl;
  std::lock_guard lock(mutex_);
  auto same = std::find_if(plans_.begin(), plans_.end(),
                           [&](const auto& q) { return q->config.name == plan.name; });
  if (same != plans_.end()) {
    *same = std::move(p);
  } else {
    plans_.push_back(std::move(p));
  }
  publish();
}

bool fault_plans::disarm(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto n = std::erase_if(plans_, [&](const auto& p) { return p->config.name == name; });
  publish();
  return n > 0;
}

void fault_plans::disarm_all() {
  std::lock_guard lock(mutex_);
  plans_.clear();
  publish();
}

std::vector<plan_status> fault_plans::list() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  drop_expired(now);
  std::vector<plan_status> out;
  for (const auto& p : plans_) {
    plan_status s{p->config, p->uses, p->position.size(), p->keys_over, std::nullopt};
    if (p->expires != std::chrono::steady_clock::time_point{}) s.expires_in = p->expires - now;
    out.push_back(std::move(s));
  }
  return out;
}

void fault_plans::publish() { armed_.store(plans_.size(), std::memory_order_relaxed); }

void fault_plans::drop_expired(std::chrono::steady_clock::time_point now) {
  std::erase_if(plans_, [&](const auto& p) {
    return p->expires != std::chrono::steady_clock::time_point{} && now >= p->expires;
  });
  publish();
}

bool fault_plans::matches(const armed_plan& p, const plan_request& r) const {
  const fault_plan_match& m = p.config.match;
  if (!m.method.empty() && m.method != r.method) return false;
  if (!m.host.empty() && !boost::beast::iequals(m.host, r.host)) return false;
  if (!m.path_prefix.empty() && r.target.substr(0, m.path_prefix.size()) != m.path_prefix)
    return false;
  for (const auto& [name, value] : m.headers) {
    auto v = find_field(r.fields, name);
    if (!v || (!value.empty() && *v != value)) return false;
  }
  return true;
}

std::optional<std::string> fault_plans::key_of(const armed_plan& p, const plan_request& r) const {
  switch (p.config.key) {
    case fault_plan_key::constant:
      return std::string();
    case fault_plan_key::client_ip:
      return std::string(r.client_ip);
    case fault_plan_key::header:
      if (auto v = find_field(r.fields, p.config.key_header)) return std::string(*v);
      return std::nullopt;  // a request without the key is no step of any operation
  }
  return std::nullopt;
}

std::optional<plan_step> fault_plans::next(const plan_request& request) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  drop_expired(now);
  for (auto it = plans_.begin(); it != plans_.end(); ++it) {
    armed_plan& p = **it;
    if (!matches(p, request)) continue;
    auto key = key_of(p, request);
    if (!key) continue;
    auto pos = p.position.find(*key);
    if (pos == p.position.end()) {
      if (p.position.size() >= k_max_keys) {
        ++p.keys_over;
        return std::nullopt;
      }
      pos = p.position.emplace(*key, 0).first;
    }
    const std::uint64_t taken = pos->second;
    if (!p.config.repeat && taken >= p.steps.size()) return std::nullopt;  // walked to its end
    const auto index = static_cast<std::uint32_t>(taken % p.steps.size());
    ++pos->second;
    plan_step out{p.config.name, index, *key, p.steps[index]};
    if (p.config.max_uses && ++p.uses >= p.config.max_uses) {
      plans_.erase(it);
      publish();
    } else if (!p.config.max_uses) {
      ++p.uses;
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace albsim::proxy
