#include "scrape/scrape_loop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "base/testing.h"
#include "scrape/testing.h"

namespace starling::scrape {
namespace {

using namespace std::chrono_literals;
using testing::FindSample;
using testing::RecordingAppendable;
using Sample = RecordingAppendable::Sample;

std::shared_ptr<const Target> MakeTarget(const model::Labels& extra = {}) {
  JobConfig cfg;
  cfg.job_name = "test";
  std::vector<model::Label> ls(extra.Items());
  ls.emplace_back("__address__", "h:9100");
  auto labels = PopulateLabels(model::Labels(std::move(ls)), cfg);
  EXPECT_TRUE(labels.ok());
  return std::make_shared<const Target>(*labels, model::Labels{}, cfg.params);
}

// Drives a loop on a fake clock: each Scrape advances the clock by 15s.
class LoopHarness {
 public:
  explicit LoopHarness(LoopOptions o = {}, bool issue_refs = true,
                       std::shared_ptr<const Target> target = MakeTarget())
      : registry(std::make_unique<base::MetricsRegistry>()),
        metrics(*registry),
        app(std::make_shared<RecordingAppendable>(issue_refs)),
        loop(std::move(target), o, &metrics) {}

  std::vector<Sample> Scrape(const std::string& body,
                             const std::string& ct = "text/plain; version=0.0.4") {
    clock.Advance(15s);
    FetchResult f;
    f.body = body;
    f.content_type = ct;
    loop.Process(app, clock, clock.Now(), clock.Monotonic(), f);
    return app->TakeSamples();
  }
  std::vector<Sample> Fail(base::Status err, bool too_large = false) {
    clock.Advance(15s);
    FetchResult f;
    f.error = std::move(err);
    f.body_too_large = too_large;
    loop.Process(app, clock, clock.Now(), clock.Monotonic(), f);
    return app->TakeSamples();
  }
  std::int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
        .count();
  }

  base::FakeClock clock;
  std::unique_ptr<base::MetricsRegistry> registry;
  ScrapeMetrics metrics;
  std::shared_ptr<RecordingAppendable> app;
  ScrapeLoop loop;
};

const std::string kTL = "instance=\"h:9100\", job=\"test\"";

double Value(const std::vector<Sample>& s, const std::string& labels) {
  Sample out;
  if (!FindSample(s, labels, &out)) return -12345;
  return out.value;
}

std::vector<std::string> StaleSeries(const std::vector<Sample>& samples) {
  std::vector<std::string> out;
  for (const auto& s : samples) {
    if (storage::IsStaleNaN(s.value)) out.push_back(s.labels.String());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ScrapeLoopTest, AppendsSamplesAndReport) {
  LoopHarness h;
  auto s = h.Scrape("# TYPE a counter\na 1\nb{x=\"y\"} 2.5\n");
  EXPECT_EQ(Value(s, "{__name__=\"a\", " + kTL + "}"), 1);
  EXPECT_EQ(Value(s, "{__name__=\"b\", " + kTL + ", x=\"y\"}"), 2.5);
  EXPECT_EQ(Value(s, "{__name__=\"up\", " + kTL + "}"), 1);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_samples_scraped\", " + kTL + "}"), 2);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_samples_post_metric_relabeling\", " + kTL + "}"), 2);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_series_added\", " + kTL + "}"), 2);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_duration_seconds\", " + kTL + "}"), 0);
  EXPECT_EQ(s.size(), 7U);  // no extra metrics
  for (const auto& x : s) EXPECT_EQ(x.ts, h.NowMs());
  EXPECT_EQ(h.metrics.samples_scraped.Value(), 2);

  auto s2 = h.Scrape("a 3\nb{x=\"y\"} 4\n");
  EXPECT_EQ(Value(s2, "{__name__=\"a\", " + kTL + "}"), 3);
  EXPECT_EQ(Value(s2, "{__name__=\"scrape_series_added\", " + kTL + "}"), 0);
  EXPECT_EQ(h.app->bad_appends(), 0);
  // Cached series with a ref are appended by ref alone: 2 new series + 5 report series.
  EXPECT_EQ(h.app->appends_with_labels(), 7);
  TargetStatus st = h.loop.Status();
  EXPECT_EQ(st.health, TargetHealth::kUp);
  EXPECT_EQ(st.last_error, "");
  EXPECT_EQ(st.last_scrape, h.clock.Now());
  EXPECT_EQ(st.cached_series, 2U);
}

