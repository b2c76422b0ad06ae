// libFuzzer harness: the proxy's response head parser (proxy/src/http_heads.hpp, public API only).
// Properties, for responses to GET and to HEAD, with the balancer's header bound and a small one:
// - nothing crashes or leaks (ASan/UBSan);
// - the responses found (several on a kept-alive connection), each one's verdict, status,
//   reason, length in bytes and forwarded fields do not depend on how the bytes are split into
//   reads, nor does what the end of the stream (the backend closing) completes;
// - a response to HEAD never has a body: it is done when its header is.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "head_split.hpp"
#include "http_heads.hpp"
#include "response_head.hpp"

namespace {

using albsim::proxy::error_code;
using albsim::proxy::response_head;

constexpr std::size_t k_max_messages = 16;

std::string describe_head(const response_head& h) {
  return "status=" + std::to_string(h.status()) + " reason=" + h.reason() +
         " keep_alive=" + std::to_string(h.keep_alive()) +
         " need_eof=" + std::to_string(h.need_eof()) + " fields=[" + h.forward_fields() + "]";
}

std::string describe_error(const char* what, const error_code& ec) {
  return std::string(what) + " " + ec.category().name() + ":" + std::to_string(ec.value());
}

std::vector<std::string> parse(std::string_view input, const std::vector<std::size_t>& reads,
                               bool head_request, std::uint32_t max_header_block) {
  std::vector<std::string> out;
  response_head head(head_request, max_header_block);
  std::string pending, header;
  albsim::fuzz::read_feed feed(input, reads);
  std::size_t message_bytes = 0;
  for (;;) {
    error_code ec;
    std::size_t n = head.feed(pending, ec);
    if (n > pending.size()) std::abort();
    pending.erase(0, n);
    message_bytes += n;
    if (ec) {
      // Any parse error is the same verdict for the proxy (malformed_response); Beast's own code
      // depends on where it stopped (bad_field in one read, header_limit when it waited).
      out.push_back("error header=" + std::to_string(head.header_done()));
      return out;
    }
    if (head.header_done() && header.empty()) {
      header = describe_head(head);
      if (head_request && !head.done() && head.status() >= 200) std::abort();
    }
    if (head.done()) {
      out.push_back("message bytes=" + std::to_string(message_bytes) + " " + header);
      if (out.size() == k_max_messages) return out;
      head.reset(head_request, max_header_block);
      message_bytes = 0;
      header.clear();
      continue;
    }
    if (n > 0) continue;
    if (!feed.next(pending)) break;
  }
  // The backend closed: a body that runs until close ends here; anything else is cut short.
  error_code ec;
  head.feed_eof(ec);
  out.push_back("eof bytes=" + std::to_string(message_bytes + pending.size()) + " " +
                (ec ? describe_error("error", ec) : std::string("ok")) +
                " done=" + std::to_string(head.done()) + " " + header);
  return out;
}

void check_split_invariance(std::string_view input, bool head_request, std::uint32_t limit) {
  albsim::fuzz::require_split_invariance(input, "response head",
                                         [&](const std::vector<std::size_t>& reads) {
                                           return parse(input, reads, head_request, limit);
                                         });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (bool head_request : {false, true}) {
    check_split_invariance(input, head_request, 262144);
    check_split_invariance(input, head_request, 256);
  }
  return 0;
}
