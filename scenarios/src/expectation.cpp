#include "albsim/scenarios/expectation.hpp"

#include <cmath>
#include <cstdio>

namespace albsim::scenarios {
namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string observed_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

bool is_dash(const nlohmann::json& v) { return v.is_string() && v.get<std::string>() == "-"; }

bool equals(const value_matcher& m, const std::string& text, const nlohmann::json& v) {
  if (v.is_number() && m.number) return std::fabs(v.get<double>() - *m.number) < 1e-9;
  if (v.is_boolean()) return (v.get<bool>() ? "true" : "false") == text;
  return observed_text(v) == text;
}

}  // namespace

std::string value_matcher::describe() const {
  switch (k) {
    case kind::equals:
      return "= " + text;
    case kind::approx:
      return "≈ " + number_text(value) + " ± " + number_text(tolerance);
    case kind::range: {
      std::string out;
      if (at_least) out = ">= " + number_text(*at_least);
      if (at_most) out += (out.empty() ? "" : " and ") + std::string("<= ") + number_text(*at_most);
      return out;
    }
    case kind::present:
      return "present (not \"-\")";
    case kind::absent:
      return "absent or \"-\"";
    case kind::one_of: {
      std::string out = "one of [";
      for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + choices[i];
      return out + "]";
    }
    case kind::same_as:
      return "same as " + text;
  }
  return "?";
}

const nlohmann::json* lookup(const nlohmann::json& observations, const std::string& field) {
  const nlohmann::json* node = &observations;
  std::size_t pos = 0;
  // Header names contain no dots, so a plain split works; keys are tried whole first when
  // the rest of the path names an existing key (e.g. an IP address in a key).
  while (pos <= field.size()) {
    if (!node->is_object()) return nullptr;
    std::size_t dot = field.find('.', pos);
    std::string key = field.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) return node;
    pos = dot + 1;
  }
  return node;
}

check_result check(const expectation& e, const nlohmann::json& observations) {
  check_result r{e, false, "(not observed)"};
  const nlohmann::json* v = lookup(observations, e.field);
  const value_matcher& m = e.matcher;
  if (m.k == value_matcher::kind::absent) {
    r.pass = v == nullptr || v->is_null() || is_dash(*v);
    if (v) r.observed = observed_text(*v);
    return r;
  }
  if (v == nullptr || v->is_null()) return r;
  r.observed = observed_text(*v);
  switch (m.k) {
    case value_matcher::kind::equals:
      r.pass = equals(m, m.text, *v);
      break;
    case value_matcher::kind::approx:
      r.pass = v->is_number() && std::fabs(v->get<double>() - m.value) <= m.tolerance + 1e-9;
      break;
    case value_matcher::kind::range:
      r.pass = v->is_number() && (!m.at_least || v->get<double>() >= *m.at_least - 1e-9) &&
               (!m.at_most || v->get<double>() <= *m.at_most + 1e-9);
      break;
    case value_matcher::kind::present:
      r.pass = !is_dash(*v) && !(v->is_string() && v->get<std::string>().empty());
      break;
    case value_matcher::kind::one_of:
      for (const auto& c : m.choices) {
        value_matcher single;
        single.text = c;
        try {
          std::size_t used = 0;
          double d = std::stod(c, &used);
          if (used == c.size()) single.number = d;
        } catch (...) {
        }
        r.pass = r.pass || equals(single, c, *v);
      }
      break;
    case value_matcher::kind::same_as: {
      const nlohmann::json* other = lookup(observations, m.text);
      r.pass = other && !other->is_null() && !is_dash(*other) && !is_dash(*v) && *other == *v;
      r.observed += " vs " + (other ? observed_text(*other) : std::string("(not observed)"));
      break;
    }
    case value_matcher::kind::absent:
      break;
  }
  return r;
}

}  // namespace albsim::scenarios
