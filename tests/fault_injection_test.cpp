// Fault injection through a real proxy: for every cause the catalogue marks injectable, a
// request carrying `X-Albsim-Cause: <ID>`, or meeting a fault plan's step <ID>, gets what the
// cause's own scenario expects (scenarios/catalogue/<ID>.yaml): the client's status and
// headers and the record's status, upstream_status, timings and sim_cause. Causes only a client
// can produce get albsim's own 400 naming why; a listener with injection off forwards the
// header.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

#include "albsim/scenarios/expectation.hpp"
#include "albsim/scenarios/scenario.hpp"
#include "fault_spec.hpp"
#include "proxy_fixture.hpp"

namespace albsim::test {
namespace {

using nlohmann::json;

// Parameters that give a cause the shape its scenario has (its Retry-After, its delay).
const std::map<std::string, std::string> k_parameters = {
    {"503-backend-returned", "; retry-after=30"},
    {"504-backend-returned", "; delay=200ms"},
};

// The cause as a header value or a plan step, with the parameters its scenario needs.
std::string spec_of(const std::string& cause) {
  auto params = k_parameters.find(cause);
  return cause + (params == k_parameters.end() ? "" : params->second);
}

// The scenario's request, with the injection header when `by_header`.
std::string request_for(const scenarios::client_script& c, const std::string& cause,
                        bool by_header) {
  const bool single = c.action == scenarios::client_action::request;
  std::string path = single ? c.path : "/";
  if (c.target_bytes > path.size() + 1)
    path += "?" + std::string(c.target_bytes - path.size() - 1, 'a');
  std::string out = (single ? c.method : "GET") + " " + path + " HTTP/1.1\r\nHost: shop.test\r\n";
  if (by_header) out += "X-Albsim-Cause: " + spec_of(cause) + "\r\n";
  const std::uint64_t body = single ? c.body_bytes : 0;
  if (body) out += "Content-Length: " + std::to_string(body) + "\r\n";
  out += "Connection: close\r\n\r\n";
  out.append(body, 'x');
  return out;
}

json headers_of(const http_response& r) {
  json out = json::object();
  std::size_t pos = 0;
  while (pos < r.headers.size()) {
    std::size_t end = r.headers.find("\r\n", pos);
    if (end == std::string::npos) end = r.headers.size();
    std::string line = r.headers.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out[name] = value;
  }
  return out;
}

// The expectations a single injected request can be held to: the record's fields and the
// client's status, headers and waiting time. Not: the VIP a multi-VIP scenario pins, and what
// a scenario's backend script adds beside the cause (its body text, an Allow header).
bool applies(const std::string& field) {
  if (field == "log.vip_addr" || field == "log.body_bytes_sent" || field == "client.headers.allow")
    return false;
  if (field.rfind("log.", 0) == 0) return true;
  return field == "client.status" || field == "client.elapsed" ||
         field.rfind("client.headers.", 0) == 0;
}

// Each injectable cause, asked for by header and by a one-step fault plan.
class InjectableCause : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(InjectableCause, WritesTheRecordItsScenarioExpects) {
  const auto& [id, by_header] = GetParam();
  const auto s =
      scenarios::load_scenario_file(scenarios::default_scenario_dir() + "/" + id + ".yaml");
  auto cfg = base_proxy_config();
  // The scenario's timeouts, which its timing expectations are written for.
  cfg.listeners[0].request_timeout = s.proxy.listeners.at(0).request_timeout;
  cfg.limits.upstream_connect_timeout = s.proxy.limits.upstream_connect_timeout;
  if (!by_header) {
    proxy::fault_plan_config plan;
    plan.name = "one";
    plan.steps = {spec_of(id)};
    cfg.fault_plans.push_back(plan);
  }
  proxy_harness h(cfg);

