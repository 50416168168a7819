#include "wal/storage.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/testing.h"
#include "wal/checkpoint.h"
#include "wal/internal/test_util.h"
#include "wal/reader.h"
#include "wal/record.h"

namespace starling::wal {
namespace {

using base::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Pair;

// Everything a reader finds in a WAL directory (or checkpoint), decoded.
struct Contents {
  std::vector<record::Type> types;
  std::vector<record::RefSeries> series;
  std::vector<record::RefSample> samples;
  std::vector<record::RefExemplar> exemplars;
};

Contents ReadContents(const std::string& dir, ReaderOptions options = {}) {
  Contents c;
  Reader reader(dir, options);
  for (;;) {
    base::Result<bool> more = reader.Next();
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) return c;
    const std::string_view rec = reader.record();
    c.types.push_back(record::TypeOf(rec));
    switch (record::TypeOf(rec)) {
      case record::Type::kSeries:
        EXPECT_TRUE(record::DecodeSeries(rec, &c.series).ok());
        break;
      case record::Type::kSamples:
        EXPECT_TRUE(record::DecodeSamples(rec, &c.samples).ok());
        break;
      case record::Type::kExemplars:
        EXPECT_TRUE(record::DecodeExemplars(rec, &c.exemplars).ok());
        break;
      default:
        ADD_FAILURE() << "unexpected record type";
    }
  }
}

std::vector<std::pair<std::string, std::string>> LabelsOf(const Storage& s,
                                                          storage::SeriesRef ref) {
  std::vector<std::pair<std::string, std::string>> out;
  const bool found = s.VisitLabels(
      ref, [&](std::string_view name, std::string_view value) { out.emplace_back(name, value); });
  if (!found) out.emplace_back("<unknown>", "");
  return out;
}

std::unique_ptr<Storage> OpenOrDie(const std::string& dir, std::int64_t segment_size = kPageSize) {
  auto s = Storage::Open({.dir = dir, .segment_size = segment_size});
  CHECK(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

storage::SeriesRef AppendOne(Storage& s, storage::SeriesRef ref, const model::Labels& labels,
                             std::int64_t t, double v) {
  auto app = s.NewAppender();
  auto got = app->Append(ref, labels, t, v);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(app->Commit().ok());
  return got.value_or(0);
}

const model::Labels kUp{{"__name__", "up"}, {"job", "a"}};
const model::Labels kDown{{"__name__", "down"}, {"job", "a"}};

TEST(StorageTest, AppendCommitLogsOneBatch) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  auto app = s->NewAppender();
  auto r1 = app->Append(0, kUp, 1000, 1);
  auto r2 = app->Append(0, kDown, 1000, 0);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(*r1, 1u);
  EXPECT_EQ(*r2, 2u);
  // The same labels again in the batch: same ref, no new series.
  auto r3 = app->Append(0, kUp, 2000, 2);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(*r3, *r1);
  auto ex = app->AppendExemplar(*r1, {},
                                {.labels = model::Labels{{"trace_id", "t1"}},
                                 .value = 1,
                                 .timestamp_ms = 999,
                                 .has_timestamp = true});
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  // Nothing is in the WAL before Commit.
  EXPECT_TRUE(ReadContents(dir.path()).types.empty());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_FALSE(app->Commit().ok());

  Contents c = ReadContents(dir.path());
  EXPECT_THAT(c.types,
              ElementsAre(record::Type::kSeries, record::Type::kSamples, record::Type::kExemplars));
  ASSERT_EQ(c.series.size(), 2u);
  EXPECT_EQ(c.series[0], (record::RefSeries{1, kUp}));
  EXPECT_EQ(c.series[1], (record::RefSeries{2, kDown}));
  ASSERT_EQ(c.samples.size(), 3u);
  EXPECT_EQ(c.samples[2].ref, 1u);
  EXPECT_EQ(c.samples[2].t, 2000);
  EXPECT_EQ(c.samples[2].v, 2);
  ASSERT_EQ(c.exemplars.size(), 1u);
  EXPECT_EQ(c.exemplars[0].t, 999);
  EXPECT_EQ(c.exemplars[0].labels, (model::Labels{{"trace_id", "t1"}}));

  EXPECT_THAT(LabelsOf(*s, 1), ElementsAre(Pair("__name__", "up"), Pair("job", "a")));
  EXPECT_THAT(LabelsOf(*s, 2), ElementsAre(Pair("__name__", "down"), Pair("job", "a")));
  EXPECT_THAT(LabelsOf(*s, 3), ElementsAre(Pair("<unknown>", "")));
  EXPECT_EQ(s->NumSeries(), 2u);
  EXPECT_EQ(s->stats().samples_appended, 3u);
  EXPECT_EQ(s->stats().exemplars_appended, 1u);

  // The next batch of known series logs samples only.
  const Position before = s->End();
  ASSERT_EQ(AppendOne(*s, 1, {}, 3000, 3), 1u);
  Contents next = ReadContents(
      dir.path(), {.first_segment = before.segment, .offset = before.offset, .last_segment = -1});
  EXPECT_THAT(next.types, ElementsAre(record::Type::kSamples));
}

TEST(StorageTest, ForEachLabelTemplate) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  const storage::SeriesRef ref = AppendOne(*s, 0, kUp, 1, 1);
  std::string joined;
  EXPECT_TRUE(s->ForEachLabel(ref, [&](std::string_view n, std::string_view v) {
    joined.append(n).append("=").append(v).append(";");
  }));
  EXPECT_EQ(joined, "__name__=up;job=a;");
  EXPECT_FALSE(s->ForEachLabel(99, [](std::string_view, std::string_view) {}));
}

// A batch lookup visits every index once, with the same labels as one-by-one lookups, unknown
// refs as not found, and repeated refs in their relative order.
TEST(StorageTest, LabelSetsKeepTheirNamesValuesAndRefsAcrossACheckpoint) {
  // Series share name sets and values in every combination, with strings on both sides of the
  // inline symbol size (15 bytes) and one series with more labels than a one-byte varint counts.
  std::vector<model::Labels> sets = {
      {{"a", "x"}},
      {{"b", "x"}},
      {{"a", "x"}, {"b", "x"}},
      {{"a", "x"}, {"b", "y"}},
      {{"a", "y"}, {"b", "x"}},
      {{"a_name_longer_than_15", "x"}, {"b", "a value longer than fifteen bytes"}},
      {{"a", "123456789012345"}, {"b", "1234567890123456"}},
  };
  std::vector<model::Label> many;
  for (int i = 0; i < 200; ++i) many.emplace_back("l" + std::to_string(1000 + i), "v");
  sets.emplace_back(std::move(many));
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  std::vector<storage::SeriesRef> refs;
  for (const model::Labels& l : sets) refs.push_back(AppendOne(*s, 0, l, 1000, 1));
  auto pairs = [](const model::Labels& l) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const model::Label& x : l) out.emplace_back(x.first, x.second);
    return out;
  };
  auto check = [&](Storage& st) {
    for (std::size_t i = 0; i < sets.size(); ++i) {
      SCOPED_TRACE(sets[i].String());
      EXPECT_EQ(LabelsOf(st, refs[i]), pairs(sets[i]));
      EXPECT_EQ(AppendOne(st, 0, sets[i], 2000, 2), refs[i]);  // found by its labels
    }
  };
  check(*s);
  EXPECT_EQ(std::set<storage::SeriesRef>(refs.begin(), refs.end()).size(), sets.size());
  // The checkpoint re-encodes every series; a reopened store reads it back.
  ASSERT_TRUE(s->Truncate(s->End().segment + 1, 0).ok());
  ASSERT_TRUE(s->Close().ok());
  s = OpenOrDie(dir.path());
  EXPECT_EQ(s->NumSeries(), sets.size());
  check(*s);
}

