#include "scrape/scheduler.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "base/check.h"
#include "base/thread.h"
#include "net/http_client.h"

namespace starling::scrape {
namespace {

// The longest real-time wait before looking at the clock again, so a fake clock's Advance is
// noticed.
constexpr std::chrono::milliseconds kMaxWait{100};

}  // namespace

Scheduler::Scheduler(base::Clock* clock, int workers, TimerHost timer_host)
    : clock_(clock),
      real_clock_(clock == &base::Clock::Real()),
      manual_(workers <= 0),
      timer_host_(std::move(timer_host)) {
  CHECK(!timer_host_ || (real_clock_ && !manual_)) << "a timer host needs the real clock";
  if (manual_) return;
  if (!timer_host_) {
    threads_.emplace_back([this] {
      base::SetThreadName("scrape-timer");
      TimerThread();
    });
  }
  for (int i = 0; i < workers; ++i) {
    threads_.emplace_back([this] {
      base::SetThreadName("scrape-worker");
      WorkerThread();
    });
  }
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  timer_cv_.notify_all();
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::shared_ptr<Scheduler> Scheduler::Shared() {
  // Never destroyed: loops may post work while the process exits.
  static auto* shared = new std::shared_ptr<Scheduler>(std::make_shared<Scheduler>(
      &base::Clock::Real(),
      static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1U, 8U)),
      [client = SharedHttpClient()](base::Clock::Duration due, std::function<void()> fn) {
        // The real clock's Monotonic is the steady clock's time since its epoch.
        client->RunAt(net::HttpClient::Steady::time_point(
                          std::chrono::duration_cast<net::HttpClient::Steady::duration>(due)),
                      std::move(fn));
      }));
  return *shared;
}

void Scheduler::At(base::Clock::Duration due, std::function<void()> fn) {
  if (timer_host_) {
    timer_host_(due, std::move(fn));
    return;
  }
  bool earliest = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    earliest = timers_.Add(due, std::move(fn));
  }
  // The timer thread sleeps until the earliest due time, or runs timers and looks again:
  // only a new earliest timer needs it awake. Every finished scrape schedules its next one,
  // and waking the thread for each costs more than a scrape's parsing on a small target.
  if (earliest) timer_cv_.notify_one();
}

void Scheduler::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    work_.push_back(std::move(fn));
  }
  work_cv_.notify_one();
}

std::size_t Scheduler::PendingTimers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timers_.size();
}

std::size_t Scheduler::RunUntilIdle() {
  std::size_t ran = 0;
  while (true) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!work_.empty()) {
        fn = std::move(work_.front());
        work_.pop_front();
      } else {
        fn = timers_.PopDue(clock_->Monotonic());
        if (!fn) return ran;
      }
    }
    fn();
    ++ran;
  }
}

void Scheduler::TimerThread() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      if (real_clock_) {
        timer_cv_.wait(lock);
      } else {
        timer_cv_.wait_for(lock, kMaxWait);
      }
      continue;
    }
    const base::Clock::Duration now = clock_->Monotonic();
    std::function<void()> fn = timers_.PopDue(now);
    if (!fn) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(timers_.earliest() - now);
      // A real clock can be slept on until the due time; a fake one is re-read regularly.
      timer_cv_.wait_for(lock, real_clock_ ? wait : std::min(wait, kMaxWait));
      continue;
    }
    lock.unlock();
    fn();
    lock.lock();
  }
}

void Scheduler::WorkerThread() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !work_.empty(); });
    if (stopping_) return;
    std::function<void()> fn = std::move(work_.front());
    work_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace starling::scrape