  const auto began = std::chrono::steady_clock::now();
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  c.send_all(request_for(s.client, id, by_header),
             10s);  // a failed upload still gets its answer read
  std::string raw;
  c.read_response(raw, 10s);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  json observed;
  observed["log"] = h.only_record(10s);
  if (auto resp = parse_response(raw)) {
    observed["client"] = {
        {"status", resp->status}, {"headers", headers_of(*resp)}, {"elapsed", elapsed}};
  }
  std::size_t checked = 0;
  for (const auto& e : s.expectations) {
    if (!applies(e.field)) continue;
    auto result = scenarios::check(e, observed);
    EXPECT_TRUE(result.pass) << id << ": " << e.field << " expected " << e.matcher.describe()
                             << ", observed " << result.observed;
    ++checked;
  }
  EXPECT_GE(checked, 3u) << id << ": the scenario's status, upstream_status and sim_cause";
  EXPECT_EQ(observed["log"]["sim_cause"], id);
}

std::vector<std::string> injectable_ids() {
  std::vector<std::string> out;
  for (const auto& c : proxy::injectability_of_catalogue())
    if (c.injectable) out.emplace_back(c.id);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, InjectableCause,
                         ::testing::Combine(::testing::ValuesIn(injectable_ids()),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param);
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return "c" + n + (std::get<1>(info.param) ? "_by_header" : "_by_plan");
                         });

TEST(FaultInjection, EveryServerSideCauseIsInjectable) {
  // The promise: every cause that starts at the balancer or behind it.
  for (const auto& c : proxy::injectability_of_catalogue()) {
    const bool server_side =
        c.id.front() == '5' || c.id.ends_with("-backend-returned") || c.id == "502-tcp-error";
    if (server_side) {
      EXPECT_TRUE(c.injectable) << c.id;
    }
    EXPECT_FALSE(c.how.empty()) << c.id;
  }
}

TEST(FaultInjection, ClientOnlyCauseGetsAlbsimsOwn400NamingWhy) {
  proxy_harness h(base_proxy_config());
  auto resp = h.get("/", "X-Albsim-Cause: 408-request-incomplete");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 400);
  auto why = resp->header("X-Albsim-Cause-Refused");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("only the client can produce it"), std::string::npos) << *why;
  auto r = h.only_record();
  EXPECT_EQ(r["sim_cause"], "albsim-injection-refused");
  EXPECT_EQ(r["upstream_status"], "-");
  EXPECT_EQ(h.backend().counters().requests, 0u);
}

TEST(FaultInjection, MalformedValuesAreRefusedWithTheReason) {
  proxy_harness h(base_proxy_config());
  const std::pair<const char*, const char*> cases[] = {
      {"no-such-cause", "no catalogue cause"},
      {"503-backend-returned; delay=soon", "is no duration"},
      {"503-backend-returned; status=502", "not status=502"},
      {"502-connection-refused; colour=red", "unknown parameter 'colour'"},
      {"502-tcp-error", "needs a request body of at least"},
  };
  for (const auto& [value, reason] : cases) {
    auto resp = h.get("/", std::string("X-Albsim-Cause: ") + value);
    ASSERT_TRUE(resp) << value;
    EXPECT_EQ(resp->status, 400) << value;
    auto why = resp->header("X-Albsim-Cause-Refused");
    ASSERT_TRUE(why) << value;
    EXPECT_NE(why->find(reason), std::string::npos) << value << ": " << *why;
  }
  EXPECT_EQ(h.records(std::size(cases)).size(), std::size(cases));
}

TEST(FaultInjection, AnyStatusWithBackendReturned) {
  proxy_harness h(base_proxy_config());
  auto resp = h.get("/", "X-Albsim-Cause: backend-returned; status=429; retry-after=2");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 429);
  EXPECT_EQ(resp->header("Retry-After").value_or(""), "2");
  auto r = h.only_record();
  EXPECT_EQ(r["upstream_status"], "429");
  EXPECT_EQ(h.backend().counters().requests, 0u) << "the fault backend answered, not the real one";
}

// One request on an open connection, its response read (bounded).
std::optional<http_response> ask(raw_client& c, const std::string& request) {
  if (c.send_all(request) != io_result::ok) return std::nullopt;
  std::string raw;
  if (c.read_response(raw) != io_result::ok) return std::nullopt;
  return parse_response(raw);
}

TEST(FaultInjection, TheConnectionCarriesOnAfterAnInjectedReply) {
  proxy_harness h(base_proxy_config());
  raw_client c;
  ASSERT_EQ(c.connect(h.address(), h.port()), io_result::ok);
  auto a = ask(c, "GET /a HTTP/1.1\r\nHost: x\r\nX-Albsim-Cause: 503-qps-limited\r\n\r\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 503);
  EXPECT_EQ(a->header("ALB-QPS-Limited").value_or(""), "Limited");
  auto b = ask(c, "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 200);
  auto records = h.records(2);
  EXPECT_EQ(records[0]["sim_cause"], "503-qps-limited");
  EXPECT_EQ(records[1]["sim_cause"], "ok");
  EXPECT_EQ(h.backend().counters().requests, 1u);
}

TEST(FaultInjection, OffOnTheListenerTheHeaderIsForwarded) {
  auto cfg = base_proxy_config();
  cfg.listeners[0].fault_injection = false;
  proxy_harness h(cfg);
  auto resp = h.get("/echo", "X-Albsim-Cause: 502-connection-refused");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_NE(resp->body.find("502-connection-refused"), std::string::npos)
      << "the backend saw the header: " << resp->body;
  EXPECT_EQ(h.only_record()["sim_cause"], "ok");
}

TEST(FaultInjection, NotForwardedToTheRealBackend) {
  proxy_harness h(base_proxy_config());
  auto resp = h.get("/echo", "X-Albsim-Cause: 503-backend-returned");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 503);
  EXPECT_EQ(h.backend().counters().requests, 0u);
}

}  // namespace
}  // namespace albsim::test
