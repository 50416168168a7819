#include "wal/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "wal/internal/crc32c.h"
#include "wal/internal/test_util.h"
#include "wal/wal.h"

namespace starling::wal {
namespace {

using internal::MakeRecord;
using internal::ReadAll;
using internal::TempDir;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const std::string& path, const std::string& data, bool append = false) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << data;
}

// One hand-built fragment: type byte, big-endian length and CRC-32C of the data, data.
std::string Fragment(unsigned char type, std::string_view data) {
  const std::uint32_t crc = internal::Crc32c(data);
  std::string f = {static_cast<char>(type),        static_cast<char>(data.size() >> 8),
                   static_cast<char>(data.size()), static_cast<char>(crc >> 24),
                   static_cast<char>(crc >> 16),   static_cast<char>(crc >> 8),
                   static_cast<char>(crc)};
  return f + std::string(data);
}

// Writes records to a fresh WAL and returns the offset just after each one (all in segment 0).
std::vector<std::int64_t> WriteRecords(const std::string& dir,
                                       const std::vector<std::string>& records) {
  {
    auto wal = Wal::Open(dir);
    CHECK(wal.ok());
    for (const auto& r : records) CHECK((*wal)->Log(r).ok());
  }
  std::vector<std::int64_t> ends;
  Reader reader(dir);
  while (*reader.Next()) ends.push_back(reader.position().offset);
  CHECK(ends.size() == records.size());
  return ends;
}

TEST(ReaderTest, StartsAtAnyRecordOffset) {
  TempDir dir;
  std::vector<std::string> records;
  for (unsigned i = 0; i < 12; ++i) records.push_back(MakeRecord(i * 4000, i));
  const std::vector<std::int64_t> ends = WriteRecords(dir.path(), records);
  for (std::size_t k = 0; k < records.size(); ++k) {
    SCOPED_TRACE(k);
    const std::int64_t start = k == 0 ? 0 : ends[k - 1];
    auto got = ReadAll(dir.path(), {.first_segment = 0, .offset = start});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got ==
                std::vector<std::string>(records.begin() + static_cast<long>(k), records.end()));
  }
}

TEST(ReaderTest, FollowsSegmentsFromAGivenOne) {
  TempDir dir;
  {
    auto wal = Wal::Open(dir.path());
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE((*wal)->Log("r" + std::to_string(i)).ok());
      ASSERT_TRUE((*wal)->NextSegment().ok());
    }
  }
  EXPECT_THAT(*ReadAll(dir.path(), {.first_segment = 2}), ::testing::ElementsAre("r2", "r3"));
  EXPECT_THAT(*ReadAll(dir.path(), {.first_segment = 1, .last_segment = 2}),
              ::testing::ElementsAre("r1", "r2"));
  EXPECT_EQ(ReadAll(dir.path(), {.first_segment = 9}).status().code(), base::StatusCode::kNotFound);
  TempDir empty;
  auto none = ReadAll(empty.path());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ReaderTest, ReportsCorruption) {
  const std::string padding_page = Fragment(1, "ok") + std::string(kPageSize - 9, '\0');
  struct Case {
    std::string name;
    std::string file;
    std::int64_t want_offset;
    std::string want_message;
  };
  const Case cases[] = {
      {"unknown type", Fragment(1, "a") + Fragment(5, "b"), 8, "unexpected record type 5"},
      {"reserved header bits", Fragment(0x21, "a"), 0, "invalid record header byte 0x21"},
      {"compressed", Fragment(1 | 8, "a"), 0, "compressed records are not supported"},
      {"middle first", Fragment(3, "a"), 0, "unexpected middle record"},
      {"last first", Fragment(4, "a"), 0, "unexpected last record"},
      {"full after first", Fragment(2, "a") + Fragment(1, "b"), 0, "unexpected full record"},
      {"first after first", Fragment(2, "a") + Fragment(2, "b"), 0, "unexpected first record"},
      {"length beyond a page", std::string("\x01\xff\xff\0\0\0\0", 7), 0, "invalid record size"},
      {"fragment crosses a page",
       Fragment(1, std::string(kPageSize - 17, 'a')) + Fragment(1, "abcdef"), kPageSize - 10,
       "crosses a page boundary"},
      {"bad checksum", Fragment(1, "abc").replace(3, 1, "\x01"), 0, "unexpected checksum"},
      {"non-zero padding", padding_page.substr(0, kPageSize - 1) + "x", 9,
       "unexpected non-zero byte in padded page"},
      {"header at page end",
       Fragment(1, std::string(kPageSize - 10, 'a')) + std::string("\x01\0\0", 3), kPageSize - 3,
       "record header crosses a page boundary"},
      {"torn in last segment", Fragment(1, "a") + Fragment(2, "bc"), 8,
       "unexpected end of segment inside a record"},
      {"cut header", Fragment(1, "a") + Fragment(1, "b").substr(0, 4), 8,
       "unexpected end of segment"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    WriteFile(SegmentPath(dir.path(), 0), c.file);
    Reader reader(dir.path());
    base::Result<bool> more = true;
    while (more.ok() && *more) more = reader.Next();
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(more.status().code(), base::StatusCode::kDataLoss);
    EXPECT_THAT(more.status().message(), HasSubstr(c.want_message));
    EXPECT_THAT(more.status().message(),
                HasSubstr(SegmentPath(dir.path(), 0) + " at " + std::to_string(c.want_offset)));
    EXPECT_EQ(reader.corruption(), (Position{0, c.want_offset}));
    // Sticky.
    EXPECT_EQ(reader.Next().status(), more.status());
  }
}

TEST(ReaderTest, TornRecordBeforeALaterSegment) {
  TempDir dir;
  WriteFile(SegmentPath(dir.path(), 0), Fragment(1, "a") + Fragment(2, "b"));
  WriteFile(SegmentPath(dir.path(), 1), Fragment(1, "c"));
  auto got = ReadAll(dir.path());
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("last record is torn"));
  // A segment that simply ends (a writer that crashed before padding) is fine.
  WriteFile(SegmentPath(dir.path(), 0), Fragment(1, "a") + Fragment(1, "b"));
  EXPECT_THAT(*ReadAll(dir.path()), ::testing::ElementsAre("a", "b", "c"));
}

