// Starting and stopping the simulated balancer: one worker thread per configured worker, each
// with its own io_context, upstream pool and a SO_REUSEPORT acceptor for every listener on
// every VIP (the kernel spreads connections over the workers; nothing is shared on the data
// path but the QPS buckets and the server groups).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cmath>
#include <stdexcept>
#include <thread>

#include "admin_server.hpp"
#include "albsim/log_throttle.hpp"
#include "albsim/ops_log.hpp"
#include "albsim/proxy/proxy_server.hpp"
#include "client_session.hpp"
#include "client_transport.hpp"
#include "health_checker.hpp"
#include "proxy_runtime.hpp"
#include "worker.hpp"

namespace albsim::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

class proxy_server_impl final : public proxy_server {
 public:
  proxy_server_impl(proxy_config config, std::shared_ptr<access_log_sink> log,
                    std::shared_ptr<fault_ledger> ledger)
      : rt_(std::move(config)) {
    rt_.log = std::move(log);
    rt_.ledger = std::move(ledger);
    // The fault backends of fault injection note what they break here too.
    if (!rt_.ledger) rt_.ledger = std::make_shared<fault_ledger>();
    const auto& cfg = rt_.config;
    for (const auto& l : cfg.listeners) {
      rt_.tls.push_back(l.protocol == listener_protocol::https
                            ? make_server_tls_context(l.certificate_file, l.private_key_file)
                            : nullptr);
    }
    const std::uint32_t n = std::max<std::uint32_t>(1, cfg.worker_threads);
    for (std::uint32_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<worker>(rt_));
    bind_all();
    for (std::size_t g = 0; g < rt_.groups.size(); ++g) {
      if (!cfg.server_groups[g].health_check.enabled) continue;
      checkers_.push_back(std::make_unique<health_checker>(
          workers_[0]->ioc.get_executor(), *rt_.groups[g], cfg.server_groups[g].health_check));
      checkers_.back()->start();
    }
    if (cfg.admin.enabled) admin_ = std::make_unique<admin_server>(rt_);
    for (auto& w : workers_) {
      threads_.emplace_back([wp = w.get()] {
        auto guard = asio::make_work_guard(wp->ioc);
        wp->ioc.run();
      });
    }
  }

  ~proxy_server_impl() override { stop(); }

  std::vector<bound_listener> listeners() const override { return bound_; }
  std::uint16_t admin_port() const override { return admin_ ? admin_->port() : 0; }

  proxy_counters counters() const override {
    return {rt_.connections.load(), rt_.requests.load(), rt_.records.load()};
  }

