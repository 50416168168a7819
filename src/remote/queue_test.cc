#include "remote/queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "net/http_client.h"
#include "remote/fake_receiver.h"
#include "wal/record.h"
#include "wal/wal.h"

namespace starling::remote {
namespace {

using namespace std::chrono_literals;
using base::testing::TempDir;
using testing::FakeReceiver;
using testing::ReceivedSample;

// Writes series and samples records as wal::Storage does.
class TestWal {
 public:
  explicit TestWal(const std::string& dir) {
    auto w = wal::Wal::Open(dir, 4 * wal::kPageSize);
    CHECK(w.ok());
    wal_ = std::move(*w);
  }
  void Series(storage::SeriesRef ref, model::Labels labels) {
    std::string rec;
    wal::record::RefSeries s{ref, std::move(labels)};
    wal::record::EncodeSeries(std::span(&s, 1), &rec);
    CHECK(wal_->Log(rec).ok());
  }
  void Samples(const std::vector<wal::record::RefSample>& samples) {
    std::string rec;
    wal::record::EncodeSamples(samples, &rec);
    CHECK(wal_->Log(rec).ok());
  }
  void Exemplar(storage::SeriesRef ref, std::int64_t t, double v, model::Labels labels) {
    std::string rec;
    wal::record::RefExemplar e{ref, t, v, std::move(labels)};
    wal::record::EncodeExemplars(std::span(&e, 1), &rec);
    CHECK(wal_->Log(rec).ok());
  }
  wal::Wal& wal() { return *wal_; }

 private:
  std::unique_ptr<wal::Wal> wal_;
};

QueueOptions FastOptions(const std::string& url) {
  QueueOptions o;
  o.name = "test";
  o.component_id = "prometheus.remote_write.t";
  o.url = url;
  o.queue.max_samples_per_send = 50;
  o.queue.batch_send_deadline = 5ms;
  o.queue.min_backoff = 1ms;
  o.queue.max_backoff = 20ms;
  o.remote_timeout = 5s;
  o.progress_interval = 5ms;
  o.wal_poll_interval = 1ms;
  o.shard_update_interval = std::chrono::hours(1);
  return o;
}

struct Fixture {
  TempDir dir;
  std::string wal_dir = dir.Path("wal");
  std::string state_dir = dir.Path("state");
  TestWal wal{wal_dir};
  net::HttpClient client;
  base::MetricsRegistry metrics;
  FakeReceiver receiver;

  Fixture() { CHECK(receiver.Start().ok()); }

