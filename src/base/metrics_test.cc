#include "base/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "base/owned_series.h"

namespace starling::base {
namespace {

TEST(MetricsTest, RendersSortedFamiliesWithHelpAndType) {
  MetricsRegistry r;
  r.AddGauge("zeta_bytes", "Bytes of zeta.").Set(42);
  Counter& c = r.AddCounter("alpha_total", "Alphas seen.");
  c.Inc();
  c.Add(2.5);
  EXPECT_EQ(r.Render(),
            "# HELP alpha_total Alphas seen.\n"
            "# TYPE alpha_total counter\n"
            "alpha_total 3.5\n"
            "# HELP zeta_bytes Bytes of zeta.\n"
            "# TYPE zeta_bytes gauge\n"
            "zeta_bytes 42\n");
  EXPECT_EQ(MetricsRegistry::kContentType, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(MetricsTest, LabelledSeriesSortedByValues) {
  MetricsRegistry r;
  auto& f = r.AddCounterFamily("http_requests_total", "Requests.", {"code", "method"});
  f.WithLabels({"500", "GET"}).Inc();
  f.WithLabels({"200", "POST"}).Add(2);
  f.WithLabels({"200", "GET"}).Add(7);
  f.WithLabels({"200", "GET"}).Inc();
  EXPECT_EQ(r.Render(),
            "# HELP http_requests_total Requests.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{code=\"200\",method=\"GET\"} 8\n"
            "http_requests_total{code=\"200\",method=\"POST\"} 2\n"
            "http_requests_total{code=\"500\",method=\"GET\"} 1\n");
}

TEST(MetricsTest, FamilyWithoutSeriesIsLeftOut) {
  MetricsRegistry r;
  r.AddGaugeFamily("empty", "No series yet.", {"x"});
  EXPECT_EQ(r.Render(), "");
}

TEST(MetricsTest, EscapesHelpAndLabelValues) {
  MetricsRegistry r;
  r.AddGaugeFamily("g", "a\\b\nc \"q\"", {"l"}).WithLabels({"x\"y\\z\nw"}).Set(1);
  EXPECT_EQ(r.Render(),
            "# HELP g a\\\\b\\nc \"q\"\n"
            "# TYPE g gauge\n"
            "g{l=\"x\\\"y\\\\z\\nw\"} 1\n");
}

TEST(MetricsTest, ValueFormatting) {
  struct Case {
    double value;
    std::string want;
  };
  const Case cases[] = {
      {0, "0"},
      {-3, "-3"},
      {0.25, "0.25"},
      {1700000000.5, "1700000000.5"},
      {1e-9, "1e-09"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    MetricsRegistry r;
    r.AddGauge("v", "h").Set(c.value);
    std::string out = r.Render();
    std::string last_line = out.substr(out.rfind("\nv ") + 1);
    EXPECT_EQ(last_line, "v " + c.want + "\n");
    // Whatever the spelling, it must parse back to the same number.
    double parsed = std::strtod(c.want == "+Inf" ? "inf" : c.want.c_str(), nullptr);
    if (std::isnan(c.value)) {
      EXPECT_TRUE(std::isnan(parsed));
    } else {
      EXPECT_EQ(parsed, c.value);
    }
  }
}

TEST(MetricsTest, GaugeArithmetic) {
  Gauge g;
  g.Set(10);
  g.Inc();
  g.Dec();
  g.Dec();
  g.Add(0.5);
  g.Sub(2);
  EXPECT_DOUBLE_EQ(g.Value(), 7.5);
}

TEST(MetricsTest, CounterIgnoresNegativeAndNaN) {
  Counter c;
  c.Add(3);
  c.Add(-1);
  c.Add(std::nan(""));
  EXPECT_EQ(c.Value(), 3);
}

TEST(MetricsTest, RegisteringTwiceSharesTheFamily) {
  MetricsRegistry r;
  Counter& a = r.AddCounter("shared_total", "h");
  Counter& b = r.AddCounter("shared_total", "h");
  EXPECT_EQ(&a, &b);
  auto& f1 = r.AddGaugeFamily("fam", "h", {"a"});
  auto& f2 = r.AddGaugeFamily("fam", "h", {"a"});
  EXPECT_EQ(&f1, &f2);
  EXPECT_EQ(&f1.WithLabels({"x"}), &f2.WithLabels({"x"}));
}

TEST(MetricsTest, RemoveSeriesAndFamilies) {
  MetricsRegistry r;
  auto& f = r.AddGaugeFamily("g", "h", {"t"});
  f.WithLabels({"a"}).Set(1);
  f.WithLabels({"b"}).Set(2);
  EXPECT_TRUE(f.Remove({"a"}));
  EXPECT_FALSE(f.Remove({"a"}));
  EXPECT_EQ(r.Render(), "# HELP g h\n# TYPE g gauge\ng{t=\"b\"} 2\n");
  EXPECT_TRUE(r.Remove("g"));
  EXPECT_FALSE(r.Remove("g"));
  EXPECT_EQ(r.Render(), "");
}

TEST(MetricsTest, CallbacksComputeAtRenderTime) {
  MetricsRegistry r;
  double v = 1;
  r.AddCallback("cb_seconds_total", "h", MetricType::kCounter, [&v] { return v; });
  EXPECT_EQ(r.Render(),
            "# HELP cb_seconds_total h\n# TYPE cb_seconds_total counter\n"
            "cb_seconds_total 1\n");
  v = 2;
  EXPECT_NE(r.Render().find("cb_seconds_total 2\n"), std::string::npos);
  r.AddCallback("cb_seconds_total", "h", MetricType::kCounter, [] { return 5.0; });
  EXPECT_NE(r.Render().find("cb_seconds_total 5\n"), std::string::npos);
}

TEST(MetricsTest, OwnedSeriesLeaveTheRegistryWithTheirOwner) {
  MetricsRegistry r;
  Counter& other = r.AddCounterFamily("c_total", "h", {"id"}).WithLabels({"b"});
  other.Inc();
  {
    OwnedSeries owned(r);
    owned.AddCounter("c_total", "h", {"id"}, {"a"}).Add(2);
    owned.AddGauge("g", "h", {"id", "k"}, {"a", "v"}).Set(3);
    owned.AddHistogram("d_seconds", "h", {"id"}, {1}, {"a"}).Observe(0.5);
    EXPECT_EQ(r.Render(),
              "# HELP c_total h\n# TYPE c_total counter\nc_total{id=\"a\"} 2\nc_total{id=\"b\"} 1\n"
              "# HELP d_seconds h\n# TYPE d_seconds histogram\n"
              "d_seconds_bucket{id=\"a\",le=\"1\"} 1\nd_seconds_bucket{id=\"a\",le=\"+Inf\"} 1\n"
              "d_seconds_sum{id=\"a\"} 0.5\nd_seconds_count{id=\"a\"} 1\n"
              "# HELP g h\n# TYPE g gauge\ng{id=\"a\",k=\"v\"} 3\n");
  }
  // Only the owner's series went; the family's other series stays, and is still valid.
  other.Inc();
  EXPECT_EQ(r.Render(), "# HELP c_total h\n# TYPE c_total counter\nc_total{id=\"b\"} 2\n");
}

TEST(MetricsTest, NameValidation) {
  struct Case {
    std::string name;
    bool metric_ok;
    bool label_ok;
  };
  const Case cases[] = {
      {"a", true, true},         {"_a1", true, true},   {"a:b", true, false},
      {":a", true, false},       {"1a", false, false},  {"", false, false},
      {"__name__", true, false}, {"a-b", false, false}, {"Z_9", true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(IsValidMetricName(c.name), c.metric_ok);
    EXPECT_EQ(IsValidLabelName(c.name), c.label_ok);
  }
}

TEST(MetricsTest, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry r;
  auto& f = r.AddHistogramFamily("req_seconds", "Request latency.", {"url"}, {0.1, 0.5, 2.5});
  Histogram& h = f.WithLabels({"a"});
  h.Observe(0.05);
  h.Observe(0.1);  // a bound belongs to its own bucket (le is <=)
  h.Observe(1);
  h.Observe(30);
  h.Observe(std::nan(""));  // past every bound, as client_golang counts it
  r.AddHistogramFamily("req_seconds", "Request latency.", {"url"}, {0.1, 0.5, 2.5})
      .WithLabels({"b"})
      .Observe(0.25);
  r.AddHistogramFamily("bare_seconds", "No labels.", {}, {1}).WithLabels({}).Observe(2);
  EXPECT_EQ(r.Render(),
            "# HELP bare_seconds No labels.\n"
            "# TYPE bare_seconds histogram\n"
            "bare_seconds_bucket{le=\"1\"} 0\n"
            "bare_seconds_bucket{le=\"+Inf\"} 1\n"
            "bare_seconds_sum 2\n"
            "bare_seconds_count 1\n"
            "# HELP req_seconds Request latency.\n"
            "# TYPE req_seconds histogram\n"
            "req_seconds_bucket{url=\"a\",le=\"0.1\"} 2\n"
            "req_seconds_bucket{url=\"a\",le=\"0.5\"} 2\n"
            "req_seconds_bucket{url=\"a\",le=\"2.5\"} 3\n"
            "req_seconds_bucket{url=\"a\",le=\"+Inf\"} 5\n"
            "req_seconds_sum{url=\"a\"} NaN\n"
            "req_seconds_count{url=\"a\"} 5\n"
            "req_seconds_bucket{url=\"b\",le=\"0.1\"} 0\n"
            "req_seconds_bucket{url=\"b\",le=\"0.5\"} 1\n"
            "req_seconds_bucket{url=\"b\",le=\"2.5\"} 1\n"
            "req_seconds_bucket{url=\"b\",le=\"+Inf\"} 1\n"
            "req_seconds_sum{url=\"b\"} 0.25\n"
            "req_seconds_count{url=\"b\"} 1\n");
}

TEST(MetricsDeathTest, MisuseAborts) {
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddCounter("x", "h");
        r.AddGauge("x", "h");
      },
      "registered twice");
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddCounterFamily("x", "h", {"a"}).WithLabels({"1", "2"});
      },
      "has 1 labels, got 2");
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddCounter("bad-name", "h");
      },
      "invalid metric name");
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddHistogramFamily("h", "h", {}, {1, 2});
        r.AddHistogramFamily("h", "h", {}, {1, 3});
      },
      "different types, labels or buckets");
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddHistogramFamily("h", "h", {}, {2, 1});
      },
      "increasing, finite bucket bounds");
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddHistogramFamily("h", "h", {"le"}, {1});
      },
      "label named le");
}

