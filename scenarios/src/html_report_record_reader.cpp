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
  auto unrouted = [](const json& r) { return text(r, "upstream_addr") == "-"; };
  auto upstream_is = [](std::string v) {
    return [v](const json& r) { return text(r, "upstream_status") == v; };
  };
  auto slow_link = [](const json& r) { return number(r, "tcpinfo_rtt") >= k_slow_rtt_us; };
  // A 4xx the balancer refuses itself never names a backend; one that does came from it.
  auto own_or_relayed = [&](int status, std::vector<decision_node> own) {
    return branch(
        std::to_string(status), status_is(status), "Is upstream_addr \"-\"?",
        {
            own.size() == 1 ? leaf("yes: refused before choosing a backend", unrouted,
                                   own.front().causes, own.front().hint)
                            : branch("yes: refused before choosing a backend", unrouted,
                                     "What did the balancer receive?", std::move(own)),
            leaf("no: the backend answered it, the balancer relayed it", always,
                 {std::to_string(status) + "-backend-returned"}, "The backend's own logs say why."),
        });
  };

  root_ = branch(
      "", always, "What is the status?",
      {
          own_or_relayed(
              400,
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
                  leaf("otherwise: the request's form was invalid", always,
                       {"400-content-length-mismatch", "400-invalid-header"},
                       "The request itself (a capture, or the client's code) shows whether the "
                       "body's framing or a header line was at fault."),
              }),
          own_or_relayed(405, {leaf("", always, {"405-trace"})}),
          own_or_relayed(414, {leaf("", always, {"414-uri-too-long"})}),
          branch(
              "408: the request did not arrive in time", status_is(408),
              "How fast was the client's link?",
              {
                  leaf("tcpinfo_rtt is 100 ms or more", slow_link, {"408-client-slow-link"}),
                  leaf("otherwise", always, {"408-request-incomplete", "408-bandwidth-throttled"},
                       "A large request_length with the instance's inbound bandwidth at its "
                       "cap means throttling; one little longer than the request head means "
                       "the client stopped sending."),
              }),
          leaf("463", status_is(463), {"463-forwarding-loop"}),
          branch("499: the client closed before the answer (only logged)", status_is(499),
                 "What do upstream_status, the timings and the sizes say?",
                 {
                     leaf(
                         "upstream_status is the backend's (not 499) and body_bytes_sent > 0: the "
                         "answer was on its way",
                         [](const json& r) {
                           auto u = text(r, "upstream_status");
                           return u != "-" && u != "499" && number(r, "body_bytes_sent") > 0;
                         },
                         {"499-bandwidth-throttled"},
                         "Compare the response size with the instance's bandwidth metric."),
                     leaf("tcpinfo_rtt is 100 ms or more: a slow client link", slow_link,
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
          branch("500", status_is(500), "Is upstream_status 500 too?",
                 {
                     leaf("yes: the backend's own 500, relayed", upstream_is("500"),
                          {"500-backend-returned"}),
                     leaf("no: the backend aborted the exchange (no status came back)", always,
                          {"500-backend-reset"}),
                 }),
          branch(
              "502", status_is(502), "What is upstream_status?",
              {
                  branch("\"-\": the request never reached the backend", upstream_is("-"),
                         "How long did it take, and how large was it?",
                         {
                             leaf(
                                 "request_time ≥ 0.5 s with a large request_length",
                                 [](const json& r) {
                                   return number(r, "request_time") >= 0.5 &&
                                          number(r, "request_length") > 8 * 1024;
                                 },
                                 {"502-mtu-blackhole"},
                                 "Only large requests fail; small ones and health checks pass."),
                             leaf("otherwise: at once", always,
                                  {"502-connection-refused", "502-backlog-full", "502-tcp-error"},
                                  "A capture on the backend shows a SYN answered by RST (nothing "
                                  "listens), an overflow reset (netstat -s), or a connection that "
                                  "broke before the request went through."),
                         }),
                  leaf("502: the backend was reached but gave no usable answer, or answered 502",
                       upstream_is("502"),
                       {"502-backend-returned", "502-backend-closed-no-response",
                        "502-backend-incomplete", "502-invalid-response"},
                       "The backend's logs show whether it answered 502 itself; a capture shows "
                       "a FIN without an answer, a cut answer or a malformed one."),
                  leaf("another status (e.g. 444): one the balancer does not pass on", always,
                       {"502-backend-status-rewritten"}),
              }),
          branch(
              "503", status_is(503), "Is upstream_addr \"-\"?",
              {
                  leaf("yes: refused before choosing a backend", unrouted,
                       {"503-qps-limited", "503-single-vip", "503-no-backend", "503-zero-weight"},
                       "The response header ALB-QPS-Limited: Limited means throttling (per "
                       "VIP when only one VIP is used); without it, look at the server group: "
                       "no servers, or every weight 0."),
                  leaf("no: the backend's own 503, relayed", always, {"503-backend-returned"}),
              }),
          branch("504", status_is(504), "Is upstream_connect_time about 5 s?",
                 {
                     leaf("yes: the handshake never completed",
                          [](const json& r) {
                            return number(r, "upstream_connect_time") >= k_connect_timeout_s;
                          },
                          {"504-connect-timeout"}),
                     leaf("no: connected", always, {"504-request-timeout", "504-backend-returned"},
                          "upstream_response_time equal to the listener's request timeout means "
                          "the balancer gave up waiting; a shorter one is the backend's own 504."),
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
