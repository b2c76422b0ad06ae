#include "albsim/kernel_tcp_counter.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace albsim {

std::optional<std::uint64_t> read_tcp_ext_counter(std::string_view name) {
  std::ifstream in("/proc/net/netstat");
  std::string names;
  std::string values;
  // Lines come in pairs: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...".
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    std::istringstream n(names);
    std::istringstream v(values);
    std::string field;
    std::string value;
    while (n >> field && v >> value) {
      if (field != name) continue;
      std::uint64_t count = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
      if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
      return count;
    }
  }
  return std::nullopt;
}

}  // namespace albsim
