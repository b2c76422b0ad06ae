// albsim backend: runs one scriptable faulty backend until SIGINT/SIGTERM (docs/backend.md).
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "albsim/backend/backend_server.hpp"
#include "albsim/ops_log.hpp"
#include "commands.hpp"

namespace albsim::app {
namespace {

struct backend_cli {
  std::string script;
  std::string bind;
  std::optional<std::uint16_t> port;
  std::string mode;
  std::optional<int> threads;
  std::string log_level = "info";
};

void run_backend(const backend_cli& cli) {
  configure_ops_log(cli.log_level);
  backend::backend_options options;
  if (!cli.script.empty()) options = backend::load_backend_script(cli.script);
  if (!cli.bind.empty()) options.bind_address = cli.bind;
  if (cli.port) options.port = *cli.port;
  if (!cli.mode.empty()) options.mode = *backend::parse_transport_mode(cli.mode);
  if (cli.threads) options.threads = *cli.threads;

  // Block the stop signals before any thread starts, so only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = backend::backend_server::start(options);
  std::cout << "albsim backend " << options.name << " (" << backend::to_string(options.mode)
            << ") listening on " << server->address() << ":" << server->port() << std::endl;
  // The line above is the documented way for scripts to learn the port (docs/backend.md); the
  // operational log says the same with a timestamp, and everything after it.
  ops_log().info("backend {} ({}) listening on {}:{}", options.name,
                 backend::to_string(options.mode), server->address(), server->port());
  int signal = 0;
  sigwait(&stop_signals, &signal);
  ops_log().info("backend {}: stopping (signal {})", options.name, signal);
  server->stop();
}

}  // namespace

void add_backend_command(CLI::App& app) {
  auto cli = std::make_shared<backend_cli>();
  auto* cmd = app.add_subcommand("backend", "run a scriptable faulty backend (docs/backend.md)");
  cmd->add_option("--script", cli->script, "backend script (YAML)")->check(CLI::ExistingFile);
  cmd->add_option("--bind", cli->bind, "address to bind (default 127.0.0.1)");
  cmd->add_option("--port", cli->port, "port to bind (default 0: the kernel picks)");
  cmd->add_option("--mode", cli->mode, "transport mode")
      ->check(CLI::IsMember({"normal", "refuse", "queue-full-silent", "queue-full-reset"}));
  cmd->add_option("--threads", cli->threads, "io_context threads (default 1)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--log-level", cli->log_level,
                  "albsim's own messages on stderr: trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  cmd->callback([cli] { run_backend(*cli); });
}

}  // namespace albsim::app
