#include "albsim/diagnose/record_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace albsim::diagnose {
namespace {

constexpr std::size_t k_chunk = 1 << 20;  // read size; the window grows only for longer lines
constexpr std::size_t k_padding = simdjson::SIMDJSON_PADDING;

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

const char* to_string(input_format f) {
  switch (f) {
    case input_format::automatic:
      return "auto";
    case input_format::json:
      return "json";
    case input_format::csv:
      return "csv";
    case input_format::albsim:
      return "albsim";
  }
  return "?";
}

std::optional<input_format> input_format_from_string(const std::string& s) {
  for (auto f :
       {input_format::automatic, input_format::json, input_format::csv, input_format::albsim}) {
    if (s == to_string(f)) return f;
  }
  return std::nullopt;
}

record_reader::record_reader(const std::string& path, input_format format)
    : path_(path), format_(format) {
  int fd = path == "-" ? dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw input_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<std::uint64_t>(st.st_size);
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw input_error(path + ": is a directory");
  }
  // zlib reads plain files as they are, so one code path serves both.
  file_ = gzdopen(fd, "rb");
  if (!file_) {
    ::close(fd);
    throw input_error(path + ": cannot open");
  }
  gzbuffer(file_, 256 * 1024);
  buffer_.resize(k_chunk + k_padding);
  if (format_ == input_format::csv) {
    std::string_view header;
    if (read_line(header)) read_csv_header(header);
    detected_ = true;
  }
}

record_reader::~record_reader() {
  if (file_) gzclose(file_);
}

std::uint64_t record_reader::bytes_consumed() const {
  if (!file_) return 0;
  const auto off = gzoffset(file_);
  return off > 0 ? static_cast<std::uint64_t>(off) : 0;
}

bool record_reader::fill() {
  if (eof_) return false;
  // Keep the unread part at the front; grow the window only when one line fills it.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t capacity = buffer_.size() - k_padding;
  if (end_ == capacity) buffer_.resize(2 * capacity + k_padding);
  const std::size_t room = buffer_.size() - k_padding - end_;
  const int n =
      gzread(file_, buffer_.data() + end_, static_cast<unsigned>(std::min(room, k_chunk * 4)));
  if (n < 0) {
    int err = 0;
    const char* msg = gzerror(file_, &err);
    throw input_error(path_ + ": line " + std::to_string(line_ + 1) +
                      ": cannot read: " + (err == Z_ERRNO ? std::strerror(errno) : msg));
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

bool record_reader::read_line(std::string_view& line) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    if (const void* nl = std::memchr(start, '\n', end_ - begin_)) {
      const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
      line = {start, len};
      begin_ += len + 1;
      ++line_;
      return true;
    }
    if (end_ - begin_ > k_max_line) {
      // Drop the over-long line up to its end and report it.
      ++line_;
      reject("longer than " + std::to_string(k_max_line >> 20) + " MiB");
      for (;;) {
        begin_ = end_;
        if (!fill()) return false;
        if (const void* nl = std::memchr(buffer_.data(), '\n', end_)) {
          begin_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data()) + 1;
          break;
        }
      }
      continue;
    }
    if (!fill()) {
      if (end_ == begin_) return false;
      line = {buffer_.data() + begin_, end_ - begin_};  // a last line without newline
      begin_ = end_;
      ++line_;
      return true;
    }
  }
}

void record_reader::reject(std::string reason) {
  ++malformed_count_;
  if (first_malformed_.size() < k_first_malformed)
    first_malformed_.push_back({line_, std::move(reason)});
}

void record_reader::detect(std::string_view first) {
  detected_ = true;
  if (first.size() >= 3 && static_cast<unsigned char>(first[0]) == 0xef) first.remove_prefix(3);
  auto p = first.find_first_not_of(" \t");
  if (p != std::string_view::npos && first[p] == '{') {
    format_ = input_format::json;
    return;
  }
  format_ = input_format::csv;
  read_csv_header(first);
}

void record_reader::read_csv_header(std::string_view line) {
  if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xef &&
      static_cast<unsigned char>(line[1]) == 0xbb && static_cast<unsigned char>(line[2]) == 0xbf)
    line.remove_prefix(3);
  csv_columns_.clear();
  std::string error;
  if (!split_csv(line, error))
    throw input_error(path_ + ": line " + std::to_string(line_) + ": CSV header: " + error);
  bool any = false;
  for (auto name : csv_split_) {
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    auto f = field_from_name(name);
    any = any || f.has_value();
    csv_columns_.push_back(f);
  }
  if (!any)
    throw input_error(path_ + ": line " + std::to_string(line_) +
                      ": no access-log field in the header (expected names such as status, "
                      "upstream_status, request_time); is this an access log?");
}