TEST(ScrapeLoopTest, FailedCommitIsShownAndTheNextScrapeRecovers) {
  LoopHarness h;
  h.app->FailCommits(base::Status::Unavailable("write segment: No space left on device"));
  EXPECT_TRUE(h.Scrape("a 1\n").empty());
  TargetStatus st = h.loop.Status();
  EXPECT_EQ(st.health, TargetHealth::kUp);
  EXPECT_EQ(st.last_error, "scrape commit failed: write segment: No space left on device");
  h.app->FailCommits(base::Status::Ok());
  auto s = h.Scrape("a 2\n");
  EXPECT_EQ(Value(s, "{__name__=\"a\", " + kTL + "}"), 2);
  EXPECT_EQ(h.loop.Status().last_error, "");
  EXPECT_EQ(h.app->bad_appends(), 0);
}

TEST(ScrapeLoopTest, ObservesTheIntervalsBetweenScrapes) {
  LoopHarness h;  // the target's interval is the default minute, which Go prints "1m0s"
  h.Scrape("a 1\n");
  // One scrape has no interval yet.
  EXPECT_EQ(h.registry->Render().find("prometheus_target_interval_length_seconds"),
            std::string::npos);
  h.Scrape("a 2\n");  // 15s later
  h.clock.Advance(5s);
  h.Fail(base::Status::Unavailable("down"));  // 20s later: failed scrapes count too
  EXPECT_TRUE(base::testing::HasLines(
      *h.registry,
      {"prometheus_target_interval_length_seconds{interval=\"1m0s\",quantile=\"0.01\"} 15",
       "prometheus_target_interval_length_seconds{interval=\"1m0s\",quantile=\"0.99\"} 20",
       "prometheus_target_interval_length_seconds_sum{interval=\"1m0s\"} 35",
       "prometheus_target_interval_length_seconds_count{interval=\"1m0s\"} 2"}))
      << h.registry->Render();
}

TEST(ScrapeLoopTest, WithoutRefsKeepsLabels) {
  LoopHarness h({}, /*issue_refs=*/false);
  h.Scrape("a 1\n");
  auto s = h.Scrape("a 2\n");
  EXPECT_EQ(Value(s, "{__name__=\"a\", " + kTL + "}"), 2);
  EXPECT_EQ(h.app->bad_appends(), 0);
  auto s3 = h.Scrape("");
  EXPECT_EQ(StaleSeries(s3), std::vector<std::string>{"{__name__=\"a\", " + kTL + "}"});
}

TEST(ScrapeLoopTest, ExtraMetricsAndDuration) {
  LoopOptions o;
  o.extra_metrics = true;
  o.sample_limit = 10;
  o.timeout = 5s;
  LoopHarness h(o);
  h.clock.Advance(15s);
  FetchResult f;
  f.body = "a 1\n";
  const auto start = h.clock.Now();
  const auto start_mono = h.clock.Monotonic();
  h.clock.Advance(250ms);  // the fetch took this long
  h.loop.Process(h.app, h.clock, start, start_mono, f);
  auto s = h.app->TakeSamples();
  EXPECT_EQ(s.size(), 9U);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_timeout_seconds\", " + kTL + "}"), 5);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_sample_limit\", " + kTL + "}"), 10);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_body_size_bytes\", " + kTL + "}"), 4);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_duration_seconds\", " + kTL + "}"), 0.25);
  EXPECT_EQ(h.loop.Status().last_scrape_duration, 250ms);

  auto failed = h.Fail(base::Status::ResourceExhausted("body size limit exceeded"), true);
  EXPECT_EQ(Value(failed, "{__name__=\"scrape_body_size_bytes\", " + kTL + "}"), -1);
  EXPECT_EQ(Value(failed, "{__name__=\"up\", " + kTL + "}"), 0);
}

