// Starling between real peers on 127.0.0.1: Debian's prometheus-node-exporter as a target,
// Debian's prometheus as the remote-write receiver, queried through its HTTP API. Each test
// starts its own processes on free ports with temporary directories.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "common/process.h"
#include "common/prometheus.h"
#include "net/http.h"
#include "net/http_server.h"
#include "net/io_pool.h"

namespace starling::test {
namespace {

using namespace std::chrono_literals;
using base::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr char kNodeExporter[] = "/usr/bin/prometheus-node-exporter";

// Every value of a range-vector query result's only series, as integers.
std::vector<std::int64_t> SeriesValues(const nlohmann::json& result) {
  std::vector<std::int64_t> out;
  if (!result.is_array() || result.size() != 1) return out;
  for (const auto& v : result[0]["values"]) {
    out.push_back(std::llround(std::stod(v[1].get<std::string>())));
  }
  return out;
}

std::string StarlingConfig(const std::string& scrapes, const std::string& write_url,
                           const std::string& endpoint_extra = "") {
  return scrapes + R"(
prometheus.remote_write "default" {
  endpoint {
    url = ")" +
         write_url + "\"\n" + endpoint_extra + R"(
    queue_config {
      batch_send_deadline = "1s"
      max_backoff         = "1s"
    }
  }
}
)";
}

// `extra`: more attributes, each on a line of its own.
std::string ScrapeBlock(
    const std::string& name, const std::string& job, int port, const std::string& path = "/metrics",
    const std::string& extra = "",
    const std::string& forward_to = "prometheus.remote_write.default.receiver") {
  return "prometheus.scrape \"" + name +
         "\" {\n  targets = [{\"__address__\" = \"127.0.0.1:" + std::to_string(port) +
         "\"}]\n  job_name = \"" + job + "\"\n  metrics_path = \"" + path +
         "\"\n  scrape_interval = \"1s\"\n  scrape_timeout = \"1s\"\n" + extra +
         "  forward_to = [" + forward_to + "]\n}\n";
}

std::unique_ptr<Process> StartStarling(const TempDir& dir, int port) {
  auto p = std::make_unique<Process>(
      std::vector<std::string>{"run", dir.Path("config.river"),
                               "--server.http.listen-addr=127.0.0.1:" + std::to_string(port),
                               "--storage.path=" + dir.Path("data")});
  EXPECT_TRUE(p->WaitForStderrLine("now listening for http traffic", 60s).has_value())
      << p->stderr_text();
  return p;
}

// The value of the first sample line of `metric` (without labels) in exposition text.
std::optional<double> ExpositionValue(const std::string& body, const std::string& metric) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric + " ", 0) == 0) return std::stod(line.substr(metric.size() + 1));
  }
  return std::nullopt;
}

int ExpositionSeriesCount(const std::string& body, const std::string& metric) {
  std::istringstream in(body);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) == 0 || line.rfind(metric + " ", 0) == 0) ++n;
  }
  return n;
}

