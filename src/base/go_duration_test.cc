#include "base/go_duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace starling::base {
namespace {

using namespace std::chrono_literals;

TEST(GoDurationTest, Parse) {
  struct Case {
    std::string in;
    std::optional<std::chrono::nanoseconds> want;
  };
  const std::vector<Case> cases = {
      {"0", 0ns},
      {"1s", 1s},
      {"1m30s", 90s},
      {"2h45m", 165min},
      {"-1.5h", -90min},
      {"300ms", 300ms},
      {"1us", 1us},
      {"1\xc2\xb5s", 1us},
      {"10ns", 10ns},
      {"+5s", 5s},
      {".5s", 500ms},
      {"1.s", 1s},
      {"", std::nullopt},
      {"1", std::nullopt},
      {"s", std::nullopt},
      {"1x", std::nullopt},
      {"1s2", std::nullopt},
      {"3000000h", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    Result<std::chrono::nanoseconds> r = ParseGoDuration(c.in);
    if (c.want) {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(*r, *c.want);
    } else {
      EXPECT_FALSE(r.ok());
    }
  }
  EXPECT_EQ(ParseGoDuration("1x").error().message(), "time: unknown unit \"x\" in duration \"1x\"");
}

TEST(GoDurationTest, Format) {
  const std::vector<std::pair<std::chrono::nanoseconds, std::string>> cases = {
      {0ns, "0s"},      {1ns, "1ns"},      {1500ns, "1.5\xc2\xb5s"}, {300ms, "300ms"},
      {1s, "1s"},       {1500ms, "1.5s"},  {90s, "1m30s"},           {3600s, "1h0m0s"},
      {-90s, "-1m30s"}, {3723s, "1h2m3s"},
  };
  for (const auto& [d, want] : cases) {
    SCOPED_TRACE(want);
    EXPECT_EQ(FormatGoDuration(d), want);
    if (d != 0ns) {
      EXPECT_EQ(*ParseGoDuration(want), d);
    }
  }
}

}  // namespace
}  // namespace starling::base
