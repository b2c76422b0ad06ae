// The replies the balancer makes itself (400, 405, 408, 414, 463, 500, 502, 503, 504): reason
// phrases and small HTML bodies. The texts are albsim's; the balancer's own pages differ.
#pragma once

#include <string>
#include <string_view>

namespace albsim::proxy {

std::string_view reason_phrase(int status);

// "HTTP/1.1 <status> <reason>" with Content-Type, Content-Length, `extra_headers` (whole lines)
// and, when `close`, Connection: close; ends with the empty line.
std::string local_reply_head(int status, std::size_t body_size, std::string_view extra_headers,
                             bool close);

// The body of a reply: the status and its reason.
std::string local_reply_body(int status);

// The body of the 400 for plain-text HTTP on an HTTPS port.
extern const std::string_view k_plain_http_on_https_body;

}  // namespace albsim::proxy
