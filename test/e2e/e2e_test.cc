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

std::string StarlingConfig(const std::string& scrapes, const std::string& write_url) {
  return scrapes + R"(
prometheus.remote_write "default" {
  endpoint {
    url = ")" +
         write_url +
         R"("
    queue_config {
      batch_send_deadline = "1s"
      max_backoff         = "1s"
    }
  }
}
)";
}

std::string ScrapeBlock(const std::string& name, const std::string& job, int port) {
  return "prometheus.scrape \"" + name +
         "\" {\n  targets = [{\"__address__\" = \"127.0.0.1:" + std::to_string(port) +
         "\"}]\n  job_name = \"" + job +
         "\"\n  scrape_interval = \"1s\"\n  scrape_timeout = \"1s\"\n"
         "  forward_to = [prometheus.remote_write.default.receiver]\n}\n";
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