TEST(EndToEnd, ScrapesNodeExporterAndItselfIntoPrometheus) {
  TempDir dir;
  PrometheusServer prom(dir.Path("prometheus"));
  ASSERT_NO_FATAL_FAILURE(prom.Start());

  int node_port = FreePort();
  Process node(kNodeExporter, {"--web.listen-address=127.0.0.1:" + std::to_string(node_port)});
  ASSERT_TRUE(Eventually([&] { return HttpGet(node_port, "/metrics").status == 200; }, 60s))
      << node.stderr_text();

  int self_port = FreePort();
  dir.Write("config.river", StarlingConfig(ScrapeBlock("node", "node", node_port) +
                                               ScrapeBlock("self", "starling", self_port),
                                           prom.write_url()));
  auto starling = StartStarling(dir, self_port);

  const std::string node_instance = "127.0.0.1:" + std::to_string(node_port);
  for (const std::string job : {"node", "starling"}) {
    SCOPED_TRACE(job);
    EXPECT_TRUE(Eventually([&] {
      auto r = prom.Query("up{job=\"" + job + "\"} == 1");
      return r && r->size() == 1;
    })) << starling->stderr_text();
  }

  // Node exporter series arrive with the target's job and instance, and match a direct scrape.
  std::string direct = HttpGet(node_port, "/metrics").body;
  std::optional<double> mem_total = ExpositionValue(direct, "node_memory_MemTotal_bytes");
  ASSERT_TRUE(mem_total.has_value());
  auto mem =
      prom.Query("node_memory_MemTotal_bytes{job=\"node\",instance=\"" + node_instance + "\"}");
  ASSERT_TRUE(mem && mem->size() == 1) << (mem ? mem->dump() : "query failed");
  EXPECT_EQ(std::stod((*mem)[0]["value"][1].get<std::string>()), *mem_total);

  int cpu_series = ExpositionSeriesCount(direct, "node_cpu_seconds_total");
  ASSERT_GT(cpu_series, 0);
  auto cpu =
      prom.Query("count(node_cpu_seconds_total{job=\"node\",instance=\"" + node_instance + "\"})");
  ASSERT_TRUE(cpu && cpu->size() == 1);
  EXPECT_EQ(std::stoi((*cpu)[0]["value"][1].get<std::string>()), cpu_series);

  // Starling's own metrics, scraped by itself, include what it sent.
  EXPECT_TRUE(Eventually([&] {
    auto r = prom.Query("prometheus_remote_storage_samples_total{job=\"starling\"} > 0");
    return r && !r->empty();
  }));
  // Queries of the Agent Flow dashboards find them: remote-write series by component_id, the
  // Agent's WAL names, the controller's count of healthy components (the three above) and the
  // Resources dashboard's process and network figures; and the scrape intervals' summary.
  const std::string rw = "{component_id=\"prometheus.remote_write.default\"}";
  for (const std::string& q : {
           "sum by (instance, component_id) "
           "(prometheus_remote_storage_highest_timestamp_in_seconds" +
               rw +
               " - ignoring(url, remote_name) group_right(instance) "
               "prometheus_remote_storage_queue_highest_sent_timestamp_seconds" +
               rw + ")",
           "histogram_quantile(0.99, sum by (le) "
           "(rate(prometheus_remote_storage_sent_batch_duration_seconds_bucket" +
               rw + "[1m]))) >= 0",
           "agent_wal_samples_appended_total" + rw + " > 0",
           "agent_wal_storage_active_series" + rw + " > 0",
           std::string(
               "agent_component_controller_running_components{health_type=\"healthy\"} == 3"),
           std::string("rate(agent_resources_process_cpu_seconds_total[1m]) > 0"),
           std::string("agent_resources_process_resident_memory_bytes > 1e6"),
           std::string("rate(agent_resources_machine_rx_bytes_total[1m]) > 0"),
           std::string("prometheus_target_interval_length_seconds"
                       "{interval=\"1s\",quantile=\"0.5\"} > 0.5"),
           // And the WAL's progress, as the Prometheus remote-write dashboard shows it.
           "prometheus_wal_watcher_current_segment" + rw +
               " - on (component_id) prometheus_tsdb_wal_segment_current" + rw + " <= 0",
           std::string("rate(prometheus_wal_watcher_records_read_total{type=\"samples\"}[1m]) > 0"),
       }) {
    SCOPED_TRACE(q);
    EXPECT_TRUE(Eventually([&] {
      auto r = prom.Query(q);
      return r && r->size() == 1;
    }));
  }
  starling->Signal(SIGTERM);
  EXPECT_EQ(starling->Wait(30s), std::optional<int>(0)) << starling->stderr_text();
  prom.Stop();
}

