#include "albsim/cause.hpp"

#include <array>

namespace albsim {
namespace {

constexpr std::array k_catalogue{
    cause_info{"400-backend-returned", 400,
               "the backend itself answered 400; the balancer passed it on"},
    cause_info{"400-header-too-large", 400, "one request header line is longer than 32 KiB"},
    cause_info{"400-content-length-mismatch", 400,
               "the request's length cannot be trusted (Content-Length, or a broken chunk)"},
    cause_info{"400-invalid-header", 400,
               "the request head is malformed (request line, fields, Host, Transfer-Encoding)"},
    cause_info{"400-http-to-https", 400, "plain-text HTTP was sent to an HTTPS listener"},
    cause_info{"400-client-closed-early", 400,
               "the client closed the connection before its request was complete"},
    cause_info{"405-backend-returned", 405, "the backend refused the method with 405"},
    cause_info{"405-trace", 405, "the balancer refuses the TRACE method"},
    cause_info{"408-request-incomplete", 408,
               "the announced body did not arrive within the request timeout"},
    cause_info{"408-client-slow-link", 408,
               "a slow, lossy client link made the request arrive too late"},
    cause_info{"408-bandwidth-throttled", 408,
               "the instance's bandwidth cap slowed the upload past the request timeout"},
    cause_info{"414-backend-returned", 414, "the backend itself answered 414"},
    cause_info{"414-uri-too-long", 414, "the request target is longer than 32 KiB"},
    cause_info{"463-forwarding-loop", 463,
               "the request came back through the same forwarding rule (a loop)"},
    cause_info{"499-client-slow-link", 499,
               "a slow client link delayed the answer and the client gave up"},
    cause_info{"499-bandwidth-throttled", 499,
               "the bandwidth cap slowed the answer and the client gave up"},
    cause_info{"499-backend-slow", 499,
               "the backend answered slower than the client was willing to wait"},
    cause_info{"499-client-timeout-too-short", 499,
               "the client's own timeout is shorter than normal backend latency"},
    cause_info{"499-client-aborted", 499,
               "the client sent its request and closed before the answer"},
    cause_info{"500-backend-returned", 500, "the backend itself answered 500"},
    cause_info{"500-backend-reset", 500,
               "the backend reset the connection (TCP RST) before answering"},
    cause_info{"502-backend-returned", 502, "the backend itself answered 502"},
    cause_info{"502-backend-closed-no-response", 502,
               "the backend closed cleanly (FIN) without answering, like nginx's 444"},
    cause_info{"502-backend-status-rewritten", 502,
               "the backend answered a status the balancer does not pass on (444 by default)"},
    cause_info{"502-connection-refused", 502,
               "nothing listens on the backend port: the connect was refused"},
    cause_info{"502-tcp-error", 502,
               "the TCP connection to the backend broke before the request was delivered"},
    cause_info{"502-backlog-full", 502,
               "the backend's accept queue overflowed and reset the connection"},
    cause_info{"502-mtu-blackhole", 502,
               "large packets vanish on the backend link (path-MTU blackhole)"},
    cause_info{"502-invalid-response", 502, "the backend's status line or headers are malformed"},
    cause_info{"502-backend-incomplete", 502,
               "the backend sent part of its response header, then closed"},
    cause_info{"503-backend-returned", 503, "the backend itself answered 503"},
    cause_info{"503-qps-limited", 503, "the request exceeded a QPS limit and was throttled"},
    cause_info{"503-single-vip", 503,
               "a client pinned to one VIP exhausted that VIP's share of the QPS limit"},
    cause_info{"503-no-backend", 503, "the server group has no servers"},
    cause_info{"503-zero-weight", 503, "every server in the group has weight 0"},
    cause_info{"504-backend-returned", 504, "the backend itself answered 504"},
    cause_info{"504-connect-timeout", 504,
               "the backend did not complete the TCP handshake within the connect timeout"},
    cause_info{"504-request-timeout", 504,
               "the backend did not answer within the listener's request timeout"},
};

}  // namespace

std::span<const cause_info> cause_catalogue() { return k_catalogue; }

const cause_info* find_cause(std::string_view id) {
  for (const auto& c : k_catalogue) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace albsim
