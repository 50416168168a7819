#include "scrape/scrape_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/testing.h"
#include "scrape/testing.h"

namespace starling::scrape {
namespace {

using namespace std::chrono_literals;
using testing::FakeFetcher;
using testing::RecordingAppendable;
using testing::TextResponse;

// A pool on a manual scheduler and a fake clock; Step advances time in small steps and runs
// whatever became due.
class PoolHarness {
 public:
  PoolHarness()
      : scheduler(std::make_shared<Scheduler>(&clock, 0)),
        fetcher(std::make_shared<FakeFetcher>()),
        app(std::make_shared<RecordingAppendable>()),
        metrics(registry) {
    ScrapePool::Options o;
    o.clock = &clock;
    o.scheduler = scheduler;
    o.fetcher = fetcher;
    o.metrics = &metrics;
    o.offset_seed = 1;
    pool = std::make_unique<ScrapePool>(std::move(o));
    cfg.job_name = "job";
    cfg.interval = 10s;
    cfg.timeout = 5s;
  }

  std::vector<DroppedTarget> Update(const std::vector<model::Labels>& targets) {
    return pool->Update(cfg, nullptr, app, targets);
  }
  void Step(std::chrono::nanoseconds total, std::chrono::nanoseconds step = 100ms) {
    for (auto t = std::chrono::nanoseconds(0); t < total; t += step) {
      clock.Advance(step);
      scheduler->RunUntilIdle();
    }
  }
  int Requests(const std::string& url) {
    auto reqs = fetcher->Requests();
    return static_cast<int>(
        std::count_if(reqs.begin(), reqs.end(), [&](const auto& r) { return r.url == url; }));
  }