TEST(StorageTest, VisitLabelsBatchMatchesSingleLookups) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  std::vector<storage::SeriesRef> known;
  {
    auto app = s->NewAppender();
    for (int i = 0; i < 100; ++i) {
      known.push_back(
          *app->Append(0, model::Labels{{"__name__", "m"}, {"i", std::to_string(i)}}, 1, 1));
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  std::vector<storage::SeriesRef> refs;
  for (int i = 0; i < 300; ++i) refs.push_back(known[(i * 7) % known.size()]);
  refs.push_back(999999);  // unknown
  refs.push_back(known[3]);

  struct Seen {
    std::vector<std::size_t> order;
    std::vector<std::vector<std::pair<std::string, std::string>>> labels;
    std::vector<int> found;
    std::size_t current = 0;
  } seen;
  seen.labels.resize(refs.size());
  seen.found.assign(refs.size(), -1);
  storage::LabelBatchVisitor v;
  v.ctx = &seen;
  v.begin = [](void* ctx, std::size_t i) {
    auto* s = static_cast<Seen*>(ctx);
    s->order.push_back(i);
    s->current = i;
  };
  v.label = [](void* ctx, std::string_view n, std::string_view val) {
    auto* s = static_cast<Seen*>(ctx);
    s->labels[s->current].emplace_back(n, val);
  };
  v.end = [](void* ctx, std::size_t i, bool found) {
    static_cast<Seen*>(ctx)->found[i] = found ? 1 : 0;
  };
  s->VisitLabelsBatch(refs, v);

  // In the order of refs, whatever their stripes.
  ASSERT_EQ(seen.order.size(), refs.size());
  for (std::size_t i = 0; i < seen.order.size(); ++i) EXPECT_EQ(seen.order[i], i);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    SCOPED_TRACE(i);
    if (refs[i] == 999999) {
      EXPECT_EQ(seen.found[i], 0);
      EXPECT_TRUE(seen.labels[i].empty());
    } else {
      EXPECT_EQ(seen.found[i], 1);
      EXPECT_EQ(seen.labels[i], LabelsOf(*s, refs[i]));
    }
  }
}