// The value of the unlabelled sample `name` in a rendered registry, or NaN.
double SampleValue(const std::string& text, const std::string& name) {
  std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

TEST(MetricsTest, ProcessMetricsReadProc) {
  MetricsRegistry r;
  RegisterProcessMetrics(r);
  std::vector<char> ballast(8 << 20, 1);  // touched memory, so RSS is clearly non-zero
  std::string text = r.Render();
  const double now = static_cast<double>(time(nullptr));
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_GE(SampleValue(text, "process_cpu_seconds_total"), 0);
  EXPECT_GE(SampleValue(text, "process_resident_memory_bytes"), 8 << 20);
  EXPECT_GE(SampleValue(text, "process_virtual_memory_bytes"),
            SampleValue(text, "process_resident_memory_bytes"));
  double start = SampleValue(text, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 24 * 3600) << "this test process started more than a day ago?";
  double fds = SampleValue(text, "process_open_fds");
  EXPECT_GE(fds, 3);  // stdin, stdout, stderr
  EXPECT_LE(fds, SampleValue(text, "process_max_fds"));
  EXPECT_EQ(ballast[ballast.size() - 1], 1);
}

TEST(MetricsTest, SummaryRendersQuantilesSumAndCount) {
  FakeClock clock;
  MetricsRegistry r;
  auto& f = r.AddSummaryFamily("lag_seconds", "Lags.", {"interval"}, {0.01, 0.5, 0.9, 0.99}, clock);
  EXPECT_EQ(
      &f, &r.AddSummaryFamily("lag_seconds", "Lags.", {"interval"}, {0.01, 0.5, 0.9, 0.99}, clock));
  Summary& s = f.WithLabels({"15s"});
  // Observed out of order: the quantiles are of the sorted values.
  for (int i = 100; i >= 1; --i) s.Observe(i);
  EXPECT_EQ(r.Render(),
            "# HELP lag_seconds Lags.\n"
            "# TYPE lag_seconds summary\n"
            "lag_seconds{interval=\"15s\",quantile=\"0.01\"} 1\n"
            "lag_seconds{interval=\"15s\",quantile=\"0.5\"} 50\n"
            "lag_seconds{interval=\"15s\",quantile=\"0.9\"} 90\n"
            "lag_seconds{interval=\"15s\",quantile=\"0.99\"} 99\n"
            "lag_seconds_sum{interval=\"15s\"} 5050\n"
            "lag_seconds_count{interval=\"15s\"} 100\n");
}

TEST(MetricsTest, SummaryQuantilesCoverTheLastTenMinutes) {
  FakeClock clock;
  MetricsRegistry r;
  Summary& s = r.AddSummaryFamily("s", "h", {}, {0, 1}, clock).WithLabels({});
  EXPECT_EQ(r.Render(),
            "# HELP s h\n# TYPE s summary\n"
            "s{quantile=\"0\"} NaN\ns{quantile=\"1\"} NaN\ns_sum 0\ns_count 0\n");
  s.Observe(100);
  clock.Advance(std::chrono::minutes(3));
  s.Observe(1);
  s.Observe(std::nan(""));  // counted, but without a rank
  EXPECT_EQ(s.QuantileValues(), (std::vector<double>{1, 100}));
  // 100 ages out once its 2-minute bucket is 10 minutes old; 1 is still in the window.
  clock.Advance(std::chrono::minutes(6));
  EXPECT_EQ(s.QuantileValues(), (std::vector<double>{1, 100}));
  clock.Advance(std::chrono::minutes(1));
  EXPECT_EQ(s.QuantileValues(), (std::vector<double>{1, 1}));
  clock.Advance(std::chrono::minutes(10));
  const std::vector<double> empty = s.QuantileValues();
  EXPECT_TRUE(std::isnan(empty[0]) && std::isnan(empty[1]));
  // Sum and count are of every observation.
  EXPECT_TRUE(std::isnan(s.Sum()));
  EXPECT_EQ(s.Count(), 3U);
}

TEST(MetricsTest, SummaryEstimatesQuantilesPastItsSampleCap) {
  FakeClock clock;
  MetricsRegistry r;
  Summary& s = r.AddSummaryFamily("s", "h", {}, {0.1, 0.5, 0.9}, clock).WithLabels({});
  // Two buckets of different sizes, each beyond the cap: 0..99999 and then 20000 values of 1e6.
  constexpr int kFirst = 100000;
  for (int i = 0; i < kFirst; ++i) s.Observe((i * 7919) % kFirst);
  clock.Advance(std::chrono::minutes(2));
  for (int i = 0; i < kFirst / 5; ++i) s.Observe(1e6);
  EXPECT_EQ(s.Count(), static_cast<std::uint64_t>(kFirst + kFirst / 5));
  const std::vector<double> q = s.QuantileValues();
  // Of 120000 observations, the lowest 100000 are spread evenly below 100000.
  EXPECT_NEAR(q[0], 12000, 2500);
  EXPECT_NEAR(q[1], 60000, 5000);
  EXPECT_EQ(q[2], 1e6);
}

// Sends n bytes to itself over TCP on 127.0.0.1; false when the loopback is unusable.
bool SendOverLoopback(std::size_t n) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return false;
  }
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(client, reinterpret_cast<sockaddr*>(&addr), len) != 0) return false;
  const int server = ::accept(listener, nullptr, nullptr);
  std::thread writer([&] {
    const std::vector<char> data(n, 'x');
    for (std::size_t sent = 0; sent < n;) {
      const ssize_t w = ::write(client, data.data() + sent, n - sent);
      if (w <= 0) break;
      sent += static_cast<std::size_t>(w);
    }
  });
  std::size_t got = 0;
  std::vector<char> buf(64 * 1024);
  while (got < n) {
    const ssize_t r = ::read(server, buf.data(), buf.size());
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  writer.join();
  ::close(server);
  ::close(client);
  ::close(listener);
  return got == n;
}

