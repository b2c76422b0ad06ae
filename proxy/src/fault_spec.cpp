// The cause table of fault injection: for every catalogue cause, how albsim produces it for
// real, or why a balancer-side injection cannot (docs/retry-kit.md). The backend actions are
// the catalogue scenarios' own (scenarios/catalogue/<ID>.yaml), so an injected cause writes
// the record its scenario expects.
#include "fault_spec.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "albsim/cause.hpp"
#include "albsim/cause_ids.hpp"

namespace albsim::proxy {
namespace {

using namespace cause_ids;

// A cause produced by a fault backend or by the balancer's own refusal.
struct injectable_row {
  std::string_view id;
  fault_route route;
  client_event event;  // balancer_reply
  fault_backend_kind backend;
  std::string_view action;  // for the action backend
  std::uint64_t min_body;
  std::string_view how;
};

constexpr fault_backend_kind k_action = fault_backend_kind::action;
constexpr client_event k_none = client_event::injection_refused;

constexpr injectable_row k_injectable[] = {
    {k_500_backend_reset, fault_route::fault_backend, k_none, k_action, "reset", 0,
     "the fault backend reads the request and resets the connection (a real RST)"},
    {k_502_backend_closed_no_response, fault_route::fault_backend, k_none, k_action, "close", 0,
     "the fault backend reads the request and closes (FIN) without answering"},
    {k_502_backend_incomplete, fault_route::fault_backend, k_none, k_action, "partial-header=20", 0,
     "the fault backend sends 20 bytes of a response header, then FIN"},
    {k_502_invalid_response, fault_route::fault_backend, k_none, k_action, "malformed-status", 0,
     "the fault backend sends a status line no parser accepts"},
    {k_502_backend_status_rewritten, fault_route::fault_backend, k_none, k_action, "status=444", 0,
     "the fault backend answers 444, which the balancer does not pass on"},
    {k_502_connection_refused, fault_route::fault_backend, k_none, fault_backend_kind::refuse, "",
     0, "the request goes to a port that is bound and never listens: the connect is refused"},
    {k_502_backlog_full, fault_route::fault_backend, k_none, fault_backend_kind::queue_full_reset,
     "", 0, "the request goes to a backend whose full accept queue resets new connections"},
    {k_504_connect_timeout, fault_route::fault_backend, k_none,
     fault_backend_kind::queue_full_silent, "", 0,
     "the request goes to a backend whose full accept queue drops SYNs: the connect times out "
     "after limits.upstream_connect_timeout"},
    {k_504_request_timeout, fault_route::fault_backend, k_none, k_action, "hang", 0,
     "the fault backend reads the request and never answers: the listener's request timeout "
     "fires"},
    {k_502_tcp_error, fault_route::fault_backend, k_none, k_action, "stop-reading=200ms",
     k_tcp_error_min_body,
     "the fault backend stops reading the upload and gives up: the RST meets the request being "
     "written (needs a request body of at least 16 MiB)"},
    {k_502_mtu_blackhole, fault_route::fault_backend, k_none, fault_backend_kind::mtu_blackhole, "",
     k_blackhole_bytes + 1,
     "the request goes to a backend whose link drops every request byte past 8 KiB, then "
     "resets (needs a request body over 8 KiB)"},
    {k_503_qps_limited, fault_route::balancer_reply, client_event::qps_limited, k_action, "", 0,
     "the balancer's QPS refusal, with ALB-QPS-Limited: Limited"},
    {k_503_single_vip, fault_route::balancer_reply, client_event::qps_limited, k_action, "", 0,
     "the balancer's refusal for a VIP whose share of the instance QPS limit is used up"},
    {k_503_no_backend, fault_route::balancer_reply, client_event::no_server, k_action, "", 0,
     "the balancer's refusal for a server group without servers"},
    {k_503_zero_weight, fault_route::balancer_reply, client_event::all_zero_weight, k_action, "", 0,
     "the balancer's refusal for a server group whose servers all have weight 0"},
};

// Causes a balancer-side injection cannot produce, and why.
struct client_only_row {
  std::string_view id;
  std::string_view why;
};

constexpr std::string_view k_client_sends = "only the client can produce it: ";

constexpr client_only_row k_client_only[] = {
    {k_400_header_too_large, "send a header line over 32 KiB"},
    {k_400_content_length_mismatch, "send a body longer or shorter than its Content-Length"},
    {k_400_invalid_header, "send a malformed request head"},
    {k_400_http_to_https, "send plain HTTP to the HTTPS listener"},
    {k_400_client_closed_early, "close the connection before the request is complete"},
    {k_405_trace, "send a TRACE request"},
    {k_408_request_incomplete, "stop sending before the request is complete"},
    {k_408_client_slow_link, "send the request over a slow client link (listener client_link)"},
    {k_408_bandwidth_throttled, "upload under the instance bandwidth cap"},
    {k_414_uri_too_long, "send a request target over 32 KiB"},
    {k_463_forwarding_loop, "send ALICLOUD-ALB-TRACE entries of this rule"},
    {k_499_client_slow_link, "leave early over a slow client link"},
    {k_499_bandwidth_throttled, "leave while the bandwidth cap holds the answer back"},
    {k_499_backend_slow,
     "close the connection while waiting; make the backend slow with "
     "'backend-returned; status=200; delay=5s'"},
    {k_499_client_timeout_too_short,
     "time out before the backend's usual latency; make the backend slow with "
     "'backend-returned; status=200; delay=5s'"},
    {k_499_client_aborted, "close the connection right after sending the request"},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

fault_spec refused(fault_spec s, std::string why) {
  s.route = fault_route::refused;
  s.why_not = std::move(why);
  return s;
}

// "250ms", "2s", "1.5s", "100us", "1m": the backend grammar's durations (checked again there).
bool valid_duration(std::string_view v) {
  std::size_t i = 0;
  bool digits = false, dot = false;
  for (; i < v.size(); ++i) {
    if (v[i] >= '0' && v[i] <= '9') {
      digits = true;
    } else if (v[i] == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  const std::string_view unit = v.substr(i);
  return digits && (unit.empty() || unit == "s" || unit == "ms" || unit == "us" || unit == "m");
}

std::optional<int> parse_int(std::string_view v, int lo, int hi) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < lo || n > hi) return std::nullopt;
  return n;
}

// The status a "<N>-backend-returned" ID names; 0 when it is not one.
int backend_returned_status(std::string_view id) {
  constexpr std::string_view suffix = "-backend-returned";
  if (id.size() != 3 + suffix.size() || id.substr(3) != suffix) return 0;
  return parse_int(id.substr(0, 3), 100, 599).value_or(0);
}

}  // namespace

fault_spec parse_cause_spec(std::string_view text) {
  fault_spec s;
  s.text = std::string(trim(text));
  std::vector<std::string_view> parts;
  for (std::string_view rest = text;;) {
    std::size_t semi = rest.find(';');
    parts.push_back(trim(rest.substr(0, semi)));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  const std::string_view id = parts.front();
  s.cause = std::string(id);
  if (id.empty()) return refused(s, "the header names no cause");

  // Parameters first, so that a typo is reported whatever the cause.
  std::optional<std::string_view> delay;
  std::optional<int> status;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view p = parts[i];
    if (p.empty()) continue;
    const std::size_t eq = p.find('=');
    const std::string_view key = trim(p.substr(0, eq));
    const std::string_view value = eq == std::string_view::npos ? "" : trim(p.substr(eq + 1));
    if (key == "delay") {
      if (!valid_duration(value))
        return refused(s, "delay='" + std::string(value) + "' is no duration (e.g. 250ms, 2s)");
      delay = value;
    } else if (key == "status") {
      status = parse_int(value, 200, 599);  // a final status: a 1xx is interim
      if (!status)
        return refused(s, "status='" + std::string(value) + "' is no final status 200-599");
    } else if (key == "retry-after") {
      auto seconds = parse_int(value, 0, 86400);
      if (!seconds)
        return refused(s, "retry-after='" + std::string(value) + "' is no number of seconds");
      s.retry_after = static_cast<std::uint32_t>(*seconds);
    } else {
      return refused(
          s, "unknown parameter '" + std::string(key) + "' (allowed: delay, status, retry-after)");
    }
  }

  // A status the backend sends: "<N>-backend-returned", or "backend-returned; status=N" for a
  // status the catalogue has no ID for (the record's sim_cause is then the outcome table's).
  int returned = backend_returned_status(id);
  if (id == "backend-returned") {
    if (!status) return refused(s, "backend-returned needs status=N");
    returned = *status;
  } else if (returned && status && *status != returned) {
    return refused(s, std::string(id) + " returns " + std::to_string(returned) +
                          ", not status=" + std::to_string(*status));
  }
  if (returned) {
    s.route = fault_route::fault_backend;
    s.backend = fault_backend_kind::action;
    s.action = "status=" + std::to_string(returned);
    if (delay) s.action.append(",delay=").append(*delay);
    if (s.retry_after) s.action.append(",header=Retry-After:" + std::to_string(*s.retry_after));
    return s;
  }
  if (s.retry_after) return refused(s, "retry-after applies to a status the backend returns");

  for (const auto& row : k_injectable) {
    if (row.id != id) continue;
    if (status && row.id != k_502_backend_status_rewritten)
      return refused(s, std::string(id) + " takes no status parameter");
    s.route = row.route;
    s.event = row.event;
    s.vip_share = row.id == k_503_single_vip;
    s.backend = row.backend;
    s.min_body = row.min_body;
    if (row.backend == fault_backend_kind::action && row.route == fault_route::fault_backend) {
      s.action = status ? "status=" + std::to_string(*status) : std::string(row.action);
      if (delay) s.action.append(",delay=").append(*delay);
    } else if (delay) {
      return refused(s, std::string(id) + " takes no delay (the balancer's own timing decides)");
    }
    return s;
  }
  for (const auto& row : k_client_only) {
    if (row.id == id)
      return refused(s,
                     std::string(id) + ": " + std::string(k_client_sends) + std::string(row.why));
  }
  if (id == k_cause_ok || id == "ok-https")
    return refused(s, "'ok' is no fault: send the request without the header");
  return refused(s, "'" + std::string(id) + "' is no catalogue cause (albsim scenarios list)");
}

fault_spec parse_plan_step(std::string_view text) {
  const std::string_view t = trim(text);
  if (t == k_cause_ok) {
    fault_spec s;
    s.text = std::string(t);
    s.route = fault_route::pass;
    return s;
  }
  constexpr std::string_view backend_prefix = "backend:";
  if (t.substr(0, backend_prefix.size()) == backend_prefix) {
    fault_spec s;
    s.text = std::string(t);
    s.route = fault_route::fault_backend;
    s.backend = fault_backend_kind::action;
    s.action = std::string(trim(t.substr(backend_prefix.size())));
    if (s.action.empty()) return refused(s, "'backend:' needs an action (docs/backend.md)");
    return s;
  }
  return parse_cause_spec(t);
}

std::vector<cause_injectability> injectability_of_catalogue() {
  std::vector<cause_injectability> out;
  for (const auto& c : cause_catalogue()) {
    cause_injectability row{c.id, false, ""};
    for (const auto& r : k_injectable) {
      if (r.id == c.id) row = {c.id, true, std::string(r.how)};
    }
    if (const int status = backend_returned_status(c.id)) {
      row = {c.id, true,
             "the fault backend answers " + std::to_string(status) +
                 " (delay= and retry-after= apply)"};
    }
    for (const auto& r : k_client_only) {
      if (r.id == c.id) row = {c.id, false, std::string(k_client_sends) + std::string(r.why)};
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace albsim::proxy
