// "Reading a record" (the report's decision tree) against real records: every scenario of the
// catalogue is run, and its record, read without sim_cause, must lead to a leaf that names the
// cause the balancer decided. A leaf may name several causes, but never misses the right one.
#include <gtest/gtest.h>

#include <algorithm>

#include "albsim/cause.hpp"
#include "albsim/scenarios/scenario_runner.hpp"
#include "html_report_record_reader.hpp"

namespace albsim::scenarios {
namespace {

TEST(ReportRecordReader, EveryRealRecordLeadsToALeafNamingItsCause) {
  std::vector<scenario> list;
  for (const auto& file : scenario_files(default_scenario_dir()))
    list.push_back(load_scenario_file(file));
  ASSERT_FALSE(list.empty());
  auto results = run_scenarios(list, 0);
  record_reader reader;
  for (const auto& r : results) {
    if (!find_cause(r.id)) continue;  // a success scenario (ok-https) is no cause to find
    const auto& log = r.observations["log"];
    ASSERT_TRUE(log.is_object()) << r.id << ": no record";
    nlohmann::json without = log;
    without.erase("sim_cause");
    without.erase("sim_detail");
    std::vector<std::string> path;
    auto causes = reader.classify(without, &path);
    std::string walked;
    for (const auto& step : path) walked += " / " + step;
    EXPECT_NE(std::find(causes.begin(), causes.end(), log.value("sim_cause", "")), causes.end())
        << r.id << " led to" << walked;
  }
}

TEST(ReportRecordReader, AFieldThatFitsNoBranchGivesNoCause) {
  record_reader reader;
  // A status no branch covers.
  nlohmann::json record = {
      {"status", 302}, {"upstream_status", "302"}, {"upstream_addr", "10.0.0.1:80"}};
  EXPECT_TRUE(reader.classify(record).empty());
}

}  // namespace
}  // namespace albsim::scenarios
