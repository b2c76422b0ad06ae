#include "health_checker.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "albsim/ops_log.hpp"
#include "server_group.hpp"

namespace albsim::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t k_max_status_line = 4096;  // bound on what a check reads

// "HTTP/1.1 200 OK\r\n" -> 200; 0 when it is not a status line.
int parse_status(const std::string& line) {
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ') return 0;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    status = status * 10 + (line[i] - '0');
  }
  return status;
}

}  // namespace

// Everything a check touches lives here, shared by the handlers, so that a handler running after
// the health_checker is gone finds valid memory; all of it runs on one strand.
struct health_checker::state : std::enable_shared_from_this<state> {
  struct probe {
    int index;
    tcp::endpoint endpoint;
    std::string request;  // http checks: the whole request
    tcp::socket socket;
    asio::steady_timer timer;  // the check's timeout, then the wait for the next check
    std::string response;
    std::uint64_t attempt = 0;  // tells a stale timer expiry from the current one
    asio::steady_timer::time_point started;
  };

  state(asio::any_io_executor ex, server_group& g, const health_check_config& c)
      : strand(asio::make_strand(ex)), group(g), config(c) {}

  void begin(probe& p) {
    if (stopped) return;
    ++p.attempt;
    p.started = asio::steady_timer::clock_type::now();
    p.response.clear();
    error_code ignored;
    p.socket.close(ignored);
    p.timer.expires_after(config.timeout);
    p.timer.async_wait([self = shared_from_this(), &p, attempt = p.attempt](error_code ec) {
      // The timeout fired: closing the socket makes the pending operation fail.
      if (!ec && attempt == p.attempt && !self->stopped) {
        error_code ignored;
        p.socket.close(ignored);
      }
    });
    p.socket.async_connect(p.endpoint, [self = shared_from_this(), &p](error_code ec) {
      if (ec || self->config.protocol == health_check_protocol::tcp) {
        self->finish(p, !ec);
        return;
      }
      self->send(p);
    });
  }

  void send(probe& p) {
    asio::async_write(p.socket, asio::buffer(p.request),
                      [self = shared_from_this(), &p](error_code ec, std::size_t) {
                        if (ec) return self->finish(p, false);
                        self->read_status(p);
                      });
  }

  void read_status(probe& p) {
    asio::async_read_until(p.socket, asio::dynamic_buffer(p.response, k_max_status_line), "\r\n",
                           [self = shared_from_this(), &p](error_code ec, std::size_t) {
                             self->finish(p, !ec && self->status_ok(parse_status(p.response)));
                           });
  }

  bool status_ok(int status) const {
    for (int cls : config.success_classes) {
      if (status / 100 == cls) return true;
    }
    return false;
  }

  void finish(probe& p, bool success) {
    if (stopped) return;
    error_code ignored;
    p.socket.close(ignored);
    {
      std::lock_guard lock(report_mutex);
      if (stopped_for_reports) return;
      const bool was_healthy = group.healthy(p.index);
      group.report_health(p.index, success);
      const bool healthy = group.healthy(p.index);
      if (healthy != was_healthy) {
        // The threshold was just crossed: one line per change, never one per check.
        ops_log().log(healthy ? spdlog::level::info : spdlog::level::warn,
                      "server group {}: {}:{} is now {} ({} {} checks in a row)", group.name(),
                      p.endpoint.address().to_string(), p.endpoint.port(),
                      healthy ? "healthy" : "unhealthy",
                      healthy ? config.healthy_threshold : config.unhealthy_threshold,
                      healthy ? "passed" : "failed");
      }
    }
    ++p.attempt;  // any timeout still queued is now stale
    p.timer.expires_at(p.started + config.interval);
    p.timer.async_wait([self = shared_from_this(), &p](error_code ec) {
      if (!ec) self->begin(p);
    });
  }

  void halt() {
    stopped = true;
    for (auto& p : probes) {
      error_code ignored;
      p->timer.cancel();
      p->socket.close(ignored);
    }
  }

  asio::strand<asio::any_io_executor> strand;
  server_group& group;
  const health_check_config config;
  std::vector<std::unique_ptr<probe>> probes;
  bool stopped = false;  // strand only
  // Guards the one call that reaches outside (report_health), so stop() can promise that the
  // group is never touched after it returns.
  std::mutex report_mutex;
  bool stopped_for_reports = false;
};

health_checker::health_checker(asio::any_io_executor executor, server_group& group,
                               const health_check_config& config)
    : state_(std::make_shared<state>(std::move(executor), group, config)) {
  if (!config.enabled) return;  // every server stays healthy
  for (std::size_t i = 0; i < group.size(); ++i) {
    const server_config& s = group.server(static_cast<int>(i));
    if (s.weight == 0) continue;  // weight 0: no traffic, so no checks [S]
    error_code ec;
    auto address = asio::ip::make_address(s.address, ec);
    if (ec) continue;  // the loader accepts only IP addresses
    auto p = std::make_unique<state::probe>(state::probe{static_cast<int>(i),
                                                         tcp::endpoint(address, s.port),
                                                         "",
                                                         tcp::socket(state_->strand),
                                                         asio::steady_timer(state_->strand),
                                                         "",
                                                         0,
                                                         {}});
    if (config.protocol == health_check_protocol::http) {
      p->request = config.method + " " + config.path +
                   " HTTP/1.1\r\nHost: " + (config.host.empty() ? s.address : config.host) +
                   "\r\nUser-Agent: albsim-health-check\r\nConnection: close\r\n\r\n";
    }
    state_->probes.push_back(std::move(p));
  }
}

health_checker::~health_checker() { stop(); }

void health_checker::start() {
  asio::post(state_->strand, [self = state_] {
    for (auto& p : self->probes) self->begin(*p);
  });
}

void health_checker::stop() {
  {
    std::lock_guard lock(state_->report_mutex);
    if (state_->stopped_for_reports) return;
    state_->stopped_for_reports = true;
  }
  asio::post(state_->strand, [self = state_] { self->halt(); });
}

}  // namespace albsim::proxy
