// `albsim reproduce RECORD`: from one customer record to a scenario in the catalogue's format
// (the diagnosed cause's scenario, with the listener's timeouts inferred from the record's
// timings, its method and the sizes that matter for the cause), run for real in-process, and
// the customer's record beside albsim's, field by field.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <iosfwd>
#include <string>
#include <vector>

#include "albsim/diagnose/log_record.hpp"
#include "albsim/diagnose/record_reader.hpp"
#include "albsim/diagnose/redactor.hpp"
#include "albsim/scenarios/scenario.hpp"

namespace albsim::diagnose {

// A record that owns its values (the reader's records are views that the next read replaces).
class stored_record {
 public:
  stored_record() = default;
  explicit stored_record(const log_record& r);
  stored_record(const stored_record& other) : stored_record(other.view()) {}
  stored_record& operator=(const stored_record& other);
  const log_record& view() const { return view_; }

 private:
  void point();
  std::array<std::string, k_field_count> values_;
  log_record view_;
};

// RECORD: "FILE:LINE" (a line of a log in any format diagnose reads) or "-" (one record on
// standard input). Throws input_error naming the file and line when there is no record there.
stored_record read_record(const std::string& where, input_format format);

struct reproduce_options {
  std::string cause;      // empty = the first candidate; else one of the candidates
  double time_scale = 0;  // 0 = keep the scenario's own (short) timeouts; else customer × this
  std::string dir = scenarios::default_scenario_dir();
};

struct reproduction {
  std::string cause;
  std::vector<std::string> candidates;   // the diagnosis, first first
  std::string yaml;                      // the scenario, in the catalogue's format
  scenarios::scenario scenario;          // loaded from `yaml`
  double time_factor = 1;                // albsim's times = customer's × this
  std::vector<std::string> adjustments;  // what was taken from the record, in words
};

// Throws input_error when the record has no cause in the catalogue or `cause` is not a
// candidate, albsim::config_error when the scenario file is broken.
reproduction build_reproduction(const log_record& customer, const reproduce_options& options);

struct field_comparison {
  std::string field;
  std::string customer;
  std::string albsim;
  enum class mark { same, close, differs } result = mark::same;
  std::string why;  // for close and differs: the reason
};

// The fields side by side: status, upstream_status and sim_cause first (the customer's
// sim_cause is the diagnosed cause when the record has none).
std::vector<field_comparison> compare(const log_record& customer, const nlohmann::json& albsim,
                                      const reproduction& rep, const redactor& redact);
// True when status, upstream_status and sim_cause match.
bool reproduced(const std::vector<field_comparison>& rows);
void print_comparison(std::ostream& out, const std::string& where, const reproduction& rep,
                      const std::vector<field_comparison>& rows);

}  // namespace albsim::diagnose
