#include "wal/wal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wal/internal/crc32c.h"
#include "wal/internal/test_util.h"
#include "wal/reader.h"

namespace starling::wal {
namespace {

using internal::FileSizeLimit;
using internal::MakeRecord;
using internal::ReadAll;
using internal::TempDir;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::unique_ptr<Wal> MustOpen(const std::string& dir, std::int64_t segment_size) {
  auto wal = Wal::Open(dir, segment_size);
  CHECK(wal.ok()) << wal.status().ToString();
  return std::move(wal).value();
}

base::Status LogAll(Wal& wal, const std::vector<std::string>& records, std::size_t batch) {
  for (std::size_t i = 0; i < records.size(); i += batch) {
    std::vector<std::string_view> views(
        records.begin() + static_cast<std::ptrdiff_t>(i),
        records.begin() + static_cast<std::ptrdiff_t>(std::min(records.size(), i + batch)));
    RETURN_IF_ERROR(wal.Log(views));
  }
  return base::Status::Ok();
}

TEST(WalTest, RoundTrip) {
  constexpr std::int64_t kRoom = kPageSize - 7;  // Data that fits in one fragment.
  struct Case {
    std::string name;
    std::vector<std::size_t> sizes;
    std::int64_t segment_size;
    std::size_t batch;
    int want_segments;
  };
  const Case cases[] = {
      {"empty record", {0}, kDefaultSegmentSize, 1, 1},
      {"small records", {1, 2, 3, 100, 1000}, kDefaultSegmentSize, 1, 1},
      {"batched small records", std::vector<std::size_t>(500, 77), kDefaultSegmentSize, 50, 1},
      {"exactly one page", {kRoom, kRoom, 1}, kDefaultSegmentSize, 1, 1},
      {"one byte over a page", {kRoom + 1, kRoom + 1}, kDefaultSegmentSize, 2, 1},
      {"page tail shorter than a header", {kRoom - 3, 10, 0}, kDefaultSegmentSize, 1, 1},
      {"header exactly at page end", {kRoom - 7, 5000}, kDefaultSegmentSize, 1, 1},
      {"large records", {100 * 1024, 1, 300 * 1024}, kDefaultSegmentSize, 1, 1},
      // 2-page segments hold 2 * kRoom bytes of data; bigger records get a segment each.
      {"record larger than a segment", {10, 5 * kPageSize, 10}, 2 * kPageSize, 1, 3},
      // Six 10000-byte records fit in two pages (the fourth spans them): 40 records, 7 segments.
      {"records fill segments", std::vector<std::size_t>(40, 10000), 2 * kPageSize, 3, 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    std::vector<std::string> records;
    for (std::size_t i = 0; i < c.sizes.size(); ++i) records.push_back(MakeRecord(c.sizes[i], i));
    {
      auto wal = MustOpen(dir.path(), c.segment_size);
      ASSERT_TRUE(LogAll(*wal, records, c.batch).ok());
      ASSERT_TRUE(wal->Close().ok());
    }
    auto got = ReadAll(dir.path());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == records) << "read " << got->size() << " of " << records.size();
    auto range = Segments(dir.path());
    ASSERT_TRUE(range.ok());
    EXPECT_EQ(*range, (SegmentRange{0, c.want_segments - 1}));
  }
}

TEST(WalTest, OnDiskFormat) {
  TempDir dir;
  const std::string big = MakeRecord(40000, 1);
  {
    auto wal = MustOpen(dir.path(), kDefaultSegmentSize);
    ASSERT_TRUE(wal->Log("hello").ok());
    ASSERT_TRUE(wal->Log(big).ok());
  }
  const std::string file = ReadFile(SegmentPath(dir.path(), 0));
  ASSERT_EQ(file.size(), static_cast<std::size_t>(2 * kPageSize));
  auto header = [](unsigned char type, std::string_view data) {
    const std::uint32_t crc = internal::Crc32c(data);
    const unsigned char h[7] = {type,
                                static_cast<unsigned char>(data.size() >> 8),
                                static_cast<unsigned char>(data.size()),
                                static_cast<unsigned char>(crc >> 24),
                                static_cast<unsigned char>(crc >> 16),
                                static_cast<unsigned char>(crc >> 8),
                                static_cast<unsigned char>(crc)};
    return std::string(reinterpret_cast<const char*>(h), 7);
  };
  // FULL "hello"; FIRST with the rest of page 0; LAST on page 1; zero padding.
  const std::size_t first_len = kPageSize - 12 - 7;
  std::string want = header(1, "hello") + "hello" + header(2, big.substr(0, first_len)) +
                     big.substr(0, first_len) + header(4, big.substr(first_len)) +
                     big.substr(first_len);
  want.resize(2 * kPageSize, '\0');
  EXPECT_TRUE(file == want);
}

// Counts the fsyncs an observer is told of, from any thread.
class FsyncCounter {
 public:
  std::function<void(double)> Observer() {
    return [this](double seconds) {
      std::lock_guard lock(mu_);
      EXPECT_GE(seconds, 0);
      ++n_;
    };
  }
  int n() const {
    std::lock_guard lock(mu_);
    return n_;
  }

