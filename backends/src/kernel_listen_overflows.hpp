// The kernel's own count of accept-queue overflows (TcpExt ListenOverflows in /proc/net/netstat,
// what `netstat -s` words as "N times the listen queue of a socket overflowed"). It covers the
// whole network namespace, so a backend reports the change since it started.
#pragma once

#include <cstdint>
#include <optional>

namespace albsim::backend {

// nullopt when /proc/net/netstat is unreadable or has no ListenOverflows field.
std::optional<std::uint64_t> read_listen_overflows();

}  // namespace albsim::backend
