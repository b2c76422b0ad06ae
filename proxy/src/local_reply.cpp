#include "local_reply.hpp"

namespace albsim::proxy {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 414:
      return "Request-URI Too Large";
    case 463:
      return "Forwarding Loop";  // albsim's phrase: 463 has no standard one
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Temporarily Unavailable";
    case 504:
      return "Gateway Time-out";
    default:
      return "Error";
  }
}

std::string local_reply_head(int status, std::size_t body_size, std::string_view extra_headers,
                             bool close) {
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) +
      "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(body_size) + "\r\n";
  head += extra_headers;
  if (close) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

std::string local_reply_body(int status) {
  return "<html><body><h1>" + std::to_string(status) + " " + std::string(reason_phrase(status)) +
         "</h1></body></html>\n";
}

const std::string_view k_plain_http_on_https_body =
    "<html><body><h1>400 Bad Request</h1><p>This port speaks HTTPS; the request arrived as "
    "plain-text HTTP.</p></body></html>\n";

}  // namespace albsim::proxy
