#include "wal/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/testing.h"
#include "wal/internal/test_util.h"
#include "wal/reader.h"
#include "wal/segment.h"

namespace starling::wal {
namespace {

using base::testing::TempDir;
using ::testing::ElementsAre;

base::Status LogAll(Wal& wal, const std::vector<std::string>& records) {
  for (const std::string& r : records) RETURN_IF_ERROR(wal.Log(r));
  return base::Status::Ok();
}

TEST(CheckpointTest, PathAndNoneYet) {
  TempDir dir;
  EXPECT_EQ(CheckpointPath("/x/wal", 42), "/x/wal/checkpoint.00000042");
  EXPECT_EQ(CheckpointPath("/x/wal/", 7), "/x/wal/checkpoint.00000007");
  auto last = LastCheckpoint(dir.path());
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->has_value());
  auto missing = LastCheckpoint(dir.Path("nope"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(CheckpointTest, CreateReadReplace) {
  TempDir dir;
  auto first = CreateCheckpoint(dir.path(), 3, [](Wal& w) { return LogAll(w, {"a", "bb"}); });
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, dir.Path("checkpoint.00000003"));
  auto last = LastCheckpoint(dir.path());
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->first, *first);
  EXPECT_EQ((*last)->second, 3);
  auto records = internal::ReadAll(*first);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_THAT(*records, ElementsAre("a", "bb"));

  // A leftover temporary directory of an older attempt, and one of a later index (in progress
  // elsewhere, or left by a crash): neither is a checkpoint.
  std::filesystem::create_directory(dir.Path("checkpoint.00000004.tmp"));
  std::filesystem::create_directory(dir.Path("checkpoint.00000099.tmp"));
  last = LastCheckpoint(dir.path());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)->second, 3);

  auto second = CreateCheckpoint(dir.path(), 5, [](Wal& w) { return LogAll(w, {"c"}); });
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  last = LastCheckpoint(dir.path());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)->second, 5);
  // The older one stays until its owner deletes it.
  EXPECT_TRUE(std::filesystem::exists(dir.Path("checkpoint.00000003")));
  ASSERT_TRUE(DeleteCheckpoints(dir.path(), 5).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Path("checkpoint.00000003")));
  EXPECT_FALSE(std::filesystem::exists(dir.Path("checkpoint.00000004.tmp")));
  EXPECT_FALSE(std::filesystem::exists(dir.Path("checkpoint.00000005.tmp")));
  records = internal::ReadAll(*second);
  ASSERT_TRUE(records.ok());
  EXPECT_THAT(*records, ElementsAre("c"));

  // Writing the same index again replaces it.
  auto again = CreateCheckpoint(dir.path(), 5, [](Wal& w) { return LogAll(w, {"d", "e"}); });
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  records = internal::ReadAll(*again);
  ASSERT_TRUE(records.ok());
  EXPECT_THAT(*records, ElementsAre("d", "e"));

  // Checkpoint directories are not segments.
  auto segments = ListSegments(dir.path());
  ASSERT_TRUE(segments.ok()) << segments.status().ToString();
  EXPECT_TRUE(segments->empty());
}

TEST(CheckpointTest, FailedWriteKeepsPrevious) {
  TempDir dir;
  ASSERT_TRUE(CreateCheckpoint(dir.path(), 1, [](Wal& w) { return LogAll(w, {"a"}); }).ok());
  auto failed = CreateCheckpoint(dir.path(), 2, [](Wal& w) -> base::Status {
    RETURN_IF_ERROR(w.Log("partial"));
    return base::Status::Unavailable("disk on fire");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "disk on fire");
  auto last = LastCheckpoint(dir.path());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)->second, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.Path("checkpoint.00000002.tmp")));
  EXPECT_FALSE(std::filesystem::exists(dir.Path("checkpoint.00000002")));
}

TEST(CheckpointTest, DeleteAndBadEntries) {
  TempDir dir;
  for (int i : {1, 2, 3}) {
    std::filesystem::create_directory(CheckpointPath(dir.path(), i));
  }
  ASSERT_TRUE(DeleteCheckpoints(dir.path(), 3).ok());
  EXPECT_FALSE(std::filesystem::exists(CheckpointPath(dir.path(), 1)));
  EXPECT_FALSE(std::filesystem::exists(CheckpointPath(dir.path(), 2)));
  EXPECT_TRUE(std::filesystem::exists(CheckpointPath(dir.path(), 3)));

  std::ofstream(dir.Path("checkpoint.00000009")) << "not a directory";
  std::filesystem::create_directory(dir.Path("checkpoint.abc"));
  auto last = LastCheckpoint(dir.path());
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.status().code(), base::StatusCode::kDataLoss);
  EXPECT_THAT(last.status().message(), ::testing::HasSubstr("is not a directory"));
}

}  // namespace
}  // namespace starling::wal