TEST(StorageTest, RollbackDiscardsAndSeriesIsLoggedLater) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  {
    auto app = s->NewAppender();
    ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());
    app->Rollback();
    EXPECT_FALSE(app->Append(0, kUp, 1000, 1).ok());
  }
  EXPECT_TRUE(ReadContents(dir.path()).types.empty());
  {
    // Dropping an appender without Commit rolls back too.
    auto app = s->NewAppender();
    ASSERT_TRUE(app->Append(0, kDown, 1000, 1).ok());
  }
  EXPECT_TRUE(ReadContents(dir.path()).types.empty());
  // The rolled-back series was never logged: whoever appends it next writes its record, even
  // by ref.
  ASSERT_EQ(AppendOne(*s, 1, {}, 2000, 2), 1u);
  Contents c = ReadContents(dir.path());
  EXPECT_THAT(c.types, ElementsAre(record::Type::kSeries, record::Type::kSamples));
  ASSERT_EQ(c.series.size(), 1u);
  EXPECT_EQ(c.series[0], (record::RefSeries{1, kUp}));
}

TEST(StorageTest, RefsEmptyLabelsAndErrors) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  const storage::SeriesRef ref = AppendOne(*s, 0, kUp, 1000, 1);
  auto app = s->NewAppender();
  // A known ref with empty labels.
  auto same = app->Append(ref, {}, 2000, 2);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, ref);
  // An unknown ref with labels falls back to the labels.
  auto by_labels = app->Append(77, kUp, 3000, 3);
  ASSERT_TRUE(by_labels.ok());
  EXPECT_EQ(*by_labels, ref);
  // An unknown ref without labels cannot be resolved.
  auto unknown = app->Append(77, {}, 3000, 3);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), base::StatusCode::kNotFound);
  // No labels at all, or only empty values.
  auto empty = app->Append(0, model::Labels{{"a", ""}}, 1, 1);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), base::StatusCode::kInvalidArgument);
  // Empty values are dropped, as Prometheus does.
  auto trimmed =
      app->Append(0, model::Labels{{"__name__", "up"}, {"job", "a"}, {"x", ""}}, 4000, 4);
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, ref);
  auto ex = app->AppendExemplar(55, {}, {});
  EXPECT_EQ(ex.status().code(), base::StatusCode::kNotFound);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(s->NumSeries(), 1u);
}

TEST(StorageTest, ExemplarWithoutTimestampUsesClock) {
  TempDir dir;
  base::FakeClock clock(base::Clock::TimePoint(std::chrono::milliseconds(123456)));
  auto s = Storage::Open({.dir = dir.path(), .segment_size = kPageSize, .clock = &clock});
  ASSERT_TRUE(s.ok());
  auto app = (*s)->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1, 1).ok());
  ASSERT_TRUE(app->AppendExemplar(0, kUp, {.labels = model::Labels{{"a", "b"}}, .value = 2}).ok());
  ASSERT_TRUE(app->Commit().ok());
  Contents c = ReadContents(dir.path());
  ASSERT_EQ(c.exemplars.size(), 1u);
  EXPECT_EQ(c.exemplars[0].t, 123456);
  EXPECT_EQ(c.exemplars[0].v, 2);
}

TEST(StorageTest, OutOfOrderSamplesAreDroppedAndCounted) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  const storage::SeriesRef ref = AppendOne(*s, 0, kUp, 1000, 1);
  const Position before = s->End();
  auto app = s->NewAppender();
  auto old = app->Append(ref, {}, 999, 2);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, ref);
  auto old_by_labels = app->Append(0, kUp, 500, 2);
  ASSERT_TRUE(old_by_labels.ok());
  auto same_time = app->Append(ref, {}, 1000, 3);
  ASSERT_TRUE(same_time.ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(s->stats().out_of_order_samples, 2u);
  Contents c = ReadContents(dir.path(), {.first_segment = before.segment, .offset = before.offset});
  ASSERT_EQ(c.samples.size(), 1u);
  EXPECT_EQ(c.samples[0].t, 1000);
  EXPECT_EQ(c.samples[0].v, 3);
}