struct HonorCase {
  std::string name;
  bool honor;
  std::string body;
  std::string want;
};

TEST(ScrapeLoopTest, HonorLabels) {
  const std::vector<HonorCase> cases = {
      {"no conflict", false, "m{a=\"1\"} 1", "{__name__=\"m\", a=\"1\", " + kTL + "}"},
      {"conflict renamed", false, "m{job=\"mine\"} 1",
       "{__name__=\"m\", exported_job=\"mine\", " + kTL + "}"},
      {"two conflicts", false, "m{job=\"j\",instance=\"i\"} 1",
       "{__name__=\"m\", exported_instance=\"i\", exported_job=\"j\", " + kTL + "}"},
      {"exported name taken", false, "m{job=\"j\",exported_job=\"e\"} 1",
       "{__name__=\"m\", exported_exported_job=\"j\", exported_job=\"e\", " + kTL + "}"},
      {"empty exposed value is no conflict", false, "m{job=\"\"} 1",
       "{__name__=\"m\", " + kTL + "}"},
      {"honored", true, "m{job=\"mine\"} 1", "{__name__=\"m\", instance=\"h:9100\", job=\"mine\"}"},
      {"honored adds missing", true, "m{a=\"1\"} 1", "{__name__=\"m\", a=\"1\", " + kTL + "}"},
  };
  for (const HonorCase& c : cases) {
    SCOPED_TRACE(c.name);
    LoopOptions o;
    o.honor_labels = c.honor;
    LoopHarness h(o);
    auto s = h.Scrape(c.body + "\n");
    EXPECT_EQ(Value(s, c.want), 1);
  }
}

struct LimitCase {
  std::string name;
  LoopOptions options;
  std::string body;
  std::string want_error;
};

TEST(ScrapeLoopTest, Limits) {
  LoopOptions sample;
  sample.sample_limit = 2;
  LoopOptions labels;
  labels.label_limit = 3;
  LoopOptions name_len;
  name_len.label_name_length_limit = 5;
  LoopOptions value_len;
  value_len.label_value_length_limit = 7;
  const std::vector<LimitCase> cases = {
      {"sample limit", sample, "a 1\nb 2\nc 3\n", "sample limit exceeded"},
      {"sample limit not reached", sample, "a 1\nb 2\n", ""},
      {"label limit", labels, "a{x=\"1\"} 1\n",
       "label_limit exceeded (metric: a, number of labels: 4, limit: 3)"},
      {"label name length", name_len, "a{toolong=\"1\"} 1\n",
       "label_name_length_limit exceeded (metric: a, label name: __name__, length: 8, limit: 5)"},
      {"label value length", value_len, "a{x=\"12345678\"} 1\n",
       "label_value_length_limit exceeded (metric: a, label name: x, value: \"12345678\", length: "
       "8, limit: 7)"},
      {"parse error", {}, "a 1\nb{\n", "*"},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.name);
    LoopHarness h(c.options);
    auto s = h.Scrape(c.body);
    TargetStatus st = h.loop.Status();
    if (c.want_error.empty()) {
      EXPECT_EQ(st.health, TargetHealth::kUp);
      EXPECT_EQ(Value(s, "{__name__=\"up\", " + kTL + "}"), 1);
      continue;
    }
    EXPECT_EQ(st.health, TargetHealth::kDown);
    if (c.want_error != "*") {
      EXPECT_EQ(st.last_error, c.want_error);
    } else {
      EXPECT_NE(st.last_error, "");
    }
    // Nothing of the failed scrape is delivered, only the report.
    EXPECT_EQ(s.size(), 5U);
    EXPECT_EQ(Value(s, "{__name__=\"up\", " + kTL + "}"), 0);
    EXPECT_EQ(h.app->rollbacks(), 1);
  }
}

