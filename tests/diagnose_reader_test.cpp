// albsim diagnose's input side on hand-written records: the log service's JSON export (values
// as strings, "-"), numbers as numbers, albsim's own records, CSV with quoting, gzip, missing
// fields and malformed lines; and the command's answers to input that is not an access log.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "albsim/diagnose/log_diagnosis.hpp"
#include "albsim/diagnose/record_reader.hpp"

namespace albsim::diagnose {
namespace {

class temp_file {
 public:
  explicit temp_file(const std::string& content, const std::string& suffix = ".log") {
    path_ = (std::filesystem::temp_directory_path() / ("albsim_diag_" + std::to_string(::getpid()) +
                                                       "_" + std::to_string(counter_++) + suffix))
                .string();
    if (suffix == ".gz") {
      gzFile f = gzopen(path_.c_str(), "wb");
      gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
      gzclose(f);
    } else {
      std::ofstream(path_, std::ios::binary) << content;
    }
  }
  ~temp_file() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  static inline int counter_ = 0;
};

// Every record of a file, as copies of the fields a test looks at.
struct read_back {
  std::vector<std::map<std::string, std::string>> records;
  std::vector<std::uint64_t> lines;
  std::uint64_t malformed = 0;
  std::vector<malformed_line> first_malformed;
  input_format format = input_format::automatic;
};

read_back read_all(const std::string& path, input_format f = input_format::automatic) {
  read_back out;
  record_reader reader(path, f);
  log_record r;
  while (reader.next(r)) {
    std::map<std::string, std::string> m;
    for (std::size_t i = 0; i < k_field_count; ++i) {
      auto fld = static_cast<field>(i);
      if (r.has(fld)) m[std::string(field_name(fld))] = std::string(r.text(fld));
    }
    out.records.push_back(m);
    out.lines.push_back(r.line());
  }
  out.malformed = reader.malformed();
  out.first_malformed = reader.first_malformed();
  out.format = reader.format();
  return out;
}

int diagnose(const std::vector<std::string>& files, std::string& out, std::string& err,
             bool json = false) {
  diagnose_options o;
  o.files = files;
  o.json = json;
  o.progress = false;
  std::ostringstream o_out, o_err;
  int rc = diagnose_logs(o, o_out, o_err);
  out = o_out.str();
  err = o_err.str();
  return rc;
}

TEST(diagnose_reader, every_field_name_is_found_again) {
  for (std::size_t i = 0; i < k_field_count; ++i) {
    auto f = static_cast<field>(i);
    EXPECT_EQ(field_from_name(field_name(f)), f) << field_name(f);
  }
  EXPECT_FALSE(field_from_name("ssl_cipher"));
  EXPECT_FALSE(field_from_name("statu"));
  EXPECT_FALSE(field_from_name(""));
}

TEST(diagnose_reader, log_service_json_with_strings_dashes_numbers_and_unknown_fields) {
  temp_file f(
      R"({"__topic__":"alb_layer7_access_log","status":"502","upstream_status":"-","request_time":"0.003","upstream_addr":"10.0.0.5:80","extra":{"nested":[1,2]}})"
      "\n"
      R"({"status":504,"upstream_connect_time":5.001,"tcpinfo_rtt":12000,"upstream_status":null})"
      "\n\n"
      R"({"status":"499","request_time":" 3.000 ","request_uri":"/a\"b\u00e9"})"
      "\n");
  auto r = read_all(f.path());
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.format, input_format::json);
  EXPECT_EQ(r.records[0].at("status"), "502");
  EXPECT_EQ(r.records[0].count("upstream_status"), 0u);  // "-" is absent
  EXPECT_EQ(r.records[0].at("upstream_addr"), "10.0.0.5:80");
  EXPECT_EQ(r.records[1].at("status"), "504");
  EXPECT_EQ(r.records[1].at("upstream_connect_time"), "5.001");
  EXPECT_EQ(r.records[1].count("upstream_status"), 0u);  // null is absent
  EXPECT_EQ(r.records[2].at("request_uri"), "/a\"b\xc3\xa9");
  EXPECT_EQ(r.lines, (std::vector<std::uint64_t>{1, 2, 4}));  // the blank line is skipped

  record_reader reader(f.path(), input_format::automatic);
  log_record rec;
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.status(), 502);
  EXPECT_EQ(rec.number(field::request_time), 0.003);
  EXPECT_FALSE(rec.number(field::upstream_status));
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.number(field::tcpinfo_rtt), 12000);
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.number(field::request_time), 3.0);  // a number as a string, with spaces
}

