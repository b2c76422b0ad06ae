// server_group: the three schedulers, weight 0, empty groups, health thresholds and fail-open.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "server_group.hpp"

namespace albsim::proxy {
namespace {

server_group_config group_of(std::initializer_list<std::uint32_t> weights,
                             scheduler_kind scheduler = scheduler_kind::weighted_round_robin) {
  server_group_config g;
  g.name = "g";
  g.scheduler = scheduler;
  std::uint16_t port = 9000;
  for (auto w : weights) {
    server_config s;
    s.port = port++;
    s.weight = w;
    g.servers.push_back(s);
  }
  return g;
}

std::vector<int> counts(server_group& g, int picks, std::uint32_t ip = 1) {
  std::vector<int> out(g.size(), 0);
  for (int i = 0; i < picks; ++i) {
    auto r = g.pick(ip);
    EXPECT_EQ(r.failure, server_group::pick_failure::none);
    if (r.index >= 0) ++out[r.index];
  }
  return out;
}

void mark(server_group& g, int index, bool success, int times) {
  for (int i = 0; i < times; ++i) g.report_health(index, success);
}

TEST(server_group, empty_group_and_all_zero_weights_fail) {
  server_group empty(group_of({}));
  EXPECT_EQ(empty.pick(1).failure, server_group::pick_failure::empty);
  EXPECT_EQ(empty.pick(1).index, -1);
  server_group zero(group_of({0, 0}));
  EXPECT_EQ(zero.pick(1).failure, server_group::pick_failure::all_zero_weight);
  EXPECT_EQ(zero.pick(1).index, -1);
}

TEST(server_group, round_robin_follows_the_weights_and_skips_weight_zero) {
  server_group g(group_of({100, 50, 0, 25}));
  auto c = counts(g, 700);
  EXPECT_EQ(c, (std::vector<int>{400, 200, 0, 100}));
}

TEST(server_group, round_robin_is_smooth) {
  // nginx's smooth WRR for weights 5, 1, 1: a a b a c a a — never five of a in a row.
  server_group g(group_of({5, 1, 1}));
  std::vector<int> order;
  for (int i = 0; i < 7; ++i) order.push_back(g.pick(1).index);
  EXPECT_EQ(order, (std::vector<int>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(server_group, equal_weights_alternate) {
  server_group g(group_of({100, 100}));
  EXPECT_EQ(g.pick(1).index, 0);
  EXPECT_EQ(g.pick(1).index, 1);
  EXPECT_EQ(g.pick(1).index, 0);
}

TEST(server_group, least_connections_prefers_the_least_loaded_per_weight) {
  server_group g(group_of({100, 50}, scheduler_kind::weighted_least_connections));
  g.connection_started(0);
  EXPECT_EQ(g.pick(1).index, 1);  // 1/100 vs 0/50
  g.connection_started(1);
  EXPECT_EQ(g.pick(1).index, 0);  // 1/100 vs 1/50
  g.connection_started(0);
  g.connection_started(0);  // 3/100 vs 1/50: server 1 is less loaded per weight
  EXPECT_EQ(g.pick(1).index, 1);
  EXPECT_EQ(g.connections(0), 3u);
  g.connection_finished(0);
  g.connection_finished(0);
  g.connection_finished(0);
  g.connection_finished(0);  // one too many: stays at 0
  EXPECT_EQ(g.connections(0), 0u);
  EXPECT_EQ(g.pick(1).index, 0);
}

TEST(server_group, least_connections_spreads_sequential_requests_by_weight) {
  server_group g(group_of({100, 50, 0}, scheduler_kind::weighted_least_connections));
  auto c = counts(g, 300);
  EXPECT_EQ(c, (std::vector<int>{200, 100, 0}));
}

TEST(server_group, source_ip_hash_is_stable_and_spreads) {
  auto config = group_of({100, 100, 100, 0}, scheduler_kind::source_ip_hash);
  server_group a(config);
  server_group b(config);
  std::vector<int> per_server(4, 0);
  for (std::uint32_t ip = 0x0a000001; ip < 0x0a000001 + 3000; ++ip) {
    int first = a.pick(ip).index;
    EXPECT_EQ(a.pick(ip).index, first);
    EXPECT_EQ(b.pick(ip).index, first);  // same config, same answer (also across runs)
    ++per_server[first];
  }
  EXPECT_EQ(per_server[3], 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(per_server[i], 800) << i;
    EXPECT_LT(per_server[i], 1200) << i;
  }
}

TEST(server_group, source_ip_hash_moves_only_the_clients_of_a_server_that_leaves) {
  server_group g(group_of({100, 100, 100}, scheduler_kind::source_ip_hash));
  std::map<std::uint32_t, int> before;
  for (std::uint32_t ip = 1; ip <= 2000; ++ip) before[ip] = g.pick(ip).index;
  mark(g, 2, false, 3);
  ASSERT_FALSE(g.healthy(2));
  int moved = 0;
  for (const auto& [ip, server] : before) {
    int now = g.pick(ip).index;
    EXPECT_NE(now, 2);
    if (server != 2) {
      EXPECT_EQ(now, server) << ip;
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(server_group, source_ip_hash_identity_is_the_backend_name_not_the_port) {
  // Embedded backends get a fresh port each start; their clients must not move.
  auto first = group_of({100, 100}, scheduler_kind::source_ip_hash);
  first.servers[0].backend = "backend-1";
  first.servers[1].backend = "backend-2";
  auto second = first;
  second.servers[0].port = 41000;
  second.servers[1].port = 42000;
  server_group a(first);
  server_group b(second);
  for (std::uint32_t ip = 1; ip <= 200; ++ip) EXPECT_EQ(a.pick(ip).index, b.pick(ip).index);
}

TEST(server_group, health_follows_the_thresholds) {
  auto config = group_of({100});
  config.health_check.healthy_threshold = 2;
  config.health_check.unhealthy_threshold = 3;
  server_group g(config);
  EXPECT_TRUE(g.healthy(0));  // servers start healthy
  mark(g, 0, false, 2);
  g.report_health(0, true);  // a success breaks the run of failures
  mark(g, 0, false, 2);
  EXPECT_TRUE(g.healthy(0));
  g.report_health(0, false);
  EXPECT_FALSE(g.healthy(0));
  g.report_health(0, true);
  g.report_health(0, false);  // a failure breaks the run of successes
  g.report_health(0, true);
  EXPECT_FALSE(g.healthy(0));
  g.report_health(0, true);
  EXPECT_TRUE(g.healthy(0));
}

TEST(server_group, unhealthy_servers_get_no_traffic) {
  server_group g(group_of({100, 100, 100}));
  mark(g, 1, false, 3);
  auto c = counts(g, 100);
  EXPECT_EQ(c, (std::vector<int>{50, 0, 50}));
}

TEST(server_group, all_unhealthy_fails_open_to_the_weighted_servers) {
  server_group g(group_of({100, 100, 0}));
  mark(g, 0, false, 3);
  mark(g, 1, false, 3);
  auto c = counts(g, 100);
  EXPECT_EQ(c, (std::vector<int>{50, 50, 0}));
  mark(g, 1, true, 3);  // one recovers: it takes everything
  c = counts(g, 10);
  EXPECT_EQ(c, (std::vector<int>{0, 10, 0}));
}

TEST(server_group, concurrent_picks_are_counted_exactly) {
  server_group g(group_of({100, 100}));
  std::vector<int> a, b;
  std::thread t([&] { a = counts(g, 5000); });
  b = counts(g, 5000);
  t.join();
  EXPECT_EQ(a[0] + b[0], 5000);
  EXPECT_EQ(a[1] + b[1], 5000);
}

}  // namespace
}  // namespace albsim::proxy
