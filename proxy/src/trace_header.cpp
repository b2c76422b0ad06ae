#include "trace_header.hpp"

#include <cstdint>

namespace albsim::proxy {

std::string trace_hash(std::string_view rule_key) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : rule_key) h = (h ^ c) * 1099511628211ULL;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = hex[h & 15];
  return out;
}

bool forwarding_loop(std::string_view trace, std::string_view own) {
  std::size_t entries = 0;
  while (!trace.empty()) {
    std::size_t comma = trace.find(',');
    std::string_view t = trace.substr(0, comma);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t == own) return true;
    if (!t.empty()) ++entries;
    if (comma == std::string_view::npos) break;
    trace.remove_prefix(comma + 1);
  }
  return entries > k_max_trace_entries;
}

}  // namespace albsim::proxy