TEST(diagnose_reader, albsims_own_records_are_recognised) {
  temp_file f(
      R"({"__topic__":"alb_layer7_access_log","time":"2026-11-25T09:00:05.004+00:00","status":502,"upstream_status":"-","sim_cause":"502-connection-refused","sim_detail":"x"})"
      "\n");
  auto r = read_all(f.path());
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.format, input_format::albsim);
  EXPECT_EQ(r.records[0].at("sim_cause"), "502-connection-refused");
}

TEST(diagnose_reader, times_in_every_written_form) {
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25T09:00:05.004+00:00"), 1795597205.004);
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25T17:00:05+08:00"), 1795597205);
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25 09:00:05"), 1795597205);
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25T09:00:05Z"), 1795597205);
  EXPECT_DOUBLE_EQ(*parse_time("1795597205"), 1795597205);
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_FALSE(parse_time("2026-13-25T09:00:05"));
}

TEST(diagnose_reader, csv_with_header_quoting_and_a_value_over_two_lines) {
  temp_file f(
      "\xef\xbb\xbf"
      "time,status,upstream_status,request_uri,http_user_agent,request_time\r\n"
      "2026-11-25T09:00:05+00:00,502,-,\"/search?q=a,b\",\"curl \"\"7\"\"\",0.004\r\n"
      "2026-11-25T09:00:06+00:00,504,-,/x,\"two\nlines\",60.001\n"
      "2026-11-25T09:00:07+00:00,503,-,/y,ua\n");
  auto r = read_all(f.path());
  EXPECT_EQ(r.format, input_format::csv);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].at("request_uri"), "/search?q=a,b");
  EXPECT_EQ(r.records[0].at("http_user_agent"), "curl \"7\"");
  EXPECT_EQ(r.records[0].at("request_time"), "0.004");
  EXPECT_EQ(r.records[1].at("http_user_agent"), "two\nlines");
  EXPECT_EQ(r.records[1].at("request_time"), "60.001");
  EXPECT_EQ(r.lines[1], 3u);
  ASSERT_EQ(r.malformed, 1u);  // the last line has 5 columns of 6
  EXPECT_EQ(r.first_malformed[0].line, 5u);
  EXPECT_NE(r.first_malformed[0].reason.find("5 columns"), std::string::npos);
}

TEST(diagnose_reader, gzip_is_read_directly) {
  std::string content;
  for (int i = 0; i < 1000; ++i)
    content += R"({"status":"502","upstream_status":"-","upstream_addr":"10.0.0.)" +
               std::to_string(i % 3) + R"(:80"})" + "\n";
  temp_file f(content, ".gz");
  auto r = read_all(f.path());
  ASSERT_EQ(r.records.size(), 1000u);
  EXPECT_EQ(r.records[999].at("upstream_addr"), "10.0.0.0:80");
}

