// albsim serve: the simulated balancer, with its embedded backends, until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <csignal>
#include <map>

#include "albsim/backend/backend_server.hpp"
#include "albsim/config_error.hpp"
#include "albsim/ops_log.hpp"
#include "albsim/proxy/proxy_server.hpp"
#include "commands.hpp"

namespace albsim::app {
namespace {

struct serve_options {
  std::string config_file;
  std::string access_log;
  int workers = 0;
  std::string log_level = "info";
};

int serve(const serve_options& o) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  configure_ops_log(o.log_level);

  proxy::proxy_config config = o.config_file.empty() ? proxy::default_proxy_config()
                                                     : proxy::load_proxy_config(o.config_file);
  ops_log().info("config {}: {} listeners, {} server groups, {} worker threads", config.source_file,
                 config.listeners.size(), config.server_groups.size(),
                 o.workers > 0 ? static_cast<std::uint32_t>(o.workers) : config.worker_threads);
  if (!o.access_log.empty()) config.access_log = o.access_log;
  if (o.workers > 0) config.worker_threads = static_cast<std::uint32_t>(o.workers);

  // Embedded backends first: their ports come from the kernel and go into the servers.
  std::map<std::string, std::unique_ptr<backend::backend_server>> backends;
  auto ledger = std::make_shared<fault_ledger>();
  for (const auto& b : config.embedded_backends) {
    backend::backend_options opts = b.script_file.empty()
                                        ? backend::backend_options{}
                                        : backend::load_backend_script(b.script_file);
    opts.name = b.name;
    opts.port = 0;
    opts.ledger = ledger;
    backends[b.name] = backend::backend_server::start(std::move(opts));
    ops_log().info("backend {} on {}:{}", b.name, backends[b.name]->address(),
                   backends[b.name]->port());
  }
  for (auto& g : config.server_groups) {
    for (auto& s : g.servers) {
      if (s.backend.empty()) continue;
      auto it = backends.find(s.backend);
      if (it == backends.end()) {
        throw config_error(config.source_file, 0, "server_groups." + g.name + ".servers.backend",
                           "names an embedded backend '" + s.backend + "' that is not defined");
      }
      s.address = it->second->address();
      s.port = it->second->port();
    }
  }

  std::shared_ptr<proxy::access_log_sink> sink;
  if (!config.access_log.empty()) sink = std::make_shared<proxy::file_log_sink>(config.access_log);
  auto server = proxy::proxy_server::start(config, sink, ledger);
  for (const auto& l : server->listeners()) {
    ops_log().info("listener {} {}://{}:{}", l.name,
                   l.protocol == proxy::listener_protocol::https ? "https" : "http", l.address,
                   l.port);
  }
  if (server->admin_port()) {
    ops_log().info("admin API http://{}:{}", config.admin.address, server->admin_port());
  }
  ops_log().info("ready (Ctrl-C to stop)");

  int sig = 0;
  sigwait(&stop_signals, &sig);
  ops_log().info("stopping (signal {})", sig);
  server->stop();
  for (auto& [name, b] : backends) b->stop();
  auto c = server->counters();
  ops_log().info("stopped: {} connections, {} requests, {} access-log records", c.connections,
                 c.requests, c.records);
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto opts = std::make_shared<serve_options>();
  auto* cmd = app.add_subcommand("serve", "Run the simulated load balancer");
  cmd->add_option("--config", opts->config_file, "YAML config (docs/config.md); default: built-in");
  cmd->add_option("--access-log", opts->access_log, "access-log file, '-' for standard output");
  cmd->add_option("--workers", opts->workers, "worker threads (overrides the config)");
  cmd->add_option("--log-level", opts->log_level,
                  "albsim's own messages on stderr: trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  cmd->callback([opts] {
    int rc = serve(*opts);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace albsim::app
