// The docs list every cause ID of the code's catalogue, and no other (the project's catalogue is
// the reference once it grows beyond CAUSES.md).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "albsim/cause.hpp"

namespace albsim {
namespace {

TEST(DocsCauses, ListsEveryCatalogueIdWithItsStatus) {
  std::ifstream in(std::string(ALBSIM_SOURCE_DIR) + "/docs/causes.md");
  ASSERT_TRUE(in) << "docs/causes.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  std::set<std::string> documented;
  const std::regex row(R"(\| ([0-9]{3}-[a-z0-9-]+) \| ([0-9]{3}) \|)");
  const std::string s = text.str();
  for (std::sregex_iterator it(s.begin(), s.end(), row), end; it != end; ++it) {
    const std::string id = (*it)[1];
    documented.insert(id);
    const auto* c = find_cause(id);
    ASSERT_NE(c, nullptr) << id << " is documented but not in the catalogue";
    EXPECT_EQ(std::to_string(c->status), (*it)[2].str()) << id;
  }
  for (const auto& c : cause_catalogue()) {
    EXPECT_TRUE(documented.count(std::string(c.id))) << c.id << " is not in docs/causes.md";
  }
}

}  // namespace
}  // namespace albsim
