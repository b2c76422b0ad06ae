// The retry-testing kit through real sockets: fault plans armed from the config and over the
// admin API, walked by real clients (one copy of the steps per key, also with 1,000 keys at
// once), the journal and its retry questions, the admin API's refusals (bad JSON, unknown
// fields, no token) that leave nothing half-applied, the metrics, and the OpenAPI file
// against the routes the API really answers.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "admin_api.hpp"
#include "admin_client.hpp"
#include "albsim/config_error.hpp"
#include "fault_spec.hpp"
#include "proxy_fixture.hpp"

namespace albsim::test {
namespace {

using nlohmann::json;

std::string post_pay(const std::string& key) {
  return "POST /pay HTTP/1.1\r\nHost: shop.test\r\nIdempotency-Key: " + key +
         "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
}

int status_of(proxy_harness& h, const std::string& request) {
  auto r = simple_request(h.address(), h.port(), request);
  return r ? r->status : 0;
}

const char* k_three_steps = R"({"name": "pay", "match": {"method": "POST", "path_prefix": "/pay"},
  "key": "header:Idempotency-Key",
  "steps": ["503-qps-limited", "502-connection-refused", "ok"]})";

TEST(AdminApi, HealthAndUnknownRoutes) {
  proxy_harness h(admin_config());
  ASSERT_NE(h.server().admin_port(), 0);
  auto health = admin(h, "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body["status"], "ok");
  EXPECT_EQ(admin(h, "GET", "/nowhere").status, 404);
  EXPECT_EQ(admin(h, "PUT", "/health").status, 405);
  auto bad = admin(h, "GET", "/journal?colour=red");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "colour");
}

TEST(AdminApi, ArmedPlanIsWalkedStepByStepThenPassesThrough) {
  proxy_harness h(admin_config());
  auto armed = admin(h, "POST", "/plans", k_three_steps);
  ASSERT_EQ(armed.status, 201) << armed.text;
  EXPECT_EQ(armed.body["steps"].size(), 3u);

  auto first = simple_request(h.address(), h.port(), post_pay("op-1"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 503);
  EXPECT_EQ(first->header("ALB-QPS-Limited").value_or(""), "Limited");
  EXPECT_EQ(status_of(h, post_pay("op-1")), 502);
  EXPECT_EQ(status_of(h, post_pay("op-1")), 200);
  EXPECT_EQ(status_of(h, post_pay("op-1")), 200) << "a walked plan without repeat passes";
  EXPECT_EQ(status_of(h, post_pay("op-2")), 503) << "another key walks its own copy";
  EXPECT_EQ(h.backend().counters().requests, 2u) << "only the ok step and the pass reached it";

  auto journal = admin(h, "GET", "/journal?key=op-1");
  ASSERT_EQ(journal.status, 200);
  const auto& entries = journal.body["entries"];
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0]["sim_cause"], "503-qps-limited");
  EXPECT_EQ(entries[0]["step"], 0);
  EXPECT_EQ(entries[1]["sim_cause"], "502-connection-refused");
  EXPECT_EQ(entries[1]["upstream_status"], "-");
  EXPECT_EQ(entries[2]["step"], 2);
  EXPECT_EQ(entries[2]["sim_cause"], "ok");
  EXPECT_TRUE(entries[3]["plan"].is_null());
  EXPECT_EQ(entries[0]["headers"]["Idempotency-Key"], "op-1");

  auto retries = admin(h, "GET", "/journal/retries?key=op-1");
  ASSERT_EQ(retries.body["keys"].size(), 1u);
  EXPECT_EQ(retries.body["keys"][0]["attempts"], 4);
  EXPECT_EQ(retries.body["keys"][0]["intervals"].size(), 3u);
  EXPECT_EQ(retries.body["keys"][0]["non_idempotent_resent"], false)
      << "the failures before the ok step never reached a backend";

  EXPECT_EQ(admin(h, "DELETE", "/plans/pay").status, 200);
  EXPECT_EQ(admin(h, "DELETE", "/plans/pay").status, 404);
  EXPECT_EQ(status_of(h, post_pay("op-3")), 200);
}

