#include "proxy_runtime.hpp"

#include "access_log_record.hpp"

namespace albsim::proxy {

proxy_runtime::proxy_runtime(proxy_config c)
    : config(std::move(c)),
      outcomes(config.outcome_overrides, config.rewrite_to_502),
      limiter(config),
      links(config),
      injector(outcomes, config.fault_plans),
      journal(config.journal) {
  for (const auto& g : config.server_groups) {
    groups.push_back(std::make_unique<server_group>(g));
    group_by_name[g.name] = groups.back().get();
  }
  if (config.instance.bandwidth_bytes_per_s > 0) {
    // A 16 KiB burst: small exchanges pass at once, large transfers are paced.
    double rate = static_cast<double>(config.instance.bandwidth_bytes_per_s);
    bandwidth_in = std::make_shared<token_bucket>(rate, 16384.0);
    bandwidth_out = std::make_shared<token_bucket>(rate, 16384.0);
  }
}

void proxy_runtime::observe(const access_log_record& r, std::string_view request_fields,
                            const fault_injection& inj) {
  journal.add(r, request_fields, inj);
  if (config.admin.enabled) metrics.observe(r);  // only the admin listener reads them
  if (inj.decided) injector.recorded.fetch_add(1, std::memory_order_release);
}

server_group* proxy_runtime::group(const std::string& name) const {
  auto it = group_by_name.find(name);
  return it == group_by_name.end() ? nullptr : it->second;
}

}  // namespace albsim::proxy
