#include "albsim/diagnose/record_diagnoser.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "albsim/cause.hpp"
#include "albsim/config_error.hpp"
#include "albsim/scenarios/scenario.hpp"

namespace albsim::diagnose {
namespace {

// The weight of the usual latency learned so far against a new answer: a moving average
// over roughly the last 8 answers, as the balancer's own rule uses a recent average.
constexpr double k_latency_keep = 7.0 / 8.0;

std::string number_text(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string with_unit(double v, std::string_view unit) {
  return number_text(v) + (unit.empty() ? "" : " " + std::string(unit));
}

double bound(const condition& c) {
  return c.against == limit::none ? c.factor : limit_of(c.against).value * c.factor;
}

bool is_address(field f) {
  return f == field::client_ip || f == field::vip_addr || f == field::upstream_addr ||
         f == field::http_x_forwarded_for;
}

std::string shown(field f, std::string_view v, const redactor& redact) {
  if (v.empty()) return "-";
  if (is_address(f)) return redact.address(v);
  if (f == field::request_uri) {
    auto u = redact.uri(v);
    return u.size() > 120 ? u.substr(0, 100) + "… (" + std::to_string(u.size()) + " chars)" : u;
  }
  return std::string(v);
}

// The guide's advice for a cause, in the project's words: the `check` of its scenario file
// (the explanation the scenario proves). Loaded once per cause, only when printed.
std::string advice(std::string_view cause) {
  static std::mutex mutex;
  static std::map<std::string, std::string, std::less<>> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(cause); it != cache.end()) return it->second;
  std::string text;
  try {
    auto file =
        std::filesystem::path(scenarios::default_scenario_dir()) / (std::string(cause) + ".yaml");
    if (std::filesystem::exists(file))
      text = scenarios::load_scenario_file(file.string()).explain.check;
  } catch (const std::exception&) {
    text.clear();  // a broken scenario file costs the advice line only
  }
  cache.emplace(std::string(cause), text);
  return text;
}

}  // namespace

record_diagnoser::record_diagnoser() {
  const auto rules = rule_table();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto* info = find_cause(rules[i].cause);
    if (!info || info->status < 400 || info->status >= 600) continue;
    by_status_[static_cast<std::size_t>(info->status - 400)].push_back(
        static_cast<std::uint16_t>(i));
  }
}

std::optional<double> record_diagnoser::usual_latency(std::string_view upstream) const {
  auto it = latency_.find(upstream);
  if (it == latency_.end()) return std::nullopt;
  return it->second;
}

void record_diagnoser::learn(const log_record& r) {
  const int status = r.status();
  if (status < 200 || status >= 400 || !r.has(field::upstream_addr)) return;
  auto t = r.number(field::upstream_response_time);
  if (!t) return;
  auto addr = r.text(field::upstream_addr);
  if (auto it = latency_.find(addr); it != latency_.end()) {
    it->second = k_latency_keep * it->second + (1 - k_latency_keep) * *t;
  } else if (latency_.size() < k_max_upstreams) {
    latency_.emplace(std::string(addr), *t);
  }
}