  base::FakeClock clock;
  std::shared_ptr<Scheduler> scheduler;
  std::shared_ptr<FakeFetcher> fetcher;
  std::shared_ptr<RecordingAppendable> app;
  base::MetricsRegistry registry;
  ScrapeMetrics metrics;
  JobConfig cfg;
  std::unique_ptr<ScrapePool> pool;
};

TEST(ScrapePoolTest, ScrapesEveryIntervalWithHeaders) {
  PoolHarness h;
  h.fetcher->Set("http://a:1/metrics", TextResponse("m 1\n"));
  auto dropped = h.Update({{{"__address__", "a:1"}}, {{"env", "x"}}});
  ASSERT_EQ(dropped.size(), 1U);
  EXPECT_EQ(dropped[0].reason, "no address");
  h.Step(30s);
  EXPECT_EQ(h.Requests("http://a:1/metrics"), 0);  // not started
  h.pool->Start();
  h.Step(10s);
  EXPECT_EQ(h.Requests("http://a:1/metrics"), 1);
  h.Step(30s);
  EXPECT_EQ(h.Requests("http://a:1/metrics"), 4);
  auto req = h.fetcher->Requests().back();
  EXPECT_EQ(req.timeout, 5s);
  EXPECT_TRUE(req.accept_gzip);
  bool saw_timeout = false, saw_accept = false;
  for (const auto& hd : req.headers) {
    if (hd.name == "X-Prometheus-Scrape-Timeout-Seconds") saw_timeout = hd.value == "5";
    if (hd.name == "Accept") saw_accept = hd.value == model::textparse::kScrapeAcceptHeader;
  }
  EXPECT_TRUE(saw_timeout);
  EXPECT_TRUE(saw_accept);
  EXPECT_EQ(h.registry.Render().find(
                "prometheus_target_scrape_pool_targets{scrape_job=\"job\"} 1") != std::string::npos,
            true);
  auto active = h.pool->ActiveTargets();
  ASSERT_EQ(active.size(), 1U);
  EXPECT_EQ(active[0].status.health, TargetHealth::kUp);
  EXPECT_EQ(active[0].labels.String(), "{instance=\"a:1\", job=\"job\"}");
}

TEST(ScrapePoolTest, MetricsCountTheSyncsOfEachJob) {
  PoolHarness h;
  h.Update({{{"__address__", "a:1"}}});
  EXPECT_TRUE(base::testing::HasLines(
      h.registry, {"prometheus_target_sync_failed_total{scrape_job=\"job\"} 0"}));
  // A target without an address and one with a zero interval cannot be created.
  h.Update({{{"__address__", "a:1"}},
            {{"__address__", "b:1"}},
            {{"job", "x"}},
            {{"__address__", "c:1"}, {"__scrape_interval__", "0s"}}});
  EXPECT_TRUE(base::testing::HasLines(
      h.registry, {"prometheus_target_scrape_pool_targets{scrape_job=\"job\"} 2",
                   "prometheus_target_scrape_pool_sync_total{scrape_job=\"job\"} 2",
                   "prometheus_target_sync_length_seconds_count{scrape_job=\"job\"} 2",
                   "prometheus_target_sync_failed_total{scrape_job=\"job\"} 2"}))
      << h.registry.Render();
  // A renamed job's series go with its old name.
  h.cfg.job_name = "renamed";
  h.Update({{{"__address__", "a:1"}}});
  const std::string text = h.registry.Render();
  EXPECT_EQ(text.find("scrape_job=\"job\""), std::string::npos) << text;
  EXPECT_TRUE(base::testing::HasLines(
      h.registry, {"prometheus_target_scrape_pool_sync_total{scrape_job=\"renamed\"} 1"}));
  h.pool->Stop(false);
  EXPECT_EQ(h.registry.Render().find("scrape_job="), std::string::npos);
}

TEST(ScrapePoolTest, TargetsAreSpreadOverTheInterval) {
  PoolHarness h;
  std::vector<model::Labels> targets;
  for (int i = 0; i < 10; ++i) {
    std::string addr = "t" + std::to_string(i) + ":1";
    targets.push_back({{"__address__", addr}});
  }
  h.Update(targets);
  h.pool->Start();
  // Record after which step each target was first fetched.
  std::vector<int> first_step(10, -1);
  for (int step = 0; step < 100; ++step) {
    h.Step(100ms);
    auto reqs = h.fetcher->Requests();
    for (int i = 0; i < 10; ++i) {
      std::string url = "http://t" + std::to_string(i) + ":1/metrics";
      if (first_step[i] < 0 &&
          std::any_of(reqs.begin(), reqs.end(), [&](const auto& r) { return r.url == url; })) {
        first_step[i] = step;
      }
    }
  }
  std::sort(first_step.begin(), first_step.end());
  EXPECT_GE(first_step.front(), 0);
  EXPECT_GT(first_step.back() - first_step.front(), 20);  // not all at once
  EXPECT_GT(std::unique(first_step.begin(), first_step.end()) - first_step.begin(), 5);
}

TEST(ScrapePoolTest, RemovedTargetGetsStaleMarkersLater) {
  PoolHarness h;
  h.fetcher->Set("http://a:1/metrics", TextResponse("m 1\n"));
  h.fetcher->Set("http://b:1/metrics", TextResponse("n 1\n"));
  h.Update({{{"__address__", "a:1"}}, {{"__address__", "b:1"}}});
  h.pool->Start();
  h.Step(10s);
  h.app->TakeSamples();
  h.Update({{{"__address__", "a:1"}}});
  EXPECT_EQ(h.pool->ActiveTargets().size(), 1U);
  h.Step(10s);
  auto within_interval = h.app->TakeSamples();
  for (const auto& s : within_interval) EXPECT_FALSE(storage::IsStaleNaN(s.value));
  h.Step(15s);
  int stale = 0;
  for (const auto& s : h.app->TakeSamples()) {
    if (storage::IsStaleNaN(s.value)) {
      ++stale;
      EXPECT_EQ(s.labels.Get("instance"), "b:1");
    }
  }
  EXPECT_EQ(stale, 6);  // n and five report series
  EXPECT_EQ(h.Requests("http://b:1/metrics"), 1);
}

// A target that another node now owns stops without staleness markers (its new owner
// continues the series); one that comes back is scraped again.
TEST(ScrapePoolTest, TargetOwnedElsewhereStopsWithoutStaleMarkers) {
  PoolHarness h;
  h.fetcher->Set("http://a:1/metrics", TextResponse("m 1\n"));
  h.fetcher->Set("http://b:1/metrics", TextResponse("n 1\n"));
  const std::vector<model::Labels> both = {{{"__address__", "a:1"}}, {{"__address__", "b:1"}}};
  h.Update(both);
  h.pool->Start();
  h.Step(10s);
  h.app->TakeSamples();

  auto only_a = [](const model::Labels& d) { return d.Get("__address__") == "a:1"; };
  std::size_t moved = 0;
  h.pool->Update(h.cfg, nullptr, h.app, both, only_a, &moved);
  EXPECT_EQ(moved, 1U);
  ASSERT_EQ(h.pool->ActiveTargets().size(), 1U);
  EXPECT_EQ(h.pool->ActiveTargets()[0].url, "http://a:1/metrics");
  const int b_requests = h.Requests("http://b:1/metrics");
  h.Step(40s);
  for (const auto& x : h.app->TakeSamples()) {
    EXPECT_NE(x.labels.Get("instance"), "b:1");
    EXPECT_FALSE(storage::IsStaleNaN(x.value));
  }
  EXPECT_EQ(h.Requests("http://b:1/metrics"), b_requests);

  // Owned again: scraped again.
  moved = 0;
  h.pool->Update(h.cfg, nullptr, h.app, both, {}, &moved);
  EXPECT_EQ(moved, 0U);
  h.Step(20s);
  EXPECT_GT(h.Requests("http://b:1/metrics"), b_requests);
}

TEST(ScrapePoolTest, TargetLimitFailsEveryScrape) {
  PoolHarness h;
  h.cfg.target_limit = 1;
  h.fetcher->Set("http://a:1/metrics", TextResponse("m 1\n"));
  h.Update({{{"__address__", "a:1"}}, {{"__address__", "b:1"}}});
  h.pool->Start();
  h.Step(10s);
  for (const auto& t : h.pool->ActiveTargets()) {
    EXPECT_EQ(t.status.last_error, "target_limit exceeded (number of targets: 2, limit: 1)");
  }
  EXPECT_EQ(h.metrics.exceeded_target_limit.Value(), 1);
}

TEST(ScrapePoolTest, StopWritesStaleMarkersAndStopsScraping) {
  PoolHarness h;
  h.fetcher->Set("http://a:1/metrics", TextResponse("m 1\n"));
  h.Update({{{"__address__", "a:1"}}});
  h.pool->Start();
  h.Step(10s);
  h.app->TakeSamples();
  h.pool->Stop(true);
  auto s = h.app->TakeSamples();
  EXPECT_EQ(s.size(), 6U);
  for (const auto& x : s) EXPECT_TRUE(storage::IsStaleNaN(x.value));
  const int before = h.Requests("http://a:1/metrics");
  h.Step(30s);
  EXPECT_EQ(h.Requests("http://a:1/metrics"), before);
  EXPECT_TRUE(h.app->TakeSamples().empty());
}

TEST(ScrapePoolTest, HttpErrorsMarkTargetDown) {
  PoolHarness h;
  h.fetcher->Set("http://a:1/metrics", net::ClientResponse{503, "503 Service Unavailable", {}, ""});
  h.Update({{{"__address__", "a:1"}}, {{"__address__", "b:1"}}});
  h.pool->Start();
  h.Step(10s);
  auto active = h.pool->ActiveTargets();
  ASSERT_EQ(active.size(), 2U);
  EXPECT_EQ(active[0].status.last_error, "server returned HTTP status 503 Service Unavailable");
  EXPECT_EQ(active[1].status.last_error, "server returned HTTP status 404 Not Found");
  EXPECT_EQ(active[0].status.health, TargetHealth::kDown);
}

}  // namespace
}  // namespace starling::scrape
