// The closed loop: every catalogue scenario runs for real (all at once, in-process), and the
// access-log record it produces, without albsim's own sim_cause/sim_detail, diagnoses back to
// its own ID first, or to a documented ambiguity set that holds it. And `reproduce`: a record
// in the log service's JSON format for each server-side cause becomes a scenario that runs and
// matches the record on status, upstream_status and sim_cause.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "albsim/cause.hpp"
#include "albsim/diagnose/record_diagnoser.hpp"
#include "albsim/diagnose/record_reader.hpp"
#include "albsim/diagnose/reproduction.hpp"
#include "albsim/scenarios/scenario_runner.hpp"

namespace albsim::diagnose {
namespace {

std::string temp_path(const std::string& tag) {
  return (std::filesystem::temp_directory_path() /
          ("albsim_loop_" + tag + "_" + std::to_string(::getpid()) + ".log"))
      .string();
}

TEST(diagnose_closed_loop, every_scenarios_record_diagnoses_back_to_its_cause) {
  std::vector<scenarios::scenario> list;
  for (const auto& c : cause_catalogue()) {
    list.push_back(scenarios::load_scenario_file(
        (std::filesystem::path(scenarios::default_scenario_dir()) / (std::string(c.id) + ".yaml"))
            .string()));
  }
  const auto results = scenarios::run_scenarios(list, 0);
  ASSERT_EQ(results.size(), list.size());
  const std::string path = temp_path("records");
  // The cause the simulator decided for each record: on a loaded machine (a sanitizer build,
  // everything at once) a timing-based scenario can land on a neighbouring cause; its own
  // ctest (scenario.<ID>) reports that, and the record is then judged against what it is.
  std::vector<std::string> truth;
  {
    std::ofstream out(path);
    for (const auto& r : results) {
      ASSERT_TRUE(r.error.empty()) << r.id << ": " << r.error;
      ASSERT_TRUE(r.observations["log"].is_object()) << r.id << ": no record";
      auto record = r.observations["log"];
      truth.push_back(record.value("sim_cause", ""));
      record.erase("sim_cause");  // the customer's log has no such fields
      record.erase("sim_detail");
      out << record.dump() << "\n";
    }
  }
  record_reader reader(path, input_format::automatic);
  record_diagnoser diagnoser;
  log_record record;
  std::size_t i = 0;
  std::set<std::string> via_set;
  std::size_t landed_elsewhere = 0;
  while (reader.next(record)) {
    ASSERT_LT(i, results.size());
    const std::string id = truth[i];
    landed_elsewhere += id != results[i++].id;
    const ranking k = diagnoser.rank(record);
    ASSERT_EQ(k.kind, verdict::cause) << id;
    const std::string top(rule_table()[k.top().rule].cause);
    if (top == id) continue;
    bool leader = false;
    for (std::size_t n = 0; n < k.tied; ++n)
      leader = leader || rule_table()[k.candidates[n].rule].cause == id;
    EXPECT_TRUE(leader && shared_set(top, id))
        << id << " diagnosed as " << top
        << " and is not among the tied leaders of a documented set:\n"
        << diagnoser.describe_text(record, k, redactor(false), id)
        << "the record: " << results[i - 1].observations["log"].dump();
    via_set.insert(id);
  }
  EXPECT_EQ(i, results.size());
  EXPECT_LE(landed_elsewhere, 3u) << "too many scenarios did not produce their own cause";
  EXPECT_EQ(reader.malformed(), 0u);
  // The sets stay the exception: most causes are told apart by the log alone.
  EXPECT_LE(via_set.size(), 12u) << ::testing::PrintToString(via_set);
  std::filesystem::remove(path);
}

struct customer_case {
  const char* cause;
  const char* record;  // the log service's JSON export: every value a string
  double time_scale = 0;
};

// Fields common to every hand-written record, then the ones that matter.
std::string record(const std::string& fields) {
  return R"({"__topic__":"alb_layer7_access_log","time":"2026-11-25T10:40:00+08:00","app_lb_id":"alb-x1","vip_addr":"47.96.1.1","slb_vport":"80","client_ip":"203.0.113.7","client_port":"53122","scheme":"HTTP","server_protocol":"HTTP/1.1","host":"shop.example.com","http_referer":"-","http_user_agent":"okhttp/4.9","read_request_time":"0","write_response_time":"0","tcpinfo_rtt":"21000","ssl_protocol":"-","ssl_cipher":"-",)" +
         fields + "}";
}

TEST(diagnose_reproduce, each_server_side_cause_is_reproduced_from_a_log_service_record) {
  const std::string backend = R"("upstream_addr":"10.0.1.4:8080",)";
  const std::vector<std::pair<std::string, std::string>>
      cases{
          {"400-backend-returned",
           backend +
               R"("request_method":"POST","request_uri":"/api/orders","request_length":"412","status":"400","upstream_status":"400","request_time":"0.012","upstream_connect_time":"0.001","upstream_response_time":"0.011","body_bytes_sent":"35")"},
          {"405-backend-returned",
           backend +
               R"("request_method":"DELETE","request_uri":"/orders/42","request_length":"97","status":"405","upstream_status":"405","request_time":"0.010","upstream_connect_time":"0.001","upstream_response_time":"0.009","body_bytes_sent":"25")"},
          {"414-backend-returned",
           backend +
               R"("request_method":"GET","request_uri":"/search?q=long","request_length":"10324","status":"414","upstream_status":"414","request_time":"0.020","upstream_connect_time":"0.001","upstream_response_time":"0.019","body_bytes_sent":"52")"},
          {"500-backend-returned",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"93","status":"500","upstream_status":"500","request_time":"0.011","upstream_connect_time":"0.001","upstream_response_time":"0.010","body_bytes_sent":"32")"},
          {"500-backend-reset",
           backend +
               R"("request_method":"POST","request_uri":"/upload","request_length":"242","status":"500","upstream_status":"502","request_time":"0.011","upstream_connect_time":"0.001","upstream_response_time":"0.010","body_bytes_sent":"61")"},
          {"502-backend-returned",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"94","status":"502","upstream_status":"502","request_time":"0.026","upstream_connect_time":"0.001","upstream_response_time":"0.025","body_bytes_sent":"30")"},
          {"502-backend-closed-no-response",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"96","status":"502","upstream_status":"502","request_time":"0.008","upstream_connect_time":"0.001","upstream_response_time":"0.007","body_bytes_sent":"51")"},
          {"502-backend-status-rewritten",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"95","status":"502","upstream_status":"444","request_time":"0.004","upstream_connect_time":"0.001","upstream_response_time":"0.003","body_bytes_sent":"51")"},
          {"502-connection-refused",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"85","status":"502","upstream_status":"-","request_time":"0.001","upstream_connect_time":"0.001","upstream_response_time":"-","body_bytes_sent":"51")"},
          {"502-tcp-error",
           backend +
               R"("request_method":"POST","request_uri":"/upload","request_length":"4256886","status":"502","upstream_status":"-","request_time":"0.208","upstream_connect_time":"0.001","upstream_response_time":"0.208","body_bytes_sent":"51")"},
          {"502-backlog-full", backend + R"("request_method":"GET","request_uri":"/","request_length":"85","status":"502","upstream_status":"-","request_time":"0.010","upstream_connect_time":"0.001","upstream_response_time":"-","body_bytes_sent":"51")"},
          {"502-mtu-blackhole",
           backend +
               R"("request_method":"POST","request_uri":"/upload","request_length":"65651","status":"502","upstream_status":"-","request_time":"1.001","upstream_connect_time":"0.001","upstream_response_time":"-","body_bytes_sent":"51")"},
          {"502-invalid-response",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"91","status":"502","upstream_status":"502","request_time":"0.007","upstream_connect_time":"0.001","upstream_response_time":"0.006","body_bytes_sent":"51")"},
          {"502-backend-incomplete",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"91","status":"502","upstream_status":"502","request_time":"0.012","upstream_connect_time":"0.001","upstream_response_time":"0.011","body_bytes_sent":"51")"},
          {"503-backend-returned",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"92","status":"503","upstream_status":"503","request_time":"0.005","upstream_connect_time":"0.001","upstream_response_time":"0.004","body_bytes_sent":"21")"},
          {"503-no-backend",
           R"("upstream_addr":"-","request_method":"GET","request_uri":"/","request_length":"85","status":"503","upstream_status":"-","request_time":"0.000","upstream_connect_time":"-","upstream_response_time":"-","body_bytes_sent":"71")"},
          {"503-zero-weight",
           R"("upstream_addr":"-","request_method":"GET","request_uri":"/","request_length":"85","status":"503","upstream_status":"-","request_time":"0.000","upstream_connect_time":"-","upstream_response_time":"-","body_bytes_sent":"71")"},
          {"504-backend-returned",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"91","status":"504","upstream_status":"504","request_time":"0.202","upstream_connect_time":"0.001","upstream_response_time":"0.201","body_bytes_sent":"40")"},
          {"504-connect-timeout",
           backend +
               R"("request_method":"GET","request_uri":"/","request_length":"85","status":"504","upstream_status":"-","request_time":"5.001","upstream_connect_time":"5.000","upstream_response_time":"5.000","body_bytes_sent":"56")"},
          {"504-request-timeout",
           backend +
               R"("request_method":"GET","request_uri":"/export","request_length":"91","status":"504","upstream_status":"504","request_time":"60.002","upstream_connect_time":"0.001","upstream_response_time":"60.001","body_bytes_sent":"56")"},
      };
  const std::string path = temp_path("customer");
  {
    std::ofstream out(path);
    for (const auto& [cause, fields] : cases) out << record(fields) << "\n";
  }
  std::vector<reproduction> reps;
  std::vector<stored_record> customers;
  std::vector<scenarios::scenario> runs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string& cause = cases[i].first;
    // FILE:LINE, as `albsim reproduce` takes it.
    customers.push_back(read_record(path + ":" + std::to_string(i + 1), input_format::automatic));
    reproduce_options o;
    const ranking k = record_diagnoser().rank(customers.back().view());
    ASSERT_EQ(k.kind, verdict::cause) << cause;
    const std::string top(rule_table()[k.top().rule].cause);
    if (top != cause) {
      // The log cannot tell them apart: the engineer picks the candidate with --cause.
      ASSERT_TRUE(shared_set(top, cause)) << cause << " diagnosed as " << top;
      o.cause = cause;
    }
    // The connect timeout at a fifth of its 5 s keeps the suite fast, and tests --time-scale.
    if (cause == "504-connect-timeout") o.time_scale = 0.2;
    reps.push_back(build_reproduction(customers.back().view(), o));
    EXPECT_EQ(reps.back().cause, cause);
    runs.push_back(reps.back().scenario);
  }
  const auto results = scenarios::run_scenarios(runs, 0);
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].error.empty()) << cases[i].first << ": " << results[i].error;
    const auto rows =
        compare(customers[i].view(), results[i].observations["log"], reps[i], redactor(false));
    std::ostringstream table;
    print_comparison(table, cases[i].first, reps[i], rows);
    EXPECT_TRUE(reproduced(rows)) << table.str() << "\n" << reps[i].yaml;
    EXPECT_TRUE(results[i].passed) << cases[i].first << ": the saved scenario's own checks fail\n"
                                   << reps[i].yaml;
  }
  // The scaled connect timeout shows in the comparison as scaled, not as a difference.
  std::size_t connect = 0;
  while (connect < cases.size() && cases[connect].first != "504-connect-timeout") ++connect;
  ASSERT_LT(connect, cases.size());
  for (const auto& row : compare(customers[connect].view(), results[connect].observations["log"],
                                 reps[connect], redactor(false))) {
    if (row.field == "upstream_connect_time") {
      EXPECT_EQ(row.result, field_comparison::mark::close) << row.albsim << " " << row.why;
      EXPECT_NE(row.why.find("× 0.2"), std::string::npos) << row.why;
    }
  }
  std::filesystem::remove(path);
}

TEST(diagnose_reproduce, a_record_without_a_catalogue_cause_or_a_wrong_line_is_refused) {
  const std::string path = temp_path("refused");
  {
    std::ofstream out(path);
    out << record(R"("status":"200","upstream_status":"200")") << "\n"
        << "not json\n";
  }
  auto ok = read_record(path + ":1", input_format::automatic);
  EXPECT_THROW(build_reproduction(ok.view(), {}), input_error);
  try {
    read_record(path + ":2", input_format::automatic);
    ADD_FAILURE() << "line 2 is malformed";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2: malformed record"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(read_record(path + ":9", input_format::automatic), input_error);
  EXPECT_THROW(read_record(path, input_format::automatic), input_error);  // no :LINE
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace albsim::diagnose