record_diagnoser::outcome record_diagnoser::evaluate(const condition& c,
                                                     const log_record& r) const {
  auto yes = [](bool b) { return b ? outcome::holds : outcome::fails; };
  switch (c.kind) {
    case test::absent:
      return yes(!r.has(c.on));
    case test::present:
      return yes(r.has(c.on));
    case test::same_as_status: {
      auto v = r.number(c.on);
      return yes(v && static_cast<int>(*v) == r.status());
    }
    case test::other_code: {
      auto v = r.number(c.on);
      return yes(v && static_cast<int>(*v) != r.status());
    }
    case test::absent_or_same_code: {
      auto v = r.number(c.on);
      return yes(!r.has(c.on) || (v && static_cast<int>(*v) == r.status()));
    }
    case test::code_is: {
      auto v = r.number(c.on);
      return yes(v && *v == c.factor);
    }
    case test::equals: {
      auto v = r.text(c.on);
      return yes(v.size() == c.text.size() &&
                 std::equal(v.begin(), v.end(), c.text.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) ==
                          std::tolower(static_cast<unsigned char>(b));
                 }));
    }
    case test::longer_than:
      if (!r.has(c.on)) return outcome::unknown;
      return yes(static_cast<double>(r.text(c.on).size()) > bound(c));
    case test::at_least:
    case test::at_most:
    case test::near: {
      auto v = r.number(c.on);
      if (!v) return outcome::unknown;
      const double b = c.against == limit::none ? c.factor : limit_of(c.against).value;
      if (c.kind == test::at_least) return yes(*v >= bound(c));
      if (c.kind == test::at_most) return yes(*v <= bound(c));
      return yes(std::fabs(*v - b) <= b * c.factor);
    }
    case test::over_usual_latency:
    case test::under_usual_latency: {
      auto v = r.number(c.on);
      auto usual = usual_latency(r.text(field::upstream_addr));
      if (!v || !usual) return outcome::unknown;
      return yes(c.kind == test::over_usual_latency ? *v >= c.factor * *usual
                                                    : *v < c.factor * *usual);
    }
  }
  return outcome::unknown;
}

ranking record_diagnoser::rank(const log_record& r) const {
  ranking k;
  if (!r.has(field::status) || r.status() == 0) {
    k.kind = r.has(field::status) ? verdict::unknown_status : verdict::no_status;
    return k;
  }
  const int status = r.status();
  if (status < 400) {
    k.kind = verdict::not_an_error;
    return k;
  }
  const std::vector<std::uint16_t>* rows =
      status < 600 ? &by_status_[static_cast<std::size_t>(status - 400)] : nullptr;
  if (!rows || rows->empty()) {
    k.kind = r.upstream_status() == status ? verdict::passed_through : verdict::unknown_status;
    return k;
  }
  k.kind = verdict::cause;
  const auto rules = rule_table();
  for (auto index : *rows) {
    const auto& rule = rules[index];
    candidate c;
    c.rule = index;
    bool ruled_out = false;
    for (std::size_t i = 0; i < rule.conditions.size() && i < 32; ++i) {
      const auto& cond = rule.conditions[i];
      switch (evaluate(cond, r)) {
        case outcome::holds:
          c.holds |= 1u << i;
          c.score = static_cast<std::int16_t>(c.score + cond.weight);
          break;
        case outcome::fails:
          ruled_out = ruled_out || cond.required;
          break;
        case outcome::unknown:
          c.unknown |= 1u << i;
          break;
      }
      if (ruled_out) break;
    }
    if (!ruled_out && k.count < ranking::k_max) k.candidates[k.count++] = c;
  }
  if (k.count == 0) {
    // Every row ruled out: the status is the catalogue's, the record is like none of its
    // causes; a backend's answer is the one reading left.
    k.kind = r.upstream_status() == status ? verdict::passed_through : verdict::unknown_status;
    return k;
  }
  std::stable_sort(k.candidates.begin(),
                   k.candidates.begin() + static_cast<std::ptrdiff_t>(k.count),
                   [](const candidate& a, const candidate& b) { return a.score > b.score; });
  k.tied = 1;
  while (k.tied < k.count && k.candidates[k.tied].score == k.top().score) ++k.tied;
  if (k.tied > 1) k.set = shared_set(rules[k.top().rule].cause, rules[k.candidates[1].rule].cause);
  return k;
}

std::string verdict_label(const ranking& k) {
  switch (k.kind) {
    case verdict::cause:
      if (k.set) return std::string(k.set->name);
      return std::string(rule_table()[k.top().rule].cause);
    case verdict::passed_through:
      return "passed through from the backend";
    case verdict::unknown_status:
      return "unknown status";
    case verdict::not_an_error:
      return "not an error (status < 400)";
    case verdict::no_status:
      return "no status";
  }
  return "?";
}