TEST(StorageTest, HighestTimestampIsTheNewestCommittedSample) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  EXPECT_EQ(s->stats().highest_timestamp_ms, std::numeric_limits<std::int64_t>::min());
  {
    auto app = s->NewAppender();
    ASSERT_TRUE(app->Append(0, kUp, 3000, 1).ok());
    ASSERT_TRUE(app->Append(0, kDown, 2000, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  EXPECT_EQ(s->stats().highest_timestamp_ms, 3000);
  AppendOne(*s, 0, kDown, 2500, 2);  // older than the newest: no change
  EXPECT_EQ(s->stats().highest_timestamp_ms, 3000);
  {
    auto app = s->NewAppender();
    ASSERT_TRUE(app->Append(0, kDown, 9000, 3).ok());
    app->Rollback();
  }
  EXPECT_EQ(s->stats().highest_timestamp_ms, 3000);
  AppendOne(*s, 0, kUp, 4000, 2);
  EXPECT_EQ(s->stats().highest_timestamp_ms, 4000);
}

TEST(StorageTest, ReplayKeepsRefsAndTimestamps) {
  TempDir dir;
  storage::SeriesRef up = 0;
  storage::SeriesRef down = 0;
  {
    auto s = OpenOrDie(dir.path());
    up = AppendOne(*s, 0, kUp, 1000, 1);
    down = AppendOne(*s, 0, kDown, 5000, 1);
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = OpenOrDie(dir.path());
  EXPECT_EQ(s->NumSeries(), 2u);
  EXPECT_GT(s->stats().replay_seconds, 0);
  EXPECT_THAT(LabelsOf(*s, up), ElementsAre(Pair("__name__", "up"), Pair("job", "a")));
  EXPECT_THAT(LabelsOf(*s, down), ElementsAre(Pair("__name__", "down"), Pair("job", "a")));
  // Known by labels under the old ref; the newest timestamp came back too.
  auto app = s->NewAppender();
  auto again = app->Append(0, kDown, 4000, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, down);
  EXPECT_EQ(s->stats().out_of_order_samples, 1u);
  // New series continue after the highest ref.
  auto fresh = app->Append(0, model::Labels{{"__name__", "new"}}, 6000, 1);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, 3u);
  ASSERT_TRUE(app->Commit().ok());
}

// Commits batches of one sample for `ref` until the WAL moves to a new segment.
void FillSegment(Storage& s, storage::SeriesRef ref, std::int64_t* t) {
  const int segment = s.End().segment;
  while (s.End().segment == segment) {
    auto app = s.NewAppender();
    std::vector<storage::SeriesRef> refs;
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(app->Append(ref, {}, (*t)++, i).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
}

TEST(StorageTest, TruncateKeepsNeededSeriesAndDeletesSegments) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  const storage::SeriesRef a = AppendOne(*s, 0, model::Labels{{"s", "a"}}, 1000, 1);
  const storage::SeriesRef b = AppendOne(*s, 0, model::Labels{{"s", "b"}}, 1000, 1);
  ASSERT_EQ(s->End().segment, 0);

  // Everything is kept: segment 0 is finished, checkpointed and deleted.
  ASSERT_TRUE(s->Truncate(1, 0).ok());
  EXPECT_EQ(s->End().segment, 1);
  Storage::Stats st = s->stats();
  EXPECT_EQ(st.checkpoint_creations, 1u);
  EXPECT_EQ(st.segment_truncations, 1u);
  EXPECT_EQ(st.checkpoint_deletions, 1u);
  EXPECT_EQ(st.checkpoint_creations_failed + st.segment_truncations_failed +
                st.checkpoint_deletions_failed + st.corruptions,
            0u);
  auto cp = LastCheckpoint(dir.path());
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->second, 0);
  Contents c0 = ReadContents((*cp)->first);
  EXPECT_THAT(c0.types, ElementsAre(record::Type::kSeries));
  EXPECT_EQ(c0.series.size(), 2u);
  EXPECT_TRUE(c0.samples.empty());
  auto segs = Segments(dir.path());
  ASSERT_TRUE(segs.ok());
  EXPECT_EQ(segs->first, 1);

  // b gets a newer sample in segment 1; a is idle and older than the cut: forgotten.
  AppendOne(*s, b, {}, 2000, 2);
  ASSERT_TRUE(s->Truncate(2, 1500).ok());
  EXPECT_FALSE(s->VisitLabels(a, [](auto, auto) {}));
  EXPECT_THAT(LabelsOf(*s, b), ElementsAre(Pair("s", "b")));
  EXPECT_EQ(s->NumSeries(), 1u);
  EXPECT_EQ(s->stats().series_removed, 1u);
  cp = LastCheckpoint(dir.path());
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->second, 1);
  EXPECT_FALSE(std::filesystem::exists(CheckpointPath(dir.path(), 0)));
  Contents c1 = ReadContents((*cp)->first);
  ASSERT_EQ(c1.series.size(), 1u);
  EXPECT_EQ(c1.series[0], (record::RefSeries{b, model::Labels{{"s", "b"}}}));

  // c and d have only old samples, but in segments that are kept: never forgotten. Once c's
  // segment goes, c does.
  const storage::SeriesRef c = AppendOne(*s, 0, model::Labels{{"s", "c"}}, 100, 1);
  const storage::SeriesRef d = AppendOne(*s, 0, model::Labels{{"s", "d"}}, 100, 1);
  std::int64_t t = 101;
  FillSegment(*s, d, &t);  // d's newest sample is in the next segment now.
  const int d_segment = s->End().segment;
  ASSERT_EQ(d_segment, 3);
  ASSERT_TRUE(s->Truncate(2, 1'000'000).ok());  // Nothing below 2 left: no change.
  EXPECT_EQ(s->NumSeries(), 3u);
  EXPECT_EQ(s->stats().checkpoint_creations, 2u);
  ASSERT_TRUE(s->Truncate(d_segment, 1'000'000).ok());
  EXPECT_FALSE(s->VisitLabels(c, [](auto, auto) {}));
  EXPECT_FALSE(s->VisitLabels(b, [](auto, auto) {}));
  EXPECT_THAT(LabelsOf(*s, d), ElementsAre(Pair("s", "d")));
  EXPECT_EQ(s->NumSeries(), 1u);
  segs = Segments(dir.path());
  ASSERT_TRUE(segs.ok());
  EXPECT_EQ(segs->first, d_segment);
  st = s->stats();
  EXPECT_EQ(st.checkpoint_creations, 3u);
  EXPECT_EQ(st.segment_truncations, 3u);
  EXPECT_EQ(st.checkpoint_deletions, 3u);

  // A reopened store sees the same series with the same refs. It was closed cleanly: nothing
  // to repair.
  ASSERT_TRUE(s->Close().ok());
  s = OpenOrDie(dir.path());
  EXPECT_EQ(s->stats().corruptions, 0u);
  EXPECT_EQ(s->stats().checkpoint_creations, 0u);
  EXPECT_EQ(s->NumSeries(), 1u);
  EXPECT_THAT(LabelsOf(*s, d), ElementsAre(Pair("s", "d")));
  auto app = s->NewAppender();
  auto e = app->Append(0, model::Labels{{"s", "e"}}, 1, 1);
  ASSERT_TRUE(e.ok());
  EXPECT_GT(*e, d);
  ASSERT_TRUE(app->Commit().ok());
}

// A segment that cannot be deleted fails the truncation after its checkpoint; the older
// checkpoints stay until a later truncation gets through.
TEST(StorageTest, FailedSegmentDeletionIsCountedAndRedoneLater) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  const storage::SeriesRef a = AppendOne(*s, 0, model::Labels{{"s", "a"}}, 1000, 1);
  ASSERT_TRUE(s->Truncate(1, 0).ok());
  AppendOne(*s, a, {}, 2000, 2);
  // unlink fails on a directory, even for root.
  const std::string seg1 = SegmentPath(dir.path(), 1);
  ASSERT_EQ(std::rename(seg1.c_str(), (seg1 + ".moved").c_str()), 0);
  ASSERT_TRUE(std::filesystem::create_directories(seg1 + "/x"));

  base::Status failed = s->Truncate(2, 0);
  EXPECT_FALSE(failed.ok());
  Storage::Stats st = s->stats();
  EXPECT_EQ(st.checkpoint_creations, 2u);
  EXPECT_EQ(st.segment_truncations, 2u);
  EXPECT_EQ(st.segment_truncations_failed, 1u);
  EXPECT_EQ(st.checkpoint_deletions, 1u);
  EXPECT_TRUE(std::filesystem::exists(CheckpointPath(dir.path(), 0)));

  std::filesystem::remove_all(seg1);
  ASSERT_EQ(std::rename((seg1 + ".moved").c_str(), seg1.c_str()), 0);
  ASSERT_TRUE(s->Truncate(2, 0).ok());
  st = s->stats();
  EXPECT_EQ(st.checkpoint_creations, 3u);
  EXPECT_EQ(st.segment_truncations, 3u);
  EXPECT_EQ(st.segment_truncations_failed, 1u);
  EXPECT_EQ(st.checkpoint_deletions, 2u);
  EXPECT_FALSE(std::filesystem::exists(CheckpointPath(dir.path(), 0)));
  EXPECT_TRUE(std::filesystem::exists(CheckpointPath(dir.path(), 1)));
  EXPECT_THAT(LabelsOf(*s, a), ElementsAre(Pair("s", "a")));
}

