// The catalogue's cause IDs as named constants: the outcome table, the backend, the scenarios
// and the tests use these, so that `grep -r k_502_backlog_full` (or the ID itself, which stands
// here once) finds every place that decides or expects a cause. common/src/cause.cpp gives each
// its status and title.
#pragma once

#include <string_view>

namespace albsim::cause_ids {

inline constexpr std::string_view k_400_backend_returned = "400-backend-returned";
inline constexpr std::string_view k_400_header_too_large = "400-header-too-large";
inline constexpr std::string_view k_400_content_length_mismatch = "400-content-length-mismatch";
inline constexpr std::string_view k_400_invalid_header = "400-invalid-header";
inline constexpr std::string_view k_400_http_to_https = "400-http-to-https";
inline constexpr std::string_view k_400_client_closed_early = "400-client-closed-early";
inline constexpr std::string_view k_405_backend_returned = "405-backend-returned";
inline constexpr std::string_view k_405_trace = "405-trace";
inline constexpr std::string_view k_408_request_incomplete = "408-request-incomplete";
inline constexpr std::string_view k_408_client_slow_link = "408-client-slow-link";
inline constexpr std::string_view k_408_bandwidth_throttled = "408-bandwidth-throttled";
inline constexpr std::string_view k_414_backend_returned = "414-backend-returned";
inline constexpr std::string_view k_414_uri_too_long = "414-uri-too-long";
inline constexpr std::string_view k_463_forwarding_loop = "463-forwarding-loop";
inline constexpr std::string_view k_499_client_slow_link = "499-client-slow-link";
inline constexpr std::string_view k_499_bandwidth_throttled = "499-bandwidth-throttled";
inline constexpr std::string_view k_499_backend_slow = "499-backend-slow";
inline constexpr std::string_view k_499_client_timeout_too_short = "499-client-timeout-too-short";
inline constexpr std::string_view k_499_client_aborted = "499-client-aborted";
inline constexpr std::string_view k_500_backend_returned = "500-backend-returned";
inline constexpr std::string_view k_500_backend_reset = "500-backend-reset";
inline constexpr std::string_view k_502_backend_returned = "502-backend-returned";
inline constexpr std::string_view k_502_backend_closed_no_response =
    "502-backend-closed-no-response";
inline constexpr std::string_view k_502_backend_status_rewritten = "502-backend-status-rewritten";
inline constexpr std::string_view k_502_connection_refused = "502-connection-refused";
inline constexpr std::string_view k_502_tcp_error = "502-tcp-error";
inline constexpr std::string_view k_502_backlog_full = "502-backlog-full";
inline constexpr std::string_view k_502_mtu_blackhole = "502-mtu-blackhole";
inline constexpr std::string_view k_502_invalid_response = "502-invalid-response";
inline constexpr std::string_view k_502_backend_incomplete = "502-backend-incomplete";
inline constexpr std::string_view k_503_backend_returned = "503-backend-returned";
inline constexpr std::string_view k_503_qps_limited = "503-qps-limited";
inline constexpr std::string_view k_503_single_vip = "503-single-vip";
inline constexpr std::string_view k_503_no_backend = "503-no-backend";
inline constexpr std::string_view k_503_zero_weight = "503-zero-weight";
inline constexpr std::string_view k_504_backend_returned = "504-backend-returned";
inline constexpr std::string_view k_504_connect_timeout = "504-connect-timeout";
inline constexpr std::string_view k_504_request_timeout = "504-request-timeout";

}  // namespace albsim::cause_ids