// A live reader over a growing copy of a segment: at every cut it returns exactly the records
// that are complete, reports "nothing yet" instead of corruption, and resumes correctly.
TEST(ReaderTest, LiveReadingOfPartialPages) {
  TempDir src;
  const std::vector<std::string> records = {MakeRecord(100, 1),   MakeRecord(40000, 2),
                                            MakeRecord(10, 3),    MakeRecord(5000, 4),
                                            MakeRecord(70000, 5), MakeRecord(0, 6)};
  const std::vector<std::int64_t> ends = WriteRecords(src.path(), records);
  const std::string file = ReadFile(SegmentPath(src.path(), 0));
  const std::size_t cuts[] = {0,
                              3,
                              7,
                              50,
                              107,
                              110,
                              1000,
                              kPageSize - 1,
                              kPageSize,
                              kPageSize + 5,
                              40200,
                              2 * kPageSize + 100,
                              file.size() - 1,
                              file.size()};
  for (std::size_t cut : cuts) {
    SCOPED_TRACE(cut);
    TempDir dir;
    const std::string path = SegmentPath(dir.path(), 0);
    WriteFile(path, file.substr(0, cut));
    Reader reader(dir.path(), {.live = true});
    std::vector<std::string> got;
    for (;;) {
      auto more = reader.Next();
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      got.emplace_back(reader.record());
    }
    std::size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= static_cast<std::int64_t>(cut)) ++complete;
    ASSERT_EQ(got.size(), complete);
    EXPECT_EQ(reader.position().offset, complete == 0 ? 0 : ends[complete - 1]);
    // Asking again without new data changes nothing.
    ASSERT_FALSE(*reader.Next());

    WriteFile(path, file.substr(cut), /*append=*/true);
    for (;;) {
      auto more = reader.Next();
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      got.emplace_back(reader.record());
    }
    EXPECT_TRUE(got == records) << "read " << got.size();
  }
}

TEST(ReaderTest, LiveWaitsForTheFirstSegmentAndFollowsNewOnes) {
  TempDir dir;
  Reader reader(dir.path(), {.live = true});
  EXPECT_FALSE(*reader.Next());
  auto wal = Wal::Open(dir.path());
  ASSERT_TRUE(wal.ok());
  EXPECT_FALSE(*reader.Next());
  ASSERT_TRUE((*wal)->Log("one").ok());
  ASSERT_TRUE(*reader.Next());
  EXPECT_EQ(reader.record(), "one");
  EXPECT_FALSE(*reader.Next());
  ASSERT_TRUE((*wal)->NextSegment().ok());
  EXPECT_FALSE(*reader.Next());
  ASSERT_TRUE((*wal)->Log("two").ok());
  ASSERT_TRUE(*reader.Next());
  EXPECT_EQ(reader.record(), "two");
  EXPECT_EQ(reader.position().segment, 1);
}

TEST(ReaderTest, LiveWhileWriting) {
  TempDir dir;
  auto wal = Wal::Open(dir.path(), 8 * kPageSize);
  ASSERT_TRUE(wal.ok());
  constexpr int kRecords = 1500;
  std::vector<std::string> records;
  for (unsigned i = 0; i < kRecords; ++i) records.push_back(MakeRecord((i * 7919) % 50000, i));
  std::atomic<bool> done = false;
  std::thread writer([&] {
    for (std::size_t i = 0; i < records.size(); i += 3) {
      std::vector<std::string_view> batch(
          records.begin() + static_cast<long>(i),
          records.begin() + static_cast<long>(std::min(records.size(), i + 3)));
      CHECK((*wal)->Log(batch).ok());
    }
    done = true;
  });
  Reader reader(dir.path(), {.live = true});
  std::vector<std::string> got;
  for (;;) {
    // Checked before Next: once the writer is done, "nothing yet" means everything was read.
    const bool finished = done;
    auto more = reader.Next();
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (*more) {
      got.emplace_back(reader.record());
    } else if (finished) {
      break;
    } else {
      std::this_thread::yield();
    }
  }
  writer.join();
  EXPECT_EQ(got.size(), records.size());
  EXPECT_TRUE(got == records);
  EXPECT_GT(reader.position().segment, 10);
}

}  // namespace
}  // namespace starling::wal
