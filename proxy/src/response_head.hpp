// The proxy's parser of a backend's response head (response_head.cpp; the request side and the
// error codes are in http_heads.hpp). Like request_head, it keeps Beast out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http_heads.hpp"

namespace albsim::proxy {

class response_head {
 public:
  // `head_request`: the request was HEAD, so the response has no body whatever it says.
  explicit response_head(bool head_request, std::uint32_t max_header_block);
  ~response_head();
  response_head(const response_head&) = delete;
  response_head& operator=(const response_head&) = delete;

  // Starts over for the next response (keeps the memory it has grown).
  void reset(bool head_request, std::uint32_t max_header_block);

  // As request_head::feed: one call stops at the head's end, and in the body goes on as far as
  // `data` does.
  std::size_t feed(std::string_view data, error_code& ec);
  // The connection closed: completes a body that runs until close.
  void feed_eof(error_code& ec);

  bool header_done() const;
  bool done() const;
  bool keep_alive() const;
  bool need_eof() const;  // body ends at close (no length, not chunked)
  int status() const;
  const std::string& reason() const;
  // End-to-end fields, "Name: value\r\n" each; several Content-Length values (allowed when
  // equal) are forwarded as one.
  const std::string& forward_fields() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace albsim::proxy