// A commit whose write fails (a full disk) fails and is counted; the WAL stays whole, so later
// commits and a reopened store see everything else.
TEST(StorageTest, FailedWriteLosesOnlyItsOwnCommit) {
  TempDir dir;
  storage::SeriesRef a = 0;
  storage::SeriesRef b = 0;
  {
    auto s = OpenOrDie(dir.path(), kDefaultSegmentSize);
    a = AppendOne(*s, 0, model::Labels{{"s", "a"}}, 1000, 1);
    {
      const wal::internal::FileSizeLimit limit(kPageSize);
      auto app = s->NewAppender();
      for (int i = 0; i < 2000; ++i) {
        ASSERT_TRUE(app->Append(0, model::Labels{{"big", std::to_string(i)}}, 1000, 1).ok());
      }
      EXPECT_FALSE(app->Commit().ok());
    }
    EXPECT_EQ(s->stats().wal.writes_failed, 1U);
    EXPECT_EQ(s->stats().samples_appended, 1U);
    AppendOne(*s, a, {}, 2000, 2);
    b = AppendOne(*s, 0, model::Labels{{"s", "b"}}, 2000, 1);
    ASSERT_TRUE(s->Close().ok());
  }
  // Read whole (ReadContents fails the test on damage); the failed commit left nothing.
  const Contents all = ReadContents(dir.path());
  EXPECT_EQ(all.series.size(), 2U);
  EXPECT_EQ(all.samples.size(), 3U);
  auto s = OpenOrDie(dir.path(), kDefaultSegmentSize);
  EXPECT_EQ(s->stats().corruptions, 0U);
  EXPECT_EQ(s->NumSeries(), 2U);
  EXPECT_THAT(LabelsOf(*s, a), ElementsAre(Pair("s", "a")));
  EXPECT_THAT(LabelsOf(*s, b), ElementsAre(Pair("s", "b")));
}