bool record_reader::next(log_record& r) {
  std::string_view line;
  while (read_line(line)) {
    if (blank(line)) continue;
    if (!detected_) {
      if (format_ == input_format::automatic) {
        detect(line);
        if (format_ == input_format::csv) continue;  // that line was the header
      } else {
        detected_ = true;
      }
    }
    r.clear();
    r.set_line(line_);
    const bool ok = format_ == input_format::csv ? parse_csv(line, r) : parse_json(line, r);
    if (!ok) continue;
    if (!r.any_field()) {
      ++without_fields_;
      continue;
    }
    if (format_ == input_format::json && r.has(field::sim_cause)) format_ = input_format::albsim;
    return true;
  }
  return false;
}

bool record_reader::parse_json(std::string_view line, log_record& r) {
  // The DOM parser: Debian's library picks the fastest kernel for this CPU at run time (the
  // header-only On-Demand API would be built for the baseline CPU only).
  using namespace simdjson;
  dom::element doc;
  if (auto err = parser_.parse(line.data(), line.size(), false).get(doc)) {
    reject(std::string("invalid JSON: ") + error_message(err));
    return false;
  }
  dom::object object;
  if (doc.get(object)) {
    reject("not a JSON object");
    return false;
  }
  for (auto [key, value] : object) {
    auto which = field_from_name(key);
    if (!which) continue;
    switch (value.type()) {
      case dom::element_type::STRING:
        r.set(*which, value.get_string().value_unsafe());
        break;
      case dom::element_type::INT64:
        r.set_number(*which, static_cast<double>(value.get_int64().value_unsafe()));
        break;
      case dom::element_type::UINT64:
        r.set_number(*which, static_cast<double>(value.get_uint64().value_unsafe()));
        break;
      case dom::element_type::DOUBLE:
        r.set_number(*which, value.get_double().value_unsafe());
        break;
      default:
        break;  // null is absent; objects, arrays and booleans are not access-log values
    }
  }
  return true;
}

bool record_reader::split_csv(std::string_view line, std::string& error) {
  // Values are views: unquoted values into the line, quoted ones into csv_values_, which is
  // sized up front so that it never moves.
  csv_split_.clear();
  csv_values_.clear();
  csv_values_.reserve(line.size());
  std::size_t i = 0;
  while (i <= line.size()) {
    std::string_view value;
    if (i < line.size() && line[i] == '"') {
      const std::size_t start = csv_values_.size();
      for (++i; i < line.size(); ++i) {
        if (line[i] != '"') {
          csv_values_ += line[i];
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          csv_values_ += '"';
          ++i;
        } else {
          ++i;
          break;
        }
      }
      value = std::string_view(csv_values_).substr(start);
      if (i < line.size() && line[i] == '\r') ++i;
      if (i < line.size() && line[i] != ',') {
        error = "text after a closing quote in column " + std::to_string(csv_split_.size() + 1);
        return false;
      }
    } else {
      auto comma = line.find(',', i);
      if (comma == std::string_view::npos) comma = line.size();
      value = line.substr(i, comma - i);
      if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      i = comma;
    }
    csv_split_.push_back(value);
    ++i;  // past the comma
  }
  return true;
}

bool record_reader::parse_csv(std::string_view line, log_record& r) {
  // A quoted value may hold newlines: join lines until the quotes balance.
  if (std::count(line.begin(), line.end(), '"') % 2 != 0) {
    const auto first_line = line_;
    csv_record_.assign(line);
    std::string_view more;
    bool balanced = false;
    while (read_line(more)) {
      csv_record_ += '\n';
      csv_record_ += more;
      if (std::count(csv_record_.begin(), csv_record_.end(), '"') % 2 == 0) {
        balanced = true;
        break;
      }
    }
    if (!balanced) {
      line_ = first_line;
      reject("unterminated quoted value");
      return false;
    }
    line = csv_record_;
  }
  std::string error;
  if (!split_csv(line, error)) {
    reject(error);
    return false;
  }
  const std::size_t column = csv_split_.size();
  for (std::size_t c = 0; c < column && c < csv_columns_.size(); ++c) {
    if (csv_columns_[c]) r.set(*csv_columns_[c], csv_split_[c]);
  }
  if (column != csv_columns_.size()) {
    reject(std::to_string(column) + " columns where the header has " +
           std::to_string(csv_columns_.size()));
    return false;
  }
  return true;
}

}  // namespace albsim::diagnose
