#include "base/clock.h"

namespace starling::base {

Clock& Clock::Real() {
  static SystemClock clock;
  return clock;
}

Clock::TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

Clock::Duration SystemClock::Monotonic() const {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch());
}

FakeClock::FakeClock(TimePoint start) : now_(start) {}

Clock::TimePoint FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

Clock::Duration FakeClock::Monotonic() const {
  std::lock_guard lock(mu_);
  return monotonic_;
}

void FakeClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  now_ += d;
  monotonic_ += d;
}

}  // namespace starling::base
