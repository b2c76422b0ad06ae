// libFuzzer harness: the proxy's request head parser (proxy/src/http_heads.hpp, public API only).
// Properties, on every input and under both the balancer's limits and small ones:
// - nothing crashes or leaks (ASan/UBSan);
// - the messages found (pipelined requests), each one's verdict, its length in bytes, its parsed
//   fields and the header block forwarded do not depend on how the bytes are split into reads;
// - a request reported done has its header done, and HTTP version 1.0 or 1.1;
// - the fields seen when the header completes and when the message ends (after trailers) are
//   part of the verdict;
// - every error classifies into one of the balancer's failures with a non-empty detail, and
//   that class (the status the proxy answers) is part of the verdict.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "head_split.hpp"
#include "http_heads.hpp"

namespace {

using albsim::proxy::error_code;
using albsim::proxy::head_limits;
using albsim::proxy::request_head;

// At most this many pipelined requests are followed per input (keeps one run short).
constexpr std::size_t k_max_messages = 16;

std::string describe_head(const request_head& h) {
  std::string s;
  s += "method=" + h.method() + " target=" + h.target() + " version=" + std::to_string(h.version());
  s += " trace=" + std::to_string(h.is_trace()) + " head=" + std::to_string(h.is_head());
  s += " host=" + h.host() + " ua=" + h.user_agent() + " referer=" + h.referer();
  s += " xff=" + h.x_forwarded_for() + " xri=" + h.x_real_ip();
  s += " continue=" + std::to_string(h.expects_continue());
  s += " keep_alive=" + std::to_string(h.keep_alive()) + " chunked=" + std::to_string(h.chunked());
  auto cl = h.content_length();
  s += " length=" + (cl ? std::to_string(*cl) : std::string("none"));
  s += " fields=[" + h.forward_fields() + "]";
  return s;
}

// Feeds `input` in reads of the given sizes; one line per message and one for the end state.
std::vector<std::string> parse(std::string_view input, const std::vector<std::size_t>& reads,
                               const head_limits& limits) {
  std::vector<std::string> out;
  request_head head(limits);
  std::string pending;
  albsim::fuzz::read_feed feed(input, reads);
  std::size_t message_bytes = 0;
  std::string header;  // the fields as seen when the header completed
  for (;;) {
    error_code ec;
    std::size_t n = head.feed(pending, ec);
    if (n > pending.size()) std::abort();  // consumed more than it was given
    pending.erase(0, n);
    message_bytes += n;
    if (ec) {
      std::string detail;
      auto failure = albsim::proxy::classify_request_error(ec, pending, limits.max_uri, &detail);
      if (detail.empty()) std::abort();
      if (failure == albsim::proxy::request_failure::none) std::abort();
      // The failure class is the verdict (it picks the status); Beast's own code may differ
      // with the reads inside a chunked body (bad_chunk vs bad_chunk_extension), both 400.
      out.push_back("error class=" + std::to_string(static_cast<int>(failure)) +
                    " header=" + std::to_string(head.header_done()));
      return out;
    }
    if (head.header_done() && header.empty()) header = describe_head(head);
    if (head.done()) {
      if (!head.header_done()) std::abort();
      if (head.version() != 10 && head.version() != 11) std::abort();
      // Trailer fields arrive after the header (and land in the same fields): both views count.
      out.push_back("message bytes=" + std::to_string(message_bytes) + " " + header +
                    " at_end: " + describe_head(head));
      if (out.size() == k_max_messages) return out;
      head.reset(limits);
      message_bytes = 0;
      header.clear();
      continue;
    }
    if (n > 0) continue;
    if (!feed.next(pending)) break;
  }
  out.push_back("incomplete bytes=" + std::to_string(message_bytes + pending.size()) +
                " header_done=" + std::to_string(head.header_done()) + " " + header);
  return out;
}

void check_split_invariance(std::string_view input, const head_limits& limits) {
  albsim::fuzz::require_split_invariance(
      input, "request head",
      [&](const std::vector<std::size_t>& reads) { return parse(input, reads, limits); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_split_invariance(input, head_limits{});
  // Small limits, so that every limit (URI, header line, header block, body) is reachable.
  check_split_invariance(
      input,
      head_limits{.max_uri = 48, .max_header_line = 64, .max_header_block = 256, .max_body = 512});
  return 0;
}
