#include "storage/storage.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "storage/testing.h"

namespace starling::storage {
namespace {

using testing::RecordingAppendable;

TEST(StaleNaN, IsBitExact) {
  EXPECT_TRUE(std::isnan(StaleNaN()));
  EXPECT_TRUE(IsStaleNaN(StaleNaN()));
  EXPECT_FALSE(IsStaleNaN(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(IsStaleNaN(0.0));
}

const model::Labels kUp{{"__name__", "up"}, {"job", "a"}};

TEST(Fanout, OneChildPassesRefsThrough) {
  auto r = std::make_shared<RecordingAppendable>();
  Fanout f({r});
  auto app = f.NewAppender();
  base::Result<SeriesRef> ref = app->Append(0, kUp, 1000, 1);
  ASSERT_TRUE(ref.ok());
  EXPECT_NE(*ref, 0u);
  // The child accepts its ref without labels.
  ASSERT_TRUE(app->Append(*ref, model::Labels(), 2000, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(r->AppendsWithRef(), 1);
  ASSERT_EQ(r->Samples().size(), 2u);
  EXPECT_EQ(r->Samples()[1].labels, kUp);
  EXPECT_EQ(r->Samples()[1].value, 2);
}

TEST(Fanout, SeveralChildrenGetEverySampleWithoutRefs) {
  auto a = std::make_shared<RecordingAppendable>();
  auto b = std::make_shared<RecordingAppendable>();
  Fanout f({a, b});
  auto app = f.NewAppender();
  base::Result<SeriesRef> ref = app->Append(7, kUp, 5, 2);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*ref, 0u);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(a->AppendsWithRef(), 0);
  ASSERT_EQ(a->Samples().size(), 1u);
  ASSERT_EQ(b->Samples().size(), 1u);
  EXPECT_EQ(b->Samples()[0].labels, kUp);

  auto app2 = f.NewAppender();
  ASSERT_TRUE(app2->Append(0, kUp, 6, 2).ok());
  app2->Rollback();
  EXPECT_EQ(a->Rollbacks(), 1);
  EXPECT_EQ(b->Rollbacks(), 1);
  EXPECT_EQ(a->Samples().size(), 1u);
}

TEST(Fanout, CountsForwardedSamplesAndTimesEachAppender) {
  base::MetricsRegistry registry;
  base::Counter& forwarded = registry.AddCounter("forwarded_total", "h");
  base::Histogram& latency =
      registry.AddHistogramFamily("latency_seconds", "h", {}, base::DefaultBuckets())
          .WithLabels({});
  auto observations = [&] {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i <= latency.bounds().size(); ++i) n += latency.BucketCount(i);
    return n;
  };
  auto r = std::make_shared<RecordingAppendable>();
  Fanout f({r}, {&forwarded, &latency});
  auto app = f.NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());
  ASSERT_TRUE(app->Append(0, kUp, 2000, 2).ok());
  // A ref the child never issued, without labels: not forwarded.
  EXPECT_FALSE(app->Append(12345, model::Labels(), 3000, 3).ok());
  EXPECT_EQ(forwarded.Value(), 0);  // counted when the appender is done
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(forwarded.Value(), 2);
  EXPECT_EQ(observations(), 1U);

  // A rolled-back appender's samples were forwarded too (the children roll them back); one that
  // appended nothing is not timed.
  auto rolled = f.NewAppender();
  ASSERT_TRUE(rolled->Append(0, kUp, 4000, 4).ok());
  rolled->Rollback();
  ASSERT_TRUE(f.NewAppender()->Commit().ok());
  EXPECT_EQ(forwarded.Value(), 3);
  EXPECT_EQ(observations(), 2U);
}

TEST(Fanout, NoChildrenDiscards) {
  Fanout f({});
  auto app = f.NewAppender();
  EXPECT_TRUE(app->Append(0, kUp, 1, 1).ok());
  EXPECT_TRUE(app->Commit().ok());
}

}  // namespace
}  // namespace starling::storage
