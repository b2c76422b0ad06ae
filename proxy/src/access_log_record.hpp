// One access-log record: the balancer's fields (names and units as in ALB-FACTS.md) plus
// sim_cause / sim_detail. Filled in by the client session as the exchange goes, rendered once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace albsim::proxy {

struct access_log_record {
  std::chrono::system_clock::time_point time;  // when the request's first byte arrived
  std::string app_lb_id;
  std::string vip_addr;
  std::uint16_t slb_vport = 0;
  std::string client_ip;
  std::uint16_t client_port = 0;
  bool https = false;
  std::string server_protocol = "HTTP/1.1";
  std::string request_method;
  std::string request_uri;
  std::string host;
  std::string http_referer;
  std::string http_user_agent;
  std::string http_x_forwarded_for;
  std::string http_x_real_ip;
  std::uint64_t request_length = 0;
  int status = 0;
  std::string upstream_status;  // "-" or digits
  std::string upstream_addr;
  double request_time = 0;                       // s
  std::optional<double> read_request_time;       // ms
  std::optional<double> write_response_time;     // ms
  std::optional<double> upstream_connect_time;   // s
  std::optional<double> upstream_response_time;  // s
  std::uint64_t body_bytes_sent = 0;
  std::optional<std::uint64_t> tcpinfo_rtt;  // µs
  std::string ssl_protocol;
  std::string ssl_cipher;
  std::string sim_cause;
  std::string sim_detail;

  // Back to an empty record, keeping the strings' memory (a connection reuses one record).
  void clear() {
    for (auto* s :
         {&app_lb_id, &vip_addr, &client_ip, &request_method, &request_uri, &host, &http_referer,
          &http_user_agent, &http_x_forwarded_for, &http_x_real_ip, &upstream_status,
          &upstream_addr, &ssl_protocol, &ssl_cipher, &sim_cause, &sim_detail})
      s->clear();
    server_protocol.assign("HTTP/1.1");
    time = {};
    slb_vport = client_port = 0;
    https = false;
    request_length = body_bytes_sent = 0;
    status = 0;
    request_time = 0;
    read_request_time = write_response_time = upstream_connect_time = upstream_response_time =
        std::nullopt;
    tcpinfo_rtt = std::nullopt;
  }

  // One JSON object, no newline. Empty strings and empty optionals are written as "-".
  std::string render() const;
  // The same, in a buffer of the calling thread's that the next call on this thread reuses
  // (no allocation once the buffer has grown).
  std::string_view render_view() const;
};

}  // namespace albsim::proxy
