// Every cause of the catalogue has exactly one scenario file, every other scenario file is a
// success scenario (ok-<name>), and every file loads.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "albsim/cause.hpp"
#include "albsim/config_error.hpp"
#include "albsim/scenarios/scenario.hpp"

namespace albsim::scenarios {
namespace {

TEST(scenario_catalogue, one_scenario_file_per_cause_and_no_other) {
  std::set<std::string> files;
  for (const auto& f : scenario_files(default_scenario_dir())) {
    files.insert(std::filesystem::path(f).stem().string());
  }
  std::set<std::string> causes;
  for (const auto& c : cause_catalogue()) {
    causes.insert(std::string(c.id));
    EXPECT_TRUE(files.count(std::string(c.id))) << "no scenario file for " << c.id;
  }
  std::size_t cause_files = 0;
  for (const auto& f : files) {
    cause_files += causes.count(f);
    EXPECT_TRUE(causes.count(f) || is_success_id(f))
        << f << ".yaml is neither a cause ID nor a success scenario (ok-<name>)";
  }
  EXPECT_EQ(cause_files, cause_catalogue().size());
}

TEST(scenario_catalogue, every_file_loads_and_checks_its_cause) {
  for (const auto& f : scenario_files(default_scenario_dir())) {
    try {
      scenario s = load_scenario_file(f);
      bool names_cause = false;
      for (const auto& e : s.expectations) {
        const std::string cause = is_success_id(s.id) ? "ok" : s.id;
        names_cause = names_cause || (e.field == "log.sim_cause" && e.matcher.text == cause);
      }
      EXPECT_TRUE(names_cause) << f;
      EXPECT_FALSE(s.explain.log.empty()) << f;
    } catch (const config_error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

}  // namespace
}  // namespace albsim::scenarios
