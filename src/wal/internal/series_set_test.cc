#include "wal/internal/series_set.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace starling::wal::storage_internal {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

model::Labels Series(int i) {
  return model::Labels{{"__name__", "up"}, {"instance", "host-" + std::to_string(i)}};
}

TEST(SeriesSetTest, ManyPendingSamplesOfOneSeriesKeepItUntilTheLastIsDone) {
  SeriesSet set;
  const model::Labels labels = Series(1);
  storage::SeriesRef ref = 0;
  bool unlogged = false;
  ASSERT_EQ(set.AcquireByLabels(labels, HashLabels(labels), 0, &ref, &unlogged),
            Acquire::kAccepted);
  // Far more pending samples than an entry counts inline.
  constexpr int kPending = 1000;
  std::vector<record::RefSample> pending{{.ref = ref, .t = 0}};
  for (int t = 1; t < kPending; ++t) {
    ASSERT_EQ(set.AcquireByRef(ref, t, &unlogged, nullptr), Acquire::kAccepted);
    pending.push_back({.ref = ref, .t = t});
  }
  set.Release(std::span(pending).first(kPending - 1));
  EXPECT_EQ(set.Gc(std::numeric_limits<int>::max(), kNever), 0U);
  EXPECT_TRUE(set.Exists(ref));

  set.Release(std::span(pending).last(1));
  EXPECT_EQ(set.Gc(std::numeric_limits<int>::max(), kNever), 1U);
  EXPECT_FALSE(set.Exists(ref));
}

TEST(SeriesSetTest, CommitsCountDownPendingSamplesAcrossTheInlineLimit) {
  SeriesSet set;
  const model::Labels labels = Series(1);
  storage::SeriesRef ref = 0;
  bool unlogged = false;
  ASSERT_EQ(set.AcquireByLabels(labels, HashLabels(labels), 0, &ref, &unlogged),
            Acquire::kAccepted);
  std::vector<record::RefSample> pending{{.ref = ref, .t = 0}};
  for (int t = 1; t < 300; ++t) {
    ASSERT_EQ(set.AcquireByRef(ref, t, &unlogged, nullptr), Acquire::kAccepted);
    pending.push_back({.ref = ref, .t = t});
  }
  // Committed in two batches: the series stays until both are done.
  set.Commit(std::span(pending).first(200), 3);
  EXPECT_EQ(set.Gc(4, kNever), 0U);
  set.Commit(std::span(pending).subspan(200), 3);
  // Logged now, so a new sample needs no series record.
  ASSERT_EQ(set.AcquireByRef(ref, 300, &unlogged, nullptr), Acquire::kAccepted);
  EXPECT_FALSE(unlogged);
  const record::RefSample last{.ref = ref, .t = 300};
  set.Release(std::span(&last, 1));
  EXPECT_EQ(set.Gc(4, kNever), 1U);
}

TEST(SeriesSetTest, GcComparesSegmentsExactlyEvenFarApart) {
  SeriesSet set;
  // Refs 1 and 33 share a ref stripe; their segments differ by more than an entry holds as an
  // offset, so the stripe rebases.
  constexpr int kOld = 5;
  constexpr int kNew = kOld + (1 << 25);
  set.ReplaySeries(1, Series(1), kOld);
  set.ReplaySeries(33, Series(33), kOld);
  ASSERT_TRUE(set.ReplaySample(33, 1000, kNew));

  // Rebasing may keep a series longer, never drop one early.
  EXPECT_EQ(set.Gc(kOld, kNever), 0U);
  EXPECT_EQ(set.Gc(kNew, kNever), 1U);
  EXPECT_FALSE(set.Exists(1));
  EXPECT_TRUE(set.Exists(33));
  EXPECT_EQ(set.Gc(kNew + 1, 1000), 0U);  // its sample is not older than the min time
  EXPECT_EQ(set.Gc(kNew + 1, kNever), 1U);
  EXPECT_FALSE(set.Exists(33));
}

TEST(SeriesSetTest, GcKeepsASeriesWhoseNewestSampleIsInAKeptSegment) {
  SeriesSet set;
  set.ReplaySeries(1, Series(1), 7);
  set.ReplaySeries(2, Series(2), 8);
  EXPECT_EQ(set.Gc(8, kNever), 1U);
  EXPECT_FALSE(set.Exists(1));
  EXPECT_TRUE(set.Exists(2));
  EXPECT_EQ(set.Find(Series(2), HashLabels(Series(2))), 2U);
  EXPECT_EQ(set.Find(Series(1), HashLabels(Series(1))), 0U);
}

// Labels of series i: every 1000th has too many labels for its blob to share an arena chunk.
model::Labels CompactionSeries(int i) {
  if (i % 1000 != 0) return Series(i);
  std::vector<model::Label> labels;
  for (int k = 0; k < 1100; ++k)
    labels.emplace_back("l" + std::to_string(10000 + k), std::to_string(i));
  return model::Labels(std::move(labels));
}

std::string LabelsString(const model::Labels& labels) {
  std::string s;
  for (const model::Label& l : labels) s += l.first + "=" + l.second + ",";
  return s;
}

TEST(SeriesSetTest, LabelsOfBigAndSmallSeriesSurviveCompaction) {
  SeriesSet set;
  // All in one ref stripe; two thirds of them dropped, so that stripe's arena gets compacted.
  constexpr int kN = 60'000;
  for (int i = 1; i <= kN; ++i) {
    set.ReplaySeries(static_cast<storage::SeriesRef>(i) * SeriesSet::kStripes, CompactionSeries(i),
                     i <= 2 * kN / 3 ? 1 : 2);
  }
  EXPECT_EQ(set.Gc(2, kNever), static_cast<std::size_t>(2 * kN / 3));
  set.CompactArenas();
  for (int i = 2 * kN / 3 + 1; i <= kN; ++i) {
    std::string got;
    ASSERT_TRUE(set.VisitLabels(static_cast<storage::SeriesRef>(i) * SeriesSet::kStripes,
                                [&](std::string_view n, std::string_view v) {
                                  got.append(n).append("=").append(v).append(",");
                                }));
    EXPECT_EQ(got, LabelsString(CompactionSeries(i))) << i;
    EXPECT_EQ(set.Find(CompactionSeries(i), HashLabels(CompactionSeries(i))),
              static_cast<storage::SeriesRef>(i) * SeriesSet::kStripes);
  }
}

}  // namespace
}  // namespace starling::wal::storage_internal
