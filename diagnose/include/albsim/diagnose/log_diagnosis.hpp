// `albsim diagnose [FILE…|-]` as a library call (the command is a thin wrapper, and the tests
// call it directly): reads every file with record_reader, ranks each record with
// record_diagnoser, prints the summary, or each record (`records`), or JSON Lines (`json`).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "albsim/diagnose/record_reader.hpp"

namespace albsim::diagnose {

struct diagnose_options {
  std::vector<std::string> files{"-"};
  input_format format = input_format::automatic;
  bool records = false;  // each record's candidates and evidence, then the summary
  bool json = false;     // one JSON object per record, then {"summary": ...}
  bool redact = false;
  bool progress = true;  // a progress line on stderr for big files when it is a terminal
};

// Exit status: 0 when the files were read (malformed lines are reported, not fatal), 2 when a
// file cannot be read or holds no access-log field at all.
int diagnose_logs(const diagnose_options& options, std::ostream& out, std::ostream& err);

}  // namespace albsim::diagnose