TEST(MetricsTest, AgentResourceMetricsReadProc) {
  MetricsRegistry r;
  RegisterAgentResourceMetrics(r);
  std::vector<char> ballast(8 << 20, 1);  // touched memory, so RSS is clearly non-zero
  const std::string before = r.Render();
  const double now = static_cast<double>(time(nullptr));
  EXPECT_NE(before.find("# TYPE agent_resources_process_cpu_seconds_total counter\n"),
            std::string::npos);
  EXPECT_GE(SampleValue(before, "agent_resources_process_cpu_seconds_total"), 0);
  EXPECT_GE(SampleValue(before, "agent_resources_process_resident_memory_bytes"), 8 << 20);
  EXPECT_GE(SampleValue(before, "agent_resources_process_virtual_memory_bytes"),
            SampleValue(before, "agent_resources_process_resident_memory_bytes"));
  const double start = SampleValue(before, "agent_resources_process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 24 * 3600) << "this test process started more than a day ago?";

  // Loopback traffic is both received and sent by the machine.
  constexpr std::size_t kBytes = 4 << 20;
  ASSERT_TRUE(SendOverLoopback(kBytes));
  const std::string after = r.Render();
  for (const char* name :
       {"agent_resources_machine_rx_bytes_total", "agent_resources_machine_tx_bytes_total"}) {
    SCOPED_TRACE(name);
    EXPECT_GE(SampleValue(after, name) - SampleValue(before, name), kBytes);
  }
  EXPECT_EQ(ballast[ballast.size() - 1], 1);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry r;
  auto& f = r.AddCounterFamily("c_total", "h", {"worker"});
  Histogram& h = r.AddHistogramFamily("h_seconds", "h", {}, {1}).WithLabels({});
  constexpr int kThreads = 4;
  constexpr int kIncrements = 20000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&f, &h, t] {
      Counter& mine = f.WithLabels({std::to_string(t % 2)});
      for (int i = 0; i < kIncrements; ++i) {
        mine.Inc();
        h.Observe(t % 2 == 0 ? 0.5 : 2);
        if (i % 1000 == 0) f.WithLabels({"shared"}).Inc();
      }
    });
  }
  // Rendering while others write must be safe.
  for (int i = 0; i < 20; ++i) (void)r.Render();
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.WithLabels({"0"}).Value(), 2 * kIncrements);
  EXPECT_EQ(f.WithLabels({"1"}).Value(), 2 * kIncrements);
  EXPECT_EQ(f.WithLabels({"shared"}).Value(), kThreads * kIncrements / 1000);
  EXPECT_EQ(h.BucketCount(0), 2U * kIncrements);
  EXPECT_EQ(h.BucketCount(1), 2U * kIncrements);
  EXPECT_EQ(h.Sum(), 5.0 * kIncrements);
}

}  // namespace
}  // namespace starling::base
