// libFuzzer harness: the X-Albsim-Backend grammar (backends/src/action_grammar.hpp).
// Properties: parsing never throws; an error is a message naming the header; and whatever parses
// can be written back in the grammar and parses to the same action (render below), so every
// action the header accepts is one the header can express, and nothing is half-read.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "action_grammar.hpp"
#include "config_fingerprint.hpp"

namespace {

using albsim::backend::action_kind;
using albsim::backend::backend_action;

std::string ns(std::chrono::nanoseconds d) { return std::to_string(d.count()) + "ns"; }

// The action back in the header's grammar.
std::string render(const backend_action& a) {
  std::string out = albsim::backend::to_string(a.kind);
  if (a.after_bytes) out += "=" + std::to_string(*a.after_bytes);
  if (a.hold) out += "=" + ns(*a.hold);
  out += ", status=" + std::to_string(a.status);
  for (const auto& [name, value] : a.headers) out += ", header=" + name + ":" + value;
  if (a.body) out += ", body=" + *a.body;
  if (a.body_bytes) out += ", bytes=" + std::to_string(*a.body_bytes);
  if (a.delay.count() != 0) out += ", delay=" + ns(a.delay);
  if (a.drip.chunk_bytes != 0) {
    out += ", drip=" + std::to_string(a.drip.chunk_bytes) + "/" + ns(a.drip.interval);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  backend_action first;
  std::string error = albsim::backend::parse_override(text, first);
  if (!error.empty()) {
    if (error.rfind("X-Albsim-Backend: ", 0) != 0) std::abort();
    return 0;
  }
  std::string written = render(first);
  backend_action second;
  error = albsim::backend::parse_override(written, second);
  auto a = albsim::fuzz::fingerprint(first), b = albsim::fuzz::fingerprint(second);
  if (!error.empty() || a != b) {
    std::fprintf(stderr, "X-Albsim-Backend: '%s' parsed, written back as '%s': %s\n  %s\n  %s\n",
                 text.c_str(), written.c_str(), error.c_str(), a.dump().c_str(), b.dump().c_str());
    std::abort();
  }
  return 0;
}
