#include "field_lookup.hpp"

#include <boost/beast/core/string.hpp>

namespace albsim::proxy {

std::optional<std::string_view> find_field(std::string_view fields, std::string_view name) {
  while (!fields.empty()) {
    const std::size_t end = fields.find("\r\n");
    const std::string_view line = fields.substr(0, end);
    fields.remove_prefix(end == std::string_view::npos ? fields.size() : end + 2);
    const std::size_t colon = line.find(':');
    if (colon != name.size() || !boost::beast::iequals(line.substr(0, colon), name)) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return value;
  }
  return std::nullopt;
}

}  // namespace albsim::proxy