// Exposition bodies covering what a scraper must treat as Prometheus does: OpenMetrics types
// with _created series, units and exemplars, escaped label values, NaN and infinities; in the
// text format a label clashing with a target label, an empty label value, untyped samples and
// an explicit timestamp.
constexpr char kOpenMetricsBody[] = R"(# TYPE foo counter
# HELP foo A counter.
foo_total{a="1"} 17.0 # {trace_id="abc"} 1.0 1520879607.789
foo_created{a="1"} 1520430000.123
# TYPE hist_seconds histogram
# UNIT hist_seconds seconds
hist_seconds_bucket{le="0.5"} 1
hist_seconds_bucket{le="1"} 2
hist_seconds_bucket{le="1.0e1"} 3
hist_seconds_bucket{le="+Inf"} 4 # {id="x"} 7 1520879607.1
hist_seconds_count 4
hist_seconds_sum 12.5
hist_seconds_created 1520430000.5
# TYPE summ summary
summ{quantile="0.5"} 3
summ{quantile="1"} 4
summ_count 7
summ_sum 20
summ_created 1520430000
# TYPE gh gaugehistogram
gh_bucket{le="1"} 2
gh_bucket{le="+Inf"} 3
gh_gcount 3
gh_gsum 4
# TYPE inf info
inf_info{version="1.2"} 1
# TYPE ss stateset
ss{ss="a"} 1
ss{ss="b"} 0
# TYPE un unknown
un 5
# TYPE g gauge
g{x="\"q\\\n"} NaN
g{x="inf"} +Inf
g{x="minus"} -Inf
# EOF
)";

constexpr char kTextBody[] = R"(# HELP t_total a counter
# TYPE t_total counter
t_total{job="inner",instance="inner:1",b="2"} 3
# TYPE th histogram
th_bucket{le="0.1"} 1
th_bucket{le="+Inf"} 2
th_sum 1
th_count 2
untyped_metric{l="v"} 1.5e3
empty_value{a="",b="x"} 1
# TYPE s summary
s{quantile="0.99"} 1
s_sum 2
s_count 3
)";

