// health_checker against a tiny loopback server written here: HTTP checks see the status the
// server is told to answer, TCP checks see refused connects, a silent server runs into the
// timeout, weight-0 servers are left alone, and stop() is prompt.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "health_checker.hpp"
#include "raw_client.hpp"
#include "server_group.hpp"

namespace albsim::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using albsim::test::eventually;
using boost::system::error_code;

// Answers every request with `status` (or, when `silent`, reads it and never answers).
class status_server {
 public:
  explicit status_server(asio::io_context& ioc)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void close() {
    asio::post(acceptor_.get_executor(), [this] { acceptor_.close(); });
  }

  std::atomic<int> status{200};
  std::atomic<bool> silent{false};
  std::atomic<int> connections{0};
  std::atomic<int> requests{0};
  std::string first_request() {
    std::lock_guard lock(mutex_);
    return first_request_;
  }

 private:
  struct connection {
    explicit connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string buffer;
    std::string reply;
  };

  void accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections;
      serve(std::make_shared<connection>(std::move(socket)));
      accept();
    });
  }

  void serve(std::shared_ptr<connection> c) {
    asio::async_read_until(c->socket, asio::dynamic_buffer(c->buffer), "\r\n\r\n",
                           [this, c](error_code ec, std::size_t n) {
                             if (ec) return;
                             ++requests;
                             {
                               std::lock_guard lock(mutex_);
                               if (first_request_.empty()) first_request_ = c->buffer.substr(0, n);
                             }
                             if (silent) {
                               held_.push_back(c);  // open, unanswered: the check must time out
                               return;
                             }
                             c->reply = "HTTP/1.1 " + std::to_string(status.load()) +
                                        " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                             asio::async_write(c->socket, asio::buffer(c->reply),
                                               [c](error_code, std::size_t) {});
                           });
  }

  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<connection>> held_;  // io thread only
  std::mutex mutex_;
  std::string first_request_;
};

// One io_context on its own thread for the servers and the checker. The fixture owns the
// servers (built and destroyed on the io thread), the group and the checker, and tears them
// down in order: checker stopped, io thread joined, the rest destroyed.
class health_checker_test : public ::testing::Test {
 protected:
  // Runs `f` on the io thread and waits for it.
  template <class F>
  auto on_io(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(ioc_, [&task] { task(); });
    EXPECT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return result.get();
  }