TEST(StorageTest, TruncateOfMostSeriesKeepsTheRestFindable) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  constexpr int kN = 20'000;
  auto labels = [](int i) { return model::Labels{{"i", std::to_string(i)}, {"job", "j"}}; };
  std::vector<storage::SeriesRef> refs;
  {
    auto app = s->NewAppender();
    for (int i = 0; i < kN; ++i) refs.push_back(*app->Append(0, labels(i), 1000, i));
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(s->Truncate(1, 0).ok());  // all kept; later samples go to segment 1
  // Every 20th series stays current; the others are idle and forgotten, so the index shrinks.
  {
    auto app = s->NewAppender();
    for (int i = 0; i < kN; i += 20) ASSERT_TRUE(app->Append(refs[i], {}, 2000, i).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(s->Truncate(2, 1500).ok());
  ASSERT_EQ(s->NumSeries(), static_cast<std::size_t>(kN / 20));
  auto app = s->NewAppender();
  for (int i = 0; i < kN; ++i) {
    SCOPED_TRACE(i);
    base::Result<storage::SeriesRef> got = app->Append(0, labels(i), 3000, i);
    ASSERT_TRUE(got.ok());
    if (i % 20 == 0) {
      EXPECT_EQ(*got, refs[i]);  // found by its labels
    } else {
      EXPECT_GT(*got, refs.back());  // created anew
    }
  }
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(s->NumSeries(), static_cast<std::size_t>(kN));
}

TEST(StorageTest, TruncateNeverForgetsPendingSeries) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  const storage::SeriesRef a = AppendOne(*s, 0, model::Labels{{"s", "a"}}, 10, 1);
  auto app = s->NewAppender();
  ASSERT_TRUE(app->Append(a, {}, 20, 1).ok());
  ASSERT_TRUE(s->Truncate(1, 1'000'000).ok());
  EXPECT_EQ(s->NumSeries(), 1u);
  ASSERT_TRUE(app->Commit().ok());
  // Now its newest sample is in segment 1, which is kept.
  ASSERT_TRUE(s->Truncate(1, 1'000'000).ok());
  EXPECT_EQ(s->NumSeries(), 1u);
  ASSERT_TRUE(s->Truncate(2, 1'000'000).ok());
  EXPECT_EQ(s->NumSeries(), 0u);
}

TEST(StorageTest, OldestSegmentAfter) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  const storage::SeriesRef a = AppendOne(*s, 0, model::Labels{{"s", "a"}}, 0, 1);
  std::int64_t t = 1;
  FillSegment(*s, a, &t);  // Segment 0 ends below t.
  const std::int64_t seg0_max = t - 1;
  FillSegment(*s, a, &t);
  EXPECT_EQ(s->End().segment, 2);
  EXPECT_EQ(s->OldestSegmentAfter(0), 0);
  EXPECT_EQ(s->OldestSegmentAfter(seg0_max + 1), 1);
  EXPECT_EQ(s->OldestSegmentAfter(t + 1000), 2);  // None: the segment being written.

  // Rebuilt on replay.
  ASSERT_TRUE(s->Close().ok());
  s = OpenOrDie(dir.path());
  EXPECT_EQ(s->OldestSegmentAfter(0), 0);
  EXPECT_EQ(s->OldestSegmentAfter(seg0_max + 1), 1);
  ASSERT_TRUE(s->Truncate(1, 0).ok());
  EXPECT_EQ(s->OldestSegmentAfter(0), 1);
}

