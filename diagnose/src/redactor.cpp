#include "albsim/diagnose/redactor.hpp"

#include <cstdint>
#include <cstdio>

namespace albsim::diagnose {
namespace {

std::string hashed(std::string_view ip) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across runs and machines
  for (char c : ip) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char out[16];
  std::snprintf(out, sizeof out, "ip-%08x", static_cast<unsigned>(h ^ (h >> 32)));
  return out;
}

std::string one_address(std::string_view a) {
  while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
  if (a.empty()) return {};
  // ip:port (IPv4) keeps the port; "[v6]:port" likewise; a bare IPv6 has several colons.
  if (a.front() == '[') {
    auto close = a.find(']');
    if (close != std::string_view::npos)
      return hashed(a.substr(1, close - 1)) + std::string(a.substr(close + 1));
  }
  auto colon = a.find(':');
  if (colon != std::string_view::npos && a.find(':', colon + 1) == std::string_view::npos)
    return hashed(a.substr(0, colon)) + std::string(a.substr(colon));
  return hashed(a);
}

}  // namespace

std::string redactor::address(std::string_view value) const {
  if (!on_ || value.empty() || value == "-") return std::string(value);
  std::string out;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    if (!out.empty()) out += ", ";
    out += one_address(value.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string redactor::uri(std::string_view value) const {
  if (!on_) return std::string(value);
  auto q = value.find('?');
  return q == std::string_view::npos ? std::string(value) : std::string(value.substr(0, q)) + "?…";
}

}  // namespace albsim::diagnose
