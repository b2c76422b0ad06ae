// Health checks of one server group: every `interval`, each server of weight > 0 gets a TCP
// connect (tcp check) or a `HEAD path` whose status class must be one of the success classes
// (http check), bounded by `timeout`; the result goes to server_group::report_health.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "albsim/proxy/config.hpp"

namespace albsim::proxy {

class server_group;

class health_checker {
 public:
  // `group` must outlive every call to start() and stop(); after stop() returns the checker
  // never touches it again, even if the executor's threads are still running.
  health_checker(boost::asio::any_io_executor executor, server_group& group,
                 const health_check_config& config);
  ~health_checker();
  health_checker(const health_checker&) = delete;
  health_checker& operator=(const health_checker&) = delete;

  // Starts checking at once (the first check runs without waiting an interval).
  void start();
  // Cancels timers and closes sockets; idempotent, callable from any thread.
  void stop();

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace albsim::proxy
