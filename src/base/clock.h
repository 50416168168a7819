#pragma once

// Clock: where code that waits or timestamps gets the time, so tests can inject a FakeClock.
// SystemClock is thread-safe; FakeClock is thread-safe and moves only when told to.

#include <chrono>
#include <cstdint>
#include <mutex>

namespace starling::base {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

  virtual ~Clock() = default;
  // Wall-clock time (for timestamps).
  virtual TimePoint Now() const = 0;
  // Monotonic time since an arbitrary epoch (for intervals and deadlines).
  virtual Duration Monotonic() const = 0;

  // The process-wide real clock.
  static Clock& Real();
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  Duration Monotonic() const override;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::hours(24 * 365 * 50)));
  TimePoint Now() const override;
  Duration Monotonic() const override;
  void Advance(Duration d);

 private:
  mutable std::mutex mu_;
  TimePoint now_;         // guarded by mu_
  Duration monotonic_{};  // guarded by mu_
};

}  // namespace starling::base