TEST(StorageTest, TornSegmentKeepsDataBeforeTheTear) {
  TempDir dir;
  std::vector<storage::SeriesRef> refs;
  std::int64_t cut = 0;
  {
    auto s = OpenOrDie(dir.path(), 4 * kPageSize);
    for (int i = 0; i < 10; ++i) {
      refs.push_back(AppendOne(*s, 0, model::Labels{{"i", std::to_string(i)}}, 1000 + i, i));
    }
    cut = s->End().offset;
    refs.push_back(AppendOne(*s, 0, model::Labels{{"i", "torn"}}, 2000, 1));
    ASSERT_EQ(s->End().segment, 0);
    ASSERT_TRUE(s->Close().ok());
  }
  // A crash in the middle of the last batch's first record.
  ASSERT_EQ(::truncate(SegmentPath(dir.path(), 0).c_str(), cut + 10), 0);

  auto s = OpenOrDie(dir.path(), 4 * kPageSize);
  EXPECT_EQ(s->NumSeries(), 10u);
  EXPECT_EQ(s->stats().corruptions, 1u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(LabelsOf(*s, refs[i]), ElementsAre(Pair("i", std::to_string(i))));
  }
  EXPECT_FALSE(s->VisitLabels(refs[10], [](auto, auto) {}));
  // The newest timestamps survived the tear.
  auto app = s->NewAppender();
  ASSERT_TRUE(app->Append(refs[9], {}, 1008, 0).ok());
  EXPECT_EQ(s->stats().out_of_order_samples, 1u);
  ASSERT_TRUE(app->Commit().ok());
}

