#include "albsim/diagnose/reproduction.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "albsim/diagnose/record_diagnoser.hpp"
#include "albsim/diagnose/record_reader.hpp"
#include "albsim/yaml_cursor.hpp"

namespace albsim::diagnose {
namespace {

using std::chrono::duration;
using std::chrono::nanoseconds;

// Which knob of a scenario a cause's timing is, and which record field shows it (albsim's own
// reading of the guide: 504 #3 names upstream_response_time, 504 #2 upstream_connect_time,
// 408 #1 the request timeout, which request_time shows).
enum class knob { listener_request_timeout, connect_timeout };
struct timing_row {
  std::string_view cause;
  field shows;
  knob sets;
};
constexpr timing_row k_timings[] = {
    {"504-request-timeout", field::upstream_response_time, knob::listener_request_timeout},
    {"504-connect-timeout", field::upstream_connect_time, knob::connect_timeout},
    {"408-request-incomplete", field::request_time, knob::listener_request_timeout},
    {"408-client-slow-link", field::request_time, knob::listener_request_timeout},
    {"408-bandwidth-throttled", field::request_time, knob::listener_request_timeout},
};
constexpr double k_min_request_timeout_s = 1, k_max_request_timeout_s = 180;  // 1-180 s [C]
constexpr double k_min_connect_timeout_s = 0.1;                               // albsim's own floor

// Methods that need no body, so the scenario's request stays valid with them.
constexpr std::string_view k_bodyless_methods[] = {"GET", "HEAD", "DELETE", "OPTIONS"};

double seconds_of(const YAML::Node& n, double fallback) {
  if (!n || !n.IsScalar()) return fallback;
  auto d = parse_duration(n.as<std::string>());
  return d ? duration<double>(*d).count() : fallback;
}

std::string duration_text(double s) {
  return format_duration(std::chrono::duration_cast<nanoseconds>(duration<double>(s)));
}

std::string num(double v, int decimals = 3) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Multiplies every duration the scenario waits for by f: the backends' delays, the client's
// timeout, and the approx/at_least/at_most of the timing expectations.
void scale_times(YAML::Node root, double f) {
  if (auto client = root["client"]; client && client["timeout"])
    client["timeout"] = duration_text(seconds_of(client["timeout"], 8) * f);
  if (auto backends = root["backends"]) {
    for (auto b : backends) {
      auto rules = b["script"]["rules"];
      if (!rules) continue;
      for (auto rule : rules) {
        if (auto action = rule["action"]; action && action["delay"])
          action["delay"] = duration_text(seconds_of(action["delay"], 0) * f);
      }
    }
  }
  auto scale_matcher = [f](YAML::Node m, bool bounds) {
    if (!m || !m.IsMap()) return;
    if (m["approx"]) {
      m["approx"] = m["approx"].as<double>() * f;
      if (m["tolerance"]) m["tolerance"] = std::max(m["tolerance"].as<double>() * f, 0.1);
    }
    if (bounds) {
      for (const char* k : {"at_least", "at_most"}) {
        if (m[k]) m[k] = m[k].as<double>() * f;
      }
    }
  };
  if (auto expect = root["expect"]) {
    if (expect["client"]) scale_matcher(expect["client"]["elapsed"], true);
    if (auto log = expect["log"]) {
      scale_matcher(log["request_time"], true);
      scale_matcher(log["upstream_response_time"], true);
      scale_matcher(log["upstream_connect_time"], false);  // "at_most 0.1" means "connect was fine"
    }
  }
}

std::string json_text(const nlohmann::json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

std::optional<double> json_number(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    auto s = j.get<std::string>();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return v;
  }
  return std::nullopt;
}

}  // namespace

stored_record::stored_record(const log_record& r) {
  for (std::size_t i = 0; i < k_field_count; ++i) {
    auto f = static_cast<field>(i);
    if (r.has(f)) values_[i] = std::string(r.text(f));
  }
  view_.set_line(r.line());
  point();
}

stored_record& stored_record::operator=(const stored_record& other) {
  if (this != &other) {
    values_ = other.values_;
    view_.set_line(other.view_.line());
    point();
  }
  return *this;
}

void stored_record::point() {
  const auto line = view_.line();
  view_.clear();
  view_.set_line(line);
  for (std::size_t i = 0; i < k_field_count; ++i) view_.set(static_cast<field>(i), values_[i]);
}

stored_record read_record(const std::string& where, input_format format) {
  std::string path = where;
  std::uint64_t line = 0;
  if (where != "-") {
    auto colon = where.rfind(':');
    if (colon == std::string::npos || colon + 1 == where.size() ||
        where.find_first_not_of("0123456789", colon + 1) != std::string::npos)
      throw input_error(where + ": RECORD must be FILE:LINE (a line number) or - (standard input)");
    path = where.substr(0, colon);
    line = std::stoull(where.substr(colon + 1));
  }
  record_reader reader(path, format);
  log_record r;
  while (reader.next(r)) {
    if (line == 0 || r.line() == line) return stored_record(r);
    if (r.line() > line) break;
  }
  for (const auto& m : reader.first_malformed()) {
    if (m.line == line || line == 0)
      throw input_error(path + ":" + std::to_string(m.line) + ": malformed record: " + m.reason);
  }
  throw input_error(where == "-" ? std::string("standard input: no access-log record")
                                 : path + ":" + std::to_string(line) +
                                       ": no access-log record on that line (the file has " +
                                       std::to_string(reader.lines()) + " lines)");
}

reproduction build_reproduction(const log_record& customer, const reproduce_options& o) {
  record_diagnoser diagnoser;
  const ranking k = diagnoser.rank(customer);
  if (k.kind != verdict::cause) {
    throw input_error(
        "status " + std::string(customer.text(field::status)) + " with upstream_status " +
        (customer.has(field::upstream_status) ? std::string(customer.text(field::upstream_status))
                                              : "-") +
        ": " + verdict_label(k) + "; no cause of the catalogue to reproduce");
  }
  reproduction rep;
  for (std::size_t i = 0; i < k.count; ++i)
    rep.candidates.emplace_back(rule_table()[k.candidates[i].rule].cause);
  rep.cause = o.cause.empty() ? rep.candidates.front() : o.cause;
  if (std::find(rep.candidates.begin(), rep.candidates.end(), rep.cause) == rep.candidates.end()) {
    std::string list;
    for (const auto& c : rep.candidates) list += (list.empty() ? "" : ", ") + c;
    throw input_error("--cause " + rep.cause + " is not a candidate for this record (" + list +
                      ")");
  }
  if (!o.cause.empty() && o.cause != rep.candidates.front())
    rep.adjustments.push_back("cause " + rep.cause + " chosen with --cause (first candidate: " +
                              rep.candidates.front() + ")");
  if (o.cause.empty() && k.tied > 1)
    rep.adjustments.push_back("the log cannot separate the first " + std::to_string(k.tied) +
                              " candidates (" + verdict_label(k) +
                              "): this runs the first; --cause ID runs another");
  const std::string file = (std::filesystem::path(o.dir) / (rep.cause + ".yaml")).string();
  std::ifstream in(file);
  if (!in) throw input_error(file + ": cannot open the scenario of " + rep.cause);
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root = YAML::Load(text.str());

  // Timing: the knob the cause's time shows, from the record.
  for (const auto& t : k_timings) {
    if (t.cause != rep.cause) continue;
    auto customer_s = customer.number(t.shows);
    double scenario_s = 0;
    YAML::Node listener;
    if (t.sets == knob::listener_request_timeout) {
      if (root["proxy"] && root["proxy"]["listeners"] && root["proxy"]["listeners"].size() > 0)
        listener = root["proxy"]["listeners"][0];
      scenario_s = seconds_of(
          listener ? listener["request_timeout"] : YAML::Node(),
          duration<double>(scenarios::base_proxy_config().listeners[0].request_timeout).count());
    } else {
      scenario_s = seconds_of(
          root["proxy"] ? root["proxy"]["limits"]["upstream_connect_timeout"] : YAML::Node(),
          duration<double>(proxy::limits_config{}.upstream_connect_timeout).count());
    }
    if (!customer_s || *customer_s <= 0) {
      rep.adjustments.push_back(std::string(field_name(t.shows)) +
                                " missing: the scenario keeps its own timing");
      break;
    }
    double wanted = scenario_s;
    if (o.time_scale > 0) {
      wanted = *customer_s * o.time_scale;
      if (t.sets == knob::listener_request_timeout)
        wanted = std::clamp(std::round(wanted), k_min_request_timeout_s, k_max_request_timeout_s);
      else
        wanted = std::max(wanted, k_min_connect_timeout_s);
      const double f = wanted / scenario_s;
      if (std::fabs(f - 1) > 1e-9) {
        scale_times(root, f);
        if (t.sets == knob::listener_request_timeout) {
          if (!listener) {
            root["proxy"]["listeners"][0]["name"] = "http";
            root["proxy"]["listeners"][0]["port"] = 0;
            listener = root["proxy"]["listeners"][0];
          }
          listener["request_timeout"] = duration_text(wanted);
        } else {
          root["proxy"]["limits"]["upstream_connect_timeout"] = duration_text(wanted);
        }
      }
    }
    rep.time_factor = wanted / *customer_s;
    rep.adjustments.push_back(
        std::string(t.sets == knob::listener_request_timeout ? "listener request timeout"
                                                             : "connect timeout") +
        " inferred from " + std::string(field_name(t.shows)) + " = " + num(*customer_s) +
        " s; run with " + num(wanted) + " s (times × " + num(rep.time_factor, 4) +
        (o.time_scale > 0 ? ", --time-scale)" : "; --time-scale 1 for the real value)"));
    break;
  }
  // The request: its method when the scenario's request can take it as it is.
  auto client = root["client"];
  const std::string action =
      client && client["action"] ? client["action"].as<std::string>() : "request";
  if (customer.has(field::request_method) && action == "request" &&
      rep.cause.rfind("405-", 0) != 0 && !(client && client["body_bytes"])) {
    const std::string method(customer.text(field::request_method));
    const std::string current =
        client && client["method"] ? client["method"].as<std::string>() : "GET";
    if (method != current &&
        std::find(std::begin(k_bodyless_methods), std::end(k_bodyless_methods), method) !=
            std::end(k_bodyless_methods) &&
        std::find(std::begin(k_bodyless_methods), std::end(k_bodyless_methods), current) !=
            std::end(k_bodyless_methods)) {
      root["client"]["method"] = method;
      rep.adjustments.push_back("method " + method + " from the record");
    }
  }
  if (rep.cause == "414-uri-too-long" && customer.has(field::request_uri) &&
      customer.text(field::request_uri).size() > limit_of(limit::uri_bytes).value) {
    root["client"]["target_bytes"] = customer.text(field::request_uri).size();
    rep.adjustments.push_back("request target of " +
                              std::to_string(customer.text(field::request_uri).size()) +
                              " bytes from the record");
  }
  if (auto len = customer.number(field::request_length);
      len && client && client["body_bytes"] && rep.cause == "502-mtu-blackhole") {
    rep.adjustments.push_back("body size kept from the scenario; the record's request_length is " +
                              num(*len, 0) + " bytes");
  }
  YAML::Emitter out;
  out << root;
  rep.yaml = std::string(out.c_str()) + "\n";
  rep.scenario = scenarios::load_scenario_text(rep.yaml, rep.cause + ".yaml");
  return rep;
}

std::vector<field_comparison> compare(const log_record& customer, const nlohmann::json& albsim,
                                      const reproduction& rep, const redactor& redact) {
  std::vector<field_comparison> rows;
  using mark = field_comparison::mark;
  auto theirs = [&](field f) {
    if (!customer.has(f)) return std::string("-");
    if (f == field::upstream_addr || f == field::vip_addr || f == field::client_ip)
      return redact.address(customer.text(f));
    return std::string(customer.text(f));
  };
  auto ours = [&](field f) {
    auto key = std::string(field_name(f));
    std::string v = albsim.contains(key) ? json_text(albsim[key]) : "-";
    if (f == field::upstream_addr || f == field::vip_addr || f == field::client_ip)
      return redact.address(v);
    return v;
  };
  auto exact = [&](field f, std::string why) {
    field_comparison c{std::string(field_name(f)), theirs(f), ours(f)};
    const auto a = customer.number(f);
    const auto b = albsim.contains(c.field) ? json_number(albsim[c.field]) : std::nullopt;
    const bool same = (a && b) ? *a == *b : c.customer == c.albsim;
    if (!customer.has(f) && !same)
      c.result = mark::close, c.why = "not in the customer's record";
    else if (!same)
      c.result = mark::differs, c.why = std::move(why);
    rows.push_back(std::move(c));
  };
  exact(field::status, "the reproduction took another path");
  exact(field::upstream_status, "the reproduction took another path");
  {
    field_comparison c{"sim_cause",
                       customer.has(field::sim_cause) ? std::string(customer.text(field::sim_cause))
                                                      : rep.cause + " (diagnosed)",
                       ours(field::sim_cause)};
    if (c.albsim != rep.cause) c.result = mark::differs, c.why = "albsim decided another cause";
    rows.push_back(std::move(c));
  }
  exact(field::request_method, "the scenario's request keeps its own method");
  for (auto f : {field::request_time, field::upstream_connect_time, field::upstream_response_time,
                 field::read_request_time, field::write_response_time}) {
    field_comparison c{std::string(field_name(f)), theirs(f), ours(f)};
    const auto a = customer.number(f);
    const auto b = albsim.contains(c.field) ? json_number(albsim[c.field]) : std::nullopt;
    const bool ms = field_unit(f) == "ms";
    if (a && b) {
      const double expected = *a * rep.time_factor;
      const double got = b.value_or(0);
      const double tolerance = (ms ? 250 : 0.25) + 0.2 * expected;
      if (std::fabs(got - expected) <= tolerance) {
        if (std::fabs(rep.time_factor - 1) > 1e-9 || *a != got)
          c.result = mark::close,
          c.why = std::fabs(rep.time_factor - 1) > 1e-9
                      ? "times × " + num(rep.time_factor, 4) + " (expected " + num(expected) + ")"
                      : "within " + num(tolerance) + (ms ? " ms" : " s");
      } else {
        c.result = mark::differs;
        c.why = "expected " + num(expected) + (ms ? " ms" : " s") + " (the customer's timing × " +
                num(rep.time_factor, 4) + "); loopback has none of the customer's network or load";
      }
    } else if (!customer.has(f) && b) {
      c.result = mark::close;
      c.why = "not in the customer's record";
    } else if (a.has_value() != b.has_value()) {
      c.result = mark::differs;
      c.why = a ? "albsim has no value here" : "the customer's value is not a number";
    }
    rows.push_back(std::move(c));
  }
  {
    field_comparison c{"request_length", theirs(field::request_length),
                       ours(field::request_length)};
    if (c.customer != c.albsim)
      c.result = mark::close, c.why = "albsim's scripted client sends its own headers";
    rows.push_back(std::move(c));
  }
  {
    field_comparison c{"body_bytes_sent", theirs(field::body_bytes_sent),
                       ours(field::body_bytes_sent)};
    if (c.customer != c.albsim)
      c.result = mark::close, c.why = "albsim's own error page or backend body";
    rows.push_back(std::move(c));
  }
  {
    field_comparison c{"upstream_addr", theirs(field::upstream_addr), ours(field::upstream_addr)};
    if ((c.customer == "-") != (c.albsim == "-"))
      c.result = mark::differs, c.why = "a backend was contacted on one side only";
    else if (c.customer != c.albsim)
      c.result = mark::close, c.why = "a loopback backend stands in for the customer's";
    rows.push_back(std::move(c));
  }
  exact(field::scheme, "the scenario's listener has another protocol");
  return rows;
}

bool reproduced(const std::vector<field_comparison>& rows) {
  std::size_t matched = 0;
  for (const auto& r : rows) {
    if ((r.field == "status" || r.field == "upstream_status" || r.field == "sim_cause") &&
        r.result == field_comparison::mark::same)
      ++matched;
  }
  return matched == 3;
}

void print_comparison(std::ostream& out, const std::string& where, const reproduction& rep,
                      const std::vector<field_comparison>& rows) {
  out << "reproducing " << where << " as " << rep.cause << " (candidates:";
  for (const auto& c : rep.candidates) out << " " << c;
  out << ")\n";
  for (const auto& a : rep.adjustments) out << "  " << a << "\n";
  char line[400];
  std::snprintf(line, sizeof line, "\n  %-24s %-34s %-26s\n", "field", "customer", "albsim");
  out << line;
  for (const auto& r : rows) {
    const char* m = r.result == field_comparison::mark::same    ? "="
                    : r.result == field_comparison::mark::close ? "~"
                                                                : "x";
    std::snprintf(line, sizeof line, "%s %-24s %-34.34s %-26.26s", m, r.field.c_str(),
                  r.customer.c_str(), r.albsim.c_str());
    out << line << (r.why.empty() ? "" : "  " + r.why) << "\n";
  }
  out << "\n= same   ~ differs for a known reason   x differs\n"
      << (reproduced(rows) ? "reproduced: status, upstream_status and sim_cause match\n"
                           : "NOT reproduced: status, upstream_status or sim_cause differ\n");
}

}  // namespace albsim::diagnose