  health_checker_test() : work_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}
  ~health_checker_test() override {
    if (checker_) checker_->stop();
    on_io([this] {
      servers_.clear();
      return 0;
    });
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  status_server& add_server() {
    return *on_io(
        [this] { return servers_.emplace_back(std::make_unique<status_server>(ioc_)).get(); });
  }

  // A group of (port, weight) servers with fast checks: every 20 ms, thresholds 2.
  static server_group_config group_for(std::vector<std::pair<std::uint16_t, std::uint32_t>> servers,
                                       health_check_protocol protocol) {
    server_group_config g;
    g.name = "g";
    for (auto [port, weight] : servers) {
      server_config s;
      s.port = port;
      s.weight = weight;
      g.servers.push_back(s);
    }
    g.health_check.protocol = protocol;
    g.health_check.interval = std::chrono::milliseconds(20);
    g.health_check.timeout = std::chrono::seconds(1);
    g.health_check.healthy_threshold = 2;
    g.health_check.unhealthy_threshold = 2;
    return g;
  }

  server_group& start_checking(const server_group_config& config) {
    group_ = std::make_unique<server_group>(config);
    checker_ = std::make_unique<health_checker>(ioc_.get_executor(), *group_, config.health_check);
    checker_->start();
    return *group_;
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<std::unique_ptr<status_server>> servers_;  // io thread only
  std::unique_ptr<server_group> group_;
  std::unique_ptr<health_checker> checker_;
};

TEST_F(health_checker_test, http_check_follows_the_status_class) {
  status_server& server = add_server();
  auto config = group_for({{server.port(), 100}}, health_check_protocol::http);
  config.health_check.path = "/health";
  config.health_check.host = "svc.local";
  server_group& group = start_checking(config);

  ASSERT_TRUE(eventually([&] { return server.requests >= 3; }));
  EXPECT_TRUE(group.healthy(0));
  EXPECT_EQ(server.first_request().rfind("HEAD /health HTTP/1.1\r\n", 0), 0u)
      << server.first_request();
  EXPECT_NE(server.first_request().find("\r\nHost: svc.local\r\n"), std::string::npos);

  server.status = 500;
  EXPECT_TRUE(eventually([&] { return !group.healthy(0); }));
  server.status = 302;  // 3xx is not a success by default
  int seen = server.requests;
  ASSERT_TRUE(eventually([&] { return server.requests >= seen + 3; }));
  EXPECT_FALSE(group.healthy(0));
  server.status = 204;
  EXPECT_TRUE(eventually([&] { return group.healthy(0); }));
}

TEST_F(health_checker_test, success_codes_choose_the_classes) {
  status_server& server = add_server();
  server.status = 302;
  auto config = group_for({{server.port(), 100}}, health_check_protocol::http);
  config.health_check.success_classes = {3};
  server_group& group = start_checking(config);
  ASSERT_TRUE(eventually([&] { return server.requests >= 4; }));
  EXPECT_TRUE(group.healthy(0));
  server.status = 200;
  EXPECT_TRUE(eventually([&] { return !group.healthy(0); }));
}

TEST_F(health_checker_test, tcp_check_sees_a_refused_port) {
  status_server& server = add_server();
  server_group& group =
      start_checking(group_for({{server.port(), 100}}, health_check_protocol::tcp));
  ASSERT_TRUE(eventually([&] { return server.connections >= 3; }));
  EXPECT_EQ(server.requests, 0);  // a TCP check sends nothing
  EXPECT_TRUE(group.healthy(0));
  server.close();  // nothing listens any more: connects are refused
  EXPECT_TRUE(eventually([&] { return !group.healthy(0); }));
}

TEST_F(health_checker_test, a_silent_server_runs_into_the_timeout) {
  status_server& server = add_server();
  server.silent = true;
  auto config = group_for({{server.port(), 100}}, health_check_protocol::http);
  config.health_check.timeout = std::chrono::milliseconds(50);
  server_group& group = start_checking(config);
  EXPECT_TRUE(eventually([&] { return !group.healthy(0); }));
  EXPECT_GE(server.requests, 2);
}

TEST_F(health_checker_test, weight_zero_servers_are_not_checked) {
  status_server& checked = add_server();
  status_server& ignored = add_server();
  start_checking(
      group_for({{checked.port(), 1}, {ignored.port(), 0}}, health_check_protocol::http));
  ASSERT_TRUE(eventually([&] { return checked.requests >= 5; }));
  EXPECT_EQ(ignored.connections, 0);
}

TEST_F(health_checker_test, a_disabled_check_sends_nothing) {
  status_server& checked = add_server();
  status_server& disabled = add_server();
  auto config = group_for({{disabled.port(), 100}}, health_check_protocol::http);
  config.health_check.enabled = false;
  server_group group(config);
  health_checker idle(ioc_.get_executor(), group, config.health_check);
  idle.start();
  // A second, enabled checker on the same io thread shows that time has passed.
  start_checking(group_for({{checked.port(), 100}}, health_check_protocol::http));
  ASSERT_TRUE(eventually([&] { return checked.requests >= 5; }));
  EXPECT_EQ(disabled.connections, 0);
  idle.stop();
}

// After stop() returns nothing more reaches the group, even with the io thread still running:
// the group is destroyed right away, and no new check starts afterwards.
TEST_F(health_checker_test, stop_is_prompt_and_safe_while_the_io_thread_runs) {
  status_server& server = add_server();
  start_checking(group_for({{server.port(), 100}}, health_check_protocol::http));
  ASSERT_TRUE(eventually([&] { return server.requests >= 2; }));
  checker_->stop();
  checker_.reset();
  group_.reset();
  on_io([] { return 0; });  // the posted halt has run
  // One window lets a check that was already on the wire land; the next must see nothing.
  auto window = [&] {
    std::promise<void> done;
    asio::steady_timer timer(ioc_, std::chrono::milliseconds(100));  // five intervals
    timer.async_wait([&](error_code) { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  };
  window();
  int after = server.connections;
  window();
  EXPECT_EQ(server.connections, after);
}

TEST_F(health_checker_test, stop_before_the_first_check_and_twice_is_harmless) {
  server_group& group = start_checking(group_for({{1, 100}}, health_check_protocol::tcp));
  checker_->stop();
  checker_->stop();
  on_io([] { return 0; });
  EXPECT_TRUE(group.healthy(0));
}

}  // namespace
}  // namespace albsim::proxy
