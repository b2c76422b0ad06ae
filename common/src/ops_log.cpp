#include "albsim/ops_log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <stdexcept>

namespace albsim {

spdlog::logger& ops_log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("albsim",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // 2026-12-04T05:29:11.123Z warn  accept failed: ...
    l->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v",
                                                                 spdlog::pattern_time_type::utc));
    l->set_level(spdlog::level::warn);
    l->flush_on(spdlog::level::trace);  // stderr is unbuffered anyway; lines never wait
    return l;
  }();
  return *logger;
}

void configure_ops_log(const std::string& level) {
  auto l = spdlog::level::from_str(level);
  // from_str answers "off" for any unknown name; only the word "off" itself means off.
  if (l == spdlog::level::off && level != "off") {
    throw std::invalid_argument("unknown log level '" + level +
                                "' (allowed: trace, debug, info, warn, error, critical, off)");
  }
  ops_log().set_level(l);
}

}  // namespace albsim
