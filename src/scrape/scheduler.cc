#include "scrape/scheduler.h"

#include <algorithm>
#include <chrono>
#include <string>
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

Scheduler::Scheduler(base::Clock* clock, int lanes, TimerHost timer_host)
    : clock_(clock),
      real_clock_(clock == &base::Clock::Real()),
      lanes_(static_cast<std::size_t>(std::max(lanes, 1))),
      timer_host_(std::move(timer_host)) {
  const bool manual = lanes <= 0;
  CHECK(!timer_host_ || (real_clock_ && !manual)) << "a timer host needs the real clock";
  if (timer_host_) return;
  for (std::size_t i = 0; i < lanes_; ++i) {
    queues_.push_back(std::make_unique<Lane>());
    if (manual) continue;
    Lane& lane = *queues_.back();
    lane.thread = std::thread([this, &lane, i] {
      base::SetThreadName("scrape-" + std::to_string(i));
      RunLane(lane);
    });
  }
}

Scheduler::~Scheduler() {
  for (std::unique_ptr<Lane>& lane : queues_) {
    {
      std::lock_guard<std::mutex> lock(lane->mu);
      lane->stopping = true;
    }
    lane->cv.notify_all();
    if (lane->thread.joinable()) lane->thread.join();
  }
}

std::shared_ptr<Scheduler> Scheduler::Shared() {
  // Never destroyed: loops may add timers while the process exits.
  static auto* shared = new std::shared_ptr<Scheduler>(std::make_shared<Scheduler>(
      &base::Clock::Real(), static_cast<int>(ScrapeLanes()),
      [](std::size_t lane, base::Clock::Duration due, std::function<void()> fn) {
        // The real clock's Monotonic is the steady clock's time since its epoch.
        ScrapeClient(lane).RunAt(
            net::HttpClient::Steady::time_point(
                std::chrono::duration_cast<net::HttpClient::Steady::duration>(due)),
            std::move(fn));
      }));
  return *shared;
}

void Scheduler::At(base::Clock::Duration due, std::function<void()> fn, std::size_t lane) {
  lane %= lanes_;
  if (timer_host_) {
    timer_host_(lane, due, std::move(fn));
    return;
  }
  Lane& l = *queues_[lane];
  bool earliest = false;
  {
    std::lock_guard<std::mutex> lock(l.mu);
    earliest = l.timers.Add(due, std::move(fn));
  }
  // The lane's thread sleeps until the earliest due time, or runs timers and looks again:
  // only a new earliest timer needs it awake. Every finished scrape schedules its next one,
  // and waking the thread for each costs more than a scrape's parsing on a small target.
  if (earliest) l.cv.notify_one();
}

std::size_t Scheduler::PendingTimers() const {
  std::size_t n = 0;
  for (const std::unique_ptr<Lane>& lane : queues_) {
    std::lock_guard<std::mutex> lock(lane->mu);
    n += lane->timers.size();
  }
  return n;
}

std::size_t Scheduler::RunUntilIdle() {
  CHECK(!timer_host_ && !queues_.front()->thread.joinable()) << "not a manual scheduler";
  Lane& lane = *queues_.front();
  std::size_t ran = 0;
  while (true) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(lane.mu);
      fn = lane.timers.PopDue(clock_->Monotonic());
    }
    if (!fn) return ran;
    fn();
    ++ran;
  }
}

void Scheduler::RunLane(Lane& lane) {
  std::unique_lock<std::mutex> lock(lane.mu);
  while (!lane.stopping) {
    if (lane.timers.empty()) {
      if (real_clock_) {
        lane.cv.wait(lock);
      } else {
        lane.cv.wait_for(lock, kMaxWait);
      }
      continue;
    }
    const base::Clock::Duration now = clock_->Monotonic();
    std::function<void()> fn = lane.timers.PopDue(now);
    if (!fn) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(lane.timers.earliest() - now);
      // A real clock can be slept on until the due time; a fake one is re-read regularly.
      lane.cv.wait_for(lock, real_clock_ ? wait : std::min(wait, kMaxWait));
      continue;
    }
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace starling::scrape
