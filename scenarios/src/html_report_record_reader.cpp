#include "html_report_record_reader.hpp"

#include <string_view>

namespace albsim::scenarios {
namespace {

using json = nlohmann::json;

std::string text(const json& r, const char* key) {
  auto it = r.find(key);
  if (it == r.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

double number(const json& r, const char* key, double otherwise = 0) {
  auto it = r.find(key);
  return it != r.end() && it->is_number() ? it->get<double>() : otherwise;
}

int status(const json& r) { return static_cast<int>(number(r, "status")); }

// A client link this slow is no loopback or data-centre path: the record's own RTT estimate
// (tcpinfo_rtt, microseconds) of 100 ms and more points at the client's network.
constexpr double k_slow_rtt_us = 100000;
// The balancer's fixed upstream connect timeout (5 s): a connect time this close to it is the
// timeout.
constexpr double k_connect_timeout_s = 4.9;
// Header lines are limited to 32 KiB; a request this long was stopped for its size.
constexpr double k_oversized_request = 32 * 1024;

decision_node leaf(std::string answer, std::function<bool(const json&)> applies,
                   std::vector<std::string> causes, std::string hint = {}) {
  return {std::move(answer), std::move(applies), {}, {}, std::move(causes), std::move(hint)};
}

decision_node branch(std::string answer, std::function<bool(const json&)> applies,
                     std::string question, std::vector<decision_node> children) {
  return {std::move(answer), std::move(applies), std::move(question), std::move(children), {}, {}};
}

auto status_is(int s) {
  return [s](const json& r) { return status(r) == s; };
}
bool always(const json&) { return true; }

}  // namespace

record_reader::record_reader() {
  auto relayed = [](const json& r) { return text(r, "upstream_status") == text(r, "status"); };
  auto left = status_is(499);
  auto unrouted = [](const json& r) { return text(r, "upstream_addr") == "-"; };

  std::vector<decision_node> relayed_leaves;
  for (int s : {400, 405, 414, 500, 502, 503, 504}) {
    relayed_leaves.push_back(
        leaf(std::to_string(s), status_is(s), {std::to_string(s) + "-backend-returned"},
             "The backend's own logs say why it answered " + std::to_string(s) + "."));
  }

  root_ = branch(
      "", always, "Is upstream_status the same as status?",
      {
          branch("yes: the backend answered this status and the balancer relayed it", relayed,
                 "Which status?", std::move(relayed_leaves)),
          branch(
              "no, status is 499: the client closed before the answer (only logged)", left,
              "What do the timings and sizes say?",
              {
                  leaf(
                      "upstream_status is set and body_bytes_sent > 0: the answer was on its way",
                      [](const json& r) {
                        return text(r, "upstream_status") != "-" &&
                               number(r, "body_bytes_sent") > 0;
                      },
                      {"499-bandwidth-throttled"},
                      "Compare the response size with the instance's bandwidth metric."),
                  leaf("tcpinfo_rtt is 100 ms or more: a slow client link",
                       [](const json& r) { return number(r, "tcpinfo_rtt") >= k_slow_rtt_us; },
                       {"499-client-slow-link"}),
                  leaf("request_time is under 50 ms: the client left at once",
                       [](const json& r) { return number(r, "request_time", 1) < 0.05; },
                       {"499-client-aborted"}),
                  leaf("otherwise: the client waited, then gave up", always,
                       {"499-client-timeout-too-short", "499-backend-slow"},
                       "Compare upstream_response_time with the backend's usual latency in "
                       "other records: usual means the client's timeout is too short, "
                       "unusually long means the backend was slow."),
              }),
          branch(
              "no, and upstream_addr is \"-\": the balancer answered before choosing a backend",
              unrouted, "Which status?",
              {
                  branch("400", status_is(400), "What did the balancer receive?",
                         {
                             leaf("body_bytes_sent is 0: nothing was sent back",
                                  [](const json& r) { return number(r, "body_bytes_sent") == 0; },
                                  {"400-client-closed-early"}),
                             leaf("scheme is HTTPS: a plain request on the HTTPS listener",
                                  [](const json& r) { return text(r, "scheme") == "HTTPS"; },
                                  {"400-http-to-https"}),
                             leaf("request_length is over 32 KiB: a header line too long",
                                  [](const json& r) {
                                    return number(r, "request_length") > k_oversized_request;
                                  },
                                  {"400-header-too-large"}),
                             leaf("otherwise: the request's framing was invalid", always,
                                  {"400-content-length-mismatch"}),
                         }),
                  leaf("405", status_is(405), {"405-trace"}),
                  leaf("414", status_is(414), {"414-uri-too-long"}),
                  leaf("503", status_is(503),
                       {"503-qps-limited", "503-single-vip", "503-no-backend", "503-zero-weight"},
                       "The response header ALB-QPS-Limited: Limited means throttling (per VIP "
                       "when only one VIP is used); without it, look at the server group: no "
                       "servers, or every weight 0."),
              }),
          branch("no, upstream_addr is set: a backend was chosen but gave no usable status", always,
                 "Which status?",
                 {
                     branch("408", status_is(408), "How fast was the client's link?",
                            {
                                leaf("tcpinfo_rtt is 100 ms or more",
                                     [](const json& r) {
                                       return number(r, "tcpinfo_rtt") >= k_slow_rtt_us;
                                     },
                                     {"408-client-slow-link"}),
                                leaf("otherwise", always,
                                     {"408-request-incomplete", "408-bandwidth-throttled"},
                                     "A large request_length with the instance's inbound bandwidth "
                                     "at its cap means throttling; one little longer than the "
                                     "request head means the client stopped sending."),
                            }),
                     leaf("500", status_is(500), {"500-backend-reset"}),
                     branch("504", status_is(504), "Is upstream_connect_time about 5 s?",
                            {
                                leaf("yes: the handshake never completed",
                                     [](const json& r) {
                                       return number(r, "upstream_connect_time") >=
                                              k_connect_timeout_s;
                                     },
                                     {"504-connect-timeout"}),
                                leaf("no: connected, but no answer within the request timeout",
                                     always, {"504-request-timeout"}),
                            }),
                     branch("502", status_is(502), "How long did it take, and how large was it?",
                            {
                                leaf(
                                    "request_time ≥ 0.5 s with a large request_length",
                                    [](const json& r) {
                                      return number(r, "request_time") >= 0.5 &&
                                             number(r, "request_length") > 8 * 1024;
                                    },
                                    {"502-mtu-blackhole"},
                                    "Only large requests fail, small ones and health checks pass."),
                                leaf("otherwise: at once", always,
                                     {"502-connection-refused", "502-backlog-full",
                                      "502-backend-closed-no-response", "502-backend-incomplete",
                                      "502-invalid-response"},
                                     "The record looks the same for all of them: a packet capture "
                                     "on the backend shows a refused SYN, an overflow reset, a FIN "
                                     "without an answer, a cut answer or a malformed one."),
                            }),
                 }),
      });
}

std::vector<std::string> record_reader::classify(const json& record,
                                                 std::vector<std::string>* path) const {
  const decision_node* n = &root_;
  while (!n->children.empty()) {
    const decision_node* next = nullptr;
    for (const auto& c : n->children) {
      if (c.applies(record)) {
        next = &c;
        break;
      }
    }
    if (!next) return {};
    if (path) path->push_back(next->answer);
    n = next;
  }
  return n->causes;
}

}  // namespace albsim::scenarios
