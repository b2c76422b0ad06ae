// Text renderings of what the backend saw: the stats and echo JSON bodies and the summary line
// written on stop (with the overflow count worded like `netstat -s`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "albsim/backend/backend_server.hpp"

namespace albsim::backend {

std::string render_stats_json(std::string_view name, const backend_counters& c);

std::string render_echo_json(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::uint64_t body_length);

std::string render_summary_line(std::string_view name, const backend_counters& c);

}  // namespace albsim::backend
