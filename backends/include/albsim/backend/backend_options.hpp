// Options and script model of the faulty backend (docs/backend.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "albsim/link_conditions.hpp"

namespace albsim::backend {

enum class transport_mode {
  normal,            // accept and serve
  refuse,            // nothing listens: connects are refused (a real RST to the SYN)
  queue_full_silent, // listen backlog full, SYNs dropped: connects never complete
  queue_full_reset,  // backlog full with abort-on-overflow: connects are reset
};

struct backend_options {
  std::string name = "backend";
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
  transport_mode mode = transport_mode::normal;
  link_conditions link;
  // The script's rules, health script etc. are added by the backends/ owner.
  std::string script_source;  // file the script came from, for messages
};

// Loads a backend script (YAML); throws albsim::config_error naming file, line and field.
backend_options load_backend_script(const std::string& file);
backend_options load_backend_script_text(const std::string& text, const std::string& name);

}  // namespace albsim::backend
