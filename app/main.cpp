// albsim: a local copy of a cloud Application Load Balancer's error behaviour.
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <csignal>
#include <iostream>

#include "albsim/config_error.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // A balancer holds many connections: allow as many descriptors as the hard limit does.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  CLI::App app{"albsim - reproduce every error status of an Application Load Balancer on loopback"};
  app.require_subcommand(1);
  albsim::app::add_backend_command(app);
  albsim::app::add_serve_command(app);
  albsim::app::add_scenarios_command(app);
  albsim::app::add_explain_command(app);
  albsim::app::add_diagnose_command(app);
  albsim::app::add_reproduce_command(app);
  albsim::app::add_report_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const albsim::config_error& e) {
    std::cerr << "albsim: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "albsim: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
