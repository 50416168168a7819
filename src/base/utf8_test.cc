#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace starling::base {
namespace {

TEST(Utf8Test, DecodeAndEncode) {
  struct Case {
    std::string in;
    char32_t rune;
    int width;
  };
  const std::vector<Case> cases = {
      {"a", U'a', 1},
      {"\xC3\xA9", 0xE9, 2},
      {"\xE2\x82\xAC", 0x20AC, 3},
      {"\xF0\x9F\x98\x80", 0x1F600, 4},
      {"\xC0\x80", kRuneError, 1},          // overlong
      {"\xE0\x80\x80", kRuneError, 1},      // overlong, three bytes
      {"\xED\xA0\x80", kRuneError, 1},      // surrogate
      {"\xF4\x90\x80\x80", kRuneError, 1},  // past U+10FFFF
      {"\xE2\x82", kRuneError, 1},          // truncated
      {"\xFF", kRuneError, 1},
      {"", kRuneError, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    int width = 0;
    EXPECT_EQ(DecodeRune(c.in, &width), c.rune);
    EXPECT_EQ(width, c.width);
    if (c.rune != kRuneError) {
      std::string out;
      AppendUtf8(&out, c.rune);
      EXPECT_EQ(out, c.in);
    }
  }
  std::string out;
  AppendUtf8(&out, 0xD800);
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace starling::base
