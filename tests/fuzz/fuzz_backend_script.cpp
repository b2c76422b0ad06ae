// libFuzzer harness: the backend script loader (albsim/backend/backend_options.hpp).
// Properties: a load succeeds or names file and message (load_property.hpp); a script that loads
// loads again to the same options.
#include <cstdint>
#include <string>

#include "load_property.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace albsim;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto load = [](const std::string& t) {
    return backend::load_backend_script_text(t, fuzz::k_input_name);
  };
  auto first = fuzz::load_or_reject(text, load);
  if (!first) return 0;
  auto second = fuzz::load_or_reject(text, load);
  if (!second) std::abort();
  fuzz::require_same(fuzz::fingerprint(*first), fuzz::fingerprint(*second),
                     "backend script: two loads of one text differ");
  return 0;
}
