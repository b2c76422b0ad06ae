// `--redact`: IP addresses become stable short hashes and query strings are dropped in
// everything diagnose and reproduce print, so that a report can be shared.
#pragma once

#include <string>
#include <string_view>

namespace albsim::diagnose {

class redactor {
 public:
  explicit redactor(bool on = false) : on_(on) {}
  bool on() const { return on_; }
  // "10.1.2.3" -> "ip-5d1c0a8e"; "10.1.2.3:8080" keeps the port; a list ("a, b") each one.
  std::string address(std::string_view value) const;
  // "/a/b?token=x" -> "/a/b?…"
  std::string uri(std::string_view value) const;

 private:
  bool on_;
};

}  // namespace albsim::diagnose
