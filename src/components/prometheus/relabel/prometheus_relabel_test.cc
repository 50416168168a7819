#include "components/prometheus/relabel/prometheus_relabel.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/metrics.h"
#include "base/testing.h"
#include "components/common/receiver.h"
#include "components/common/testing.h"
#include "storage/testing.h"

namespace starling::components {
namespace {

using storage::testing::RecordingAppendable;

// A built prometheus.relabel forwarding to a recorder, and its receiver.
struct Fixture {
  explicit Fixture(const std::string& rules, bool downstream_refs = true)
      : sink(std::make_shared<RecordingAppendable>(downstream_refs)) {
    std::unique_ptr<component::Arguments> args;
    syntax::ValueObject vars{{"sink", ReceiverToValue(sink)}};
    std::string err = testing::DecodeBody(PrometheusRelabelRegistration(),
                                          "forward_to = [sink]\n" + rules, &args, vars);
    EXPECT_EQ(err, "");
    component::Options opts;
    opts.id = "prometheus.relabel.test";
    opts.metrics = &metrics;
    opts.on_state_change = exports.Callback();
    auto built = PrometheusRelabelRegistration().build(opts, *args);
    EXPECT_TRUE(built.ok());
    comp = std::move(*built);
    receiver = ReceiverFromValue(exports.Latest().AsObject().at("receiver"));
  }

  base::MetricsRegistry metrics;
  testing::ExportSink exports;
  std::shared_ptr<RecordingAppendable> sink;
  std::unique_ptr<component::Component> comp;
  std::shared_ptr<storage::Appendable> receiver;
};

const model::Labels kA{{"__name__", "m"}, {"env", "prod"}, {"pod", "a"}};
const model::Labels kB{{"__name__", "m"}, {"env", "dev"}, {"pod", "b"}};

TEST(PrometheusRelabelTest, RelabelsAndDrops) {
  Fixture f(
      "rule {\n source_labels = [\"env\"]\n regex = \"dev\"\n action = \"drop\"\n}\n"
      "rule {\n target_label = \"cluster\"\n replacement = \"eu\"\n}\n");
  ASSERT_NE(f.receiver, nullptr);
  auto app = f.receiver->NewAppender();
  for (int i = 0; i < 3; ++i) {
    base::Result<storage::SeriesRef> r = app->Append(0, kA, 1000 * i, i);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 0u) << "the receiver keeps no refs, producers must keep labels";
    ASSERT_TRUE(app->Append(0, kB, 1000 * i, i).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  std::vector<storage::testing::RecordedSample> got = f.sink->Samples();
  ASSERT_EQ(got.size(), 3u);
  const model::Labels want{{"__name__", "m"}, {"cluster", "eu"}, {"env", "prod"}, {"pod", "a"}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].labels, want);
    EXPECT_EQ(got[i].timestamp_ms, 1000 * i);
    EXPECT_EQ(got[i].value, i);
  }
  // The downstream ref was remembered and reused after the first sample.
  EXPECT_EQ(f.sink->AppendsWithRef(), 2);
  std::string m = f.metrics.Render();
  EXPECT_NE(m.find("agent_prometheus_relabel_metrics_processed{component_id="
                   "\"prometheus.relabel.test\"} 6"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("agent_prometheus_relabel_metrics_written{component_id="
                   "\"prometheus.relabel.test\"} 3"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("agent_prometheus_relabel_cache_misses{component_id="
                   "\"prometheus.relabel.test\"} 2"),
            std::string::npos)
      << m;
  // The Agent's fanout metrics: what went downstream, and one timed appender.
  EXPECT_TRUE(base::testing::HasLines(
      f.metrics,
      {"agent_prometheus_forwarded_samples_total{component_id=\"prometheus.relabel.test\"} 3",
       "agent_prometheus_fanout_latency_count{component_id=\"prometheus.relabel.test\"} 1"}))
      << m;
}

TEST(PrometheusRelabelTest, StaleMarkersAndRollbackPassThrough) {
  Fixture f("", /*downstream_refs=*/false);
  auto app = f.receiver->NewAppender();
  ASSERT_TRUE(app->Append(0, kA, 5, storage::StaleNaN()).ok());
  app->Rollback();
  EXPECT_TRUE(f.sink->Samples().empty());
  EXPECT_EQ(f.sink->Rollbacks(), 1);
  auto app2 = f.receiver->NewAppender();
  ASSERT_TRUE(app2->Append(0, kA, 5, storage::StaleNaN()).ok());
  ASSERT_TRUE(app2->Commit().ok());
  ASSERT_EQ(f.sink->Samples().size(), 1u);
  EXPECT_TRUE(storage::IsStaleNaN(f.sink->Samples()[0].value));
  EXPECT_EQ(f.sink->Samples()[0].labels, kA);
}

TEST(PrometheusRelabelTest, UpdateReplacesRulesAndKeepsTheReceiver) {
  Fixture f("rule {\n target_label = \"v\"\n replacement = \"1\"\n}\n");
  auto app = f.receiver->NewAppender();
  ASSERT_TRUE(app->Append(0, kA, 1, 1).ok());
  ASSERT_TRUE(app->Commit().ok());

  std::unique_ptr<component::Arguments> args;
  syntax::ValueObject vars{{"sink", ReceiverToValue(f.sink)}};
  ASSERT_EQ(testing::DecodeBody(PrometheusRelabelRegistration(),
                                "forward_to = [sink]\nrule {\n target_label = \"v\"\n"
                                " replacement = \"2\"\n}\n",
                                &args, vars),
            "");
  ASSERT_TRUE(f.comp->Update(*args).ok());
  EXPECT_EQ(ReceiverFromValue(f.exports.Latest().AsObject().at("receiver")), f.receiver);
  auto app2 = f.receiver->NewAppender();
  ASSERT_TRUE(app2->Append(0, kA, 2, 1).ok());
  ASSERT_TRUE(app2->Commit().ok());
  ASSERT_EQ(f.sink->Samples().size(), 2u);
  EXPECT_EQ(f.sink->Samples()[0].labels.Get("v"), "1");
  EXPECT_EQ(f.sink->Samples()[1].labels.Get("v"), "2");
}

TEST(PrometheusRelabelTest, CacheIsBounded) {
  Fixture f("max_cache_size = 2\n");
  auto app = f.receiver->NewAppender();
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5; ++i) {
      model::Labels l{{"__name__", "m"}, {"i", std::to_string(i)}};
      ASSERT_TRUE(app->Append(0, l, round, 1).ok());
    }
  }
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(f.sink->Samples().size(), 10u);
  std::string m = f.metrics.Render();
  EXPECT_NE(m.find("agent_prometheus_relabel_cache_size{component_id="
                   "\"prometheus.relabel.test\"} 2"),
            std::string::npos)
      << m;
  // Cycling five series through two slots never hits.
  EXPECT_NE(m.find("agent_prometheus_relabel_cache_misses{component_id="
                   "\"prometheus.relabel.test\"} 10"),
            std::string::npos)
      << m;
}

TEST(PrometheusRelabelTest, BadArguments) {
  struct Case {
    std::string body;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"", "missing required attribute \"forward_to\""},
      {"forward_to = [1]", "should be capsule"},
      {"forward_to = []\nmax_cache_size = 0", "max_cache_size must be greater than 0"},
      {"forward_to = []\nrule {\n action = \"bogus\"\n}", "bogus"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    std::unique_ptr<component::Arguments> args;
    std::string err = testing::DecodeBody(PrometheusRelabelRegistration(), c.body, &args);
    EXPECT_NE(err.find(c.want), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace starling::components