std::string record_diagnoser::evidence(const condition& c, const log_record& r,
                                       const redactor& redact) const {
  const std::string name(field_name(c.on));
  const auto unit = field_unit(c.on);
  const std::string value = shown(c.on, r.text(c.on), redact);
  auto limit_text = [&] {
    if (c.against == limit::none) return with_unit(c.factor, unit);
    const auto& l = limit_of(c.against);
    std::string scaled = c.factor == 1 ? "" : number_text(c.factor) + " × ";
    return scaled + with_unit(l.value, l.unit) + " (" + std::string(l.source) + ")";
  };
  auto v = r.number(c.on);
  const std::string measured = v ? with_unit(*v, unit) : value;
  switch (c.kind) {
    case test::absent:
      return name + " is - (no value)";
    case test::present:
      return name + " = " + value;
    case test::same_as_status:
      return name + " " + value +
             " = status: the backend may have returned it (the guide's first check)";
    case test::other_code:
      return name + " " + value + " ≠ status " + std::to_string(r.status()) +
             ": the backend's code was replaced";
    case test::absent_or_same_code:
      return r.has(c.on) ? name + " " + value + " = status"
                         : name + " is - (the request did not reach the backend whole)";
    case test::code_is:
      return name + " " + value +
             ": the balancer's code for an exchange that failed after the request was sent "
             "(albsim's rule, docs/status-rules.md)";
    case test::equals:
      return name + " = " + value;
    case test::longer_than:
      return name + " is " + std::to_string(r.text(c.on).size()) + " characters > " + limit_text();
    case test::at_least:
      return name + " = " + measured + " ≥ " + limit_text();
    case test::at_most:
      return name + " = " + measured + " ≤ " + limit_text();
    case test::near: {
      const auto& l = limit_of(c.against);
      return name + " = " + measured + " ≈ " + with_unit(l.value, l.unit) + " (" +
             std::string(l.source) + "), within " + number_text(c.factor * 100) + " %";
    }
    case test::over_usual_latency:
    case test::under_usual_latency: {
      auto usual = usual_latency(r.text(field::upstream_addr));
      return name + " = " + measured + (c.kind == test::over_usual_latency ? " ≥ " : " < ") +
             number_text(c.factor) + " × " + (usual ? with_unit(*usual, "s") : "?") +
             " (this upstream's usual latency in the log; albsim's rule, as the simulator's)";
    }
  }
  return name;
}

