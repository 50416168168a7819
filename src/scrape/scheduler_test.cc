#include "scrape/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace starling::scrape {
namespace {

using std::chrono::milliseconds;

// What the timers and work of a test recorded, with a wait for a count of them.
class Log {
 public:
  void Add(int v) {
    std::lock_guard lock(mu_);
    got_.push_back(v);
    cv_.notify_all();
  }
  // The recorded values once there are n, or what there is after a generous deadline.
  std::vector<int> WaitFor(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> got_;
};

base::Clock::Duration In(milliseconds d) { return base::Clock::Real().Monotonic() + d; }

TEST(SchedulerTest, TimersRunInDueOrder) {
  Log log;
  Scheduler s(&base::Clock::Real(), 1);
  s.At(In(milliseconds(60)), [&] { log.Add(3); });
  s.At(In(milliseconds(20)), [&] { log.Add(1); });
  s.At(In(milliseconds(40)), [&] { log.Add(2); });
  EXPECT_EQ(log.WaitFor(3), (std::vector<int>{1, 2, 3}));
}

TEST(SchedulerTest, AnEarlierTimerWakesTheSleepingTimerThread) {
  Log log;
  Scheduler s(&base::Clock::Real(), 1);
  s.At(In(std::chrono::hours(1)), [&] { log.Add(2); });
  // Give the timer thread time to go to sleep until the hour is up.
  std::this_thread::sleep_for(milliseconds(50));
  s.At(In(milliseconds(10)), [&] { log.Add(1); });
  EXPECT_EQ(log.WaitFor(1), (std::vector<int>{1}));
  EXPECT_EQ(s.PendingTimers(), 1U);
}

TEST(SchedulerTest, ALaterTimerRunsWithoutWakingTheTimerThread) {
  Log log;
  Scheduler s(&base::Clock::Real(), 1);
  s.At(In(milliseconds(30)), [&] { log.Add(1); });
  s.At(In(milliseconds(60)), [&] { log.Add(2); });
  EXPECT_EQ(log.WaitFor(2), (std::vector<int>{1, 2}));
}

TEST(SchedulerTest, TimersAddedByTimersRun) {
  Log log;
  Scheduler s(&base::Clock::Real(), 1);
  s.At(In(milliseconds(10)), [&] {
    log.Add(1);
    s.At(In(milliseconds(10)), [&] { log.Add(2); });
  });
  EXPECT_EQ(log.WaitFor(2), (std::vector<int>{1, 2}));
}

TEST(SchedulerTest, PostedWorkRunsOnAWorker) {
  Log log;
  Scheduler s(&base::Clock::Real(), 2);
  s.At(In(milliseconds(10)), [&] { s.Post([&] { log.Add(7); }); });
  EXPECT_EQ(log.WaitFor(1), (std::vector<int>{7}));
}

}  // namespace
}  // namespace starling::scrape