// Serves kOpenMetricsBody at /om; at /text kTextBody plus a sample timestamped a second ago
// and, until SetExtraSeries(false), the series extra_series; and at /repeated a series with a
// label name twice, which fails the scrape.
class ExpositionTarget {
 public:
  ExpositionTarget() : pool_(1), server_(pool_.context(), {}) {
    server_.Handle("GET", "/om", [](const net::Request&) {
      net::Response r = net::Response::Text(200, kOpenMetricsBody);
      r.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
      return r;
    });
    server_.Handle("GET", "/repeated", [](const net::Request&) {
      return net::Response::Text(200, "a 1\nb{x=\"1\",x=\"2\"} 1\n");
    });
    server_.Handle("GET", "/text", [this](const net::Request&) {
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      std::string body = kTextBody;
      body += "with_timestamp 7 " + std::to_string(now - 1000) + "\n";
      if (extra_.load()) body += "extra_series 1\n";
      net::Response r = net::Response::Text(200, std::move(body));
      r.content_type = "text/plain; version=0.0.4";
      return r;
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~ExpositionTarget() {
    server_.Stop();
    pool_.Stop();
  }
  int port() const { return server_.port(); }
  void SetExtraSeries(bool on) { extra_.store(on); }

 private:
  std::atomic<bool> extra_{true};
  net::IoThreadPool pool_;
  net::HttpServer server_;
};

// The series of `job` Prometheus holds now, by their labels but job (as JSON), with their values.
std::map<std::string, std::string> JobSeries(const PrometheusServer& prom, const std::string& job) {
  std::map<std::string, std::string> out;
  auto r = prom.Query("{job=\"" + job + "\"}");
  if (!r) return out;
  for (const auto& s : *r) {
    nlohmann::json labels = s["metric"];
    labels.erase("job");
    out[labels.dump()] = s["value"][1].get<std::string>();
  }
  return out;
}

// Each series' exemplars, by its labels but job.
std::map<std::string, std::string> JobExemplars(const PrometheusServer& prom,
                                                const std::string& job) {
  std::map<std::string, std::string> out;
  auto r = prom.QueryExemplars("{job=\"" + job + "\"}");
  if (!r) return out;
  for (const auto& s : *r) {
    nlohmann::json labels = s["seriesLabels"];
    labels.erase("job");
    out[labels.dump()] = s["exemplars"].dump();
  }
  return out;
}

std::string Lines(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out.append(k).append(" = ").append(v).append("\n");
  return out;
}

// Prometheus scrapes the same targets as Starling, which writes to that Prometheus under other
// job names: both must store the same series, values and exemplars, and both must end a
// series that vanishes from its target (a staleness marker) rather than let it linger.
TEST(EndToEnd, StoresWhatPrometheusStoresScrapingTheSameTargets) {
  TempDir dir;
  int node_port = FreePort();
  Process node(kNodeExporter, {"--web.listen-address=127.0.0.1:" + std::to_string(node_port)});
  ASSERT_TRUE(Eventually([&] { return HttpGet(node_port, "/metrics").status == 200; }, 60s))
      << node.stderr_text();
  ExpositionTarget target;

  struct Job {
    std::string name;
    int port;
    std::string path;
    std::string yaml_extra;  // for Prometheus's scrape config
    std::string river_extra;
    bool fails = false;  // every scrape of it
    // Where Starling's scrape sends its samples; the default is the remote write.
    std::string forward_to = "prometheus.remote_write.default.receiver";
  };
  // The same relabeling rules for Prometheus's metric_relabel_configs and prometheus.relabel.
  const std::string relabel_yaml = R"yaml(    metric_relabel_configs:
      - {source_labels: [__name__], regex: 'th_.*', action: drop}
      - {source_labels: [l], regex: '(v)', target_label: l2, replacement: '${1}${1}'}
      - {source_labels: [__name__], modulus: 8, target_label: shard, action: hashmod}
      - {regex: 'exported_(.*)', replacement: 'orig_$1', action: labelmap}
      - {source_labels: [b], target_label: b_upper, action: uppercase}
      - {regex: quantile, action: labeldrop}
      - source_labels: [__name__]
        regex: 's_(.*)'
        target_label: __name__
        replacement: 'summary_$1'
)yaml";
  const std::string relabel_river = R"river(prometheus.relabel "rules" {
  forward_to = [prometheus.remote_write.default.receiver]
  rule {
    source_labels = ["__name__"]
    regex         = "th_.*"
    action        = "drop"
  }
  rule {
    source_labels = ["l"]
    regex         = "(v)"
    target_label  = "l2"
    replacement   = "${1}${1}"
  }
  rule {
    source_labels = ["__name__"]
    modulus       = 8
    target_label  = "shard"
    action        = "hashmod"
  }
  rule {
    regex       = "exported_(.*)"
    replacement = "orig_$1"
    action      = "labelmap"
  }
  rule {
    source_labels = ["b"]
    target_label  = "b_upper"
    action        = "uppercase"
  }
  rule {
    regex  = "quantile"
    action = "labeldrop"
  }
  rule {
    source_labels = ["__name__"]
    regex         = "s_(.*)"
    target_label  = "__name__"
    replacement   = "summary_$1"
  }
}
)river";
  const std::vector<Job> jobs = {
      {"node", node_port, "/metrics", "", ""},
      {"om", target.port(), "/om", "", ""},
      {"text", target.port(), "/text", "", ""},
      // Over the limit: the target is down, its series are ended, and the report shows by
      // how much the limit was exceeded.
      {"limited", target.port(), "/text", "    sample_limit: 5\n", "  sample_limit = 5\n", true},
      {"repeated", target.port(), "/repeated", "", "", true},
      // Flow relabels the report series too, Prometheus only the scraped ones: only those are
      // compared.
      {"relabeled", target.port(), "/text", relabel_yaml, "", false,
       "prometheus.relabel.rules.receiver"}};
  std::string yaml = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n";
  std::string scrapes;
  for (const Job& j : jobs) {
    yaml += "  - job_name: prom-" + j.name + "\n    metrics_path: " + j.path +
            "\n    static_configs: [{targets: ['127.0.0.1:" + std::to_string(j.port) + "']}]\n" +
            j.yaml_extra;
    scrapes += ScrapeBlock(j.name, j.name, j.port, j.path, j.river_extra, j.forward_to);
  }
  scrapes += relabel_river;
  PrometheusServer prom(dir.Path("prometheus"));
  prom.SetConfig(yaml);
  prom.AddFlag("--enable-feature=exemplar-storage");
  ASSERT_NO_FATAL_FAILURE(prom.Start());
  int self_port = FreePort();
  dir.Write("config.river",
            StarlingConfig(scrapes, prom.write_url(), "    send_exemplars = true\n"));
  auto starling = StartStarling(dir, self_port);