  // Stops gracefully: no new connections; idle ones close; requests in progress get up to
  // k_shutdown_grace to finish, then are interrupted (and still logged); then the threads end.
  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (admin_) admin_->stop();
    for (auto& slot : acceptors_) {
      asio::post(slot.owner->ioc, [a = slot.acceptor.get()] {
        error_code ec;
        a->close(ec);
      });
    }
    for (auto& w : workers_) {
      asio::post(w->ioc, [wp = w.get()] {
        for (auto* s : std::vector<session_control*>(wp->sessions.begin(), wp->sessions.end()))
          s->drain();
      });
    }
    if (!wait_for_sessions(k_shutdown_grace)) {
      for (auto& w : workers_) {
        asio::post(w->ioc, [wp = w.get()] {
          for (auto* s : std::vector<session_control*>(wp->sessions.begin(), wp->sessions.end()))
            s->abort();
        });
      }
      wait_for_sessions(std::chrono::seconds(2));
    }
    for (auto& c : checkers_) c->stop();
    for (auto& w : workers_) w->ioc.stop();
    for (auto& t : threads_) t.join();
    for (auto& w : workers_) w->pool.clear();
    for (auto& w : workers_) {
      for (auto* s : std::vector<session_control*>(w->sessions.begin(), w->sessions.end()))
        s->destroy_stranded();
    }
    // Destroying the io_contexts destroys the suspended sessions; then flush the log.
    acceptors_.clear();
    checkers_.clear();
    workers_.clear();
    rt_.injector.stop();
    if (rt_.log) rt_.log->flush();
  }

 private:
  static constexpr std::chrono::seconds k_shutdown_grace{5};
  // After a failed accept (descriptors exhausted): how long to wait before trying again.
  static constexpr std::chrono::milliseconds k_accept_pause{10};

  bool wait_for_sessions(std::chrono::milliseconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (rt_.live_sessions.load() > 0) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a bounded wait
    }
    return true;
  }

  struct acceptor_slot {
    std::unique_ptr<tcp::acceptor> acceptor;
    listener_endpoint endpoint;
    worker* owner;
  };

  void bind_all() {
    const auto& cfg = rt_.config;
    for (std::size_t li = 0; li < cfg.listeners.size(); ++li) {
      const auto& l = cfg.listeners[li];
      for (std::size_t vi = 0; vi < cfg.instance.vips.size(); ++vi) {
        const std::string& vip = cfg.instance.vips[vi];
        std::uint16_t port = l.port;
        for (auto& w : workers_) {
          error_code ec;
          auto address = asio::ip::make_address(vip, ec);
          if (ec)
            throw std::runtime_error("listener " + l.name + ": bad VIP address '" + vip + "'");
          tcp::endpoint ep(address, port);
          auto a = std::make_unique<tcp::acceptor>(w->ioc);
          a->open(ep.protocol(), ec);
          if (!ec) a->set_option(asio::socket_base::reuse_address(true), ec);
          if (!ec) {
            int one = 1;
            ::setsockopt(a->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
          }
          if (!ec) a->bind(ep, ec);
          if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
          if (ec) {
            throw std::runtime_error("listener " + l.name + ": cannot listen on " + vip + ":" +
                                     std::to_string(port) + ": " + ec.message());
          }
          port = a->local_endpoint().port();
          listener_endpoint le{li, vi, vip, port};
          acceptors_.push_back({std::move(a), le, w.get()});
        }
        bound_.push_back({l.name, l.protocol, vip, port});
        rt_.metrics.name_listener(port, l.name);
      }
    }
    for (auto& slot : acceptors_) {
      asio::co_spawn(slot.owner->ioc, accept_loop(slot), asio::detached);
    }
  }

  asio::awaitable<void> accept_loop(acceptor_slot& slot) {
    for (;;) {
      auto [ec, socket] = co_await slot.acceptor->async_accept(slot.owner->ioc, nothrow);
      if (ec == asio::error::operation_aborted || !slot.acceptor->is_open()) co_return;
      if (ec) {
        // Out of descriptors or similar: say so at most once a second (every acceptor shares
        // one throttle) and back off briefly instead of spinning; the pending connections wait
        // in the listen queue and are accepted once descriptors free up.
        std::uint64_t held = 0;
        if (accept_errors_.allow(held)) {
          ops_log().warn("listener {}: accept failed: {} ({} more since the last report)",
                         rt_.config.listeners[slot.endpoint.listener_index].name, ec.message(),
                         held);
        }
        asio::steady_timer t(slot.owner->ioc, k_accept_pause);
        co_await t.async_wait(nothrow);
        continue;
      }
      start_client_session(rt_, *slot.owner, slot.endpoint, std::move(socket));
    }
  }

  proxy_runtime rt_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<acceptor_slot> acceptors_;
  std::vector<std::unique_ptr<health_checker>> checkers_;
  std::unique_ptr<admin_server> admin_;
  std::vector<std::thread> threads_;
  std::vector<bound_listener> bound_;
  bool stopped_ = false;
  log_throttle accept_errors_;
};

}  // namespace

std::unique_ptr<proxy_server> proxy_server::start(proxy_config config,
                                                  std::shared_ptr<access_log_sink> log,
                                                  std::shared_ptr<fault_ledger> ledger) {
  return std::make_unique<proxy_server_impl>(std::move(config), std::move(log), std::move(ledger));
}

}  // namespace albsim::proxy
