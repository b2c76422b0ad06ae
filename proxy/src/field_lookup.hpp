// Reading one field out of a header block kept as "Name: value\r\n" lines (what
// request_head::forward_fields() gives), for the fault injector, the plans and the journal.
#pragma once

#include <optional>
#include <string_view>

namespace albsim::proxy {

// The value of the first field called `name` (case-insensitive), without surrounding blanks.
std::optional<std::string_view> find_field(std::string_view fields, std::string_view name);

}  // namespace albsim::proxy
