#include "scrape/target.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace starling::scrape {
namespace {

using namespace std::chrono_literals;

struct PopulateCase {
  std::string name;
  model::Labels discovered;
  std::string want;  // Labels::String(), or the error
  bool want_error = false;
  std::string want_url;
};

TEST(TargetTest, PopulateLabels) {
  JobConfig cfg;
  cfg.job_name = "job1";
  cfg.interval = 30s;
  cfg.timeout = 10s;
  cfg.params = {{"module", {"if_mib", "second"}}};
  const std::vector<PopulateCase> cases = {
      {"defaults and port",
       {{"__address__", "host"}, {"__meta_x", "m"}, {"env", "prod"}},
       "{__address__=\"host:80\", __metrics_path__=\"/metrics\", __param_module=\"if_mib\", "
       "__scheme__=\"http\", __scrape_interval__=\"30s\", __scrape_timeout__=\"10s\", "
       "env=\"prod\", instance=\"host:80\", job=\"job1\"}",
       false,
       "http://host:80/metrics?module=if_mib&module=second"},
      {"target overrides",
       {{"__address__", "h:9"},
        {"__scheme__", "https"},
        {"__metrics_path__", "/m x"},
        {"__param_module", "other"},
        {"job", "mine"},
        {"instance", "i"}},
       "{__address__=\"h:9\", __metrics_path__=\"/m x\", __param_module=\"if_mib\", "
       "__scheme__=\"https\", __scrape_interval__=\"30s\", __scrape_timeout__=\"10s\", "
       "instance=\"i\", job=\"mine\"}",
       false,
       "https://h:9/m%20x?module=if_mib&module=second"},
      {"https default port", {{"__address__", "h"}, {"__scheme__", "https"}}, "", false, ""},
      {"ipv6",
       {{"__address__", "[::1]"}},
       "",
       false,
       "http://[::1]:80/metrics?module=if_mib&module=second"},
      {"no address", {{"env", "x"}}, "no address", true, ""},
      {"empty address", {{"__address__", ""}}, "no address", true, ""},
      {"bad scheme",
       {{"__address__", "h"}, {"__scheme__", "ftp"}},
       "invalid scheme: \"http\"",
       true,
       ""},
      {"slash in address",
       {{"__address__", "h:1/x"}},
       "\"h:1/x\" is not a valid hostname",
       true,
       ""},
      {"bad interval",
       {{"__address__", "h:1"}, {"__scrape_interval__", "x"}},
       "error parsing scrape interval: not a valid duration string: \"x\"",
       true,
       ""},
      {"zero interval",
       {{"__address__", "h:1"}, {"__scrape_interval__", "0s"}},
       "scrape interval cannot be 0",
       true,
       ""},
      {"timeout above interval",
       {{"__address__", "h:1"}, {"__scrape_timeout__", "1m"}},
       "scrape timeout cannot be greater than scrape interval (\"1m\" > \"30s\")",
       true,
       ""},
      {"invalid utf8",
       {{"__address__", "h:1"}, {"x", "\xff"}},
       "invalid label value for \"x\": \"\xff\"",
       true,
       ""},
  };
  for (const PopulateCase& c : cases) {
    SCOPED_TRACE(c.name);
    base::Result<model::Labels> got = PopulateLabels(c.discovered, cfg);
    if (c.want_error) {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.error().message(), c.want);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    if (!c.want.empty()) {
      EXPECT_EQ(got->String(), c.want);
    }
    Target t(*got, c.discovered, cfg.params);
    if (!c.want_url.empty()) {
      EXPECT_EQ(t.url(), c.want_url);
    }
    for (const auto& [name, value] : t.target_labels()) EXPECT_NE(name.substr(0, 2), "__");
  }
  base::Result<model::Labels> https =
      PopulateLabels({{"__address__", "h"}, {"__scheme__", "https"}}, cfg);
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->Get("__address__"), "h:443");
}

TEST(TargetTest, IdentityIntervalAndOffset) {
  JobConfig cfg;
  cfg.job_name = "j";
  cfg.interval = 15s;
  auto a = PopulateLabels({{"__address__", "a:1"}, {"__scrape_interval__", "20s"}}, cfg);
  auto b = PopulateLabels({{"__address__", "b:1"}}, cfg);
  ASSERT_TRUE(a.ok() && b.ok());
  Target ta(*a, {}, {}), ta2(*a, {}, {}), tb(*b, {}, {});
  EXPECT_EQ(ta.hash(), ta2.hash());
  EXPECT_NE(ta.hash(), tb.hash());
  EXPECT_EQ(ta.interval(), 20s);
  EXPECT_EQ(tb.interval(), 15s);
  EXPECT_EQ(tb.timeout(), 10s);

  // The offset pins a phase: later calls land on the same absolute slot.
  const std::int64_t now = 1'700'000'000'123'456'789;
  const auto off = tb.Offset(now, 42);
  EXPECT_GE(off, 0ns);
  EXPECT_LE(off, 15s);
  const auto later = tb.Offset(now + 3'000'000'000, 42);
  EXPECT_EQ((now + off.count()) % 15'000'000'000,
            (now + 3'000'000'000 + later.count()) % 15'000'000'000);
  // Different targets spread over the interval.
  std::set<std::int64_t> phases;
  for (int i = 0; i < 20; ++i) {
    auto l = PopulateLabels({{"__address__", "h" + std::to_string(i) + ":1"}}, cfg);
    ASSERT_TRUE(l.ok());
    Target t(*l, {}, {});
    phases.insert((now + t.Offset(now, 7).count()) % 15'000'000'000);
  }
  EXPECT_GT(phases.size(), 15U);
}

TEST(TargetTest, Durations) {
  const std::vector<std::pair<std::chrono::nanoseconds, std::string>> cases = {
      {0s, "0s"},    {60s, "1m"},    {90s, "1m30s"},     {1500ms, "1s500ms"},
      {3600s, "1h"}, {86400s, "1d"}, {7 * 86400s, "1w"},
  };
  for (const auto& [d, s] : cases) {
    SCOPED_TRACE(s);
    EXPECT_EQ(FormatPromDuration(d), s);
    auto back = ParsePromDuration(s);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, d);
  }
  EXPECT_FALSE(ParsePromDuration("").ok());
  EXPECT_FALSE(ParsePromDuration("1s1m").ok());
  EXPECT_FALSE(ParsePromDuration("1.5s").ok());
  EXPECT_EQ(FormatSeconds(10s), "10");
  EXPECT_EQ(FormatSeconds(500ms), "0.5");
}

}  // namespace
}  // namespace starling::scrape
