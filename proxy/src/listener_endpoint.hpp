// Which listener and VIP an accepted connection came in on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace albsim::proxy {

// What an accepted connection came in on.
struct listener_endpoint {
  std::size_t listener_index = 0;
  std::size_t vip_index = 0;
  std::string vip;
  std::uint16_t port = 0;
};

}  // namespace albsim::proxy
