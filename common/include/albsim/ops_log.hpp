// albsim's own operational messages — start, stop, listeners, config loads, accept failures,
// health-state changes, the access-log writer falling behind — through spdlog on standard error,
// each with a UTC timestamp and a level. This is a diagnostic log for whoever runs albsim; the
// access log (proxy/access_log.hpp) is the data product and keeps its own writer.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace albsim {

// The logger (created on first use, on stderr; level warn until configure_ops_log is called,
// so library users such as `albsim scenarios` only see warnings).
spdlog::logger& ops_log();

// Sets the level by name: trace, debug, info, warn, error, critical or off. Throws
// std::invalid_argument naming the allowed values for anything else.
void configure_ops_log(const std::string& level);

}  // namespace albsim
