#include "syntax/go_strconv.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace starling::syntax {
namespace {

TEST(GoStrconvTest, ParseGoUint) {
  struct Case {
    std::string in;
    std::optional<std::uint64_t> want;
  };
  const std::vector<Case> cases = {
      {"0", 0},
      {"42", 42},
      {"1_000", 1000},
      {"0x_ff", 255},
      {"0XFF", 255},
      {"0o17", 15},
      {"017", 15},
      {"0b101", 5},
      {"18446744073709551615", UINT64_MAX},
      {"18446744073709551616", std::nullopt},  // out of range
      {"", std::nullopt},
      {"0x", std::nullopt},
      {"08", std::nullopt},  // octal
      {"0b2", std::nullopt},
      {"1__0", std::nullopt},
      {"10_", std::nullopt},
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {"1.0", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(ParseGoUint(c.in), c.want);
  }
}

TEST(GoStrconvTest, ParseGoFloat) {
  struct Case {
    std::string in;
    bool ok;
    double want;
    bool range_error;
  };
  const std::vector<Case> cases = {
      {"1.5", true, 1.5, false},    {".5", true, 0.5, false},     {"5.", true, 5, false},
      {"-2e3", true, -2000, false}, {"+1E-2", true, 0.01, false}, {"1e-400", true, 0, false},
      {"1e400", false, 0, true},    {"-1e400", false, 0, true},   {".", false, 0, false},
      {"1e", false, 0, false},      {"1e+", false, 0, false},     {"", false, 0, false},
      {"0x1p3", false, 0, false},   {"inf", false, 0, false},     {"1_0.5", false, 0, false},
      {"1.5 ", false, 0, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(IsGoDecimalFloat(c.in), c.ok || c.range_error);
    double d = -1;
    bool range_error = !c.range_error;
    EXPECT_EQ(ParseGoFloat(c.in, &d, &range_error), c.ok);
    EXPECT_EQ(range_error, c.range_error);
    if (c.ok) {
      EXPECT_EQ(d, c.want);
    }
  }
}

TEST(GoStrconvTest, OneLetterEscapes) {
  const std::string letters = "abfnrtv";
  const std::string chars = "\a\b\f\n\r\t\v";
  for (size_t i = 0; i < letters.size(); ++i) {
    SCOPED_TRACE(letters[i]);
    EXPECT_EQ(GoEscapedChar(letters[i]), chars[i]);
    EXPECT_EQ(GoEscapeLetter(static_cast<unsigned char>(chars[i])), letters[i]);
  }
  EXPECT_EQ(GoEscapedChar('x'), 0);
  EXPECT_EQ(GoEscapedChar('"'), 0);
  EXPECT_EQ(GoEscapeLetter('a'), 0);
  EXPECT_EQ(GoEscapeLetter(0), 0);
}

bool AsciiPrintOnly(char32_t r) { return r >= 0x20 && r < 0x7F; }
bool AllPrint(char32_t /*r*/) { return true; }

TEST(GoStrconvTest, GoQuoteWith) {
  struct Case {
    std::string in;
    bool ascii_only;
    bool (*is_print)(char32_t);
    std::string want;
  };
  const std::vector<Case> cases = {
      {"a\"b\\c", false, AllPrint, R"("a\"b\\c")"},
      {"\x01\x7f\xff", false, AsciiPrintOnly, R"("\x01\x7f\xff")"},
      {"\n\t", false, AsciiPrintOnly, R"("\n\t")"},
      {"\xc3\xa9", false, AllPrint, "\"\xc3\xa9\""},
      {"\xc3\xa9", false, AsciiPrintOnly, R"("\u00e9")"},
      {"\xc3\xa9", true, AllPrint, R"("\u00e9")"},
      {"\xf0\x9f\x98\x80", true, AllPrint, R"("\U0001f600")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(GoQuoteWith(c.in, c.ascii_only, c.is_print), c.want);
  }
}

TEST(GoStrconvTest, AppendGoEscapedRune) {
  std::string out;
  AppendGoEscapedRune(&out, '\'', '\'', false, AllPrint);
  AppendGoEscapedRune(&out, '"', '\'', false, AllPrint);
  AppendGoEscapedRune(&out, 0xD800, '\'', false, AsciiPrintOnly);  // a surrogate
  EXPECT_EQ(out, R"(\'"\ufffd)");
}

}  // namespace
}  // namespace starling::syntax
