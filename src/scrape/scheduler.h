#pragma once

// Scheduler: the threads that drive every scrape loop of the process, so that the number of
// threads does not grow with the number of targets. One timer thread runs due timers (which
// only start asynchronous fetches, so they are quick); a few worker threads run posted work
// (parsing and appending a fetched body).
//
// The timers may run on another thread instead, a timer host's: the process-wide scheduler's
// run on the thread of the HTTP client that scrapes use, which then wakes once per scrape for
// the timer and the request it starts.
//
// A scheduler built with zero workers is manual: nothing runs until RunUntilIdle, which runs
// due timers (on the injected clock) and posted work on the calling thread. Tests use it with
// a FakeClock to drive loops deterministically.
//
// Thread-safe. Work may be posted and timers added from any thread, including from work.

#include <condition_variable>
#include <cstddef>
#include <deque>
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

// The process-wide HTTP client that scrapes share (its connection cache and thread), on whose
// thread the process-wide scheduler runs its timers.
std::shared_ptr<net::HttpClient> SharedHttpClient();

class Scheduler {
 public:
  // Runs fn at a monotonic time (the real clock's), on a thread of its own.
  using TimerHost = std::function<void(base::Clock::Duration due, std::function<void()> fn)>;

  // `clock` must outlive the scheduler. With a timer host (only on the real clock), At hands
  // timers to it and there is no timer thread; they then run even after the scheduler is gone.
  Scheduler(base::Clock* clock, int workers, TimerHost timer_host = nullptr);
  // Stops the threads; pending timers and work are dropped.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The process-wide scheduler on the real clock, created on first use.
  static std::shared_ptr<Scheduler> Shared();

  base::Clock* clock() const { return clock_; }

  // Runs fn on the timer thread (or the timer host's) once clock()->Monotonic() >= due. fn must
  // be quick.
  void At(base::Clock::Duration due, std::function<void()> fn);
  // Runs fn on a worker thread.
  void Post(std::function<void()> fn);

  // Manual schedulers only: runs due timers and posted work until none is runnable; returns
  // how many functions ran.
  std::size_t RunUntilIdle();

  // Timers not run yet; not counting those handed to a timer host.
  std::size_t PendingTimers() const;

 private:
  void TimerThread();
  void WorkerThread();

  base::Clock* const clock_;
  const bool real_clock_;
  const bool manual_;
  const TimerHost timer_host_;
  mutable std::mutex mu_;
  std::condition_variable timer_cv_;
  std::condition_variable work_cv_;
  base::TimerQueue<base::Clock::Duration> timers_;  // guarded by mu_
  std::deque<std::function<void()>> work_;          // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace starling::scrape