  // Waits until everything in the WAL is done (so metrics are final and a stop abandons
  // nothing).
  bool WaitAcked(const Queue& q) {
    const wal::Position end = wal.wal().End();
    for (int i = 0; i < 4000; ++i) {
      if (q.AckedPosition() == end) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  std::unique_ptr<Queue> NewQueue(QueueOptions o, const LabelSource* labels = nullptr) {
    return std::make_unique<Queue>(std::move(o), wal_dir, state_dir, labels, &client, &metrics);
  }
  double Metric(const std::string& name) { return base::testing::MetricValue(metrics, name); }
};

// The samples of each series in the order received.
std::map<std::string, std::vector<std::int64_t>> BySeries(const std::vector<ReceivedSample>& s) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const ReceivedSample& r : s) out[r.series].push_back(r.t);
  return out;
}

// Appends `per_series` samples (t = 1000 + i) to each of `series` series (refs 1..n).
void WriteSeriesAndSamples(TestWal& w, int series, int per_series, std::int64_t t0 = 1000) {
  for (int s = 1; s <= series; ++s) {
    w.Series(static_cast<storage::SeriesRef>(s),
             model::Labels{{"__name__", "m"}, {"s", std::to_string(s)}});
  }
  for (int i = 0; i < per_series; ++i) {
    std::vector<wal::record::RefSample> rec;
    for (int s = 1; s <= series; ++s) {
      rec.push_back({static_cast<storage::SeriesRef>(s), t0 + i, static_cast<double>(i)});
    }
    w.Samples(rec);
  }
}

TEST(QueueTest, SendsSamplesWithHeadersAndExternalLabels) {
  Fixture f;
  f.wal.Series(1, model::Labels{{"__name__", "up"}, {"job", "node"}});
  f.wal.Series(2, model::Labels{{"__name__", "up"}, {"cluster", "own"}, {"job", "db"}});
  f.wal.Samples({{1, 1000, 1}, {2, 1000, 0}});
  f.wal.Samples({{1, 2000, 1}});
  QueueOptions o = FastOptions(f.receiver.url());
  o.external_labels = model::Labels{{"cluster", "prod"}, {"zone", "a"}};
  o.headers = {{"X-Scope-OrgID", "tenant"}, {"Content-Type", "text/plain"}};
  auto q = f.NewQueue(o);
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(f.receiver.WaitForSamples(3));
  std::vector<ReceivedSample> got = f.receiver.Accepted();
  ASSERT_EQ(got.size(), 3U);
  auto by = BySeries(got);
  // External labels are added unless the series has the label.
  EXPECT_EQ(by["{__name__=\"up\", cluster=\"prod\", job=\"node\", zone=\"a\"}"],
            (std::vector<std::int64_t>{1000, 2000}));
  EXPECT_EQ(by["{__name__=\"up\", cluster=\"own\", job=\"db\", zone=\"a\"}"],
            (std::vector<std::int64_t>{1000}));

  const auto reqs = f.receiver.Requests();
  ASSERT_FALSE(reqs.empty());
  std::map<std::string, std::vector<std::string>> headers;
  for (const net::Header& h : reqs[0].headers) {
    std::string lower = h.name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers[lower].push_back(h.value);
  }
  EXPECT_EQ(headers["content-encoding"], std::vector<std::string>{"snappy"});
  EXPECT_EQ(headers["content-type"], std::vector<std::string>{"application/x-protobuf"});
  EXPECT_EQ(headers["x-prometheus-remote-write-version"], std::vector<std::string>{"0.1.0"});
  EXPECT_EQ(headers["x-scope-orgid"], std::vector<std::string>{"tenant"});
  ASSERT_EQ(headers["user-agent"].size(), 1U);
  EXPECT_EQ(headers["user-agent"][0].rfind("Starling/", 0), 0U) << headers["user-agent"][0];

  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
  EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_total"), 3);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_failed_total"), 0);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_shards"), 1);
  // Every send is timed into the histogram, whose last finite bucket is Prometheus's 300 s.
  EXPECT_EQ(f.Metric("prometheus_remote_storage_sent_batch_duration_seconds_count"),
            static_cast<double>(f.receiver.RequestCount()));
  EXPECT_NE(f.metrics.Render().find("prometheus_remote_storage_sent_batch_duration_seconds_bucket{"
                                    "component_id=\"prometheus.remote_write.t\","
                                    "remote_name=\"test\",url=\"" +
                                    f.receiver.url() + "\",le=\"300\"}"),
            std::string::npos);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_queue_highest_sent_timestamp_seconds"), 2);
  EXPECT_GT(f.Metric("prometheus_remote_storage_bytes_total"), 0);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_metadata_bytes_total"), 0);
}

