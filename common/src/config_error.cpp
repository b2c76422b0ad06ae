#include "albsim/config_error.hpp"

namespace albsim {
namespace {

std::string render(const std::string& file, int line, const std::string& field,
                   const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!field.empty()) out += "field '" + field + "': ";
  out += message;
  return out;
}

}  // namespace

config_error::config_error(std::string file, int line, std::string field, std::string message)
    : std::runtime_error(render(file, line, field, message)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)),
      message_(std::move(message)) {}

}  // namespace albsim
