#include "albsim/diagnose/log_diagnosis.hpp"

#include <unistd.h>

#include <chrono>
#include <ostream>

#include "albsim/diagnose/log_summary.hpp"
#include "albsim/diagnose/record_diagnoser.hpp"

namespace albsim::diagnose {
namespace {

constexpr std::uint64_t k_progress_min_bytes = 100ULL << 20;  // files over 100 MB
constexpr std::uint64_t k_progress_every = 1 << 16;           // records between clock checks

}  // namespace

int diagnose_logs(const diagnose_options& o, std::ostream& out, std::ostream& err) {
  const redactor redact(o.redact);
  record_diagnoser diagnoser;
  log_summary summary;
  log_record record;
  const bool terminal = o.progress && isatty(STDERR_FILENO);
  for (const auto& path : o.files) {
    try {
      record_reader reader(path, o.format);
      const bool progress = terminal && reader.size() > k_progress_min_bytes;
      auto last_report = std::chrono::steady_clock::now();
      std::uint64_t records = 0;
      const std::string name = path == "-" ? "(stdin)" : path;
      while (reader.next(record)) {
        ++records;
        const ranking k = diagnoser.rank(record);
        summary.add(record, k);
        diagnoser.learn(record);
        if (o.json || o.records) {
          const std::string where = name + ":" + std::to_string(record.line());
          if (o.json) {
            out << diagnoser.describe(record, k, redact, where).dump() << "\n";
          } else if (k.kind != verdict::not_an_error) {
            out << diagnoser.describe_text(record, k, redact, where) << "\n";
          }
        }
        if (progress && records % k_progress_every == 0) {
          auto now = std::chrono::steady_clock::now();
          if (now - last_report > std::chrono::seconds(1)) {
            last_report = now;
            err << "\r" << name << ": "
                << 100 * reader.bytes_consumed() / std::max<std::uint64_t>(1, reader.size())
                << " %, " << records << " records" << std::flush;
          }
        }
      }
      if (progress) err << "\r\033[K" << std::flush;
      if (records == 0) {
        err << "albsim diagnose: " << name
            << ": no access-log record: no line holds a field such as status, upstream_status or "
               "request_time ("
            << reader.lines() << " lines, " << reader.malformed() << " malformed";
        if (!reader.first_malformed().empty())
          err << "; line " << reader.first_malformed()[0].line << ": "
              << reader.first_malformed()[0].reason;
        err << ")\n";
        return 2;
      }
      input_report report{name,    to_string(reader.format()), reader.lines(),
                          records, reader.malformed(),         reader.without_fields(),
                          {}};
      for (const auto& m : reader.first_malformed())
        report.first_malformed.emplace_back(m.line, m.reason);
      summary.add_input(std::move(report));
    } catch (const input_error& e) {
      err << "albsim diagnose: " << e.what() << "\n";
      return 2;
    }
  }
  summary.finish();
  if (o.json) {
    out << nlohmann::json{{"summary", summary.to_json(redact)}}.dump() << "\n";
  } else {
    summary.print(out, redact);
  }
  return 0;
}

}  // namespace albsim::diagnose