TEST(QueueTest, RetriesServerErrorsWithoutLossOrReordering) {
  Fixture f;
  f.receiver.Script({{500, {}, "boom"}, {503, {}, ""}, {500, {}, ""}});
  WriteSeriesAndSamples(f.wal, 7, 40);
  QueueOptions o = FastOptions(f.receiver.url());
  o.queue.min_shards = 3;
  o.queue.max_shards = 3;
  auto q = f.NewQueue(o);
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(f.receiver.WaitForSamples(7 * 40));
  auto by = BySeries(f.receiver.Accepted());
  ASSERT_EQ(by.size(), 7U);
  for (const auto& [series, ts] : by) {
    SCOPED_TRACE(series);
    ASSERT_EQ(ts.size(), 40U);  // nothing lost, nothing twice
    for (std::size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(ts[i], 1000 + static_cast<int>(i));
  }
  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
  EXPECT_GT(f.Metric("prometheus_remote_storage_samples_retried_total"), 0);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_failed_total"), 0);
  EXPECT_EQ(q->Status().last_error.rfind("server returned HTTP status 5", 0), 0U);
}

TEST(QueueTest, HonoursRetryAfterOn429) {
  struct Case {
    std::string name;
    bool retry_on_429;
    std::size_t want_samples;
  };
  for (const Case& c : std::vector<Case>{{"retried", true, 1}, {"dropped", false, 0}}) {
    SCOPED_TRACE(c.name);
    Fixture f;
    f.receiver.Script({{429, {{"Retry-After", "1"}}, "slow down"}});
    f.wal.Series(1, model::Labels{{"__name__", "m"}});
    f.wal.Samples({{1, 1000, 1}});
    QueueOptions o = FastOptions(f.receiver.url());
    o.queue.retry_on_http_429 = c.retry_on_429;
    auto q = f.NewQueue(o);
    ASSERT_TRUE(q->Start().ok());
    if (c.retry_on_429) {
      ASSERT_TRUE(f.receiver.WaitForSamples(1));
      const auto reqs = f.receiver.Requests();
      ASSERT_EQ(reqs.size(), 2U);
      // min_backoff is 1ms: the wait between the attempts is the server's second.
      EXPECT_GE(reqs[1].at - reqs[0].at, 900ms);
      ASSERT_TRUE(f.WaitAcked(*q));
      q->Stop();
      EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_retried_total"), 1);
    } else {
      // The batch is dropped: the acked position moves past it and nothing is retried.
      EXPECT_TRUE(f.WaitAcked(*q));
      q->Stop();
      EXPECT_EQ(f.receiver.RequestCount(), 1U);
      EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_failed_total"), 1);
    }
    EXPECT_EQ(f.receiver.Accepted().size(), c.want_samples);
  }
}

TEST(QueueTest, DropsAndCountsClientErrors) {
  Fixture f;
  f.receiver.Script({{400, {}, "out of order sample"}});
  f.wal.Series(1, model::Labels{{"__name__", "m"}});
  f.wal.Samples({{1, 1000, 1}, {1, 1001, 2}});
  auto q = f.NewQueue(FastOptions(f.receiver.url()));
  ASSERT_TRUE(q->Start().ok());
  // Later samples still flow after the rejected batch (in flight before they are written).
  for (int i = 0; i < 10000 && f.receiver.RequestCount() == 0; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GE(f.receiver.RequestCount(), 1U);
  f.wal.Samples({{1, 1002, 3}});
  ASSERT_TRUE(f.receiver.WaitForSamples(1));
  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
  EXPECT_EQ(f.receiver.Accepted()[0].t, 1002);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_failed_total"), 2);
  EXPECT_EQ(q->Status().last_error, "server returned HTTP status 400: out of order sample");
}

TEST(QueueTest, ReceiverDownThenUp) {
  Fixture f;
  const std::uint16_t port = f.receiver.port();
  const std::string url = f.receiver.url();
  f.receiver.Stop();
  WriteSeriesAndSamples(f.wal, 3, 10);
  f.wal.Exemplar(1, 1000, 0.5, model::Labels{{"trace_id", "abc"}});
  auto q = f.NewQueue(FastOptions(url));
  ASSERT_TRUE(q->Start().ok());
  // Everything waits in the shards, counted as pending.
  auto all_pending = [&] {
    return f.Metric("prometheus_remote_storage_samples_pending") == 30 &&
           f.Metric("prometheus_remote_storage_exemplars_pending") == 1;
  };
  for (int i = 0; i < 2000 && !all_pending(); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(all_pending());
  for (int i = 0; i < 2000 && f.Metric("prometheus_remote_storage_samples_retried_total") <= 0;
       ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GT(f.Metric("prometheus_remote_storage_samples_retried_total"), 0);
  EXPECT_EQ(q->LowestUnackedSegment(), 0);
  FakeReceiver again(port);
  ASSERT_TRUE(again.Start().ok());
  ASSERT_TRUE(again.WaitForSamples(30));
  auto by = BySeries(again.Accepted());
  for (const auto& [series, ts] : by) {
    SCOPED_TRACE(series);
    ASSERT_EQ(ts.size(), 10U);
    for (std::size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(ts[i], 1000 + static_cast<int>(i));
  }
  q->Stop();
}

TEST(QueueTest, RestartResumesFromPersistedPosition) {
  Fixture f;
  WriteSeriesAndSamples(f.wal, 4, 5);
  {
    auto q = f.NewQueue(FastOptions(f.receiver.url()));
    ASSERT_TRUE(q->Start().ok());
    ASSERT_TRUE(f.receiver.WaitForSamples(20));
    ASSERT_TRUE(f.WaitAcked(*q));
    q->Stop();
  }
  auto progress = ProgressFile::Read(f.state_dir);
  ASSERT_TRUE(progress.ok());
  ASSERT_TRUE(progress->has_value());
  EXPECT_EQ((*progress)->acked, f.wal.wal().End());
  EXPECT_EQ((*progress)->frontier, f.wal.wal().End());

  // New samples of old series (whose series records come before the acked position).
  f.wal.Samples({{1, 5000, 50}, {2, 5000, 60}});
  {
    auto q = f.NewQueue(FastOptions(f.receiver.url()));
    ASSERT_TRUE(q->Start().ok());
    ASSERT_TRUE(f.receiver.WaitForSamples(22));
    ASSERT_TRUE(f.WaitAcked(*q));
    q->Stop();
  }
  std::vector<ReceivedSample> got = f.receiver.Accepted();
  ASSERT_EQ(got.size(), 22U);  // the first 20 were not sent again
  std::vector<ReceivedSample> tail(got.begin() + 20, got.end());
  auto by = BySeries(tail);
  EXPECT_EQ(by["{__name__=\"m\", s=\"1\"}"], std::vector<std::int64_t>{5000});
  EXPECT_EQ(by["{__name__=\"m\", s=\"2\"}"], std::vector<std::int64_t>{5000});
}

TEST(QueueTest, ResumesFromProgressLeftByACrash) {
  // A crash leaves the progress file at the last position persisted, here after the first
  // samples record: the queue sends from there on, series records before it included.
  Fixture f;
  f.wal.Series(1, model::Labels{{"__name__", "m"}});
  f.wal.Samples({{1, 1000, 1}});
  const wal::Position after_first = f.wal.wal().End();
  f.wal.Series(2, model::Labels{{"__name__", "n"}});
  f.wal.Samples({{1, 2000, 2}, {2, 2000, 2}});
  f.wal.Samples({{1, 3000, 3}});
  std::filesystem::create_directories(f.state_dir);
  ASSERT_TRUE(ProgressFile(f.state_dir).Write({after_first, after_first}).ok());
  auto q = f.NewQueue(FastOptions(f.receiver.url()));
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(f.receiver.WaitForSamples(3));
  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
  auto by = BySeries(f.receiver.Accepted());
  EXPECT_EQ(by["{__name__=\"m\"}"], (std::vector<std::int64_t>{2000, 3000}));
  EXPECT_EQ(by["{__name__=\"n\"}"], (std::vector<std::int64_t>{2000}));
}

TEST(QueueTest, RestartAfterOutageResendsUnacked) {
  Fixture f;
  f.receiver.Script(std::vector<FakeReceiver::Answer>(1000, {500, {}, ""}));
  WriteSeriesAndSamples(f.wal, 2, 3);
  {
    auto q = f.NewQueue(FastOptions(f.receiver.url()));
    ASSERT_TRUE(q->Start().ok());
    for (int i = 0; i < 2000 && f.receiver.RequestCount() < 3; ++i) {
      std::this_thread::sleep_for(5ms);
    }
    q->Stop();  // nothing was accepted
  }
  EXPECT_TRUE(f.receiver.Accepted().empty());
  FakeReceiver fresh;
  ASSERT_TRUE(fresh.Start().ok());
  auto q = f.NewQueue(FastOptions(fresh.url()));
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(fresh.WaitForSamples(6));
  q->Stop();
  EXPECT_EQ(fresh.Accepted().size(), 6U);
}

TEST(QueueTest, PersistsTheFrontierBeforeSendingAndTheAckedPositionAfter) {
  Fixture f;
  f.receiver.Hold();
  WriteSeriesAndSamples(f.wal, 2, 3);
  const wal::Position end = f.wal.wal().End();
  QueueOptions o = FastOptions(f.receiver.url());
  o.progress_interval = std::chrono::hours(1);  // only sends write the file
  o.queue.max_samples_per_send = 6;             // one batch of all
  o.queue.batch_send_deadline = std::chrono::hours(1);
  auto q = f.NewQueue(o);
  ASSERT_TRUE(q->Start().ok());
  auto persisted = [&](const Progress& want) {
    for (int i = 0; i < 4000; ++i) {
      auto got = ProgressFile::Read(f.state_dir);
      if (got.ok() && got->has_value() && **got == want) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  };
  // The batch is out, held by the receiver: nothing is acked, everything may be sent.
  EXPECT_TRUE(persisted({{0, 0}, end}));
  f.receiver.Release();
  ASSERT_TRUE(f.receiver.WaitForSamples(6));
  EXPECT_TRUE(persisted({end, end}));
  q->Stop();
}

// Starts a queue with options o over 6 samples of f's WAL, the receiver holding its request,
// and stops it on another thread once the request arrived. The receiver is released by
// `release` after the stop started; returns the acked position persisted by the stop.
std::optional<wal::Position> StopWithRequestHeld(
    Fixture& f, QueueOptions o, const std::function<void(std::future<void>&)>& release) {
  f.receiver.Hold();
  WriteSeriesAndSamples(f.wal, 2, 3);
  auto q = f.NewQueue(std::move(o));
  if (!q->Start().ok() || !f.receiver.WaitForArrivals(1)) return std::nullopt;
  std::future<void> stopped = std::async(std::launch::async, [&] { q->Stop(); });
  release(stopped);
  f.receiver.Release();
  stopped.get();
  auto progress = ProgressFile::Read(f.state_dir);
  if (!progress.ok() || !progress->has_value()) return std::nullopt;
  return (*progress)->acked;
}

// Sends what f's WAL holds with a new queue to rx, until all is acked.
void SendTheRest(Fixture& f, FakeReceiver& rx, std::size_t total) {
  auto q = f.NewQueue(FastOptions(rx.url()));
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(rx.WaitForSamples(total));
  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
}

// Stop lets the request in flight finish: cancelled, it would leave samples the receiver has
// unacked, and a restart (a config update) would send them again.
TEST(QueueTest, StopLetsTheRequestInFlightFinish) {
  Fixture f;
  auto acked = StopWithRequestHeld(f, FastOptions(f.receiver.url()), [](auto& stopped) {
    // Stop waits for the held request, within its grace.
    EXPECT_EQ(stopped.wait_for(200ms), std::future_status::timeout);
  });
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(*acked, f.wal.wal().End());
  EXPECT_EQ(f.receiver.Accepted().size(), 6U);

  f.wal.Samples({{1, 5000, 50}});
  SendTheRest(f, f.receiver, 7);
  EXPECT_EQ(f.receiver.Accepted().size(), 7U);  // none of the first six sent twice
}

// Past stop_grace, Stop cancels the request; its samples stay unacked and are sent after a
// restart.
TEST(QueueTest, StopCancelsTheRequestInFlightAfterTheGrace) {
  Fixture f;
  QueueOptions o = FastOptions(f.receiver.url());
  o.stop_grace = 50ms;
  auto acked = StopWithRequestHeld(f, o, [](auto& stopped) {
    // Generous: only a Stop that waits for the receiver would take this long.
    EXPECT_EQ(stopped.wait_for(20s), std::future_status::ready);
  });
  ASSERT_TRUE(acked.has_value());
  EXPECT_NE(*acked, f.wal.wal().End());

  FakeReceiver fresh;
  ASSERT_TRUE(fresh.Start().ok());
  SendTheRest(f, fresh, 6);
  EXPECT_EQ(fresh.Accepted().size(), 6U);
}

TEST(QueueTest, SplitsWhatTheReceiverRefusesOfWhatMayHaveBeenSent) {
  // A crash left the acked position after t=1002 and the frontier after t=1005: samples up to
  // 1005 may have been delivered. The receiver holds series 1 and 2 up to 1005 and series 3
  // and 4 up to 1003, and refuses a whole request with a sample older than that, as
  // Prometheus does. Only those older samples may be dropped.
  Fixture f;
  for (int s = 1; s <= 4; ++s) {
    f.wal.Series(static_cast<storage::SeriesRef>(s),
                 model::Labels{{"__name__", "m"}, {"s", std::to_string(s)}});
  }
  wal::Position acked;
  wal::Position frontier;
  for (int i = 0; i < 10; ++i) {
    std::vector<wal::record::RefSample> rec;
    for (int s = 1; s <= 4; ++s) {
      rec.push_back({static_cast<storage::SeriesRef>(s), 1000 + i, static_cast<double>(i)});
    }
    f.wal.Samples(rec);
    if (i == 2) acked = f.wal.wal().End();
    if (i == 5) frontier = f.wal.wal().End();
  }
  std::filesystem::create_directories(f.state_dir);
  ASSERT_TRUE(ProgressFile(f.state_dir).Write({acked, frontier}).ok());
  const std::string s1 = "{__name__=\"m\", s=\"1\"}";
  const std::string s2 = "{__name__=\"m\", s=\"2\"}";
  const std::string s3 = "{__name__=\"m\", s=\"3\"}";
  const std::string s4 = "{__name__=\"m\", s=\"4\"}";
  f.receiver.RejectOutOfOrder({{s1, 1005}, {s2, 1005}, {s3, 1003}, {s4, 1003}});
  auto q = f.NewQueue(FastOptions(f.receiver.url()));
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(f.WaitAcked(*q));
  auto by = BySeries(f.receiver.Accepted());
  EXPECT_EQ(by[s1], (std::vector<std::int64_t>{1006, 1007, 1008, 1009}));
  EXPECT_EQ(by[s2], (std::vector<std::int64_t>{1006, 1007, 1008, 1009}));
  EXPECT_EQ(by[s3], (std::vector<std::int64_t>{1004, 1005, 1006, 1007, 1008, 1009}));
  EXPECT_EQ(by[s4], (std::vector<std::int64_t>{1004, 1005, 1006, 1007, 1008, 1009}));
  // Refused alone: 1003 and 1004 of series 1 and 2.
  EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_failed_total"), 4);
  EXPECT_LE(f.receiver.RequestCount(), 60U);

  // Samples written since the start were never sent: a request of them that the receiver
  // refuses is dropped whole, not split.
  const std::size_t requests = f.receiver.RequestCount();
  f.wal.Samples({{1, 1001, 1}, {2, 1010, 10}});
  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
  EXPECT_EQ(f.receiver.RequestCount(), requests + 1);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_failed_total"), 6);
  EXPECT_EQ(BySeries(f.receiver.Accepted())[s2].back(), 1009);
}

TEST(QueueTest, WriteRelabelConfigsAndLabelSource) {
  // Series 1 and 2 come from the source; series 3 is unknown to it (the queue keeps it).
  class Source : public LabelSource {
   public:
    bool Visit(storage::SeriesRef ref, Visitor f, void* ctx) const override {
      if (ref == 1) {
        f(ctx, "__name__", "keep_me");
        f(ctx, "job", "a");
        return true;
      }
      if (ref == 2) {
        f(ctx, "__name__", "drop_me");
        return true;
      }
      return false;
    }
  } source;
  Fixture f;
  f.wal.Series(1, model::Labels{{"__name__", "keep_me"}, {"job", "a"}});
  f.wal.Series(2, model::Labels{{"__name__", "drop_me"}});
  f.wal.Series(3, model::Labels{{"__name__", "rename_me"}});
  f.wal.Samples({{1, 1000, 1}, {2, 1000, 2}, {3, 1000, 3}, {4, 1000, 4}});
  QueueOptions o = FastOptions(f.receiver.url());
  o.external_labels = model::Labels{{"env", "x"}};
  model::relabel::Config drop;
  drop.source_labels = {"__name__"};
  drop.regex = *model::relabel::Regex::Compile("drop_me");
  drop.action = model::relabel::Action::kDrop;
  model::relabel::Config rename;
  rename.source_labels = {"__name__"};
  rename.regex = *model::relabel::Regex::Compile("rename_me");
  rename.target_label = "__name__";
  rename.replacement = "renamed";
  o.write_relabel_configs = {drop, rename};
  auto q = f.NewQueue(o, &source);
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(f.receiver.WaitForSamples(2));
  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
  auto by = BySeries(f.receiver.Accepted());
  EXPECT_EQ(by.size(), 2U);
  EXPECT_EQ(by["{__name__=\"keep_me\", env=\"x\", job=\"a\"}"], std::vector<std::int64_t>{1000});
  EXPECT_EQ(by["{__name__=\"renamed\", env=\"x\"}"], std::vector<std::int64_t>{1000});
  // Series 2 was dropped by a rule, ref 4 has no series record.
  EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_dropped_total"), 2);
}

TEST(QueueTest, SendsExemplars) {
  Fixture f;
  f.wal.Series(1, model::Labels{{"__name__", "req_total"}});
  f.wal.Samples({{1, 1000, 1}});
  f.wal.Exemplar(1, 1000, 0.5, model::Labels{{"trace_id", "abc"}});
  auto q = f.NewQueue(FastOptions(f.receiver.url()));
  ASSERT_TRUE(q->Start().ok());
  ASSERT_TRUE(f.receiver.WaitForSamples(1));
  ASSERT_TRUE(f.WaitAcked(*q));
  q->Stop();
  EXPECT_EQ(f.receiver.ExemplarCount(), 1U);
  EXPECT_EQ(f.Metric("prometheus_remote_storage_exemplars_total"), 1);
}

TEST(QueueTest, CountsExemplarsAsSamples) {
  struct Case {
    std::string name;
    std::vector<FakeReceiver::Answer> script;
    double sent, retried, failed;
  };
  const std::vector<Case> cases = {
      {"retried", {{500, {}, ""}, {503, {}, ""}}, 1, 2, 0},
      {"failed", {{400, {}, "bad exemplar"}}, 0, 0, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f;
    f.receiver.Script(c.script);
    // Only exemplars, so that every request carries the same one; ref 2 has no series.
    f.wal.Series(1, model::Labels{{"__name__", "req_total"}});
    f.wal.Exemplar(1, 1000, 0.5, model::Labels{{"trace_id", "abc"}});
    f.wal.Exemplar(2, 1000, 0.5, model::Labels{{"trace_id", "def"}});
    auto q = f.NewQueue(FastOptions(f.receiver.url()));
    ASSERT_TRUE(q->Start().ok());
    ASSERT_TRUE(f.WaitAcked(*q));
    q->Stop();
    EXPECT_EQ(f.receiver.ExemplarCount(), c.sent);
    EXPECT_EQ(f.Metric("prometheus_remote_storage_exemplars_total"), c.sent);
    EXPECT_EQ(f.Metric("prometheus_remote_storage_exemplars_retried_total"), c.retried);
    EXPECT_EQ(f.Metric("prometheus_remote_storage_exemplars_failed_total"), c.failed);
    EXPECT_EQ(f.Metric("prometheus_remote_storage_exemplars_dropped_total"), 1);
    EXPECT_EQ(f.Metric("prometheus_remote_storage_samples_total"), 0);
    EXPECT_EQ(f.Metric("prometheus_remote_storage_max_samples_per_send"), 50);
    EXPECT_EQ(f.Metric("prometheus_remote_storage_shard_capacity"), 10000);
  }
}

TEST(QueueTest, ScalesShardsUnderBacklog) {
  Fixture f;
  // 5 ms per request of 10 samples: one shard sends at most 2000 samples/s, and samples arrive
  // faster, so the queue must add shards. They arrive over a while rather than all at once, so
  // that every shard update sees the rate in, however slowly the test runs.
  FakeReceiver slow(0, 8);
  ASSERT_TRUE(slow.Start().ok());
  slow.SetDelay(5ms);
  constexpr int kSeries = 20;
  constexpr int kRows = 200;
  WriteSeriesAndSamples(f.wal, kSeries, 1);
  QueueOptions o = FastOptions(slow.url());
  o.queue.max_samples_per_send = 10;
  o.queue.max_shards = 8;
  o.shard_update_interval = 50ms;
  auto q = f.NewQueue(o);
  ASSERT_TRUE(q->Start().ok());
  int most = 0;
  for (int i = 1; i < kRows; ++i) {
    std::vector<wal::record::RefSample> rec;
    for (int s = 1; s <= kSeries; ++s) {
      rec.push_back({static_cast<storage::SeriesRef>(s), 1000 + i, static_cast<double>(i)});
    }
    f.wal.Samples(rec);
    most = std::max(most, q->Status().shards);
    std::this_thread::sleep_for(2ms);
  }
  for (int i = 0; i < 10000 && slow.Accepted().size() < kSeries * kRows; ++i) {
    most = std::max(most, q->Status().shards);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(slow.WaitForSamples(kSeries * kRows));
  EXPECT_GT(most, 1);
  auto by = BySeries(slow.Accepted());
  for (const auto& [series, ts] : by) {
    SCOPED_TRACE(series);
    ASSERT_EQ(ts.size(), static_cast<std::size_t>(kRows));
    for (std::size_t i = 0; i < ts.size(); ++i) ASSERT_EQ(ts[i], 1000 + static_cast<int>(i));
  }
  // Idle: back to min_shards.
  for (int i = 0; i < 2000 && q->Status().shards != 1; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(q->Status().shards, 1);
  q->Stop();
}

// One shard that sends full batches of ten only, with room for ten samples behind the batch
// in flight.
QueueOptions OneShardOfTen(const std::string& url) {
  QueueOptions o = FastOptions(url);
  o.queue.max_samples_per_send = 10;
  o.queue.capacity = 10;
  o.queue.max_shards = 1;
  o.queue.batch_send_deadline = std::chrono::hours(1);
  return o;
}

TEST(QueueTest, BatchInFlightLeavesTheCapacityFree) {
  Fixture f;
  f.receiver.Hold();
  WriteSeriesAndSamples(f.wal, 1, 20);
  auto q = f.NewQueue(OneShardOfTen(f.receiver.url()));
  ASSERT_TRUE(q->Start().ok());
  // The first batch is held by the receiver; the next ten samples still find room behind it.
  bool queued = false;
  for (int i = 0; i < 4000 && !queued; ++i) {
    queued = q->Status().pending_samples == 20;
    if (!queued) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(queued) << "pending: " << q->Status().pending_samples;
  EXPECT_EQ(f.receiver.Accepted().size(), 0U);
  f.receiver.Release();
  ASSERT_TRUE(f.receiver.WaitForSamples(20));
  const auto by = BySeries(f.receiver.Accepted());
  ASSERT_EQ(by.size(), 1U);
  const std::vector<std::int64_t>& ts = by.begin()->second;
  ASSERT_EQ(ts.size(), 20U);
  for (std::size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(ts[i], 1000 + static_cast<int>(i));
  q->Stop();
}

// The WAL watcher's records by type, its segment, records it cannot decode, and the times it
// waits for room in a full shard, as Prometheus counts them.
TEST(QueueTest, CountsWhatTheWalWatcherReadsAndWaitsFor) {
  Fixture f;
  f.receiver.Hold();
  WriteSeriesAndSamples(f.wal, 1, 25);
  ASSERT_TRUE(f.wal.wal().Log(std::string("\x02garbage")).ok());  // a samples record, damaged
  f.wal.Exemplar(1, 1000, 0.5, model::Labels{{"trace_id", "abc"}});
  auto q = f.NewQueue(OneShardOfTen(f.receiver.url()));
  ASSERT_TRUE(q->Start().ok());
  const std::string watcher = "{component_id=\"prometheus.remote_write.t\",consumer=\"test\"";
  auto read = [&](const char* type, int n) {
    return "prometheus_wal_watcher_records_read_total" + watcher + ",type=\"" + type + "\"} " +
           std::to_string(n);
  };
  // One batch in flight and ten samples behind it: the watcher read the 21st sample and waits
  // for room.
  EXPECT_TRUE(base::testing::WaitForLines(f.metrics, {read("series", 1), read("samples", 21)}))
      << f.metrics.Render();
  for (int i = 0; i < 2000 && f.Metric("prometheus_remote_storage_enqueue_retries_total") < 1;
       ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(f.Metric("prometheus_remote_storage_enqueue_retries_total"), 1);
  EXPECT_EQ(f.Metric("prometheus_wal_watcher_current_segment"), 0);
  f.receiver.Release();
  ASSERT_TRUE(f.receiver.WaitForSamples(20));
  EXPECT_TRUE(base::testing::WaitForLines(
      f.metrics, {read("series", 1), read("samples", 26), read("exemplars", 1),
                  read("tombstones", 0), read("unknown", 0),
                  "prometheus_wal_watcher_record_decode_failures_total" + watcher + "} 1"}))
      << f.metrics.Render();
  // The last five samples and the exemplar wait for a full batch, once the second batch's
  // response is in.
  for (int i = 0; i < 2000 && q->Status().pending_samples != 6; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(q->Status().pending_samples, 6U);
  q->Stop();
}

TEST(QueueTest, DesiredShards) {
  struct Case {
    std::string name;
    ShardInputs in;
    int want;
  };
  auto in = [](int current, double in_rate, double out_rate, double send_secs, double pending,
               bool ok = true, double blocked = 0) {
    ShardInputs i;
    i.current = current;
    i.min_shards = 1;
    i.max_shards = 10;
    i.samples_in_per_second = in_rate;
    i.samples_out_per_second = out_rate;
    i.send_seconds_per_second = send_secs;
    i.pending_samples = pending;
    i.recent_send_succeeded = ok;
    i.blocked_fraction = blocked;
    i.batch_size = 100;
    return i;
  };
  const std::vector<Case> cases = {
      {"idle goes to min", in(5, 0, 0, 0, 0), 1},
      {"keeping up with one shard", in(1, 1000, 1000, 0.5, 0), 1},
      {"sends take 3x the time available", in(1, 1000, 1000, 3, 0), 3},
      {"backlog adds shards", in(2, 1000, 1000, 1, 40000), 3},
      {"within tolerance keeps", in(4, 1000, 1000, 4.5, 0), 4},
      {"capped at max", in(2, 100000, 1000, 1, 0), 10},
      {"fewer when sends got fast", in(8, 1000, 1000, 0.2, 0), 1},
      {"failing endpoint keeps", in(3, 1000, 1000, 30, 5000, false), 3},
      {"nothing sent keeps", in(3, 1000, 0, 0, 5000), 3},
      {"stalled reading grows", in(4, 1000, 1000, 4, 0, true, 0.5), 6},
      {"backlog over a batch per shard keeps", in(4, 0, 1000, 0.2, 500), 4},
      {"small backlog shrinks", in(4, 0, 1000, 0.2, 300), 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(DesiredShards(c.in), c.want);
  }
}

TEST(QueueTest, ParseRetryAfter) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // 06 Nov 1994 08:49:37
  struct Case {
    std::string value;
    std::chrono::nanoseconds want;
  };
  const std::vector<Case> cases = {
      {"5", 5s},
      {" 2 ", 2s},
      {"0", 0s},
      {"Sun, 06 Nov 1994 08:50:07 GMT", 30s},
      {"Sun, 06 Nov 1994 08:00:00 GMT", 0s},
      {"soon", 0s},
      {"-3", 0s},
      {"", 0s},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(ParseRetryAfter(c.value, now), c.want);
  }
}

TEST(QueueTest, ProgressFile) {
  TempDir dir;
  auto none = ProgressFile::Read(dir.path());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  {
    ProgressFile file(dir.path());
    ASSERT_TRUE(file.Write({{3, 1234567}, {4, 89}}).ok());
    // Rewritten in place: a shorter line leaves nothing of the longer one behind.
    ASSERT_TRUE(file.Write({{3, 12}, {3, 40}}).ok());
    ASSERT_TRUE(file.Sync().ok());
  }
  auto got = ProgressFile::Read(dir.path());
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, (Progress{{3, 12}, {3, 40}}));
  // The first format holds only the acked position.
  dir.Write("progress", "v1 3 12345\n");
  got = ProgressFile::Read(dir.path());
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, (Progress{{3, 12345}, {3, 12345}}));
  for (const char* bad : {"garbage", "v2 3 12", "v2 3 12 -1 0", "v3 1 2 3 4"}) {
    SCOPED_TRACE(bad);
    dir.Write("progress", bad);
    EXPECT_FALSE(ProgressFile::Read(dir.path()).ok());
  }
}

}  // namespace
}  // namespace starling::remote
