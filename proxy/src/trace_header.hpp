// ALICLOUD-ALB-TRACE (ALB-FACTS.md, headers): every forwarded request carries it, the balancer
// appending a 16-character hash of the forwarding rule; a request that already carries this
// rule's entry, or more than 16 entries, is a forwarding loop (463).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace albsim::proxy {

inline constexpr std::size_t k_max_trace_entries = 16;

// A 16-hex-digit hash of `rule_key` (albsim's own: instance/listener/rule names).
std::string trace_hash(std::string_view rule_key);

// True when `trace` (the comma-separated entries received) holds `own` or more than
// k_max_trace_entries entries.
bool forwarding_loop(std::string_view trace, std::string_view own);

}  // namespace albsim::proxy
