// Fills and writes the access-log records of one client connection (record_writer.hpp).
#include "record_writer.hpp"

#include "client_side.hpp"
#include "proxy_runtime.hpp"

namespace albsim::proxy {

namespace {
// The wall-clock time of a steady-clock instant. The offset between the clocks is re-read at
// most once a second per thread, which spares a clock read per request.
std::chrono::system_clock::time_point wall_time(std::chrono::steady_clock::time_point t) {
  thread_local std::chrono::steady_clock::time_point base_steady{};
  thread_local std::chrono::system_clock::time_point base_wall{};
  if (base_steady == std::chrono::steady_clock::time_point{} ||
      t - base_steady > std::chrono::seconds(1)) {
    base_steady = std::chrono::steady_clock::now();
    base_wall = std::chrono::system_clock::now();
  }
  return base_wall +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - base_steady);
}
}  // namespace

record_writer::record_writer(proxy_runtime& rt, const listener_endpoint& ep, client_side& client)
    : rt_(rt),
      ep_(ep),
      client_(client),
      https_(rt.config.listeners[ep.listener_index].protocol == listener_protocol::https) {}

void record_writer::start(access_log_record& r, clock::time_point first_byte) const {
  r.clear();
  r.time = wall_time(first_byte);
  r.app_lb_id.assign(rt_.config.instance.id);
  r.vip_addr.assign(ep_.vip);
  r.slb_vport = ep_.port;
  r.client_ip.assign(client_.ip());
  r.client_port = client_.port();
  r.https = https_;
  r.upstream_status.assign("-");
}

void record_writer::fill_request(access_log_record& r, const request_head& h) {
  r.request_method = h.method();
  r.request_uri = h.target();
  r.server_protocol = h.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  r.host = h.host();
  r.http_user_agent = h.user_agent();
  r.http_referer = h.referer();
  r.http_x_forwarded_for = h.x_forwarded_for();
  r.http_x_real_ip = h.x_real_ip();
}

void record_writer::apply(access_log_record& r, const decision& d) {
  r.status = d.status;
  r.upstream_status = d.upstream_status;
  r.sim_cause = d.cause;
  r.sim_detail = d.detail;
}

void record_writer::emit(exchange_state& x, clock::time_point now) {
  access_log_record& r = x.r;
  if (now == clock::time_point{}) now = clock::now();
  if (aborted_) r.sim_detail += "; interrupted because the balancer was stopping";
  r.request_time = std::chrono::duration<double>(now - x.start).count();
  r.tcpinfo_rtt = client_.tcpinfo_rtt(now);
  r.ssl_protocol = client_.ssl_protocol();
  r.ssl_cipher = client_.ssl_cipher();
  ++rt_.records;
  if (rt_.log) rt_.log->write(r.render_view());
  rt_.observe(r, x.head.forward_fields(), x.inj);  // the retry kit's journal and metrics
}

}  // namespace albsim::proxy
