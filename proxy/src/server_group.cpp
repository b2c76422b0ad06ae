#include "server_group.hpp"

#include <cmath>

#include <boost/container/small_vector.hpp>

namespace albsim::proxy {
namespace {

// splitmix64: a cheap, well-mixed 64-bit hash step.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a of the server's identity: the backend's name, else address:port. Stable across runs
// (embedded backends get a fresh port each start) and independent of the server's position.
std::uint64_t identity_hash(const server_config& s) {
  std::string id = s.backend.empty() ? s.address + ":" + std::to_string(s.port) : s.backend;
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : id) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace

server_group::server_group(const server_group_config& config)
    : config_(config), state_(config.servers.size()) {
  for (std::size_t i = 0; i < state_.size(); ++i) {
    state_[i].hash_key = identity_hash(config_.servers[i]);
    state_[i].weight = config_.servers[i].weight;
  }
}

server_group::pick_result server_group::pick(std::uint32_t client_ip) {
  if (config_.servers.empty()) return {-1, pick_failure::empty};
  std::lock_guard lock(mutex_);
  // Picking runs on every request: small groups need no allocation.
  boost::container::small_vector<int, 16> weighted;
  boost::container::small_vector<int, 16> healthy;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].weight == 0) continue;
    weighted.push_back(static_cast<int>(i));
    if (state_[i].effective_health()) healthy.push_back(static_cast<int>(i));
  }
  if (weighted.empty()) return {-1, pick_failure::all_zero_weight};
  std::span<const int> candidates = healthy.empty() ? weighted : healthy;  // fail open
  switch (config_.scheduler) {
    case scheduler_kind::weighted_round_robin:
      return {pick_round_robin(candidates), pick_failure::none};
    case scheduler_kind::weighted_least_connections:
      return {pick_least_connections(candidates), pick_failure::none};
    case scheduler_kind::source_ip_hash:
      return {pick_hash(candidates, client_ip), pick_failure::none};
  }
  return {candidates.front(), pick_failure::none};
}

// Smooth weighted round robin (as nginx does it): every candidate gains its weight, the one
// with the most wins and pays back the total. Spreads a heavy server's turns evenly.
int server_group::pick_round_robin(std::span<const int> candidates) {
  std::int64_t total = 0;
  int best = candidates.front();
  for (int i : candidates) {
    server_state& s = state_[i];
    s.current_weight += s.weight;
    total += s.weight;
    if (s.current_weight > state_[best].current_weight) best = i;
  }
  state_[best].current_weight -= total;
  return best;
}

// Fewest in-flight connections per unit of weight; ties (e.g. sequential requests, nothing in
// flight) are broken by weighted round robin so that load still spreads by weight.
int server_group::pick_least_connections(std::span<const int> candidates) {
  boost::container::small_vector<int, 16> least;
  for (int i : candidates) {
    if (least.empty()) {
      least.push_back(i);
      continue;
    }
    // connections_i / weight_i compared with connections_l / weight_l, without division.
    int l = least.front();
    std::uint64_t lhs = std::uint64_t{state_[i].connections} * state_[l].weight;
    std::uint64_t rhs = std::uint64_t{state_[l].connections} * state_[i].weight;
    if (lhs < rhs) least.clear();
    if (lhs <= rhs) least.push_back(i);
  }
  return pick_round_robin(least);
}

// Weighted rendezvous hashing: each (client, server) pair draws a score; the highest wins. A
// client keeps its server as long as that server stays a candidate, and a server leaving moves
// only its own clients.
int server_group::pick_hash(std::span<const int> candidates, std::uint32_t client_ip) const {
  int best = candidates.front();
  double best_score = -1;
  for (int i : candidates) {
    std::uint64_t h = mix(state_[i].hash_key ^ mix(client_ip));
    double u = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;  // (0, 1)
    double score = state_[i].weight / -std::log(u);
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

void server_group::connection_started(int index) {
  std::lock_guard lock(mutex_);
  ++state_.at(index).connections;
}

void server_group::connection_finished(int index) {
  std::lock_guard lock(mutex_);
  auto& c = state_.at(index).connections;
  if (c > 0) --c;
}

std::uint32_t server_group::connections(int index) const {
  std::lock_guard lock(mutex_);
  return state_.at(index).connections;
}

void server_group::report_health(int index, bool success) {
  std::lock_guard lock(mutex_);
  server_state& s = state_.at(index);
  const health_check_config& hc = config_.health_check;
  if (success) {
    s.failures = 0;
    ++s.successes;
    if (!s.healthy && s.successes >= hc.healthy_threshold) s.healthy = true;
  } else {
    s.successes = 0;
    ++s.failures;
    if (s.healthy && s.failures >= hc.unhealthy_threshold) s.healthy = false;
  }
}

bool server_group::healthy(int index) const {
  std::lock_guard lock(mutex_);
  return state_.at(index).effective_health();
}

void server_group::set_weight(int index, std::uint32_t weight) {
  std::lock_guard lock(mutex_);
  state_.at(index).weight = weight;
}

std::uint32_t server_group::weight(int index) const {
  std::lock_guard lock(mutex_);
  return state_.at(index).weight;
}

void server_group::force_health(int index, health_override h) {
  std::lock_guard lock(mutex_);
  state_.at(index).forced = h;
}

server_group::health_override server_group::forced(int index) const {
  std::lock_guard lock(mutex_);
  return state_.at(index).forced;
}

}  // namespace albsim::proxy
