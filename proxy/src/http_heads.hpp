// Incremental HTTP/1.1 parsing for the proxy, on top of Beast's basic_parser, without Beast in
// this header (so the session's translation unit stays light).
//
// The proxy never re-encodes bodies: it feeds the bytes it received to a parser, and forwards
// exactly the bytes the parser consumed in the body phase (chunk framing included). The parser
// therefore only validates framing and reports the header, which it turns into the header block
// to forward (hop-by-hop fields removed) while checking the balancer's limits field by field.
//
// The request side enforces RFC 9112's rules for an intermediary before anything is routed
// (docs/status-rules.md, "Request refusals"): the framing must be unambiguous (a Transfer-Encoding
// must end in chunked and name it once, never beside Content-Length, never in HTTP/1.0), an
// HTTP/1.1 request carries exactly one valid Host, and fields named in Connection are dropped.
// The framing fields and Host are never forwarded as received: the session writes them again,
// normalised (one Content-Length, or `Transfer-Encoding: chunked`; one Host).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/system/error_code.hpp>

namespace albsim::proxy {

using boost::system::error_code;

// Errors the proxy's own checks raise while parsing (on top of Beast's http::error).
enum class head_error {
  uri_too_long = 1,      // request target over the URI limit (414)
  header_line_too_long,  // one header line over the line limit (400)
  conflicting_framing,   // Content-Length together with Transfer-Encoding (400)
  // RFC 9112 refusals (400, 400-invalid-header):
  transfer_coding_not_chunked,  // the final transfer coding is not chunked (6.3 item 4)
  chunked_twice,                // chunked applied more than once (7)
  transfer_encoding_in_http10,  // HTTP/1.0 with Transfer-Encoding: faulty framing (6.1)
  missing_host,                 // HTTP/1.1 without Host (3.2)
  repeated_host,                // more than one Host field line (3.2)
  invalid_host,                 // a Host value that is not uri-host [ ":" port ] (3.2)
  invalid_absolute_target,      // absolute-form without an authority (3.2.2)
  head_too_large,               // the fields outgrew the header bound (the request line did not)
};
const boost::system::error_category& head_error_category();
error_code make_error_code(head_error e);

struct head_limits {
  std::uint64_t max_uri = 32768;
  std::uint64_t max_header_line = 32768;
  std::uint32_t max_header_block = 262144;
  std::uint64_t max_body = 50'000'000'000ULL;
};

// What went wrong with a request, in the balancer's terms.
// bad_framing: the message's length cannot be trusted because of Content-Length (conflicting,
// non-numeric, beside Transfer-Encoding) or a broken chunk; invalid_head: any other malformed
// request line or field (the guide's "the format of the HTTP header is invalid").
enum class request_failure { none, uri_too_long, header_line_too_long, bad_framing, invalid_head };
// Classifies a parse error; `received` is what had arrived (to tell an over-long request line
// from an over-long header block when the whole-head limit fires first).
request_failure classify_request_error(const error_code& ec, std::string_view received,
                                       std::uint64_t max_uri, std::string* detail);
// True for errors that mean "the peer closed or the parser wants more", not "malformed".
bool is_need_more(const error_code& ec);

class request_head {
 public:
  explicit request_head(const head_limits& limits);
  ~request_head();
  request_head(const request_head&) = delete;
  request_head& operator=(const request_head&) = delete;

  // Starts over for the next request (keeps the memory it has grown).
  void reset(const head_limits& limits);

  // Parses what it can of `data`; returns the bytes consumed (the lines of an unfinished head
  // already judged count as consumed). "Needs more" is a clear `ec` and !header_done(). While the
  // head is incomplete a call stops at its end (so the caller knows which bytes were the head); in
  // the body it goes on as far as `data` does. `data` must begin with the first byte the previous
  // calls did not consume. The verdict does not depend on how the bytes were split into calls: a
  // head that its bytes so far already show to be malformed is refused at once, however it arrives
  // (docs/robustness.md, F1, F3).
  std::size_t feed(std::string_view data, error_code& ec);

  bool header_done() const;
  bool done() const;
  bool keep_alive() const;
  bool chunked() const;
  std::optional<std::uint64_t> content_length() const;

  const std::string& method() const;
  const std::string& target() const;  // origin-form: an absolute-form target is reduced to it
  int version() const;                // 10 or 11
  bool is_trace() const;
  bool is_head() const;
  // The Host the request names: the authority of an absolute-form target, else the Host field.
  const std::string& host() const;
  bool has_host() const;  // false only for an HTTP/1.0 request without Host
  const std::string& user_agent() const;
  const std::string& referer() const;
  const std::string& x_forwarded_for() const;
  const std::string& x_real_ip() const;
  bool expects_continue() const;
  // The ALICLOUD-ALB-TRACE entries the request arrived with, comma-separated ("" if none).
  const std::string& trace() const;
  // "Name: value\r\n" for every end-to-end field except those the proxy writes itself (Host,
  // Content-Length, Transfer-Encoding, X-Forwarded-For, ALICLOUD-ALB-TRACE), the hop-by-hop
  // ones and any field the Connection header names.
  const std::string& forward_fields() const;
  // The framing to forward, normalised: "Content-Length: N\r\n", "Transfer-Encoding:
  // chunked\r\n", or "" for a request without a body.
  std::string_view framing_field() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};
}  // namespace albsim::proxy

template <>
struct boost::system::is_error_code_enum<albsim::proxy::head_error> : std::true_type {};