 private:
  mutable std::mutex mu_;
  int n_ = 0;
};

TEST(WalTest, CountsPageWritesAndTimesFsyncs) {
  TempDir dir;
  auto wal = MustOpen(dir.path(), 4 * kPageSize);
  FsyncCounter fsyncs;
  wal->SetFsyncObserver(fsyncs.Observer());
  // A partial page is written at the end of each call.
  ASSERT_TRUE(wal->Log("hello").ok());
  EXPECT_EQ(wal->stats().page_flushes, 1U);
  EXPECT_EQ(wal->stats().completed_pages, 0U);
  // The rest of page 0 (now complete), then the part of page 1 the record's tail fills.
  ASSERT_TRUE(wal->Log(MakeRecord(40000, 1)).ok());
  EXPECT_EQ(wal->stats().page_flushes, 3U);
  EXPECT_EQ(wal->stats().completed_pages, 1U);
  EXPECT_EQ(fsyncs.n(), 0);
  ASSERT_TRUE(wal->Sync().ok());
  EXPECT_EQ(fsyncs.n(), 1);
  // Moving on pads page 1; segment 0 is fsynced in the background, before Close returns.
  ASSERT_TRUE(wal->NextSegment().ok());
  EXPECT_EQ(wal->stats().page_flushes, 4U);
  EXPECT_EQ(wal->stats().completed_pages, 2U);
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(fsyncs.n(), 3);
  // An empty page is not written.
  EXPECT_EQ(wal->stats().page_flushes, 4U);
  EXPECT_EQ(wal->stats().writes_failed, 0U);

  // Once the observer is removed, fsyncs go untimed.
  TempDir other;
  auto quiet = MustOpen(other.path(), 4 * kPageSize);
  FsyncCounter none;
  quiet->SetFsyncObserver(none.Observer());
  quiet->SetFsyncObserver(nullptr);
  ASSERT_TRUE(quiet->Log("x").ok());
  ASSERT_TRUE(quiet->NextSegment().ok());
  ASSERT_TRUE(quiet->Close().ok());
  EXPECT_EQ(none.n(), 0);
}

// A slow fsync of a finished segment must not hold up logging (a scrape's commit): it runs on
// the WAL's own thread. The observer stands in for a slow disk: it blocks that thread.
TEST(WalTest, FinishedSegmentIsSyncedWithoutHoldingUpLogging) {
  TempDir dir;
  auto wal = MustOpen(dir.path(), kDefaultSegmentSize);
  std::mutex mu;
  std::condition_variable cv;
  int fsyncs = 0;
  bool released = false;
  bool rolled = false;
  wal->SetFsyncObserver([&](double) {
    std::unique_lock lock(mu);
    ++fsyncs;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
  });
  ASSERT_TRUE(wal->Log("a").ok());
  std::thread roll([&] {
    EXPECT_TRUE(wal->NextSegment().ok());
    std::lock_guard lock(mu);
    rolled = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    // Generous: this only fails if NextSegment waits for the blocked fsync.
    const bool ok = cv.wait_for(lock, 60s, [&] { return rolled && fsyncs == 1; });
    if (!ok) released = true;
    cv.notify_all();
    ASSERT_TRUE(ok) << "NextSegment waited for the fsync of the segment it finished";
  }
  // While segment 0's fsync is still blocked, logging goes on in segment 1.
  ASSERT_TRUE(wal->Log("b").ok());
  EXPECT_EQ(wal->End().segment, 1);
  {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
  roll.join();
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(fsyncs, 2);  // segment 0, then segment 1 at Close
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (std::vector<std::string>{"a", "b"}));
}

TEST(WalTest, ManySegmentsKeepRecordsWhole) {
  TempDir dir;
  const std::int64_t segment_size = 4 * kPageSize;
  std::vector<std::string> records;
  for (unsigned i = 0; i < 300; ++i) records.push_back(MakeRecord(1000 + (i * 7919) % 20000, i));
  {
    auto wal = MustOpen(dir.path(), segment_size);
    ASSERT_TRUE(LogAll(*wal, records, 7).ok());
  }
  auto range = Segments(dir.path());
  ASSERT_TRUE(range.ok());
  ASSERT_GT(range->last, 10);
  // Each segment read alone yields whole records; together they are the log.
  std::vector<std::string> joined;
  for (int s = range->first; s <= range->last; ++s) {
    SCOPED_TRACE(s);
    EXPECT_LE(std::filesystem::file_size(SegmentPath(dir.path(), s)),
              static_cast<std::uintmax_t>(segment_size));
    auto got = ReadAll(dir.path(), {.first_segment = s, .last_segment = s});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    joined.insert(joined.end(), got->begin(), got->end());
  }
  EXPECT_TRUE(joined == records);
}

TEST(WalTest, ReopenAppendsInANewSegment) {
  TempDir dir;
  std::vector<std::string> want;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    auto wal = MustOpen(dir.path(), kDefaultSegmentSize);
    EXPECT_EQ(wal->End(), (Position{round, 0}));
    for (unsigned i = 0; i < 5; ++i) {
      want.push_back(MakeRecord(3000 * i, round * 10 + i));
      ASSERT_TRUE(wal->Log(want.back()).ok());
    }
  }
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == want);
}

TEST(WalTest, NextSegmentAndTruncate) {
  TempDir dir;
  auto wal = MustOpen(dir.path(), kDefaultSegmentSize);
  std::vector<std::string> records;
  for (int i = 0; i < 5; ++i) {
    records.push_back("record " + std::to_string(i));
    ASSERT_TRUE(wal->Log(records.back()).ok());
    auto next = wal->NextSegment();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, i + 1);
  }
  EXPECT_EQ(*wal->Segments(), (SegmentRange{0, 5}));