  for (const Job& j : jobs) {
    SCOPED_TRACE(j.name);
    // The node exporter's values move between scrapes, so only its series are compared; the
    // other targets' values are fixed but for the scrape's duration. Prometheus keeps caching
    // the series of a failed scrape, and so counts them as added only in the first failure;
    // Starling forgets series never delivered, and counts them in each failure.
    auto comparable = [&](const std::string& job) {
      std::map<std::string, std::string> series = JobSeries(prom, job);
      if (j.name == "relabeled") {
        std::erase_if(series, [](const auto& s) {
          return s.first.find(R"("__name__":"scrape_)") != std::string::npos ||
                 s.first.find(R"("__name__":"up")") != std::string::npos;
        });
      }
      for (auto& [labels, value] : series) {
        if (j.name == "node" || labels.find("scrape_duration_seconds") != std::string::npos ||
            (j.fails && labels.find("scrape_series_added") != std::string::npos)) {
          value.clear();
        }
      }
      return series;
    };
    EXPECT_TRUE(Eventually([&] {
      auto ours = comparable(j.name);
      return !ours.empty() && ours == comparable("prom-" + j.name);
    })) << "Starling:\n"
        << Lines(comparable(j.name)) << "Prometheus:\n"
        << Lines(comparable("prom-" + j.name)) << starling->stderr_text();
    if (j.fails) {
      EXPECT_EQ(JobSeries(prom, j.name).size(), 5U);  // the report only
    }
  }
  EXPECT_EQ(JobSeries(prom, "text")
                .count(R"({"__name__":"extra_series","instance":"127.0.0.1:)" +
                       std::to_string(target.port()) + "\"}"),
            1U);
  // Every sample of the body (an invalid one would leave only the 5 report series).
  EXPECT_EQ(JobSeries(prom, "om").size(), 25U + 5U);

  auto exemplars = JobExemplars(prom, "om");
  EXPECT_EQ(exemplars.size(), 2U);
  EXPECT_EQ(exemplars, JobExemplars(prom, "prom-om"));

  target.SetExtraSeries(false);
  for (const std::string job : {"prom-text", "text"}) {
    SCOPED_TRACE(job);
    EXPECT_TRUE(Eventually([&] {
      auto r = prom.Query("extra_series{job=\"" + job + "\"}");
      return r && r->empty();
    }));
  }
  starling->Signal(SIGTERM);
  EXPECT_EQ(starling->Wait(30s), std::optional<int>(0)) << starling->stderr_text();
  prom.Stop();
}