TEST(ScrapeLoopTest, SampleLimitReportsCounts) {
  LoopOptions o;
  o.sample_limit = 2;
  LoopHarness h(o);
  auto s = h.Scrape("a 1\nb 2\nc 3\nd 4\n");
  EXPECT_EQ(Value(s, "{__name__=\"scrape_samples_scraped\", " + kTL + "}"), 4);
  // As in Prometheus: every sample left after relabeling, within the limit or not, but only
  // the series appended before the limit was reached.
  EXPECT_EQ(Value(s, "{__name__=\"scrape_samples_post_metric_relabeling\", " + kTL + "}"), 4);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_series_added\", " + kTL + "}"), 2);
  EXPECT_EQ(h.metrics.exceeded_sample_limit.Value(), 1);
}

TEST(ScrapeLoopTest, StalenessOfDisappearedSeries) {
  LoopHarness h;
  h.Scrape("a 1\nb 1\nc 1\n");
  auto s2 = h.Scrape("a 2\n");
  EXPECT_EQ(StaleSeries(s2), (std::vector<std::string>{"{__name__=\"b\", " + kTL + "}",
                                                       "{__name__=\"c\", " + kTL + "}"}));
  for (const auto& x : s2) EXPECT_EQ(x.ts, h.NowMs());
  // Marked once only.
  auto s3 = h.Scrape("a 3\n");
  EXPECT_TRUE(StaleSeries(s3).empty());
  // A series that comes back and goes again is marked again.
  h.Scrape("a 4\nb 4\n");
  auto s5 = h.Scrape("a 5\n");
  EXPECT_EQ(StaleSeries(s5), std::vector<std::string>{"{__name__=\"b\", " + kTL + "}"});
  EXPECT_EQ(h.app->bad_appends(), 0);
}

TEST(ScrapeLoopTest, ExplicitTimestampsAreNotMarkedStale) {
  LoopHarness h;
  auto s1 = h.Scrape("a 1 1000\nb 1\n");
  Sample a;
  ASSERT_TRUE(FindSample(s1, "{__name__=\"a\", " + kTL + "}", &a));
  EXPECT_EQ(a.ts, 1000);
  auto s2 = h.Scrape("");
  EXPECT_EQ(StaleSeries(s2), std::vector<std::string>{"{__name__=\"b\", " + kTL + "}"});

  LoopOptions o;
  o.honor_timestamps = false;
  LoopHarness h2(o);
  auto t1 = h2.Scrape("a 1 1000\n");
  ASSERT_TRUE(FindSample(t1, "{__name__=\"a\", " + kTL + "}", &a));
  EXPECT_EQ(a.ts, h2.NowMs());
}

// track_timestamps_staleness: series with explicit timestamps get markers too, at the time of
// the scrape that misses them or fails.
TEST(ScrapeLoopTest, TrackTimestampsStalenessMarksExplicitTimestamps) {
  LoopOptions o;
  o.track_timestamps_staleness = true;
  LoopHarness h(o);
  h.Scrape("a 1 1000\nb 1 1000\n");
  auto s2 = h.Scrape("b 2 2000\n");
  EXPECT_EQ(StaleSeries(s2), std::vector<std::string>{"{__name__=\"a\", " + kTL + "}"});
  Sample a;
  ASSERT_TRUE(FindSample(s2, "{__name__=\"a\", " + kTL + "}", &a));
  EXPECT_EQ(a.ts, h.NowMs());
  auto s3 = h.Fail(base::Status::Unavailable("down"));
  EXPECT_EQ(StaleSeries(s3), std::vector<std::string>{"{__name__=\"b\", " + kTL + "}"});
}

