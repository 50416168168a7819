#include "wal/internal/series_set.h"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace starling::wal::storage_internal {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

model::Labels Series(int i) {
  return model::Labels{{"__name__", "up"}, {"instance", "host-" + std::to_string(i)}};
}

// Creates series 1 with a pending sample at t=0.
storage::SeriesRef NewPendingSeries(SeriesSet& set) {
  storage::SeriesRef ref = 0;
  bool unlogged = false;
  EXPECT_EQ(set.AcquireByLabels(Series(1), HashLabels(Series(1)), 0, &ref, &unlogged),
            Acquire::kAccepted);
  return ref;
}

TEST(SeriesSetTest, ManyPendingSamplesOfOneSeriesKeepItUntilTheLastIsDone) {
  SeriesSet set;
  const storage::SeriesRef ref = NewPendingSeries(set);
  bool unlogged = false;
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
  const storage::SeriesRef ref = NewPendingSeries(set);
  bool unlogged = false;
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
  labels.reserve(1100);
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

// Creates series i (committed in `segment`) and returns its ref.
storage::SeriesRef Create(SeriesSet& set, const model::Labels& labels, int segment) {
  storage::SeriesRef ref = 0;
  bool unlogged = false;
  EXPECT_EQ(set.AcquireByLabels(labels, HashLabels(labels), 1000, &ref, &unlogged),
            Acquire::kAccepted);
  const record::RefSample sample{.ref = ref, .t = 1000};
  set.Commit(std::span(&sample, 1), segment);
  return ref;
}

std::string Visit(const SeriesSet& set, storage::SeriesRef ref) {
  std::string got;
  set.VisitLabels(ref, [&](std::string_view n, std::string_view v) {
    got.append(n).append("=").append(v).append(",");
  });
  return got;
}

TEST(SeriesSetTest, CompactSymbolsForgetsTheLabelValuesOfRemovedSeries) {
  SeriesSet set;
  for (int i = 0; i < 1000; ++i) Create(set, Series(i), 1);
  ASSERT_EQ(set.Gc(2, kNever), 1000U);
  std::vector<storage::SeriesRef> refs;
  for (int i = 1000; i < 1100; ++i) refs.push_back(Create(set, Series(i), 2));
  // "__name__", "instance", "up", 1100 instances, and one set of names.
  EXPECT_EQ(set.NumSymbols(), 1104U);

  // 1000 series removed: not worth a pass if 1001 removals are asked for.
  EXPECT_EQ(set.MaybeCompactSymbols(1001), 0U);
  EXPECT_EQ(set.NumSymbols(), 1104U);
  EXPECT_EQ(set.MaybeCompactSymbols(1000), 1000U);
  EXPECT_EQ(set.NumSymbols(), 104U);
  for (int i = 1000; i < 1100; ++i) {
    const storage::SeriesRef ref = refs[static_cast<std::size_t>(i - 1000)];
    EXPECT_EQ(Visit(set, ref), "__name__=up,instance=host-" + std::to_string(i) + ",");
    EXPECT_EQ(set.Find(Series(i), HashLabels(Series(i))), ref);
  }
  EXPECT_EQ(set.Find(Series(1), HashLabels(Series(1))), 0U);
  // An existing series is found by its labels, a new one is created and interned.
  storage::SeriesRef ref = 0;
  bool unlogged = true;
  ASSERT_EQ(set.AcquireByLabels(Series(1050), HashLabels(Series(1050)), 2000, &ref, &unlogged),
            Acquire::kAccepted);
  EXPECT_EQ(ref, refs[50]);
  EXPECT_FALSE(unlogged);
  const record::RefSample dropped{.ref = ref, .t = 2000};
  set.Release(std::span(&dropped, 1));
  const storage::SeriesRef fresh = Create(set, Series(5), 3);
  EXPECT_EQ(Visit(set, fresh), "__name__=up,instance=host-5,");
  EXPECT_EQ(set.NumSymbols(), 105U);
  // Another pass waits for half of the 100 live series to be removed.
  EXPECT_EQ(set.MaybeCompactSymbols(0), 0U);
  std::vector<record::RefSample> newer;
  for (std::size_t k = 0; k < 49; ++k) {
    ASSERT_EQ(set.AcquireByRef(refs[k], 2000, &unlogged, nullptr), Acquire::kAccepted);
    newer.push_back({.ref = refs[k], .t = 2000});
  }
  set.Commit(newer, 3);
  // The other 51, and the one created since, are idle since t=1000.
  EXPECT_EQ(set.Gc(4, 1500), 52U);
  EXPECT_EQ(set.MaybeCompactSymbols(0), 52U);
  EXPECT_EQ(set.NumSymbols(), 53U);
  EXPECT_EQ(Visit(set, refs[48]), "__name__=up,instance=host-1048,");
}

TEST(SeriesSetTest, CompactSymbolsWhileSeriesAreAppendedAndRead) {
  SeriesSet set;
  constexpr int kSeries = 2000;
  std::vector<storage::SeriesRef> refs;
  refs.reserve(kSeries);
  for (int i = 0; i < kSeries; ++i) refs.push_back(Create(set, Series(i), 1));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop.load()) {
      for (int i = 0; i < kSeries; i += 7) {
        if (Visit(set, refs[static_cast<std::size_t>(i)]) !=
            "__name__=up,instance=host-" + std::to_string(i) + ",") {
          bad.fetch_add(1);
        }
      }
    }
  });
  std::thread writer([&] {
    for (int round = 0; !stop.load(); ++round) {
      // Known series by their labels, and new ones.
      const int i = round % kSeries;
      if (set.Find(Series(i), HashLabels(Series(i))) != refs[static_cast<std::size_t>(i)]) {
        bad.fetch_add(1);
      }
      const storage::SeriesRef ref = Create(set, Series(kSeries + round), 2);
      if (Visit(set, ref) != "__name__=up,instance=host-" + std::to_string(kSeries + round) + ",") {
        bad.fetch_add(1);
      }
    }
  });
  for (int k = 0; k < 20; ++k) set.CompactSymbols();
  stop.store(true);
  reader.join();
  writer.join();
  EXPECT_EQ(bad.load(), 0);
}

