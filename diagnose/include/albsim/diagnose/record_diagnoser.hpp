// Ranks the candidate causes of one access-log record with the rule table (rule_table.hpp),
// and explains a ranking: the evidence for each candidate (field, value, limit), the fields
// that were missing, what would separate candidates the log cannot, the command that
// reproduces it. Ranking allocates nothing (it runs for every record of a file); the
// explanation is built only for records that are printed.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "albsim/diagnose/log_record.hpp"
#include "albsim/diagnose/redactor.hpp"
#include "albsim/diagnose/rule_table.hpp"

namespace albsim::diagnose {

enum class verdict {
  cause,           // candidates from the catalogue
  passed_through,  // a status albsim does not know, equal to upstream_status: the backend's
  unknown_status,  // a status albsim does not know, not the backend's
  not_an_error,    // status below 400
  no_status,       // the record has no status
};

struct candidate {
  std::uint16_t rule = 0;  // index into rule_table()
  std::int16_t score = 0;
  std::uint32_t holds = 0;    // bit i: condition i held
  std::uint32_t unknown = 0;  // bit i: condition i could not be checked (field missing)
};

struct ranking {
  static constexpr std::size_t k_max = 16;
  verdict kind = verdict::no_status;
  std::array<candidate, k_max> candidates{};
  std::size_t count = 0;
  std::size_t tied = 0;                // how many candidates share the top score
  const ambiguity_set* set = nullptr;  // when the tied leaders are a documented set
  const candidate& top() const { return candidates[0]; }
};

class record_diagnoser {
 public:
  record_diagnoser();

  ranking rank(const log_record& r) const;
  // Learns the backends' usual latency from successful records (the 499 rules compare with it).
  void learn(const log_record& r);

  // The ranking as JSON: {"line", "status", "upstream_status", "verdict", "candidates": [...],
  // "ambiguity", "fields"} ; `where` is "FILE:LINE" for the reproduce command.
  nlohmann::json describe(const log_record& r, const ranking& k, const redactor& redact,
                          const std::string& where) const;
  // The same as text, a few lines per record.
  std::string describe_text(const log_record& r, const ranking& k, const redactor& redact,
                            const std::string& where) const;

  // The upstream's usual latency in seconds, if learned.
  std::optional<double> usual_latency(std::string_view upstream_addr) const;

 private:
  enum class outcome { holds, fails, unknown };
  outcome evaluate(const condition& c, const log_record& r) const;
  std::string evidence(const condition& c, const log_record& r, const redactor& redact) const;

  // Rule indices per status (index = status - 400), in table order.
  std::array<std::vector<std::uint16_t>, 200> by_status_;
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, double, hash, std::equal_to<>> latency_;
  static constexpr std::size_t k_max_upstreams = 10'000;  // bounds memory on huge logs
};

// The label of a ranking for counting: the top cause, or the set's name when the leaders tie.
std::string verdict_label(const ranking& k);

}  // namespace albsim::diagnose
