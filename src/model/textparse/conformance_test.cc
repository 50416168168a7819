// The OpenMetrics project's parser test cases: every case that should parse is accepted and
// every other one rejected by the OpenMetrics parser together with its validating layer.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing.h"
#include "model/textparse/openmetricsparse.h"
#include "model/textparse/validate.h"

namespace starling::model::textparse {
namespace {

namespace fs = std::filesystem;

fs::path CasesDir() {
  fs::path shared = base::testing::SharedDir();
  if (shared.empty()) return {};
  return shared / "conformance" / "openmetrics" / "parsers";
}

using base::testing::ReadFile;

// The shouldParse flag of a test.json; nullopt when it has none.
std::optional<bool> ShouldParse(const std::string& json) {
  std::size_t k = json.find("\"shouldParse\"");
  if (k == std::string::npos) return std::nullopt;
  std::size_t colon = json.find(':', k);
  if (colon == std::string::npos) return std::nullopt;
  std::size_t v = json.find_first_not_of(" \t\r\n", colon + 1);
  if (v == std::string::npos) return std::nullopt;
  if (json.compare(v, 4, "true") == 0) return true;
  if (json.compare(v, 5, "false") == 0) return false;
  return std::nullopt;
}

// Whether the parser alone (without the validating layer) accepts body.
bool SyntaxAccepts(std::string_view body) {
  OpenMetricsParser p(body);
  for (;;) {
    Result<Entry> e = p.Next();
    if (!e.ok()) return false;
    if (*e == Entry::kEof) return true;
  }
}

TEST(OpenMetricsConformanceTest, ParserCases) {
  const fs::path dir = CasesDir();
  ASSERT_FALSE(dir.empty()) << "neither STARLING_SHARED_DIR nor STARLING_SOURCE_DIR is set";
  ASSERT_TRUE(fs::is_directory(dir)) << "missing conformance data: " << dir;

  std::vector<fs::path> cases;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory()) cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());

  int valid = 0, invalid = 0, accepted = 0, rejected = 0;
  int syntax_rejected = 0;
  for (const fs::path& c : cases) {
    SCOPED_TRACE(c.filename().string());
    std::optional<bool> should = ShouldParse(ReadFile(c / "test.json"));
    ASSERT_TRUE(should.has_value()) << "no shouldParse in " << c / "test.json";
    std::string body = ReadFile(c / "metrics");
    Status s = ValidateOpenMetrics(body);
    if (*should) {
      ++valid;
      EXPECT_TRUE(s.ok()) << s.ToString();
      accepted += s.ok() ? 1 : 0;
    } else {
      ++invalid;
      EXPECT_FALSE(s.ok()) << "accepted an invalid case";
      rejected += s.ok() ? 0 : 1;
      syntax_rejected += SyntaxAccepts(body) ? 0 : 1;
    }
  }
  std::cout << "OpenMetrics conformance: " << accepted << "/" << valid << " valid accepted, "
            << rejected << "/" << invalid << " invalid rejected (" << syntax_rejected
            << " of them by the parser alone)\n";
  EXPECT_EQ(valid + invalid, 211);
  EXPECT_EQ(valid, 44);
  EXPECT_EQ(accepted, valid);
  EXPECT_EQ(rejected, invalid);
}

}  // namespace
}  // namespace starling::model::textparse
