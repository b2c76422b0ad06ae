// The admin API's routes that change the running proxy — a server's weight and health, the
// instance's, a listener's and a rule's QPS limit, a listener's client link — and GET /config,
// which shows the config with every such change in it (docs/retry-kit.md, "The admin API").
// Each handler checks the whole body before it applies anything.
#pragma once

#include "admin_call.hpp"

namespace albsim::proxy {

admin_reply get_config(admin_call& c);
admin_reply put_server(admin_call& c);                // PUT /servers/{group}/{index}
admin_reply put_instance_qps(admin_call& c);          // PUT /instance/qps
admin_reply put_listener_qps(admin_call& c);          // PUT /listeners/{name}/qps
admin_reply put_rule_qps(admin_call& c);              // PUT /listeners/{name}/rules/{rule}/qps
admin_reply put_listener_client_link(admin_call& c);  // PUT /listeners/{name}/client-link

}  // namespace albsim::proxy
