#include "base/clock.h"

#include <gtest/gtest.h>

#include <set>

#include "base/random.h"

namespace starling::base {
namespace {

using std::chrono::seconds;

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  auto t0 = clock.Now();
  auto m0 = clock.Monotonic();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(seconds(5));
  EXPECT_EQ(clock.Now() - t0, seconds(5));
  EXPECT_EQ(clock.Monotonic() - m0, seconds(5));
}

TEST(SystemClockTest, MonotonicDoesNotGoBack) {
  auto a = Clock::Real().Monotonic();
  auto b = Clock::Real().Monotonic();
  EXPECT_LE(a, b);
}

TEST(RandomTest, SeededIsReproducibleAndInRange) {
  SeededRandom a(42), b(42);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; i++) {
    std::uint64_t x = a.Uniform(10);
    EXPECT_EQ(x, b.Uniform(10));
    EXPECT_LT(x, 10u);
    seen.insert(x);
    double d = a.UniformDouble();
    b.UniformDouble();
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
  }
  EXPECT_EQ(seen.size(), 10u);
}

}  // namespace
}  // namespace starling::base