// VisitBatch reads label blobs after letting go of the stripe locks: the compactions, which
// free blobs, must wait for it.
TEST(SeriesSetTest, VisitBatchWhileArenasAndSymbolsAreCompacted) {
  SeriesSet set;
  constexpr int kKept = 256;
  std::vector<storage::SeriesRef> refs;
  for (int i = 0; i < kKept; ++i) refs.push_back(Create(set, Series(i), 100));
  struct Seen {
    std::vector<std::string> labels;
    std::size_t current = 0;
    int found = 0;
  };
  const storage::LabelBatchVisitor visitor{
      .ctx = nullptr,
      .begin = [](void* ctx, std::size_t i) { static_cast<Seen*>(ctx)->current = i; },
      .label =
          [](void* ctx, std::string_view n, std::string_view v) {
            auto* s = static_cast<Seen*>(ctx);
            s->labels[s->current].append(n).append("=").append(v).append(",");
          },
      .end = [](void* ctx, std::size_t, bool found) { static_cast<Seen*>(ctx)->found += found; },
  };
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<int> batches{0};
  std::thread reader([&] {
    while (!stop.load()) {
      Seen seen;
      seen.labels.resize(refs.size());
      storage::LabelBatchVisitor v = visitor;
      v.ctx = &seen;
      set.VisitBatch(refs, v);
      for (int i = 0; i < kKept; ++i) {
        if (seen.labels[static_cast<std::size_t>(i)] != LabelsString(Series(i))) bad.fetch_add(1);
      }
      if (seen.found != kKept) bad.fetch_add(1);
      batches.fetch_add(1);
    }
  });
  // Each round fills stripe 0 (which holds some of the kept series) with big series and
  // removes them, so that its arena is compacted; and compacts the symbols.
  constexpr int kBig = 30;
  for (int round = 1; round < 40; ++round) {
    for (int k = 0; k < kBig; ++k) {
      const int i = (round * kBig + k) * 1000;
      set.ReplaySeries(static_cast<storage::SeriesRef>(1 + i) * SeriesSet::kStripes,
                       CompactionSeries(i), round);
    }
    ASSERT_EQ(set.Gc(round + 1, kNever), static_cast<std::size_t>(kBig));
    set.CompactArenas();
    set.CompactSymbols();
  }
  while (batches.load() < 3) std::this_thread::yield();
  stop.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace starling::wal::storage_internal