nlohmann::json record_diagnoser::describe(const log_record& r, const ranking& k,
                                          const redactor& redact, const std::string& where) const {
  nlohmann::json out;
  out["line"] = r.line();
  out["where"] = where;
  out["status"] = r.has(field::status) ? nlohmann::json(r.status()) : nlohmann::json("-");
  out["upstream_status"] =
      std::string(r.has(field::upstream_status) ? r.text(field::upstream_status) : "-");
  static constexpr const char* kinds[] = {"cause", "passed-through", "unknown-status",
                                          "not-an-error", "no-status"};
  out["verdict"] = kinds[static_cast<int>(k.kind)];
  out["label"] = verdict_label(k);
  if (r.has(field::sim_cause)) out["sim_cause"] = std::string(r.text(field::sim_cause));
  if (k.kind == verdict::passed_through) {
    out["explanation"] = "status equals upstream_status: the backend answered " +
                         std::to_string(r.status()) + " and the balancer passed it on (" +
                         std::string(k_passed_through_source) +
                         "); check why the backend returns it";
  }
  if (k.kind == verdict::unknown_status || k.kind == verdict::no_status) {
    nlohmann::json fields = nlohmann::json::object();
    for (std::size_t i = 0; i < k_field_count; ++i) {
      auto f = static_cast<field>(i);
      if (r.has(f)) fields[std::string(field_name(f))] = shown(f, r.text(f), redact);
    }
    out["fields"] = fields;
  }
  const auto rules = rule_table();
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t n = 0; n < k.count; ++n) {
    const auto& c = k.candidates[n];
    const auto& rule = rules[c.rule];
    nlohmann::json e = nlohmann::json::array();
    nlohmann::json missing = nlohmann::json::array();
    for (std::size_t i = 0; i < rule.conditions.size(); ++i) {
      const auto& cond = rule.conditions[i];
      if (c.holds & (1u << i)) {
        if (cond.weight > 0 || cond.required) e.push_back(evidence(cond, r, redact));
      } else if (c.unknown & (1u << i)) {
        const bool usual =
            cond.kind == test::over_usual_latency || cond.kind == test::under_usual_latency;
        missing.push_back(std::string(field_name(cond.on)) +
                          (usual && r.has(cond.on) ? " (no successful records of this upstream "
                                                     "to compare with)"
                                                   : ""));
      }
    }
    nlohmann::json item{{"cause", std::string(rule.cause)},
                        {"score", c.score},
                        {"source", std::string(rule.source)},
                        {"evidence", e},
                        {"missing", missing},
                        {"separate_by", std::string(rule.separate_by)},
                        {"advice", advice(rule.cause)},
                        {"scenario", "albsim scenarios run " + std::string(rule.cause)},
                        {"reproduce", "albsim reproduce " + where +
                                          (n == 0 ? "" : " --cause " + std::string(rule.cause))}};
    list.push_back(std::move(item));
  }
  out["candidates"] = list;
  if (k.set) {
    out["ambiguity"] = {{"set", std::string(k.set->name)},
                        {"separate_by", std::string(k.set->separate_by)}};
  }
  return out;
}

std::string record_diagnoser::describe_text(const log_record& r, const ranking& k,
                                            const redactor& redact,
                                            const std::string& where) const {
  auto j = describe(r, k, redact, where);
  std::ostringstream out;
  out << where << ": status " << j["status"].dump() << ", upstream_status "
      << j["upstream_status"].get<std::string>() << " -> " << j["label"].get<std::string>() << "\n";
  if (j.contains("sim_cause"))
    out << "  albsim's own record says sim_cause " << j["sim_cause"].get<std::string>()
        << " (not used for the ranking)\n";
  if (j.contains("explanation")) out << "  " << j["explanation"].get<std::string>() << "\n";
  if (j.contains("fields")) {
    out << "  not a status the catalogue knows, and not the backend's; the record:";
    for (auto& [key, value] : j["fields"].items())
      out << " " << key << "=" << value.get<std::string>();
    out << "\n";
  }
  std::size_t n = 0;
  for (const auto& c : j["candidates"]) {
    out << "  " << ++n << ". " << c["cause"].get<std::string>() << " (score "
        << c["score"].get<int>() << ", " << c["source"].get<std::string>() << ")\n";
    for (const auto& e : c["evidence"]) out << "       + " << e.get<std::string>() << "\n";
    for (const auto& m : c["missing"]) out << "       ? missing: " << m.get<std::string>() << "\n";
    if (n == 1) {
      if (!c["advice"].get<std::string>().empty())
        out << "       check: " << c["advice"].get<std::string>() << "\n";
      out << "       run:   " << c["scenario"].get<std::string>() << "   or   "
          << c["reproduce"].get<std::string>() << "\n";
    }
  }
  if (j.contains("ambiguity")) {
    out << "  the log cannot separate the first " << k.tied << " ("
        << j["ambiguity"]["set"].get<std::string>()
        << "); what separates them: " << j["ambiguity"]["separate_by"].get<std::string>() << "\n";
  } else if (k.tied > 1) {
    out << "  the first " << k.tied
        << " tie; separate by: " << j["candidates"][0]["separate_by"].get<std::string>() << "\n";
  }
  return out.str();
}

}  // namespace albsim::diagnose