  ASSERT_TRUE(wal->Truncate(3).ok());
  EXPECT_EQ(*wal->Segments(), (SegmentRange{3, 5}));
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(*got, ::testing::ElementsAre("record 3", "record 4"));

  ASSERT_TRUE(wal->Truncate(2).ok());  // Nothing below 3 is left.
  EXPECT_EQ(*wal->Segments(), (SegmentRange{3, 5}));
  EXPECT_EQ(wal->Truncate(6).code(), base::StatusCode::kInvalidArgument);
  ASSERT_TRUE(wal->Truncate(5).ok());
  EXPECT_EQ(*wal->Segments(), (SegmentRange{5, 5}));
  ASSERT_TRUE(wal->Log("after").ok());
  ASSERT_TRUE(wal->Sync().ok());
  EXPECT_THAT(*ReadAll(dir.path()), ::testing::ElementsAre("after"));
}

TEST(WalTest, TornTailIsRepairedOnOpen) {
  // Ten records, some spanning pages; the damage hits record 6 (which spans pages 1 and 2).
  std::vector<std::string> records;
  for (unsigned i = 0; i < 10; ++i) records.push_back(MakeRecord(i == 6 ? 40000 : 9000, i));
  struct Case {
    std::string name;
    // Damages the segment file given the offsets of record 6 and its second fragment.
    std::function<void(std::string&, std::size_t, std::size_t)> damage;
  };
  const Case cases[] = {
      {"cut inside the header",
       [](std::string& f, std::size_t r, std::size_t) { f.resize(r + 3); }},
      {"cut inside the data",
       [](std::string& f, std::size_t r, std::size_t) { f.resize(r + 100); }},
      {"cut after the first fragment",
       [](std::string& f, std::size_t, std::size_t second) { f.resize(second); }},
      {"cut inside the last fragment",
       [](std::string& f, std::size_t, std::size_t second) { f.resize(second + 50); }},
      {"bad checksum byte", [](std::string& f, std::size_t r, std::size_t) { f[r + 5] ^= 0x40; }},
      {"bad data byte in the second fragment",
       [](std::string& f, std::size_t, std::size_t second) { f[second + 900] ^= 1; }},
      {"bad length", [](std::string& f, std::size_t r, std::size_t) { f[r + 1] = '\x7f'; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    std::size_t offset6 = 0;
    {
      auto wal = MustOpen(dir.path(), kDefaultSegmentSize);
      ASSERT_TRUE(LogAll(*wal, records, 1).ok());
    }
    {
      Reader reader(dir.path());
      for (int i = 0; i < 6; ++i) ASSERT_TRUE(*reader.Next());
      offset6 = static_cast<std::size_t>(reader.position().offset);
    }
    const std::size_t second = (offset6 / kPageSize + 1) * kPageSize;
    const std::string path = SegmentPath(dir.path(), 0);
    std::string file = ReadFile(path);
    c.damage(file, offset6, second);
    WriteFile(path, file);

    // Plain reading reports where the damage is.
    auto bad = ReadAll(dir.path());
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), base::StatusCode::kDataLoss);
    EXPECT_THAT(bad.status().message(), HasSubstr("segment " + SegmentPath(dir.path(), 0) + " at " +
                                                  std::to_string(offset6) + ":"));
    Reader reader(dir.path());
    while (reader.Next().value_or(false)) {
    }
    EXPECT_EQ(reader.corruption(), (Position{0, static_cast<std::int64_t>(offset6)}));

    // Opening cuts the tail, keeps records 0-5 and appends after them.
    {
      auto wal = MustOpen(dir.path(), kDefaultSegmentSize);
      ASSERT_TRUE(wal->Log("new").ok());
    }
    auto got = ReadAll(dir.path());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::string> want(records.begin(), records.begin() + 6);
    want.push_back("new");
    EXPECT_TRUE(*got == want) << "read " << got->size() << " records";
    EXPECT_EQ(std::filesystem::file_size(path) % kPageSize, 0u);
  }
}

