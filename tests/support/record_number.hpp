// Reading an access-log record's timing and size fields in the proxy's integration tests: the
// record writes "-" where a value does not apply, and a test compares it with a number.
#pragma once

#include <nlohmann/json.hpp>

namespace albsim::test {

// The number in `j[key]`, or -1 where the record holds something else ("-").
inline double num(const nlohmann::json& j, const char* key) {
  return j.at(key).is_number() ? j.at(key).get<double>() : -1.0;
}

}  // namespace albsim::test
