#include "components/prometheus/scrape/prometheus_scrape.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "cluster/cluster.h"
#include "components/common/receiver.h"
#include "components/common/testing.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "net/oauth2_testing.h"
#include "net/testing.h"
#include "scrape/testing.h"

namespace starling::components {
namespace {

using namespace std::chrono_literals;
using scrape::testing::RecordingAppendable;

using net::testing::Gzip;

bool Eventually(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Serves several exposition bodies on 127.0.0.1.
class Exporter {
 public:
  Exporter() : server_(pool_.context(), net::HttpServer::Options{}) {
    server_.Handle("GET", "/ok", [](const net::Request&) {
      net::Response r = net::Response::Text(200, "# TYPE m gauge\nm{a=\"1\"} 1\n");
      r.content_type = "text/plain; version=0.0.4";
      return r;
    });
    server_.Handle("GET", "/gz", [](const net::Request& req) {
      net::Response r;
      r.content_type = "text/plain; version=0.0.4";
      std::string body = "g 2\n";
      auto enc = req.HeaderValue("Accept-Encoding");
      if (enc && enc->find("gzip") != std::string_view::npos) {
        r.headers.push_back({"Content-Encoding", "gzip"});
        r.body = Gzip(body);
      } else {
        r.body = body;
      }
      return r;
    });
    server_.Handle("GET", "/bad", [](const net::Request&) {
      return net::Response::Text(200, "ok 1\nbroken{ 2\n");
    });
    server_.Handle("GET", "/big", [](const net::Request&) {
      std::string body;
      for (int i = 0; i < 200; ++i) body += "big_" + std::to_string(i) + " 1\n";
      return net::Response::Text(200, body);
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~Exporter() {
    server_.Stop();
    pool_.Stop();
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(server_.port()); }

 private:
  net::IoThreadPool pool_{1};
  net::HttpServer server_;
};

bool HasSample(RecordingAppendable& app, const std::string& name, const std::string& path,
               double value) {
  for (const auto& s : app.Samples()) {
    if (s.labels.Get("__name__") == name && s.labels.Get("path") == path && s.value == value) {
      return true;
    }
  }
  return false;
}

const syntax::Value* TargetStatusFor(const syntax::Value& info, const std::string& path,
                                     std::string* health, std::string* error) {
  for (const syntax::Value& t : info.AsObject().at("target").AsArray()) {
    if (t.AsObject().at("labels").AsObject().at("path").AsString() == path) {
      *health = t.AsObject().at("health").AsString();
      *error = t.AsObject().at("last_error").AsString();
      return &t;
    }
  }
  return nullptr;
}

TEST(PrometheusScrapeTest, Decode) {
  auto reg = PrometheusScrapeRegistration();
  std::unique_ptr<component::Arguments> args;
  syntax::ValueObject vars;
  vars.emplace("recv", ReceiverToValue(std::make_shared<RecordingAppendable>()));
  ASSERT_EQ(testing::DecodeBody(reg, "targets = []\nforward_to = [recv]\n", &args, vars), "");
  const auto& a = component::ArgsAs<PrometheusScrapeArgs>(*args);
  EXPECT_EQ(a.scrape_interval, 60s);
  EXPECT_EQ(a.scrape_timeout, 10s);
  EXPECT_EQ(a.metrics_path, "/metrics");
  EXPECT_EQ(a.scheme, "http");
  EXPECT_TRUE(a.honor_timestamps);
  EXPECT_FALSE(a.track_timestamps_staleness);
  EXPECT_FALSE(a.honor_labels);
  EXPECT_EQ(a.forward_to.size(), 1U);

  ASSERT_EQ(testing::DecodeBody(reg,
                                "targets = [{\"__address__\" = \"h:1\"}]\nforward_to = []\n"
                                "job_name = \"j\"\nparams = {\"module\" = [\"a\", \"b\"]}\n"
                                "body_size_limit = \"1MiB\"\nsample_limit = 5\n"
                                "scrape_interval = \"15s\"\nscrape_timeout = \"5s\"\n"
                                "bearer_token = \"t\"\nclustering {\n  enabled = true\n}\n"
                                "enable_protobuf_negotiation = true\n"
                                "scrape_classic_histograms = true\nextra_metrics = true\n"
                                "track_timestamps_staleness = true\n",
                                &args, vars),
            "");
  const auto& b = component::ArgsAs<PrometheusScrapeArgs>(*args);
  EXPECT_EQ(b.job_name, "j");
  EXPECT_EQ(b.body_size_limit, 1 << 20);
  EXPECT_EQ(b.sample_limit, 5U);
  EXPECT_TRUE(b.clustering.enabled);
  EXPECT_TRUE(b.track_timestamps_staleness);
  EXPECT_EQ(b.params.at("module"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(b.client.bearer_token.text, "t");

  struct Case {
    std::string name, src, want;
  };
  const std::vector<Case> cases = {
      {"missing targets", "forward_to = []", "t:1:1: missing required attribute \"targets\"\n"},
      {"timeout above interval",
       "targets = []\nforward_to = []\nscrape_interval = \"1s\"\nscrape_timeout = \"2s\"",
       "t:4:18: scrape_timeout (2s) greater than scrape_interval (1s) for scrape config with "
       "job name \"\"\n"},
      {"bad body size", "targets = []\nforward_to = []\nbody_size_limit = \"12XB\"",
       "t:3:19: units: unknown unit XB in 12XB\n"},
      {"not a receiver", "targets = []\nforward_to = [1]",
       "t:2:14: [1][0] should be capsule, got number\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(testing::DecodeBody(reg, c.src, &args, vars), c.want);
  }
  EXPECT_EQ(*ParseBase2Bytes("512KB"), 512 << 10);
  EXPECT_EQ(*ParseBase2Bytes("1GB"), 1LL << 30);
  EXPECT_FALSE(ParseBase2Bytes("12").ok());
}

TEST(PrometheusScrapeTest, ScrapesServerIncludingGzipMalformedAndOversized) {
  Exporter exporter;
  auto recv = std::make_shared<RecordingAppendable>();
  base::MetricsRegistry registry;
  component::Options opts;
  opts.id = "prometheus.scrape.default";
  opts.metrics = &registry;

  PrometheusScrapeArgs args;
  for (const char* path : {"/ok", "/gz", "/bad", "/big"}) {
    args.targets.push_back(
        {{"__address__", exporter.Address()}, {"__metrics_path__", path}, {"path", path}});
  }
  args.forward_to = {recv};
  args.scrape_interval = 1s;
  args.scrape_timeout = 900ms;
  args.body_size_limit = 1000;
  auto c = PrometheusScrapeRegistration().build(
      opts, component::TypedArguments<PrometheusScrapeArgs>(args));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto run = std::make_unique<testing::Runner>(c->get());

  EXPECT_TRUE(Eventually([&] {
    return HasSample(*recv, "m", "/ok", 1) && HasSample(*recv, "g", "/gz", 2) &&
           HasSample(*recv, "up", "/bad", 0) && HasSample(*recv, "up", "/big", 0);
  }));
  EXPECT_TRUE(HasSample(*recv, "up", "/ok", 1));
  EXPECT_TRUE(HasSample(*recv, "up", "/gz", 1));
  // The malformed body's good sample before the error was rolled back.
  EXPECT_FALSE(HasSample(*recv, "ok", "/bad", 1));
  for (const auto& s : recv->Samples()) {
    EXPECT_EQ(s.labels.Get("job"), "prometheus.scrape.default");
    EXPECT_EQ(s.labels.Get("instance"), exporter.Address());
    EXPECT_NE(s.labels.Get("__name__").substr(0, 4), "big_");
  }

  syntax::Value info = (*c)->DebugInfo();
  std::string health, error;
  ASSERT_NE(TargetStatusFor(info, "/ok", &health, &error), nullptr);
  EXPECT_EQ(health, "up");
  EXPECT_EQ(error, "");
  ASSERT_NE(TargetStatusFor(info, "/big", &health, &error), nullptr);
  EXPECT_EQ(health, "down");
  EXPECT_EQ(error, "body size limit exceeded");
  ASSERT_NE(TargetStatusFor(info, "/bad", &health, &error), nullptr);
  EXPECT_EQ(health, "down");
  EXPECT_NE(error, "");
  EXPECT_EQ((*c)->CurrentHealth().state, component::HealthState::kHealthy);
  EXPECT_NE(registry.Render().find("starling_scrape_samples_scraped_total"), std::string::npos);
  // The Agent's metrics of the component: its targets, and what it forwarded (at least every
  // sample that arrived; rolled-back ones count too, as in the Agent) in timed appenders.
  EXPECT_TRUE(base::testing::HasLines(
      registry,
      {"agent_prometheus_scrape_targets_gauge{component_id=\"prometheus.scrape.default\"} 4",
       "prometheus_scrape_targets_gauge{component_id=\"prometheus.scrape.default\"} 4"}));
  EXPECT_GE(base::testing::MetricValue(registry, "agent_prometheus_forwarded_samples_total"),
            static_cast<double>(recv->Samples().size()));
  EXPECT_GE(base::testing::MetricValue(registry, "agent_prometheus_fanout_latency_count"), 4);

  // Dropping the /gz target: it stops being scraped (markers follow after two intervals).
  args.targets.erase(args.targets.begin() + 1);
  ASSERT_TRUE((*c)->Update(component::TypedArguments<PrometheusScrapeArgs>(args)).ok());
  EXPECT_EQ((*c)->DebugInfo().AsObject().at("target").AsArray().size(), 3U);
  EXPECT_TRUE(Eventually([&] {
    for (const auto& s : recv->Samples()) {
      if (s.labels.Get("__name__") == "g" && storage::IsStaleNaN(s.value)) return true;
    }
    return false;
  }));

  // Stopping writes staleness markers for the remaining series.
  ASSERT_TRUE(run->Stop().ok());
  bool m_stale = false;
  for (const auto& s : recv->Samples()) {
    if (s.labels.Get("__name__") == "m" && storage::IsStaleNaN(s.value)) m_stale = true;
  }
  EXPECT_TRUE(m_stale);
  EXPECT_EQ(recv->bad_appends(), 0);
  // The component's own series leave with it.
  run.reset();
  c->reset();
  const std::string left = registry.Render();
  EXPECT_EQ(left.find("component_id=\"prometheus.scrape.default\""), std::string::npos) << left;
}

// With an oauth2 block, targets are scraped with a token from the token URL, fetched once and
// reused; the client secret comes from its file.
TEST(PrometheusScrapeTest, ScrapesWithAnOAuth2Token) {
  std::atomic<int> refused{0};
  net::testing::TokenEndpoint server([&](net::HttpServer& s) {
    s.Handle("GET", "/metrics", [&](const net::Request& r) {
      if (r.HeaderValue("Authorization") != "Bearer tok-1") {
        ++refused;
        return net::Response::Text(401, "unauthorized");
      }
      net::Response resp = net::Response::Text(200, "m 1\n");
      resp.content_type = "text/plain; version=0.0.4";
      return resp;
    });
  });
  base::testing::TempDir dir;
  auto recv = std::make_shared<RecordingAppendable>();
  component::Options opts;
  opts.id = "prometheus.scrape.default";
  PrometheusScrapeArgs args;
  args.targets.push_back({{"__address__", server.Address()}});
  args.forward_to = {recv};
  args.scrape_interval = 1s;
  args.scrape_timeout = 900ms;
  args.client.oauth2 = HttpClientArgs::OAuth2{.client_id = "id",
                                              .client_secret_file = dir.Write("secret", "secret\n"),
                                              .token_url = server.Url("/token")};
  auto c = PrometheusScrapeRegistration().build(
      opts, component::TypedArguments<PrometheusScrapeArgs>(args));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto run = std::make_unique<testing::Runner>(c->get());
  EXPECT_TRUE(Eventually([&] {
    int ups = 0;
    for (const auto& s : recv->Samples()) {
      if (s.labels.Get("__name__") == "up" && s.value == 1) ++ups;
    }
    return ups >= 2;
  }));
  EXPECT_TRUE(HasSample(*recv, "m", "", 1));
  EXPECT_FALSE(HasSample(*recv, "up", "", 0));
  EXPECT_EQ(server.TokensIssued(), 1);
  EXPECT_EQ(refused.load(), 0);
  ASSERT_TRUE(run->Stop().ok());
}

// Pools and reloads are counted as Prometheus counts them: the first config and each new job
// name create a pool, a changed scrape config reloads it, new targets alone do neither, and a
// config that cannot be applied counts as failed.
TEST(PrometheusScrapeTest, CountsScrapePoolCreationsAndReloads) {
  base::MetricsRegistry registry;
  component::Options opts;
  opts.id = "prometheus.scrape.default";
  opts.metrics = &registry;
  PrometheusScrapeArgs args;
  args.targets.push_back({{"__address__", "127.0.0.1:1"}});
  args.forward_to = {std::make_shared<RecordingAppendable>()};
  auto c = PrometheusScrapeRegistration().build(
      opts, component::TypedArguments<PrometheusScrapeArgs>(args));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto update = [&] {
    return (*c)->Update(component::TypedArguments<PrometheusScrapeArgs>(args)).ok();
  };
  auto counts = [&] {
    const char* names[] = {"prometheus_target_scrape_pools_total",
                           "prometheus_target_scrape_pools_failed_total",
                           "prometheus_target_scrape_pool_reloads_total",
                           "prometheus_target_scrape_pool_reloads_failed_total"};
    std::vector<double> out;
    for (const char* n : names) out.push_back(base::testing::MetricValue(registry, n));
    return out;
  };
  using V = std::vector<double>;
  EXPECT_EQ(counts(), (V{1, 0, 0, 0}));

  args.targets.push_back({{"__address__", "127.0.0.1:2"}});
  ASSERT_TRUE(update());
  EXPECT_EQ(counts(), (V{1, 0, 0, 0}));

  args.scrape_interval = 30s;
  ASSERT_TRUE(update());
  EXPECT_EQ(counts(), (V{1, 0, 1, 0}));

  args.client.bearer_token_file = "/nonexistent/token";
  EXPECT_FALSE(update());
  EXPECT_EQ((*c)->CurrentHealth().state, component::HealthState::kUnhealthy);
  // Still not applied, so the same config is a reload again.
  EXPECT_FALSE(update());
  EXPECT_EQ(counts(), (V{1, 0, 3, 2}));

  args.client.bearer_token_file.clear();
  args.job_name = "other";
  ASSERT_TRUE(update());
  EXPECT_EQ(counts(), (V{2, 0, 3, 2}));

  args.job_name = "third";
  args.client.bearer_token_file = "/nonexistent/token";
  EXPECT_FALSE(update());
  EXPECT_EQ(counts(), (V{3, 1, 3, 2}));
}

// A cluster whose peer set the test sets.
class FakeCluster final : public cluster::Cluster {
 public:
  void SetPeers(std::vector<std::string> peers) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      view_.placement = std::make_shared<const cluster::Placement>(std::move(peers));
      ++view_.version;
    }
    NotifySubscribers();
  }
  cluster::ClusterView View() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return view_;
  }
  std::vector<cluster::Member> Members() const override { return {}; }

 private:
  mutable std::mutex mu_;
  cluster::ClusterView view_{
      std::make_shared<const cluster::Placement>(std::vector<std::string>{"self"}), "self", true,
      0};
};

std::set<std::string> ActivePaths(component::Component& c) {
  std::set<std::string> out;
  const syntax::Value info = c.DebugInfo();
  for (const syntax::Value& t : info.AsObject().at("target").AsArray()) {
    out.insert(t.AsObject().at("labels").AsObject().at("path").AsString());
  }
  return out;
}

// With clustering on, the component scrapes the targets the cluster places on this node, and
// follows peer changes by itself; targets that move away get no staleness markers.
TEST(PrometheusScrapeTest, ClusteringScrapesOwnedTargetsAndFollowsPeers) {
  Exporter exporter;
  auto recv = std::make_shared<RecordingAppendable>();
  auto fake = std::make_shared<FakeCluster>();
  auto services = std::make_shared<component::Services>();
  services->Set<cluster::Cluster>("cluster", fake);
  base::MetricsRegistry registry;
  component::Options opts;
  opts.id = "prometheus.scrape.clustered";
  opts.metrics = &registry;
  opts.services = services;

  PrometheusScrapeArgs args;
  for (int i = 0; i < 40; ++i) {
    std::string path = "/ok?i=" + std::to_string(i);
    args.targets.push_back(
        {{"__address__", exporter.Address()}, {"__metrics_path__", "/ok"}, {"path", path}});
  }
  args.forward_to = {recv};
  args.scrape_interval = 1s;
  args.scrape_timeout = 900ms;
  args.clustering.enabled = true;
  auto c = PrometheusScrapeRegistration().build(
      opts, component::TypedArguments<PrometheusScrapeArgs>(args));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto run = std::make_unique<testing::Runner>(c->get());
  EXPECT_EQ(ActivePaths(**c).size(), 40U);  // alone, it owns everything

  // Two more peers: only the targets the placement gives "self" remain.
  fake->SetPeers({"self", "other-1", "other-2"});
  const cluster::Placement placement({"self", "other-1", "other-2"});
  std::set<std::string> want;
  for (const Target& t : args.targets) {
    if (placement.Owns(TargetToLabels(t).NonMetaHash(), "self")) want.insert(t.at("path"));
  }
  ASSERT_GT(want.size(), 0U);
  ASSERT_LT(want.size(), 40U);
  EXPECT_TRUE(Eventually([&] { return ActivePaths(**c) == want; }));
  // The counter is bumped just after the pool changes, so it may trail what DebugInfo shows.
  const std::string moved =
      "prometheus_scrape_targets_moved_total{component_id="
      "\"prometheus.scrape.clustered\"} " +
      std::to_string(40 - want.size()) + "\n";
  EXPECT_TRUE(Eventually([&] { return registry.Render().find(moved) != std::string::npos; }))
      << registry.Render();

  // Not a participant any more: nothing is owned, and stopping writes no staleness markers
  // for targets that moved.
  fake->SetPeers({"other-1", "other-2"});
  EXPECT_TRUE(Eventually([&] { return ActivePaths(**c).empty(); }));
  ASSERT_TRUE(run->Stop().ok());
  for (const auto& s : recv->Samples()) EXPECT_FALSE(storage::IsStaleNaN(s.value));
}

}  // namespace
}  // namespace starling::components