TEST(ScrapeLoopTest, FailedScrapeMarksEverythingStaleOnce) {
  LoopHarness h;
  h.Scrape("a 1\nb 1\n");
  // The parse error comes after `a` was appended: rolled back, and a is still marked.
  auto s2 = h.Scrape("a 2\nb{ 2\n");
  EXPECT_EQ(StaleSeries(s2), (std::vector<std::string>{"{__name__=\"a\", " + kTL + "}",
                                                       "{__name__=\"b\", " + kTL + "}"}));
  EXPECT_EQ(Value(s2, "{__name__=\"up\", " + kTL + "}"), 0);
  EXPECT_EQ(h.loop.Status().health, TargetHealth::kDown);
  // A second failure marks nothing again.
  auto s3 = h.Fail(base::Status::Unavailable("server returned HTTP status 500"));
  EXPECT_TRUE(StaleSeries(s3).empty());
  EXPECT_EQ(h.loop.Status().last_error, "server returned HTTP status 500");
  // Recovery: samples flow again, with their cached refs.
  auto s4 = h.Scrape("a 4\nb 4\n");
  EXPECT_EQ(Value(s4, "{__name__=\"a\", " + kTL + "}"), 4);
  EXPECT_EQ(Value(s4, "{__name__=\"scrape_series_added\", " + kTL + "}"), 0);
  // After the recovery, a series that goes away is marked again.
  auto s5 = h.Scrape("a 5\n");
  EXPECT_EQ(StaleSeries(s5), std::vector<std::string>{"{__name__=\"b\", " + kTL + "}"});
  // A series first seen in a failed attempt was never delivered: it is new when it comes back,
  // and is not marked stale for the failure.
  auto s6 = h.Scrape("a 6\nc 6\nb{ 6\n");
  EXPECT_EQ(StaleSeries(s6), std::vector<std::string>{"{__name__=\"a\", " + kTL + "}"});
  auto s7 = h.Scrape("a 7\nc 7\n");
  EXPECT_EQ(Value(s7, "{__name__=\"scrape_series_added\", " + kTL + "}"), 1);
  EXPECT_TRUE(StaleSeries(s7).empty());
  EXPECT_EQ(h.app->bad_appends(), 0);
}

TEST(ScrapeLoopTest, SeriesTheAppendableForgotAreAppendedByLabelsAgain) {
  // A WAL forgets series idle for longer than its keepalive, which a scrape interval can
  // exceed: cached refs then come back NotFound.
  LoopHarness h;
  h.Scrape("a{x=\"1\"} 1\nb 1\n");
  h.app->ForgetAll();
  auto s2 = h.Scrape("a{x=\"1\"} 2\n");
  EXPECT_EQ(Value(s2, "{__name__=\"a\", " + kTL + ", x=\"1\"}"), 2);
  EXPECT_EQ(Value(s2, "{__name__=\"up\", " + kTL + "}"), 1);
  EXPECT_EQ(h.loop.Status().health, TargetHealth::kUp) << h.loop.Status().last_error;
  EXPECT_TRUE(StaleSeries(s2).empty());  // b is gone from the appendable too: no marker
  // The new refs are cached: the next scrape appends by ref alone.
  const int with_labels = h.app->appends_with_labels();
  auto s3 = h.Scrape("a{x=\"1\"} 3\n");
  EXPECT_EQ(Value(s3, "{__name__=\"a\", " + kTL + ", x=\"1\"}"), 3);
  EXPECT_EQ(h.app->appends_with_labels(), with_labels);
  EXPECT_EQ(h.app->bad_appends(), 0);
}

TEST(ScrapeLoopTest, ALineThatOnlyStartsWithACachedSeriesIsParsedInFull) {
  // The cache expects `a` first, and the line starts with `a `, but a label set follows.
  LoopHarness h;
  h.Scrape("a 1\n");
  auto s = h.Scrape("a {x=\"y\"} 2\n");
  EXPECT_EQ(Value(s, "{__name__=\"a\", " + kTL + ", x=\"y\"}"), 2);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_series_added\", " + kTL + "}"), 1);
  EXPECT_EQ(StaleSeries(s), std::vector<std::string>{"{__name__=\"a\", " + kTL + "}"});
}

