#include "kernel_listen_overflows.hpp"

#include "albsim/kernel_tcp_counter.hpp"

namespace albsim::backend {

std::optional<std::uint64_t> read_listen_overflows() {
  return read_tcp_ext_counter("ListenOverflows");
}

}  // namespace albsim::backend
