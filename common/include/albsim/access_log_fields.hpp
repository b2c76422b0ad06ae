// The fields of an access-log record as albsim writes them, in their order: the balancer's
// fields (../shared/ALB-FACTS.md) plus albsim's sim_cause and sim_detail. The proxy writes
// them, scenario expectations may name them, and diagnose reads a subset; one list keeps the
// three in step (tests check the proxy's output and diagnose's names against it).
#pragma once

#include <algorithm>
#include <array>
#include <string_view>

namespace albsim {

inline constexpr std::array<std::string_view, 32> k_access_log_fields{
    "__topic__",
    "time",
    "app_lb_id",
    "vip_addr",
    "slb_vport",
    "client_ip",
    "client_port",
    "scheme",
    "server_protocol",
    "request_method",
    "request_uri",
    "host",
    "http_host",
    "http_referer",
    "http_user_agent",
    "http_x_forwarded_for",
    "http_x_real_ip",
    "request_length",
    "status",
    "upstream_status",
    "upstream_addr",
    "request_time",
    "read_request_time",
    "write_response_time",
    "upstream_connect_time",
    "upstream_response_time",
    "body_bytes_sent",
    "tcpinfo_rtt",
    "ssl_protocol",
    "ssl_cipher",
    "sim_cause",
    "sim_detail",
};

constexpr bool is_access_log_field(std::string_view name) {
  return std::find(k_access_log_fields.begin(), k_access_log_fields.end(), name) !=
         k_access_log_fields.end();
}

}  // namespace albsim
