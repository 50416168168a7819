#include "scrape/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
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

TEST(SchedulerTest, PostedWorkRunsOnAWorker) {
  Log log;
  Scheduler s(&base::Clock::Real(), 2);
  s.At(In(milliseconds(10)), [&] { s.Post([&] { log.Add(7); }); });
  EXPECT_EQ(log.WaitFor(1), (std::vector<int>{7}));
}

TEST(SchedulerTest, ATimerHostRunsTheTimers) {
  Log log;
  std::mutex mu;
  std::vector<std::pair<base::Clock::Duration, std::function<void()>>> hosted;
  Scheduler s(&base::Clock::Real(), 1, [&](base::Clock::Duration due, std::function<void()> fn) {
    std::lock_guard lock(mu);
    hosted.emplace_back(due, std::move(fn));
  });
  const base::Clock::Duration due = In(milliseconds(1));
  s.At(due, [&] { s.Post([&] { log.Add(5); }); });
  EXPECT_EQ(s.PendingTimers(), 0U);
  std::lock_guard lock(mu);
  ASSERT_EQ(hosted.size(), 1U);
  EXPECT_EQ(hosted[0].first, due);
  hosted[0].second();  // as the host would, when due: the timer's work reaches a worker
  EXPECT_EQ(log.WaitFor(1), (std::vector<int>{5}));
}

TEST(SchedulerTest, TheSharedSchedulersTimersRunOnTheSharedClientsThread) {
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
  Scheduler::Shared()->At(In(milliseconds(10)), [&] { record(1); });
  SharedHttpClient()->RunAt(std::chrono::steady_clock::now() + milliseconds(20),
                            [&] { record(2); });
  ASSERT_EQ(log.WaitFor(2), (std::vector<int>{1, 2}));
  std::lock_guard lock(mu);
  EXPECT_EQ(threads[0], threads[1]);
  EXPECT_NE(threads[0], std::this_thread::get_id());
}

}  // namespace
}  // namespace starling::scrape