TEST(StorageTest, CorruptEarlierSegmentIsRepaired) {
  TempDir dir;
  storage::SeriesRef a = 0;
  {
    auto s = OpenOrDie(dir.path());
    a = AppendOne(*s, 0, model::Labels{{"s", "a"}}, 1, 1);
    std::int64_t t = 2;
    FillSegment(*s, a, &t);
    AppendOne(*s, 0, model::Labels{{"s", "b"}}, 1, 1);
    ASSERT_TRUE(s->Close().ok());
  }
  // Damage segment 0's first page after the first record: the series record of `a` survives.
  {
    const int fd = ::open(SegmentPath(dir.path(), 0).c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const char junk[] = "garbage!";
    ASSERT_EQ(::pwrite(fd, junk, sizeof(junk), 200), static_cast<ssize_t>(sizeof(junk)));
    ::close(fd);
  }
  auto s = Storage::Open({.dir = dir.path(), .segment_size = kPageSize});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(LabelsOf(**s, a), ElementsAre(Pair("s", "a")));
  EXPECT_EQ((*s)->NumSeries(), 1u);
  EXPECT_EQ((*s)->stats().corruptions, 1u);
  auto segs = Segments(dir.path());
  ASSERT_TRUE(segs.ok());
  EXPECT_EQ(segs->last, 1);  // Segment 0 repaired, 1 is the new one.
  EXPECT_EQ(AppendOne(**s, 0, model::Labels{{"s", "c"}}, 5, 1), a + 1);
}

TEST(StorageTest, ConcurrentAppendersAndReaders) {
  TempDir dir;
  auto s = OpenOrDie(dir.path(), 16 * kPageSize);
  constexpr int kWriters = 4;
  constexpr int kSeries = 200;
  constexpr int kRounds = 20;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  threads.reserve(kWriters + 3);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      // Half of each writer's series are shared with the others.
      std::vector<storage::SeriesRef> refs(kSeries, 0);
      for (int round = 0; round < kRounds; ++round) {
        auto app = s->NewAppender();
        for (int i = 0; i < kSeries; ++i) {
          const std::string owner = i % 2 == 0 ? "shared" : std::to_string(w);
          auto r =
              app->Append(refs[i],
                          refs[i] != 0 ? model::Labels{}
                                       : model::Labels{{"owner", owner}, {"i", std::to_string(i)}},
                          round * 10 + w, i);
          if (!r.ok()) {
            bad.fetch_add(1);
            continue;
          }
          refs[i] = *r;
        }
        if (!app->Commit().ok()) bad.fetch_add(1);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        for (storage::SeriesRef ref = 1; ref <= 1000; ++ref) {
          std::size_t n = 0;
          s->VisitLabels(ref, [&](std::string_view name, std::string_view) {
            if (name != "i" && name != "owner") bad.fetch_add(1);
            ++n;
          });
          if (n != 0 && n != 2) bad.fetch_add(1);
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      if (!s->Truncate(s->End().segment, 0).ok()) bad.fetch_add(1);
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  stop.store(true);
  for (std::size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(s->NumSeries(), static_cast<std::size_t>(kSeries / 2 + kWriters * kSeries / 2));
  EXPECT_EQ(s->stats().samples_appended + s->stats().out_of_order_samples,
            static_cast<std::uint64_t>(kWriters * kSeries * kRounds));

  // Everything replays to the same set.
  ASSERT_TRUE(s->Close().ok());
  auto again = OpenOrDie(dir.path(), 16 * kPageSize);
  EXPECT_EQ(again->NumSeries(), static_cast<std::size_t>(kSeries / 2 + kWriters * kSeries / 2));
}

// Bytes malloc has handed out, including large blocks it mmaps.
std::size_t HeapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// Heap bytes per series for a typical scraped series, measured with mallinfo2. Not meaningful
// under sanitizers, which replace malloc.
TEST(StorageTest, MemoryPerSeries) {
  TempDir dir;
  auto s = OpenOrDie(dir.path(), 4 * 1024 * 1024);
  constexpr int kN = 100'000;
  constexpr const char* kHandlers[] = {"/api/v1/items", "/api/v1/users", "/healthz", "/metrics"};
  constexpr const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                 "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  std::vector<model::Labels> all;
  all.reserve(kN);
  // 50 targets of 2000 series each: 21 histograms (4 handlers, 2 methods, 12 buckets).
  for (int i = 0; i < kN; ++i) {
    const int j = i % 2000;
    all.push_back(model::Labels{
        {"__name__", "app_http_request_duration_seconds_bucket_" + std::to_string(j / 96)},
        {"handler", kHandlers[j / 12 % 4]},
        {"method", j / 48 % 2 == 0 ? "POST" : "GET"},
        {"pod", "pod-" + std::to_string(i / 2000)},
        {"le", kLe[j % 12]},
        {"job", "bench"},
        {"instance", "127.0.0.1:" + std::to_string(20000 + i / 2000)},
    });
  }
  const std::size_t before = HeapInUse();
  for (int batch = 0; batch < kN / 1000; ++batch) {
    auto app = s->NewAppender();
    for (int i = batch * 1000; i < (batch + 1) * 1000; ++i) {
      ASSERT_TRUE(app->Append(0, all[i], 1000, i).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  const std::size_t after = HeapInUse();
  ASSERT_EQ(s->NumSeries(), static_cast<std::size_t>(kN));
  const double per_series = static_cast<double>(after - before) / kN;
  std::printf("wal::Storage heap per series: %.1f bytes\n", per_series);
  RecordProperty("bytes_per_series", std::to_string(per_series));
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  if (after > before) {
    EXPECT_LT(per_series, 120);
  }
#endif
}

TEST(StorageTest, TruncateReclaimsTheLabelValuesOfForgottenSeries) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  // More short-lived series with distinct values than the symbol table lets pile up.
  constexpr int kGone = 70'000;
  {
    auto app = s->NewAppender();
    for (int i = 0; i < kGone; ++i) {
      ASSERT_TRUE(app->Append(0, model::Labels{{"pod", "pod-" + std::to_string(i)}}, 1000, 1).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(s->Truncate(1, 0).ok());
  EXPECT_EQ(s->stats().symbols_reclaimed, 0u);
  const storage::SeriesRef kept = AppendOne(*s, 0, model::Labels{{"pod", "kept"}}, 2000, 2);

  ASSERT_TRUE(s->Truncate(2, 1500).ok());
  EXPECT_EQ(s->stats().series_removed, static_cast<std::uint64_t>(kGone));
  EXPECT_EQ(s->stats().symbols_reclaimed, static_cast<std::uint64_t>(kGone));
  EXPECT_THAT(LabelsOf(*s, kept), ElementsAre(Pair("pod", "kept")));
  // Series come and go as before, old names included.
  EXPECT_EQ(AppendOne(*s, 0, model::Labels{{"pod", "kept"}}, 3000, 3), kept);
  const storage::SeriesRef back = AppendOne(*s, 0, model::Labels{{"pod", "pod-7"}}, 3000, 3);
  EXPECT_GT(back, kept);
  EXPECT_THAT(LabelsOf(*s, back), ElementsAre(Pair("pod", "pod-7")));
}

}  // namespace
}  // namespace starling::wal