TEST(ScrapeLoopTest, EndOfRun) {
  LoopHarness h;
  h.loop.EndOfRun(h.app, h.clock.Now());  // never scraped: nothing
  EXPECT_EQ(h.app->commits(), 0);
  h.Scrape("a 1\nb 1\n");
  h.loop.EndOfRun(h.app, h.clock.Now() + 15s);
  auto s = h.app->TakeSamples();
  auto stale = StaleSeries(s);
  EXPECT_EQ(stale.size(), 7U);  // a, b and the five report series
  EXPECT_EQ(s.size(), 7U);
  for (const auto& x : s) EXPECT_EQ(x.ts, h.NowMs() + 15000);
}

TEST(ScrapeLoopTest, DuplicateSeriesInOneScrape) {
  LoopHarness h;
  auto s = h.Scrape("a 1\na 2\n");
  EXPECT_EQ(Value(s, "{__name__=\"scrape_samples_scraped\", " + kTL + "}"), 2);
  // Prometheus counts the dropped duplicate too.
  EXPECT_EQ(Value(s, "{__name__=\"scrape_samples_post_metric_relabeling\", " + kTL + "}"), 2);
  EXPECT_EQ(Value(s, "{__name__=\"scrape_series_added\", " + kTL + "}"), 1);
  EXPECT_EQ(h.metrics.sample_duplicate.Value(), 1);
}

// As in Prometheus, whose storage refuses the series: the scrape fails.
TEST(ScrapeLoopTest, RepeatedLabelNameFailsTheScrape) {
  LoopHarness h;
  auto s = h.Scrape("a 1\nb{x=\"1\",x=\"2\"} 1\n");
  EXPECT_EQ(Value(s, "{__name__=\"up\", " + kTL + "}"), 0);
  EXPECT_EQ(s.size(), 5U);  // the report only
  EXPECT_EQ(h.loop.Status().last_error, "label name \"x\" is not unique: invalid sample");
}

TEST(ScrapeLoopTest, ForcedErrorAndAppendableChange) {
  LoopHarness h;
  h.Scrape("a 1\n");
  h.loop.SetForcedError(base::Status::ResourceExhausted("target_limit exceeded"));
  auto s = h.Scrape("a 2\n");
  EXPECT_EQ(StaleSeries(s), std::vector<std::string>{"{__name__=\"a\", " + kTL + "}"});
  EXPECT_EQ(h.loop.Status().last_error, "target_limit exceeded");
  h.loop.SetForcedError(base::Status::Ok());
  // A new appendable: refs of the old one must not be passed to it.
  h.app = std::make_shared<RecordingAppendable>();
  auto s2 = h.Scrape("a 3\n");
  EXPECT_EQ(Value(s2, "{__name__=\"a\", " + kTL + "}"), 3);
  EXPECT_EQ(h.app->bad_appends(), 0);
}

TEST(ScrapeLoopTest, OpenMetricsAndMalformedBodies) {
  LoopHarness h;
  auto s = h.Scrape("# TYPE a counter\na_total 1\n# EOF\n",
                    "application/openmetrics-text; version=1.0.0");
  EXPECT_EQ(Value(s, "{__name__=\"a_total\", " + kTL + "}"), 1);
  const std::vector<std::string> bad = {"\x01\x02garbage", "a{b=\"c} 1\n", "a 1 2 3 4\n",
                                        std::string(1000, '{')};
  for (const std::string& body : bad) {
    SCOPED_TRACE(body.substr(0, 20));
    auto r = h.Scrape(body);
    EXPECT_EQ(Value(r, "{__name__=\"up\", " + kTL + "}"), 0);
  }
}

}  // namespace
}  // namespace starling::scrape
