// "Reading a record": a decision tree from the fields of one access-log record (only fields the
// real balancer writes, never sim_cause) to the causes it can be. The questions follow the
// outcome table's vocabulary (docs/status-rules.md): the status first, then whether a backend
// was chosen (upstream_addr), what it answered (upstream_status) and which timer or event ended
// the exchange. A leaf may name several causes
// when the record alone cannot tell them apart; its hint says what can.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace albsim::scenarios {

struct decision_node {
  std::string answer;  // the answer that leads here from the parent's question
  std::function<bool(const nlohmann::json&)> applies;  // tested on the record
  std::string question;                                // asked here when there are children
  std::vector<decision_node> children;                 // the first whose `applies` holds is taken
  std::vector<std::string> causes;                     // a leaf: the candidate cause IDs
  std::string hint;                                    // a leaf: what tells the candidates apart
};

class record_reader {
 public:
  record_reader();

  const decision_node& root() const { return root_; }
  // The leaf's candidates for `record`; `path` (optional) gets the answers taken.
  std::vector<std::string> classify(const nlohmann::json& record,
                                    std::vector<std::string>* path = nullptr) const;

 private:
  decision_node root_;
};

}  // namespace albsim::scenarios
