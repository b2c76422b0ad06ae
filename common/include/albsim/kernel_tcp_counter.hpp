// One of the kernel's TCP counters (the TcpExt lines of /proc/net/netstat, what `netstat -s`
// and `nstat` print), e.g. ListenOverflows or TCPSynRetrans. The counters cover the whole
// network namespace: callers compare a reading before and after what they watch.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace albsim {

// nullopt when /proc/net/netstat is unreadable or has no such TcpExt field.
std::optional<std::uint64_t> read_tcp_ext_counter(std::string_view name);

}  // namespace albsim
