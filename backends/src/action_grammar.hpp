// The action vocabulary shared by scripts and the X-Albsim-Backend override header: the words
// naming an action kind, the drip forms, and the override header's grammar (docs/backend.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "albsim/backend/backend_options.hpp"

namespace albsim::backend {

// Bounds on every duration and size an action names, in a script or in the header alike.
constexpr std::chrono::nanoseconds k_max_duration = std::chrono::hours(24);
constexpr std::uint64_t k_max_size = 1ull << 50;  // 1 PiB: "any size", but a bound

// "respond", "close", "reset", "malformed-status", ... ; nullopt for an unknown word.
std::optional<action_kind> parse_action_kind(std::string_view word);

// A drip of `bytes_per_s`: chunks every 100 ms (or single bytes when the rate is below 10/s).
drip_options drip_from_rate(std::uint64_t bytes_per_s);

// Why a header an action adds would not be one well-formed field line ("" when it is): the name
// must be an RFC 9110 token and the value free of CR, LF and NUL, so that no script or override
// can inject a line break into the response (and through it into what a proxy relays).
std::string header_field_problem(std::string_view name, std::string_view value);

// Parses an X-Albsim-Backend value into `out`; returns an error message, empty when valid.
std::string parse_override(std::string_view text, backend_action& out);

}  // namespace albsim::backend
