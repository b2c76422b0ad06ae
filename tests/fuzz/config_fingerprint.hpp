// Every field of a loaded proxy config, backend script and scenario as JSON, so the harnesses can
// tell whether two loads gave the same result (the structs have no equality of their own, and
// no renderer back to YAML exists to round-trip through).
#pragma once

#include <nlohmann/json.hpp>

#include "albsim/backend/backend_options.hpp"
#include "albsim/proxy/config.hpp"
#include "albsim/scenarios/scenario.hpp"

namespace albsim::fuzz {

nlohmann::json fingerprint(const proxy::proxy_config& c);
nlohmann::json fingerprint(const backend::backend_options& o);
nlohmann::json fingerprint(const backend::backend_action& a);
nlohmann::json fingerprint(const scenarios::scenario& s);

}  // namespace albsim::fuzz
