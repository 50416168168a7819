#include "service/targets_api.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/labels.h"

namespace starling::service {
namespace {

using syntax::Value;

Value Target(const std::string& address) {
  return Value::Object({{"__address__", Value::String(address)},
                        {"__meta_x", Value::String("seen by one node only")}});
}

runtime::ComponentInfo Scrape(const std::string& id, std::optional<bool> clustering,
                              std::vector<Value> targets) {
  runtime::ComponentInfo c;
  c.id = id;
  syntax::ValueObject args;
  args.emplace("targets", Value::Array(std::move(targets)));
  if (clustering.has_value()) {
    args.emplace("clustering",
                 Value::Array({Value::Object({{"enabled", Value::Bool(*clustering)}})}));
  }
  c.arguments = Value::Object(std::move(args));
  return c;
}

cluster::ClusterView ViewOf(std::vector<std::string> peers, std::string self, bool ready) {
  cluster::ClusterView v;
  v.placement = std::make_shared<const cluster::Placement>(std::move(peers));
  v.self = std::move(self);
  v.ready = ready;
  return v;
}

TEST(TargetsApiTest, OwnersFollowThePlacement) {
  std::vector<Value> targets;
  for (int i = 0; i < 50; ++i) targets.push_back(Target("h:" + std::to_string(i)));
  const std::vector<runtime::ComponentInfo> components = {
      Scrape("prometheus.scrape.a", true, targets),
      Scrape("prometheus.scrape.b", false, {Target("h:1")}),
      Scrape("discovery.file.c", std::nullopt, {Target("h:2")}),  // not cluster-aware
  };
  const cluster::ClusterView view = ViewOf({"n1", "n2", "n3"}, "n2", true);
  nlohmann::json j = TargetsToJson(components, view);
  ASSERT_EQ(j.size(), 51U);
  std::map<std::string, int> owners;
  for (int i = 0; i < 50; ++i) {
    SCOPED_TRACE(i);
    const nlohmann::json& t = j[i];
    EXPECT_EQ(t["component"], "prometheus.scrape.a");
    EXPECT_EQ(t["clustered"], true);
    const std::string address = "h:" + std::to_string(i);
    EXPECT_EQ(t["labels"]["__address__"], address);
    // The key ignores __meta_* labels, as the scrape component's does.
    const std::uint64_t key = model::Labels{{"__address__", address}}.NonMetaHash();
    EXPECT_EQ(t["owner"], std::string(view.placement->Owner(key)));
    EXPECT_EQ(t["isSelf"], t["owner"] == "n2");
    ++owners[t["owner"].get<std::string>()];
  }
  EXPECT_EQ(owners.size(), 3U);
  // The counts the peers API shows: the clustered targets, plus the unclustered one on n2.
  std::map<std::string, int> counts = owners;
  ++counts["n2"];
  EXPECT_EQ(OwnedTargetCounts(components, view), counts);
  EXPECT_EQ(j[50]["component"], "prometheus.scrape.b");
  EXPECT_EQ(j[50]["owner"], "n2");
  EXPECT_EQ(j[50]["clustered"], false);
}

TEST(TargetsApiTest, NobodyOwnsWhileTheClusterWaits) {
  nlohmann::json j = TargetsToJson({Scrape("prometheus.scrape.a", true, {Target("h:1")})},
                                   ViewOf({"n1"}, "n1", false));
  ASSERT_EQ(j.size(), 1U);
  EXPECT_EQ(j[0]["owner"], "");
  EXPECT_EQ(j[0]["isSelf"], false);
}

TEST(TargetsApiTest, OwnTargetsCarryTheirScrapeState) {
  std::vector<Value> targets;
  for (int i = 0; i < 30; ++i) targets.push_back(Target("h:" + std::to_string(i)));
  runtime::ComponentInfo c = Scrape("prometheus.scrape.a", true, targets);
  const cluster::ClusterView view = ViewOf({"n1", "n2"}, "n1", true);
  // The component reports one of the targets it owns as scraped, with its discovered labels.
  std::string scraped;
  for (const Value& t : targets) {
    model::Labels labels{{"__address__", t.AsObject().at("__address__").AsString()}};
    if (view.placement->Owner(labels.NonMetaHash()) == "n1") {
      scraped = t.AsObject().at("__address__").AsString();
      break;
    }
  }
  ASSERT_FALSE(scraped.empty());
  c.debug_info = Value::Object(
      {{"target", Value::Array({Value::Object({
                      {"health", Value::String("down")},
                      {"last_error", Value::String("connection refused")},
                      {"last_scrape", Value::String("2026-01-02T03:04:05Z")},
                      {"last_scrape_duration", Value::String("1.5ms")},
                      {"url", Value::String("http://" + scraped + "/metrics")},
                      {"series", Value::Uint(7)},
                      {"labels", Value::Object({{"instance", Value::String(scraped)}})},
                      {"discovered_labels", Target(scraped)},
                  })})}});
  nlohmann::json j = TargetsToJson({c}, view);
  ASSERT_EQ(j.size(), targets.size());
  int own = 0;
  for (const nlohmann::json& t : j) {
    SCOPED_TRACE(t.dump());
    if (!t["isSelf"].get<bool>()) {
      EXPECT_FALSE(t.contains("scrape"));
      continue;
    }
    ++own;
    ASSERT_TRUE(t.contains("scrape"));
    if (t["labels"]["__address__"] == scraped) {
      EXPECT_EQ(t["scrape"]["health"], "down");
      EXPECT_EQ(t["scrape"]["lastError"], "connection refused");
      EXPECT_EQ(t["scrape"]["lastScrape"], "2026-01-02T03:04:05Z");
      EXPECT_EQ(t["scrape"]["lastScrapeDuration"], "1.5ms");
      EXPECT_EQ(t["scrape"]["series"], 7);
      EXPECT_EQ(t["scrape"]["labels"]["instance"], scraped);
    } else {
      // Owned but not scraped yet.
      EXPECT_EQ(t["scrape"]["health"], "unknown");
    }
  }
  EXPECT_GT(own, 1);
}

}  // namespace
}  // namespace starling::service
