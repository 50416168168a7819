// Runs River's printer test data (../shared/conformance/river/printer/testdata): every NAME.in
// with a NAME.expect must format to exactly that text, and every NAME.in with a NAME.error
// must fail to parse with that message.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/testing.h"
#include "syntax/parser.h"
#include "syntax/printer.h"

namespace starling::syntax {
namespace {

namespace fs = std::filesystem;

using base::testing::ReadFile;

std::vector<std::string> SplitLines(std::string_view s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(s.substr(start));
      break;
    }
    lines.emplace_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// A line with tabs and trailing blanks made visible.
std::string Visible(std::string_view line) {
  std::string out;
  for (char c : line) {
    if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && out.back() == ' ') out += "$";
  return out;
}

// A line diff (longest common subsequence) of want and got: "-" lines are expected but
// missing, "+" lines are printed but not expected.
std::string LineDiff(std::string_view want, std::string_view got) {
  const std::vector<std::string> a = SplitLines(want);
  const std::vector<std::string> b = SplitLines(got);
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "  " + Visible(a[i]) + "\n";
      ++i;
      ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out += "+ " + Visible(b[j]) + "\n";
      ++j;
    } else {
      out += "- " + Visible(a[i]) + "\n";
      ++i;
    }
  }
  return out;
}

std::string TrimRightSpace(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r' || s.back() == '\f' || s.back() == '\v')) {
    s.pop_back();
  }
  return s;
}

fs::path TestdataDir() {
  fs::path shared = base::testing::SharedDir();
  if (shared.empty()) return {};
  return shared / "conformance" / "river" / "printer" / "testdata";
}

TEST(PrinterConformanceTest, RiverTestdata) {
  const fs::path dir = TestdataDir();
  ASSERT_FALSE(dir.empty()) << "neither STARLING_SHARED_DIR nor STARLING_SOURCE_DIR is set";
  ASSERT_TRUE(fs::is_directory(dir)) << "missing conformance data: " << dir;

  std::vector<fs::path> inputs;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".in") inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  ASSERT_FALSE(inputs.empty()) << "no .in files in " << dir;

  int formatted = 0;
  int errors = 0;
  for (const fs::path& in_path : inputs) {
    const std::string name = in_path.stem().string();
    SCOPED_TRACE(name);
    const fs::path expect_path = fs::path(in_path).replace_extension(".expect");
    const fs::path error_path = fs::path(in_path).replace_extension(".error");
    const std::string src = ReadFile(in_path);
    ParseResult parsed = ParseFile(name + ".river", src);
    ASSERT_NE(parsed.file, nullptr);

    if (fs::exists(error_path)) {
      ++errors;
      const std::string want = ReadFile(error_path);
      EXPECT_TRUE(parsed.diags.HasErrors()) << "parsing succeeded; want error: " << want;
      const std::string got = parsed.diags.Format(name + ".river");
      EXPECT_NE(got.find(want), std::string::npos)
          << "want an error containing: " << want << "\ngot:\n"
          << got;
      continue;
    }

    ASSERT_TRUE(fs::exists(expect_path)) << "neither .expect nor .error for " << in_path;
    ++formatted;
    ASSERT_FALSE(parsed.diags.HasErrors()) << parsed.diags.Format(name + ".river");

    // The reference compares against the .expect file without trailing whitespace; the
    // command-line formatter then ends the output with one newline.
    const std::string want = TrimRightSpace(ReadFile(expect_path)) + "\n";
    const std::string got = Format(*parsed.file);
    EXPECT_EQ(want, got) << "diff (- want, + got):\n" << LineDiff(want, got);

    // Formatting is idempotent.
    ParseResult again = ParseFile(name + ".river", got);
    ASSERT_NE(again.file, nullptr);
    ASSERT_FALSE(again.diags.HasErrors()) << again.diags.Format(name + ".river");
    const std::string twice = Format(*again.file);
    EXPECT_EQ(got, twice) << "not idempotent; diff (- once, + twice):\n" << LineDiff(got, twice);
  }
  EXPECT_GT(formatted, 0);
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace starling::syntax