TEST(AdminApi, BadPlansAreRefusedWholeNamingTheField) {
  proxy_harness h(admin_config());
  ASSERT_EQ(admin(h, "POST", "/plans", k_three_steps).status, 201);
  const std::pair<std::string, std::string> bad[] = {
      {R"({"name": "pay", "steps": ["ok"], "stepz": 1})", "stepz"},
      {R"({"name": "pay", "steps": ["ok", "408-request-incomplete"]})", "steps[1]"},
      {R"({"name": "pay", "steps": ["ok"], "key": "cookie"})", "key"},
      {R"({"name": "pay", "steps": ["ok"], "match": {"path_prefix": "pay"}})", "match.path_prefix"},
  };
  for (const auto& [body, field] : bad) {
    auto r = admin(h, "POST", "/plans", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.body["field"], field) << r.text;
  }
  auto not_json = admin(h, "POST", "/plans", "{\"name\": ");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_NE(not_json.body["error"].get<std::string>().find("not JSON"), std::string::npos);
  // The plan armed first is still there, unchanged.
  auto plans = admin(h, "GET", "/plans");
  ASSERT_EQ(plans.body["plans"].size(), 1u);
  EXPECT_EQ(plans.body["plans"][0]["steps"].size(), 3u);
  EXPECT_EQ(plans.body["plans"][0]["uses"], 0);
}

TEST(AdminApi, MaxUsesAndTtlDisarmPlans) {
  proxy_harness h(admin_config());
  ASSERT_EQ(admin(h, "POST", "/plans",
                  R"({"name": "twice", "steps": ["503-backend-returned"], "repeat": true,
                      "max_uses": 2})")
                .status,
            201);
  EXPECT_EQ(status_of(h, post_pay("a")), 503);
  EXPECT_EQ(status_of(h, post_pay("b")), 503);
  EXPECT_EQ(status_of(h, post_pay("c")), 200);
  EXPECT_EQ(admin(h, "GET", "/plans").body["plans"].size(), 0u);

  ASSERT_EQ(admin(h, "POST", "/plans", R"({"name": "brief", "steps": ["503-no-backend"],
                                         "repeat": true, "ttl": "50ms"})")
                .status,
            201);
  EXPECT_TRUE(eventually([&] { return admin(h, "GET", "/plans").body["plans"].empty(); }, 2000ms));
  EXPECT_EQ(status_of(h, post_pay("d")), 200);
}