// A target whose only series counts the scrapes it answered, so the receiver must end up with
// every value from 1 to the number of scrapes: a gap is a lost sample.
class CountingTarget {
 public:
  CountingTarget() : pool_(1), server_(pool_.context(), {}) {
    server_.Handle("GET", "/metrics", [this](const net::Request&) {
      if (paused_.load()) return net::Response::Text(503, "paused\n");
      std::int64_t n = ++served_;
      return net::Response::Text(
          200, "# TYPE test_scrapes_total counter\ntest_scrapes_total " + std::to_string(n) + "\n");
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~CountingTarget() {
    server_.Stop();
    pool_.Stop();
  }
  int port() const { return server_.port(); }
  std::int64_t served() const { return served_.load(); }
  // While paused, scrapes fail (no sample is produced) and the count does not move.
  void Pause(bool paused) { paused_.store(paused); }

 private:
  std::atomic<std::int64_t> served_{0};
  std::atomic<bool> paused_{false};
  net::IoThreadPool pool_;
  net::HttpServer server_;
};

// Whether Prometheus holds exactly the values 1..served of test_scrapes_total, but for those
// in `may_miss`.
::testing::AssertionResult HasEveryScrape(const PrometheusServer& prom, std::int64_t served,
                                          const std::set<std::int64_t>& may_miss = {}) {
  auto r = prom.Query("test_scrapes_total[1h]");
  if (!r) return ::testing::AssertionFailure() << "query failed";
  std::vector<std::int64_t> values = SeriesValues(*r);
  std::set<std::int64_t> distinct(values.begin(), values.end());
  if (values.size() != distinct.size()) {
    return ::testing::AssertionFailure() << "duplicate samples";
  }
  for (std::int64_t i = 1; i <= served; ++i) {
    if (distinct.count(i) == 0 && may_miss.count(i) == 0) {
      return ::testing::AssertionFailure()
             << "value " << i << " of " << served << " missing (" << distinct.size() << " present)";
    }
  }
  return ::testing::AssertionSuccess();
}

// Prometheus, a CountingTarget and Starling scraping the one into the other.
struct CountingPipeline {
  TempDir dir;
  PrometheusServer prom{dir.Path("prometheus")};
  CountingTarget target;
  int self_port = FreePort();
  std::unique_ptr<Process> starling;

  // Starts them and waits until Prometheus has the first `scrapes` scrapes.
  void Start(std::int64_t scrapes) {
    ASSERT_NO_FATAL_FAILURE(prom.Start());
    dir.Write("config.river",
              StarlingConfig(ScrapeBlock("count", "count", target.port()), prom.write_url()));
    starling = StartStarling(dir, self_port);
    ASSERT_TRUE(Eventually([&] { return HasEveryScrape(prom, scrapes) == true; }))
        << starling->stderr_text();
  }
};

TEST(EndToEnd, NoSampleLostAcrossReceiverOutageAndCrash) {
  CountingPipeline p;
  ASSERT_NO_FATAL_FAILURE(p.Start(3));
  PrometheusServer& prom = p.prom;
  CountingTarget& target = p.target;
  std::unique_ptr<Process>& starling = p.starling;

  // The receiver goes away for a minute while scraping goes on.
  prom.Stop();
  std::int64_t before_outage = target.served();
  std::this_thread::sleep_for(60s);
  EXPECT_GE(target.served(), before_outage + 30) << "scraping should go on during the outage";
  ASSERT_NO_FATAL_FAILURE(prom.Start());
  std::int64_t served = target.served();
  EXPECT_TRUE(Eventually([&] { return HasEveryScrape(prom, served) == true; }))
      << HasEveryScrape(prom, served).message();

  // Again, and this time Starling is killed during the outage and restarted before the
  // receiver comes back. Scrapes are paused around the kill so none is cut short mid-commit.
  prom.Stop();
  std::this_thread::sleep_for(10s);
  target.Pause(true);
  std::this_thread::sleep_for(3s);
  starling->Signal(SIGKILL);
  starling->Wait(30s);
  starling.reset();
  target.Pause(false);
  starling = StartStarling(p.dir, p.self_port);
  std::this_thread::sleep_for(5s);
  ASSERT_NO_FATAL_FAILURE(prom.Start());
  served = target.served();
  EXPECT_TRUE(Eventually([&] { return HasEveryScrape(prom, served) == true; }))
      << HasEveryScrape(prom, served).message() << "\n"
      << starling->stderr_text();
  prom.Stop();
}

TEST(EndToEnd, NoSampleLostAcrossRepeatedCrashes) {
  // Starling is killed again and again at random moments while it scrapes and sends: a kill may
  // cut a send, a WAL write or the saving of the queue's progress short. Only the scrape a kill
  // interrupts may be lost (it was never committed): the last one answered before the kill.
  const auto seed = static_cast<std::uint32_t>(std::random_device{}());
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pause_ms(300, 3000);
  CountingPipeline p;
  ASSERT_NO_FATAL_FAILURE(p.Start(2));
  PrometheusServer& prom = p.prom;
  std::unique_ptr<Process>& starling = p.starling;
  std::set<std::int64_t> interrupted;
  for (int kill = 0; kill < 6; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    starling->Signal(SIGKILL);
    starling->Wait(30s);
    starling.reset();
    interrupted.insert(p.target.served());
    starling = StartStarling(p.dir, p.self_port);
    ASSERT_FALSE(HasFailure()) << "restart " << kill + 1;
  }
  std::this_thread::sleep_for(3s);
  const std::int64_t served = p.target.served();
  EXPECT_TRUE(Eventually([&] { return HasEveryScrape(prom, served, interrupted) == true; }))
      << HasEveryScrape(prom, served, interrupted).message()
      << "; interrupted: " << ::testing::PrintToString(interrupted) << "\n"
      << starling->stderr_text();
  prom.Stop();
}

}  // namespace
}  // namespace starling::test