// A write that fails part way through a record (here on its second page) leaves no torn record:
// the segment is cut back to where the call began and logging goes on in the next segment, so a
// reader that was following along, and one reading afterwards, see every other record whole.
TEST(WalTest, FailedWriteLeavesNoTornRecord) {
  TempDir dir;
  auto wal = MustOpen(dir.path(), kDefaultSegmentSize);
  const std::string a = MakeRecord(1000, 1);
  const std::string b = MakeRecord(3 * kPageSize, 2);
  const std::string c = MakeRecord(500, 3);
  ASSERT_TRUE(wal->Log(a).ok());
  Reader live(dir.path(), ReaderOptions{.live = true});
  ASSERT_EQ(live.Next().value_or(false), true);
  EXPECT_EQ(live.record(), a);
  {
    const FileSizeLimit limit(kPageSize + 100);
    base::Status failed = wal->Log(std::vector<std::string_view>{c, b});
    EXPECT_FALSE(failed.ok());
    EXPECT_THAT(failed.message(), HasSubstr("File too large"));
  }
  EXPECT_EQ(wal->stats().writes_failed, 1U);
  EXPECT_EQ(wal->End(), (Position{1, 0}));
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(dir.path(), 0)), 1007U);
  ASSERT_TRUE(wal->Log(c).ok());
  EXPECT_EQ(wal->stats().writes_failed, 1U);
  ASSERT_EQ(live.Next().value_or(false), true);
  EXPECT_EQ(live.record(), c);
  EXPECT_EQ(live.position().segment, 1);
  ASSERT_TRUE(wal->Close().ok());
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_THAT(*got, ::testing::ElementsAre(a, c));
}

// A failed call that had moved on to a new segment empties that segment and goes on in the
// next; the segment it left holds only whole records.
TEST(WalTest, FailedWriteInANewSegmentEmptiesIt) {
  TempDir dir;
  auto wal = MustOpen(dir.path(), 2 * kPageSize);
  const std::string a = MakeRecord(1000, 1);
  const std::string b = MakeRecord(3 * kPageSize, 2);  // more than a segment: one of its own
  const std::string c = MakeRecord(500, 3);
  ASSERT_TRUE(wal->Log(a).ok());
  {
    const FileSizeLimit limit(kPageSize + 100);
    EXPECT_FALSE(wal->Log(b).ok());
  }
  EXPECT_EQ(wal->stats().writes_failed, 1U);
  EXPECT_EQ(wal->End(), (Position{2, 0}));
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(dir.path(), 1)), 0U);
  ASSERT_TRUE(wal->Log(c).ok());
  ASSERT_TRUE(wal->Close().ok());
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_THAT(*got, ::testing::ElementsAre(a, c));
}

TEST(WalTest, ConcurrentLoggers) {
  TempDir dir;
  auto wal = MustOpen(dir.path(), 8 * kPageSize);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&wal, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string rec = std::to_string(t) + ":" + std::to_string(i) + ":" +
                                std::string(static_cast<std::size_t>(i * 37 % 5000), 'x');
        CHECK(wal->Log(rec).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(wal->Close().ok());
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const std::string& rec : *got) {
    const int t = rec[0] - '0';
    const std::string prefix = std::to_string(t) + ":" + std::to_string(next[t]) + ":";
    ASSERT_EQ(rec.substr(0, prefix.size()), prefix);  // Each thread's records stay in order.
    ++next[t];
  }
}

TEST(WalTest, Errors) {
  TempDir dir;
  EXPECT_EQ(Wal::Open(dir.path(), 1000).status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(Wal::Open(dir.path(), 0).status().code(), base::StatusCode::kInvalidArgument);

  WriteFile(dir.Path("file"), "x");
  auto under_file = Wal::Open(dir.Path("file") + "/wal");
  ASSERT_FALSE(under_file.ok());
  EXPECT_THAT(under_file.status().message(), HasSubstr("Not a directory"));

  auto wal = MustOpen(dir.Path("wal"), kDefaultSegmentSize);
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(wal->Log("x").code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wal->NextSegment().status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wal->Sync().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wal->Close().code(), base::StatusCode::kFailedPrecondition);

  // A gap in the segment sequence is reported, not skipped over.
  WriteFile(dir.Path("wal/00000003"), "");
  EXPECT_EQ(Wal::Open(dir.Path("wal")).status().code(), base::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace starling::wal
