#include "components/common/file_watcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "components/common/testing.h"

namespace starling::components {
namespace {

using namespace std::chrono_literals;

TEST(FileWatcherTest, ReportsChangesInWatchedDirs) {
  testing::TempDir dir;
  auto w = FileWatcher::Create();
  ASSERT_TRUE(w.ok());
  (*w)->SetDirs({dir.path()});
  dir.Write("a.json", "[]");
  std::vector<std::string> seen;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::find(seen.begin(), seen.end(), dir.Path("a.json")) == seen.end() &&
         std::chrono::steady_clock::now() < deadline) {
    FileWatcher::Event ev = (*w)->Wait(1s);
    seen.insert(seen.end(), ev.changed.begin(), ev.changed.end());
  }
  EXPECT_NE(std::find(seen.begin(), seen.end(), dir.Path("a.json")), seen.end());
}

TEST(FileWatcherTest, WakeAndTimeout) {
  auto w = FileWatcher::Create();
  ASSERT_TRUE(w.ok());
  FileWatcher::Event ev = (*w)->Wait(0ms);
  EXPECT_FALSE(ev.woken);
  (*w)->Wake();
  ev = (*w)->Wait(20s);
  EXPECT_TRUE(ev.woken);
  EXPECT_TRUE(ev.changed.empty());
}

TEST(FileWatcherTest, WaitBudgetFollowsTheClock) {
  base::FakeClock clock;
  auto deadline = clock.Monotonic() + 1min;
  EXPECT_EQ(WaitBudget(clock, deadline), kClockCheckInterval);
  clock.Advance(1min - 5ms);
  EXPECT_EQ(WaitBudget(clock, deadline), 5ms);
  clock.Advance(1s);
  EXPECT_EQ(WaitBudget(clock, deadline), 0ms);
}

}  // namespace
}  // namespace starling::components
