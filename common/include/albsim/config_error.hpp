// The one error type for every bad configuration, script or scenario file: it names the file,
// the line and the field so a user can fix the input without guessing.
#pragma once

#include <stdexcept>
#include <string>

namespace albsim {

class config_error : public std::runtime_error {
 public:
  // `line` is 1-based; 0 means "not known" (e.g. the file could not be opened).
  config_error(std::string file, int line, std::string field, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string field_;
  std::string message_;
};

}  // namespace albsim
