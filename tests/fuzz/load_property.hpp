// The property every file loader must keep (docs/robustness.md): bad input gets a clear answer.
// Loading either succeeds or throws albsim::config_error naming the file it was given and a
// message; no other exception, crash or hang. A load that succeeds is repeatable: loading the
// same text again gives the same result.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

#include "albsim/config_error.hpp"
#include "config_fingerprint.hpp"

namespace albsim::fuzz {

// The name the harnesses give their input, as a file name would appear in errors (no .yaml:
// the scenario loader would then insist the file be named after the scenario's ID).
inline const std::string k_input_name = "fuzz-input";

// Runs `load(text)`; returns its result, or nullopt when it threw a well-formed config_error.
// Aborts (a finding) on any other outcome.
template <typename Load>
auto load_or_reject(const std::string& text, Load load) -> std::optional<decltype(load(text))> {
  try {
    return load(text);
  } catch (const config_error& e) {
    if (e.file() != k_input_name || e.message().empty() || e.line() < 0) {
      std::fprintf(stderr, "config_error without file or message: '%s'\n", e.what());
      std::abort();
    }
    return std::nullopt;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "a loader threw something other than config_error: %s\n", e.what());
    std::abort();
  }
}

// Aborts when two results differ, printing both.
inline void require_same(const nlohmann::json& a, const nlohmann::json& b, const char* what) {
  if (a == b) return;
  std::fprintf(stderr, "%s\n  first:  %s\n  second: %s\n", what, a.dump().c_str(),
               b.dump().c_str());
  std::abort();
}

}  // namespace albsim::fuzz
