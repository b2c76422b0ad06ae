// libFuzzer harness: the proxy config loader (albsim/proxy/config.hpp).
// Properties: a load succeeds or names file and message (load_property.hpp); a config that loads
// loads again to the same config; and applying the same text onto the loaded config (what a
// scenario delta does) changes nothing: every field present overrides with the value it already
// has, every list is replaced by an equal one.
#include <cstdint>
#include <string>

#include "load_property.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace albsim;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto load = [](const std::string& t) {
    return proxy::load_proxy_config_text(t, fuzz::k_input_name);
  };
  auto first = fuzz::load_or_reject(text, load);
  if (!first) return 0;
  auto second = fuzz::load_or_reject(text, load);
  if (!second) std::abort();  // loaded once, rejected the second time
  fuzz::require_same(fuzz::fingerprint(*first), fuzz::fingerprint(*second),
                     "proxy config: two loads of one text differ");
  auto reapplied = fuzz::load_or_reject(text, [&](const std::string& t) {
    proxy::proxy_config c = *first;
    proxy::apply_proxy_config_delta(c, t, fuzz::k_input_name);
    return c;
  });
  if (!reapplied) std::abort();
  fuzz::require_same(fuzz::fingerprint(*first), fuzz::fingerprint(*reapplied),
                     "proxy config: applying the file onto its own result changed it");
  return 0;
}
