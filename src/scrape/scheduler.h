#pragma once

// Scheduler: the threads that drive every scrape loop of the process, so that the number of
// threads does not grow with the number of targets. The work is split into lanes of one thread
// each, and a loop keeps to one lane: its timers fire there, and the loop's fetch completes,
// and its body is parsed and appended, on the same thread. Handing a scrape from one thread to
// another costs a wakeup and a cold cache, more than parsing a small target's body; with a lane
// per core, the loops still use every core.
//
// The timers may run on other threads instead, a timer host's: the process-wide scheduler's
// lanes are the threads of the HTTP clients that scrapes use (ScrapeClient), which then wake
// once for a scrape's timer and the request it starts, and once for its response.
//
// A scheduler built with zero lanes is manual: nothing runs until RunUntilIdle, which runs due
// timers (on the injected clock) on the calling thread. Tests use it with a FakeClock to drive
// loops deterministically.
//
// Thread-safe. Timers may be added from any thread, including from timers.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/timer_queue.h"

namespace starling::net {
class HttpClient;
}  // namespace starling::net

namespace starling::scrape {

// The lanes of the process-wide scheduler, one per core (up to 8).
std::size_t ScrapeLanes();
// The HTTP client of a lane (modulo ScrapeLanes()) of the process-wide scheduler: its thread
// runs the lane's timers, and its connection cache holds the connections of the lane's targets.
net::HttpClient& ScrapeClient(std::size_t lane);

class Scheduler {
 public:
  // Runs fn at a monotonic time (the real clock's), on the thread of the lane.
  using TimerHost =
      std::function<void(std::size_t lane, base::Clock::Duration due, std::function<void()> fn)>;

  // `clock` must outlive the scheduler. With a timer host (only on the real clock), At hands
  // timers to it and there are no threads; the timers then run even after the scheduler is
  // gone.
  Scheduler(base::Clock* clock, int lanes, TimerHost timer_host = nullptr);
  // Stops the threads; pending timers are dropped.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The process-wide scheduler on the real clock, created on first use.
  static std::shared_ptr<Scheduler> Shared();

  base::Clock* clock() const { return clock_; }
  // How many lanes there are (1 for a manual scheduler).
  std::size_t lanes() const { return lanes_; }

  // Runs fn on lane `lane` (modulo lanes()) once clock()->Monotonic() >= due.
  void At(base::Clock::Duration due, std::function<void()> fn, std::size_t lane = 0);

  // Manual schedulers only: runs due timers (on the injected clock) until none is due; returns
  // how many ran.
  std::size_t RunUntilIdle();

  // Timers not run yet; not counting those handed to a timer host.
  std::size_t PendingTimers() const;

 private:
  struct Lane {
    mutable std::mutex mu;
    std::condition_variable cv;
    base::TimerQueue<base::Clock::Duration> timers;  // guarded by mu
    bool stopping = false;                           // guarded by mu
    std::thread thread;
  };

  void RunLane(Lane& lane);

  base::Clock* const clock_;
  const bool real_clock_;
  const std::size_t lanes_;
  const TimerHost timer_host_;
  // Without a timer host: one per lane (a manual scheduler's has no thread).
  std::vector<std::unique_ptr<Lane>> queues_;
};

}  // namespace starling::scrape