TEST(AdminApi, OffLoopbackEveryRequestNeedsTheToken) {
  auto cfg = admin_config();
  cfg.admin.address = "0.0.0.0";
  cfg.admin.token = "s3cret";
  proxy_harness h(cfg);
  EXPECT_EQ(admin(h, "GET", "/health").status, 401);
  EXPECT_EQ(admin(h, "GET", "/health", "", "Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(admin(h, "POST", "/plans", k_three_steps).status, 401);
  EXPECT_EQ(admin(h, "GET", "/plans", "", "Authorization: Bearer s3cret\r\n").body["plans"].size(),
            0u)
      << "the refused arm changed nothing";
  EXPECT_EQ(admin(h, "GET", "/health", "", "Authorization: Bearer s3cret\r\n").status, 200);
  // A config that opens the admin API off loopback without a token does not load.
  EXPECT_THROW(proxy::load_proxy_config_text(
                   "listeners: [{port: 0}]\nserver_groups: [{name: g}]\nadmin: {address: 0.0.0.0}",
                   "t.yaml"),
               config_error);
}

TEST(AdminApi, RetryQuestionsOnResentPostsAndRetryAfter) {
  proxy_harness h(admin_config());
  auto send = [&](const std::string& key, const std::string& cause) {
    return status_of(h, "POST /pay HTTP/1.1\r\nHost: x\r\nIdempotency-Key: " + key +
                            "\r\nX-Albsim-Cause: " + cause +
                            "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  };
  // A reset after the request reached the backend, then the same POST again: flagged.
  EXPECT_EQ(send("reached", "500-backend-reset"), 500);
  EXPECT_EQ(status_of(h, post_pay("reached")), 200);
  // A refused connect never delivered the request: resending is safe.
  EXPECT_EQ(send("refused", "502-connection-refused"), 502);
  EXPECT_EQ(status_of(h, post_pay("refused")), 200);
  // Retry-After: 1 ignored, then honoured.
  EXPECT_EQ(send("hasty", "503-backend-returned; retry-after=1"), 503);
  EXPECT_EQ(status_of(h, post_pay("hasty")), 200);
  EXPECT_EQ(send("patient", "503-backend-returned; retry-after=1"), 503);
  std::this_thread::sleep_for(1100ms);  // the client under test waiting as told, not a settle
  EXPECT_EQ(status_of(h, post_pay("patient")), 200);

  auto reports = admin(h, "GET", "/journal/retries?path=/pay").body["keys"];
  std::map<std::string, json> by_key;
  for (const auto& r : reports) by_key[r["key"]] = r;
  ASSERT_EQ(by_key.size(), 4u) << reports.dump();
  EXPECT_EQ(by_key["reached"]["non_idempotent_resent"], true);
  EXPECT_EQ(by_key["refused"]["non_idempotent_resent"], false);
  EXPECT_EQ(by_key["hasty"]["retry_after_honoured"], false);
  EXPECT_EQ(by_key["patient"]["retry_after_honoured"], true);
  EXPECT_TRUE(by_key["reached"]["retry_after_honoured"].is_null());
}

TEST(AdminApi, ClearResetAndMetrics) {
  proxy_harness h(admin_config());
  ASSERT_TRUE(h.get("/", "X-Albsim-Cause: 503-qps-limited"));
  ASSERT_TRUE(h.get("/"));
  // A journal read waits for the records of the answered requests; metrics are counted with
  // them.
  EXPECT_EQ(admin(h, "GET", "/journal").body["entries"].size(), 2u);
  auto metrics = admin(h, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string port = std::to_string(h.port());
  const std::string listener = h.server().listeners().at(0).name;
  // prometheus-cpp writes labels in name order.
  EXPECT_NE(metrics.text.find("albsim_requests_total{cause=\"503-qps-limited\",listener=\"" +
                              listener + "\",port=\"" + port + "\",status=\"503\"} 1"),
            std::string::npos)
      << metrics.text;
  EXPECT_NE(metrics.text.find("albsim_faults_injected_total 1"), std::string::npos);
  EXPECT_NE(metrics.text.find("albsim_request_time_seconds_count 2"), std::string::npos);
  EXPECT_EQ(admin(h, "GET", "/journal").body["entries"].size(), 2u);
  EXPECT_EQ(admin(h, "DELETE", "/journal").status, 200);
  EXPECT_EQ(admin(h, "GET", "/journal").body["entries"].size(), 0u);
  EXPECT_EQ(admin(h, "POST", "/counters/reset").status, 200);
  metrics = admin(h, "GET", "/metrics");
  EXPECT_EQ(metrics.text.find("albsim_requests_total{"), std::string::npos) << metrics.text;
  EXPECT_NE(metrics.text.find("albsim_faults_injected_total 0"), std::string::npos);
}

TEST(AdminApi, ServerWeightAndForcedHealthAtRuntime) {
  proxy_harness h(admin_config(), 2);
  // Weight 0 on the first server: every request goes to the second.
  auto bad = admin(h, "PUT", "/servers/main/0", R"({"weight": 0, "health": "sideways"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "health");
  EXPECT_EQ(admin(h, "PUT", "/servers/main/0", R"({"weight": 0, "colour": 1})").body["field"],
            "colour");
  EXPECT_EQ(admin(h, "PUT", "/servers/main/9", R"({"weight": 0})").status, 404);
  auto config = admin(h, "GET", "/config");
  EXPECT_EQ(config.body["server_groups"][0]["servers"][0]["weight"], 100)
      << "the refused changes applied nothing";
  ASSERT_EQ(admin(h, "PUT", "/servers/main/0", R"({"weight": 0})").status, 200);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(h.get("/"));
  EXPECT_EQ(h.backend(0).counters().requests, 0u);
  EXPECT_EQ(h.backend(1).counters().requests, 4u);
  // Both at weight 0: the group's real refusal.
  ASSERT_EQ(admin(h, "PUT", "/servers/main/1", R"({"weight": 0})").status, 200);
  auto refused = h.get("/");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  // Weights back; the second forced down: traffic goes to the first.
  ASSERT_EQ(admin(h, "PUT", "/servers/main/0", R"({"weight": 100})").status, 200);
  auto down = admin(h, "PUT", "/servers/main/1", R"({"weight": 100, "health": "down"})");
  EXPECT_EQ(down.body["healthy"], false);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(h.get("/"));
  EXPECT_EQ(h.backend(0).counters().requests, 4u);
  auto records = h.records(9);
  EXPECT_EQ(records[4]["sim_cause"], "503-zero-weight");
}

TEST(AdminApi, ListenerQpsLimitAtRuntime) {
  proxy_harness h(admin_config());
  const std::string name = h.server().listeners().at(0).name;
  auto bad = admin(h, "PUT", "/listeners/" + name + "/qps", R"({"qps": 1, "burts": 1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "burts");
  EXPECT_EQ(admin(h, "PUT", "/listeners/" + name + "/qps", R"({"qps": -1})").body["field"], "qps");
  EXPECT_EQ(admin(h, "PUT", "/listeners/nope/qps", R"({"qps": 1})").status, 404);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.get("/")->status, 200) << "no limit yet";
  // One request per second, burst 1: of three at once, the first passes.
  ASSERT_EQ(admin(h, "PUT", "/listeners/" + name + "/qps", R"({"qps": 1, "burst": 1})").status,
            200);
  std::vector<int> seen;
  for (int i = 0; i < 3; ++i) seen.push_back(h.get("/")->status);
  EXPECT_EQ(seen, (std::vector<int>{200, 503, 503}));
  auto records = h.records(6);
  EXPECT_EQ(records[4]["sim_cause"], "503-qps-limited");
  EXPECT_NE(
      admin(h, "GET", "/metrics").text.find("albsim_qps_refused_total{limiter=\"listener\"} 2"),
      std::string::npos);
  EXPECT_EQ(admin(h, "GET", "/config").body["listeners"][0]["qps"]["qps"], 1);
  // Off again.
  ASSERT_EQ(admin(h, "PUT", "/listeners/" + name + "/qps", R"({"qps": 0})").status, 200);
  EXPECT_EQ(h.get("/")->status, 200);
}

TEST(AdminApi, OpenApiFileDocumentsExactlyTheRealRoutes) {
  YAML::Node doc = YAML::LoadFile(ALBSIM_SOURCE_DIR "/docs/admin-api.openapi.yaml");
  ASSERT_EQ(doc["openapi"].as<std::string>().substr(0, 2), "3.");
  std::set<std::pair<std::string, std::string>> documented, real;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters") continue;
      for (auto& ch : method) ch = static_cast<char>(std::toupper(ch));
      documented.emplace(method, path.first.as<std::string>());
    }
  }
  for (const auto& r : proxy::admin_api::routes()) real.emplace(r.method, r.path);
  EXPECT_EQ(documented, real);
}

TEST(RetryKitDocs, EveryCauseIsListedWithWhetherItIsInjectable) {
  std::ifstream in(ALBSIM_SOURCE_DIR "/docs/retry-kit.md");
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& c : proxy::injectability_of_catalogue()) {
    const std::string row =
        "| `" + std::string(c.id) + "` | " + (c.injectable ? "yes" : "no") + " | " + c.how + " |";
    EXPECT_NE(text.str().find(row), std::string::npos) << "docs/retry-kit.md lacks: " << row;
  }
}

TEST(FaultPlans, ConfigErrorsNameFileLineAndField) {
  try {
    proxy::load_proxy_config_text(R"(listeners: [{port: 0}]
server_groups: [{name: g}]
fault_plans:
  - name: p
    steps:
      - ok
      - 499-client-aborted
)",
                                  "plans.yaml");
    FAIL() << "a client-only cause as a step must not load";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "plans.yaml");
    EXPECT_EQ(e.line(), 7);
    EXPECT_EQ(e.field(), "fault_plans[0].steps[1]");
    EXPECT_NE(e.message().find("only the client can produce it"), std::string::npos);
  }
}

TEST(FaultPlans, ABackendActionStepAndRepeat) {
  auto cfg = admin_config();
  cfg.fault_plans.push_back(proxy::load_fault_plan_text(
      R"({"name": "flip", "steps": ["backend: status=418", "ok"], "repeat": true})", "plan"));
  proxy_harness h(cfg);
  std::vector<int> seen;
  for (int i = 0; i < 4; ++i) seen.push_back(status_of(h, post_pay("any")));
  EXPECT_EQ(seen, (std::vector<int>{418, 200, 418, 200}));
  EXPECT_EQ(h.backend().counters().requests, 2u);
}

TEST(FaultPlans, AThousandConcurrentKeysEachWalkTheirOwnSteps) {
  auto cfg = admin_config();
  cfg.worker_threads = 2;
  proxy::fault_plan_config plan = proxy::load_fault_plan_text(k_three_steps, "plan");
  cfg.fault_plans.push_back(plan);
  proxy_harness h(cfg);
  constexpr int k_keys = 1000, k_threads = 8;
  std::vector<std::vector<int>> seen(k_keys);
  std::vector<std::thread> clients;
  for (int t = 0; t < k_threads; ++t) {
    clients.emplace_back([&, t] {
      // Each client thread interleaves its keys: step 1 of all, then step 2, then step 3.
      for (int step = 0; step < 3; ++step) {
        for (int k = t; k < k_keys; k += k_threads) {
          seen[k].push_back(status_of(h, post_pay("key-" + std::to_string(k))));
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  for (int k = 0; k < k_keys; ++k) {
    EXPECT_EQ(seen[k], (std::vector<int>{503, 502, 200})) << "key-" << k;
  }
  auto journal = admin(h, "GET", "/journal?path=/pay");
  const auto& entries = journal.body["entries"];
  ASSERT_EQ(entries.size(), 3u * k_keys);
  std::map<std::string, std::vector<int>> steps;
  for (const auto& e : entries) steps[e["key"]].push_back(e["step"]);
  ASSERT_EQ(steps.size(), static_cast<std::size_t>(k_keys));
  for (const auto& [key, s] : steps) EXPECT_EQ(s, (std::vector<int>{0, 1, 2})) << key;
  EXPECT_LE(journal.body["memory_bytes"].get<std::size_t>(),
            journal.body["memory_bound"].get<std::size_t>());
}

TEST(RequestJournal, MemoryStaysWithinItsBoundWhateverTheTraffic) {
  auto cfg = admin_config();
  cfg.journal.size = 100;
  cfg.journal.max_value_bytes = 64;
  proxy_harness h(cfg);
  const std::string long_key(8000, 'k');
  const std::string long_path = "/" + std::string(4000, 'p');
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(h.get(long_path + std::to_string(i), "Idempotency-Key: " + long_key));
  }
  auto journal = admin(h, "GET", "/journal");
  EXPECT_EQ(journal.body["added"], 300);
  ASSERT_EQ(journal.body["entries"].size(), 100u);
  EXPECT_EQ(journal.body["entries"][0]["headers"]["Idempotency-Key"].get<std::string>().size(),
            64u);
  EXPECT_EQ(journal.body["entries"][0]["path"].get<std::string>().size(), 64u);
  const auto used = journal.body["memory_bytes"].get<std::size_t>();
  const auto bound = journal.body["memory_bound"].get<std::size_t>();
  EXPECT_LE(used, bound);
  // 100 entries of capped values: a few KiB each, though each request carried 12 KB.
  EXPECT_LT(bound, 100u * 4096u);
}

}  // namespace
}  // namespace albsim::test