TEST(diagnose_reader, malformed_lines_are_counted_with_their_numbers_and_the_run_goes_on) {
  std::string content = R"({"status":"502"})"
                        "\n";
  for (int i = 0; i < 7; ++i) content += "{\"status\": \"502\", oops\n";
  content += R"({"status":"504"} trailing)"
             "\n";
  content += R"([1,2])"
             "\n";
  content += R"({"status":"503"})";  // no final newline
  temp_file f(content);
  auto r = read_all(f.path());
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.malformed, 9u);
  ASSERT_EQ(r.first_malformed.size(), record_reader::k_first_malformed);
  EXPECT_EQ(r.first_malformed[0].line, 2u);
  EXPECT_EQ(r.lines.back(), 11u);

  std::string out, err;
  EXPECT_EQ(diagnose({f.path()}, out, err), 0);
  EXPECT_NE(out.find("9 malformed"), std::string::npos) << out;
  EXPECT_NE(out.find(f.path() + ":2: "), std::string::npos) << out;
  EXPECT_NE(out.find("and 4 more malformed lines"), std::string::npos) << out;
}

TEST(diagnose_reader, a_file_without_any_access_log_field_is_refused_with_status_2) {
  temp_file json(R"({"level":"info","msg":"started"})"
                 "\n"
                 R"({"level":"warn"})"
                 "\n");
  std::string out, err;
  EXPECT_EQ(diagnose({json.path()}, out, err), 2);
  EXPECT_NE(err.find("no access-log record"), std::string::npos) << err;
  EXPECT_NE(err.find(json.path()), std::string::npos) << err;

  temp_file csv("name,age\nbob,3\n");
  EXPECT_EQ(diagnose({csv.path()}, out, err), 2);
  EXPECT_NE(err.find(csv.path() + ": line 1: no access-log field in the header"), std::string::npos)
      << err;

  temp_file text("hello world\nthis is not a log\n");
  EXPECT_EQ(diagnose({text.path()}, out, err), 2);

  temp_file empty("");
  EXPECT_EQ(diagnose({empty.path()}, out, err), 2);

  EXPECT_EQ(diagnose({"/nonexistent/albsim.log"}, out, err), 2);
  EXPECT_NE(err.find("/nonexistent/albsim.log: cannot open"), std::string::npos) << err;
}

TEST(diagnose_reader, unknown_statuses_are_passed_through_or_shown) {
  temp_file f(R"({"status":"429","upstream_status":"429","request_uri":"/api"})"
              "\n"
              R"({"status":"460","upstream_status":"-","client_ip":"1.2.3.4"})"
              "\n"
              R"({"status":"200","upstream_status":"200"})"
              "\n");
  std::string out, err;
  ASSERT_EQ(diagnose({f.path()}, out, err, true), 0);
  std::istringstream lines(out);
  std::string line;
  std::vector<nlohmann::json> docs;
  while (std::getline(lines, line)) docs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0]["verdict"], "passed-through");
  EXPECT_NE(docs[0]["explanation"].get<std::string>().find("backend answered 429"),
            std::string::npos);
  EXPECT_EQ(docs[1]["verdict"], "unknown-status");
  EXPECT_EQ(docs[1]["fields"]["client_ip"], "1.2.3.4");
  EXPECT_EQ(docs[2]["verdict"], "not-an-error");
  EXPECT_EQ(docs[3]["summary"]["records"], 3);
}

TEST(diagnose_reader, redact_hashes_addresses_and_drops_query_strings) {
  temp_file f(
      R"({"status":"502","upstream_status":"-","upstream_addr":"10.9.8.7:8080","client_ip":"203.0.113.9","vip_addr":"47.1.1.1","request_uri":"/login?token=secret"})"
      "\n");
  diagnose_options o;
  o.files = {f.path()};
  o.records = true;
  o.redact = true;
  o.progress = false;
  std::ostringstream out, err;
  ASSERT_EQ(diagnose_logs(o, out, err), 0);
  for (const char* secret : {"10.9.8.7", "203.0.113.9", "47.1.1.1", "secret"})
    EXPECT_EQ(out.str().find(secret), std::string::npos) << secret << " in\n" << out.str();
  EXPECT_NE(out.str().find(":8080"), std::string::npos);  // the port stays
  EXPECT_NE(out.str().find("/login"), std::string::npos);
}

}  // namespace
}  // namespace albsim::diagnose
