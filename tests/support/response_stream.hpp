// Splits the bytes a client received into HTTP responses with Beast's parser (chunked bodies
// decoded), so a test can count answers on a connection and read each one exactly.
#pragma once

#include <string>
#include <vector>

namespace albsim::test {

struct received_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;  // decoded
  bool chunked = false;
  std::string header(const std::string& name) const;  // the first value, or ""
};

struct response_stream {
  std::vector<received_response> responses;
  bool trailing_garbage = false;  // bytes after the last response that do not parse
  bool incomplete = false;        // the last response started but did not end
};

response_stream split_responses(const std::string& raw);

}  // namespace albsim::test
