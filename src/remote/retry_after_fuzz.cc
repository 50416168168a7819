// Arbitrary Retry-After header values (the receiver is not trusted): parsing must never crash
// and must never ask for a negative wait.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/clock.h"
#include "remote/queue.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const auto now = starling::base::Clock::TimePoint(std::chrono::seconds(1'700'000'000));
  if (starling::remote::ParseRetryAfter(value, now) < std::chrono::nanoseconds::zero()) {
    std::abort();
  }
  return 0;
}
