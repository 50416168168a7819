#include "scrape/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "net/http_client.h"

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

// Each lane has a thread of its own; lanes are taken modulo their number.
TEST(SchedulerTest, EachLaneRunsItsTimersOnAThreadOfItsOwn) {
  Log log;
  std::mutex mu;
  std::vector<std::thread::id> threads(4);
  Scheduler s(&base::Clock::Real(), 2);
  EXPECT_EQ(s.lanes(), 2U);
  for (std::size_t lane = 0; lane < 4; ++lane) {
    s.At(
        In(milliseconds(10)),
        [&, lane] {
          {
            std::lock_guard lock(mu);
            threads[lane] = std::this_thread::get_id();
          }
          log.Add(static_cast<int>(lane));
        },
        lane);
  }
  ASSERT_EQ(log.WaitFor(4).size(), 4U);
  std::lock_guard lock(mu);
  EXPECT_NE(threads[0], threads[1]);
  EXPECT_EQ(threads[0], threads[2]);
  EXPECT_EQ(threads[1], threads[3]);
  EXPECT_NE(threads[0], std::this_thread::get_id());
}

TEST(SchedulerTest, AManualSchedulerRunsDueTimersOnTheCallingThread) {
  base::FakeClock clock;
  Scheduler s(&clock, 0);
  EXPECT_EQ(s.lanes(), 1U);
  std::vector<int> ran;
  s.At(
      clock.Monotonic() + milliseconds(10), [&] { ran.push_back(1); }, 3);
  s.At(clock.Monotonic() + milliseconds(20), [&] { ran.push_back(2); });
  EXPECT_EQ(s.RunUntilIdle(), 0U);
  clock.Advance(milliseconds(10));
  EXPECT_EQ(s.RunUntilIdle(), 1U);
  EXPECT_EQ(ran, (std::vector<int>{1}));
  EXPECT_EQ(s.PendingTimers(), 1U);
}

TEST(SchedulerTest, ATimerHostRunsTheTimers) {
  std::vector<std::tuple<std::size_t, base::Clock::Duration, std::function<void()>>> hosted;
  Scheduler s(&base::Clock::Real(), 3,
              [&](std::size_t lane, base::Clock::Duration due, std::function<void()> fn) {
                hosted.emplace_back(lane, due, std::move(fn));
              });
  int ran = 0;
  const base::Clock::Duration due = In(milliseconds(1));
  s.At(
      due, [&] { ++ran; }, 4);
  EXPECT_EQ(s.PendingTimers(), 0U);
  ASSERT_EQ(hosted.size(), 1U);
  EXPECT_EQ(std::get<0>(hosted[0]), 1U);  // lane 4 of 3
  EXPECT_EQ(std::get<1>(hosted[0]), due);
  std::get<2>(hosted[0])();  // as the host would, when due
  EXPECT_EQ(ran, 1);
}

TEST(SchedulerTest, TheSharedSchedulersTimersRunOnTheirLanesClientThread) {
  for (std::size_t lane = 0; lane < ScrapeLanes(); ++lane) {
    Log log;
    std::mutex mu;
    std::vector<std::thread::id> threads;
    auto record = [&](int v) {
      {
        std::lock_guard lock(mu);
        threads.push_back(std::this_thread::get_id());
      }
      log.Add(v);
    };
    Scheduler::Shared()->At(
        In(milliseconds(10)), [&] { record(1); }, lane);
    ScrapeClient(lane).RunAt(std::chrono::steady_clock::now() + milliseconds(20),
                             [&] { record(2); });
    ASSERT_EQ(log.WaitFor(2), (std::vector<int>{1, 2}));
    std::lock_guard lock(mu);
    EXPECT_EQ(threads[0], threads[1]) << "lane " << lane;
    EXPECT_NE(threads[0], std::this_thread::get_id());
  }
}

}  // namespace
}  // namespace starling::scrape
